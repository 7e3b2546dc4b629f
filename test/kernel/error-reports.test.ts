// What a user reads when something fails: the import's own line, the notebook's frames first (with
// the library frames counted, not shown, and kept in `fullStack`), recursion collapsed, syntax
// errors with the line and a caret, and errors of callbacks a cell scheduled reported to that
// cell while the kernel lives on.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { KernelProcess } from "../../kernel/client.ts";
import type { KernelEvent } from "../../core/kernel-protocol.ts";
import type { ErrorOutput } from "../../core/outputs.ts";
import { newKernel, run, value } from "./helpers.ts";

let k: KernelProcess;
/** Error outputs (not an evaluation's own error) per evaluation, as they arrive, even late. */
const errorOutputs = new Map<string, ErrorOutput[]>();
before(async () => {
  k = newKernel();
  k.onEvent((e: KernelEvent) => {
    if (e.type === "output" && e.output.type === "error") {
      const list = errorOutputs.get(e.evalId) ?? [];
      list.push(e.output);
      errorOutputs.set(e.evalId, list);
    }
  });
  await k.start();
});
after(() => k.stop());

const errorOutputsOf = (evalId: string) => () => errorOutputs.get(evalId) ?? [];

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a failing import in a later cell is located at its own line and names the notebook", async () => {
  await run(k, "const before1 = 1;", { line: 5 });
  await run(k, "const before2 = 2;\nconst before3 = 3;", { line: 7 });
  const pkg = await run(k, 'import x from "no-such-pkg-tsnb";', { line: 9 });
  assert.equal(pkg.fin.status, "error");
  const e = pkg.fin.error!;
  assert.deepEqual(e.location, { line: 9, column: 1 });
  assert.match(e.message, /Cannot find package 'no-such-pkg-tsnb' imported from .*nb\.tsnb/);
  assert.match(e.message, /npm install no-such-pkg-tsnb/);
  assert.doesNotMatch(e.message, /kernel\.mjs/);
  assert.doesNotMatch(e.stack, /kernel\.mjs|node:internal/);

  const ts = await run(k, "const y = 2;\n\nawait import('./no-such-file.ts');", { line: 20 });
  assert.equal(ts.fin.status, "error");
  assert.equal(ts.fin.error!.location?.line, 22);
  assert.match(ts.fin.error!.message, /Cannot find module '\.\/no-such-file\.ts'.*nb\.tsnb/);

  const js = await run(k, "\nimport { z } from './nope.mjs';", { line: 30 });
  assert.deepEqual(js.fin.error!.location, { line: 31, column: 1 });
  assert.match(
    js.fin.error!.message,
    /Cannot find module '\.\/nope\.mjs' imported from .*nb\.tsnb/,
  );
  assert.doesNotMatch(js.fin.error!.message, /kernel\.mjs/);
});

test("library and Node frames are hidden and counted; the full stack is kept", async () => {
  const r = await run(
    k,
    'import { readFileSync } from "node:fs";\nfunction load() {\n  return readFileSync("/no/such/file/tsnb");\n}\nload()',
    { line: 50 },
  );
  assert.equal(r.fin.status, "error");
  const e = r.fin.error!;
  assert.match(e.stack, /at load \(nb\.tsnb:52:10\)/);
  assert.doesNotMatch(e.stack, /node:fs|node:internal/);
  assert.match(e.stack, /… \d+ library frames? hidden/);
  assert.ok(e.fullStack, "fullStack is set when frames were hidden");
  assert.match(e.fullStack!, /node:fs/);
  assert.match(e.fullStack!, /at load \(nb\.tsnb:52:10\)/);

  // An error raised inside the tsnb library (its bundle in dist/lib) shows the notebook's line.
  const nx = await run(
    k,
    'import * as nx from "tsnb/nx";\nconst a = nx.tensor([1, 2]);\nnx.matmul(a, nx.tensor([[1, 2, 3]]))',
    { line: 60 },
  );
  assert.equal(nx.fin.status, "error");
  assert.match(nx.fin.error!.stack, /nb\.tsnb:62:/);
  assert.doesNotMatch(nx.fin.error!.stack, /dist\/lib|chunk-/);
  assert.match(nx.fin.error!.fullStack ?? "", /dist\/lib/);
});

