// Jupyter notebooks in and out (core/format/ipynb.ts): real notebooks written by the Deno,
// tslab and IJavaScript kernels (test/fixtures/ipynb, sources in its README), errors for files
// that are not nbformat 4, nbformat's own validator on what we write, and the round trip
// .tsnb → .ipynb → .tsnb over generated notebooks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  exportIpynb,
  exportNotebook,
  formatIpynbWarning,
  importIpynb,
  importNotebook,
  type IpynbImportResult,
} from "../../core/format/index.ts";
import { allCells, type Notebook } from "../../core/notebook.ts";
import type { Output } from "../../core/outputs.ts";
import { notebook as notebookArb } from "./notebook-arbitrary.ts";
import { nbformatErrors } from "./nbformat-validate.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const fixtures = join(root, "test", "fixtures", "ipynb");
const read = (name: string) => readFileSync(join(fixtures, name), "utf8");

function imported(name: string): IpynbImportResult & { ok: true } {
  const r = importIpynb(read(name), { title: name });
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r;
}

const warningsOf = (r: IpynbImportResult & { ok: true }) =>
  r.warnings.map((w) => formatIpynbWarning("nb.ipynb", w));
const codeCells = (nb: Notebook) => allCells(nb).filter((c) => c.type === "code");
const outputsOf = (r: IpynbImportResult & { ok: true }, i: number): Output[] =>
  r.outputs[codeCells(r.notebook)[i]!.id] ?? [];

test("Deno: title, sections, code, streams with ANSI colours, results, errors with tracebacks, HTML", () => {
  const r = imported("deno-integration-excerpt.ipynb");
  const nb = r.notebook;
  assert.equal(nb.title, "Integration Tests for Deno Jupyter");
  assert.deepEqual(
    nb.sections.map((s) => s.title),
    ["", "Passing Tests", "Broadcasting Display Updates"],
  );
  // The text under the title stays in the first, untitled section.
  assert.match(allCells(nb)[0]!.source ?? "", /^This notebook contains a number of tests/);
  const code = codeCells(nb);
  assert.equal(code.length, 8);
  assert.equal(code[0]!.source, 'console.log("hi")');
  assert.equal(code[1]!.source, 'let x = await Promise.resolve(42);\nconsole.log("x is", x);');
  assert.deepEqual(outputsOf(r, 0), [{ type: "terminal", stream: "stdout", text: "hi\n" }]);
  assert.deepEqual(outputsOf(r, 1), [
    { type: "terminal", stream: "stdout", text: "x is \u001b[33m42\u001b[39m\n" },
  ]);
  // An execute_result's text/plain, as the terminal shows it.
  assert.deepEqual(outputsOf(r, 2), [
    {
      type: "terminal",
      stream: "stdout",
      text: '{ color: \u001b[32m"red"\u001b[39m, area: \u001b[33m10000\u001b[39m }',
    },
  ]);
  const error = outputsOf(r, 4)[0]!;
  assert.equal(error.type, "error");
  assert.equal(error.type === "error" && error.name, "Error");
  assert.equal(error.type === "error" && error.message, "this is a test");
  assert.match(error.type === "error" ? error.stack : "", /at foo \(<anonymous>:3:9\)/);
  assert.deepEqual(outputsOf(r, 7), [{ type: "html", html: "<b>Complete ✓</b>" }]);
  // What a saved .tsnb keeps: the text, the error line; the HTML is reported.
  assert.equal(nb.metadata.persistOutputs, true);
  assert.deepEqual(code[0]!.outputs, [{ type: "text", text: "hi" }]);
  assert.deepEqual(code[4]!.outputs, [{ type: "text", text: "Error: this is a test" }]);
  assert.deepEqual(warningsOf(r), [
    'nb.ipynb: cell 15: the Deno API (Deno.…) is not in Node: use Node\'s modules, and `display` from "tsnb" for Deno.jupyter',
    "nb.ipynb: cell 15: text/html outputs are shown when opened, but a saved .tsnb keeps only text and charts (their text/plain, if any)",
  ]);
});

