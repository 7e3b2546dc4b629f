// Evaluation semantics of the kernel, driven through KernelProcess against dist/kernel.mjs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { KernelProcess } from "../../kernel/client.ts";
import { newKernel, run, value } from "./helpers.ts";
import { terminalChunks } from "../../core/outputs.ts";

let k: KernelProcess;
before(async () => {
  k = newKernel();
  await k.start();
});
after(() => k.stop());

test("top-level bindings persist; a later cell may redeclare const, let and class", async () => {
  assert.equal(
    await value(
      k,
      "const a: number = 1;\nlet b = 2;\nclass C { v = 1 }\nfunction f() { return 'f1' }",
    ),
    undefined,
  );
  assert.equal(await value(k, "a + b"), "3");
  assert.equal(
    await value(k, "const a = 10; let b = 20; class C { v = 2 }; a + b + new C().v"),
    "32",
  );
  assert.equal(await value(k, "function f() { return 'f2' }\nf()"), "'f2'");
  assert.equal(await value(k, "a"), "10");
});

test("TypeScript: interfaces, enums, generics, satisfies, class fields, decorators", async () => {
  const out = await value(
    k,
    [
      "interface Pt { x: number; y: number }",
      "enum Dir { Up = 'UP', Down = 'DOWN' }",
      "const seen: string[] = [];",
      "function logged(value: any, ctx: ClassMethodDecoratorContext) { seen.push(String(ctx.name)); return value }",
      "class Box<T> { #secret = 1; items: T[] = []; @logged add(x: T) { this.items.push(x); return this } }",
      "const pt = { x: 1, y: 2 } satisfies Pt;",
      "const bx = new Box<number>().add(pt.x).add(pt.y);",
      "[Dir.Down, bx.items, seen]",
    ].join("\n"),
  );
  assert.equal(out, "[ 'DOWN', [ 1, 2 ], [ 'add' ] ]");
});

test("top-level await and for await work", async () => {
  assert.equal(
    await value(k, "const w = await new Promise<number>((r) => setTimeout(() => r(7), 20)); w * 6"),
    "42",
  );
  assert.equal(
    await value(
      k,
      "async function* gen() { yield 1; yield 2; yield 3 }\nlet sum = 0;\nfor await (const v of gen()) sum += v;\nsum",
    ),
    "6",
  );
});

test("the last expression is the result; a trailing ';' or a declaration has none", async () => {
  assert.equal((await run(k, "1 + 1")).fin.resultText, "2");
  assert.equal((await run(k, "1 + 1;")).fin.result, undefined);
  assert.equal((await run(k, "const z = 5")).fin.result, undefined);
  assert.equal((await run(k, "'text'")).fin.resultText, "'text'");
  const obj = await run(k, "({ a: 1, nested: { list: [1, 2, 3] } })");
  assert.equal(obj.fin.resultText, "{ a: 1, nested: { list: [ 1, 2, 3 ] } }");
  assert.equal(obj.fin.result?.type, "value");
  // A promise as the last expression is awaited.
  assert.equal((await run(k, "Promise.resolve(99)")).fin.resultText, "99");
});

test("imports: Node built-ins, packages of the notebook folder and of the app, local TypeScript", async () => {
  assert.equal(
    await value(
      k,
      "import { readFileSync } from 'node:fs';\nimport path from 'path';\ntypeof readFileSync + path.sep",
    ),
    "'function/'",
  );
  assert.equal(
    await value(k, "import tiny, { greet } from 'tiny-esm';\ngreet('nb') + ' ' + tiny.kind"),
    "'hello, nb tiny-esm default'",
  );
  assert.equal(
    await value(
      k,
      "import { extra } from 'tiny-esm/extra';\nimport * as cjs from 'tiny-cjs';\nextra + cjs.double(4)",
    ),
    "50",
  );
  assert.equal(await value(k, "import * as acorn from 'acorn';\ntypeof acorn.parse"), "'function'");
  assert.equal(await value(k, "import { triple } from './helper.ts';\ntriple(5)"), "15");
  assert.equal(
    await value(k, "import 'node:os';\nconst os = await import('node:os');\ntypeof os.cpus"),
    "'function'",
  );
  const missing = await run(k, "import { nope } from 'no-such-package-xyz';");
  assert.equal(missing.fin.status, "error");
  assert.match(missing.fin.error!.message, /no-such-package-xyz/);
});

test("console output streams to the running cell, in order, before it finishes", async () => {
  const r = await run(
    k,
    "console.log('one'); console.error('two'); console.info('three');\nawait new Promise((r) => setTimeout(r, 200));\nconsole.warn('four');",
  );
  const outs = r.events.filter((e) => e.type === "output");
  // Writes of both streams in one batch are one output, stderr's text marked in it (the first
  // write after a quiet moment goes out at once, alone).
  assert.ok(outs.length < 4, String(outs.length));
  assert.deepEqual(
    outs.flatMap((e) =>
      e.type === "output" && e.output.type === "terminal"
        ? terminalChunks(e.output).map((c) => [c.stream, c.text])
        : [null],
    ),
    [
      ["stdout", "one\n"],
      ["stderr", "two\n"],
      ["stdout", "three\n"],
      ["stderr", "four\n"],
    ],
  );
  // The first outputs were sent while the cell was still waiting, not batched at its end.
  const started = r.events.findIndex((e) => e.type === "evaluation-started");
  assert.equal(started, 0);
  assert.equal(r.fin.status, "ok");
});

