/**
 * The public tensor operations of tsnb/nx: creation, element-wise math with NumPy broadcasting,
 * reductions, linear algebra and shape ops. Each function checks its operands, computes the result
 * shape and dtype, and emits primitives (lower.ts); composite ops (mean, softmax, clip, oneHot, …)
 * are built from primitives, so they trace, lower and differentiate for free.
 *
 * Dtype rules (docs/tensor.md): promotion follows bool < u8 < i32 < i64 < f32 < f64; JS numbers
 * are weak (they adopt the tensor operand's dtype unless a fraction meets an integer tensor, which
 * gives f32); arithmetic on bool computes in i32; divide, mean and the float functions (exp, log,
 * …) give f32 for integer inputs; comparisons give bool; argmax/argmin give i64.
 *
 * Invariants: every error is a TensorError whose message starts with the op's name and names the
 * shapes and dtypes involved; no ONNX Runtime message reaches the user for a checked case.
 */
import {
  type DType,
  type TypedArray,
  allocate,
  arithmeticType,
  coerce,
  dtypeOfTypedArray,
  floatType,
  isDType,
  isFloat,
  isInt,
  promote,
} from "./dtype.ts";
import type { Attrs, Prim } from "./lower.ts";
import {
  type ArgReduceOptions,
  type NestedArray,
  type ReduceArg,
  type ReduceOptions,
  Tensor,
  TensorError,
  type TensorLike,
  emit,
  fromTyped,
} from "./tensor.ts";

export type { ArgReduceOptions, ReduceArg, ReduceOptions, TensorLike, NestedArray };

function fail(msg: string): never {
  throw new TensorError(msg);
}

const fmt = (s: readonly number[]): string => `[${s.join(",")}]`;
const desc = (t: Tensor): string => `${t.dtype}${fmt(t.shape)}`;

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape))
    fail(`${op}: shape must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0)
      fail(`${op}: shape must be an array of non-negative integers, got ${fmt(shape)}`);
  return shape.slice();
}

function checkDType(op: string, d: unknown): DType {
  if (!isDType(d))
    fail(`${op}: unknown dtype ${String(d)} (expected one of f32, f64, i32, i64, u8, bool)`);
  return d;
}

function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
    fail(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

// ---------------------------------------------------------------------------------------------
// Creation

/** Options of tensor-creating functions. */
export interface CreateOptions {
  dtype?: DType;
}

function inferNested(
  op: string,
  data: NestedArray,
): { shape: number[]; flat: Array<number | boolean | bigint> } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: Array<number | boolean | bigint> = [];
  const rec = (x: unknown, axis: number, path: string): void => {
    if (axis === shape.length) {
      if (Array.isArray(x))
        fail(`${op}: ragged nested array: ${path} has more dimensions than ${fmt(shape)}`);
      if (typeof x !== "number" && typeof x !== "boolean" && typeof x !== "bigint")
        fail(`${op}: expected numbers or booleans, got ${typeof x} at ${path || "top level"}`);
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[axis]) {
      fail(
        `${op}: ragged nested array: ${path || "top level"} should have length ${shape[axis]}, got ${Array.isArray(x) ? x.length : "a scalar"}`,
      );
    }
    for (let i = 0; i < x.length; i++) rec(x[i], axis + 1, `${path}[${i}]`);
  };
  rec(data, 0, "");
  return { shape, flat };
}

/**
 * The dtype of JS values given without `{dtype}`: booleans → bool, bigints (with whole numbers) →
 * i64, numbers → f32 whatever their values (JS numbers are doubles: `[1, 2, 3]` is float data, as
 * in tfjs and onnxruntime's `new Tensor([1, 2, 3])`; integer dtypes come from `{dtype}`, integer
 * typed arrays and bigints).
 */
function inferDType(values: ArrayLike<number | boolean | bigint>): DType {
  if (values.length === 0) return "f32";
  let allBool = true;
  let anyBig = false;
  let allInt = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== "boolean") allBool = false;
    if (typeof v === "bigint") anyBig = true;
    else if (typeof v === "number" && !Number.isInteger(v)) allInt = false;
  }
  if (allBool) return "bool";
  if (anyBig && allInt) return "i64";
  return "f32";
}

function fill(dtype: DType, values: ArrayLike<number | boolean | bigint>): TypedArray {
  const out = allocate(dtype, values.length) as unknown as Array<number | bigint>;
  for (let i = 0; i < values.length; i++) out[i] = coerce(dtype, values[i]!);
  return out as unknown as TypedArray;
}

/**
 * A tensor from a number, boolean, nested arrays or a typed array.
 * dtype: given, else inferred (booleans → bool, bigints → i64, JS numbers → f32 whatever their values;
 * typed arrays keep theirs: Float32Array → f32, Float64Array → f64, Int32Array → i32,
 * BigInt64Array → i64, Uint8Array → u8). `shape` reshapes flat typed-array data.
 */
export function tensor(
  data: TensorLike,
  opts: CreateOptions & { shape?: readonly number[] } = {},
): Tensor {
  const dtype = opts.dtype === undefined ? undefined : checkDType("tensor", opts.dtype);
  if (data instanceof Tensor) {
    const t = dtype ? cast(data, dtype) : data;
    return opts.shape ? reshape(t, opts.shape) : t;
  }
  if (ArrayBuffer.isView(data)) {
    const own = dtypeOfTypedArray(data);
    if (!own) fail(`tensor: unsupported typed array ${(data as object).constructor.name}`);
    const d = dtype ?? own;
    const shape = opts.shape ? checkShape("tensor", opts.shape) : [data.length];
    if (sizeOf(shape) !== data.length)
      fail(`tensor: shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
    let arr: TypedArray;
    if (d === own || (d === "bool" && own === "u8" && (data as Uint8Array).every((v) => v <= 1))) {
      // copy into this realm's typed array (onnxruntime checks the constructor)
      arr = allocate(d, data.length);
      (arr as Float64Array).set(data as Float64Array);
    } else arr = fill(d, Array.from(data as ArrayLike<number | bigint>));
    return fromTyped(d, arr, shape);
  }
  if (typeof data === "number" || typeof data === "boolean" || typeof data === "bigint") {
    const d = dtype ?? inferDType([data]);
    const t = fromTyped(d, fill(d, [data]), []);
    return opts.shape ? broadcastTo(t, opts.shape) : t;
  }
  if (!Array.isArray(data))
    fail(
      `tensor: expected a number, boolean, array, typed array or tensor, got ${data === null ? "null" : typeof data}`,
    );
  if (data.length > 0 && data.every((x) => x instanceof Tensor))
    return tensor(stack(data as unknown as Tensor[]), opts);
  const { shape, flat } = inferNested("tensor", data);
  const d = dtype ?? inferDType(flat);
  const t = fromTyped(d, fill(d, flat), shape);
  return opts.shape ? reshape(t, opts.shape) : t;
}

/** @internal A scalar tensor of a given dtype. */
export function scalar(value: number | boolean | bigint, dtype: DType): Tensor {
  return fromTyped(dtype, fill(dtype, [value]), []);
}