test("Deno display: Markdown, JSON as the value inspector, PNG images; GeoJSON shown as JSON with a warning", () => {
  const r = imported("deno-display.ipynb");
  const all = Object.values(r.outputs).flat();
  assert.deepEqual(
    all.map((o) => (o.type === "image" ? `image ${o.mime}` : o.type)),
    [
      "markdown",
      "value",
      "image image/png",
      "image image/png",
      "image image/png",
      "image image/png",
      "value",
    ],
  );
  const md = all[0]!;
  assert.equal(md.type === "markdown" && md.text, "No way! This _is_ **awesome**");
  const json = all[1]!;
  assert.ok(json.type === "value" && json.preview.kind === "object");
  assert.deepEqual(
    json.type === "value" && json.preview.kind === "object"
      ? json.preview.entries.map((e) => e.key)
      : [],
    ["a", "b", "c"],
  );
  const png = all[2]!;
  assert.ok(png.type === "image" && png.data.startsWith("iVBORw0KGgo") && !/\s/.test(png.data));
  const text = warningsOf(r).join("\n");
  assert.match(text, /cells 5, 6, 7, 8: image\/png outputs are shown when opened/);
  assert.match(text, /cell 10: application\/geo\+json is shown as JSON/);
  assert.match(text, /cells 5, 6, 8: imports from jsr: or a URL/);
});

test("Vega-Lite bundles (with a PNG fallback) become charts, saved in the .tsnb", () => {
  const r = imported("deno-vegalite.ipynb");
  const [chart] = outputsOf(r, 0);
  assert.equal(chart?.type, "vega-lite");
  const spec = chart?.type === "vega-lite" ? (chart.spec as Record<string, unknown>) : {};
  assert.equal(spec["$schema"], "https://vega.github.io/schema/vega-lite/v5.json");
  assert.equal(codeCells(r.notebook)[0]!.outputs?.[0]?.type, "vega-lite");
  const file = exportNotebook(r.notebook);
  assert.match(file, /```vega-lite\n\{\n {2}"\$schema"/);
  assert.deepEqual(r.warnings, []);
});

test("IJavaScript: HTML and SVG results ($$ API reported); the SVG is base64 of its text", () => {
  const r = imported("ijavascript-modern-js.ipynb");
  assert.equal(r.notebook.title, "Modern JavaScript");
  const svg = Object.values(r.outputs)
    .flat()
    .find((o) => o.type === "image");
  assert.ok(svg && svg.type === "image" && svg.mime === "image/svg+xml");
  assert.match(Buffer.from(svg.data, "base64").toString("utf8"), /^<svg width="100"/);
  assert.match(warningsOf(r).join("\n"), /cells 3, 5, 9: IJavaScript's \$\$ object is not in tsnb/);
});

test("tslab notebooks import with their code and stream outputs, without warnings", () => {
  const fib = imported("tslab-fib.ipynb");
  assert.equal(fib.notebook.title, "tslab-fib.ipynb");
  assert.match(codeCells(fib.notebook)[0]!.source, /^function naiveFib\(n: number\): number \{/);
  assert.deepEqual(codeCells(fib.notebook)[0]!.outputs, [
    { type: "text", text: "naiveFib(33) = 5702887\nTook: 3028ms" },
  ]);
  assert.deepEqual(fib.warnings, []);
  const hh = imported("tslab-hardhat.ipynb");
  assert.equal(codeCells(hh.notebook).length, 5);
  assert.deepEqual(hh.warnings, []);
});

test("magics and shell lines become comments, each listed with its cell", () => {
  const r = imported("ijavascript-magics.ipynb");
  const code = codeCells(r.notebook);
  assert.equal(code[0]!.source, "// %echo hi there");
  assert.equal(code[4]!.source, "// ! ls");
  assert.match(code[2]!.source, /^function bar\(\) \{/);
  assert.deepEqual(
    r.warnings.map((w) => w.cells),
    [[3], [5], [7], [9]],
  );
  assert.match(warningsOf(r)[0]!, /cell 3: `%echo hi there`: magic and shell lines are not run/);
  // A cell magic keeps the whole cell as a fenced block.
  const cellMagic = importIpynb(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "tslab", language: "typescript" } },
      cells: [
        { cell_type: "code", id: "a", metadata: {}, outputs: [], source: "%%html\n<b>hi</b>" },
      ],
    }),
  );
  assert.ok(cellMagic.ok);
  assert.deepEqual(allCells(cellMagic.notebook)[0], {
    type: "markdown",
    id: allCells(cellMagic.notebook)[0]!.id,
    source: "```html\n%%html\n<b>hi</b>\n```",
  });
  assert.equal(cellMagic.warnings[0]!.cells?.[0], 1);
  // `!x && y()` is JavaScript, not a shell line.
  const js = importIpynb(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 4,
      metadata: { kernelspec: { name: "deno" } },
      cells: [{ cell_type: "code", metadata: {}, outputs: [], source: ["!done && run()"] }],
    }),
  );
  assert.ok(js.ok);
  assert.equal(codeCells(js.notebook)[0]!.source, "!done && run()");
  assert.deepEqual(js.warnings, []);
});

test("another language's code, raw cells and widgets are kept as text and reported", () => {
  const py = imported("python-fstrings.ipynb");
  const cells = allCells(py.notebook);
  assert.equal(codeCells(py.notebook).length, 0);
  assert.ok(cells.every((c) => c.type === "markdown" && c.source.startsWith("```python\n")));
  assert.match(warningsOf(py)[0]!, /code in python \(cells 1, 2\) is kept as fenced blocks/);
  const raw = imported("ijavascript-raw-cell.ipynb");
  assert.equal(allCells(raw.notebook)[1]!.source, "```raw\nYou will often want to group\n```");
  assert.deepEqual(raw.warnings[0]!.cells, [2]);
  const widget = imported("deno-anywidget.ipynb");
  assert.match(warningsOf(widget).join("\n"), /cell 1: a Jupyter widget: its state is not carried/);
});

test("Markdown attachments are inlined as data: URLs", () => {
  const r = importIpynb(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: "deno", language: "typescript" } },
      cells: [
        {
          cell_type: "markdown",
          id: "m",
          metadata: {},
          source: ["See ![dot](attachment:dot.png)"],
          attachments: {
            "dot.png": { "image/png": "iVBORw0KGgo=" },
            "unused.png": { "image/png": "AA==" },
          },
        },
      ],
    }),
  );
  assert.ok(r.ok);
  assert.equal(allCells(r.notebook)[0]!.source, "See ![dot](data:image/png;base64,iVBORw0KGgo=)");
  assert.match(r.warnings[0]!.message, /unused\.png not referenced/);
});

