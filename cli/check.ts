/**
 * `tsnb check FILE...` (and `tsnb run --check`): TypeScript's diagnostics for every code and
 * smart cell of each notebook, as the editor reports them (kernel/typecheck.ts), printed as
 * `FILE.tsnb:LINE:COL: error TS2322: message` with the line and a caret, without running
 * anything.
 *
 * Exit status: 0 no errors (warnings are printed and do not fail), 1 an error in some notebook,
 * 2 a file cannot be read or parsed.
 */

import { allCells, isEvaluable } from "../core/notebook.ts";
import { fileLocation } from "../core/format/diagnostics.ts";
import { checkCells, type CellDiagnostic } from "../kernel/typecheck.ts";
import { readNotebookFile } from "./notebook-file.ts";

const USAGE = "usage: tsnb check FILE.tsnb...\n";

/** The `check` subcommand; returns the exit status. */
export async function check(args: string[]): Promise<number> {
  const files: string[] = [];
  for (const a of args) {
    if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a.startsWith("-")) {
      process.stderr.write(`tsnb check: unknown option '${a}'\n${USAGE}`);
      return 2;
    }
    files.push(a);
  }
  if (files.length === 0) {
    process.stderr.write(`tsnb check: expected a notebook file\n${USAGE}`);
    return 2;
  }
  let status = 0;
  let errors = 0;
  let failing = 0;
  for (const file of files) {
    const result = await checkNotebook(file, "tsnb check");
    if (result === null) {
      status = 2;
      continue;
    }
    errors += result.errors;
    if (result.errors > 0) failing++;
  }
  if (errors > 0) {
    process.stderr.write(
      `Found ${errors} error${errors === 1 ? "" : "s"} in ${failing} notebook${failing === 1 ? "" : "s"}.\n`,
    );
  }
  return status === 2 ? 2 : errors > 0 ? 1 : 0;
}

/**
 * Check one notebook, printing its diagnostics on stderr; the number of errors, or null when
 * the file cannot be read (the reason printed after `prefix: `).
 */
export async function checkNotebook(
  file: string,
  prefix: string,
): Promise<{ errors: number } | null> {
  const opened = readNotebookFile(file);
  if (!opened.ok) {
    process.stderr.write(`${prefix}: ${opened.error}\n`);
    return null;
  }
  const cells = allCells(opened.notebook)
    .filter(isEvaluable)
    .map((c) => ({ id: c.id, source: c.source }));
  const diagnostics = await checkCells(cells);
  for (const d of diagnostics) {
    process.stderr.write(formatCellDiagnostic(file, opened.cellLines, cells, d) + "\n");
  }
  return { errors: diagnostics.filter((d) => d.severity === "error").length };
}

/**
 * `FILE:LINE:COL: error TS2322: message`, then the cell's line and a caret under the column. A
 * file without line positions for its cells (an .ipynb: cells are JSON strings) says
 * `FILE:cell N:LINE:COL`, the line in the cell.
 */
export function formatCellDiagnostic(
  file: string,
  cellLines: Record<string, number>,
  cells: readonly { id: string; source: string }[],
  d: CellDiagnostic,
): string {
  const index = cells.findIndex((c) => c.id === d.cellId);
  const source = cells[index]?.source ?? "";
  const inFile = fileLocation(cellLines, d.cellId, d.line, d.column);
  const where = inFile
    ? `${file}:${inFile.line}:${inFile.column}`
    : `${file}:cell ${index + 1}:${d.line}:${d.column}`;
  const at = inFile ?? { line: d.line, column: d.column };
  const [first, ...rest] = d.message.split("\n");
  const out = [`${where}: ${d.severity} TS${d.code}: ${first}`];
  for (const line of rest) out.push(`  ${line}`);
  const text = source.split("\n")[d.line - 1];
  if (text !== undefined && text.trim() !== "") {
    const gutter = `${at.line} | `;
    out.push(`${gutter}${text}`);
    out.push(`${" ".repeat(gutter.length + d.column - 1)}^`);
  }
  return out.join("\n");
}
