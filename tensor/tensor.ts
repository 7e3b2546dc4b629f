/**
 * The Tensor class, the tracing IR (Trace/Node) and eager execution.
 *
 * A tensor is either concrete (it holds an onnxruntime tensor: values live in a typed array) or
 * symbolic (it is a node of an active Trace, recorded while `jit`/`grad` trace a function).
 * Every op goes through `emit`: with a symbolic input it records a node in that input's trace
 * (concrete inputs become constants of the trace); otherwise it runs at once through a cached
 * single-op ONNX Runtime session, synchronously.
 *
 * Invariants: shapes and dtypes are computed (and checked) in JS before any ONNX Runtime call;
 * eager sessions are keyed by op + attributes + input dtypes and ranks (dimensions are symbolic),
 * so each distinct op signature compiles once per process; a symbolic tensor never escapes its
 * trace (using it after the trace ended is an error, not a silent wrong value).
 */
import { inspect } from "node:util";
import ort from "onnxruntime-node";
import { type DType, type TypedArray, allocate, fromOrtTypeName, ortTypeName } from "./dtype.ts";
import { formatTensor, formatValues } from "./format.ts";
import { GraphBuilder } from "./graph.ts";
import { type Attrs, EAGER_PARAMS, type Prim, LOWERINGS } from "./lower.ts";
import {
  CORES,
  SessionCache,
  createSession,
  explainOrtFailure,
  stats,
  type Session,
} from "./runtime.ts";
import * as ops from "./ops.ts";
import * as indexing from "./indexing.ts";
import * as shapeOps from "./shape.ts";
import * as reduceOps from "./reduce.ts";
import * as linalg from "./linalg.ts";

/** Errors raised by tsnb/nx: the message names the op, the shapes and the dtypes involved. */
export class TensorError extends Error {
  override name = "TensorError";
}

/** One recorded op in a trace. */
export interface Node {
  readonly id: number;
  readonly op: Prim;
  readonly inputs: readonly Tensor[];
  readonly attrs: Attrs;
  readonly trace: Trace;
  /** For "const": the concrete tensor it stands for. */
  readonly value?: Tensor;
}

let traceSerial = 0;

/** A recording of ops on symbolic tensors (one jit/grad compilation, or one vmap'd function). */
export class Trace {
  /** Creation order: active traces nest (a newer one is traced inside an older one). */
  readonly serial = traceSerial++;
  /**
   * A vmap trace (transforms.ts/vmap.ts): tensors of the enclosing (older) traces that the mapped
   * function captures become its constants, to be mapped back to themselves when it is batched.
   */
  acceptsOuter = false;
  readonly nodes: Node[] = [];
  /** The output tensor of each node, by node id. */
  readonly outputs: Tensor[] = [];
  active = true;
  private readonly consts = new Map<Tensor, Tensor>();

  /** Adds a node and returns its symbolic output tensor. */
  record(
    op: Prim,
    inputs: readonly Tensor[],
    attrs: Attrs,
    shape: readonly number[],
    dtype: DType,
    value?: Tensor,
  ): Tensor {
    const node: Node = { id: this.nodes.length, op, inputs, attrs, trace: this, value };
    this.nodes.push(node);
    const t = new Tensor(shape, dtype, null, node);
    this.outputs.push(t);
    return t;
  }

  /** A fresh symbolic input of the given type. */
  placeholder(shape: readonly number[], dtype: DType): Tensor {
    return this.record("input", [], {}, shape, dtype);
  }

  /** The constant node standing for a concrete tensor (one per tensor object). */
  lift(t: Tensor): Tensor {
    if (t._node?.trace === this) return t;
    if (t._node && !this.acceptsOuter)
      throw new TensorError("tensors from two different jit/grad traces were mixed");
    let c = this.consts.get(t);
    if (!c) {
      c = this.record("const", [], {}, t.shape, t.dtype, t);
      this.consts.set(t, c);
    }
    return c;
  }
}

/** Nested JS arrays of numbers/booleans, as `toArray()` returns them. */
export type NestedArray = number | boolean | bigint | NestedArray[];

const DISPLAY = Symbol.for("tsnb.display");

