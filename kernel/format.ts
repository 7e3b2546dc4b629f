/**
 * Turns JavaScript values into outputs (core/outputs.ts): the display protocol, tables for
 * arrays of records, an inspector tree (`value`) for everything else, and a util.inspect text
 * for terminals. Also keeps the tables the kernel has shown so later pages can be served.
 *
 * Display protocol: a value with a `[Symbol.for("tsnb.display")]()` method (sync or async)
 * returning an Output is shown as that output (tensors, charts, custom classes).
 *
 * Invariants: every output produced here is plain JSON; previews are bounded (depth 3, 100
 * entries per level, 50 table rows per page), whatever the size of the value.
 */

import { inspect } from "node:util";
import type { Output, TableOutput, ValuePreview } from "../core/outputs.ts";
import { checkOutput } from "../core/kernel-protocol.ts";
import { mapStack } from "./stack.ts";

export const DISPLAY = Symbol.for("tsnb.display");
const MAX_DEPTH = 3;
const MAX_ENTRIES = 100;
export const TABLE_PAGE = 50;
const MAX_TABLES = 200;

interface StoredTable {
  rows: Record<string, unknown>[];
  columns: string[];
  evalId: string;
  cellId: string;
}

const tables = new Map<string, StoredTable>();
let tableCounter = 0;

/** The text a REPL would print for a value. */
export function inspectText(value: unknown): string {
  return withMappedStacks(
    inspect(value, {
      colors: false,
      depth: 2,
      maxArrayLength: 100,
      maxStringLength: 10_000,
      breakLength: 100,
    }),
  );
}

/** Error values print their stacks: point cell frames at the notebook, drop the kernel's. */
function withMappedStacks(text: string): string {
  return text.includes("tsnbcell:///") ? mapStack(text) : text;
}

/** Whether a value is an array of plain records (`[{a: 1}, {a: 2}]`): shown as a table. */
export function isRecordArray(value: unknown): value is Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  for (const row of value) {
    if (typeof row !== "object" || row === null || Array.isArray(row)) return false;
    const proto = Object.getPrototypeOf(row);
    if (proto !== Object.prototype && proto !== null) return false;
  }
  return true;
}

/** The output for a value (the cell's result, or `display(value)`). */
export async function toOutput(
  value: unknown,
  ctx: { evalId: string; cellId: string },
): Promise<Output> {
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const method = (value as Record<symbol, unknown>)[DISPLAY];
    if (typeof method === "function") {
      const out = await (method as () => unknown).call(value);
      return checkOutput(out, "display protocol result");
    }
  }
  if (isRecordArray(value)) return tableOutput(value, ctx);
  try {
    return { type: "value", preview: preview(value, 0) };
  } catch (err) {
    // A revoked Proxy, a throwing ownKeys trap: show what util.inspect can.
    let text: string;
    try {
      text = inspect(value, { depth: 0 });
    } catch {
      text = `[value that cannot be inspected: ${String(err)}]`;
    }
    return { type: "value", preview: { kind: "primitive", text, jsType: typeof value } };
  }
}

function tableOutput(
  rows: Record<string, unknown>[],
  ctx: { evalId: string; cellId: string },
): TableOutput {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows.slice(0, 10_000)) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key);
        columns.push(key);
      }
    }
  }
  const id = `table-${process.pid}-${++tableCounter}`;
  tables.set(id, { rows, columns, ...ctx });
  if (tables.size > MAX_TABLES) tables.delete(tables.keys().next().value!);
  return {
    type: "table",
    id,
    columns,
    rows: tablePage(rows, columns, 0, TABLE_PAGE),
    offset: 0,
    totalRows: rows.length,
  };
}

function tablePage(
  rows: Record<string, unknown>[],
  columns: string[],
  offset: number,
  limit: number,
): unknown[][] {
  return rows.slice(offset, offset + limit).map((row) => columns.map((c) => tableCell(row[c])));
}

function tableCell(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return `${v}n`;
  return inspect(v, { depth: 1, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 });
}

