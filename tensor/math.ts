/**
 * More element-wise math (trigonometric and hyperbolic functions and their inverses, expm1,
 * log2/log10, isInf/isFinite, bitwise ops on integers) and activations at tensor level, with
 * NumPy's names and semantics.
 *
 * ONNX Runtime's CPU kernels for Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh and Atanh are
 * f32 only: f32 inputs run those kernels (one primitive each, with a gradient rule in grad.ts);
 * f64 inputs are computed from f64 ops (exp, log, sqrt, sin, cos and an atan by argument
 * reduction and its series), so f64 keeps f64 precision and differentiates through the
 * composite. Integer and bool inputs give f32, as the other float functions do.
 *
 * Invariants: every function here is composed of ops.ts's public ops or one primitive, so it
 * traces under jit, differentiates under grad and lowers to standard ONNX.
 */
import { floatType, isFloat, isInt, promote } from "./dtype.ts";
import type { Prim } from "./lower.ts";
import * as o from "./ops.ts";
import { type Tensor, TensorError, type TensorLike, emit } from "./tensor.ts";

const asT = (x: TensorLike): Tensor => o.tensor(x);
const desc = (t: Tensor): string => `${t.dtype}[${t.shape.join(",")}]`;

/** x as the float dtype a float function computes in. */
function floaty(x: TensorLike): Tensor {
  const t = asT(x);
  return o.cast(t, floatType(t.dtype));
}

/** An f32 primitive for f32 input, else `f64` (the f64 composite). */
function viaF32Kernel(prim: Prim, x: TensorLike, f64: (t: Tensor) => Tensor): Tensor {
  const t = floaty(x);
  if (t.dtype === "f32") return emit(prim, [t], {}, t.shape, "f32");
  return f64(t);
}

/** atan in f64: |x| > 1 → ±π/2 − atan(1/x); two half-angle reductions to |x| ≤ 0.2; odd series. */
function atan64(x: Tensor): Tensor {
  const big = o.greater(o.abs(x), 1);
  const safe = o.where(big, o.divide(1, o.where(o.equal(x, 0), 1, x)), x); // |safe| ≤ 1
  let r = safe;
  for (let i = 0; i < 2; i++) r = o.divide(r, o.add(1, o.sqrt(o.add(1, o.multiply(r, r)))));
  const r2 = o.multiply(r, r);
  // r − r³/3 + r⁵/5 − … up to r^25 (|r| ≤ 0.1989: the next term is below 1e-19)
  let series: Tensor = o.full([], 1 / 25, { dtype: x.dtype });
  for (let k = 23; k >= 1; k -= 2) series = o.add(o.multiply(series, o.negate(r2)), 1 / k);
  const small = o.multiply(o.multiply(series, r), 4);
  const halfPi = o.multiply(o.sign(x), Math.PI / 2);
  return o.where(big, o.subtract(halfPi, small), small);
}

/** tan(x) (float). */
export function tan(x: TensorLike): Tensor {
  return viaF32Kernel("tan", x, (t) => o.divide(o.sin(t), o.cos(t)));
}
/** arcsin(x) (float; NaN outside [−1, 1]). */
export function asin(x: TensorLike): Tensor {
  return viaF32Kernel("asin", x, (t) => {
    const s = o.sqrt(o.subtract(1, o.multiply(t, t)));
    const edge = o.equal(s, 0);
    const a = atan64(o.divide(t, o.where(edge, 1, s)));
    return o.where(edge, o.multiply(o.sign(t), Math.PI / 2), a);
  });
}
/** arccos(x) (float; NaN outside [−1, 1]). */
export function acos(x: TensorLike): Tensor {
  return viaF32Kernel("acos", x, (t) => o.subtract(Math.PI / 2, asin(t)));
}
/** arctan(x) (float). */
export function atan(x: TensorLike): Tensor {
  return viaF32Kernel("atan", x, atan64);
}
/** sinh(x) (float). */
export function sinh(x: TensorLike): Tensor {
  return viaF32Kernel("sinh", x, (t) => o.divide(o.subtract(o.exp(t), o.exp(o.negate(t))), 2));
}
/** cosh(x) (float). */
export function cosh(x: TensorLike): Tensor {
  return viaF32Kernel("cosh", x, (t) => o.divide(o.add(o.exp(t), o.exp(o.negate(t))), 2));
}
/** arcsinh(x) (float). */
export function asinh(x: TensorLike): Tensor {
  return viaF32Kernel("asinh", x, (t) => {
    const a = o.abs(t);
    return o.multiply(o.sign(t), o.log(o.add(a, o.sqrt(o.add(o.multiply(a, a), 1)))));
  });
}
/** arccosh(x) (float; NaN below 1). */
export function acosh(x: TensorLike): Tensor {
  return viaF32Kernel("acosh", x, (t) => o.log(o.add(t, o.sqrt(o.subtract(o.multiply(t, t), 1)))));
}
/** arctanh(x) (float; ±Inf at ±1, NaN beyond). */
export function atanh(x: TensorLike): Tensor {
  return viaF32Kernel("atanh", x, (t) =>
    o.multiply(o.subtract(o.log1p(t), o.log1p(o.negate(t))), 0.5),
  );
}