/** An n-dimensional array of one dtype. Operations return new tensors; tensors are immutable. */
export class Tensor {
  /** Dimensions, outermost first ([] for a scalar). */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** @internal The values (concrete tensors). */
  readonly _ort: ort.Tensor | null;
  /** @internal The trace node (symbolic tensors). */
  readonly _node: Node | null;

  /** @internal Use nx.tensor() and the ops to make tensors. */
  constructor(shape: readonly number[], dtype: DType, data: ort.Tensor | null, node: Node | null) {
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this._ort = data;
    this._node = node;
  }

  /** Number of elements. */
  get size(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** True while the tensor is a placeholder inside jit/grad (its values are not known yet). */
  get isSymbolic(): boolean {
    return this._node !== null;
  }

  private concrete(what: string): ort.Tensor {
    if (!this._ort) {
      throw new TensorError(
        `${what}: the values of a traced tensor (${this.dtype}${JSON.stringify(this.shape)}) are not known inside jit/grad; return it from the function instead`,
      );
    }
    return this._ort;
  }

  /** The values as a typed array view, row-major (Float32Array for f32, BigInt64Array for i64, Uint8Array for u8 and bool). Do not mutate. */
  dataSync(): TypedArray {
    return this.concrete("dataSync").data as TypedArray;
  }

  /** The values as a typed array (async form of dataSync). */
  async data(): Promise<TypedArray> {
    return this.dataSync();
  }

  /** The values as nested JS arrays (a number or boolean for a scalar); i64 values become numbers. */
  toArraySync(): NestedArray {
    const data = this.concrete("toArray").data as TypedArray;
    const conv: (i: number) => number | boolean =
      this.dtype === "bool"
        ? (i) => data[i] !== 0
        : this.dtype === "i64"
          ? (i) => Number(data[i] as bigint)
          : (i) => data[i] as number;
    const shape = this.shape;
    if (shape.length === 0) return conv(0);
    let offset = 0;
    const rec = (axis: number): NestedArray[] => {
      const n = shape[axis]!;
      const out = new Array<NestedArray>(n);
      if (axis === shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = conv(offset++);
      } else {
        for (let i = 0; i < n; i++) out[i] = rec(axis + 1);
      }
      return out;
    };
    return rec(0);
  }

  /** The values as nested JS arrays (a number or boolean for a scalar). */
  async toArray(): Promise<NestedArray> {
    return this.toArraySync();
  }

  /** The single value of a one-element tensor, as a number (boolean for bool). */
  item(): number | boolean {
    if (this.size !== 1)
      throw new TensorError(
        `item: expected a tensor with one element, got shape ${JSON.stringify(this.shape)}`,
      );
    const v = (this.concrete("item").data as TypedArray)[0]!;
    if (this.dtype === "bool") return v !== 0;
    return Number(v);
  }

  /** The values as an onnxruntime-node Tensor (shares memory; do not mutate). */
  toOrt(): ort.Tensor {
    return this.concrete("toOrt");
  }

  /** Wraps an onnxruntime-node Tensor (shares memory). */
  static fromOrt(t: ort.Tensor): Tensor {
    const dtype = fromOrtTypeName(t.type);
    if (!dtype)
      throw new TensorError(
        `fromOrt: onnxruntime type ${t.type} is not supported (f32, f64, i32, i64, u8, bool are)`,
      );
    return new Tensor(t.dims as number[], dtype, t, null);
  }

  /** What a notebook shows for a cell whose result is this tensor (core/outputs.ts TensorOutput). */
  [DISPLAY](): { type: "tensor"; dtype: string; shape: number[]; text: string } {
    const text = this._ort
      ? formatValues(this.dtype, this.shape, this._ort.data as TypedArray)
      : "(traced)";
    return { type: "tensor", dtype: this.dtype, shape: this.shape.slice(), text };
  }

  toString(): string {
    if (!this._ort)
      return `Tensor<${this.dtype}${this.shape.map((d) => `[${d}]`).join("")} traced>`;
    return formatTensor(this.dtype, this.shape, this._ort.data as TypedArray);
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /** JSON form: `{dtype, shape, values}` (nested values; i64 as numbers). */
  toJSON(): { dtype: DType; shape: number[]; values: NestedArray | null } {
    return {
      dtype: this.dtype,
      shape: this.shape.slice(),
      values: this._ort ? this.toArraySync() : null,
    };
  }

  // ---- chaining: each method is the function of the same name in nx ----
  add(b: TensorLike): Tensor {
    return ops.add(this, b);
  }
  sub(b: TensorLike): Tensor {
    return ops.subtract(this, b);
  }
  subtract(b: TensorLike): Tensor {
    return ops.subtract(this, b);
  }
  mul(b: TensorLike): Tensor {
    return ops.multiply(this, b);
  }
  multiply(b: TensorLike): Tensor {
    return ops.multiply(this, b);
  }
  div(b: TensorLike): Tensor {
    return ops.divide(this, b);
  }
  divide(b: TensorLike): Tensor {
    return ops.divide(this, b);
  }
  floorDivide(b: TensorLike): Tensor {
    return ops.floorDivide(this, b);
  }
  mod(b: TensorLike): Tensor {
    return ops.remainder(this, b);
  }
  remainder(b: TensorLike): Tensor {
    return ops.remainder(this, b);
  }
  pow(b: TensorLike): Tensor {
    return ops.pow(this, b);
  }
  maximum(b: TensorLike): Tensor {
    return ops.maximum(this, b);
  }
  minimum(b: TensorLike): Tensor {
    return ops.minimum(this, b);
  }
  equal(b: TensorLike): Tensor {
    return ops.equal(this, b);
  }
  notEqual(b: TensorLike): Tensor {
    return ops.notEqual(this, b);
  }
  less(b: TensorLike): Tensor {
    return ops.less(this, b);
  }
  lessEqual(b: TensorLike): Tensor {
    return ops.lessEqual(this, b);
  }
  greater(b: TensorLike): Tensor {
    return ops.greater(this, b);
  }
  greaterEqual(b: TensorLike): Tensor {
    return ops.greaterEqual(this, b);
  }
  logicalAnd(b: TensorLike): Tensor {
    return ops.logicalAnd(this, b);
  }
  logicalOr(b: TensorLike): Tensor {
    return ops.logicalOr(this, b);
  }
  logicalXor(b: TensorLike): Tensor {
    return ops.logicalXor(this, b);
  }
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  neg(): Tensor {
    return ops.negate(this);
  }
  negate(): Tensor {
    return ops.negate(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  floor(): Tensor {
    return ops.floor(this);
  }
  ceil(): Tensor {
    return ops.ceil(this);
  }
  round(): Tensor {
    return ops.round(this);
  }
  clip(min: TensorLike, max: TensorLike): Tensor {
    return ops.clip(this, min, max);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  astype(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  sum(opts?: ReduceArg): Tensor {
    return ops.sum(this, opts);
  }
  mean(opts?: ReduceArg): Tensor {
    return ops.mean(this, opts);
  }
  max(opts?: ReduceArg): Tensor {
    return ops.max(this, opts);
  }
  min(opts?: ReduceArg): Tensor {
    return ops.min(this, opts);
  }
  argmax(opts?: ArgReduceOptions | number): Tensor {
    return ops.argmax(this, opts);
  }
  argmin(opts?: ArgReduceOptions | number): Tensor {
    return ops.argmin(this, opts);
  }
  logSumExp(opts?: ReduceArg): Tensor {
    return ops.logSumExp(this, opts);
  }
  variance(opts?: ReduceArg & { ddof?: number }): Tensor {
    return ops.variance(this, opts);
  }
  std(opts?: ReduceArg & { ddof?: number }): Tensor {
    return ops.standardDeviation(this, opts);
  }
  any(opts?: ReduceArg): Tensor {
    return ops.any(this, opts);
  }
  all(opts?: ReduceArg): Tensor {
    return ops.all(this, opts);
  }
  softmax(opts?: number | { axis?: number }): Tensor {
    return ops.softmax(this, opts);
  }
  logSoftmax(opts?: number | { axis?: number }): Tensor {
    return ops.logSoftmax(this, opts);
  }
  matmul(b: TensorLike): Tensor {
    return ops.matmul(this, b);
  }
  dot(b: TensorLike): Tensor {
    return ops.dot(this, b);
  }
  transpose(perm?: number[]): Tensor {
    return ops.transpose(this, perm);
  }
  get T(): Tensor {
    return ops.transpose(this);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  flatten(): Tensor {
    return ops.reshape(this, [-1]);
  }
  squeeze(axes?: number | number[]): Tensor {
    return ops.squeeze(this, axes);
  }
  expandDims(axis: number): Tensor {
    return ops.expandDims(this, axis);
  }
  broadcastTo(shape: readonly number[]): Tensor {
    return ops.broadcastTo(this, shape);
  }
  slice(begin: readonly number[], size?: readonly number[], strides?: readonly number[]): Tensor {
    return ops.slice(this, begin, size, strides);
  }
  take(indices: TensorLike, opts?: number | { axis?: number }): Tensor {
    return ops.take(this, indices, opts);
  }
  gather(indices: TensorLike, opts?: number | { axis?: number }): Tensor {
    return ops.take(this, indices, opts);
  }
  takeAlongAxis(indices: TensorLike, opts?: number | { axis?: number }): Tensor {
    return ops.takeAlongAxis(this, indices, opts);
  }
  topK(
    k: number,
    opts?: { axis?: number; largest?: boolean },
  ): { values: Tensor; indices: Tensor } {
    return ops.topK(this, k, opts);
  }
  sort(opts?: { axis?: number; descending?: boolean }): Tensor {
    return ops.sort(this, opts);
  }
  argsort(opts?: { axis?: number; descending?: boolean }): Tensor {
    return ops.argsort(this, opts);
  }
  cumsum(opts?: number | { axis?: number; reverse?: boolean; exclusive?: boolean }): Tensor {
    return ops.cumsum(this, opts);
  }
  reverse(axes?: number | readonly number[]): Tensor {
    return ops.reverse(this, axes);
  }
  quotient(b: TensorLike): Tensor {
    return ops.quotient(this, b);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  log1p(): Tensor {
    return ops.log1p(this);
  }
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  reciprocal(): Tensor {
    return ops.reciprocal(this);
  }
  isNaN(): Tensor {
    return ops.isNaN(this);
  }
  stopGradient(): Tensor {
    return ops.stopGradient(this);
  }
  where(a: TensorLike, b: TensorLike): Tensor {
    return ops.where(this, a, b);
  }
  /** `x[specs]` with NumPy's indexing (see nx.index): integers, ranges, new axes, index arrays, masks. */
  index(...specs: indexing.Index[]): Tensor {
    return indexing.index(this, ...specs);
  }
  /** Functional updates of `x[specs]` (JAX's `x.at[...]`): `.get()`, `.set(v)`, `.add(v)`. */
  at(...specs: indexing.Index[]): indexing.IndexUpdater {
    return indexing.at(this, ...specs);
  }
  tile(reps: number | readonly number[]): Tensor {
    return shapeOps.tile(this, reps);
  }
  repeat(repeats: number | readonly number[], opts?: number | { axis?: number }): Tensor {
    return shapeOps.repeat(this, repeats, opts);
  }
  split(sections: number | readonly number[], opts?: number | { axis?: number }): Tensor[] {
    return shapeOps.split(this, sections, opts);
  }
  roll(
    shift: number | readonly number[],
    opts?: number | readonly number[] | { axis?: number | readonly number[] },
  ): Tensor {
    return shapeOps.roll(this, shift, opts);
  }
  moveAxis(source: number | readonly number[], destination: number | readonly number[]): Tensor {
    return shapeOps.moveAxis(this, source, destination);
  }
  swapAxes(axis1: number, axis2: number): Tensor {
    return shapeOps.swapAxes(this, axis1, axis2);
  }
  tril(k?: number): Tensor {
    return shapeOps.tril(this, k);
  }
  triu(k?: number): Tensor {
    return shapeOps.triu(this, k);
  }
  diagonal(opts?: { offset?: number; axis1?: number; axis2?: number }): Tensor {
    return shapeOps.diagonal(this, opts);
  }
  trace(opts?: { offset?: number; axis1?: number; axis2?: number }): Tensor {
    return shapeOps.trace(this, opts);
  }
  prod(opts?: ReduceArg): Tensor {
    return reduceOps.prod(this, opts);
  }
  cumprod(opts?: number | { axis?: number; reverse?: boolean }): Tensor {
    return reduceOps.cumprod(this, opts);
  }
  cummax(opts?: number | { axis?: number; reverse?: boolean }): Tensor {
    return reduceOps.cummax(this, opts);
  }
  cummin(opts?: number | { axis?: number; reverse?: boolean }): Tensor {
    return reduceOps.cummin(this, opts);
  }
  median(opts?: number | reduceOps.QuantileOptions): Tensor {
    return reduceOps.median(this, opts);
  }
  quantile(q: number | readonly number[], opts?: number | reduceOps.QuantileOptions): Tensor {
    return reduceOps.quantile(this, q, opts);
  }
  norm(opts?: linalg.NormOptions): Tensor {
    return linalg.norm(this, opts);
  }
  pad(
    widths: ReadonlyArray<readonly [number, number] | readonly [number, number, number]>,
    value?: number,
  ): Tensor {
    return ops.pad(this, widths, value);
  }
}

/** What ops accept where a tensor is expected: a tensor, a JS number/boolean (a "weak" scalar that adopts the other operand's dtype), or nested arrays. */
export type TensorLike =
  Tensor | number | boolean | bigint | NestedArray | TypedArray | readonly Tensor[];

/** Reductions take options, one axis, or a list of axes. */
export type ReduceArg = ReduceOptions | number | readonly number[];

/** Options of reductions. */
export interface ReduceOptions {
  /** Axes to reduce (negative counts from the end); all axes when omitted. */
  axes?: number | readonly number[];
  /** Alias of `axes`. */
  axis?: number | readonly number[];
  /** Keep reduced axes as size-1 dimensions. */
  keepDims?: boolean;
}

/** Options of argmax/argmin: one axis (the flattened tensor when omitted). */
export interface ArgReduceOptions {
  axis?: number;
  keepDims?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Eager execution

/** Work above which an eager op uses all cores (below: one thread, no spinning). */
const PARALLEL_WORK = 1 << 17;

const eagerSessions = new SessionCache();

/** @internal Number of cached eager sessions (tests check sessions are reused). */
export function eagerSessionCount(): number {
  return eagerSessions.size;
}

function ortTensor(dtype: DType, data: TypedArray, shape: readonly number[]): ort.Tensor {
  return new ort.Tensor(ortTypeName(dtype), data as Float32Array, shape as number[]);
}

/** @internal A concrete tensor from a typed array (not copied). */
export function fromTyped(dtype: DType, data: TypedArray, shape: readonly number[]): Tensor {
  return new Tensor(shape, dtype, ortTensor(dtype, data, shape), null);
}

function describeInputs(inputs: readonly Tensor[]): string {
  return inputs.map((t) => `${t.dtype}${JSON.stringify(t.shape)}`).join(", ");
}

function eagerKey(
  op: Prim,
  inputs: readonly Tensor[],
  attrs: Attrs,
  outRank: number,
  parallel: boolean,
): string {
  let k = op + outRank;
  for (const t of inputs) k += "|" + t.dtype + t.shape.length;
  const params = EAGER_PARAMS[op];
  for (const name in attrs)
    if (!params?.includes(name)) k += "|" + name + "=" + String(attrs[name]);
  return parallel ? k + "|P" : k;
}

function workOf(op: Prim, inputs: readonly Tensor[], outSize: number): number {
  if (op === "matmul") {
    const a = inputs[0]!;
    return outSize * (a.shape[a.shape.length - 1] ?? 1);
  }
  let w = outSize;
  for (const t of inputs) w += t.size;
  return w;
}

function runEager(
  op: Prim,
  inputs: readonly Tensor[],
  attrs: Attrs,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  let outSize = 1;
  for (const d of shape) outSize *= d;
  if (outSize === 0) return fromTyped(dtype, allocate(dtype, 0), shape);
  if (
    (op === "reshape" || op === "identity" || op === "stopGradient") &&
    inputs[0]!.dtype === dtype
  ) {
    return fromTyped(dtype, inputs[0]!._ort!.data as TypedArray, shape);
  }
  if (op === "cast" && inputs[0]!.dtype === dtype) return inputs[0]!;
  const parallel = CORES > 1 && workOf(op, inputs, outSize) >= PARALLEL_WORK;
  const key = eagerKey(op, inputs, attrs, shape.length, parallel);
  let session = eagerSessions.get(key);
  if (!session) {
    session = compileSingleOp(op, inputs, attrs, dtype, shape.length, parallel);
    eagerSessions.set(key, session);
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (let i = 0; i < inputs.length; i++) feeds[INPUT_NAMES[i] ?? `x${i}`] = inputs[i]!._ort!;
  const params = EAGER_PARAMS[op];
  if (params)
    for (const name of params) feeds[`p_${name}`] = paramTensor(key, name, attrs[name] as number[]);
  let out: ort.Tensor;
  try {
    out = session.run(feeds)["y"]!;
  } catch (e) {
    throw new TensorError(`${op}: failed on ${describeInputs(inputs)}: ${explainOrtFailure(e)}`, {
      cause: e,
    });
  }
  stats.runs++;
  return new Tensor(shape, dtype, out, null);
}

const INPUT_NAMES = ["x0", "x1", "x2", "x3"];

/** The last int64 parameter tensor fed to each eager session, reused while its values repeat. */
const lastParams = new Map<string, { values: number[]; tensor: ort.Tensor }>();

function paramTensor(key: string, name: string, values: number[]): ort.Tensor {
  const k = key + "#" + name;
  const last = lastParams.get(k);
  if (last && last.values.length === values.length && last.values.every((v, i) => v === values[i]))
    return last.tensor;
  const tensor = new ort.Tensor(
    "int64",
    BigInt64Array.from(values, (x) => BigInt(x)),
    [values.length],
  );
  lastParams.set(k, { values: values.slice(), tensor });
  return tensor;
}

function compileSingleOp(
  op: Prim,
  inputs: readonly Tensor[],
  attrs: Attrs,
  dtype: DType,
  outRank: number,
  parallel: boolean,
): Session {
  const b = new GraphBuilder();
  b.eagerParams = true;
  const names = inputs.map((t, i) =>
    b.input(
      `x${i}`,
      t.dtype,
      t.shape.map((_, j) => `x${i}_${j}`),
    ),
  );
  const lower = LOWERINGS[op as Exclude<Prim, "input" | "const">];
  const y = lower(
    b,
    names,
    inputs.map((t) => t.dtype),
    attrs,
    dtype,
  );
  b.outputAs(y, "y");
  b.output(
    "y",
    dtype,
    Array.from({ length: outRank }, (_, j) => `y_${j}`),
  );
  try {
    const s = createSession(b.encode(op), {
      threads: parallel ? CORES : 1,
      graphOptimizationLevel: "basic",
    });
    stats.sessionsCreated++;
    return s;
  } catch (e) {
    throw new TensorError(
      `${op}: could not compile for ${describeInputs(inputs)}: ONNX Runtime rejected the graph (the original error is in .cause)`,
      { cause: e },
    );
  }
}

/**
 * @internal Applies a primitive: records it when an input is traced, else runs it now.
 * Callers have already checked inputs and computed the output shape and dtype.
 */
export function emit(
  op: Prim,
  inputs: readonly Tensor[],
  attrs: Attrs,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  let trace: Trace | null = null;
  for (const t of inputs) {
    const n = t._node;
    if (!n) continue;
    if (!n.trace.active) {
      throw new TensorError(
        `${op}: a tensor traced inside jit/grad (${t.dtype}${JSON.stringify(t.shape)}) was used after the trace ended`,
      );
    }
    if (trace && trace !== n.trace) {
      // a vmap trace captures tensors of the traces it is nested in (the older ones) as constants
      const inner: Trace = n.trace.serial > trace.serial ? n.trace : trace;
      if (!inner.acceptsOuter)
        throw new TensorError(`${op}: tensors from two different jit/grad traces were mixed`);
      trace = inner;
    } else trace = n.trace;
  }
  if (trace)
    return trace.record(
      op,
      inputs.map((t) => trace!.lift(t)),
      attrs,
      shape,
      dtype,
    );
  return runEager(op, inputs, attrs, shape, dtype);
}
