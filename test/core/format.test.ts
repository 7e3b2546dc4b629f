// The .tsnb format: examples a user relies on (fixtures, escapes, outputs, errors with lines).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  exportNotebook,
  exportNotebookWithLines,
  fileLocation,
  formatDiagnostic,
  importNotebook,
  importNotebookBytes,
  normalizeNotebook,
  splitLines,
  type ImportResult,
} from "../../core/format/index.ts";
import { allCells, emptyNotebook, type Cell, type Notebook } from "../../core/notebook.ts";

const fixtures = join(import.meta.dirname, "../fixtures/format");
const fixture = (name: string): string => readFileSync(join(fixtures, name), "utf8");

function ok(result: ImportResult): Extract<ImportResult, { ok: true }> {
  if (!result.ok)
    assert.fail(`expected ok, got error at line ${result.error.line}: ${result.error.message}`);
  return result;
}
function fails(result: ImportResult): { message: string; line: number } {
  if (result.ok) assert.fail("expected an error");
  return result.error;
}
/** The notebook without ids, for structural comparison. */
export function stripIds(nb: Notebook): unknown {
  return {
    title: nb.title,
    metadata: nb.metadata,
    sections: nb.sections.map((s) => ({
      title: s.title,
      cells: s.cells.map(({ id: _id, ...rest }) => rest),
    })),
  };
}
const cells = (nb: Notebook): Cell[] => allCells(nb);

describe("fixtures", () => {
  for (const name of readdirSync(fixtures).filter(
    (n) => n.endsWith(".tsnb") || n.endsWith(".md"),
  )) {
    test(`${name}: export(import(x)) is a fixed point`, () => {
      const result = importNotebook(fixture(name));
      if (!result.ok) return; // malformed fixtures are checked below
      const once = exportNotebook(result.notebook);
      assert.equal(exportNotebook(ok(importNotebook(once)).notebook), once);
    });
  }
  for (const name of ["canonical.tsnb", "outputs.tsnb"]) {
    test(`${name} round-trips byte for byte, without warnings`, () => {
      const text = fixture(name);
      const result = ok(importNotebook(text));
      assert.deepEqual(result.warnings, []);
      assert.equal(exportNotebook(result.notebook), text);
    });
  }

  test("canonical.tsnb reads as the sections and cells it shows", () => {
    const { notebook } = ok(importNotebook(fixture("canonical.tsnb")));
    assert.equal(notebook.title, "Penguins");
    assert.deepEqual(
      notebook.sections.map((s) => s.title),
      ["", "Load the data", "Notes"],
    );
    const [intro, load, notes] = notebook.sections;
    assert.deepEqual(
      intro!.cells.map((c) => c.type),
      ["markdown"],
    );
    assert.deepEqual(
      load!.cells.map((c) => c.type),
      ["code", "code", "smart"],
    );
    const withBackticks = load!.cells[1]!;
    assert.equal(withBackticks.type === "code" && withBackticks.options?.autoRun, true);
    assert.ok(withBackticks.source.includes("```ts\nnot a fence end\n```"));
    const smart = load!.cells[2]!;
    assert.equal(smart.type, "smart");
    if (smart.type === "smart") {
      assert.equal(smart.kind, "chart");
      assert.deepEqual(smart.attrs, { data: "penguins", note: "a --> b" });
    }
    assert.deepEqual(
      notes!.cells.map((c) => c.type),
      ["markdown", "markdown"],
    );
    assert.ok(notes!.cells[0]!.source.startsWith("## This line is Markdown, not a section\n"));
    assert.ok(
      notes!.cells[0]!.source.includes(
        "```python\n# a comment, not a heading\n## nor a section\n```",
      ),
    );
    assert.equal(notes!.cells[1]!.source, "A second Markdown cell.");
  });

  test("a plain Markdown file opens as a notebook", () => {
    const result = ok(importNotebook(fixture("plain.md")));
    const nb = result.notebook;
    assert.equal(nb.title, "A plain Markdown file");
    assert.deepEqual(nb.metadata, { version: 1 });
    assert.deepEqual(
      nb.sections.map((s) => [s.title, s.cells.map((c) => c.type)]),
      [
        ["", ["markdown", "markdown", "code", "markdown"]],
        ["Second", ["code", "markdown"]],
      ],
    );
    assert.equal(nb.sections[0]!.cells[0]!.source, "Some intro before the title.");
    assert.equal(nb.sections[0]!.cells[1]!.source, "It has no tsnb metadata at all.");
    assert.equal(nb.sections[0]!.cells[2]!.source, "const x = 1;");
    assert.ok(nb.sections[0]!.cells[3]!.source.startsWith("```js"));
    assert.ok(nb.sections[1]!.cells[1]!.source.startsWith("```output"));
    assert.deepEqual(result.warnings, []);
  });

  test("a notebook formatted by prettier reads the same (blank lines after metadata comments)", async () => {
    const prettier = await import("prettier");
    const text = fixture("canonical.tsnb");
    const formatted = await prettier.format(text, { parser: "markdown" });
    assert.notEqual(formatted, text, "prettier changed nothing, so this test proves nothing");
    const result = ok(importNotebook(formatted));
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(stripIds(result.notebook), stripIds(ok(importNotebook(text)).notebook));
    assert.equal(exportNotebook(result.notebook), text);
  });

  test("bad metadata JSON is an error at its line", () => {
    const error = fails(importNotebook(fixture("malformed-json.tsnb")));
    assert.equal(error.line, 6);
    assert.match(error.message, /invalid JSON in 'tsnb:cell'/);
  });

  test("an unclosed code fence runs to the end of the file, with a warning at the fence", () => {
    const result = ok(importNotebook(fixture("unclosed.tsnb")));
    assert.deepEqual(
      result.warnings.map((w) => w.line),
      [3],
    );
    assert.match(result.warnings[0]!.message, /unclosed code block/);
    const [code] = cells(result.notebook);
    assert.equal(code!.source, "const a = 1;\n\n## this is still code");
    assert.equal(result.notebook.sections.length, 1);
  });

  test("an empty output table left open at the end of the file is reported at its fence (found by the fuzzer)", () => {
    const text =
      '<!-- tsnb:notebook {"version":1,"persistOutputs":true} -->\n\n```ts\nchart\n```\n```output table\n';
    const result = ok(importNotebook(text));
    assert.deepEqual(
      result.warnings.map((w) => [w.line, w.message]),
      [
        [6, "unclosed table-output block: it runs to the end of the file"],
        [6, "an output table block needs its JSON header line (kept as Markdown text)"],
      ],
    );
  });
});

