/**
 * The public types of the `.tsnb` importer: diagnostics with file lines, and the import result.
 */

import type { Notebook } from "../notebook.ts";

/** A problem found in a file, at a 1-based line of that file. */
export interface FormatDiagnostic {
  message: string;
  /** 1-based line in the file (BOM ignored; CRLF, LF and lone CR each end one line). */
  line: number;
}

export interface ImportOptions {
  /**
   * Smart-cell kinds this program can edit. A smart cell of another kind gives a warning and is
   * kept as is (kind, attrs and code), for the UI to show read-only. Omit to accept every kind.
   */
  knownSmartCellKinds?: string[];
}

export type ImportResult =
  | {
      ok: true;
      notebook: Notebook;
      /** Things that were read leniently (unclosed fence, unknown comment, …); the notebook is usable. */
      warnings: FormatDiagnostic[];
      /**
       * Code/smart cell id → 1-based file line of the first line of its source (the line after
       * its opening fence). Add (line within the cell − 1) to get a line of the file, e.g. for
       * errors reported as `FILE.tsnb:LINE:COL`.
       */
      cellLines: Record<string, number>;
    }
  | {
      ok: false;
      /** The first error; the file must not be loaded (nor overwritten by a failed load). */
      error: FormatDiagnostic;
    };
