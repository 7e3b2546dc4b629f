/**
 * Maps stack frames of evaluated cells back to the notebook file.
 *
 * Each evaluation's JavaScript ends with `//# sourceURL=tsnbcell:///<seq>`, so V8 names its
 * frames `tsnbcell:///<seq>:LINE:COL`. The registry keeps, per seq, esbuild's source map and
 * where the cell starts in the file; `mapStack` rewrites those frames to `FILE:LINE:COL` (1-based,
 * TypeScript positions in the .tsnb file).
 */

import type { TraceMap } from "@jridgewell/trace-mapping";

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

/**
 * Rewrite cell frames of a stack to notebook positions. Frames below the last cell frame that
 * belong to the kernel or Node internals (how the kernel ran the cell) are dropped.
 */
export function mapStack(stack: string): string {
  const lines = stack.split("\n");
  let lastCell = -1;
  lines.forEach((l, i) => {
    if (l.includes("tsnbcell:///")) lastCell = i;
  });
  const out: string[] = [];
  lines.forEach((l, i) => {
    const isFrame = /^\s+at /.test(l);
    if (isFrame && /kernel\.mjs|node:inspector|node:internal\/inspector/.test(l)) return;
    if (
      isFrame &&
      lastCell >= 0 &&
      i > lastCell &&
      /\(node:|at node:|AsyncLocalStorage\.run|\(<anonymous>\)/.test(l)
    )
      return;
    out.push(
      l.replace(FRAME, (m, seq: string, line: string, col: string) => {
        const p = mapPosition(Number(seq), Number(line), Number(col));
        return p ? `${p.file}:${p.line}:${p.column}` : m;
      }),
    );
  });
  return out.join("\n");
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
