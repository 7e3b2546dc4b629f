/**
 * What the server does to a window's operation on a smart cell before the reducer applies it
 * (Livebook's loop: attrs change → source regenerated → applied as one change every window sees):
 *
 * - `insert-cell` of a smart cell and `set-smart-cell-attrs`: the attrs are checked by the smart
 *   cell's schema (refused with the reason otherwise) and the source is computed from them —
 *   whatever source the window sent is replaced. With "reevaluate automatically" on, an attrs
 *   change is followed by `evaluate-cell` when the cell has run, or when every binding its
 *   attrs use (`uses`) is defined by a cell that ran and the kernel is up (Livebook waits for a
 *   first Run).
 * - `convert-smart-cell`: the chunks (one code cell each) are filled in; the first keeps the id.
 * - `set-cell-source` on a smart cell is refused: its code comes from its form (convert it first).
 *
 * Pure: the caller passes the id maker. Imports only `core/`.
 */
import { findCell } from "../core/notebook.ts";
import type { SessionData } from "../core/session/data.ts";
import type { ClientOperation } from "../core/session/operations.ts";
import { checkSmartCell, definitionOf, generate, parseAttrs } from "./index.ts";

export type Prepared = { ok: true; ops: ClientOperation[] } | { ok: false; error: string };

export function prepareSmartCellOp(
  data: SessionData,
  op: ClientOperation,
  newId: () => string,
): Prepared {
  switch (op.type) {
    case "insert-cell": {
      if (op.cellType !== "smart") return { ok: true, ops: [op] };
      const def = definitionOf(op.kind ?? "");
      if (!def) return { ok: false, error: `unknown smart cell kind '${op.kind}'` };
      const parsed = parseAttrs(def, op.attrs ?? def.defaultAttrs({ bindings: [] }));
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const { source } = generate(def, parsed.attrs);
      return { ok: true, ops: [{ ...op, attrs: parsed.attrs, source }] };
    }
    case "set-smart-cell-attrs": {
      const found = findCell(data.notebook, op.cellId);
      if (!found || found.cell.type !== "smart") return { ok: true, ops: [op] }; // the reducer says why
      const def = definitionOf(found.cell.kind);
      if (!def)
        return {
          ok: false,
          error: `unknown smart cell kind '${found.cell.kind}': its attrs cannot change`,
        };
      const parsed = parseAttrs(def, op.attrs);
      if (!parsed.ok) return { ok: false, error: parsed.error };
      const { source } = generate(def, parsed.attrs);
      const ops: ClientOperation[] = [{ ...op, attrs: parsed.attrs, source }];
      // A cell that never ran runs too when what it draws on is in the kernel (defined by a cell
      // that ran, the kernel up): a new chart draws as its fields are picked, no Run to find first.
      const ready = () => {
        const kernelUp = data.kernel.status === "idle" || data.kernel.status === "busy";
        const names = def.uses?.(parsed.attrs) ?? [];
        if (!kernelUp || names.length === 0) return false;
        const defined = new Set(
          Object.values(data.cells).flatMap((c) => (c.evaluationSeq !== null ? c.defines : [])),
        );
        return names.every((n) => defined.has(n));
      };
      const autoRun = found.cell.options?.autoRun ?? def.autoRun;
      const state = data.cells[op.cellId];
      const changed = source !== found.cell.source;
      if (autoRun && changed && state && (state.validity !== "never-evaluated" || ready()))
        ops.push({ type: "evaluate-cell", cellId: op.cellId, clientId: op.clientId, at: op.at });
      return { ok: true, ops };
    }
    case "convert-smart-cell": {
      const found = findCell(data.notebook, op.cellId);
      if (!found || found.cell.type !== "smart") return { ok: true, ops: [op] };
      const check = checkSmartCell(found.cell);
      const sources =
        check.ok && check.matches && check.chunks.length > 1 ? check.chunks : [found.cell.source];
      const chunks = sources.map((source, i) => ({
        cellId: i === 0 ? op.cellId : newId(),
        source,
      }));
      return { ok: true, ops: [{ ...op, chunks }] };
    }
    case "set-cell-source": {
      const found = findCell(data.notebook, op.cellId);
      if (found?.cell.type === "smart")
        return {
          ok: false,
          error: "a smart cell's code is generated from its form: convert it to code to edit it",
        };
      return { ok: true, ops: [op] };
    }
    default:
      return { ok: true, ops: [op] };
  }
}