test("repeated frames of deep recursion are collapsed", async () => {
  const r = await run(
    k,
    'function down(n: number): number {\n  if (n === 0) throw new Error("bottom");\n  return down(n - 1);\n}\ndown(200)',
    { line: 1 },
  );
  const e = r.fin.error!;
  const downFrames = e.stack.split("\n").filter((l) => /at down \(nb\.tsnb:3:/.test(l));
  assert.equal(downFrames.length, 1, e.stack);
  assert.match(e.stack, /at down \(nb\.tsnb:2:/);
  assert.match(e.stack, /… the frame above repeated \d+ more times/);
  // Mutual recursion repeats a block of frames.
  const m = await run(
    k,
    "const ping = (n: number): number => (n === 0 ? (null as any).x : pong(n - 1));\nconst pong = (n: number): number => ping(n);\nping(100)",
    { line: 1 },
  );
  assert.match(m.fin.error!.stack, /… the 2 frames above repeated \d+ more times/);
});

test("a syntax error shows its line with a caret under the column", async () => {
  const r = await run(k, "const ok = 1;\nconst bad: number = ;", { line: 20 });
  const e = r.fin.error!;
  assert.equal(e.name, "SyntaxError");
  assert.equal(
    e.excerpt,
    "20 | const ok = 1;\n21 | const bad: number = ;\n   |                     ^",
  );
  // A cell whose first line is the error shows no line before it.
  const first = await run(k, "let x = (1;", { line: 3 });
  assert.equal(first.fin.error!.excerpt, "3 | let x = (1;\n  |           ^");
});

test("an exception thrown in a timer after its cell finished is reported to that cell; the kernel lives", async () => {
  const r = await run(
    k,
    "const keep = 41;\nsetTimeout(() => {\n  throw new Error('late boom');\n}, 30);",
    {
      line: 10,
    },
  );
  assert.equal(r.fin.status, "ok");
  const errors = errorOutputsOf(r.fin.evalId);
  await until("the late error", () => errors().length > 0);
  const e = errors()[0]!;
  assert.equal(e.message, "late boom");
  assert.equal(e.uncaught, "exception");
  assert.deepEqual(e.location, { line: 12, column: 9 });
  assert.equal(await value(k, "keep + 1"), "42");
  assert.equal(k.death, null);
});

test("an exception in a timer while its cell awaits fails the cell at once; the kernel lives", async () => {
  const t0 = Date.now();
  const r = await run(
    k,
    "setTimeout(() => { throw new Error('timer exploded') }, 10);\nawait new Promise((r) => setTimeout(r, 20_000));",
    { line: 1 },
  );
  assert.ok(Date.now() - t0 < 15_000, "the cell did not wait for its 20 s timer");
  assert.equal(r.fin.status, "error");
  assert.equal(r.fin.error!.message, "timer exploded");
  assert.equal(r.fin.error!.uncaught, "exception");
  assert.equal(await value(k, "1 + 1"), "2");
});

test("an event handler's exception and an unhandled rejection are errors of their cell", async () => {
  const ev = await run(
    k,
    "import { EventEmitter } from 'node:events';\nconst em = new EventEmitter();\nem.on('x', () => { throw new TypeError('handler failed'); });\nsetTimeout(() => em.emit('x'), 10);\nawait new Promise((r) => setTimeout(r, 20_000));",
    { line: 1 },
  );
  assert.equal(ev.fin.status, "error");
  assert.equal(ev.fin.error!.message, "handler failed");

  const running = await run(
    k,
    "Promise.reject(new Error('nobody catches me'));\nawait new Promise((r) => setTimeout(r, 20_000));",
    { line: 1 },
  );
  assert.equal(running.fin.status, "error");
  assert.equal(running.fin.error!.message, "nobody catches me");
  assert.equal(running.fin.error!.uncaught, "rejection");

  const later = await run(
    k,
    "new Promise((_, reject) => setTimeout(() => reject(new Error('rejected later')), 30));",
  );
  assert.equal(later.fin.status, "ok");
  const errors = errorOutputsOf(later.fin.evalId);
  await until("the rejection", () => errors().length > 0);
  assert.equal(errors()[0]!.message, "rejected later");
  assert.equal(errors()[0]!.uncaught, "rejection");
  assert.equal(await value(k, "'alive'"), "'alive'");
});
