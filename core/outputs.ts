/**
 * What a cell shows: the tagged union of outputs (DESIGN.md §4), shared by the kernel that
 * produces them, the server that stores them and the renderer that draws them.
 *
 * Invariants: every output is plain JSON (it crosses process boundaries and may be saved);
 * outputs that can change later (`frame`, `vega-lite` with `id`, `progress`, `table`, `input`)
 * carry an `id` unique within the kernel's lifetime, and later `OutputUpdate`s name that id.
 * Volume is bounded where outputs are produced (terminal text is capped and folded, tables send
 * one page, charts keep a window of points).
 */

import type { ControlSpec, InputSpec, InputValue } from "./inputs.ts";

export type { InputSpec, ControlSpec, InputValue } from "./inputs.ts";

export type Output =
  | TerminalOutput
  | MarkdownOutput
  | HtmlOutput
  | ImageOutput
  | VegaLiteOutput
  | TableOutput
  | TensorOutput
  | ValueOutput
  | ErrorOutput
  | FrameOutput
  | ProgressOutput
  | InputOutput
  | ControlOutput
  | LayoutOutput;

/** Console text. Consecutive chunks of one stream are merged; `\r` rewrites are collapsed. */
export interface TerminalOutput {
  type: "terminal";
  stream: "stdout" | "stderr";
  text: string;
}

/** Markdown rendered (and sanitized) by the renderer. */
export interface MarkdownOutput {
  type: "markdown";
  text: string;
}

/** Arbitrary HTML: the renderer shows it only inside a sandboxed iframe. */
export interface HtmlOutput {
  type: "html";
  html: string;
}

export interface ImageOutput {
  type: "image";
  /** e.g. "image/png", "image/svg+xml" (SVG is shown as an <img>, never inlined). */
  mime: string;
  /** base64 data. */
  data: string;
  alt?: string;
}

/** A Vega-Lite spec; when `id` is set, the kernel may push more rows to `dataset` later. */
export interface VegaLiteOutput {
  type: "vega-lite";
  spec: unknown;
  id?: string;
  /** Name of the spec's named dataset that pushed rows go into. */
  dataset?: string;
}

/** A table paged from the kernel: only `rows` (one page) crosses the wire. */
export interface TableOutput {
  type: "table";
  id: string;
  name?: string;
  columns: string[];
  rows: unknown[][];
  /** Index of rows[0] in the whole table. */
  offset: number;
  totalRows: number;
  /** The order the rows are paged in, when the user sorted by a column (absent: as given). */
  sort?: TableSort;
}

/** A table's rows ordered by one column (the kernel sorts the whole table, then pages it). */
export interface TableSort {
  column: string;
  descending: boolean;
}

/** An nx tensor, formatted the way Nx inspects tensors. */
export interface TensorOutput {
  type: "tensor";
  dtype: string;
  shape: number[];
  /** Nested, elided text of the values, e.g. "[[1, 2], [3, 4]]". */
  text: string;
}

/** A JS value as an expandable inspector tree (bounded depth and breadth). */
export interface ValueOutput {
  type: "value";
  preview: ValuePreview;
}

export type ValuePreview =
  | { kind: "primitive"; text: string; jsType: string }
  | {
      kind: "object";
      /** e.g. "Array(3)", "Map(2)", "Object", "Point" */
      label: string;
      entries: Array<{ key: string; value: ValuePreview }>;
      /** How many entries were left out. */
      more: number;
    };

/**
 * A failed evaluation. `location` is in the notebook file when known (1-based line and column:
 * what `tsnb run` prints as FILE:LINE:COL); `cell` is the same place inside the cell's own source
 * (what the page marks in the editor). Both name the first frame in a cell's code, which may be
 * another cell than the one evaluated (a function defined earlier).
 */
