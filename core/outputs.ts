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

/**
 * Console text: stdout and stderr in one stream, in the order they were written (docs/kernel.md
 * "Console output"). Consecutive console writes merge into one output; `\r` rewrites are
 * collapsed; the oldest text is dropped beyond the notebook's output limit.
 */
export interface TerminalOutput {
  type: "terminal";
  /** "stderr" when all of `text` was written to stderr, else "stdout". */
  stream: "stdout" | "stderr";
  text: string;
  /**
   * Present when both streams wrote: where stderr's text is in `text`, as [start, end) UTF-16
   * offsets, flat (`[s0, e0, s1, e1, …]`), sorted, non-empty, never touching each other.
   */
  stderr?: number[];
  /**
   * Set once console text of the cell was dropped before this text (the notebook's output limit
   * counts a cell's console text over all its terminal outputs): `chars` dropped from the start
   * of this output's own text, `earlier` the characters of the cell's earlier console outputs
   * that were dropped whole (those outputs were removed), and the limit that did it. Only the
   * cell's first terminal output carries it.
   */
  dropped?: { chars: number; limit: number; earlier?: number };
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

/** Console text kept per cell when the notebook does not set `outputLimit`. */
export const DEFAULT_OUTPUT_LIMIT = 1_000_000;
/** The smallest and largest `outputLimit` a notebook may set (characters). */
export const MIN_OUTPUT_LIMIT = 10_000;
export const MAX_OUTPUT_LIMIT = 50_000_000;

/** Why `value` is not a usable output limit, or null when it is. */
export function outputLimitProblem(value: unknown): string | null {
  if (typeof value !== "number" || !Number.isInteger(value))
    return `the output limit must be a whole number of characters, not ${JSON.stringify(value)}`;
  if (value < MIN_OUTPUT_LIMIT || value > MAX_OUTPUT_LIMIT)
    return `the output limit must be between ${MIN_OUTPUT_LIMIT.toLocaleString("en")} and ${MAX_OUTPUT_LIMIT.toLocaleString("en")} characters, not ${value.toLocaleString("en")}`;
  return null;
}

/** The console text a notebook keeps per cell: its `outputLimit`, else the default. */
export function outputLimitOf(metadata: { outputLimit?: unknown }): number {
  return outputLimitProblem(metadata.outputLimit) === null
    ? (metadata.outputLimit as number)
    : DEFAULT_OUTPUT_LIMIT;
}

/** The stderr ranges of a terminal output ([0, length] when it is all stderr). */
export function stderrRanges(o: TerminalOutput): readonly number[] {
  if (o.stream === "stderr") return o.text.length ? [0, o.text.length] : [];
  return o.stderr ?? [];
}

/** The output's text as runs of one stream, in order (what Jupyter's `stream` outputs are). */
export function terminalChunks(
  o: TerminalOutput,
): Array<{ stream: "stdout" | "stderr"; text: string }> {
  const r = stderrRanges(o);
  const out: Array<{ stream: "stdout" | "stderr"; text: string }> = [];
  let at = 0;
  for (let i = 0; i < r.length; i += 2) {
    const s = r[i]!;
    const e = r[i + 1]!;
    if (s > at) out.push({ stream: "stdout", text: o.text.slice(at, s) });
    out.push({ stream: "stderr", text: o.text.slice(s, e) });
    at = e;
  }
  if (at < o.text.length || out.length === 0)
    out.push({ stream: out.length === 0 ? o.stream : "stdout", text: o.text.slice(at) });
  return out;
}

/** The line saying how much console text was dropped and where the limit is set ("" when none). */
export function droppedMarker(o: TerminalOutput): string {
  if (!o.dropped) return "";
  const chars = o.dropped.chars + (o.dropped.earlier ?? 0);
  return `… ${chars.toLocaleString("en")} earlier characters dropped (this notebook keeps ${o.dropped.limit.toLocaleString("en")} characters of console text per cell: Output limit in the notebook's settings)\n`;
}

/** The text as a terminal shows it in plain text: the dropped-text marker, then the text. */
export function terminalText(o: TerminalOutput): string {
  return droppedMarker(o) + o.text;
}

/**
 * A terminal output of `text` with stderr at `ranges` (normalised: all-stderr text is
 * `stream: "stderr"` with no ranges; `empty` is the stream of empty text).
 */
export function makeTerminal(
  text: string,
  ranges: readonly number[],
  empty: "stdout" | "stderr" = "stdout",
  dropped?: TerminalOutput["dropped"],
): TerminalOutput {
  const o: TerminalOutput =
    text.length === 0
      ? { type: "terminal", stream: empty, text }
      : ranges.length === 2 && ranges[0] === 0 && ranges[1] === text.length
        ? { type: "terminal", stream: "stderr", text }
        : ranges.length === 0
          ? { type: "terminal", stream: "stdout", text }
          : { type: "terminal", stream: "stdout", text, stderr: ranges.slice() };
  if (dropped) o.dropped = dropped;
  return o;
}

/** Append range [s, e) to sorted ranges `into`, joining it to the last one when they touch. */
function pushRange(into: number[], s: number, e: number): void {
  if (e <= s) return;
  if (into.length && into[into.length - 1]! >= s)
    into[into.length - 1] = Math.max(into[into.length - 1]!, e);
  else into.push(s, e);
}

/**
 * Append console text to a cell's outputs: merge into the last output when it is terminal text
 * (either stream: one console, in write order), collapse `\r` rewrites (a progress line updates
 * in place) and keep at most `limit` characters of console text in the cell, summed over all its
 * terminal outputs: beyond it the oldest text goes first, whole lines from the front of the
 * earliest terminal output; an earlier terminal output left with nothing is removed, and the
 * first one kept says how much the cell dropped (`dropped`). Other outputs are never dropped.
 *
 * Cost: proportional to the appended text, the last line before it and the stderr ranges, plus
 * one look at each output of the list (the copy of the list costs as much; a session keeps at
 * most MAX_OUTPUTS_PER_CELL), never to re-scanning the text kept (a cell printing a million lines
 * in batches stays linear).
 */
export function appendTerminal(
  outputs: readonly Output[],
  chunk: TerminalOutput,
  limit: number = DEFAULT_OUTPUT_LIMIT,
): Output[] {
  const next = outputs.slice();
  const last = next[next.length - 1];
  let text: string;
  let ranges: number[];
  let dropped = last?.type === "terminal" ? last.dropped : undefined;
  const chunkRanges = stderrRanges(chunk);
  if (last && last.type === "terminal") {
    const base = last.text;
    const n = base.length;
    const baseRanges = stderrRanges(last);
    // Only the last line before the chunk can change, and only when the chunk holds a `\r` or
    // that line ends with one (earlier lines were collapsed when they were appended; collapsed
    // text holds a `\r` only at its very end).
    if (chunk.text.includes("\r") || base.charCodeAt(n - 1) === 13) {
      const tailStart = base.lastIndexOf("\n") + 1;
      ranges = [];
      const tailRanges: number[] = [];
      for (let i = 0; i < baseRanges.length; i += 2) {
        const s = baseRanges[i]!;
        const e = baseRanges[i + 1]!;
        pushRange(ranges, s, Math.min(e, tailStart));
        pushRange(tailRanges, Math.max(s, tailStart) - tailStart, e - tailStart);
      }
      for (let i = 0; i < chunkRanges.length; i += 2)
        pushRange(tailRanges, chunkRanges[i]! + n - tailStart, chunkRanges[i + 1]! + n - tailStart);
      const tail = collapseWithRanges(base.slice(tailStart) + chunk.text, tailRanges);
      text = base.slice(0, tailStart) + tail.text;
      for (let i = 0; i < tail.ranges.length; i += 2)
        pushRange(ranges, tail.ranges[i]! + tailStart, tail.ranges[i + 1]! + tailStart);
    } else {
      text = base + chunk.text;
      ranges = baseRanges.slice();
      for (let i = 0; i < chunkRanges.length; i += 2)
        pushRange(ranges, chunkRanges[i]! + n, chunkRanges[i + 1]! + n);
    }
    next.pop();
  } else {
    const c = collapseWithRanges(chunk.text, chunkRanges);
    text = c.text;
    ranges = c.ranges;
  }
  // The cell's console text before this output (in its earlier terminal outputs).
  let before = 0;
  if (limit !== Infinity) for (const o of next) if (o.type === "terminal") before += o.text.length;
  let over = before + text.length - limit;
  if (over > 0 && before > 0) {
    // The oldest text goes first: from the front of the earliest terminal outputs.
    let earlier = 0;
    let i = 0;
    for (; over > 0 && i < next.length; i++) {
      const o = next[i]!;
      if (o.type !== "terminal") continue;
      const start = over < o.text.length ? lineStartFrom(o.text, over) : -1;
      if (start < 0) {
        // Nothing of it is kept: it goes, and what it held is counted by the next one kept.
        earlier += (o.dropped?.chars ?? 0) + (o.dropped?.earlier ?? 0) + o.text.length;
        over -= o.text.length;
        next.splice(i--, 1);
        continue;
      }
      next[i] = dropFront(o, start, earlier, limit);
      earlier = 0;
      over -= start;
    }
    if (earlier > 0) {
      // The next console output kept carries the count: an earlier one, else this one.
      while (i < next.length && next[i]!.type !== "terminal") i++;
      const o = next[i];
      if (o?.type === "terminal") next[i] = dropFront(o, 0, earlier, limit);
      else
        dropped = {
          chars: dropped?.chars ?? 0,
          limit,
          earlier: (dropped?.earlier ?? 0) + earlier,
        };
    }
  }
  if (over > 0) {
    // This output alone is over the limit: its oldest lines go (mid-line when a single line is).
    const start = lineStartFrom(text, over);
    const from = start < 0 ? over : start;
    text = text.slice(from);
    ranges = shiftRanges(ranges, from);
    const earlier = dropped?.earlier;
    dropped = { chars: (dropped?.chars ?? 0) + from, limit };
    if (earlier) dropped.earlier = earlier;
  }
  next.push(makeTerminal(text, ranges, chunk.stream, dropped));
  return next;
}

/** The first line start at or after `at` (`at` itself when a line ends just before it), -1 if none before the end. */
function lineStartFrom(text: string, at: number): number {
  const nl = text.indexOf("\n", at - 1);
  return nl >= 0 && nl + 1 < text.length ? nl + 1 : -1;
}

/** Ranges of a text moved left by `start` characters (what was before it gone). */
function shiftRanges(ranges: readonly number[], start: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < ranges.length; i += 2)
    pushRange(kept, Math.max(0, ranges[i]! - start), ranges[i + 1]! - start);
  return kept;
}

