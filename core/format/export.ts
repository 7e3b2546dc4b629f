/**
 * Notebook model → `.tsnb` text (the canonical form; docs/format.md).
 *
 * Owns: the layout of a saved file. The exporter first normalizes the notebook
 * (`normalizeNotebook`), then writes blocks separated by exactly one blank line: the
 * `tsnb:notebook` comment and the `# ` title, section headings, Markdown cells, code and smart
 * cells (their metadata comment directly above the fence), and persisted outputs.
 *
 * Invariants: the output ends with exactly one "\n", uses LF only, and reads back
 * (`importNotebook`) to `normalizeNotebook(notebook)` apart from ids; exporting that again gives
 * the same bytes. Linear in the size of the notebook.
 */

import { type Cell, type Notebook, type PersistedOutput, assertNever } from "../notebook.ts";
import {
  MarkdownFenceTracker,
  MARKDOWN_OUTPUT_INFO,
  OUTPUT_LANGUAGE,
  TABLE_OUTPUT_INFO,
  VEGA_LITE_LANGUAGE,
  fenceFor,
  isStructuralLine,
  metadataComment,
} from "./lines.ts";
import { normalizeNotebook } from "./normalize.ts";

/** The text of a notebook and where each code/smart cell's source starts in it. */
export interface ExportResult {
  text: string;
  /** Cell id → 1-based line of the first line of the cell's source (the line after its opening fence). */
  cellLines: Record<string, number>;
}

/** The canonical `.tsnb` text of a notebook. */
export function exportNotebook(notebook: Notebook): string {
  return exportNotebookWithLines(notebook).text;
}

/** `exportNotebook`, plus the file line where each code or smart cell's source starts. */
export function exportNotebookWithLines(notebook: Notebook): ExportResult {
  const nb = normalizeNotebook(notebook);
  const persist = nb.metadata.persistOutputs === true;
  const lines: string[] = [];
  const cellLines: Record<string, number> = {};
  /** Start a new block: one blank line after the previous one. */
  const block = (): void => {
    if (lines.length > 0) lines.push("");
  };

  lines.push(metadataComment("notebook", nb.metadata));
  lines.push(nb.title === "" ? "#" : `# ${nb.title}`);

  nb.sections.forEach((section, index) => {
    const needsHeading =
      index > 0 || section.title !== "" || (section.cells.length === 0 && nb.sections.length > 1);
    if (needsHeading) {
      block();
      lines.push(section.title === "" ? "##" : `## ${section.title}`);
    }
    let previous: Cell["type"] | null = null;
    for (const cell of section.cells) {
      switch (cell.type) {
        case "markdown":
          if (previous === "markdown") {
            block();
            lines.push(metadataComment("break"));
          }
          block();
          writeMarkdown(lines, cell.source, persist);
          break;
        case "code": {
          block();
          if (cell.options) lines.push(metadataComment("cell", cell.options));
          cellLines[cell.id] = writeFence(lines, "ts", cell.source);
          if (persist) writeOutputs(lines, cell.outputs, block);
          break;
        }
        case "smart": {
          block();
          const meta: Record<string, unknown> = { kind: cell.kind, attrs: cell.attrs };
          if (cell.options && Object.keys(cell.options).length > 0) meta["options"] = cell.options;
          lines.push(metadataComment("smart-cell", meta));
          cellLines[cell.id] = writeFence(lines, "ts", cell.source);
          if (persist) writeOutputs(lines, cell.outputs, block);
          break;
        }
        default:
          assertNever(cell, "cell");
      }
      previous = cell.type;
    }
  });
  return { text: lines.join("\n") + "\n", cellLines };
}

/** Markdown text, each structural-looking line outside its fences preceded by `tsnb:literal`. */
function writeMarkdown(lines: string[], source: string, persist: boolean): void {
  const tracker = new MarkdownFenceTracker();
  for (const line of source.split("\n")) {
    if (!tracker.open && isStructuralLine(line, persist)) lines.push(metadataComment("literal"));
    tracker.feed(line);
    lines.push(line);
  }
}

/** A fenced block; returns the 1-based line of its first content line. */
function writeFence(lines: string[], info: string, content: string): number {
  const fence = fenceFor(content);
  lines.push(fence + info);
  const first = lines.length + 1;
  if (content !== "") for (const line of content.split("\n")) lines.push(line);
  lines.push(fence);
  return first;
}

function writeOutputs(
  lines: string[],
  outputs: PersistedOutput[] | undefined,
  block: () => void,
): void {
  for (const output of outputs ?? []) {
    block();
    switch (output.type) {
      case "text":
        writeFence(lines, OUTPUT_LANGUAGE, output.text);
        break;
      case "vega-lite":
        writeFence(lines, VEGA_LITE_LANGUAGE, JSON.stringify(output.spec, null, 2));
        break;
      case "markdown":
        writeFence(lines, MARKDOWN_OUTPUT_INFO, output.text);
        break;
      case "table":
        // JSON lines: the header (columns, how many rows the table had), then one row a line.
        writeFence(
          lines,
          TABLE_OUTPUT_INFO,
          [
            JSON.stringify({
              columns: output.columns,
              ...(output.offset ? { offset: output.offset } : {}),
              totalRows: output.totalRows,
            }),
            ...output.rows.map((r) => JSON.stringify(r)),
          ].join("\n"),
        );
        break;
      default:
        assertNever(output, "persisted output");
    }
  }
}