/** A page of a table shown earlier, or null when the kernel no longer has it. */
export function tablePageFor(
  tableId: string,
  offset: number,
  limit: number,
  sort?: { column: string; descending: boolean },
): { rows: unknown[][]; evalId: string; cellId: string } | null {
  const t = tables.get(tableId);
  if (!t) return null;
  const lim = Math.max(0, Math.min(1000, Math.floor(limit)));
  const rows = sort && t.columns.includes(sort.column) ? sortedRows(t, sort) : t.rows;
  return {
    rows: tablePage(rows, t.columns, Math.max(0, Math.floor(offset)), lim),
    evalId: t.evalId,
    cellId: t.cellId,
  };
}

/** The table's rows ordered by one column (cached per table for the last order asked). */
const sortCache = new WeakMap<object, { key: string; rows: Record<string, unknown>[] }>();
function sortedRows(
  t: { rows: Record<string, unknown>[] },
  sort: { column: string; descending: boolean },
): Record<string, unknown>[] {
  const key = `${sort.descending ? "-" : "+"}${sort.column}`;
  const cached = sortCache.get(t);
  if (cached?.key === key) return cached.rows;
  const dir = sort.descending ? -1 : 1;
  // Stable; empty cells last in either direction; numbers before text; text by locale.
  const rows = t.rows
    .map((row, i) => ({ row, i, v: tableCell(row[sort.column]) }))
    .sort((a, b) => {
      const an = a.v === null;
      const bn = b.v === null;
      if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
      const c = compareCells(a.v, b.v);
      return c !== 0 ? c * dir : a.i - b.i;
    })
    .map((x) => x.row);
  sortCache.set(t, { key, rows });
  return rows;
}

function compareCells(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** A bounded inspector tree of a value. */
export function preview(value: unknown, depth: number): ValuePreview {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) {
    return {
      kind: "primitive",
      text: inspect(value, { maxStringLength: 10_000 }),
      jsType: value === null ? "null" : typeof value,
    };
  }
  if (typeof value === "function") {
    return { kind: "primitive", text: inspect(value), jsType: "function" };
  }
  if (
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof Error ||
    value instanceof Promise ||
    value instanceof WeakMap ||
    value instanceof WeakSet ||
    depth >= MAX_DEPTH
  ) {
    return {
      kind: "primitive",
      text: withMappedStacks(inspect(value, { depth: 0, breakLength: Infinity })),
      jsType: "object",
    };
  }
  const entries: Array<{ key: string; value: ValuePreview }> = [];
  let total = 0;
  let label: string;
  const push = (key: string, v: () => unknown) => {
    total++;
    if (entries.length < MAX_ENTRIES) {
      let p: ValuePreview;
      try {
        p = preview(v(), depth + 1);
      } catch (err) {
        p = { kind: "primitive", text: `[Thrown: ${String(err)}]`, jsType: "undefined" };
      }
      entries.push({ key, value: p });
    }
  };
  if (Array.isArray(value)) {
    label = `Array(${value.length})`;
    for (let i = 0; i < value.length; i++) {
      if (entries.length >= MAX_ENTRIES) {
        total = value.length;
        break;
      }
      push(String(i), () => value[i]);
    }
  } else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as unknown as ArrayLike<unknown>;
    label = `${value.constructor.name}(${arr.length})`;
    for (let i = 0; i < Math.min(arr.length, MAX_ENTRIES); i++) push(String(i), () => arr[i]);
    total = arr.length;
  } else if (value instanceof Map) {
    label = `Map(${value.size})`;
    for (const [k, v] of value) {
      if (entries.length >= MAX_ENTRIES) break;
      push(inspect(k, { depth: 0, breakLength: Infinity }), () => v);
    }
    total = value.size;
  } else if (value instanceof Set) {
    label = `Set(${value.size})`;
    let i = 0;
    for (const v of value) {
      if (entries.length >= MAX_ENTRIES) break;
      push(String(i++), () => v);
    }
    total = value.size;
  } else {
    const proto = Object.getPrototypeOf(value);
    const ctorName = proto && typeof proto.constructor === "function" ? proto.constructor.name : "";
    label = proto === null ? "[Object: null prototype]" : ctorName || "Object";
    for (const key of Object.keys(value)) {
      push(key, () => (value as Record<string, unknown>)[key]);
    }
  }
  return { kind: "object", label, entries, more: Math.max(0, total - entries.length) };
}
