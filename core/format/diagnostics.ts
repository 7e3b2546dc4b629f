/**
 * Turning format diagnostics and cell-relative positions into file positions, for messages
 * like `notebook.tsnb:12:5: …` (CLI, server, kernel error locations).
 */

import type { FormatDiagnostic } from "./types.ts";

/** `FILE:LINE: message`, the form compilers and editors understand. */
export function formatDiagnostic(file: string, diagnostic: FormatDiagnostic): string {
  return `${file}:${diagnostic.line}: ${diagnostic.message}`;
}

/**
 * The file position of a 1-based `line` and `column` inside a code or smart cell's source, from
 * the `cellLines` of `importNotebook` / `exportNotebookWithLines`; null for an unknown cell.
 * Columns are the same in the cell and in the file (cell sources are written unindented).
 */
export function fileLocation(
  cellLines: Record<string, number>,
  cellId: string,
  line: number,
  column: number,
): { line: number; column: number } | null {
  const first = cellLines[cellId];
  return first === undefined ? null : { line: first + line - 1, column };
}
