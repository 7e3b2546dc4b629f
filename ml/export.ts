/**
 * Export a model to `.onnx`: the inference graph (dropout off) with the current weights as
 * initializers, a dynamic batch dimension named "batch", input "input" and output "output".
 *
 * Invariant: the exported graph is the same forward graph the trainer runs (one Tape emission),
 * so onnx.load(exported).run gives the trainer's predictions up to float rounding.
 */
import { writeFileSync } from "node:fs";
import type { Model } from "./nn.ts";
import { Tape, type Val } from "./tape.ts";

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
  const t = new Tape();
  t.recording = false;
  const inName = opts.inputName ?? "input";
  const outName = opts.outputName ?? "output";
  const x = t.input(inName, [1, ...model.inputShape], model.inputDtype);
  const params = new Map<string, Val>();
  for (const [name, p] of model.params) params.set(name, t.initializer(name, p.shape, p.data));
  const y = model.forward(t, x, params, {
    training: false,
    dropoutMask: () => {
      throw new Error("export: dropout masks are not used at inference");
    },
  });
  t.output(y, outName);
  const batch = opts.batchDim === undefined ? "batch" : opts.batchDim;
  if (batch !== null) {
    t.inputs[0]!.shape[0] = batch;
    t.outputs[0]!.shape[0] = batch;
  }
  return t.encode("tsnb_model");
}

/** Write the model to an `.onnx` file. */
export function saveOnnx(model: Model, path: string, opts: ExportOptions = {}): void {
  writeFileSync(path, exportOnnx(model, opts));
}
