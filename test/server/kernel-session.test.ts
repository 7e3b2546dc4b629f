import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, testServer, type TestServer } from "./helpers.ts";
import { kernelProcessFactory } from "../../server/kernel-adapter.ts";

const NOTEBOOK = `# Real kernel

\`\`\`ts
const x: number = 20;
x + 1
\`\`\`

\`\`\`ts
const y = x * 2;
console.log("y is", y);
\`\`\`

\`\`\`ts
console.log("pid", process.pid);
await new Promise((r) => setTimeout(r, 60_000));
\`\`\`

\`\`\`ts
const z = 1;
throw new Error("bad " + z);
\`\`\`

\`\`\`ts
while (true) {}
\`\`\`
`;

function cells(c: Client, sessionId: string): string[] {
  return c.copies.get(sessionId)!.notebook.sections.flatMap((s) => s.cells).filter((x) => x.type === "code").map((x) => x.id);
}

describe("sessions with the real kernel process", () => {
  let t: TestServer;
  let a: Client;
  let sessionId: string;
  let ids: string[];
  before(async () => {
    t = await testServer({ kernelFactory: kernelProcessFactory });
    await writeFile(join(t.root, "real.tsnb"), NOTEBOOK);
    a = await Client.connect(t.server);
    a.send({ type: "open-file", path: "real.tsnb" });
    sessionId = (await a.next("joined")).sessionId;
    ids = cells(a, sessionId);
  });
  after(async () => {
    a.close();
    await t.close();
  });

  const run = async (cellId: string, timeoutMs = 20_000) => {
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId } });
    return (await a.applied("evaluation-finished", (op) => op.cellId === cellId, timeoutMs)).op;
  };

  test("the first evaluation starts the kernel; results, console output, defines and uses come back", async () => {
    const fin = await run(ids[0]!);
    assert.equal(fin.status, "ok");
    assert.deepEqual(fin.defines, ["x"]);
    const d = a.copies.get(sessionId)!;
    assert.equal(d.kernel.status, "idle");
    assert.match(JSON.stringify(d.cells[ids[0]!]!.outputs), /21/);
    const fin2 = await run(ids[1]!);
    assert.equal(fin2.status, "ok");
    assert.ok(fin2.uses.includes("x"));
    assert.match(JSON.stringify(a.copies.get(sessionId)!.cells[ids[1]!]!.outputs), /y is 40/);
  });

  test("re-evaluating a cell makes the cells using its names stale", async () => {
    await run(ids[0]!);
    const d = a.copies.get(sessionId)!;
    assert.equal(d.cells[ids[1]!]!.validity, "stale");
    assert.equal(d.cells[ids[0]!]!.validity, "fresh");
  });

  test("an error points to its line in the notebook file", async () => {
    const fin = await run(ids[3]!);
    assert.equal(fin.status, "error");
    const err = fin.result;
    assert.equal(err?.type, "error");
    // `throw` is on line 20 of NOTEBOOK.
    assert.equal(err?.type === "error" ? err.location?.line : null, 20, JSON.stringify(err));
  });

  test("interrupt stops an infinite loop and the kernel keeps its state", async () => {
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: ids[4] } });
    await a.applied("evaluation-started", (op) => op.cellId === ids[4], 20_000);
    await new Promise((r) => setTimeout(r, 200));
    a.send({ type: "apply", sessionId, op: { type: "interrupt" } });
    const fin = await a.applied("evaluation-finished", (op) => op.cellId === ids[4], 20_000);
    assert.equal(fin.op.status, "interrupted");
    const again = await run(ids[1]!);
    assert.equal(again.status, "ok", "x is still defined after the interrupt");
  });

  test("a kernel killed with SIGKILL mid-run: the cell is aborted, the session and outputs stay, a new evaluation starts a fresh kernel", async () => {
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: ids[2] } });
    const out = await a.applied("output-appended", (op) => op.cellId === ids[2] && op.output.type === "terminal", 20_000);
    const pid = Number(/pid (\d+)/.exec(out.op.output.type === "terminal" ? out.op.output.text : "")?.[1]);
    assert.ok(pid > 0);
    process.kill(pid, "SIGKILL");
    const dead = await a.applied("kernel-status", (op) => op.status === "dead", 20_000);
    assert.match(dead.op.reason ?? "", /SIGKILL/);
    const d = a.copies.get(sessionId)!;
    assert.equal(d.cells[ids[2]!]!.status.type, "aborted");
    assert.match(JSON.stringify(d.cells[ids[2]!]!.outputs), /pid/, "outputs stay");
    assert.match(JSON.stringify(d.cells[ids[1]!]!.outputs), /y is 40/, "other cells' outputs stay");
    assert.equal(d.cells[ids[0]!]!.validity, "stale", "bindings were lost with the kernel");

    const fin = await run(ids[0]!);
    assert.equal(fin.status, "ok");
    assert.equal(a.copies.get(sessionId)!.kernel.status, "idle");
  });

  test("restart gives a fresh kernel without the old bindings", async () => {
    a.send({ type: "apply", sessionId, op: { type: "restart-kernel" } });
    await a.applied("kernel-status", (op) => op.status === "idle", 20_000);
    const fin = await run(ids[1]!);
    assert.equal(fin.status, "error", "x is gone after a restart");
  });
});