/** A tensor of `shape` filled with `value` (dtype inferred from the value unless given). */
export function full(
  shape: readonly number[],
  value: number | boolean | bigint,
  opts: CreateOptions = {},
): Tensor {
  const s = checkShape("full", shape);
  const d = opts.dtype ? checkDType("full", opts.dtype) : inferDType([value]);
  const arr = allocate(d, sizeOf(s));
  const v = coerce(d, value);
  (arr as unknown as { fill(v: number | bigint): void }).fill(v);
  return fromTyped(d, arr, s);
}

/** Zeros (f32 unless `dtype`). */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, { dtype: opts.dtype ?? "f32" });
}

/** Ones (f32 unless `dtype`). */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, { dtype: opts.dtype ?? "f32" });
}

export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return zeros(t.shape, { dtype: opts.dtype ?? t.dtype });
}

export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return ones(t.shape, { dtype: opts.dtype ?? t.dtype });
}

export function fullLike(t: Tensor, value: number | boolean, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: opts.dtype ?? t.dtype });
}

/**
 * Evenly spaced values in [start, stop) (NumPy arange): `arange(5)`, `arange(2, 10, 2)`.
 * dtype: i32 when start, stop and step are integers, else f32.
 */
export function arange(start: number, stop?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step))
    fail(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const d = opts.dtype
    ? checkDType("arange", opts.dtype)
    : Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step)
      ? "i32"
      : "f32";
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return fromTyped(d, fill(d, vals), [n]);
}

/** `num` evenly spaced values from start to stop (inclusive unless endpoint: false); f32 unless dtype. */
export function linspace(
  start: number,
  stop: number,
  num: number,
  opts: CreateOptions & { endpoint?: boolean } = {},
): Tensor {
  if (!Number.isInteger(num) || num < 0)
    fail(`linspace: num must be a non-negative integer, got ${num}`);
  const d = opts.dtype ? checkDType("linspace", opts.dtype) : "f32";
  const endpoint = opts.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const vals = new Array<number>(num);
  for (let i = 0; i < num; i++) vals[i] = start + i * step;
  if (endpoint && num > 1) vals[num - 1] = stop;
  return fromTyped(d, fill(d, vals), [num]);
}

/** Identity matrix n×m (m = n by default); f32 unless dtype. */
export function eye(n: number, opts: CreateOptions & { m?: number } = {}): Tensor {
  const m = opts.m ?? n;
  const s = checkShape("eye", [n, m]);
  const d = opts.dtype ? checkDType("eye", opts.dtype) : "f32";
  const arr = allocate(d, n * m) as unknown as Array<number | bigint>;
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = coerce(d, 1);
  return fromTyped(d, arr as unknown as TypedArray, s);
}

// ---------------------------------------------------------------------------------------------
// Conversions between operands

type Weak = number | boolean | bigint;

function isWeak(x: unknown): x is Weak {
  return typeof x === "number" || typeof x === "boolean" || typeof x === "bigint";
}

/** The dtype a weak JS scalar takes next to a tensor of dtype `d`. */
function weakDType(d: DType, v: Weak): DType {
  if (typeof v === "boolean") return d;
  if (isFloat(d)) return d;
  if (typeof v === "number" && !Number.isInteger(v)) return "f32";
  if (d === "bool") return "i32";
  if (typeof v === "bigint" && d !== "i64") return "i64";
  return d;
}

function asTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : tensor(x);
}

/**
 * Index operands: a tensor must have an integer dtype; JS numbers and nested arrays of them become
 * i32 (they must be whole numbers), so `take(x, [0, 2])` works although `tensor([0, 2])` is f32.
 */
function asIndices(op: string, x: TensorLike, what = "indices"): Tensor {
  if (x instanceof Tensor || ArrayBuffer.isView(x)) {
    const t = asTensor(x);
    if (!isInt(t.dtype))
      fail(
        `${op}: ${what} must be integers, got ${desc(t)}${isFloat(t.dtype) ? ` (cast them: nx.cast(${what}, "i32"))` : ""}`,
      );
    return t;
  }
  const t = tensor(x as NestedArray);
  if (t.dtype === "bool") fail(`${op}: ${what} must be integers, got booleans`);
  if (t.dtype === "i64") return t;
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++)
    if (!Number.isInteger(v[i]))
      fail(`${op}: ${what} must be whole numbers, got ${String(v[i])} at flat position ${i}`);
  return cast(t, "i32");
}

/** Two operands as tensors of one dtype `common` (weak scalars adopted), plus that dtype. */
function unify(
  _op: string,
  a: TensorLike,
  b: TensorLike,
  rule: (x: DType, y: DType) => DType,
): [Tensor, Tensor, DType] {
  if (isWeak(a) && isWeak(b)) {
    a = tensor(a);
    b = tensor(b);
  }
  let ta: Tensor;
  let tb: Tensor;
  if (isWeak(a)) {
    tb = asTensor(b);
    const d = rule(weakDType(tb.dtype, a), tb.dtype);
    return [scalar(a, d), cast(tb, d), d];
  }
  if (isWeak(b)) {
    ta = asTensor(a);
    const d = rule(ta.dtype, weakDType(ta.dtype, b));
    return [cast(ta, d), scalar(b, d), d];
  }
  ta = asTensor(a);
  tb = asTensor(b);
  const d = rule(ta.dtype, tb.dtype);
  return [cast(ta, d), cast(tb, d), d];
}

/** The NumPy broadcast of two shapes, or a TensorError naming the op, shapes and dtypes. */
export function broadcastShapes(op: string, a: Tensor, b: Tensor): number[] {
  return broadcastMany(op, [a, b]);
}

/** NumPy broadcast of two shapes, or null. */
function broadcastLists(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastMany(op: string, ts: readonly Tensor[]): number[] {
  const rank = Math.max(...ts.map((t) => t.rank));
  const out = new Array<number>(rank).fill(1);
  for (const t of ts) {
    const off = rank - t.rank;
    for (let i = 0; i < t.rank; i++) {
      const d = t.shape[i]!;
      const o = out[off + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else
        fail(
          `${op}: shapes ${ts.map((x) => fmt(x.shape)).join(" and ")} cannot be broadcast together (${ts.map((x) => x.dtype).join(", ")})`,
        );
    }
  }
  return out;
}

function binary(
  op: string,
  prim: Prim,
  a: TensorLike,
  b: TensorLike,
  rule: (x: DType, y: DType) => DType,
  outRule?: (d: DType) => DType,
): Tensor {
  const [ta, tb, d] = unify(op, a, b, rule);
  const shape = broadcastMany(op, [ta, tb]);
  return emit(prim, [ta, tb], {}, shape, outRule ? outRule(d) : d);
}

const floatRule = (x: DType, y: DType): DType => floatType(arithmeticType(x, y));
const boolOut = (): DType => "bool";
const toBool = (): DType => "bool";

/** a + b with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary("add", "add", a, b, arithmeticType);
}
/** a − b. */
export function subtract(a: TensorLike, b: TensorLike): Tensor {
  return binary("subtract", "sub", a, b, arithmeticType);
}
/** a · b (element-wise). */
export function multiply(a: TensorLike, b: TensorLike): Tensor {
  return binary("multiply", "mul", a, b, arithmeticType);
}
/** a / b, true division: integer inputs give f32 (use floorDivide for integer division). */
export function divide(a: TensorLike, b: TensorLike): Tensor {
  return binary("divide", "div", a, b, floatRule);
}
/** a ** b. Integer tensors stay integer (negative integer exponents give 0 or ±1 as in C). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary("pow", "pow", a, b, arithmeticType);
}
/** Element-wise maximum. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary("maximum", "max", a, b, promote);
}
/** Element-wise minimum. */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary("minimum", "min", a, b, promote);
}

/** Remainder with the sign of the divisor (NumPy `%`). Integer x % 0 gives 0. */
export function remainder(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, d] = unify("remainder", a, b, arithmeticType);
  const shape = broadcastMany("remainder", [ta, tb]);
  if (isFloat(d)) return emit("mod", [ta, tb], {}, shape, d);
  const zero = equal(tb, 0);
  const safe = where(zero, scalar(1, d), tb);
  return where(
    zero,
    scalar(0, d),
    emit("mod", [ta, safe], {}, broadcastMany("remainder", [ta, safe]), d),
  );
}