describe("structure", () => {
  test("title, sections, code in ts and typescript fences, other fences stay Markdown", () => {
    const text =
      "# T\n\n## A\n\n```typescript\na\n```\n\n```tsx\nb\n```\n\n## B\n\n~~~ts\nc\n~~~\n";
    const nb = ok(importNotebook(text)).notebook;
    assert.equal(nb.title, "T");
    assert.deepEqual(
      nb.sections.map((s) => [s.title, s.cells.map((c) => [c.type, c.source])]),
      [
        [
          "A",
          [
            ["code", "a"],
            ["markdown", "```tsx\nb\n```"],
          ],
        ],
        ["B", [["code", "c"]]],
      ],
    );
  });

  test("a heading inside a Markdown fence or an indented fence is not structure", () => {
    const text = "# T\n\n- item\n\n  ```ts\n  ## x\n  ```\n\n```md\n# y\n## z\n```\n";
    const nb = ok(importNotebook(text)).notebook;
    assert.equal(nb.sections.length, 1);
    assert.deepEqual(
      cells(nb).map((c) => c.type),
      ["markdown"],
    );
  });

  test("a second `# ` heading is Markdown", () => {
    const nb = ok(importNotebook("# One\n\n# Two\n")).notebook;
    assert.equal(nb.title, "One");
    assert.equal(cells(nb)[0]!.source, "# Two");
  });

  test("no title gives 'Untitled notebook'; an empty file is an empty notebook", () => {
    for (const text of ["", "\n\n", "\uFEFF"]) {
      const result = ok(importNotebook(text));
      assert.equal(result.notebook.title, "Untitled notebook");
      assert.equal(result.notebook.sections.length, 1);
      assert.deepEqual(cells(result.notebook), []);
      assert.deepEqual(result.warnings, []);
    }
    assert.equal(
      exportNotebook(ok(importNotebook("")).notebook),
      '<!-- tsnb:notebook {"version":1} -->\n# Untitled notebook\n',
    );
  });

  test("CRLF, lone CR and a BOM read like LF", () => {
    const lf = "# T\n\n```ts\na\n\nb\n```\n";
    const expected = stripIds(ok(importNotebook(lf)).notebook);
    assert.deepEqual(stripIds(ok(importNotebook(lf.replaceAll("\n", "\r\n"))).notebook), expected);
    assert.deepEqual(stripIds(ok(importNotebook(lf.replaceAll("\n", "\r"))).notebook), expected);
    assert.deepEqual(stripIds(ok(importNotebook("\uFEFF" + lf)).notebook), expected);
  });

  test("cellLines point at the first source line of each code and smart cell", () => {
    const text = fixture("canonical.tsnb");
    const result = ok(importNotebook(text));
    const lines = splitLines(text);
    const evaluable = cells(result.notebook).filter((c) => c.type !== "markdown");
    assert.equal(Object.keys(result.cellLines).length, 3);
    for (const cell of evaluable) {
      const first = result.cellLines[cell.id]!;
      assert.ok(lines[first - 2]!.startsWith("```"), "the line before is the opening fence");
      const sourceLines = cell.source.split("\n");
      assert.deepEqual(lines.slice(first - 1, first - 1 + sourceLines.length), sourceLines);
    }
    // The exporter reports the same lines for the notebook it writes.
    const exported = exportNotebookWithLines(result.notebook);
    assert.deepEqual(exported.cellLines, result.cellLines);
  });
});