test("output of timers and promises a cell started goes to that cell, even after it finished", async () => {
  const first = await run(
    k,
    "let ticks = 0;\nconst timer = setInterval(() => { console.log('tick', ++ticks); if (ticks === 3) clearInterval(timer) }, 30);",
    {
      cellId: "timer-cell",
    },
  );
  const second = await run(
    k,
    "await new Promise((r) => setTimeout(r, 250)); console.log('second done');",
    { cellId: "other-cell" },
  );
  assert.equal(second.text(), "second done\n");
  assert.equal(first.text(), "tick 1\ntick 2\ntick 3\n");
  for (const e of first.events) if (e.type === "output") assert.equal(e.cellId, "timer-cell");
});

test("a cell that prints many lines quickly still delivers them all, merged in batches", async () => {
  const r = await run(k, "for (let i = 0; i < 5000; i++) console.log(i);");
  const lines = r.text().trimEnd().split("\n");
  assert.equal(lines.length, 5000);
  assert.equal(lines[4999], "4999");
  const batches = r.events.filter((e) => e.type === "output").length;
  assert.ok(batches < 100, `expected batching, got ${batches} output events`);
});

test("display() shows Markdown, values and updates from the stdlib", async () => {
  const r = await run(
    k,
    "import { display, md } from 'tsnb';\nconsole.log('before');\nconst h = display(md`# Title ${1 + 1}`);\nconsole.log('after');\nawait h.update(md`done`);",
  );
  const kinds = r.events
    .filter((e) => e.type === "output" || e.type === "output-update")
    .map((e) => (e.type === "output" ? e.output.type : e.update.type));
  assert.deepEqual(kinds, ["terminal", "frame", "terminal", "frame-replace"]);
  const frame = r.events.find((e) => e.type === "output" && e.output.type === "frame");
  assert.deepEqual(
    frame?.type === "output" && frame.output.type === "frame" && frame.output.outputs,
    [{ type: "markdown", text: "# Title 2" }],
  );
});

test("the display protocol: an object's [Symbol.for('tsnb.display')]() chooses its output", async () => {
  const r = await run(
    k,
    "({ [Symbol.for('tsnb.display')]: async () => ({ type: 'markdown', text: '**rich**' }) })",
  );
  assert.deepEqual(r.fin.result, { type: "markdown", text: "**rich**" });
  const bad = await run(k, "({ [Symbol.for('tsnb.display')]: () => ({ type: 'nonsense' }) })");
  assert.equal(bad.fin.status, "error");
  assert.match(bad.fin.error!.message, /unknown output type/);
  // Through display(): a malformed output is a note on stderr, the kernel carries on.
  const shown = await run(
    k,
    "import { display } from 'tsnb';\ndisplay({ [Symbol.for('tsnb.display')]: () => ({ type: 'nonsense' }) });\n'after'",
  );
  assert.equal(shown.fin.resultText, "'after'");
  assert.match(shown.text(), /display: .*unknown output type "nonsense"/);
});

test("arrays of records become a paged table", async () => {
  const r = await run(
    k,
    "Array.from({ length: 120 }, (_, i) => ({ id: i, sq: i * i, tag: i % 2 ? 'odd' : undefined }))",
  );
  const t = r.fin.result;
  assert.equal(t?.type, "table");
  if (t?.type !== "table") return;
  assert.deepEqual(t.columns, ["id", "sq", "tag"]);
  assert.equal(t.totalRows, 120);
  assert.equal(t.rows.length, 50);
  assert.deepEqual(t.rows[3], [3, 9, "odd"]);
  const page = await k.requestTablePage(t.id, 100, 50);
  assert.ok(page && page.update.type === "table-page");
  if (page?.update.type !== "table-page") return;
  assert.equal(page.update.rows.length, 20);
  assert.deepEqual(page.update.rows[0], [100, 10000, null]);
  assert.equal(await k.requestTablePage("no-such-table", 0, 10), null);
});

test("defines and uses are reported per evaluation", async () => {
  const r = await run(
    k,
    "const total = prices.map((p) => p * rate).reduce((a, b) => a + b, 0);\nfunction fmt(x: number) { return x.toFixed(2) }",
    {},
  );
  assert.deepEqual(r.fin.defines.sort(), ["fmt", "total"]);
  assert.deepEqual(r.fin.uses.sort(), ["prices", "rate"]);
  assert.equal(r.fin.status, "error"); // prices is not defined
});

