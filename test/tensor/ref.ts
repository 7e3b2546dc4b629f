/**
 * Plain-JS reference implementations used by the tensor tests: dense arrays with NumPy
 * broadcasting, reductions over axes and a seeded generator for test inputs.
 */
export interface Ref {
  shape: number[];
  data: number[];
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let st = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = st;
    st *= shape[i]!;
  }
  return s;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = i % shape[k]!;
    i = Math.floor(i / shape[k]!);
  }
  return idx;
}

export function broadcastShape(...shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes)
    s.forEach((d, i) => {
      const j = rank - s.length + i;
      if (d !== 1) out[j] = d;
    });
  return out;
}

/** Element of `r` at a broadcast index of the output shape. */
export function at(r: Ref, idx: readonly number[]): number {
  const off = idx.length - r.shape.length;
  const st = strides(r.shape);
  let p = 0;
  r.shape.forEach((d, i) => {
    p += (d === 1 ? 0 : idx[off + i]!) * st[i]!;
  });
  return r.data[p]!;
}

export function mapN(f: (...v: number[]) => number, ...rs: Ref[]): Ref {
  const shape = broadcastShape(...rs.map((r) => r.shape));
  const n = size(shape);
  const data = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    data[i] = f(...rs.map((r) => at(r, idx)));
  }
  return { shape, data };
}

export function reduceRef(
  r: Ref,
  axes: number[],
  keep: boolean,
  init: number,
  f: (acc: number, v: number) => number,
): Ref {
  const outShape = r.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const n = size(outShape);
  const data = new Array<number>(n).fill(init);
  for (let i = 0; i < r.data.length; i++) {
    const idx = unravel(i, r.shape).map((v, k) => (axes.includes(k) ? 0 : v));
    let p = 0;
    const st = strides(outShape);
    idx.forEach((v, k) => (p += v * st[k]!));
    data[p] = f(data[p]!, r.data[i]!);
  }
  return { shape: keep ? outShape : r.shape.filter((_, i) => !axes.includes(i)), data };
}

/** Nested arrays from a Ref (a number for rank 0). */
export function nest(r: Ref): unknown {
  if (r.shape.length === 0) return r.data[0];
  let offset = 0;
  const rec = (axis: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < r.shape[axis]!; i++)
      out.push(axis === r.shape.length - 1 ? r.data[offset++] : rec(axis + 1));
    return out;
  };
  return rec(0);
}

/** Flattens nested arrays (or a scalar) to numbers. */
export function flat(x: unknown): number[] {
  if (Array.isArray(x)) return x.flatMap(flat);
  if (typeof x === "boolean") return [x ? 1 : 0];
  return [x as number];
}

/** Seeded generator for test data. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randRef(shape: number[], r: () => number, lo = -2, hi = 2, int = false): Ref {
  const n = size(shape);
  return {
    shape,
    data: Array.from({ length: n }, () =>
      int ? Math.floor(lo + r() * (hi - lo)) : lo + r() * (hi - lo),
    ),
  };
}

/** Asserts two number lists are close (NaN equals NaN). */
export function close(actual: number[], expected: number[], tol: number, msg: string): void {
  if (actual.length !== expected.length)
    throw new Error(`${msg}: length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e))))
      throw new Error(
        `${msg}: at ${i}: ${a} ≠ ${e} (all: ${actual.slice(0, 12).join(", ")} vs ${expected.slice(0, 12).join(", ")})`,
      );
  }
}
