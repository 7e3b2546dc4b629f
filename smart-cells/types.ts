/**
 * What a smart cell is (Kino.SmartCell's contract, in TypeScript): a typed definition holding
 * data and pure functions only — the attrs schema with its version and migrations, default
 * attrs drawn from the binding scan, `toSource(attrs)` returning the generated code as chunks,
 * and the form declared as data. The server regenerates code from it, the renderer draws the
 * form with one generic form renderer, the kernel's binding scan feeds `ScanContext`.
 * No Node or DOM here.
 */
import type { BindingInfo, BindingKind } from "../core/bindings.ts";
import type { ModelFile } from "../core/onnx-info.ts";
import type { Schema } from "./schema.ts";

/** Attrs are plain JSON objects; every definition's attrs carry their schema `version`. */
export type Attrs = Record<string, unknown> & { version: number };

/** What the binding scan found (the bindings a form can offer). */
export interface ScanContext {
  bindings: readonly BindingInfo[];
  /** `.onnx` models the server found under the notebook's folder and in installed packages. */
  files?: readonly ModelFile[];
}

export interface Option {
  value: string;
  label: string;
}

/** What a dynamic part of a form sees: the whole attrs, the group item it is in (or null), the scan. */
export interface FieldContext<A = Attrs> {
  attrs: A;
  item: Record<string, unknown> | null;
  scan: ScanContext;
}

type Dyn<T, A> = T | ((ctx: FieldContext<A>) => T);

interface FieldBase<A> {
  /** Shown next to the control and used as its accessible name (inside groups: "Layer 2: X field"). */
  label: string;
  /** Shown only when this holds (e.g. scale options only for quantitative fields). */
  showIf?: (ctx: FieldContext<A>) => boolean;
  /** A short help text (the control's title). */
  help?: string;
}

/** A form control bound to the attr at `key` (a dotted path inside the attrs or the group item). */
export type FormField<A = Attrs> =
  | (FieldBase<A> & {
      type: "select";
      key: string;
      options: Dyn<readonly Option[], A>;
      /** Label of the "nothing chosen" choice (the attr becomes null); omitted: a value is required. */
      empty?: string;
    })
  | (FieldBase<A> & { type: "text"; key: string; placeholder?: string })
  | (FieldBase<A> & {
      type: "number";
      key: string;
      min?: number;
      max?: number;
      step?: number;
      /** Placeholder when empty (the attr becomes null); omitted: a value is required. */
      empty?: string;
    })
  | (FieldBase<A> & { type: "checkbox"; key: string })
  /** A list of items edited with the same fields (chart layers, dense layers): add, remove, reorder. */
  | (FieldBase<A> & {
      type: "group";
      key: string;
      /** Each item's heading, numbered: "Layer 1", "Layer 2". */
      itemLabel: string;
      fields: readonly FormField<A>[];
      newItem: (ctx: FieldContext<A>) => Record<string, unknown>;
      min?: number;
      max?: number;
      /** The items follow from other attrs (a model's inputs): no add, remove or reorder. */
      fixed?: boolean;
      /** Each item's heading instead of "itemLabel N" (e.g. the input's name). */
      itemTitle?: (item: Record<string, unknown>, index: number) => string;
    })
  /** Fields shown side by side (layout only). */
  | { type: "row"; fields: readonly FormField<A>[]; showIf?: (ctx: FieldContext<A>) => boolean }
  /** Read-only information (e.g. a model's inputs and outputs) as a small table or a line of text. */
  | (FieldBase<A> & {
      type: "info";
      content: (ctx: FieldContext<A>) => { columns: string[]; rows: string[][] } | string | null;
    });

export interface SmartCellDefinition<A extends Attrs = Attrs> {
  /** The `kind` saved in the file, e.g. "chart". */
  kind: string;
  /** Shown in the insert menu and the cell's header. */
  name: string;
  description: string;
  /** Version of the attrs schema; attrs with a lower `version` are migrated. */
  version: number;
  /** Attrs of versions below `version` brought up to date, one step at a time: `migrate[v]` takes version v to v + 1. */
  migrate?: Readonly<Record<number, (attrs: Record<string, unknown>) => Record<string, unknown>>>;
  /** The shape of attrs at `version` (checked after migration; missing keys take defaults). */
  schema: Schema;
  /** Which kinds of bindings the form offers. */
  scan: readonly BindingKind[];
  /** "Reevaluate automatically" when the attrs change, until the user turns it off. */
  autoRun: boolean;
  /** The attrs of a new cell, drawn from the scan (Livebook: the first data binding and its first fields). */
  defaultAttrs(scan: ScanContext): A;
  /** After the user changed the attr at `path`: attrs that follow from it (a new data binding picks its fields). */
  onChange?(attrs: A, path: readonly (string | number)[], scan: ScanContext, previous: A): A;
  /**
   * The bindings the attrs draw on (e.g. a chart's data). A cell that never ran reevaluates
   * automatically only when this is given and every name is defined by a cell that ran.
   */
  uses?(attrs: A): string[];
  /** The generated code, one string per chunk (pure, deterministic); [] when the form is not filled in enough. */
  toSource(attrs: A): string[];
  form: readonly FormField<A>[];
}

/** A definition with its attrs type erased, as the registry holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySmartCellDefinition = SmartCellDefinition<any>;
