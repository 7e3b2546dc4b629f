/**
 * More reductions and scans with NumPy's names and semantics: prod, cumprod, cummax, cummin,
 * median, quantile/percentile, unique (eager), bincount, histogram.
 *
 * prod is one ONNX ReduceProd with a gradient rule that stays exact with zeros (the product of
 * the other elements, from two exclusive scans). The scans are log-depth (Hillis–Steele): ⌈log₂ n⌉
 * rounds of shift-and-combine with slice, pad and multiply/maximum/minimum, so they are exact on
 * every dtype and differentiate through those ops. median and quantile sort (topK) and interpolate
 * as NumPy's default "linear" method. unique, bincount and histogram have value-dependent sizes and
 * run eagerly (bincount and histogram also under jit when the length/range is given).
 */
import { type DType, allocate, isFloat, promote } from "./dtype.ts";
import * as o from "./ops.ts";
import { type ReduceArg, type Tensor, TensorError, type TensorLike, emit } from "./tensor.ts";

const asT = (x: TensorLike): Tensor => o.tensor(x);
const desc = (t: Tensor): string => `${t.dtype}[${t.shape.join(",")}]`;

function fail(msg: string): never {
  throw new TensorError(msg);
}

function normAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank)
    fail(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

function axesOf(
  op: string,
  t: Tensor,
  arg: ReduceArg | undefined,
): { axes: number[]; keep: boolean } {
  if (arg === undefined) return { axes: t.shape.map((_, i) => i), keep: false };
  if (typeof arg === "number" || Array.isArray(arg)) {
    const list = typeof arg === "number" ? [arg] : [...(arg as number[])];
    return { axes: list.map((a) => normAxis(op, a, t.rank)).sort((a, b) => a - b), keep: false };
  }
  const opts = arg as {
    axes?: number | readonly number[];
    axis?: number | readonly number[];
    keepDims?: boolean;
  };
  const spec = opts.axes ?? opts.axis;
  const axes =
    spec === undefined
      ? t.shape.map((_, i) => i)
      : (typeof spec === "number" ? [spec] : [...spec]).map((a) => normAxis(op, a, t.rank));
  if (new Set(axes).size !== axes.length) fail(`${op}: repeated axis`);
  return { axes: axes.sort((a, b) => a - b), keep: opts.keepDims ?? false };
}

const widen = (d: DType): DType => (d === "bool" || d === "u8" ? "i32" : d);

/** Product over axes (all by default); bool and u8 multiply in i32; an empty axis gives 1. */
export function prod(x: TensorLike, arg?: ReduceArg): Tensor {
  const t0 = asT(x);
  const t = o.cast(t0, widen(t0.dtype));
  const { axes, keep } = axesOf("prod", t, arg);
  const shape = t.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
  if (axes.length === 0) return t;
  if (t.size === 0) return o.ones(shape, { dtype: t.dtype });
  return emit("reduceProd", [t], { axes, keepDims: keep }, shape, t.dtype);
}

type Combine = (a: Tensor, b: Tensor) => Tensor;

/**
 * Inclusive log-depth scan of `combine` along `axis` (exclusive: shifted by one, `identity` first).
 * Round s combines each element with the one s before it; the first s elements are kept as they
 * are (a `where`, not an identity padding, so no dtype needs a representable identity).
 */
function scan(
  t: Tensor,
  axis: number,
  combine: Combine,
  identity: number | boolean,
  exclusive = false,
  reverse = false,
): Tensor {
  const n = t.shape[axis]!;
  if (n === 0) return t;
  let y = reverse ? o.reverse(t, axis) : t;
  const shifted = (v: Tensor, s: number, fillValue: number | boolean): Tensor => {
    const size = v.shape.map((d, i) => (i === axis ? n - s : d));
    const widths = v.shape.map((_, i) => (i === axis ? [s, 0] : [0, 0]) as [number, number]);
    return o.pad(o.slice(v, [], size), widths, fillValue as number);
  };
  if (exclusive) y = shifted(y, 1, identity);
  const pos = o.reshape(
    o.arange(n),
    t.shape.map((d, i) => (i === axis ? n : 1)),
  );
  for (let s = 1; s < n; s *= 2)
    y = o.where(o.greaterEqual(pos, s), combine(y, shifted(y, s, 0)), y);
  return reverse ? o.reverse(y, axis) : y;
}

function scanOp(
  op: string,
  x: TensorLike,
  opts: number | { axis?: number; reverse?: boolean } | undefined,
  combine: Combine,
  identity: (d: DType) => number | boolean,
): Tensor {
  const o2 = typeof opts === "number" ? { axis: opts } : (opts ?? {});
  let t = asT(x);
  if (op === "cumprod") t = o.cast(t, widen(t.dtype));
  if (t.rank === 0) return t;
  const axis = normAxis(op, o2.axis ?? 0, t.rank);
  return scan(t, axis, combine, identity(t.dtype), false, o2.reverse ?? false);
}

/** Cumulative product along an axis (default 0; `reverse` from the end); bool/u8 in i32. */
export function cumprod(
  x: TensorLike,
  opts?: number | { axis?: number; reverse?: boolean },
): Tensor {
  return scanOp("cumprod", x, opts, o.multiply, () => 1);
}

/** Running maximum along an axis (NumPy maximum.accumulate; default axis 0); NaN propagates. */
export function cummax(
  x: TensorLike,
  opts?: number | { axis?: number; reverse?: boolean },
): Tensor {
  return scanOp("cummax", x, opts, o.maximum, () => 0);
}

/** Running minimum along an axis (NumPy minimum.accumulate; default axis 0); NaN propagates. */
export function cummin(
  x: TensorLike,
  opts?: number | { axis?: number; reverse?: boolean },
): Tensor {
  return scanOp("cummin", x, opts, o.minimum, () => 0);
}

/** @internal the product of the other elements along the last axis (prod's gradient; exact with zeros). */
export function productOfOthers(t: Tensor): Tensor {
  const axis = t.rank - 1;
  const left = scan(t, axis, o.multiply, 1, true);
  const right = scan(t, axis, o.multiply, 1, true, true);
  return o.multiply(left, right);
}

/** Options of median/quantile. */
export interface QuantileOptions {
  /** One axis (all axes, flattened, by default). */
  axis?: number;
  keepDims?: boolean;
}

/**
 * The q-th quantiles (q in [0, 1], a number or a list) along an axis, NumPy's default "linear"
 * method: position q·(n − 1) between the sorted values. A list of q adds a leading axis. NaN in
 * a slice gives NaN. Float result (integers give f32).
 */
export function quantile(
  x: TensorLike,
  q: number | readonly number[],
  opts: number | QuantileOptions = {},
): Tensor {
  const op = "quantile";
  const o2 = typeof opts === "number" ? { axis: opts } : opts;
  let t = asT(x);
  t = o.cast(t, isFloat(t.dtype) ? t.dtype : "f32");
  const qs = typeof q === "number" ? [q] : [...q];
  if (qs.some((v) => !(v >= 0 && v <= 1)))
    fail(`${op}: q must be in [0, 1], got [${qs.join(",")}]`);
  let axis: number;
  const keep = o2.keepDims ?? false;
  const origRank = t.rank;
  if (o2.axis === undefined) {
    t = o.reshape(t, [t.size]);
    axis = 0;
  } else axis = normAxis(op, o2.axis, t.rank);
  const n = t.shape[axis]!;
  if (n === 0) fail(`${op}: cannot take a quantile of an empty axis (${desc(t)})`);
  const sorted = o.sort(t, { axis });
  const outs = qs.map((qv) => {
    const pos = qv * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, n - 1);
    const frac = pos - lo;
    const a = o.take(sorted, lo, { axis });
    if (frac === 0) return a;
    const b = o.take(sorted, hi, { axis });
    // NumPy's lerp: a + (b − a)·frac, computed from the nearer end
    return frac >= 0.5
      ? o.subtract(b, o.multiply(o.subtract(b, a), 1 - frac))
      : o.add(a, o.multiply(o.subtract(b, a), frac));
  });
  // NumPy: a NaN anywhere in the slice makes its quantiles NaN (the sort put NaN last)
  const nanRow = o.any(o.isNaN(t), { axes: axis });
  const withKeep = outs.map((r0) => {
    const r = o.where(nanRow, NaN, r0);
    if (!keep) return r;
    if (o2.axis === undefined) return o.reshape(r, new Array<number>(origRank).fill(1));
    return o.expandDims(r, axis);
  });
  return typeof q === "number" ? withKeep[0]! : o.stack(withKeep, 0);
}