/**
 * arctan(y / x) in the right quadrant (NumPy arctan2), with broadcasting: atan2(±0, +0) = ±0,
 * atan2(±0, −0) = ±π, atan2(y, 0) = ±π/2.
 */
export function atan2(y: TensorLike, x: TensorLike): Tensor {
  let ty = asT(y);
  let tx = asT(x);
  const d = floatType(promote(ty.dtype, tx.dtype));
  ty = o.cast(ty, d);
  tx = o.cast(tx, d);
  const zeroX = o.equal(tx, 0);
  const base = atan(o.divide(ty, o.where(zeroX, 1, tx)));
  // the sign of y, with −0 counted as negative (1/−0 = −Inf)
  const yNeg = o.logicalOr(o.less(ty, 0), o.less(o.divide(1, ty), 0));
  const xNeg = o.logicalOr(o.less(tx, 0), o.less(o.divide(1, tx), 0));
  // constants in the operands' dtype (two JS numbers alone would make an f32 tensor)
  const c = (v: number): Tensor => o.full([], v, { dtype: d });
  const pi = o.where(yNeg, c(-Math.PI), c(Math.PI));
  const fromAxis = o.where(
    o.equal(ty, 0),
    o.where(xNeg, pi, o.multiply(ty, 0)), // ±0 or ±π
    o.where(o.less(ty, 0), c(-Math.PI / 2), c(Math.PI / 2)),
  );
  const finite = o.where(zeroX, fromAxis, o.where(o.less(tx, 0), o.add(base, pi), base));
  // both infinite: ±π/4 or ±3π/4 (y / x would be NaN)
  const bothInf = o.logicalAnd(o.equal(o.abs(ty), Infinity), o.equal(o.abs(tx), Infinity));
  const corner = o.multiply(o.sign(ty), o.where(xNeg, c((3 * Math.PI) / 4), c(Math.PI / 4)));
  return o.where(bothInf, corner, finite);
}

/** exp(x) − 1, accurate near 0 (float). */
export function expm1(x: TensorLike): Tensor {
  const t = floaty(x);
  // below 1e-5 in magnitude exp(x) − 1 cancels: use x + x²/2 + x³/6 there
  const small = o.less(o.abs(t), 1e-5);
  const s = o.where(small, t, 0);
  const series = o.add(s, o.multiply(o.multiply(s, s), o.add(0.5, o.divide(s, 6))));
  return o.where(small, series, o.subtract(o.exp(o.where(small, 0, t)), 1));
}
/** Base-2 logarithm (float). */
export function log2(x: TensorLike): Tensor {
  return o.divide(o.log(floaty(x)), Math.LN2);
}
/** Base-10 logarithm (float). */
export function log10(x: TensorLike): Tensor {
  return o.divide(o.log(floaty(x)), Math.LN10);
}
/** True where x is +Inf or −Inf (false for integers). */
export function isInf(x: TensorLike): Tensor {
  const t = asT(x);
  if (!isFloat(t.dtype)) return o.zeros(t.shape, { dtype: "bool" });
  return o.equal(o.abs(t), Infinity);
}
/** True where x is neither NaN nor ±Inf (true for integers). */
export function isFinite(x: TensorLike): Tensor {
  const t = asT(x);
  if (!isFloat(t.dtype)) return o.ones(t.shape, { dtype: "bool" });
  return o.less(o.abs(t), Infinity); // false for NaN too
}

const isWeak = (v: unknown): v is number | bigint | boolean =>
  typeof v === "number" || typeof v === "bigint" || typeof v === "boolean";

