/**
 * The binding scan (Livebook's `scan_binding`): after an evaluation, describe the top-level
 * names the cell defined that smart-cell forms can use — arrays of records (their fields with
 * inferred Vega-Lite types), nx tensors (dtype, shape), tsnb models, loaded ONNX models (their
 * signature). Metadata only, never values; bounded work per name (at most `SAMPLE_ROWS` rows
 * looked at, `MAX_FIELDS` fields, `MAX_BINDINGS` names).
 *
 * Values are recognised by shape and class name (`Tensor`, `Model`, `OnnxModel` of the `tsnb`
 * library the cells import), since that library is a separate bundle from the kernel's.
 */
import {
  inferFieldType,
  MAX_BINDINGS,
  MAX_FIELDS,
  SAMPLE_ROWS,
  type BindingInfo,
  type ValueSignature,
} from "../core/bindings.ts";
import { isRecordArray } from "./format.ts";

/** Describe one value bound to `name`, or null when no form can use it. */
export function describeBinding(name: string, value: unknown): BindingInfo | null {
  if (value === null || typeof value !== "object") return null;
  if (isRecordArray(value)) {
    const sample = value.length <= SAMPLE_ROWS ? value : value.slice(0, SAMPLE_ROWS);
    const names: string[] = [];
    const seen = new Set<string>();
    for (const row of sample) {
      for (const k of Object.keys(row)) {
        if (seen.has(k) || names.length >= MAX_FIELDS) continue;
        seen.add(k);
        names.push(k);
      }
    }
    return {
      name,
      kind: "records",
      rows: value.length,
      fields: names.map((f) => ({ name: f, type: inferFieldType(sample.map((r) => r[f])) })),
    };
  }
  // Bundlers may rename a class (`_Tensor`, `Model2`): compare the name without those marks.
  const raw = (value as { constructor?: { name?: unknown } }).constructor?.name;
  const cls = typeof raw === "string" ? raw.replace(/^_+|\d+$/g, "") : "";
  const v = value as Record<string, unknown>;
  if (cls === "Tensor" && typeof v["dtype"] === "string" && isNumbers(v["shape"]))
    return { name, kind: "tensor", dtype: v["dtype"], shape: [...(v["shape"] as number[])] };
  if (cls === "OnnxModel" && Array.isArray(v["inputs"]) && Array.isArray(v["outputs"]))
    return {
      name,
      kind: "onnx-model",
      source: typeof v["source"] === "string" ? v["source"] : "",
      inputs: signature(v["inputs"]),
      outputs: signature(v["outputs"]),
      metadata: tsnbMetadata(v["metadata"]),
    };
  if (cls === "Model" && v["params"] instanceof Map) {
    const model = value as {
      built: boolean;
      inputShape: number[];
      outputShape: number[];
      paramSpecs(): Array<{ spec: { shape: number[] } }>;
    };
    const info: BindingInfo = { name, kind: "model", params: 0, built: model.built === true };
    if (info.built) {
      try {
        for (const p of model.paramSpecs()) info.params += p.spec.shape.reduce((a, b) => a * b, 1);
        info.inputShape = [...model.inputShape];
        info.outputShape = [...model.outputShape];
      } catch {
        // a model that cannot say (yet): kind and name are enough to offer it
      }
    }
    return info;
  }
  return null;
}

/** The `tsnb.*` metadata of a loaded model (what the ONNX cell's form shows), at most 4 KB each. */
function tsnbMetadata(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null || typeof v !== "object") return out;
  for (const [k, val] of Object.entries(v as Record<string, unknown>))
    if (k.startsWith("tsnb.") && typeof val === "string" && val.length <= 4096) out[k] = val;
  return out;
}

function isNumbers(v: unknown): boolean {
  return Array.isArray(v) && v.every((d) => typeof d === "number");
}

function signature(specs: unknown[]): ValueSignature[] {
  return specs.slice(0, 50).map((s) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const shape = Array.isArray(o["shape"]) ? o["shape"] : null;
    return {
      name: String(o["name"] ?? ""),
      dtype: String(o["dtype"] ?? "?"),
      dims: shape
        ? shape.map((d) => (typeof d === "number" || typeof d === "string" ? d : null))
        : null,
    };
  });
}

/** Describe the names a cell defined; `read` gives a name's value (throws for a name in its TDZ). */
export async function scanBindings(
  names: readonly string[],
  read: (name: string) => Promise<unknown>,
): Promise<BindingInfo[]> {
  const out: BindingInfo[] = [];
  for (const name of names.slice(0, MAX_BINDINGS)) {
    try {
      const info = describeBinding(name, await read(name));
      if (info) out.push(info);
    } catch {
      // Not readable (uninitialised, a throwing getter): nothing to offer.
    }
  }
  return out;
}
