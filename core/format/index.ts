/**
 * The `.tsnb` file format (docs/format.md): import, export, the canonical form, and decoding
 * file bytes. No Node or DOM imports. Import from here, not from the files inside.
 */

export type { FormatDiagnostic, ImportOptions, ImportResult } from "./types.ts";
export { importNotebook, splitLines } from "./import.ts";
export { exportNotebook, exportNotebookWithLines, type ExportResult } from "./export.ts";
export { normalizeNotebook } from "./normalize.ts";
export { decodeNotebookBytes, importNotebookBytes, type DecodeResult } from "./text.ts";
export { fileLocation, formatDiagnostic } from "./diagnostics.ts";
export {
  exportIpynb,
  formatIpynbWarning,
  importIpynb,
  type IpynbExportOptions,
  type IpynbImportOptions,
  type IpynbImportResult,
  type IpynbWarning,
} from "./ipynb.ts";
export {
  NOT_A_NOTEBOOK,
  notebookFileKind,
  openNotebookBytes,
  type NotebookFileKind,
  type OpenedNotebook,
} from "./open.ts";
