/**
 * The smart-cell registry and the functions every process uses on it: reading attrs (version
 * migration + schema), generating code, checking a smart cell as saved (bad attrs, unknown kind,
 * code edited by hand), the attrs a form edit leads to, and the bindings a form can offer.
 *
 * Adding a smart cell is adding one file that exports a `SmartCellDefinition` and listing it in
 * `SMART_CELLS` (docs/smart-cells.md). Pure; imports only `core/`.
 */
import type { BindingInfo } from "../core/bindings.ts";
import { isRecord } from "../core/fields.ts";
import type { SmartCell } from "../core/notebook.ts";
import type { SessionData } from "../core/session/data.ts";
import { chart } from "./chart.ts";
import { onnxModel } from "./onnx.ts";
import { trainCell } from "./train.ts";
import { validate } from "./schema.ts";
import type { AnySmartCellDefinition, Attrs, ScanContext } from "./types.ts";

export type { AnySmartCellDefinition, Attrs, ScanContext, SmartCellDefinition } from "./types.ts";

/** Every smart cell this tsnb knows, in the order of the insert menu. */
export const SMART_CELLS: readonly AnySmartCellDefinition[] = [chart, onnxModel, trainCell];

export const SMART_CELL_KINDS: readonly string[] = SMART_CELLS.map((d) => d.kind);

export function definitionOf(kind: string): AnySmartCellDefinition | null {
  return SMART_CELLS.find((d) => d.kind === kind) ?? null;
}

/** Attrs read from a file or sent by a window, migrated to the definition's version and checked. */
export function parseAttrs(
  def: AnySmartCellDefinition,
  raw: unknown,
): { ok: true; attrs: Attrs } | { ok: false; error: string } {
  if (!isRecord(raw)) return { ok: false, error: "attrs must be an object" };
  let attrs: Record<string, unknown> = raw;
  const version = attrs["version"] === undefined ? 0 : attrs["version"];
  if (typeof version !== "number" || !Number.isInteger(version) || version < 0)
    return {
      ok: false,
      error: `attrs.version must be a whole number; got ${JSON.stringify(version)}`,
    };
  if (version > def.version)
    return {
      ok: false,
      error: `attrs are version ${version}, written by a newer tsnb (this one reads ${def.name} attrs up to version ${def.version})`,
    };
  for (let v = version; v < def.version; v++) {
    const step = def.migrate?.[v];
    if (!step)
      return {
        ok: false,
        error: `attrs of version ${v} cannot be read (no migration to ${v + 1})`,
      };
    try {
      attrs = { ...step(attrs), version: v + 1 };
    } catch (e) {
      return {
        ok: false,
        error: `attrs of version ${v} cannot be migrated: ${(e as Error).message}`,
      };
    }
  }
  const r = validate(def.schema, attrs);
  if (!r.ok) return r;
  return { ok: true, attrs: r.value as Attrs };
}

/** The generated chunks and the cell source they make (chunks separated by a blank line). */
export function generate(
  def: AnySmartCellDefinition,
  attrs: Attrs,
): { chunks: string[]; source: string } {
  const chunks = def.toSource(attrs);
  return { chunks, source: chunks.join("\n\n") };
}

/** What the page shows for a smart cell, and what the server may do with it. */
export type SmartCellCheck =
  | {
      ok: true;
      def: AnySmartCellDefinition;
      attrs: Attrs;
      chunks: string[];
      /** The code the attrs generate. */
      generated: string;
      /** False when the saved code differs from `generated` (edited by hand in a text editor). */
      matches: boolean;
    }
  /** Unknown kind or attrs that fail the schema: the cell is kept read-only with `error`. */
  | { ok: false; def: AnySmartCellDefinition | null; error: string };

export function checkSmartCell(cell: Pick<SmartCell, "kind" | "attrs" | "source">): SmartCellCheck {
  const def = definitionOf(cell.kind);
  if (!def)
    return {
      ok: false,
      def: null,
      error: `Unknown smart cell kind '${cell.kind}': this tsnb knows ${SMART_CELL_KINDS.join(", ")}. The cell and its code are kept as they are.`,
    };
  const parsed = parseAttrs(def, cell.attrs);
  if (!parsed.ok)
    return {
      ok: false,
      def,
      error: `The ${def.name} form cannot be restored: ${parsed.error}. The code is kept as it is.`,
    };
  let gen: { chunks: string[]; source: string };
  try {
    gen = generate(def, parsed.attrs);
  } catch (e) {
    return {
      ok: false,
      def,
      error: `The ${def.name} form cannot generate code: ${(e as Error).message}`,
    };
  }
  return {
    ok: true,
    def,
    attrs: parsed.attrs,
    chunks: gen.chunks,
    generated: gen.source,
    matches: gen.source === cell.source,
  };
}

/** Set the attr at `path` (keys and array indexes) in a copy of `value`. */
export function setIn(value: unknown, path: readonly (string | number)[], next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path;
  if (Array.isArray(value) && typeof head === "number") {
    const copy = value.slice();
    copy[head] = setIn(copy[head], rest, next);
    return copy;
  }
  const base = isRecord(value) ? value : {};
  return { ...base, [head!]: setIn(base[head as string], rest, next) };
}

export function getIn(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === "number") cur = cur[p];
    else if (isRecord(cur)) cur = cur[p as string];
    else return undefined;
  }
  return cur;
}

/** The attrs after the user set the attr at `path` to `value` (with what follows from it). */
export function editAttrs(
  def: AnySmartCellDefinition,
  attrs: Attrs,
  path: readonly (string | number)[],
  value: unknown,
  scan: ScanContext,
): Attrs {
  const next = setIn(attrs, path, value) as Attrs;
  return def.onChange ? def.onChange(next, path, scan, attrs) : next;
}

/**
 * The bindings the kernel described, latest definition of each name first-come by evaluation
 * order (a name redefined by a later evaluation takes its newer description).
 */
export function availableBindings(data: SessionData): BindingInfo[] {
  const evaluated = Object.values(data.cells)
    .filter((s) => s.evaluationSeq !== null)
    .sort((a, b) => a.evaluationSeq! - b.evaluationSeq!);
  const byName = new Map<string, BindingInfo>();
  for (const s of evaluated) {
    for (const name of s.defines) byName.delete(name);
    for (const b of s.bindings) byName.set(b.name, b);
  }
  return [...byName.values()];
}