/** Floor division (NumPy `//`): floor(a / b); integer inputs stay integer, x // 0 gives 0. */
export function floorDivide(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, d] = unify("floorDivide", a, b, arithmeticType);
  if (isFloat(d)) return floor(divide(ta, tb));
  broadcastMany("floorDivide", [ta, tb]);
  const zero = equal(tb, 0);
  const safe = where(zero, scalar(1, d), tb);
  const r = emit("mod", [ta, safe], {}, broadcastMany("floorDivide", [ta, safe]), d);
  const diff = subtract(ta, r);
  const q = emit("div", [diff, safe], {}, broadcastMany("floorDivide", [diff, safe]), d);
  return where(zero, scalar(0, d), q);
}

/** Integer division truncated toward zero (Nx.quotient, C `/`); integer inputs only; x / 0 gives 0. */
export function quotient(a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb, d] = unify("quotient", a, b, arithmeticType);
  if (!isInt(d))
    fail(
      `quotient: integer tensors only, got ${desc(ta)} and ${desc(tb)}; use divide or floorDivide`,
    );
  broadcastMany("quotient", [ta, tb]);
  const zero = equal(tb, 0);
  const safe = where(zero, scalar(1, d), tb);
  return where(
    zero,
    scalar(0, d),
    emit("div", [ta, safe], {}, broadcastMany("quotient", [ta, safe]), d),
  );
}

function comparison(op: string, prim: Prim, a: TensorLike, b: TensorLike): Tensor {
  return binary(op, prim, a, b, promote, boolOut);
}
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return comparison("equal", "eq", a, b);
}
export function notEqual(a: TensorLike, b: TensorLike): Tensor {
  return comparison("notEqual", "ne", a, b);
}
export function less(a: TensorLike, b: TensorLike): Tensor {
  return comparison("less", "lt", a, b);
}
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return comparison("lessEqual", "le", a, b);
}
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return comparison("greater", "gt", a, b);
}
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return comparison("greaterEqual", "ge", a, b);
}

/** Logical ops treat non-zero as true and give bool. */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  return binary("logicalAnd", "and", a, b, toBool);
}
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  return binary("logicalOr", "or", a, b, toBool);
}
export function logicalXor(a: TensorLike, b: TensorLike): Tensor {
  return binary("logicalXor", "xor", a, b, toBool);
}
export function logicalNot(a: TensorLike): Tensor {
  const t = cast(asTensor(a), "bool");
  return emit("not", [t], {}, t.shape, "bool");
}

/** Converts to another dtype: float → int truncates toward zero, non-zero → true for bool. */
export function cast(x: TensorLike, dtype: DType): Tensor {
  const t = asTensor(x);
  checkDType("cast", dtype);
  if (t.dtype === dtype) return t;
  return emit("cast", [t], { to: dtype }, t.shape, dtype);
}

function unary(op: string, prim: Prim, x: TensorLike, kind: "float" | "numeric"): Tensor {
  let t = asTensor(x);
  if (kind === "float") t = cast(t, floatType(t.dtype));
  else if (t.dtype === "bool") fail(`${op}: not defined for bool tensors (${desc(t)}); cast first`);
  return emit(prim, [t], {}, t.shape, t.dtype);
}

export function negate(x: TensorLike): Tensor {
  return unary("negate", "neg", x, "numeric");
}
export function abs(x: TensorLike): Tensor {
  return unary("abs", "abs", x, "numeric");
}
/** Sign: −1, 0 or 1 (dtype kept). */
export function sign(x: TensorLike): Tensor {
  return unary("sign", "sign", x, "numeric");
}
export function exp(x: TensorLike): Tensor {
  return unary("exp", "exp", x, "float");
}
/** Natural logarithm. */
export function log(x: TensorLike): Tensor {
  return unary("log", "log", x, "float");
}
export function sqrt(x: TensorLike): Tensor {
  return unary("sqrt", "sqrt", x, "float");
}
export function tanh(x: TensorLike): Tensor {
  return unary("tanh", "tanh", x, "float");
}
export function sigmoid(x: TensorLike): Tensor {
  return unary("sigmoid", "sigmoid", x, "float");
}
export function sin(x: TensorLike): Tensor {
  return unary("sin", "sin", x, "float");
}
export function cos(x: TensorLike): Tensor {
  return unary("cos", "cos", x, "float");
}
/** max(x, 0), dtype kept (u8 unchanged). */
export function relu(x: TensorLike): Tensor {
  const t = asTensor(x);
  if (t.dtype === "u8") return t;
  return unary("relu", "relu", t, "numeric");
}
export function square(x: TensorLike): Tensor {
  const t = asTensor(x);
  return multiply(t, t);
}
/** log(1 + x) (float). */
export function log1p(x: TensorLike): Tensor {
  const t = asTensor(x);
  return log(add(cast(t, floatType(t.dtype)), 1));
}
/** 1 / sqrt(x) (float). */
export function rsqrt(x: TensorLike): Tensor {
  return divide(1, sqrt(x));
}
/** 1 / x (float). */
export function reciprocal(x: TensorLike): Tensor {
  return divide(1, asTensor(x));
}

function rounding(op: string, prim: Prim, x: TensorLike): Tensor {
  const t = asTensor(x);
  if (!isFloat(t.dtype)) return t;
  return emit(prim, [t], {}, t.shape, t.dtype);
}
export function floor(x: TensorLike): Tensor {
  return rounding("floor", "floor", x);
}
export function ceil(x: TensorLike): Tensor {
  return rounding("ceil", "ceil", x);
}
/** Round half to even (as NumPy). */
export function round(x: TensorLike): Tensor {
  return rounding("round", "round", x);
}
/** True where x is NaN. */
export function isNaN(x: TensorLike): Tensor {
  const t = asTensor(x);
  if (!isFloat(t.dtype)) return zeros(t.shape, { dtype: "bool" });
  return emit("isnan", [t], {}, t.shape, "bool");
}

/** Clamps x to [min, max]. */
export function clip(x: TensorLike, min: TensorLike, max: TensorLike): Tensor {
  return minimum(maximum(x, min), max);
}