/** A terminal output without its first `start` characters; `earlier` more were dropped before it. */
function dropFront(
  o: TerminalOutput,
  start: number,
  earlier: number,
  limit: number,
): TerminalOutput {
  const text = o.text.slice(start);
  const dropped: TerminalOutput["dropped"] = { chars: (o.dropped?.chars ?? 0) + start, limit };
  const before = (o.dropped?.earlier ?? 0) + earlier;
  if (before > 0) dropped.earlier = before;
  return makeTerminal(text, shiftRanges(stderrRanges(o), start), o.stream, dropped);
}

/** `appendTerminal` of one stream's text. */
export function appendTerminalText(
  outputs: readonly Output[],
  stream: "stdout" | "stderr",
  text: string,
  limit: number = DEFAULT_OUTPUT_LIMIT,
): Output[] {
  return appendTerminal(outputs, { type: "terminal", stream, text }, limit);
}

/** "a\rb\n" → "b\n": within each line, text before the last `\r` (not part of `\r\n`) is overwritten. */
export function collapseCarriageReturns(text: string): string {
  return collapseWithRanges(text, []).text;
}

/**
 * `collapseCarriageReturns`, carrying ranges of the text (stderr's) to the collapsed text. A
 * line's `\r\n` ends it as `\n`; in a finished line only the text after its last `\r` is kept; an
 * unfinished last line that ends with `\r` keeps its last state and one `\r` (the next write
 * replaces it).
 */