test("tsnb/nx loads on first import; tensors show through the display protocol", async () => {
  const r = await run(k, "import * as nx from 'tsnb/nx';\nnx.tensor([[1, 2], [3, 4]])");
  assert.equal(r.fin.status, "ok", JSON.stringify(r.fin.error));
  assert.equal(r.fin.result?.type, "tensor");
  if (r.fin.result?.type === "tensor") assert.deepEqual(r.fin.result.shape, [2, 2]);
});

test("a promise rejected in the background fails its cell; the kernel lives on", async () => {
  const r = await run(
    k,
    "setTimeout(() => { Promise.reject(new Error('background')) }, 10);\nawait new Promise((r) => setTimeout(r, 100));",
  );
  assert.equal(r.fin.status, "error");
  assert.equal(r.fin.error?.message, "background");
  assert.equal(r.fin.error?.uncaught, "rejection");
  assert.equal(await value(k, "'alive'"), "'alive'");
});

test("require works in cells (also TypeScript's import x = require())", async () => {
  assert.equal(await value(k, "const cjs = require('tiny-cjs');\ncjs.double(21)"), "42");
  assert.equal(await value(k, "import os = require('node:os');\ntypeof os.platform()"), "'string'");
});

test("every line printed before a long synchronous computation arrives while it runs", async () => {
  const arrivals: Array<[string, number]> = [];
  let finished = 0;
  await k.evaluate(
    {
      evalId: "sync-tail",
      cellId: "sync-tail",
      code: "console.log('one');\nconsole.log('two');\nconst t0 = Date.now();\nwhile (Date.now() - t0 < 20) {}\nconsole.log('three');\nconst until = Date.now() + 600;\nwhile (Date.now() < until) {}",
    },
    (e) => {
      if (e.type === "output" && e.output.type === "terminal")
        arrivals.push([e.output.text, performance.now()]);
      if (e.type === "evaluation-finished") finished = performance.now();
    },
  );
  assert.equal(arrivals.map(([t]) => t).join(""), "one\ntwo\nthree\n");
  for (const [text, at] of arrivals)
    assert.ok(
      finished - at > 300,
      `${JSON.stringify(text)} came ${finished - at} ms before the end`,
    );
});

test("a line printed before a long synchronous computation arrives while it runs", async () => {
  const times: Record<string, number> = {};
  const fin = await k.evaluate(
    {
      evalId: "sync-stream",
      cellId: "sync",
      code: "console.log('start');\nconst until = Date.now() + 400;\nwhile (Date.now() < until) {}\n'end'",
    },
    (e) => {
      if (e.type === "output") times.output = performance.now();
      if (e.type === "evaluation-finished") times.finished = performance.now();
    },
  );
  assert.equal(fin.resultText, "'end'");
  assert.ok(
    times.finished! - times.output! > 250,
    `output came ${times.finished! - times.output!} ms before the end`,
  );
});

test("JSON files import as their parsed default export; import.meta points at the notebook", async () => {
  assert.equal(
    await value(k, "import data from './data.json' with { type: 'json' };\ndata.rows.length"),
    "3",
  );
  assert.equal(await value(k, "import cfg from './data.json';\ncfg.rows[2]"), "3");
  assert.match((await value(k, "import.meta.url"))!, /fixtures\/kernel\/nbdir\/nb\.tsnb'$/);
});

test("progress() shows a bar and moves it with updates", async () => {
  const r = await run(
    k,
    "import { progress } from 'tsnb';\nconst bar = progress('Training');\nbar.set(0.5, 'epoch 5/10');\nbar.done();",
  );
  const shown = r.events.find((e) => e.type === "output" && e.output.type === "progress");
  assert.ok(shown && shown.type === "output" && shown.output.type === "progress");
  const id = shown.type === "output" && shown.output.type === "progress" ? shown.output.id : "";
  const updates = r.events.flatMap((e) =>
    e.type === "output-update" && e.update.type === "progress-set" && e.update.id === id
      ? [e.update]
      : [],
  );
  assert.deepEqual(
    updates.map((u) => [u.fraction, u.label]),
    [
      [0.5, "epoch 5/10"],
      [1, "epoch 5/10"],
    ],
  );
});

test("a name may change its kind of declaration between cells (function ↔ const, var ↔ let, class → const)", async () => {
  const pairs: Array<[string, string, string, string]> = [
    ["const k1 = 1", "function k1() { return 2 }", "k1()", "2"],
    ["function k2() {}", "const k2 = 2", "k2", "2"],
    ["var k3 = 1", "let k3 = 3", "k3", "3"],
    ["let k4 = 1", "var k4 = 4", "k4", "4"],
    ["class k5 {}", "const k5 = 5", "k5", "5"],
    ["const k6 = 1", "class k6 { static v = 6 }", "k6.v", "6"],
  ];
  for (const [first, second, probe, expected] of pairs) {
    await value(k, first);
    await value(k, second);
    assert.equal(await value(k, probe), expected, `${first} then ${second}`);
  }
});

test("re-running an enum cell defines it afresh", async () => {
  await value(k, "enum Level { Low, High }");
  await value(k, "enum Level { Debug = 'debug' }");
  assert.equal(await value(k, "Object.keys(Level).join(',')"), "'Debug'");
});
