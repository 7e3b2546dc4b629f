/**
 * Reading a notebook file for the CLI commands (`import`, `export`): the bytes through
 * `openNotebookBytes` (`.tsnb` or `.ipynb` by name), errors as one line for stderr.
 */

import { readFileSync } from "node:fs";
import { openNotebookBytes, type OpenedNotebook } from "../core/format/index.ts";

/** The notebook in `file`, or an error message (cannot read, cannot parse). */
export function readNotebookFile(
  file: string,
): (OpenedNotebook & { ok: true }) | { ok: false; error: string } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === "ENOENT" ? "no such file" : e.code === "EISDIR" ? "is a directory" : e.message;
    return { ok: false, error: `cannot read ${file}: ${why}` };
  }
  const opened = openNotebookBytes(file, bytes);
  if (opened.ok) return opened;
  // A name that is no notebook's says so itself; the others could not be parsed.
  return { ok: false, error: opened.kind === null ? opened.error : `cannot parse ${opened.error}` };
}
