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
  return c.copies
    .get(sessionId)!
    .notebook.sections.flatMap((s) => s.cells)
    .filter((x) => x.type === "code")
    .map((x) => x.id);
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
    const out = await a.applied(
      "output-appended",
      (op) => op.cellId === ids[2] && op.output.type === "terminal",
      20_000,
    );
    const pid = Number(
      /pid (\d+)/.exec(out.op.output.type === "terminal" ? out.op.output.text : "")?.[1],
    );
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

test("an interrupt sent while the kernel process is still starting cancels the cell that was about to run: it never runs", async () => {
  const t = await testServer({ kernelFactory: kernelProcessFactory });
  const c = await Client.connect(t.server);
  try {
    await writeFile(
      join(t.root, "loop.tsnb"),
      '# Loop\n\n```ts\nconst kept = 5;\n```\n\n```ts\nconsole.log("the loop cell ran");\nwhile (true) {}\n```\n\n```ts\nkept * 2\n```\n',
    );
    c.send({ type: "open-file", path: "loop.tsnb" });
    const sessionId = (await c.next("joined")).sessionId;
    const [first, loop, after] = cells(c, sessionId);
    c.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: loop } });
    await c.applied("kernel-status", (op) => op.status === "starting", 5000);
    c.send({ type: "apply", sessionId, op: { type: "interrupt" } });
    const fin = await c.applied("evaluation-finished", (op) => op.cellId === loop, 20_000);
    assert.equal(fin.op.status, "interrupted");
    const d = c.copies.get(sessionId)!;
    assert.deepEqual(d.cells[loop!]!.status, { type: "aborted", reason: "interrupted" });
    assert.doesNotMatch(
      JSON.stringify(d.cells[loop!]!.outputs),
      /the loop cell ran/,
      "the cancelled cell did not run",
    );
    assert.ok(
      !c.messages.some(
        (m) => m.type === "applied" && m.op.type === "evaluation-started" && m.op.cellId === loop,
      ),
      "no evaluation-started for it",
    );
    // The kernel finishes starting and evaluates the next cells normally.
    c.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: first } });
    assert.equal(
      (await c.applied("evaluation-finished", (op) => op.cellId === first, 20_000)).op.status,
      "ok",
    );
    c.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: after } });
    const fin2 = await c.applied("evaluation-finished", (op) => op.cellId === after, 20_000);
    assert.equal(fin2.op.status, "ok");
    assert.match(JSON.stringify(c.copies.get(sessionId)!.cells[after!]!.outputs), /10/);
    assert.equal(c.copies.get(sessionId)!.kernel.status, "idle");
  } finally {
    c.close();
    await t.close();
  }
});