/** quantile with q in percent (NumPy percentile). */
export function percentile(
  x: TensorLike,
  q: number | readonly number[],
  opts: number | QuantileOptions = {},
): Tensor {
  return quantile(x, typeof q === "number" ? q / 100 : q.map((v) => v / 100), opts);
}

/** The median along an axis (all axes by default); the mean of the two middle values for even sizes. */
export function median(x: TensorLike, opts: number | QuantileOptions = {}): Tensor {
  return quantile(x, 0.5, opts);
}

/** What uniqueAll returns (NumPy 2's unique_all). */
export interface UniqueAll {
  /** The sorted distinct values (1-D). */
  values: Tensor;
  /** Where each value first occurs in the flattened input (i64). */
  indices: Tensor;
  /** For each input element, the index of its value in `values` (i64, the input's shape). */
  inverse: Tensor;
  /** How many times each value occurs (i64). */
  counts: Tensor;
}

/** The sorted distinct values, their first positions, the inverse map and counts (eager; NaNs count as one value, as NumPy). */
export function uniqueAll(x: TensorLike): UniqueAll {
  const t = asT(x);
  if (t.isSymbolic)
    fail("unique: the number of distinct values is not known inside jit/grad; call it outside");
  const data = t.dataSync();
  const n = data.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const key = (i: number): number | bigint => data[i]!;
  const cmp = (a: number, b: number): number => {
    const x1 = key(a);
    const y1 = key(b);
    const xn = x1 !== x1;
    const yn = y1 !== y1;
    if (xn || yn) return xn && yn ? a - b : xn ? 1 : -1;
    return x1 < y1 ? -1 : x1 > y1 ? 1 : a - b;
  };
  order.sort(cmp);
  const firsts: number[] = [];
  const counts: number[] = [];
  const inverse = new BigInt64Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const prev = k > 0 ? key(order[k - 1]!) : undefined;
    const cur = key(i);
    const same = k > 0 && (prev === cur || (prev !== prev && cur !== cur));
    if (!same) {
      firsts.push(i);
      counts.push(0);
    }
    counts[counts.length - 1]!++;
    inverse[i] = BigInt(firsts.length - 1);
  }
  const vals = allocate(t.dtype, firsts.length) as unknown as Array<number | bigint>;
  firsts.forEach((i, k) => (vals[k] = data[i]!));
  return {
    values: o.tensor(vals as unknown as Float64Array, { dtype: t.dtype }),
    indices: o.tensor(BigInt64Array.from(firsts.map(BigInt))),
    inverse: o.reshape(o.tensor(inverse), t.shape),
    counts: o.tensor(BigInt64Array.from(counts.map(BigInt))),
  };
}