describe("file positions", () => {
  test("an error at line 2, column 7 of a cell maps to FILE.tsnb:LINE:7", () => {
    const text = "# T\n\nIntro\n\n```ts\nconst a = 1;\nconst b = oops;\n```\n";
    const result = ok(importNotebook(text));
    const cell = cells(result.notebook).find((c) => c.type === "code")!;
    const at = fileLocation(result.cellLines, cell.id, 2, 11);
    assert.deepEqual(at, { line: 7, column: 11 });
    assert.equal(splitLines(text)[at!.line - 1]!.slice(at!.column - 1, at!.column + 3), "oops");
    assert.equal(fileLocation(result.cellLines, "nope", 1, 1), null);
    const error = fails(importNotebook("# T\n<!-- tsnb:cell {x} -->\n"));
    assert.match(formatDiagnostic("nb.tsnb", error), /^nb\.tsnb:2: invalid JSON/);
  });
});

describe("escaping", () => {
  function roundTrip(nb: Notebook): Notebook {
    const text = exportNotebook(nb);
    const back = ok(importNotebook(text));
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(stripIds(back.notebook), stripIds(normalizeNotebook(nb)));
    assert.equal(exportNotebook(back.notebook), text);
    return back.notebook;
  }
  const notebookWith = (cellList: Cell[], persistOutputs = false): Notebook => ({
    title: "T",
    metadata: persistOutputs ? { version: 1, persistOutputs } : { version: 1 },
    sections: [{ id: "s", title: "", cells: cellList }],
  });

  test("Markdown lines that look like structure stay Markdown", () => {
    const source = [
      "## looks like a section",
      '<!-- tsnb:cell {"autoRun":true} -->',
      "```ts",
      "const notACell = 1;",
      "```",
      "<!-- tsnb:literal -->",
      "# looks like a title",
      "text with <!-- tsnb: inside",
    ].join("\n");
    const nb = notebookWith([{ type: "markdown", id: "m", source }]);
    const text = exportNotebook(nb);
    // Four escapes, plus the escaped `<!-- tsnb:literal -->` line of the source itself.
    assert.equal(text.split("\n").filter((l) => l === "<!-- tsnb:literal -->").length, 5);
    const back = roundTrip(nb);
    assert.deepEqual(
      cells(back).map((c) => [c.type, c.source]),
      [["markdown", source]],
    );
  });

  test("code with backtick runs gets a longer fence", () => {
    const source = "const s = `\n```\n````\n`;";
    const text = exportNotebook(notebookWith([{ type: "code", id: "c", source }]));
    assert.ok(text.includes("\n`````ts\n"));
    assert.equal(
      cells(roundTrip(notebookWith([{ type: "code", id: "c", source }])))[0]!.source,
      source,
    );
  });

  test("`-->` and `--` in attrs never end the comment early", () => {
    const attrs = { a: "-->", b: "<!-- x -->", c: "---->", d: ["--", { "--> key": "--!>" }] };
    const nb = notebookWith([{ type: "smart", id: "s1", kind: "k-->", attrs, source: "x" }]);
    const text = exportNotebook(nb);
    const commentLine = text.split("\n").find((l) => l.startsWith("<!-- tsnb:smart-cell"))!;
    assert.equal(commentLine.indexOf("--", "<!--".length), commentLine.length - 3);
    const back = cells(roundTrip(nb))[0]!;
    assert.ok(back.type === "smart");
    assert.deepEqual(back.attrs, attrs);
    assert.equal(back.kind, "k-->");
  });

  test("adjacent Markdown cells are kept apart by tsnb:break; empty ones are not saved", () => {
    const nb = notebookWith([
      { type: "markdown", id: "a", source: "one" },
      { type: "markdown", id: "e", source: "  \n\t\n" },
      { type: "markdown", id: "b", source: "\n\ntwo\n\n" },
    ]);
    assert.ok(exportNotebook(nb).includes("one\n\n<!-- tsnb:break -->\n\ntwo\n"));
    assert.deepEqual(
      cells(roundTrip(nb)).map((c) => c.source),
      ["one", "two"],
    );
  });

  test("code keeps leading and trailing blank lines and a missing final newline", () => {
    for (const source of ["", "\n", "\n\nx\n\n", "x", "  \n\tindented\n   "]) {
      assert.equal(
        cells(roundTrip(notebookWith([{ type: "code", id: "c", source }])))[0]!.source,
        source,
      );
    }
  });

  test("an unclosed fence in a Markdown cell is closed on save, so it cannot swallow the next cell", () => {
    const nb = notebookWith([
      { type: "markdown", id: "m", source: "````python\nprint(1)" },
      { type: "code", id: "c", source: "1" },
    ]);
    const back = roundTrip(nb);
    assert.deepEqual(
      cells(back).map((c) => [c.type, c.source]),
      [
        ["markdown", "````python\nprint(1)\n````"],
        ["code", "1"],
      ],
    );
  });

  test("section titles: empty, and an empty first section before others", () => {
    const nb: Notebook = {
      title: "",
      metadata: { version: 1 },
      sections: [
        { id: "a", title: "", cells: [] },
        { id: "b", title: "", cells: [{ type: "code", id: "c", source: "1" }] },
        { id: "c", title: "## weird #", cells: [] },
      ],
    };
    const back = roundTrip(nb);
    assert.deepEqual(
      back.sections.map((s) => s.title),
      ["", "", "## weird #"],
    );
  });
});