function bitwise(op: string, prim: Prim, a: TensorLike, b: TensorLike): Tensor {
  // a JS number next to a tensor takes the tensor's dtype (as in add)
  const ta = isWeak(a) && !isWeak(b) ? o.full([], a, { dtype: asT(b).dtype }) : asT(a);
  const tb = isWeak(b) && !isWeak(a) ? o.full([], b, { dtype: ta.dtype }) : asT(b);
  const d = promote(ta.dtype, tb.dtype);
  if (d === "bool")
    return op === "bitwiseAnd"
      ? o.logicalAnd(ta, tb)
      : op === "bitwiseOr"
        ? o.logicalOr(ta, tb)
        : o.logicalXor(ta, tb);
  if (!isInt(d))
    throw new TensorError(`${op}: integer or bool tensors only, got ${desc(ta)} and ${desc(tb)}`);
  const x = o.cast(ta, d);
  const y = o.cast(tb, d);
  return emit(prim, [x, y], {}, o.broadcastShapes(op, x, y), d);
}
/** Bitwise AND of integers (logical AND of bools). */
export function bitwiseAnd(a: TensorLike, b: TensorLike): Tensor {
  return bitwise("bitwiseAnd", "bitAnd", a, b);
}
/** Bitwise OR of integers (logical OR of bools). */
export function bitwiseOr(a: TensorLike, b: TensorLike): Tensor {
  return bitwise("bitwiseOr", "bitOr", a, b);
}
/** Bitwise XOR of integers (logical XOR of bools). */
export function bitwiseXor(a: TensorLike, b: TensorLike): Tensor {
  return bitwise("bitwiseXor", "bitXor", a, b);
}
/** Bitwise NOT of integers (NumPy `~`/invert: ~5 = −6 for i32, ~5 = 250 for u8; logical NOT of bools). */
export function bitwiseNot(x: TensorLike): Tensor {
  const t = asT(x);
  if (t.dtype === "bool") return o.logicalNot(t);
  if (!isInt(t.dtype))
    throw new TensorError(`bitwiseNot: integer or bool tensors only, got ${desc(t)}`);
  return emit("bitNot", [t], {}, t.shape, t.dtype);
}

// ---------------------------------------------------------------------------------------------
// Activations (float; integer input gives f32). Same formulas as PyTorch / JAX (jax.nn).

/** x for x > 0, alpha·x otherwise (default alpha 0.01, as PyTorch). */
export function leakyRelu(x: TensorLike, alpha = 0.01): Tensor {
  const t = floaty(x);
  return o.where(o.greater(t, 0), t, o.multiply(t, alpha));
}
/** x for x > 0, alpha·(eˣ − 1) otherwise (default alpha 1). */
export function elu(x: TensorLike, alpha = 1): Tensor {
  const t = floaty(x);
  return o.where(o.greater(t, 0), t, o.multiply(expm1(o.minimum(t, 0)), alpha));
}
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
/** scale·elu(x, alpha) with the self-normalising constants (Klambauer et al.). */
export function selu(x: TensorLike): Tensor {
  return o.multiply(elu(x, SELU_ALPHA), SELU_SCALE);
}
/** log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|). */
export function softplus(x: TensorLike): Tensor {
  const t = floaty(x);
  return o.add(o.relu(t), o.log1p(o.exp(o.negate(o.abs(t)))));
}
/**
 * GELU: x·Φ(x) with the exact normal CDF (erf; `{approximate: true}` uses the tanh form of
 * PyTorch's `approximate="tanh"`). f32 is one primitive (ONNX Gelu) with its own gradient rule;
 * f64 is a composite that computes erf in f32 (ONNX Runtime's Erf and Gelu are f32 only).
 */
export function gelu(x: TensorLike, opts: { approximate?: boolean } = {}): Tensor {
  const t = floaty(x);
  if (t.dtype === "f32")
    return emit("gelu", [t], { approximate: opts.approximate ? "tanh" : "none" }, t.shape, "f32");
  if (opts.approximate) return o.multiply(o.multiply(t, 0.5), o.add(o.tanh(geluInner(t)), 1));
  return o.multiply(o.multiply(t, 0.5), o.add(o.cast(o.erf(o.divide(t, Math.SQRT2)), t.dtype), 1));
}
/** √(2/π)·(x + 0.044715·x³): the argument of tanh in GELU's tanh form. */
export function geluInner(t: Tensor): Tensor {
  return o.multiply(
    o.add(t, o.multiply(o.multiply(o.multiply(t, t), t), 0.044715)),
    Math.sqrt(2 / Math.PI),
  );
}

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** The first normalized axis: the mean and variance are over axes `axis` … last (default −1). */
  axis?: number;
  /** Added to the variance (default 1e-5, PyTorch's). */
  epsilon?: number;
  /** Multiplies the normalized value (broadcast, e.g. shape [D]). */
  gain?: TensorLike;
  /** Added last (broadcast, e.g. shape [D]). */
  bias?: TensorLike;
}
/**
 * Layer normalisation: (x − mean) / sqrt(variance + ε) over the trailing axes from `axis`, then
 * `· gain + bias` when given (PyTorch's `F.layer_norm`, biased variance). f32 normalizes in one
 * primitive (ONNX LayerNormalization) with its own gradient rule; f64 is a composite.
 */
