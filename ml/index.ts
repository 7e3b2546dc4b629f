/**
 * The machine-learning part of the `tsnb` standard library (Axon + Polaris + Ortex + Scidata):
 *
 *   import { nn, optim, train, onnx, datasets, audio, vad } from "tsnb";
 *
 * Each namespace is one module of ml/; docs/ml.md is the reference.
 */
export * as datasets from "./datasets.ts";
export * as nn from "./nn.ts";
export * as optim from "./optim.ts";
export * as losses from "./losses.ts";
export * as audio from "./audio.ts";
export * as vad from "./vad.ts";
import * as trainModule from "./train.ts";
import * as onnxModule from "./onnx.ts";
import { exportOnnx, saveOnnx } from "./export.ts";

/** Training: `train.fit`, `train.trainer` (events), `train.predict`, plus `train.exportOnnx`. */
export const train = { ...trainModule, exportOnnx, saveOnnx };

/** ONNX interop: `onnx.load(pathOrBytes)`, and `onnx.save(model, path)` / `onnx.fromModel(model)` to export a trained model. */
export const onnx = { ...onnxModule, save: saveOnnx, export: exportOnnx, fromModel: exportOnnx };

export type { Model, Layer, Node as SymbolicTensor } from "./nn.ts";
export type {
  Trainer,
  History,
  EpochRecord,
  FitOptions,
  TrainerOptions,
  LoopState,
  TrainEvent,
} from "./train.ts";
export type { OnnxModel, ValueSpec, LoadOptions } from "./onnx.ts";
export type { Optimizer, Schedule } from "./optim.ts";
