// Inputs through the server with the real kernel: the server's debounce timer for "reevaluate
// automatically" (one re-run for a burst of changes, reading the last value, not before the
// window has passed), and a kernel restart stopping a cell's listeners (intervals stop printing,
// a click on the old button reaches nobody) while the values set stay session state.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, testServer, type TestServer } from "./helpers.ts";
import { kernelProcessFactory } from "../../server/kernel-adapter.ts";
import { AUTO_EVALUATE_MS } from "../../server/session.ts";
import type { Output } from "../../core/outputs.ts";

const NOTEBOOK = `# Inputs through the server

\`\`\`ts
import { input, control, listen } from "tsnb";
const size = input.range("Size", { min: 0, max: 100, default: 1 });
size
\`\`\`

<!-- tsnb:cell {"autoRun":true} -->
\`\`\`ts
console.log(\`read \${size.value}\`);
\`\`\`

\`\`\`ts
const tick = control.interval(30);
listen(tick, (e) => console.log(\`tick \${e.iteration}\`));
const button = control.button("Press");
listen(button, () => console.log("pressed"));
button
\`\`\`
`;

describe("inputs through the server, with the real kernel", () => {
  let t: TestServer;
  let a: Client;
  let sessionId: string;
  let ids: string[];
  before(async () => {
    t = await testServer({ kernelFactory: kernelProcessFactory });
    await writeFile(join(t.root, "inputs.tsnb"), NOTEBOOK);
    a = await Client.connect(t.server);
    a.send({ type: "open-file", path: "inputs.tsnb" });
    sessionId = (await a.next("joined")).sessionId;
    ids = a.copies
      .get(sessionId)!
      .notebook.sections.flatMap((s) => s.cells)
      .filter((x) => x.type === "code")
      .map((x) => x.id);
  });
  after(async () => {
    a.close();
    await t.close();
  });

  const data = () => a.copies.get(sessionId)!;
  const outputs = (cellId: string): Output[] => data().cells[cellId]?.outputs ?? [];
  const text = (cellId: string) =>
    outputs(cellId)
      .map((o) => (o.type === "terminal" ? o.text : ""))
      .join("");
  const run = async (cellId: string, timeoutMs = 30_000) => {
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId } });
    return (await a.applied("evaluation-finished", (op) => op.cellId === cellId, timeoutMs)).op;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test("a burst of changes re-runs the auto cell once, after the window, with the last value", async () => {
    assert.equal((await run(ids[0]!)).status, "ok");
    assert.equal((await run(ids[1]!)).status, "ok");
    assert.match(text(ids[1]!), /read 1\n/);
    const inputId = Object.keys(data().inputs)[0]!;
    assert.ok(inputId, "the session knows the input");

    // Five changes sent at once (a dragged slider): one window, one re-run, the last value.
    const t0 = Date.now();
    for (const v of [10, 20, 30, 40, 50]) {
      a.send({ type: "apply", sessionId, op: { type: "set-input-value", inputId, value: v } });
    }
    await a.applied("set-input-value", (op) => op.value === 50);
    const auto = await a.applied("auto-evaluate", () => true, 10_000);
    const waited = Date.now() - t0;
    assert.ok(waited >= AUTO_EVALUATE_MS - 5, `auto-evaluate after ${waited} ms`);
    const fin = await a.applied("evaluation-finished", (op) => op.cellId === ids[1], 30_000);
    assert.equal(fin.op.status, "ok");
    assert.ok(auto.revision < fin.revision);
    assert.match(text(ids[1]!), /read 50\n/);
    assert.doesNotMatch(text(ids[1]!), /read (10|20|30|40)\n/, "the values in between never ran");
    // No second window opened by the burst: nothing else is queued.
    await sleep(AUTO_EVALUATE_MS * 4);
    assert.equal(
      a.messages.filter((m) => m.type === "applied" && m.op.type === "auto-evaluate").length,
      0,
    );

    // A later change opens a new window: one more re-run.
    a.send({ type: "apply", sessionId, op: { type: "set-input-value", inputId, value: 7 } });
    await a.applied("auto-evaluate", () => true, 10_000);
    await a.applied("evaluation-finished", (op) => op.cellId === ids[1], 30_000);
    assert.match(text(ids[1]!), /read 7\n/);
  });

  test("a restart stops the cell's listeners; the values set are kept for the new kernel", async () => {
    assert.equal((await run(ids[2]!)).status, "ok");
    const ticks = () => (text(ids[2]!).match(/tick \d+/g) ?? []).length;
    const deadline = Date.now() + 20_000;
    while (ticks() < 3 && Date.now() < deadline) await sleep(50);
    assert.ok(ticks() >= 3, `the interval ticks before the restart (${ticks()})`);
    const button = outputs(ids[2]!).find((o) => o.type === "control");
    assert.ok(button && button.type === "control");
    a.send({
      type: "apply",
      sessionId,
      op: { type: "control-event", controlId: button.id, event: { type: "click" } },
    });
    while (!/pressed/.test(text(ids[2]!)) && Date.now() < deadline) await sleep(50);
    assert.match(text(ids[2]!), /pressed\n/, "the listener handles a click before the restart");

    a.send({ type: "apply", sessionId, op: { type: "restart-kernel" } });
    await a.applied("kernel-status", (op) => op.status === "idle", 30_000);
    const before = text(ids[2]!);
    await sleep(600);
    // The old button's click reaches no listener in the new kernel.
    a.send({
      type: "apply",
      sessionId,
      op: { type: "control-event", controlId: button.id, event: { type: "click" } },
    });
    await sleep(600);
    assert.equal(text(ids[2]!), before, "no tick and no click handled after the restart");

    // The session still has the value set (7) and gives it to the new kernel.
    assert.equal((await run(ids[0]!)).status, "ok");
    assert.equal((await run(ids[1]!)).status, "ok");
    assert.match(text(ids[1]!), /read 7\n/);
  });
});
