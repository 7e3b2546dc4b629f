// Benchmark: .tsnb import/export of 50 MB notebooks, against markdown-it parsing the same text
// (the reference: what rendering the file as Markdown costs). Run: npx tsx bench/format.bench.ts
import MarkdownIt from "markdown-it";
import { exportNotebook, importNotebook } from "../core/format/index.ts";

const MB = 1024 * 1024;
function build(cell: string, bytes: number): string {
  return "# Bench\n\n" + cell.repeat(Math.ceil(bytes / cell.length));
}
const paragraph =
  "Some text about `x` and ## not a heading, <!-- a comment -->. ".repeat(12) + "\n";
const code = "const x = `${1}`; // ``` not a fence\n".repeat(40);
const cases: Array<[string, () => string]> = [
  ["50 MB, ~2 KB cells", () => build(`${paragraph}\n\`\`\`\`ts\n${code}\`\`\`\`\n\n`, 50 * MB)],
  [
    "50 MB, tiny cells (1.3M)",
    () => build("Some text about `x`\n\n```ts\nconst x = 1;\n```\n\n", 50 * MB),
  ],
  [
    "50 MB, one Markdown cell",
    () => build("para with text, no structure at all\n".repeat(5) + "\n", 50 * MB),
  ],
];

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const md = new MarkdownIt();
for (const [name, makeText] of cases) {
  const text = makeText();
  let result: ReturnType<typeof importNotebook> | null = null;
  const importMs = time(() => (result = importNotebook(text)));
  const r = result as ReturnType<typeof importNotebook> | null;
  if (!r || !r.ok) throw new Error("import failed");
  const exportMs = time(() => exportNotebook(r.notebook));
  result = null;
  const referenceMs = time(() => md.parse(text, {}));
  console.log(
    `${name.padEnd(28)} import ${importMs.toFixed(0).padStart(5)} ms  export ${exportMs.toFixed(0).padStart(5)} ms  ` +
      `markdown-it parse ${referenceMs.toFixed(0).padStart(5)} ms  import/markdown-it ${(importMs / referenceMs).toFixed(2)}`,
  );
}