describe("outputs", () => {
  test("persisted outputs attach to the cell above, in order", () => {
    const nb = ok(importNotebook(fixture("outputs.tsnb"))).notebook;
    const [first, second] = cells(nb);
    assert.ok(first?.type === "code" && second?.type === "code");
    assert.deepEqual(first.outputs, [{ type: "text", text: "hello\nworld" }]);
    assert.deepEqual(second.outputs, [
      { type: "vega-lite", spec: { mark: "point", data: { values: [{ x: 1 }] } } },
    ]);
  });

  test("without persistOutputs, output fences stay Markdown and cell outputs are not saved", () => {
    const text = fixture("outputs.tsnb").replace(',"persistOutputs":true', "");
    const nb = ok(importNotebook(text)).notebook;
    assert.deepEqual(
      cells(nb).map((c) => c.type),
      ["code", "markdown", "code", "markdown"],
    );
    assert.equal(exportNotebook(nb), text);
    const withOutputs: Notebook = {
      title: "T",
      metadata: { version: 1 },
      sections: [
        {
          id: "s",
          title: "",
          cells: [{ type: "code", id: "c", source: "1", outputs: [{ type: "text", text: "1" }] }],
        },
      ],
    };
    assert.ok(!exportNotebook(withOutputs).includes("```output"));
  });

  test("a text output loses only its final newlines; backticks in outputs get longer fences", () => {
    const nb: Notebook = {
      title: "T",
      metadata: { version: 1, persistOutputs: true },
      sections: [
        {
          id: "s",
          title: "",
          cells: [
            {
              type: "code",
              id: "c",
              source: "x",
              outputs: [
                { type: "text", text: "```\nline\n\n" },
                { type: "vega-lite", spec: { t: "```" } },
              ],
            },
          ],
        },
      ],
    };
    const back = cells(ok(importNotebook(exportNotebook(nb))).notebook)[0]!;
    assert.ok(back.type === "code");
    assert.deepEqual(back.outputs, [
      { type: "text", text: "```\nline" },
      { type: "vega-lite", spec: { t: "```" } },
    ]);
  });

  test("a vega-lite block with bad JSON is kept as Markdown, with a warning", () => {
    const text =
      '<!-- tsnb:notebook {"version":1,"persistOutputs":true} -->\n# T\n\n```ts\n1\n```\n\n```vega-lite\n{oops\n```\n';
    const result = ok(importNotebook(text));
    assert.deepEqual(
      result.warnings.map((w) => w.line),
      [8],
    );
    assert.deepEqual(
      cells(result.notebook).map((c) => [c.type, c.source]),
      [
        ["code", "1"],
        ["markdown", "```vega-lite\n{oops\n```"],
      ],
    );
  });
});

