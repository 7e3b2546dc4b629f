// Generated notebooks (fast-check) for the format's property tests: lines that mean something to
// the format, Markdown or CommonMark; cells of every kind with options, attrs and outputs.
import fc from "fast-check";
import type { Cell, Notebook, PersistedOutput, Section } from "../../core/notebook.ts";

// Lines that mean something to the format, Markdown or CommonMark.
export const trickyLine = fc.constantFrom(
  "",
  " ",
  "\t",
  "# heading-like",
  "#",
  "## section-like",
  "##",
  " ## indented",
  "### h3",
  "```",
  "````",
  "```ts",
  "```typescript",
  "~~~ts",
  "```python",
  "   ```",
  "```output",
  "```output markdown",
  "```output table",
  '{"columns":["a"],"totalRows":1}',
  "```vega-lite",
  "~~~",
  '<!-- tsnb:cell {"autoRun":true} -->',
  "<!-- tsnb:literal -->",
  "<!-- tsnb:break -->",
  '<!-- tsnb:notebook {"version":1} -->',
  '<!-- tsnb:smart-cell {"kind":"x"} -->',
  "<!-- tsnb:",
  "<!-- a comment -->",
  "-->",
  "- list item",
  "  1. nested",
  "> quote",
  "trailing spaces   ",
  "unicode é 漢字 😀 \u2028",
  "`inline` ``code``",
  "a -- b --> c",
  "\\",
);
export const anyLine = fc.oneof(
  { weight: 3, arbitrary: trickyLine },
  {
    weight: 2,
    arbitrary: fc
      .string({ unit: "binary", maxLength: 12 })
      .map((s) => s.replace(/[\n\r\u0000]/g, "")),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
);
/** Multi-line text; sometimes with CRLF or a trailing newline. */
const text = fc
  .tuple(fc.array(anyLine, { maxLength: 8 }), fc.constantFrom("", "\n", "\r\n"), fc.boolean())
  .map(([lines, end, crlf]) => lines.join(crlf ? "\r\n" : "\n") + end);
const jsonish = fc.jsonValue({ maxDepth: 3 });
const attrs = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("--", "-->", "<!--")), jsonish, {
  maxKeys: 4,
});
const output: fc.Arbitrary<PersistedOutput> = fc.oneof(
  text.map((t) => ({ type: "text" as const, text: t })),
  jsonish.map((spec) => ({ type: "vega-lite" as const, spec })),
  text.map((t) => ({ type: "markdown" as const, text: t })),
  fc
    .record({
      columns: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
      rows: fc.array(fc.array(jsonish, { maxLength: 4 }), { maxLength: 4 }),
      offset: fc.option(fc.nat({ max: 100 }), { nil: undefined }),
      totalRows: fc.nat({ max: 1000 }),
    })
    .map(({ offset, ...t }) => ({
      type: "table" as const,
      ...t,
      ...(offset ? { offset } : {}),
    })),
);
const outputs = fc.option(fc.array(output, { maxLength: 3 }), { nil: undefined });
const cell: fc.Arbitrary<Cell> = fc.oneof(
  text.map((source) => ({ type: "markdown" as const, id: "", source })),
  fc
    .record({
      source: text,
      options: fc.option(fc.record({ autoRun: fc.boolean() }), { nil: undefined }),
      outputs,
    })
    .map(({ source, options, outputs: o }) => {
      const c: Cell = { type: "code", id: "", source };
      if (options) c.options = options;
      if (o) c.outputs = o;
      return c;
    }),
  fc
    .record({
      kind: fc.oneof(fc.constantFrom("chart", "onnx-model", "k-->"), fc.string()),
      attrs,
      source: text,
      outputs,
    })
    .map(({ kind, attrs: a, source, outputs: o }) => {
      const c: Cell = { type: "smart", id: "", kind, attrs: a, source };
      if (o) c.outputs = o;
      return c;
    }),
);
const heading = fc.oneof(
  trickyLine,
  fc.string({ maxLength: 15 }),
  fc.string({ unit: "binary", maxLength: 8 }),
);
export const notebook: fc.Arbitrary<Notebook> = fc
  .record({
    title: heading,
    persistOutputs: fc.option(fc.boolean(), { nil: undefined }),
    extra: fc.option(jsonish, { nil: undefined }),
    sections: fc.array(fc.record({ title: heading, cells: fc.array(cell, { maxLength: 5 }) }), {
      maxLength: 4,
    }),
  })
  .map(({ title, persistOutputs, extra, sections }) => {
    let n = 0;
    const metadata: Notebook["metadata"] = { version: 1 };
    if (persistOutputs !== undefined) metadata.persistOutputs = persistOutputs;
    if (extra !== undefined) metadata.extra = extra;
    return {
      title,
      metadata,
      sections: sections.map((s): Section => ({
        id: `s${n++}`,
        title: s.title,
        cells: s.cells.map((c) => ({ ...c, id: `c${n++}` })),
      })),
    };
  });
