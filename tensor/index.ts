/**
 * tsnb/nx — the notebook's tensor library (what Nx is to Livebook), on ONNX Runtime.
 *
 *   import * as nx from "tsnb/nx";
 *   const x = nx.tensor([[1, 2], [3, 4]], { dtype: "f32" });
 *   x.matmul(x).sum()                      // ops run at once, synchronously (no await per op)
 *   const step = nx.jit((w, x) => ...)     // one ONNX graph per input shapes/dtypes
 *   const [loss, grads] = nx.valueAndGrad(lossFn)(params, x, y)
 *
 * The full reference is docs/tensor.md. Everything here is re-exported from the modules of
 * tensor/: ops.ts (operations), tensor.ts (Tensor), transforms.ts (jit, grad), random.ts,
 * onnx/proto.ts (the ONNX protobuf encoder) and export.ts (tracing a function to an .onnx model).
 */
export {
  Tensor,
  TensorError,
  type TensorLike,
  type NestedArray,
  type ReduceOptions,
  type ArgReduceOptions,
} from "./tensor.ts";
export type { DType, TypedArray } from "./dtype.ts";
export { promote as promoteTypes } from "./dtype.ts";
export * from "./ops.ts";
export * from "./math.ts";
export * from "./indexing.ts";
export * from "./shape.ts";
export * from "./reduce.ts";
export * from "./linalg.ts";
export * from "./conv.ts";
export {
  jit,
  grad,
  valueAndGrad,
  exportOnnx,
  vmap,
  scan,
  type ScanOptions,
  type VmapOptions,
  type JitOptions,
  type GradOptions,
  type ExportOptions,
} from "./transforms.ts";
export { treeMap, treeLeaves, flatten as treeFlatten } from "./tree.ts";
export * as random from "./random.ts";
export * as linalg from "./decomp.ts";
export { encodeModel, decodeModel, OnnxDataType, IR_VERSION, OPSET } from "./onnx/proto.ts";
export type {
  ModelJson,
  GraphJson,
  NodeJson,
  ValueInfoJson,
  TensorProtoJson,
  AttrValue,
} from "./onnx/proto.ts";
export { GraphBuilder } from "./graph.ts";
export { stats as runtimeStats } from "./runtime.ts";

import type ort from "onnxruntime-node";
import { Tensor as TensorClass } from "./tensor.ts";
/** Wraps an onnxruntime-node Tensor as a tsnb tensor (shares memory). */
export function fromOrt(t: ort.Tensor): TensorClass {
  return TensorClass.fromOrt(t);
}
/** The onnxruntime-node Tensor of a tsnb tensor (shares memory). */
export function toOrt(t: TensorClass): ort.Tensor {
  return t.toOrt();
}

// Short aliases, as the Tensor methods have them.
export {
  subtract as sub,
  multiply as mul,
  divide as div,
  negate as neg,
  remainder as mod,
  concatenate as concat,
  standardDeviation as std,
} from "./ops.ts";