/** Elements of a where cond is true, else of b (cond: non-zero is true), with broadcasting. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const c = cast(asTensor(cond), "bool");
  const [ta, tb, d] = unify("where", a, b, promote);
  const shape = broadcastMany("where", [c, ta, tb]);
  return emit("where", [c, ta, tb], {}, shape, d);
}

/** Stops gradients: the identity forward, zero derivative. */
export function stopGradient(x: TensorLike): Tensor {
  const t = asTensor(x);
  return emit("stopGradient", [t], {}, t.shape, t.dtype);
}

// ---------------------------------------------------------------------------------------------
// Reductions

function reduceOpts(o: ReduceArg | undefined): ReduceOptions | undefined {
  if (o === undefined) return undefined;
  if (typeof o === "number" || Array.isArray(o)) return { axes: o as number | readonly number[] };
  const r = o as ReduceOptions & { keepdims?: boolean };
  return r.keepDims === undefined && r.keepdims !== undefined ? { ...r, keepDims: r.keepdims } : r;
}

function axisOpt(o: number | { axis?: number } | undefined, fallback: number): number {
  if (typeof o === "number") return o;
  return o?.axis ?? fallback;
}

function reduceAxes(op: string, t: Tensor, opts: ReduceOptions | undefined): number[] {
  const spec = opts?.axes ?? opts?.axis;
  if (spec === undefined || spec === null) return t.shape.map((_, i) => i);
  const list = typeof spec === "number" ? [spec] : [...spec];
  const axes = list.map((a) => normAxis(op, a, t.rank));
  if (new Set(axes).size !== axes.length) fail(`${op}: repeated axis in ${fmt(list)}`);
  return axes.sort((x, y) => x - y);
}

