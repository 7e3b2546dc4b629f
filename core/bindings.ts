/**
 * The binding scan (Livebook's `scan_binding`): after each evaluation the kernel describes the
 * top-level names the cell defined that a smart-cell form can use, as small metadata — never
 * their values. The descriptions travel in `evaluation-finished` (kernel protocol → operation),
 * are kept per cell in the session data, and forms list them (`availableBindings`).
 *
 * Invariants: plain JSON; bounded (at most `MAX_BINDINGS` per evaluation, `MAX_FIELDS` fields
 * per record array, record types inferred from at most `SAMPLE_ROWS` rows). No Node or DOM.
 */
import { isRecord } from "./fields.ts";

/** Vega-Lite's measurement types, inferred for the fields of record arrays. */
export type FieldType = "quantitative" | "nominal" | "ordinal" | "temporal";

export const FIELD_TYPES: readonly FieldType[] = ["quantitative", "nominal", "ordinal", "temporal"];

export const MAX_BINDINGS = 100;
export const MAX_FIELDS = 100;
export const SAMPLE_ROWS = 200;

/** One input or output of an ONNX model: dims are numbers (fixed), names (dynamic, named) or null (dynamic). */
export interface ValueSignature {
  name: string;
  dtype: string;
  dims: Array<number | string | null> | null;
}

export type BindingInfo =
  /** An array of plain records (`[{a: 1, b: "x"}, …]`): chart data, training data. */
  | {
      name: string;
      kind: "records";
      rows: number;
      fields: Array<{ name: string; type: FieldType }>;
    }
  /** An nx tensor. */
  | { name: string; kind: "tensor"; dtype: string; shape: number[] }
  /** A tsnb model (`nn.sequential`, `nn.model`): trainable. */
  | {
      name: string;
      kind: "model";
      /** Number of parameters (0 while the input shape is unknown). */
      params: number;
      built: boolean;
      /** Per-example input and output shapes, when built. */
      inputShape?: number[];
      outputShape?: number[];
    }
  /** A loaded ONNX model (`onnx.load`) with its signature. */
  | {
      name: string;
      kind: "onnx-model";
      source: string;
      inputs: ValueSignature[];
      outputs: ValueSignature[];
      /** The model's `tsnb.*` metadata (labels, features, standardiser), small values only. */
      metadata?: Record<string, string>;
    };

export type BindingKind = BindingInfo["kind"];

const KINDS = new Set<string>(["records", "tensor", "model", "onnx-model"]);

/** Checks a list of binding descriptions from a kernel; returns the problem or null. */
export function checkBindings(v: unknown): string | null {
  if (!Array.isArray(v)) return "bindings must be an array";
  if (v.length > MAX_BINDINGS) return `at most ${MAX_BINDINGS} bindings`;
  for (const [i, b] of v.entries()) {
    if (!isRecord(b) || typeof b["name"] !== "string" || !KINDS.has(b["kind"] as string))
      return `bindings[${i}] must have a name and a known kind`;
    if (b["kind"] === "records" && !Array.isArray(b["fields"]))
      return `bindings[${i}].fields must be an array`;
    if (b["kind"] === "tensor" && !Array.isArray(b["shape"]))
      return `bindings[${i}].shape must be an array`;
    if (b["kind"] === "onnx-model" && (!Array.isArray(b["inputs"]) || !Array.isArray(b["outputs"])))
      return `bindings[${i}] needs inputs and outputs`;
  }
  return null;
}

/** Infers a Vega-Lite type from sample values (numbers → quantitative, dates → temporal, else nominal). */
export function inferFieldType(values: readonly unknown[]): FieldType {
  let numbers = 0;
  let dates = 0;
  let others = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === "number" || typeof v === "bigint") numbers++;
    else if (v instanceof Date) dates++;
    else if (typeof v === "string" && ISO_DATE.test(v)) dates++;
    else others++;
  }
  if (others === 0 && numbers > 0 && dates === 0) return "quantitative";
  if (others === 0 && dates > 0 && numbers === 0) return "temporal";
  return "nominal";
}

/** Dates as data files write them: 2012-01-01, 2012-01-01T10:00, with optional seconds and zone. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
