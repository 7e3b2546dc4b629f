// Property tests and fuzzing of the .tsnb format (fast-check): generated notebooks round-trip
// through export/import, and the importer never throws on random or mutated input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import {
  exportNotebook,
  exportNotebookWithLines,
  importNotebook,
  normalizeNotebook,
  splitLines,
} from "../../core/format/index.ts";
import { allCells, type Notebook } from "../../core/notebook.ts";
import { anyLine, notebook, trickyLine } from "./notebook-arbitrary.ts";

const RUNS = Number(process.env.TSNB_FUZZ_RUNS ?? 300);

/** The notebook without ids, for structural comparison. */
function stripIds(nb: Notebook): unknown {
  return {
    title: nb.title,
    metadata: nb.metadata,
    sections: nb.sections.map((s) => ({
      title: s.title,
      cells: s.cells.map(({ id: _id, ...rest }) => rest),
    })),
  };
}

test("import(export(nb)) is normalizeNotebook(nb), without warnings; export is byte-stable", () => {
  fc.assert(
    fc.property(notebook, (nb) => {
      const file = exportNotebook(nb);
      const result = importNotebook(file);
      if (!result.ok)
        throw new Error(`error at line ${result.error.line}: ${result.error.message}\n${file}`);
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(stripIds(result.notebook), stripIds(normalizeNotebook(nb)));
      assert.equal(exportNotebook(result.notebook), file);
      // Cell lines: the importer's and the exporter's agree, and point at each cell's source.
      const exported = exportNotebookWithLines(nb);
      const lines = splitLines(file);
      const before = allCells(normalizeNotebook(nb)).filter((c) => c.type !== "markdown");
      const after = allCells(result.notebook).filter((c) => c.type !== "markdown");
      assert.equal(after.length, before.length);
      after.forEach((cell, i) => {
        const line = result.cellLines[cell.id]!;
        assert.equal(exported.cellLines[before[i]!.id], line);
        if (cell.source !== "") {
          const src = cell.source.split("\n");
          assert.deepEqual(lines.slice(line - 1, line - 1 + src.length), src);
        }
      });
    }),
    { numRuns: RUNS * 2 },
  );
});

test("a canonical notebook is its own normal form", () => {
  fc.assert(
    fc.property(notebook, (nb) => {
      const canonical = normalizeNotebook(nb);
      assert.deepEqual(normalizeNotebook(canonical), canonical);
      const back = importNotebook(exportNotebook(canonical));
      assert.ok(back.ok);
      assert.deepEqual(stripIds(back.notebook), stripIds(canonical));
    }),
    { numRuns: RUNS },
  );
});

/** The importer's contract on any input. */
function checkImport(input: string): void {
  const result = importNotebook(input);
  if (!result.ok) {
    const lineCount = Math.max(1, splitLines(input).length);
    assert.ok(
      Number.isInteger(result.error.line) &&
        result.error.line >= 1 &&
        result.error.line <= lineCount,
      `error line ${result.error.line} outside 1..${lineCount}: ${result.error.message}`,
    );
    assert.doesNotMatch(result.error.message, /internal error/);
    return;
  }
  const lineCount = Math.max(1, splitLines(input).length);
  for (const w of result.warnings)
    assert.ok(w.line >= 1 && w.line <= lineCount, `warning line ${w.line}`);
  const once = exportNotebook(result.notebook);
  const again = importNotebook(once);
  if (!again.ok)
    throw new Error(
      `canonical form does not import: line ${again.error.line}: ${again.error.message}\n${once}`,
    );
  assert.equal(exportNotebook(again.notebook), once);
}

test("fuzz: random text never throws; errors are on a line of the file; canonicalisation is idempotent", () => {
  const randomText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.array(fc.oneof(trickyLine, anyLine), { maxLength: 30 }).map((l) => l.join("\n")),
    fc
      .array(
        fc.oneof(trickyLine, fc.constantFrom("\r", "\r\n", "\u0000", "\uFEFF", "`", "-->", "{")),
        { maxLength: 40 },
      )
      .map((l) => l.join("")),
  );
  fc.assert(
    fc.property(randomText, (input) => void checkImport(input)),
    { numRuns: RUNS * 3 },
  );
});

const fixtureDir = join(import.meta.dirname, "../fixtures/format");
const fixtureLines = readdirSync(fixtureDir).map((name) =>
  readFileSync(join(fixtureDir, name), "utf8").split("\n"),
);

test("fuzz: mutated fixtures never throw; errors are on a line of the file; canonicalisation is idempotent", () => {
  type Mutation = (lines: string[]) => string[];
  const at = (lines: string[], i: number): number => (lines.length === 0 ? 0 : i % lines.length);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.nat().map((i) => (l: string[]) => l.filter((_, j) => j !== at(l, i))),
    fc.nat().map((i) => (l: string[]) => [...l.slice(0, at(l, i) + 1), ...l.slice(at(l, i))]),
    fc.tuple(fc.nat(), fc.nat()).map(([i, j]) => (l: string[]) => {
      const c = l.slice();
      const a = at(c, i);
      const b = at(c, j);
      [c[a], c[b]] = [c[b]!, c[a]!];
      return c;
    }),
    fc
      .tuple(
        fc.nat(),
        fc.oneof(
          trickyLine,
          fc.constantFrom("\u0000", "```ts", "````", "<!-- tsnb:cell {bad} -->"),
        ),
      )
      .map(([i, ins]) => (l: string[]) => [...l.slice(0, at(l, i)), ins, ...l.slice(at(l, i))]),
    fc
      .tuple(fc.nat(), fc.nat(), fc.constantFrom("\u0000", "`", "-", "<!--", "\r", "#"))
      .map(([i, k, ins]) => (l: string[]) => {
        const c = l.slice();
        const a = at(c, i);
        const s = c[a] ?? "";
        const p = s.length === 0 ? 0 : k % (s.length + 1);
        c[a] = s.slice(0, p) + ins + s.slice(p);
        return c;
      }),
  );
  fc.assert(
    fc.property(
      fc.nat({ max: fixtureLines.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (f, ms) => {
        let lines = fixtureLines[f]!;
        for (const m of ms) lines = m(lines);
        checkImport(lines.join("\n"));
      },
    ),
    { numRuns: RUNS * 3 },
  );
});