/** The sorted distinct values of x, flattened (NumPy unique; eager). */
export function unique(x: TensorLike): Tensor {
  return uniqueAll(x).values;
}

/**
 * Counts of each non-negative integer in a 1-D x (NumPy bincount), or sums of `weights` per value.
 * The length is max(x) + 1 (at least `minlength`); give `length` to fix it (values ≥ length are
 * dropped), which also works inside jit. Counts are i32; weighted sums keep the weights' dtype.
 */
export function bincount(
  x: TensorLike,
  opts: { weights?: TensorLike; minlength?: number; length?: number } = {},
): Tensor {
  const t0 = asT(x);
  if (t0.rank !== 1) fail(`bincount: expected a 1-D tensor, got ${desc(t0)}`);
  if (isFloat(t0.dtype) || t0.dtype === "bool")
    fail(`bincount: values must be integers, got ${desc(t0)}`);
  const t = o.cast(t0, t0.dtype === "u8" ? "i32" : t0.dtype);
  let length = opts.length;
  if (length === undefined) {
    if (t.isSymbolic)
      fail("bincount: inside jit/grad give {length} (the result's size depends on the values)");
    let m = -1;
    for (const v of t.dataSync()) {
      const k = Number(v);
      if (k < 0) fail(`bincount: values must be non-negative, got ${k}`);
      if (k > m) m = k;
    }
    length = Math.max(m + 1, opts.minlength ?? 0);
  }
  const w = opts.weights === undefined ? o.ones(t.shape, { dtype: "i32" }) : asT(opts.weights);
  if (w.rank !== 1 || w.shape[0] !== t.shape[0])
    fail(`bincount: weights ${desc(w)} must match ${desc(t)}`);
  // values outside [0, length) (only possible with an explicit length) contribute nothing
  const inRange = o.logicalAnd(o.greaterEqual(t, 0), o.less(t, length));
  const idx = o.where(inRange, t, 0);
  const wv = o.where(inRange, w, o.zeros([], { dtype: w.dtype }));
  return o.zeros([length], { dtype: w.dtype }).at(idx).add(wv);
}

