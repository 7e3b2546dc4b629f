/**
 * The canonical form of a notebook model: exactly what survives a save and a reload.
 *
 * Owns: `normalizeNotebook`, the one list of changes a save makes to a notebook model (see
 * docs/format.md, "Canonical form"). The exporter writes `normalizeNotebook(nb)`, and
 * `importNotebook(exportNotebook(nb))` equals `normalizeNotebook(nb)` apart from ids.
 *
 * Invariants: pure; keeps every id; idempotent (normalize(normalize(x)) deep-equals normalize(x)).
 */

import {
  FORMAT_VERSION,
  type Cell,
  type CodeCellOptions,
  type Notebook,
  type NotebookMetadata,
  type PersistedOutput,
  type Section,
  assertNever,
  newId,
} from "../notebook.ts";
import { MarkdownFenceTracker, isBlank } from "./lines.ts";

/** LF line ends only (CRLF and lone CR become LF) and no NUL (it becomes U+FFFD). */
export function normalizeText(text: string): string {
  let out = text;
  if (out.includes("\r")) out = out.replace(/\r\n?/g, "\n");
  if (out.includes("\u0000")) out = out.replaceAll("\u0000", "\uFFFD");
  return out;
}

/** A heading's text: one line, trimmed. */
export function normalizeHeading(text: string): string {
  return normalizeText(text).replaceAll("\n", " ").trim();
}

/** Plain JSON (what JSON.stringify + JSON.parse give back); undefined becomes null. */
export function jsonClone(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

function jsonObject(value: unknown): Record<string, unknown> {
  const clone = jsonClone(value);
  return clone !== null && typeof clone === "object" && !Array.isArray(clone)
    ? (clone as Record<string, unknown>)
    : {};
}

/**
 * A Markdown cell's source as saved: LF line ends, no leading or trailing blank lines, and a
 * fenced block left open at the end is closed. "" means the cell is not saved at all.
 */
export function normalizeMarkdownSource(source: string): string {
  const lines = normalizeText(source).split("\n");
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  const kept = lines.slice(start, end);
  const tracker = new MarkdownFenceTracker();
  for (const line of kept) tracker.feed(line);
  if (tracker.open) kept.push(tracker.closer());
  return kept.join("\n");
}

/** Notebook metadata as saved: current version, default-valued keys dropped, plain JSON. */
export function normalizeMetadata(metadata: NotebookMetadata): NotebookMetadata {
  const { version: _version, ...rest } = jsonObject(metadata);
  const out: NotebookMetadata = { version: FORMAT_VERSION, ...rest };
  if (out.persistOutputs === false) delete out.persistOutputs;
  return out;
}

function normalizeOptions(options: CodeCellOptions | undefined): CodeCellOptions | undefined {
  if (options === undefined) return undefined;
  const out = jsonObject(options) as CodeCellOptions;
  if (out.autoRun === false) delete out.autoRun;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Text without the newlines at its end. */
export function trimFinalNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** A text output as saved: LF line ends, no NUL, no newlines at the end. */
export function normalizeOutput(output: PersistedOutput): PersistedOutput {
  switch (output.type) {
    case "text":
      return { type: "text", text: trimFinalNewlines(normalizeText(output.text)) };
    case "vega-lite":
      return { type: "vega-lite", spec: jsonClone(output.spec) };
    case "markdown":
      return { type: "markdown", text: trimFinalNewlines(normalizeText(output.text)) };
    case "table":
      return {
        type: "table",
        columns: output.columns.map((c) => normalizeText(c)),
        rows: output.rows.map((r) => jsonClone(r) as unknown[]),
        ...(output.offset ? { offset: output.offset } : {}),
        totalRows: output.totalRows,
      };
    default:
      return assertNever(output, "persisted output");
  }
}

function normalizeOutputs(
  outputs: PersistedOutput[] | undefined,
  persist: boolean,
): PersistedOutput[] | undefined {
  if (!persist || outputs === undefined || outputs.length === 0) return undefined;
  return outputs.map(normalizeOutput);
}

/** A cell as saved, or null when it is not saved (an empty Markdown cell). */
export function normalizeCell(cell: Cell, persistOutputs: boolean): Cell | null {
  switch (cell.type) {
    case "markdown": {
      const source = normalizeMarkdownSource(cell.source);
      return source === "" ? null : { type: "markdown", id: cell.id, source };
    }
    case "code": {
      const out: Cell = { type: "code", id: cell.id, source: normalizeText(cell.source) };
      const options = normalizeOptions(cell.options);
      if (options) out.options = options;
      const outputs = normalizeOutputs(cell.outputs, persistOutputs);
      if (outputs) out.outputs = outputs;
      return out;
    }
    case "smart": {
      const out: Cell = {
        type: "smart",
        id: cell.id,
        kind: cell.kind,
        attrs: jsonObject(cell.attrs),
        source: normalizeText(cell.source),
      };
      // Unlike a code cell's, a smart cell's `autoRun: false` is not the default (it overrides the smart cell's own).
      if (cell.options && Object.keys(cell.options).length > 0)
        out.options = jsonObject(cell.options);
      const outputs = normalizeOutputs(cell.outputs, persistOutputs);
      if (outputs) out.outputs = outputs;
      return out;
    }
    default:
      return assertNever(cell, "cell");
  }
}

/** The notebook as a save-and-reload gives it back (ids kept). See docs/format.md. */
export function normalizeNotebook(notebook: Notebook): Notebook {
  const metadata = normalizeMetadata(notebook.metadata);
  const persist = metadata.persistOutputs === true;
  const sections: Section[] = notebook.sections.map((s) => ({
    id: s.id,
    title: normalizeHeading(s.title),
    cells: s.cells.map((c) => normalizeCell(c, persist)).filter((c): c is Cell => c !== null),
  }));
  if (sections.length === 0) sections.push({ id: newId("s"), title: "", cells: [] });
  return { title: normalizeHeading(notebook.title), metadata, sections };
}