describe("malformed input", () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ["unterminated comment", "# T\n\n<!-- tsnb:cell {}\n```ts\n1\n```\n", 3, /end with '-->'/],
    [
      "smart cell without kind",
      '# T\n<!-- tsnb:smart-cell {"attrs":{}} -->\n```ts\n```\n',
      2,
      /string "kind"/,
    ],
    [
      "smart cell attrs not an object",
      '<!-- tsnb:smart-cell {"kind":"x","attrs":[1]} -->\n```ts\n```\n',
      1,
      /attrs/,
    ],
    ["notebook metadata not an object", "\n\n<!-- tsnb:notebook [1] -->\n", 3, /JSON object/],
    ["cell options not an object", "<!-- tsnb:cell 3 -->\n```ts\n```\n", 1, /JSON object/],
    [
      "absurdly nested attrs (they could not be saved again)",
      `# T\n<!-- tsnb:smart-cell {"kind":"x","attrs":{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}} -->\n`,
      2,
      /nested too deeply/,
    ],
    ["NUL byte", "# T\n\nabc\r\nde\u0000f\n", 4, /not a text file/],
  ];
  for (const [name, text, line, message] of cases) {
    test(`${name}: error at line ${line}`, () => {
      const error = fails(importNotebook(text));
      assert.equal(error.line, line);
      assert.match(error.message, message);
    });
  }

  test("bytes that are not UTF-8 are 'not a text file' at their line", () => {
    const bytes = new Uint8Array([...new TextEncoder().encode("# T\n\nok é\n"), 0xc3, 0x28, 10]);
    const error = fails(importNotebookBytes(bytes));
    assert.equal(error.line, 4);
    assert.match(error.message, /not UTF-8/);
    const good = ok(
      importNotebookBytes(
        new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("# Tï\n")]),
      ),
    );
    assert.equal(good.notebook.title, "Tï");
    for (const bad of [
      [0xe2, 0x82],
      [0xed, 0xa0, 0x80],
      [0xc0, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xff],
    ]) {
      assert.equal(
        fails(importNotebookBytes(new Uint8Array([65, 10, ...bad]))).line,
        2,
        JSON.stringify(bad),
      );
    }
  });

  test("warnings carry lines: unknown smart kind, unknown comment, orphan cell options, newer version", () => {
    const text = [
      '<!-- tsnb:notebook {"version":9} -->', // 1
      "# T", // 2
      "", // 3
      '<!-- tsnb:smart-cell {"kind":"mystery","attrs":{"a":1}} -->', // 4
      "```ts", // 5
      "gen()", // 6
      "```", // 7
      "", // 8
      "<!-- tsnb:sparkles {} -->", // 9
      "", // 10
      '<!-- tsnb:cell {"autoRun":true} -->', // 11
      "Not code.", // 12
    ].join("\n");
    const result = ok(importNotebook(text, { knownSmartCellKinds: ["chart"] }));
    assert.deepEqual(
      result.warnings.map((w) => w.line).sort((a, b) => a - b),
      [1, 4, 9, 11],
    );
    const [smart, md1, md2] = cells(result.notebook);
    assert.ok(smart?.type === "smart");
    assert.deepEqual([smart.kind, smart.attrs, smart.source], ["mystery", { a: 1 }, "gen()"]);
    assert.equal(md1!.source, "<!-- tsnb:sparkles {} -->");
    assert.equal(md2!.source, '<!-- tsnb:cell {"autoRun":true} -->\nNot code.');
    // Nothing is lost on save: the comments come back as Markdown text.
    const again = ok(importNotebook(exportNotebook(result.notebook))).notebook;
    assert.deepEqual(stripIds(again), stripIds(normalizeNotebook(result.notebook)));
  });

  test("a 50 MB notebook imports and exports in linear time", () => {
    // About 40,000 cells of realistic size (bench/format.bench.ts times 1.3 million tiny ones).
    const paragraph =
      "Some text about `x` and ## not a heading, <!-- a comment -->. ".repeat(12) + "\n";
    const code = "const x = `${1}`; // ``` not a fence\n".repeat(40);
    const cell = `${paragraph}\n\`\`\`\`ts\n${code}\`\`\`\`\n\n`;
    const count = Math.ceil((50 * 1024 * 1024) / cell.length);
    // Linear, not a time limit (a loaded machine is slow, not quadratic): ten times the text
    // takes about ten times as long, far from the hundred times of a quadratic scan.
    const timed = (n: number) => {
      const text = "# Big\n\n" + cell.repeat(n);
      const start = performance.now();
      const result = ok(importNotebook(text));
      const out = exportNotebook(result.notebook);
      const ms = performance.now() - start;
      assert.equal(cells(result.notebook).length, 2 * n);
      assert.ok(out.length >= text.length - 10);
      return ms;
    };
    timed(Math.ceil(count / 10)); // warm up
    const small = timed(Math.ceil(count / 10));
    const big = timed(count);
    assert.ok(big / small < 30, `50 MB took ${big} ms, 5 MB ${small} ms: not linear`);
    // One pathological 20 MB line of dashes and backticks: as fast as a plain line of its length.
    const plain = "<!-- tsnb:" + "a".repeat(20_000_000);
    const line = "<!-- tsnb:" + "-".repeat(10_000_000) + "`".repeat(10_000_000);
    let t = performance.now();
    importNotebook(plain);
    const plainMs = performance.now() - t;
    t = performance.now();
    assert.equal(fails(importNotebook(line)).line, 1);
    const lineMs = performance.now() - t;
    assert.ok(
      lineMs < 20 * plainMs + 200,
      `the pathological line took ${lineMs} ms, a plain one ${plainMs} ms`,
    );
  });

  test("emptyNotebook round-trips", () => {
    const nb = emptyNotebook("Hello");
    const back = ok(importNotebook(exportNotebook(nb))).notebook;
    assert.deepEqual(stripIds(back), stripIds(nb));
  });
});