/**
 * Histogram of x (flattened) in `bins` equal bins over `range` (default [min, max]), NumPy's
 * rule: bins are half-open except the last, values outside the range are not counted. Returns
 * i32 counts and the bins + 1 edges (f64 for f64 input, else f32). Give `range` to use it in jit.
 */
export function histogram(
  x: TensorLike,
  opts: { bins?: number; range?: readonly [number, number]; weights?: TensorLike } = {},
): { counts: Tensor; edges: Tensor } {
  const t0 = o.reshape(asT(x), [-1]);
  const bins = opts.bins ?? 10;
  if (!Number.isInteger(bins) || bins <= 0)
    fail(`histogram: bins must be a positive integer, got ${bins}`);
  const ft = t0.dtype === "f64" ? "f64" : "f32";
  const t = o.cast(t0, ft);
  let lo: number;
  let hi: number;
  if (opts.range) [lo, hi] = opts.range;
  else {
    if (t.isSymbolic)
      fail("histogram: inside jit/grad give {range} (the default range depends on the values)");
    if (t.size === 0) [lo, hi] = [0, 1];
    else {
      lo = Number(o.min(t).item());
      hi = Number(o.max(t).item());
    }
  }
  if (!(hi >= lo)) fail(`histogram: range [${lo}, ${hi}] must be increasing`);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = o.linspace(lo, hi, bins + 1, { dtype: ft });
  // bin = floor((x − lo) / (hi − lo) · bins), then corrected against the edges themselves (as NumPy)
  let b = o.cast(o.floor(o.multiply(o.subtract(t, lo), bins / (hi - lo))), "i32");
  b = o.clip(b, 0, bins - 1);
  const lower = o.take(edges, b);
  const upper = o.take(edges, o.add(b, 1));
  b = o.where(o.less(t, lower), o.subtract(b, 1), b);
  b = o.where(o.logicalAnd(o.greaterEqual(t, upper), o.less(b, bins - 1)), o.add(b, 1), b);
  const inside = o.logicalAnd(o.greaterEqual(t, lo), o.lessEqual(t, hi));
  const w =
    opts.weights === undefined
      ? o.ones(t.shape, { dtype: "i32" })
      : o.reshape(asT(opts.weights), [-1]);
  const wv = o.where(inside, w, o.zeros([], { dtype: w.dtype }));
  const counts = o
    .zeros([bins], { dtype: w.dtype })
    .at(o.clip(b, 0, bins - 1))
    .add(wv);
  return { counts, edges };
}

/**
 * Indices where `values` would be inserted into the sorted 1-D `sorted` to keep it sorted (NumPy
 * searchsorted): `side: "left"` (default) gives the first such index, `"right"` the last. i64,
 * values' shape. Computed by comparing every value with every element (O(n·m), fine for bins and
 * lookup tables; differentiable nowhere, like NumPy's).
 */
export function searchsorted(
  sorted: TensorLike,
  values: TensorLike,
  opts: { side?: "left" | "right" } = {},
): Tensor {
  const s = asT(sorted);
  if (s.rank !== 1) fail(`searchsorted: the sorted tensor must be 1-D, got ${desc(s)}`);
  const v = asT(values);
  const d = promote(s.dtype, v.dtype);
  const sv = o.cast(s, d);
  const vv = o.expandDims(o.cast(v, d), -1);
  const before = opts.side === "right" ? o.lessEqual(sv, vv) : o.less(sv, vv);
  return o.cast(o.sum(before, -1), "i64");
}