function reducedShape(shape: readonly number[], axes: readonly number[], keep: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

function reduction(
  op: string,
  prim: Prim,
  x: TensorLike,
  arg: ReduceArg | undefined,
  dtype: (d: DType) => DType,
): Tensor {
  const opts = reduceOpts(arg);
  const t0 = asTensor(x);
  const axes = reduceAxes(op, t0, opts);
  const keep = opts?.keepDims ?? false;
  const d = dtype(t0.dtype);
  const t = cast(t0, d);
  if ((prim === "reduceMax" || prim === "reduceMin") && axes.some((a) => t.shape[a] === 0)) {
    fail(
      `${op}: cannot reduce an empty axis (${desc(t)}, axes ${fmt(axes)}): the result has no identity`,
    );
  }
  return emit(prim, [t], { axes, keepDims: keep }, reducedShape(t.shape, axes, keep), d);
}

const sumType = (d: DType): DType => (d === "bool" || d === "u8" ? "i32" : d);

/** Sum over axes (all by default); bool and u8 sum in i32. */
export function sum(x: TensorLike, opts?: ReduceArg): Tensor {
  return reduction("sum", "reduceSum", x, opts, sumType);
}
/** Mean over axes; integer inputs give f32. */
export function mean(x: TensorLike, arg?: ReduceArg): Tensor {
  const opts = reduceOpts(arg);
  const t = cast(asTensor(x), floatType(asTensor(x).dtype));
  const axes = reduceAxes("mean", t, opts);
  if (t.isSymbolic) {
    // traced: the count is read from the run-time shape, so a batch-polymorphic graph stays right
    return divide(sum(t, opts), emit("count", [t], { axes }, [], t.dtype));
  }
  const count = axes.reduce((n, a) => n * t.shape[a]!, 1);
  return divide(sum(t, opts), count);
}
/** Maximum over axes (error on an empty axis). */
export function max(x: TensorLike, opts?: ReduceArg): Tensor {
  return reduction("max", "reduceMax", x, opts, (d) => d);
}
/** Minimum over axes (error on an empty axis). */
export function min(x: TensorLike, opts?: ReduceArg): Tensor {
  return reduction("min", "reduceMin", x, opts, (d) => d);
}

function argReduce(
  op: string,
  prim: Prim,
  x: TensorLike,
  arg: ArgReduceOptions | number | undefined,
): Tensor {
  const opts: ArgReduceOptions | undefined = typeof arg === "number" ? { axis: arg } : arg;
  let t = asTensor(x);
  const keep = opts?.keepDims ?? false;
  let axis: number;
  const origRank = t.rank;
  if (opts?.axis === undefined) {
    t = reshape(t, [-1]);
    axis = 0;
  } else axis = normAxis(op, opts.axis, t.rank);
  if (t.shape[axis] === 0)
    fail(`${op}: cannot take ${op} of an empty axis (${desc(t)}, axis ${axis})`);
  const out = emit(prim, [t], { axis, keepDims: keep }, reducedShape(t.shape, [axis], keep), "i64");
  if (opts?.axis === undefined && keep) return reshape(out, new Array<number>(origRank).fill(1));
  return out;
}
/** Variance over axes (population by default; `ddof: 1` for the sample variance); float result. */
export function variance(x: TensorLike, arg?: ReduceArg & { ddof?: number }): Tensor {
  const opts = reduceOpts(arg);
  const ddof =
    (typeof arg === "object" && !Array.isArray(arg)
      ? (arg as { ddof?: number }).ddof
      : undefined) ?? 0;
  const t = cast(asTensor(x), floatType(asTensor(x).dtype));
  const axes = reduceAxes("variance", t, opts);
  const centered = subtract(t, mean(t, { axes, keepDims: true }));
  const keepDims = opts?.keepDims ?? false;
  if (ddof === 0) return mean(square(centered), { axes, keepDims });
  const count = axes.reduce((n, a) => n * t.shape[a]!, 1);
  return divide(sum(square(centered), { axes, keepDims }), count - ddof);
}

/** Standard deviation over axes (see variance). */
export function standardDeviation(x: TensorLike, arg?: ReduceArg & { ddof?: number }): Tensor {
  return sqrt(variance(x, arg));
}

/** True where any element over the axes is non-zero. */
export function any(x: TensorLike, arg?: ReduceArg): Tensor {
  return greater(sum(cast(asTensor(x), "bool"), arg), 0);
}

/** True where all elements over the axes are non-zero (true for an empty axis). */
export function all(x: TensorLike, arg?: ReduceArg): Tensor {
  const t = cast(asTensor(x), "bool");
  return logicalNot(any(logicalNot(t), arg));
}

/** Index of the maximum along an axis (the flattened tensor when no axis); ties give the first index; i64. */
export function argmax(x: TensorLike, opts?: ArgReduceOptions | number): Tensor {
  return argReduce("argmax", "argMax", x, opts);
}
/** Index of the minimum along an axis; ties give the first index; i64. */
export function argmin(x: TensorLike, opts?: ArgReduceOptions | number): Tensor {
  return argReduce("argmin", "argMin", x, opts);
}

/** The max over axes kept as size-1 dims, for stabilising exp: NaN need not propagate (the caller's exp does). */
function shiftMax(t: Tensor, axes: number[]): Tensor {
  if (axes.some((a) => t.shape[a] === 0))
    fail(
      `max: cannot reduce an empty axis (${desc(t)}, axes ${fmt(axes)}): the result has no identity`,
    );
  return stopGradient(
    emit(
      "reduceMax",
      [t],
      { axes, keepDims: true, skipNaN: true },
      reducedShape(t.shape, axes, true),
      t.dtype,
    ),
  );
}

/** log(sum(exp(x))) over axes, computed stably. */
export function logSumExp(x: TensorLike, arg?: ReduceArg): Tensor {
  const opts = reduceOpts(arg);
  const t = cast(asTensor(x), floatType(asTensor(x).dtype));
  const axes = reduceAxes("logSumExp", t, opts);
  const m0 = shiftMax(t, axes);
  const m = where(less(abs(m0), Infinity), m0, 0);
  const out = add(log(sum(exp(subtract(t, m)), { axes, keepDims: true })), m);
  return opts?.keepDims ? out : reshape(out, reducedShape(t.shape, axes, false));
}

/** softmax along an axis (default −1). */
export function softmax(x: TensorLike, opts?: number | { axis?: number }): Tensor {
  const t = cast(asTensor(x), floatType(asTensor(x).dtype));
  const axis = normAxis("softmax", axisOpt(opts, -1), t.rank);
  if (t.size === 0) {
    const e = exp(subtract(t, shiftMax(t, [axis])));
    return divide(e, sum(e, { axes: axis, keepDims: true }));
  }
  // one primitive (ONNX Softmax): attention's forward is one kernel, its backward four
  return emit("softmax", [t], { axis }, t.shape, t.dtype);
}

/** log(softmax(x)) along an axis (default −1), computed stably. */
export function logSoftmax(x: TensorLike, opts?: number | { axis?: number }): Tensor {
  const t = cast(asTensor(x), floatType(asTensor(x).dtype));
  const axis = normAxis("logSoftmax", axisOpt(opts, -1), t.rank);
  if (t.shape[axis] === 0)
    fail(`logSoftmax: cannot reduce an empty axis (${desc(t)}, axis ${axis})`);
  // one primitive (ONNX LogSoftmax, numerically stable): a training step's loss is a few kernels shorter
  return emit("logSoftmax", [t], { axis }, t.shape, t.dtype);
}

// ---------------------------------------------------------------------------------------------
// Shape ops

/** Same values, new shape; one dimension may be −1 (inferred). */
export function reshape(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor(x);
  const s = shape.slice();
  const neg = s.filter((d) => d === -1).length;
  if (neg > 1 || s.some((d) => !Number.isInteger(d) || d < -1))
    fail(`reshape: invalid target shape ${fmt(shape)}`);
  if (neg === 1) {
    const known = sizeOf(s.filter((d) => d !== -1));
    const i = s.indexOf(-1);
    if (known === 0 || t.size % known !== 0)
      fail(`reshape: cannot reshape ${desc(t)} (${t.size} elements) into ${fmt(shape)}`);
    s[i] = t.size / known;
  }
  if (sizeOf(s) !== t.size)
    fail(`reshape: cannot reshape ${desc(t)} (${t.size} elements) into ${fmt(shape)}`);
  if (s.length === t.rank && s.every((d, i) => d === t.shape[i])) return t;
  return emit("reshape", [t], { shape: s }, s, t.dtype);
}

/** Permutes axes (reverses them by default). */
export function transpose(
  x: TensorLike,
  permOrOpts?: readonly number[] | { axes?: readonly number[] },
): Tensor {
  const t = asTensor(x);
  const perm =
    permOrOpts && !Array.isArray(permOrOpts)
      ? (permOrOpts as { axes?: readonly number[] }).axes
      : (permOrOpts as readonly number[] | undefined);
  const p = perm
    ? perm.map((a) => normAxis("transpose", a, t.rank))
    : t.shape.map((_, i) => t.rank - 1 - i);
  if (p.length !== t.rank || new Set(p).size !== p.length)
    fail(`transpose: ${fmt(perm ?? [])} is not a permutation of the axes of ${desc(t)}`);
  if (p.every((a, i) => a === i)) return t;
  return emit(
    "transpose",
    [t],
    { perm: p },
    p.map((a) => t.shape[a]!),
    t.dtype,
  );
}

/** Removes size-1 axes (all of them, or the given ones, which must have size 1). */
export function squeeze(x: TensorLike, axes?: number | readonly number[]): Tensor {
  const t = asTensor(x);
  let list: number[];
  if (axes === undefined) list = t.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else {
    list = (typeof axes === "number" ? [axes] : [...axes]).map((a) =>
      normAxis("squeeze", a, t.rank),
    );
    for (const a of list)
      if (t.shape[a] !== 1) fail(`squeeze: axis ${a} of ${desc(t)} has size ${t.shape[a]}, not 1`);
  }
  return reshape(
    t,
    t.shape.filter((_, i) => !list.includes(i)),
  );
}

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function expandDims(x: TensorLike, axis: number): Tensor {
  const t = asTensor(x);
  const a = normAxis("expandDims", axis, t.rank + 1);
  const s = t.shape.slice();
  s.splice(a, 0, 1);
  return reshape(t, s);
}

/** Broadcasts to a shape (NumPy rules). */
export function broadcastTo(x: TensorLike, shape: readonly number[]): Tensor {
  const t = asTensor(x);
  const s = checkShape("broadcastTo", shape);
  const off = s.length - t.rank;
  const ok = off >= 0 && t.shape.every((d, i) => d === s[off + i] || d === 1);
  if (!ok) fail(`broadcastTo: cannot broadcast ${desc(t)} to ${fmt(s)}`);
  if (off === 0 && t.shape.every((d, i) => d === s[i])) return t;
  return emit("expand", [t], { shape: s }, s, t.dtype);
}

/** Joins tensors along an existing axis (dtypes promoted). */
export function concatenate(
  tensors: readonly TensorLike[],
  opts?: number | { axis?: number },
): Tensor {
  if (tensors.length === 0) fail("concatenate: needs at least one tensor");
  let ts = tensors.map(asTensor);
  const d = ts.map((t) => t.dtype).reduce(promote);
  ts = ts.map((t) => cast(t, d));
  const first = ts[0]!;
  if (first.rank === 0) fail("concatenate: cannot concatenate scalars; use stack");
  const axis = normAxis("concatenate", axisOpt(opts, 0), first.rank);
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((dim, i) => i !== axis && dim !== first.shape[i])) {
      fail(
        `concatenate: shapes ${ts.map((x) => fmt(x.shape)).join(", ")} differ outside axis ${axis}`,
      );
    }
  }
  if (ts.length === 1) return first;
  const shape = first.shape.slice();
  shape[axis] = ts.reduce((n, t) => n + t.shape[axis]!, 0);
  const nonEmpty = ts.filter((t) => t.shape[axis]! > 0);
  if (nonEmpty.length === 1) return nonEmpty[0]!;
  if (nonEmpty.length === 0) return zeros(shape, { dtype: d });
  return emit("concat", nonEmpty, { axis }, shape, d);
}

/** Joins tensors along a new axis. */
export function stack(tensors: readonly TensorLike[], opts?: number | { axis?: number }): Tensor {
  if (tensors.length === 0) fail("stack: needs at least one tensor");
  const ts = tensors.map(asTensor);
  const first = ts[0]!;
  for (const t of ts)
    if (t.rank !== first.rank || t.shape.some((d, i) => d !== first.shape[i]))
      fail(`stack: shapes ${ts.map((x) => fmt(x.shape)).join(", ")} differ`);
  const axis = normAxis("stack", axisOpt(opts, 0), first.rank + 1);
  return concatenate(
    ts.map((t) => expandDims(t, axis)),
    { axis },
  );
}

