/**
 * Reading a notebook file of either kind tsnb opens: `.tsnb` (and Markdown) through the `.tsnb`
 * importer, `.ipynb` through the Jupyter importer. The one place that chooses by file name, for
 * the CLI (`run`, `export`, `import`) and the server.
 *
 * Invariants: pure; never throws; warnings and the error are already formatted with the file
 * name (`FILE:LINE: …` for `.tsnb`, `FILE: cell N: …` for `.ipynb`).
 */

import type { Notebook } from "../notebook.ts";
import type { Output } from "../outputs.ts";
import { formatDiagnostic } from "./diagnostics.ts";
import { formatIpynbWarning, importIpynb } from "./ipynb.ts";
import { decodeNotebookBytes, importNotebookBytes } from "./text.ts";
import type { ImportOptions } from "./types.ts";

export type NotebookFileKind = "tsnb" | "ipynb";

export type OpenedNotebook =
  | {
      ok: true;
      kind: NotebookFileKind;
      notebook: Notebook;
      /** Cell id → outputs as the app shows them (`.ipynb` outputs; empty for `.tsnb`, whose outputs are on the cells). */
      outputs: Record<string, Output[]>;
      /** Cell id → 1-based line of the file where the cell's source starts (`.tsnb` only). */
      cellLines: Record<string, number>;
      warnings: string[];
    }
  | { ok: false; kind: NotebookFileKind | null; error: string };

/**
 * `.ipynb` (any case) is a Jupyter notebook; `.tsnb`, `.md` and `.markdown` are read as
 * `.tsnb`/Markdown; any other name is not a notebook tsnb reads (null): `tsnb run package.json`
 * is an error, not a notebook with no cells.
 */
export function notebookFileKind(name: string): NotebookFileKind | null {
  if (/\.ipynb$/i.test(name)) return "ipynb";
  return /\.(tsnb|md|markdown)$/i.test(name) ? "tsnb" : null;
}

/** The message for a file whose name is not one of a notebook (see notebookFileKind). */
export const NOT_A_NOTEBOOK = "not a notebook tsnb reads (.tsnb, .md or .ipynb)";

/** The file's base name without `.ipynb`, as the title of a notebook that has no `# ` heading. */
function baseTitle(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  return base.replace(/\.ipynb$/i, "") || "Untitled notebook";
}

export function openNotebookBytes(
  file: string,
  bytes: Uint8Array,
  options: ImportOptions = {},
): OpenedNotebook {
  const kind = notebookFileKind(file);
  if (kind === null) return { ok: false, kind, error: `${file}: ${NOT_A_NOTEBOOK}` };
  if (kind === "ipynb") {
    const decoded = decodeNotebookBytes(bytes);
    if (!decoded.ok)
      return { ok: false, kind: "ipynb", error: formatDiagnostic(file, decoded.error) };
    const r = importIpynb(decoded.text, { title: baseTitle(file) });
    if (!r.ok) {
      const { line, column, message } = r.error;
      const error =
        line !== undefined ? `${file}:${line}:${column}: ${message}` : `${file}: ${message}`;
      return { ok: false, kind: "ipynb", error };
    }
    return {
      ok: true,
      kind: "ipynb",
      notebook: r.notebook,
      outputs: r.outputs,
      cellLines: {},
      warnings: r.warnings.map((w) => formatIpynbWarning(file, w)),
    };
  }
  const r = importNotebookBytes(bytes, options);
  if (!r.ok) return { ok: false, kind: "tsnb", error: formatDiagnostic(file, r.error) };
  return {
    ok: true,
    kind: "tsnb",
    notebook: r.notebook,
    outputs: {},
    cellLines: r.cellLines,
    warnings: r.warnings.map((w) => formatDiagnostic(file, w)),
  };
}