export function layerNorm(x: TensorLike, opts: LayerNormOptions = {}): Tensor {
  const t = floaty(x);
  const r = t.rank;
  const a = opts.axis ?? -1;
  if (!Number.isInteger(a) || a < -r || a >= r)
    throw new TensorError(`layerNorm: axis ${a} is out of range for ${desc(t)}`);
  const axis = a < 0 ? a + r : a;
  const epsilon = opts.epsilon ?? 1e-5;
  if (!(epsilon >= 0)) throw new TensorError(`layerNorm: epsilon must be ≥ 0, got ${epsilon}`);
  const axes = t.shape.map((_, i) => i).slice(axis);
  let y: Tensor;
  if (t.dtype === "f32" && t.size > 0) {
    y = emit("normalize", [t], { axis, epsilon, shape: t.shape.slice(axis) }, t.shape, "f32");
  } else {
    const centred = o.subtract(t, o.mean(t, { axes, keepDims: true }));
    const variance = o.mean(o.multiply(centred, centred), { axes, keepDims: true });
    y = o.divide(centred, o.sqrt(o.add(variance, epsilon)));
  }
  if (opts.gain !== undefined) y = o.multiply(y, opts.gain);
  if (opts.bias !== undefined) y = o.add(y, opts.bias);
  return y;
}
/** x·sigmoid(x) (also called swish). */
export function silu(x: TensorLike): Tensor {
  const t = floaty(x);
  // f64 as x / (1 + e^−x): ONNX Runtime's optimiser fuses x·Sigmoid(x) into a QuickGelu that has
  // only an f32 kernel, so an f64 jit graph with that pattern fails to load
  if (t.dtype === "f64") return o.divide(t, o.add(o.exp(o.negate(t)), 1));
  return o.multiply(t, o.sigmoid(t));
}
/** relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1), as PyTorch's hardsigmoid and jax.nn.hard_sigmoid. */
export function hardSigmoid(x: TensorLike): Tensor {
  const t = floaty(x);
  return o.divide(o.clip(o.add(t, 3), 0, 6), 6);
}

// ---------------------------------------------------------------------------------------------
// Comparison with tolerances (NumPy isclose/allclose)

/** Options of isClose/allClose (NumPy's defaults). */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5), scaled by |b|. */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /** NaN equals NaN (default false). */
  equalNan?: boolean;
}

/**
 * Element-wise |a − b| ≤ atol + rtol·|b| (NumPy isclose, with broadcasting): infinities are close
 * only to the same infinity; NaN is close to nothing unless `equalNan`. Computes in f64 for
 * integers and f64, else in the float dtype.
 */
export function isClose(a: TensorLike, b: TensorLike, opts: CloseOptions = {}): Tensor {
  let ta = asT(a);
  let tb = asT(b);
  const p = promote(ta.dtype, tb.dtype);
  const d = p === "f32" ? "f32" : "f64";
  ta = o.cast(ta, d);
  tb = o.cast(tb, d);
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  const finite = o.logicalAnd(isFinite(ta), isFinite(tb));
  const near = o.lessEqual(o.abs(o.subtract(ta, tb)), o.add(o.multiply(o.abs(tb), rtol), atol));
  let close = o.where(finite, near, o.equal(ta, tb));
  if (opts.equalNan) close = o.logicalOr(close, o.logicalAnd(o.isNaN(ta), o.isNaN(tb)));
  return close;
}

/** True when every element pair is close (NumPy allclose); a JS boolean, so eager only. */
export function allClose(a: TensorLike, b: TensorLike, opts: CloseOptions = {}): boolean {
  return o.all(isClose(a, b, opts)).item() as boolean;
}
