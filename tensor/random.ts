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
import { Tensor, TensorError, fromTyped } from "./tensor.ts";

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
  const next = nextStream(opts.seed);
  const lo = opts.min ?? 0;
  const hi = opts.max ?? 1;
  const out = allocate(dtype, n) as Float32Array | Float64Array;
  for (let i = 0; i < n; i++) {
    const u =
      dtype === "f64" ? (next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53 : (next() >>> 8) / 2 ** 24;
    let v = lo + (hi - lo) * u;
    if (v >= hi) v = lo; // rounding in f32 could reach hi
    out[i] = v;
  }
  return fromTyped(dtype, out, shape);
}

/** Normal values with the given mean and standard deviation (default 0 and 1), Box–Muller. */
export function normal(
  shape: readonly number[],
  opts: RandomOptions & { mean?: number; std?: number } = {},
): Tensor {
  const dtype = opts.dtype ?? "f32";
  const n = checkArgs("random.normal", shape, dtype);
  const next = nextStream(opts.seed);
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const out = allocate(dtype, n) as Float32Array | Float64Array;
  for (let i = 0; i < n; i += 2) {
    const u1 = (next() + 1) / 4294967297; // (0, 1)
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
  return fromTyped(dtype, out, shape);
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
  const next = nextStream(opts.seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = min + Math.floor((next() / 4294967296) * (max - min));
  return fromTyped("i32", out, shape);
}

/** A random permutation of 0..n-1 (i32), Fisher–Yates. */
export function permutation(n: number, opts: { seed?: number } = {}): Tensor {
  const next = nextStream(opts.seed);
  const out = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((next() / 4294967296) * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return fromTyped("i32", out, [n]);
}
