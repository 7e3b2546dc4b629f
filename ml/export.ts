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
  return nx.exportOnnx(forward, [example], {
    inputNames: [opts.inputName ?? "input"],
    outputNames: [opts.outputName ?? "output"],
    dynamicBatch: batch !== null,
    batchName: batch ?? undefined,
    // Weights keep their parameter names (e.g. "dense_0.kernel"), as a model viewer shows them.
    constantNames: new Map([...weights].map(([name, t]) => [t, name])),
  });
}

/** Write the model to an `.onnx` file. */
export function saveOnnx(model: Model, path: string, opts: ExportOptions = {}): void {
  writeFileSync(path, exportOnnx(model, opts));
}