/**
 * A slice: `begin` per axis (negative counts from the end), `size` per axis (−1 or omitted: to
 * the end), `strides` per axis (positive, default 1). Shorter lists leave trailing axes whole.
 */
export function slice(
  x: TensorLike,
  begin: readonly number[],
  size?: readonly number[],
  strides?: readonly number[],
): Tensor {
  const t = asTensor(x);
  if (begin.length > t.rank) fail(`slice: ${begin.length} begin indices for ${desc(t)}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const shape: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    const dim = t.shape[i]!;
    let b = begin[i] ?? 0;
    if (b < 0) b += dim;
    const sz = size?.[i] ?? -1;
    const e = sz === -1 ? dim : b + sz;
    const st = strides?.[i] ?? 1;
    if (!Number.isInteger(st) || st <= 0)
      fail(`slice: strides must be positive integers, got ${fmt(strides ?? [])}`);
    if (!Number.isInteger(b) || b < 0 || b > dim || e > dim || e < b) {
      fail(
        `slice: begin ${fmt(begin)} size ${fmt(size ?? [])} is out of bounds for ${desc(t)} at axis ${i}`,
      );
    }
    starts.push(b);
    ends.push(e);
    steps.push(st);
    shape.push(Math.ceil((e - b) / st));
  }
  if (starts.every((b, i) => b === 0 && ends[i] === t.shape[i] && steps[i] === 1)) return t;
  return emit(
    "slice",
    [t],
    { starts, ends, axes: t.shape.map((_, i) => i), steps },
    shape,
    t.dtype,
  );
}

/**
 * @internal One Slice primitive from normalised per-axis windows (start ≥ 0, step ≠ 0, count ≥ 0),
 * as Python's `slice.indices` gives them; negative steps walk backwards from start.
 */
export function sliceSteps(
  t: Tensor,
  starts: readonly number[],
  steps: readonly number[],
  counts: readonly number[],
): Tensor {
  if (counts.every((c, i) => c === t.shape[i] && steps[i] === 1)) return t;
  const ends = starts.map((b, i) => {
    const e = b + counts[i]! * steps[i]!;
    return e < 0 ? -(2 ** 62) : e; // a negative end would count from the end: "before index 0"
  });
  return emit(
    "slice",
    [t],
    { starts: starts.slice(), ends, axes: t.shape.map((_, i) => i), steps: steps.slice() },
    counts,
    t.dtype,
  );
}

/** Elements at integer `indices` along an axis (NumPy take; negative indices count from the end). */
export function take(
  x: TensorLike,
  indices: TensorLike,
  opts?: number | { axis?: number },
): Tensor {
  const t = asTensor(x);
  const idx = asIndices("take", indices);
  if (t.rank === 0) fail(`take: cannot index a scalar (${desc(t)})`);
  const axis = normAxis("take", axisOpt(opts, 0), t.rank);
  const n = t.shape[axis]!;
  const ind = idx.dtype === "u8" ? cast(idx, "i32") : idx;
  if (!ind.isSymbolic) {
    for (const v of ind.dataSync()) {
      const k = Number(v);
      if (k < -n || k >= n)
        fail(`take: index ${k} is out of bounds for axis ${axis} with size ${n} (${desc(t)})`);
    }
  }
  const shape = [...t.shape.slice(0, axis), ...ind.shape, ...t.shape.slice(axis + 1)];
  return emit("gather", [t, ind], { axis }, shape, t.dtype);
}

/**
 * Elements of x at `indices` along an axis, where indices has x's rank (NumPy take_along_axis):
 * out[i][j] = x[i][indices[i][j]] for axis 1. Size-1 dimensions of indices broadcast.
 */
export function takeAlongAxis(
  x: TensorLike,
  indices: TensorLike,
  opts?: number | { axis?: number },
): Tensor {
  const t = asTensor(x);
  let idx = asIndices("takeAlongAxis", indices);
  if (idx.rank !== t.rank || t.rank === 0)
    fail(`takeAlongAxis: indices ${desc(idx)} must have the rank of ${desc(t)}`);
  const axis = normAxis("takeAlongAxis", axisOpt(opts, -1), t.rank);
  const target = idx.shape.map((d, i) => (i === axis ? d : t.shape[i]!));
  if (idx.shape.some((d, i) => i !== axis && d !== target[i] && d !== 1))
    fail(`takeAlongAxis: indices ${desc(idx)} do not match ${desc(t)} outside axis ${axis}`);
  idx = broadcastTo(idx.dtype === "u8" ? cast(idx, "i32") : idx, target);
  const n = t.shape[axis]!;
  if (!idx.isSymbolic) {
    for (const v of idx.dataSync()) {
      const k = Number(v);
      if (k < -n || k >= n)
        fail(
          `takeAlongAxis: index ${k} is out of bounds for axis ${axis} with size ${n} (${desc(t)})`,
        );
    }
  }
  if (idx.size === 0) return zeros(target, { dtype: t.dtype });
  return emit("gatherElements", [t, idx], { axis }, target, t.dtype);
}

/** The k largest (or smallest) elements along an axis (default −1), sorted, with their i64 indices; ties keep the lower index first. */
export function topK(
  x: TensorLike,
  k: number,
  opts: { axis?: number; largest?: boolean } = {},
): { values: Tensor; indices: Tensor } {
  const t = asTensor(x);
  if (t.rank === 0) fail(`topK: needs at least one axis (${desc(t)})`);
  const axis = normAxis("topK", opts.axis ?? -1, t.rank);
  const n = t.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > n)
    fail(`topK: k = ${k} must be an integer in [0, ${n}] for axis ${axis} of ${desc(t)}`);
  const largest = opts.largest ?? true;
  const shape = t.shape.map((d, i) => (i === axis ? k : d));
  if (sizeOf(shape) === 0) {
    const indices = zeros(shape, { dtype: "i64" });
    return { values: takeAlongAxis(t, indices, axis), indices };
  }
  let indices: Tensor;
  if (isFloat(t.dtype) && (t.isSymbolic || hasNaN(t))) {
    // ONNX Runtime's TopK orders NaN first both ways; NumPy and Nx sort NaN last (NaN counts as
    // larger than +Inf): order the values with NaN replaced, then stable-order by "is NaN"
    const nan = isNaN(t);
    const full = t.shape.slice();
    const p1 = emit("topkIndices", [where(nan, 0, t)], { k: n, axis, largest }, full, "i64");
    const key = takeAlongAxis(cast(nan, "i32"), p1, axis);
    const p2 = emit("topkIndices", [key], { k: n, axis, largest }, full, "i64");
    indices = takeAlongAxis(p1, p2, axis);
    if (k < n)
      indices = slice(
        indices,
        [],
        shape.map((d, i) => (i === axis ? k : -1)),
      );
  } else indices = emit("topkIndices", [t], { k, axis, largest }, shape, "i64");
  return { values: takeAlongAxis(t, indices, axis), indices };
}

function hasNaN(t: Tensor): boolean {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i]) return true;
  return false;
}

/** Indices that sort x along an axis (default −1), ascending unless descending; stable (i64). */
export function argsort(x: TensorLike, opts: { axis?: number; descending?: boolean } = {}): Tensor {
  const t = asTensor(x);
  const axis = normAxis("argsort", opts.axis ?? -1, Math.max(t.rank, 1));
  return topK(t, t.shape[axis] ?? 0, { axis, largest: opts.descending ?? false }).indices;
}

/** x sorted along an axis (default −1), ascending unless descending. */
export function sort(x: TensorLike, opts: { axis?: number; descending?: boolean } = {}): Tensor {
  const t = asTensor(x);
  const axis = normAxis("sort", opts.axis ?? -1, Math.max(t.rank, 1));
  return topK(t, t.shape[axis] ?? 0, { axis, largest: opts.descending ?? false }).values;
}

/** Cumulative sum along an axis (default 0; `reverse` sums from the end, `exclusive` leaves out the element itself); bool/u8 sum in i32. */
export function cumsum(
  x: TensorLike,
  opts: number | { axis?: number; reverse?: boolean; exclusive?: boolean } = {},
): Tensor {
  const o = typeof opts === "number" ? { axis: opts } : opts;
  const t0 = asTensor(x);
  const t = cast(t0, sumType(t0.dtype));
  if (t.rank === 0) return t;
  const axis = normAxis("cumsum", o.axis ?? 0, t.rank);
  return emit(
    "cumsum",
    [t],
    { axis, reverse: o.reverse ?? false, exclusive: o.exclusive ?? false },
    t.shape,
    t.dtype,
  );
}

/** x with the order of elements reversed along the given axes (all by default). */
export function reverse(x: TensorLike, axes?: number | readonly number[]): Tensor {
  let t = asTensor(x);
  const list =
    axes === undefined
      ? t.shape.map((_, i) => i)
      : (typeof axes === "number" ? [axes] : [...axes]).map((a) => normAxis("reverse", a, t.rank));
  if (!list.some((a) => t.shape[a]! > 1)) return t;
  const rev = new Set(list);
  return sliceSteps(
    t,
    t.shape.map((d, i) => (rev.has(i) ? d - 1 : 0)),
    t.shape.map((_, i) => (rev.has(i) ? -1 : 1)),
    t.shape,
  );
}

/** Same as take (NumPy take / Nx.take semantics). */
export const gather = take;

/** Pads with a constant: `widths[i] = [before, after]` for every axis. */
export function pad(
  x: TensorLike,
  widths: ReadonlyArray<readonly [number, number] | readonly [number, number, number]>,
  value = 0,
): Tensor {
  const t = asTensor(x);
  if (widths.some((w) => w.length === 3 && w[2] !== 0))
    fail(`pad: interior padding is not supported (${JSON.stringify(widths)})`);
  widths = widths.map((w) => (w.length === 3 ? ([w[0], w[1]] as const) : w));
  if (widths.length !== t.rank) fail(`pad: ${widths.length} pad widths for ${desc(t)}`);
  for (const w of widths)
    if (w.length !== 2 || w.some((v) => !Number.isInteger(v)))
      fail(`pad: widths must be [before, after] pairs of integers, got ${JSON.stringify(widths)}`);
  if (widths.some((w) => w[0] < 0 || w[1]! < 0)) {
    // negative widths crop (as in Nx): pad the positive parts, then slice the negative ones away
    const padded = pad(
      t,
      widths.map((w) => [Math.max(0, w[0]), Math.max(0, w[1]!)] as const),
      value,
    );
    const begin = widths.map((w) => Math.max(0, -w[0]));
    const size = padded.shape.map((d, i) => d - begin[i]! - Math.max(0, -widths[i]![1]!));
    if (size.some((d) => d < 0))
      fail(`pad: widths ${JSON.stringify(widths)} crop more than ${desc(t)} has`);
    return slice(padded, begin, size);
  }
  if (widths.every(([a, b]) => a === 0 && b === 0)) return t;
  const pads = [...widths.map((w) => w[0]), ...widths.map((w) => w[1]!)];
  const shape = t.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]!);
  return emit("pad", [t], { pads, value: Number(coerce(t.dtype, value)) }, shape, t.dtype);
}

/** One-hot encoding: a new last axis of size `depth`; out-of-range indices give all zeros. */
export function oneHot(indices: TensorLike, depth: number, opts: CreateOptions = {}): Tensor {
  const idx = asIndices("oneHot", indices);
  if (!Number.isInteger(depth) || depth < 0)
    fail(`oneHot: depth must be a non-negative integer, got ${depth}`);
  const hot = equal(
    expandDims(idx, -1),
    arange(depth, undefined, 1, { dtype: idx.dtype === "u8" ? "i32" : idx.dtype }),
  );
  return cast(hot, opts.dtype ?? "f32");
}

// ---------------------------------------------------------------------------------------------
// Linear algebra

/** Matrix product with NumPy matmul semantics: 1-D operands are promoted, leading dims broadcast. */
export function matmul(a: TensorLike, b: TensorLike): Tensor {
  const [ta0, tb0, d] = unify("matmul", a, b, arithmeticType);
  if (ta0.rank === 0 || tb0.rank === 0)
    fail(`matmul: scalar operands are not allowed (${desc(ta0)}, ${desc(tb0)}); use multiply`);
  const ta = ta0.rank === 1 ? reshape(ta0, [1, ta0.shape[0]!]) : ta0;
  const tb = tb0.rank === 1 ? reshape(tb0, [tb0.shape[0]!, 1]) : tb0;
  const k1 = ta.shape[ta.rank - 1]!;
  const k2 = tb.shape[tb.rank - 2]!;
  if (k1 !== k2)
    fail(
      `matmul: shapes ${fmt(ta0.shape)} and ${fmt(tb0.shape)} do not align (${k1} ≠ ${k2}; ${ta0.dtype}, ${tb0.dtype})`,
    );
  const batch = broadcastLists(ta.shape.slice(0, -2), tb.shape.slice(0, -2));
  if (!batch)
    fail(
      `matmul: batch dimensions of ${fmt(ta0.shape)} and ${fmt(tb0.shape)} cannot be broadcast together (${ta0.dtype}, ${tb0.dtype})`,
    );
  const shape = [...batch, ta.shape[ta.rank - 2]!, tb.shape[tb.rank - 1]!];
  let out = emit("matmul", [ta, tb], {}, shape, d);
  if (ta0.rank === 1) out = squeeze(out, -2);
  if (tb0.rank === 1) out = squeeze(out, -1);
  return out;
}

/** Dot product: scalars multiply; otherwise matmul (1-D · 1-D gives a scalar). */
export function dot(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  if (ta.rank === 0 || tb.rank === 0) return multiply(ta, tb);
  return matmul(ta, tb);
}

/** Sums a (broadcast) gradient back to `shape`: over leading axes and axes where shape has 1. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const off = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < off || (shape[i - off] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (
    g.rank === 2 &&
    axes.length === 1 &&
    axes[0] === 0 &&
    isFloat(g.dtype) &&
    g.shape[0]! >= 16 &&
    g.isSymbolic
  ) {
    // a bias gradient: summing the rows as ones[1, m] @ g runs faster than ReduceSum over axis 0
    const onesRow = broadcastTo(scalar(1, g.dtype), [1, g.shape[0]!]);
    return reshape(matmul(onesRow, g), shape);
  }
  const s = axes.length ? sum(g, { axes, keepDims: true }) : g;
  return reshape(s, shape);
}

/** @internal emit a primitive with attributes (used by grad rules). */
export function primitive(
  op: Prim,
  inputs: Tensor[],
  attrs: Attrs,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  return emit(op, inputs, attrs, shape, dtype);
}

// ---------------------------------------------------------------------------------------------
// Convolution and pooling (NCHW)

/** Error function, element-wise (float). */
export function erf(x: TensorLike): Tensor {
  return unary("erf", "erf", x, "float");
}

/** Padding of a 2-D window op: "valid" (none), "same" (output = ceil(input / stride), extra at the end), one number for all sides, or `[[top, bottom], [left, right]]`. */
export type Padding2d =
  "valid" | "same" | number | readonly [readonly [number, number], readonly [number, number]];

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Stride, one number or [vertical, horizontal]. Default 1. */
  strides?: number | readonly [number, number];
  /** Default "valid". */
  padding?: Padding2d;
  /** Kernel dilation, one number or [vertical, horizontal]. Default 1. */
  dilations?: number | readonly [number, number];
}

/** @internal */
export function pair(
  op: string,
  v: number | readonly [number, number] | undefined,
  what: string,
): [number, number] {
  const p: [number, number] =
    v === undefined ? [1, 1] : typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d > 0))
    fail(`${op}: ${what} must be positive integers, got ${JSON.stringify(v)}`);
  return p;
}

/** Pads [top, left, bottom, right] (ONNX order) for a window op. */
/** @internal */
export function windowPads(
  op: string,
  padding: Padding2d | undefined,
  size: readonly [number, number],
  kernel: readonly [number, number],
  strides: readonly [number, number],
): number[] {
  if (padding === undefined || padding === "valid") return [0, 0, 0, 0];
  if (padding === "same") {
    const total = [0, 1].map((i) =>
      Math.max(0, (Math.ceil(size[i]! / strides[i]!) - 1) * strides[i]! + kernel[i]! - size[i]!),
    );
    return [
      Math.floor(total[0]! / 2),
      Math.floor(total[1]! / 2),
      total[0]! - Math.floor(total[0]! / 2),
      total[1]! - Math.floor(total[1]! / 2),
    ];
  }
  if (typeof padding === "number") {
    if (!(Number.isInteger(padding) && padding >= 0))
      fail(`${op}: padding must be a non-negative integer, got ${padding}`);
    return [padding, padding, padding, padding];
  }
  if (Array.isArray(padding) && padding.length === 2) {
    const [[t, b], [l, r]] = padding;
    const p = [t, l, b, r];
    if (p.every((d) => Number.isInteger(d) && d >= 0)) return p;
  }
  return fail(
    `${op}: padding must be "valid", "same", a number or [[top, bottom], [left, right]], got ${JSON.stringify(padding)}`,
  );
}

/** Output size of a window op along one axis. */
/** @internal */
export function windowOut(
  size: number,
  k: number,
  stride: number,
  dil: number,
  lo: number,
  hi: number,
): number {
  return Math.floor((size + lo + hi - ((k - 1) * dil + 1)) / stride) + 1;
}

/** @internal shape of the conv primitive (attrs strides, pads, dilations). */
export function convShape(x: readonly number[], w: readonly number[], a: Attrs): number[] {
  const s = a.strides as number[];
  const p = a.pads as number[];
  const d = a.dilations as number[];
  return [
    x[0]!,
    w[0]!,
    windowOut(x[2]!, w[2]!, s[0]!, d[0]!, p[0]!, p[2]!),
    windowOut(x[3]!, w[3]!, s[1]!, d[1]!, p[1]!, p[3]!),
  ];
}

/**
 * 2-D convolution (cross-correlation, as every DL framework): input `x` NCHW `[n, c, h, w]`,
 * kernel `[outChannels, c, kh, kw]` → `[n, outChannels, h', w']`. Float only (ints are cast to f32).
 * Differentiable in both arguments (the input's gradient is a transposed convolution).
 */
export function conv2d(x: TensorLike, kernel: TensorLike, opts: Conv2dOptions = {}): Tensor {
  let tx = asTensor(x);
  let tw = asTensor(kernel);
  const d = floatType(arithmeticType(tx.dtype, tw.dtype));
  tx = cast(tx, d);
  tw = cast(tw, d);
  if (tx.rank !== 4 || tw.rank !== 4 || tx.shape[1] !== tw.shape[1])
    fail(
      `conv2d: input ${desc(tx)} and kernel ${desc(tw)} do not align (input [n, c, h, w], kernel [out, c, kh, kw])`,
    );
  const strides = pair("conv2d", opts.strides, "strides");
  const dilations = pair("conv2d", opts.dilations, "dilations");
  const eff: [number, number] = [
    (tw.shape[2]! - 1) * dilations[0] + 1,
    (tw.shape[3]! - 1) * dilations[1] + 1,
  ];
  const pads = windowPads("conv2d", opts.padding, [tx.shape[2]!, tx.shape[3]!], eff, strides);
  const attrs: Attrs = { strides, pads, dilations };
  const shape = convShape(tx.shape, tw.shape, attrs);
  if (shape[2]! <= 0 || shape[3]! <= 0)
    fail(`conv2d: kernel ${desc(tw)} is larger than the padded input ${desc(tx)}`);
  return emit("conv", [tx, tw], attrs, shape, d);
}

/** Options of {@link maxPool2d}. */
export interface Pool2dOptions {
  /** Stride, one number or [vertical, horizontal]. Default: the window size. */
  strides?: number | readonly [number, number];
  /** Default "valid". Padded positions never win. */
  padding?: Padding2d;
}

/**
 * 2-D max pooling over NCHW `[n, c, h, w]` with a `windowSize` (number or [kh, kw]) window.
 * Float only. Gradient: each window's gradient goes to its maximum (the first one on ties).
 */
export function maxPool2d(
  x: TensorLike,
  windowSize: number | readonly [number, number],
  opts: Pool2dOptions = {},
): Tensor {
  let tx = asTensor(x);
  tx = cast(tx, floatType(tx.dtype));
  if (tx.rank !== 4) fail(`maxPool2d: input must be [n, c, h, w], got ${desc(tx)}`);
  const kernel = pair("maxPool2d", windowSize, "windowSize");
  const strides = opts.strides === undefined ? kernel : pair("maxPool2d", opts.strides, "strides");
  const pads = windowPads("maxPool2d", opts.padding, [tx.shape[2]!, tx.shape[3]!], kernel, strides);
  const attrs: Attrs = { kernel, strides, pads };
  const shape = [
    tx.shape[0]!,
    tx.shape[1]!,
    windowOut(tx.shape[2]!, kernel[0], strides[0], 1, pads[0]!, pads[2]!),
    windowOut(tx.shape[3]!, kernel[1], strides[1], 1, pads[1]!, pads[3]!),
  ];
  if (shape[2]! <= 0 || shape[3]! <= 0)
    fail(`maxPool2d: window ${fmt(kernel)} is larger than the padded input ${desc(tx)}`);
  return emit("maxPool", [tx], attrs, shape, tx.dtype);
}