export function collapseWithRanges(
  text: string,
  ranges: readonly number[],
): { text: string; ranges: number[] } {
  if (!text.includes("\r")) return { text, ranges: ranges.slice() };
  // The pieces of `text` that are kept, as [start, end) pairs in order.
  const pieces: number[] = [];
  let pos = 0;
  for (;;) {
    const nl = text.indexOf("\n", pos);
    const last = nl < 0;
    let end = last ? text.length : nl;
    if (!last) while (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (last && end > pos && text.charCodeAt(end - 1) === 13) {
      let body = end;
      while (body > pos && text.charCodeAt(body - 1) === 13) body--;
      const j = body > pos ? text.lastIndexOf("\r", body - 1) : -1;
      pushRange(pieces, j >= pos ? j + 1 : pos, body);
      pushRange(pieces, body, body + 1);
    } else {
      const i = end > pos ? text.lastIndexOf("\r", end - 1) : -1;
      pushRange(pieces, i >= pos ? i + 1 : pos, end);
    }
    if (last) break;
    pushRange(pieces, nl, nl + 1);
    pos = nl + 1;
  }
  const parts: string[] = [];
  const out: number[] = [];
  let at = 0; // length of the collapsed text so far
  let r = 0; // index into ranges
  for (let p = 0; p < pieces.length; p += 2) {
    const a = pieces[p]!;
    const b = pieces[p + 1]!;
    parts.push(text.slice(a, b));
    while (r < ranges.length && ranges[r + 1]! <= a) r += 2;
    for (let k = r; k < ranges.length && ranges[k]! < b; k += 2)
      pushRange(out, Math.max(ranges[k]!, a) - a + at, Math.min(ranges[k + 1]!, b) - a + at);
    at += b - a;
  }
  return { text: parts.join(""), ranges: out };
}
