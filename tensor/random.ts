/**
 * Seeded random tensors that reproduce across runs and machines: values are generated in JS
 * from a counter-based generator (splitmix-style mixing of (seed, index)), so the same seed gives
 * the same tensor everywhere, independent of ONNX Runtime and thread counts.
 *
 * Invariants: `random.seed(s)` resets the global stream; each call without `seed` draws a new
 * stream id from the global state, so successive calls differ but a notebook re-run from the top
 * after `seed()` gives identical values. Inside jit the values are drawn at trace time (constants).
 */
import { type DType, allocate, isFloat } from "./dtype.ts";
import * as o from "./ops.ts";
import { Tensor, TensorError, type TensorLike, fromTyped } from "./tensor.ts";

let globalSeed = 0;
let globalCounter = 0;

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A stream of uint32 values determined by (seed, stream). */
function stream(seed: number, id: number): () => number {
  let counter = 0;
  const base = mix32(mix32(seed | 0) ^ Math.imul(id + 1, 0x9e3779b9));
  return () => mix32(base ^ mix32(counter++ + 0x632be5ab));
}

function nextStream(seed: number | undefined): () => number {
  if (seed !== undefined) {
    if (!Number.isInteger(seed))
      throw new TensorError(`random: seed must be an integer, got ${seed}`);
    return stream(seed, -1);
  }
  return stream(globalSeed, globalCounter++);
}

/** A deferred random draw: generates its tensors from the global stream when called. */
export type Draw = () => Tensor[];

/**
 * @internal Hooks on unseeded draws, innermost last (null: draw now). vmap installs one while it
 * traces its function, so each mapped example gets its own values (see vmap.ts); jit installs null
 * while it traces (values drawn at trace time are constants of its graph).
 */
const hooks: Array<((draw: Draw) => Tensor[]) | null> = [];

/** @internal Runs fn with a random-draw hook installed (null: draws happen at once). */
export function withRandomHook<T>(hook: ((draw: Draw) => Tensor[]) | null, fn: () => T): T {
  hooks.push(hook);
  try {
    return fn();
  } finally {
    hooks.pop();
  }
}

/** @internal Performs a draw through the innermost hook (an enclosing vmap), else at once. */
export function drawThroughHooks(draw: Draw): Tensor[] {
  const h = hooks.at(-1);
  return h ? h(draw) : withRandomHook(null, draw);
}

/** @internal The global stream counter (vmap restores it after probing a draw's shape). */
export function streamCounter(value?: number): number {
  if (value !== undefined) globalCounter = value;
  return globalCounter;
}

/** One random tensor from `make`: seeded draws are made at once, unseeded ones through the hooks. */
function draw(seed: number | undefined, make: (next: () => number) => Tensor): Tensor {
  if (seed !== undefined || !hooks.at(-1)) return make(nextStream(seed));
  return drawThroughHooks(() => [make(nextStream(undefined))])[0]!;
}

/** Resets the global random stream. */
export function seed(s: number): void {
  if (!Number.isInteger(s)) throw new TensorError(`random.seed: seed must be an integer, got ${s}`);
  globalSeed = s;
  globalCounter = 0;
}

export interface RandomOptions {
  /** Per-call seed: the same seed always gives the same values. */
  seed?: number;
  /** f32 (default) or f64. */
  dtype?: DType;
}