export interface ErrorOutput {
  type: "error";
  name: string;
  message: string;
  /**
   * What a user reads: the message, then the notebook's frames (`at f (nb.tsnb:12:5)`). Frames of
   * the tsnb library, packages and Node internals are left out and counted on one line
   * (`… 7 library frames hidden`); repeated frames of deep recursion are collapsed
   * (`… the frame above repeated 180 more times`).
   */
  stack: string;
  /** Every frame (cell frames mapped to the notebook), when `stack` left some out. */
  fullStack?: string;
  location?: { line: number; column: number };
  /** The notebook lines at `location` with a caret under its column (syntax errors). */
  excerpt?: string;
  /**
   * Set when the error did not come out of the cell's own code path but from something it
   * started: "exception" — thrown in a timer, callback or event handler; "rejection" — a promise
   * nobody handled. The kernel reports it to that cell and lives on.
   */
  uncaught?: "exception" | "rejection";
  cell?: ErrorCellLocation;
  /** True when the cell was stopped by the user (interrupt). */
  interrupted?: boolean;
}

/** Where an error is inside a cell: its id, and the 1-based line and column in its source. */
export interface ErrorCellLocation {
  cellId: string;
  line: number;
  column: number;
}

/** A replaceable region (Kino.Frame): updates replace or append to its outputs. */
export interface FrameOutput {
  type: "frame";
  id: string;
  outputs: Output[];
}

export interface ProgressOutput {
  type: "progress";
  id: string;
  /** 0..1, or null when indeterminate. */
  fraction: number | null;
  label: string;
}

/**
 * An input control living in the kernel (core/inputs.ts); a cell reads its current value. `id`
 * is stable across re-runs of the cell that made it; `value` is the kernel's value when the
 * output was made (the session's value wins: `SessionData.inputs`).
 */
export interface InputOutput {
  type: "input";
  id: string;
  input: InputSpec;
  value: InputValue;
}

/** A control (button, form, keyboard) whose events reach the kernel (core/inputs.ts). */
export interface ControlOutput {
  type: "control";
  id: string;
  control: ControlSpec;
}

/** Outputs side by side: a grid of `columns`, or tabs titled by `items[i].title`. */
export interface LayoutOutput {
  type: "layout";
  layout: "grid" | "tabs";
  /** Grid columns (grid only). */
  columns?: number;
  items: Array<{ title?: string; outputs: Output[] }>;
}

/** A change to an output already shown, addressed by its `id`. */
export type OutputUpdate =
  | { type: "frame-replace"; id: string; outputs: Output[] }
  | { type: "frame-append"; id: string; outputs: Output[] }
  | {
      type: "vega-lite-push";
      id: string;
      rows: unknown[];
      /** keep at most this many rows */ window?: number;
    }
  | { type: "progress-set"; id: string; fraction: number | null; label: string }
  | { type: "table-page"; id: string; offset: number; rows: unknown[][]; sort?: TableSort }
  | { type: "input-value"; id: string; value: InputValue };

/** Upper bound of terminal text kept per cell; older text is dropped with a marker. */
export const MAX_TERMINAL_CHARS = 1_000_000;

/**
 * Append console text to a list of outputs: merge into the last terminal output of the same
 * stream, collapse `\r` rewrites (a progress line updates in place), and cap the total size.
 */
export function appendTerminalText(
  outputs: readonly Output[],
  stream: "stdout" | "stderr",
  text: string,
): Output[] {
  const next = outputs.slice();
  const last = next[next.length - 1];
  if (last && last.type === "terminal" && last.stream === stream) {
    next[next.length - 1] = { ...last, text: collapseCarriageReturns(last.text + text) };
  } else {
    next.push({ type: "terminal", stream, text: collapseCarriageReturns(text) });
  }
  const merged = next[next.length - 1] as TerminalOutput;
  if (merged.text.length > MAX_TERMINAL_CHARS) {
    const cut = merged.text.length - MAX_TERMINAL_CHARS;
    const nl = merged.text.indexOf("\n", cut);
    merged.text = "… (earlier output dropped)\n" + merged.text.slice(nl >= 0 ? nl + 1 : cut);
  }
  return next;
}

/** "a\rb\n" → "b\n": within each line, text before the last `\r` (not part of `\r\n`) is overwritten. */
export function collapseCarriageReturns(text: string): string {
  if (!text.includes("\r")) return text;
  return text
    .replace(/\r\n/g, "\n")
    .split("\n")
    .map((line) => {
      const i = line.lastIndexOf("\r");
      // A trailing \r means "the next write replaces this line": keep the line and the \r.
      if (i === line.length - 1) {
        const j = line.lastIndexOf("\r", i - 1);
        return line.slice(j + 1);
      }
      return i >= 0 ? line.slice(i + 1) : line;
    })
    .join("\n");
}
