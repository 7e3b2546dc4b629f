/**
 * The saved notebook document: what a `.tsnb` file holds.
 *
 * Owns: the shape of a notebook (title → sections → cells) and the outputs that a
 * notebook may persist. Nothing here is session state (evaluation status, validity,
 * live outputs): that lives in the session data next to the reducer. No Node or DOM
 * imports: every process (renderer, server, kernel, CLI) uses this module.
 *
 * Invariants: cell ids are unique within a notebook; a notebook has at least one
 * section (a file with no `## ` heading has one untitled section).
 */

/** Notebook-level settings, written to the file only when they differ from the defaults. */
export interface NotebookMetadata {
  /** Format version of the `.tsnb` file this notebook was read from / will be written as. */
  version: number;
  /** When true, outputs are saved with the notebook (text as `output` fences, charts as `vega-lite` fences). */
  persistOutputs?: boolean;
  /**
   * Characters of console text each cell keeps (docs/kernel.md "Output limit"); the oldest lines
   * beyond it are dropped behind a marker. Absent: `DEFAULT_OUTPUT_LIMIT` (1,000,000).
   */
  outputLimit?: number;
  /**
   * npm packages the notebook's `npm:` imports resolved, name → exact version (docs/sharing.md):
   * the next run, on any machine, installs and uses these versions while they satisfy the imports'
   * ranges. Written by the app and `tsnb run --write` when a cell resolves a new one.
   */
  dependencies?: Record<string, string>;
  /** Free-form metadata a future version or another tool wrote; kept so it round-trips. */
  [key: string]: unknown;
}

export const FORMAT_VERSION = 1;

export interface Notebook {
  /** The `# ` heading; "Untitled notebook" when the file has none. */
  title: string;
  metadata: NotebookMetadata;
  /** Markdown before the first section heading (after the title) lives in the first section. */
  sections: Section[];
}

export interface Section {
  id: string;
  /** The `## ` heading text; "" for the implicit first section of a file without one. */
  title: string;
  cells: Cell[];
}

export type Cell = MarkdownCell | CodeCell | SmartCell;

export interface MarkdownCell {
  type: "markdown";
  id: string;
  source: string;
}

/** Per-cell settings written to the file only when they differ from the defaults. */
export interface CodeCellOptions {
  /** Re-run automatically when a cell it depends on is re-evaluated (Livebook's "reevaluate automatically"). */
  autoRun?: boolean;
  /** Options a newer tsnb wrote; kept so they round-trip. */
  [key: string]: unknown;
}

export interface CodeCell {
  type: "code";
  id: string;
  /** TypeScript source. */
  source: string;
  options?: CodeCellOptions;
  /** Outputs saved with the notebook (only when `metadata.persistOutputs`). */
  outputs?: PersistedOutput[];
}

/** A form whose `attrs` generate ordinary TypeScript; `source` is the generated code, saved and run as is. */
export interface SmartCell {
  type: "smart";
  id: string;
  /** Which smart-cell definition owns the attrs, e.g. "chart", "onnx-model", "train". */
  kind: string;
  /** Plain JSON state of the form. */
  attrs: Record<string, unknown>;
  /** The generated code (what runs, and what "convert to code" keeps). */
  source: string;
  /**
   * `autoRun`: "reevaluate automatically" — when the attrs change and when a cell it depends on
   * is re-evaluated; absent: the smart cell's own default (`SMART_AUTO_RUN_KINDS`).
   */
  options?: CodeCellOptions;
  outputs?: PersistedOutput[];
}

/**
 * Smart cell kinds that reevaluate automatically unless the cell turns it off: the definitions
 * whose `autoRun` is true (smart-cells/; a test keeps the two equal). Held here because the
 * reducer, which queues them, does not import the smart-cell definitions.
 */
export const SMART_AUTO_RUN_KINDS: ReadonlySet<string> = new Set(["chart"]);

/** Whether a cell reevaluates automatically: its option, else (smart cells) its kind's default. */
export function reevaluatesAutomatically(cell: Cell): boolean {
  if (cell.type === "markdown") return false;
  const own = cell.options?.autoRun;
  if (typeof own === "boolean") return own;
  return cell.type === "smart" && SMART_AUTO_RUN_KINDS.has(cell.kind);
}

/** What a notebook can keep of a cell's outputs in the file. */
export type PersistedOutput =
  /** Terminal text, saved as an `output` fence; newlines at its end are not kept (docs/format.md). */
  | { type: "text"; text: string }
  /** A Vega-Lite chart's spec (with the data pushed to it), saved as a `vega-lite` fence. */
  | { type: "vega-lite"; spec: unknown }
  /** A Markdown output, saved as an `output markdown` fence; newlines at its end are not kept. */
  | { type: "markdown"; text: string }
  /**
   * The rows of a table that were shown (its first page) and how many it had, saved as an
   * `output table` fence of JSON lines.
   */
  | { type: "table"; columns: string[]; rows: unknown[][]; offset?: number; totalRows: number };

/** Cells that run code (a code cell or a smart cell's generated code). */
export type EvaluableCell = CodeCell | SmartCell;

export function isEvaluable(cell: Cell): cell is EvaluableCell {
  return cell.type === "code" || cell.type === "smart";
}

/** All cells in document order. */
export function allCells(notebook: Notebook): Cell[] {
  return notebook.sections.flatMap((s) => s.cells);
}

/** Locate a cell by id: its section index and index within the section, or null. */
export function findCell(
  notebook: Notebook,
  cellId: string,
): { sectionIndex: number; cellIndex: number; cell: Cell } | null {
  for (let sectionIndex = 0; sectionIndex < notebook.sections.length; sectionIndex++) {
    const section = notebook.sections[sectionIndex]!;
    const cellIndex = section.cells.findIndex((c) => c.id === cellId);
    if (cellIndex >= 0) return { sectionIndex, cellIndex, cell: section.cells[cellIndex]! };
  }
  return null;
}

let idCounter = 0;
/** A short id unique within this process, e.g. for new cells; random part avoids clashes across processes. */
export function newId(prefix = "c"): string {
  idCounter = (idCounter + 1) % 1_000_000;
  const rand = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, "0");
  return `${prefix}${rand}${idCounter.toString(36)}`;
}

/** An empty notebook with one untitled section and one empty code cell. */
export function emptyNotebook(title = "Untitled notebook"): Notebook {
  return {
    title,
    metadata: { version: FORMAT_VERSION },
    sections: [{ id: newId("s"), title: "", cells: [{ type: "code", id: newId(), source: "" }] }],
  };
}

/** The recorded npm versions of a notebook (only well-formed entries: name → version string). */
export function notebookDependencies(metadata: NotebookMetadata): Record<string, string> {
  const deps = metadata.dependencies as unknown;
  const out: Record<string, string> = {};
  if (deps && typeof deps === "object" && !Array.isArray(deps))
    for (const [name, version] of Object.entries(deps as Record<string, unknown>))
      if (typeof version === "string") out[name] = version;
  return out;
}

/**
 * The metadata with `resolved` versions recorded (sorted by name, so the file diffs well); the
 * same object when nothing changes.
 */
export function withDependencies(
  metadata: NotebookMetadata,
  resolved: Record<string, string>,
): NotebookMetadata {
  const current = notebookDependencies(metadata);
  if (Object.entries(resolved).every(([n, v]) => current[n] === v)) return metadata;
  const merged = { ...current, ...resolved };
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(merged).sort()) sorted[name] = merged[name]!;
  return { ...metadata, dependencies: sorted };
}

/** Called in the `default` branch of an exhaustive switch over a discriminated union. */
export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