test("files that are not nbformat 4 notebooks give clear errors", () => {
  const error = (text: string) => {
    const r = importIpynb(text);
    assert.ok(!r.ok, "expected an error");
    return r.error;
  };
  assert.match(
    error(read("ijavascript-nbformat3.ipynb")).message,
    /nbformat 3 notebook; tsnb reads nbformat 4/,
  );
  const syntax = error('{\n "cells": [\n  {"cell_type": "code",,}\n ]\n}');
  assert.equal(syntax.line, 3);
  assert.match(syntax.message, /the JSON does not parse at line 3, column \d+/);
  assert.match(error("").message, /empty/);
  assert.match(error("[1, 2]").message, /not an object/);
  assert.match(error('{"cells": []}').message, /no "nbformat" field/);
  assert.match(error('{"nbformat": 5, "cells": []}').message, /nbformat 5.*newer/);
  assert.match(error('{"nbformat": 4, "cells": {}}').message, /"cells" is not a list/);
  assert.match(
    error('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}').message,
    /cell 1: "source" is not text/,
  );
});

test("every exported notebook passes nbformat's validator (real notebooks with their outputs, tsnb examples)", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-ipynb-"));
  try {
    const files: string[] = [];
    for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".ipynb"))) {
      const r = importIpynb(read(name), { title: name });
      if (!r.ok) continue;
      const out = join(dir, name);
      writeFileSync(out, exportIpynb(r.notebook, { outputs: r.outputs }));
      files.push(out);
    }
    for (const name of readdirSync(join(root, "notebooks")).filter((f) => f.endsWith(".tsnb"))) {
      const r = importNotebook(readFileSync(join(root, "notebooks", name), "utf8"));
      assert.ok(r.ok);
      const out = join(dir, name + ".ipynb");
      writeFileSync(out, exportIpynb(r.notebook));
      files.push(out);
    }
    // Every kind of live output the app has.
    const nb = importNotebook("# All outputs\n\n```ts\nx\n```\n");
    assert.ok(nb.ok);
    const id = codeCells(nb.notebook)[0]!.id;
    const live: Output[] = [
      { type: "terminal", stream: "stderr", text: "warn\n" },
      { type: "markdown", text: "**b**" },
      { type: "html", html: "<i>i</i>" },
      {
        type: "image",
        mime: "image/svg+xml",
        data: Buffer.from("<svg/>").toString("base64"),
        alt: "s",
      },
      { type: "image", mime: "image/png", data: "iVBORw0KGgo=" },
      { type: "vega-lite", spec: { mark: "bar" } },
      { type: "table", id: "t", columns: ["a"], rows: [[1], ["<x>"]], offset: 0, totalRows: 5 },
      { type: "tensor", dtype: "f32", shape: [2], text: "[1, 2]" },
      { type: "value", preview: { kind: "primitive", text: "42", jsType: "number" } },
      { type: "error", name: "TypeError", message: "no", stack: "TypeError: no\n    at x" },
      { type: "frame", id: "f", outputs: [{ type: "markdown", text: "in frame" }] },
      { type: "progress", id: "p", fraction: 0.5, label: "half" },
      {
        type: "input",
        id: "i",
        input: { kind: "text", label: "Name", default: "" },
        value: "",
      },
    ];
    const out = join(dir, "all-outputs.ipynb");
    writeFileSync(out, exportIpynb(nb.notebook, { outputs: { [id]: live } }));
    files.push(out);
    assert.ok(files.length >= 15);
    assert.deepEqual(nbformatErrors(files), {});
    // And the written outputs read back as what they were.
    const back = importIpynb(readFileSync(out, "utf8"));
    assert.ok(back.ok);
    assert.deepEqual(
      Object.values(back.outputs)
        .flat()
        .map((o) => o.type),
      [
        "terminal",
        "markdown",
        "html",
        "image",
        "image",
        "vega-lite",
        "table",
        "terminal",
        "terminal",
        "error",
        "markdown",
        "terminal",
        "terminal",
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(".tsnb → .ipynb → .tsnb gives the same file (generated notebooks: cells, sections, smart cells, options, text outputs)", () => {
  fc.assert(
    fc.property(notebookArb, (nb) => {
      const ipynb = exportIpynb(nb);
      const back = importIpynb(ipynb);
      if (!back.ok) throw new Error(back.error.message + "\n" + ipynb);
      assert.deepEqual(back.warnings, []);
      assert.equal(exportNotebook(back.notebook), exportNotebook(nb));
    }),
    { numRuns: Number(process.env.TSNB_FUZZ_RUNS ?? 300) },
  );
  // The example notebooks too.
  for (const name of readdirSync(join(root, "notebooks")).filter((f) => f.endsWith(".tsnb"))) {
    const text = readFileSync(join(root, "notebooks", name), "utf8");
    const r = importNotebook(text);
    assert.ok(r.ok);
    const back = importIpynb(exportIpynb(r.notebook));
    assert.ok(back.ok);
    assert.equal(exportNotebook(back.notebook), exportNotebook(r.notebook), name);
  }
});

test("importing never throws on mutated notebooks", () => {
  const base = read("deno-integration-excerpt.ipynb");
  fc.assert(
    fc.property(fc.nat(base.length), fc.string({ maxLength: 5 }), fc.nat(20), (at, insert, cut) => {
      const text = base.slice(0, at) + insert + base.slice(at + cut);
      const r = importIpynb(text);
      if (r.ok) assert.ok(r.notebook.sections.length >= 1);
      else assert.ok(r.error.message.length > 0);
    }),
    { numRuns: 200 },
  );
});

test("one console with stderr's text goes out as one stream output per run and reads back as one", () => {
  const nb = importNotebook("# Console\n\n```ts\nx\n```\n");
  assert.ok(nb.ok);
  const id = codeCells(nb.notebook)[0]!.id;
  const live: Output[] = [
    { type: "terminal", stream: "stdout", text: "out 1\nerr 1\nout 2\n", stderr: [6, 12] },
  ];
  const json = JSON.parse(exportIpynb(nb.notebook, { outputs: { [id]: live } })) as {
    cells: Array<{ outputs?: Array<{ output_type: string; name: string; text: string[] }> }>;
  };
  const outs = json.cells.flatMap((c) => c.outputs ?? []);
  assert.deepEqual(
    outs.map((o) => [o.output_type, o.name, o.text.join("")]),
    [
      ["stream", "stdout", "out 1\n"],
      ["stream", "stderr", "err 1\n"],
      ["stream", "stdout", "out 2\n"],
    ],
  );
  const back = importIpynb(JSON.stringify(json));
  assert.ok(back.ok);
  assert.deepEqual(Object.values(back.outputs).flat(), live);
});
