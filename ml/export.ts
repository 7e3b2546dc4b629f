/**
 * Export a model to `.onnx`: the inference graph (dropout off) with the current weights as
 * initializers, a dynamic batch dimension named "batch", input "input" and output "output".
 *
 * Invariant: the exported graph is nx's trace of the same forward function the trainer and
 * `predict` compile (`nx.exportOnnx`, which checks the symbolic-batch graph against a static one),
 * so onnx.load(exported).run gives the trainer's predictions up to float rounding.
 */
import { writeFileSync } from "node:fs";
import * as nx from "../tensor/index.ts";
import type { Model } from "./nn.ts";

/** Options of {@link exportOnnx}. */
export interface ExportOptions {
  /** Input name (default "input"). */
  inputName?: string;
  /** Output name (default "output"). */
  outputName?: string;
  /** Name of the dynamic batch dimension (default "batch"); null for a fixed batch of 1. */
  batchDim?: string | null;
  /** Class names, in output order: saved as `tsnb.labels`; `OnnxModel.classify` names its answer with them. */
  labels?: readonly string[];
  /** Names of the input columns (tabular models): saved as `tsnb.features`. */
  features?: readonly string[];
  /**
   * The standardiser the training data went through (`datasets.fitStandardizer`): its mean and
   * std are saved as `tsnb.mean` / `tsnb.std`, and `OnnxModel.classify` applies them to raw rows.
   */
  standardizer?: { mean: nx.Tensor; std: nx.Tensor };
}

/** The metadata properties an export carries (ModelProto.metadata_props), as JSON text. */
function exportMetadata(model: Model, opts: ExportOptions): Record<string, string> {
  const meta: Record<string, string> = {};
  const width = model.inputShape.length === 1 ? model.inputShape[0] : undefined;
  const classes = model.outputShape.length === 1 ? model.outputShape[0] : undefined;
  if (opts.labels) {
    if (classes !== undefined && opts.labels.length !== classes)
      throw new Error(
        `exportOnnx: ${opts.labels.length} labels given, the model has ${classes} outputs`,
      );
    meta["tsnb.labels"] = JSON.stringify(opts.labels.map(String));
  }
  if (opts.features) {
    if (width !== undefined && opts.features.length !== width)
      throw new Error(
        `exportOnnx: ${opts.features.length} feature names given, the model takes ${width} inputs`,
      );
    meta["tsnb.features"] = JSON.stringify(opts.features.map(String));
  }
  if (opts.standardizer) {
    const mean = Array.from(opts.standardizer.mean.dataSync() as ArrayLike<number>, Number);
    const std = Array.from(opts.standardizer.std.dataSync() as ArrayLike<number>, Number);
    if (width !== undefined && (mean.length !== width || std.length !== width))
      throw new Error(
        `exportOnnx: the standardiser has ${mean.length} columns, the model takes ${width} inputs`,
      );
    meta["tsnb.mean"] = JSON.stringify(mean);
    meta["tsnb.std"] = JSON.stringify(std);
  }
  return meta;
}

/**
 * ModelProto.metadata_props entries (field 14) as protobuf bytes. Appended to a serialised model
 * they add to it: protobuf merges repeated fields of concatenated messages.
 */
function metadataBytes(meta: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
    return out;
  };
  const field = (num: number, body: Uint8Array | number[]): number[] => [
    ...varint(num * 8 + 2),
    ...varint(body.length),
    ...body,
  ];
  const bytes: number[] = [];
  for (const [k, v] of Object.entries(meta))
    bytes.push(...field(14, [...field(1, enc.encode(k)), ...field(2, enc.encode(v))]));
  return Uint8Array.from(bytes);
}

/** The model as ONNX bytes (forward graph, weights as initializers). */
export function exportOnnx(model: Model, opts: ExportOptions = {}): Uint8Array {
  model.ensureInit();
  const weights = new Map(
    [...model.params.values()].map((p) => [p.name, nx.tensor(p.data, { shape: p.shape })]),
  );
  const forward = (x: nx.Tensor) =>
    model.forward(x, weights, {
      training: false,
      dropoutMask: () => {
        throw new Error("export: dropout masks are not used at inference");
      },
    });
  const batch = opts.batchDim === undefined ? "batch" : opts.batchDim;
  const example = nx.zeros([batch === null ? 1 : 2, ...model.inputShape], {
    dtype: model.inputDtype,
  });
  const graph = nx.exportOnnx(forward, [example], {
    inputNames: [opts.inputName ?? "input"],
    outputNames: [opts.outputName ?? "output"],
    dynamicBatch: batch !== null,
    batchName: batch ?? undefined,
    // Weights keep their parameter names (e.g. "dense_0.kernel"), as a model viewer shows them.
    constantNames: new Map([...weights].map(([name, t]) => [t, name])),
  });
  const meta = metadataBytes(exportMetadata(model, opts));
  if (meta.length === 0) return graph;
  const out = new Uint8Array(graph.length + meta.length);
  out.set(graph);
  out.set(meta, graph.length);
  return out;
}

/** Write the model to an `.onnx` file. */
export function saveOnnx(model: Model, path: string, opts: ExportOptions = {}): void {
  writeFileSync(path, exportOnnx(model, opts));
}
