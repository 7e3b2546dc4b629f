/**
 * Maps stack frames of evaluated cells back to the notebook file.
 *
 * Each evaluation's JavaScript ends with `//# sourceURL=tsnbcell:///<seq>`, so V8 names its
 * frames `tsnbcell:///<seq>:LINE:COL`. The registry keeps, per seq, esbuild's source map and
 * where the cell starts in the file; `mapStack` rewrites those frames to `FILE:LINE:COL` (1-based,
 * TypeScript positions in the .tsnb file).
 */

import type { TraceMap } from "@jridgewell/trace-mapping";
import { dirname, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type TraceMapping = typeof import("@jridgewell/trace-mapping");
let traceMapping: TraceMapping | null = null;

/** Load the source-map reader (lazily: not needed before the first cell). */
export async function loadSourceMaps(): Promise<void> {
  traceMapping ??= await import("@jridgewell/trace-mapping");
}

export interface CellLocation {
  file: string;
  /** 1-based line of the cell's first source line in `file`. */
  line: number;
  map: string | null;
  /** The notebook cell this code came from (error positions inside the cell). */
  cellId?: string;
}

/** A position mapped back from generated code: in the file, and inside the cell's source. */
export interface MappedPosition {
  file: string;
  line: number;
  column: number;
  /** 1-based line in the cell's own source. */
  cellLine: number;
  cellId?: string;
}

const cells = new Map<number, CellLocation & { trace?: TraceMap | null }>();
const MAX_CELLS = 5000;

export function cellUrl(seq: number): string {
  return `tsnbcell:///${seq}`;
}

export function registerCell(seq: number, loc: CellLocation): void {
  cells.set(seq, { ...loc });
  if (cells.size > MAX_CELLS) cells.delete(cells.keys().next().value!);
}

/**
 * The file position of a generated position (1-based line, 1-based column) in cell `seq`,
 * or null when unknown.
 */
export function mapPosition(seq: number, line: number, column: number): MappedPosition | null {
  const cell = cells.get(seq);
  if (!cell) return null;
  let origLine = line;
  let origCol = column;
  if (cell.map && traceMapping) {
    const { TraceMap, originalPositionFor } = traceMapping;
    if (cell.trace === undefined) {
      try {
        cell.trace = new TraceMap(cell.map);
      } catch {
        cell.trace = null;
      }
    }
    if (cell.trace) {
      const pos = originalPositionFor(cell.trace, { line, column: Math.max(0, column - 1) });
      if (pos.line === null) {
        // Positions in esbuild's helper code map to nothing: keep the line start of the nearest mapping.
        const lineStart = originalPositionFor(cell.trace, { line, column: 0 });
        if (lineStart.line === null) return null;
        origLine = lineStart.line;
        origCol = lineStart.column + 1;
      } else {
        origLine = pos.line;
        origCol = pos.column + 1;
      }
    }
  }
  const p: MappedPosition = {
    file: cell.file,
    line: cell.line + origLine - 1,
    column: origCol,
    cellLine: origLine,
  };
  if (cell.cellId !== undefined) p.cellId = cell.cellId;
  return p;
}

const FRAME = /tsnbcell:\/\/\/(\d+):(\d+):(\d+)/g;
const IS_FRAME = /^\s+at /;

/** Where the kernel bundle and the `tsnb` library bundles live (dist/): their frames are tsnb's. */
const distDir = (() => {
  try {
    return dirname(fileURLToPath(import.meta.url)) + sep;
  } catch {
    return null;
  }
})();

/** Frames of how the kernel ran the cell (its evaluation machinery): never worth showing. */
function isMachinery(line: string): boolean {
  return /kernel\.mjs|node:inspector|node:internal\/inspector/.test(line);
}

/** A frame of tsnb's own bundles, of a package, of Node or of a built-in (`<anonymous>`). */
function isLibraryFrame(line: string): boolean {
  return (
    /\(node:|at node:|\(<anonymous>\)|at <anonymous>$|\(native\)|[\\/]node_modules[\\/]/.test(
      line,
    ) ||
    (distDir !== null && (line.includes(distDir) || line.includes(pathToFileURL(distDir).href)))
  );
}

function mapFrames(line: string): string {
  return line.replace(FRAME, (m, seq: string, l: string, col: string) => {
    const p = mapPosition(Number(seq), Number(l), Number(col));
    return p ? `${p.file}:${p.line}:${p.column}` : m;
  });
}

export interface UserStack {
  /** The message, then the notebook's (and the user's own files') frames; see ErrorOutput.stack. */
  stack: string;
  /** Every frame, mapped, when `stack` left some out. */
  fullStack?: string;
}

/**
 * Rewrite a stack for a user: cell frames become notebook positions (`nb.tsnb:12:5`), the
 * kernel's evaluation machinery is dropped, frames of tsnb's bundles, packages and Node
 * internals are counted instead of shown (kept in `fullStack`), and repeated frames of deep
 * recursion are collapsed. A stack with no frame of the user's own is shown whole.
 */
export function userStack(raw: string): UserStack {
  const lines = raw.split("\n");
  let lastCell = -1;
  lines.forEach((l, i) => {
    if (l.includes("tsnbcell:///")) lastCell = i;
  });
  const full: string[] = [];
  const shown: string[] = [];
  let hidden = 0;
  let own = 0;
  lines.forEach((l, i) => {
    const isFrame = IS_FRAME.test(l);
    if (isFrame && isMachinery(l)) return;
    // Below the last cell frame: how the kernel (through Node) called the cell.
    if (isFrame && lastCell >= 0 && i > lastCell && isLibraryFrame(l)) return;
    const mapped = mapFrames(l);
    full.push(mapped);
    if (isFrame && !l.includes("tsnbcell:///") && isLibraryFrame(l)) hidden++;
    else {
      if (isFrame) own++;
      shown.push(mapped);
    }
  });
  if (own === 0 || hidden === 0) {
    const stack = collapseRepeats(full).join("\n");
    const whole = full.join("\n");
    return whole === stack ? { stack } : { stack, fullStack: whole };
  }
  shown.push(
    `    … ${hidden} library frame${hidden === 1 ? "" : "s"} hidden (tsnb, packages, Node)`,
  );
  return { stack: collapseRepeats(shown).join("\n"), fullStack: full.join("\n") };
}

/** Cell frames of a stack mapped to notebook positions, with the kernel's own frames dropped. */
export function mapStack(stack: string): string {
  return userStack(stack).stack;
}

/**
 * Runs of a repeated block of 1–4 frames (recursion) shown once, then
 * `… the frame above repeated N more times` (as Python's "Previous line repeated").
 */
export function collapseRepeats(lines: string[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    let best: { size: number; reps: number } | null = null;
    if (IS_FRAME.test(lines[i]!)) {
      for (let size = 1; size <= 4; size++) {
        let reps = 1;
        while (
          i + (reps + 1) * size <= lines.length &&
          lines.slice(i, i + size).every((l, j) => l === lines[i + reps * size + j])
        )
          reps++;
        // Collapse when the block comes back at least twice more (three in a row).
        if (reps >= 3 && (!best || reps * size > best.reps * best.size)) best = { size, reps };
      }
    }
    if (!best) {
      out.push(lines[i]!);
      i++;
      continue;
    }
    out.push(...lines.slice(i, i + best.size));
    const what = best.size === 1 ? "the frame above" : `the ${best.size} frames above`;
    out.push(`    … ${what} repeated ${best.reps - 1} more times`);
    i += best.reps * best.size;
  }
  return out;
}

/** The first cell frame of a stack, mapped to the file (and to its cell). */
export function firstCellPosition(stack: string): MappedPosition | null {
  FRAME.lastIndex = 0;
  for (const m of stack.matchAll(FRAME)) {
    const p = mapPosition(Number(m[1]), Number(m[2]), Number(m[3]));
    if (p) return p;
  }
  return null;
}

/**
 * The cell's lines at a notebook position, with a caret under the column (and the line before,
 * for context), numbered as in the file: what a syntax error shows.
 *   20 | const ok = 1;
 *   21 | const bad: number = ;
 *      |                     ^
 */
export function codeExcerpt(
  source: string,
  firstLine: number,
  at: { line: number; column: number },
): string | undefined {
  const lines = source.split("\n");
  const i = at.line - firstLine;
  if (i < 0 || i >= lines.length) return undefined;
  const from = i > 0 && lines[i - 1]!.trim() !== "" ? i - 1 : i;
  const width = String(at.line).length;
  const out: string[] = [];
  for (let j = from; j <= i; j++)
    out.push(`${String(firstLine + j).padStart(width)} | ${lines[j]!.replace(/\t/g, " ")}`);
  out.push(`${" ".repeat(width)} | ${" ".repeat(Math.max(0, at.column - 1))}^`);
  return out.join("\n");
}