function checkArgs(op: string, shape: readonly number[], dtype: DType): number {
  if (!isFloat(dtype)) throw new TensorError(`${op}: dtype must be f32 or f64, got ${dtype}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new TensorError(`${op}: invalid shape [${shape.join(",")}]`);
    n *= d;
  }
  return n;
}

/** Uniform values in [min, max) (default [0, 1)). */
export function uniform(
  shape: readonly number[],
  opts: RandomOptions & { min?: number; max?: number } = {},
): Tensor {
  const dtype = opts.dtype ?? "f32";
  const n = checkArgs("random.uniform", shape, dtype);
  const lo = opts.min ?? 0;
  const hi = opts.max ?? 1;
  return draw(opts.seed, (next) => {
    const out = allocate(dtype, n) as Float32Array | Float64Array;
    for (let i = 0; i < n; i++) {
      const u =
        dtype === "f64" ? (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53 : (next() >>> 8) / 2 ** 24;
      let v = lo + (hi - lo) * u;
      if (v >= hi) v = lo; // rounding in f32 could reach hi
      out[i] = v;
    }
    return fromTyped(dtype, out, shape);
  });
}

/** Normal values with the given mean and standard deviation (default 0 and 1), Box–Muller. */
export function normal(
  shape: readonly number[],
  opts: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  const dtype = opts.dtype ?? "f32";
  const n = checkArgs("random.normal", shape, dtype);
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  return draw(opts.seed, (next) => {
    const out = allocate(dtype, n) as Float32Array | Float64Array;
    for (let i = 0; i < n; i += 2) {
      const u1 = (next() + 1) / 4294967297; // (0, 1)
      const u2 = next() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
    }
    return fromTyped(dtype, out, shape);
  });
}

/** Random integers in [min, max) as i32. */
export function randint(
  shape: readonly number[],
  min: number,
  max: number,
  opts: { seed?: number } = {},
): Tensor {
  const n = checkArgs("random.randint", shape, "f32");
  if (!Number.isInteger(min) || !Number.isInteger(max) || max <= min)
    throw new TensorError(`random.randint: need integers min < max, got ${min}, ${max}`);
  return draw(opts.seed, (next) => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = min + Math.floor((next() / 4294967296) * (max - min));
    return fromTyped("i32", out, shape);
  });
}

/** A random permutation of 0..n-1 (i32), Fisher–Yates. */
export function permutation(n: number, opts: { seed?: number } = {}): Tensor {
  return draw(opts.seed, (next) => {
    const out = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor((next() / 4294967296) * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return fromTyped("i32", out, [n]);
  });
}

/** x with its elements (along `axis`, default 0) in a random order (NumPy permutation of an array). */
export function shuffle(x: TensorLike, opts: { seed?: number; axis?: number } = {}): Tensor {
  const t = o.tensor(x);
  if (t.rank === 0) throw new TensorError("random.shuffle: cannot shuffle a scalar");
  const rank = t.rank;
  const a = opts.axis ?? 0;
  if (!Number.isInteger(a) || a < -rank || a >= rank)
    throw new TensorError(`random.shuffle: axis ${a} is out of range for rank ${rank}`);
  const axis = a < 0 ? a + rank : a;
  return o.take(t, permutation(t.shape[axis]!, { seed: opts.seed }), { axis });
}

/**
 * Random elements of `a` (NumPy choice): `a` a number n (choose from 0..n−1, i32) or a tensor
 * (choose along axis 0); `size` a count or shape (one element, axis dropped, when omitted);
 * `replace` (default true); `p` probabilities (non-negative, summing to 1).
 */
export function choice(
  a: number | TensorLike,
  size?: number | readonly number[],
  opts: { replace?: boolean; p?: TensorLike; seed?: number } = {},
): Tensor {
  const pool = typeof a === "number" ? o.arange(a) : o.tensor(a);
  if (pool.rank === 0)
    throw new TensorError("random.choice: a must be a positive count or a tensor with an axis 0");
  const n = pool.shape[0]!;
  const shape = size === undefined ? [] : typeof size === "number" ? [size] : [...size];
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new TensorError(`random.choice: invalid size [${shape.join(",")}]`);
    count *= d;
  }
  const replace = opts.replace ?? true;
  if (!replace && count > n)
    throw new TensorError(
      `random.choice: cannot take ${count} samples from ${n} without replacement`,
    );
  if (count > 0 && n === 0) throw new TensorError("random.choice: a is empty");
  let weights: number[] | null = null;
  if (opts.p !== undefined) {
    weights = Array.from(o.cast(o.tensor(opts.p), "f64").dataSync() as Float64Array);
    const total = weights.reduce((s, v) => s + v, 0);
    if (weights.length !== n || weights.some((v) => !(v >= 0)) || Math.abs(total - 1) > 1e-6)
      throw new TensorError(
        `random.choice: p must be ${n} non-negative probabilities summing to 1`,
      );
  }
  const idx = draw(opts.seed, (next) => {
    const u = (): number => (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53;
    const out = new Int32Array(count);
    if (replace) {
      const cdf = weights
        ? weights.map(
            (
              (s) => (v: number) =>
                (s += v)
            )(0),
          )
        : null;
      for (let i = 0; i < count; i++) {
        if (!cdf) out[i] = Math.min(n - 1, Math.floor(u() * n));
        else {
          const r = u() * cdf[n - 1]!;
          let lo = 0;
          let hi = n - 1;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (cdf[mid]! > r) hi = mid;
            else lo = mid + 1;
          }
          out[i] = lo;
        }
      }
    } else if (!weights) {
      const perm = permutation(n, { seed: opts.seed === undefined ? undefined : opts.seed + 1 });
      out.set((perm.dataSync() as Int32Array).subarray(0, count));
    } else {
      // sequential draws without replacement, renormalising the remaining weights (as NumPy)
      const w = weights.slice();
      for (let i = 0; i < count; i++) {
        const total = w.reduce((s, v) => s + v, 0);
        if (!(total > 0))
          throw new TensorError("random.choice: fewer non-zero probabilities than samples");
        let r = u() * total;
        let k = 0;
        while (k < n - 1 && (r >= w[k]! || w[k] === 0)) {
          r -= w[k]!;
          k++;
        }
        out[i] = k;
        w[k] = 0;
      }
    }
    return fromTyped("i32", out, shape);
  });
  return o.take(pool, idx);
}

/** True with probability p (a number or a tensor of probabilities, broadcast to `shape`), bool. */
export function bernoulli(
  p: TensorLike,
  shape?: readonly number[],
  opts: { seed?: number } = {},
): Tensor {
  const pt = o.tensor(p);
  const s = shape ? [...shape] : pt.shape.slice();
  const u = uniform(s, { seed: opts.seed, dtype: "f64" });
  return o.less(u, o.cast(pt, "f64"));
}
