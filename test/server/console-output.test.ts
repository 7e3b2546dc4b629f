// Console output through the real kernel and server (issue 11): stdout and stderr of a cell are
// one output in write order, and the notebook's output limit drops a cell's oldest console text
// (over all its console outputs) with a marker.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, testServer, type TestServer } from "./helpers.ts";
import { kernelProcessFactory } from "../../server/kernel-adapter.ts";
import { terminalChunks, terminalText, type TerminalOutput } from "../../core/outputs.ts";

const NOTEBOOK = `# Console

\`\`\`ts
for (let i = 0; i < 3; i++) {
  console.log("out " + i);
  console.error("err " + i);
  process.stdout.write("raw " + i + "\\n");
}
await new Promise((r) => setTimeout(r, 120));
console.warn("late warning");
console.log("done");
\`\`\`

\`\`\`ts
for (let i = 0; i < 5000; i++) console.log("line " + String(i).padStart(4, "0"));
\`\`\`

\`\`\`ts
import { display, md } from "tsnb";
for (let round = 0; round < 30; round++) {
  for (let i = 0; i < 100; i++) console.log("round " + String(round).padStart(2, "0") + " line " + String(i).padStart(2, "0"));
  display(md\`table **\${round}**\`);
}
\`\`\`
`;

describe("console output through the real kernel", () => {
  let t: TestServer;
  let a: Client;
  let sessionId: string;
  let ids: string[];
  before(async () => {
    t = await testServer({ kernelFactory: kernelProcessFactory });
    await writeFile(join(t.root, "console.tsnb"), NOTEBOOK);
    a = await Client.connect(t.server);
    a.send({ type: "open-file", path: "console.tsnb" });
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

  const run = async (cellId: string) => {
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId } });
    return (await a.applied("evaluation-finished", (op) => op.cellId === cellId, 30_000)).op;
  };
  const outputs = (cellId: string) => a.copies.get(sessionId)!.cells[cellId]!.outputs;

  test("interleaved stdout and stderr are one output, in write order, stderr's lines marked", async () => {
    assert.equal((await run(ids[0]!)).status, "ok");
    const outs = outputs(ids[0]!);
    assert.equal(outs.length, 1, JSON.stringify(outs));
    const o = outs[0] as TerminalOutput;
    assert.equal(o.type, "terminal");
    assert.equal(
      o.text,
      "out 0\nerr 0\nraw 0\nout 1\nerr 1\nraw 1\nout 2\nerr 2\nraw 2\nlate warning\ndone\n",
    );
    assert.deepEqual(
      terminalChunks(o)
        .filter((c) => c.stream === "stderr")
        .map((c) => c.text),
      ["err 0\n", "err 1\n", "err 2\n", "late warning\n"],
    );
    // The server's copy is the same (a window joining now gets it).
    const b = await Client.connect(t.server);
    b.send({ type: "join", sessionId, requestId: "j" });
    const joined = await b.next("joined", (m) => m.requestId === "j");
    assert.deepEqual(joined.snapshot.cells[ids[0]!]!.outputs, outs);
    b.close();
  });

  test("the output limit set for the notebook drops the oldest lines behind a marker, and a bad one is refused", async () => {
    a.send({ type: "apply", sessionId, op: { type: "set-output-limit", outputLimit: 5 } });
    assert.match(
      (await a.next("error")).message,
      /between 10,000 and 50,000,000 characters, not 5/,
    );
    a.send({ type: "apply", sessionId, op: { type: "set-output-limit", outputLimit: 20_000 } });
    await a.applied("set-output-limit", () => true, 10_000);
    assert.equal((await run(ids[1]!)).status, "ok");
    const o = outputs(ids[1]!)[0] as TerminalOutput;
    assert.equal(outputs(ids[1]!).length, 1);
    assert.ok(o.text.length <= 20_000, String(o.text.length));
    assert.ok(o.text.startsWith("line "), o.text.slice(0, 20));
    assert.ok(o.text.endsWith("line 4999\n"));
    assert.equal(o.dropped?.limit, 20_000);
    assert.equal(o.dropped!.chars + o.text.length, 5000 * 10);
    // Whole lines were dropped (the cut falls where a batch of console text made it too long).
    assert.match(
      terminalText(o).slice(0, 200),
      /^… [\d,]+ earlier characters dropped \(this notebook keeps 20,000 characters of console text per cell: Output limit in the notebook's settings\)\nline \d{4}\n/,
    );
    // The limit is the notebook's: saved in its file.
    a.send({ type: "save", sessionId, requestId: "s" });
    await a.next("done", (m) => m.requestId === "s");
    assert.match(await readFile(join(t.root, "console.tsnb"), "utf8"), /"outputLimit":20000/);
  });

  test("the limit counts a cell's console text over all its outputs; its displays all stay", async () => {
    a.send({ type: "apply", sessionId, op: { type: "set-output-limit", outputLimit: 20_000 } });
    await a.applied("set-output-limit", () => true, 10_000);
    assert.equal((await run(ids[2]!)).status, "ok");
    const outs = outputs(ids[2]!);
    const terminals = outs.filter((o): o is TerminalOutput => o.type === "terminal");
    const kept = terminals.reduce((n, o) => n + o.text.length, 0);
    // 30 rounds of 100 lines of 17 characters: 51,000 characters, 2.5 times the limit.
    assert.ok(kept <= 20_000, String(kept));
    assert.ok(kept > 20_000 - 17, String(kept));
    // Every display is kept, in order, whatever the console text around it.
    const shown = JSON.stringify(outs.filter((o) => o.type !== "terminal"));
    for (let r = 0; r < 30; r++) assert.ok(shown.includes(`table **${r}**`), `display ${r}`);
    assert.equal(outs.length - terminals.length, 30);
    // The newest text is kept, the oldest is gone; one marker counts what the cell dropped.
    assert.ok(terminals.at(-1)!.text.endsWith("round 29 line 99\n"));
    assert.ok(!terminals.some((o) => o.text.includes("round 00 ")));
    assert.match(
      terminalText(terminals[0]!),
      new RegExp(
        `^… ${(30 * 100 * 17 - kept).toLocaleString("en")} earlier characters dropped \\(this notebook keeps 20,000 characters of console text per cell: Output limit in the notebook's settings\\)\nround \\d\\d line \\d\\d\n`,
      ),
    );
    assert.ok(terminals.slice(1).every((o) => o.dropped === undefined));
  });
});
