/**
 * More shape ops with NumPy's names and semantics: tile, repeat, split, roll, moveAxis, swapAxes,
 * meshgrid, tril, triu, diag, diagonal, trace.
 *
 * Invariants: each is composed of ops.ts's public ops (reshape, broadcast, slice, take, concat,
 * pad, where) or one primitive with a gradient rule (Trilu), so all of them trace under jit,
 * differentiate under grad and work on every dtype.
 */
import * as o from "./ops.ts";
import { type Tensor, TensorError, type TensorLike, emit } from "./tensor.ts";

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

/** x repeated `reps` times along each axis (NumPy tile: the shorter of x.rank and reps is padded with leading 1s). */
export function tile(x: TensorLike, reps: number | readonly number[]): Tensor {
  let t = asT(x);
  let r = typeof reps === "number" ? [reps] : [...reps];
  if (r.some((k) => !Number.isInteger(k) || k < 0))
    fail(`tile: reps must be non-negative integers, got [${r.join(",")}]`);
  const rank = Math.max(t.rank, r.length);
  r = [...new Array<number>(rank - r.length).fill(1), ...r];
  t = o.reshape(t, [...new Array<number>(rank - t.rank).fill(1), ...t.shape]);
  if (r.every((k) => k === 1)) return t;
  const inter = t.shape.flatMap((d) => [1, d]);
  const target = t.shape.flatMap((d, i) => [r[i]!, d]);
  return o.reshape(
    o.broadcastTo(o.reshape(t, inter), target),
    t.shape.map((d, i) => d * r[i]!),
  );
}

/**
 * Each element repeated (NumPy repeat): `repeats` a number or one count per element along `axis`;
 * without an axis x is flattened first.
 */
export function repeat(
  x: TensorLike,
  repeats: number | readonly number[],
  opts: number | { axis?: number } = {},
): Tensor {
  let t = asT(x);
  let axisArg = typeof opts === "number" ? opts : opts.axis;
  if (axisArg === undefined) {
    t = o.reshape(t, [t.size]);
    axisArg = 0;
  }
  if (t.rank === 0) t = o.reshape(t, [1]);
  const axis = normAxis("repeat", axisArg, t.rank);
  const n = t.shape[axis]!;
  if (typeof repeats === "number") {
    if (!Number.isInteger(repeats) || repeats < 0)
      fail(`repeat: repeats must be a non-negative integer, got ${repeats}`);
    const e = o.expandDims(t, axis + 1);
    const target = e.shape.slice();
    target[axis + 1] = repeats;
    const shape = t.shape.slice();
    shape[axis] = n * repeats;
    return o.reshape(o.broadcastTo(e, target), shape);
  }
  if (repeats.length !== n)
    fail(`repeat: ${repeats.length} repeat counts for axis ${axis} of size ${n} (${desc(t)})`);
  const idx: number[] = [];
  repeats.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0)
      fail(`repeat: repeats must be non-negative integers, got ${k}`);
    for (let j = 0; j < k; j++) idx.push(i);
  });
  if (idx.length === 0) {
    const shape = t.shape.slice();
    shape[axis] = 0;
    return o.zeros(shape, { dtype: t.dtype });
  }
  return o.take(t, o.tensor(Int32Array.from(idx)), { axis });
}

/**
 * Splits x along an axis (NumPy split): `sections` a number of equal parts (it must divide the
 * axis) or the list of indices where parts begin.
 */
export function split(
  x: TensorLike,
  sections: number | readonly number[],
  opts: number | { axis?: number } = {},
): Tensor[] {
  const t = asT(x);
  if (t.rank === 0) fail(`split: cannot split a scalar (${desc(t)})`);
  const axis = normAxis("split", typeof opts === "number" ? opts : (opts.axis ?? 0), t.rank);
  const n = t.shape[axis]!;
  let cuts: number[];
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0 || n % sections !== 0)
      fail(
        `split: ${n} elements along axis ${axis} of ${desc(t)} do not split into ${sections} equal parts`,
      );
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else cuts = sections.map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n));
  const bounds = [0, ...cuts, n];
  const parts: Tensor[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const b = bounds[i]!;
    const e = Math.max(b, bounds[i + 1]!);
    const begin = t.shape.map((_, j) => (j === axis ? b : 0));
    const size = t.shape.map((d, j) => (j === axis ? e - b : d));
    parts.push(o.slice(t, begin, size));
  }
  return parts;
}

/** Elements shifted along axes with wrap-around (NumPy roll); without axes x is rolled flat. */
export function roll(
  x: TensorLike,
  shift: number | readonly number[],
  opts: number | readonly number[] | { axis?: number | readonly number[] } = {},
): Tensor {
  const t = asT(x);
  const axisArg =
    typeof opts === "number" || Array.isArray(opts)
      ? (opts as number | readonly number[])
      : (opts as { axis?: number | readonly number[] }).axis;
  if (axisArg === undefined) {
    if (typeof shift !== "number") fail("roll: several shifts need as many axes");
    return o.reshape(roll(o.reshape(t, [t.size]), shift, 0), t.shape);
  }
  const axes = typeof axisArg === "number" ? [axisArg] : [...axisArg];
  const shifts = typeof shift === "number" ? axes.map(() => shift) : [...shift];
  if (shifts.length !== axes.length) fail(`roll: ${shifts.length} shifts for ${axes.length} axes`);
  let y = t;
  axes.forEach((a0, i) => {
    const a = normAxis("roll", a0, t.rank);
    const n = y.shape[a]!;
    if (n === 0) return;
    const s = ((shifts[i]! % n) + n) % n;
    if (s === 0) return;
    const [head, tail] = split(y, [n - s], a) as [Tensor, Tensor];
    y = o.concatenate([tail, head], a);
  });
  return y;
}

/** Moves axes to new positions, the others keeping their order (NumPy moveaxis). */
export function moveAxis(
  x: TensorLike,
  source: number | readonly number[],
  destination: number | readonly number[],
): Tensor {
  const t = asT(x);
  const src = (typeof source === "number" ? [source] : [...source]).map((a) =>
    normAxis("moveAxis", a, t.rank),
  );
  const dst = (typeof destination === "number" ? [destination] : [...destination]).map((a) =>
    normAxis("moveAxis", a, t.rank),
  );
  if (
    src.length !== dst.length ||
    new Set(src).size !== src.length ||
    new Set(dst).size !== dst.length
  )
    fail(
      `moveAxis: source [${src.join(",")}] and destination [${dst.join(",")}] must be distinct axes of equal count`,
    );
  const rest = t.shape.map((_, i) => i).filter((i) => !src.includes(i));
  const perm = new Array<number>(t.rank);
  src.forEach((s, i) => (perm[dst[i]!] = s));
  let k = 0;
  for (let i = 0; i < t.rank; i++) if (perm[i] === undefined) perm[i] = rest[k++]!;
  return o.transpose(t, perm);
}

/** Exchanges two axes (NumPy swapaxes). */
export function swapAxes(x: TensorLike, axis1: number, axis2: number): Tensor {
  const t = asT(x);
  const a = normAxis("swapAxes", axis1, t.rank);
  const b = normAxis("swapAxes", axis2, t.rank);
  const perm = t.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return o.transpose(t, perm);
}

/**
 * Coordinate grids from 1-D tensors (NumPy meshgrid): `indexing: "xy"` (default, NumPy's: the
 * first two outputs are [len(y), len(x)]) or `"ij"` (matrix indexing, shape [len(x), len(y), …]).
 */
export function meshgrid(...args: Array<TensorLike | { indexing?: "xy" | "ij" }>): Tensor[] {
  let indexing: "xy" | "ij" = "xy";
  const last = args[args.length - 1];
  if (last && typeof last === "object" && !Array.isArray(last) && "indexing" in (last as object)) {
    indexing = (last as { indexing?: "xy" | "ij" }).indexing ?? "xy";
    args = args.slice(0, -1);
  }
  const vs = (args as TensorLike[]).map((a) => o.reshape(asT(a), [-1]));
  const shape = vs.map((v) => v.shape[0]!);
  if (indexing === "xy" && vs.length >= 2) [shape[0], shape[1]] = [shape[1]!, shape[0]!];
  return vs.map((v, i) => {
    const pos = indexing === "xy" && vs.length >= 2 && i < 2 ? 1 - i : i;
    const view = shape.map((_, j) => (j === pos ? v.shape[0]! : 1));
    return o.broadcastTo(o.reshape(v, view), shape);
  });
}

function trilu(op: string, x: TensorLike, k: number, upper: boolean): Tensor {
  const t = asT(x);
  if (t.rank < 2) fail(`${op}: needs at least 2 dimensions, got ${desc(t)}`);
  if (!Number.isInteger(k)) fail(`${op}: k must be an integer, got ${k}`);
  return emit("trilu", [t], { k, upper }, t.shape, t.dtype);
}

/** The lower triangle of the last two axes: elements above diagonal k are zeroed (NumPy tril). */
export function tril(x: TensorLike, k = 0): Tensor {
  return trilu("tril", x, k, false);
}

/** The upper triangle of the last two axes: elements below diagonal k are zeroed (NumPy triu). */
export function triu(x: TensorLike, k = 0): Tensor {
  return trilu("triu", x, k, true);
}

/**
 * The diagonal `offset` of axes `axis1`, `axis2` (default 0, 1) as the last axis (NumPy diagonal).
 */
export function diagonal(
  x: TensorLike,
  opts: { offset?: number; axis1?: number; axis2?: number } = {},
): Tensor {
  const t = asT(x);
  if (t.rank < 2) fail(`diagonal: needs at least 2 dimensions, got ${desc(t)}`);
  const k = opts.offset ?? 0;
  const a1 = normAxis("diagonal", opts.axis1 ?? 0, t.rank);
  const a2 = normAxis("diagonal", opts.axis2 ?? 1, t.rank);
  if (a1 === a2) fail("diagonal: axis1 and axis2 must differ");
  const m = moveAxis(t, [a1, a2], [t.rank - 2, t.rank - 1]);
  const rows = m.shape[m.rank - 2]!;
  const cols = m.shape[m.rank - 1]!;
  const len = Math.max(0, Math.min(k >= 0 ? rows : rows + k, k >= 0 ? cols - k : cols));
  const lead = m.shape.slice(0, -2);
  if (len === 0) return o.zeros([...lead, 0], { dtype: t.dtype });
  const r0 = k >= 0 ? 0 : -k;
  const c0 = k >= 0 ? k : 0;
  const idx = Int32Array.from({ length: len }, (_, i) => (r0 + i) * cols + c0 + i);
  return o.take(o.reshape(m, [...lead, rows * cols]), o.tensor(idx), { axis: lead.length });
}

/**
 * NumPy diag: of a 1-D tensor, the square matrix with it on diagonal k; of a 2-D tensor, its
 * diagonal k.
 */
export function diag(x: TensorLike, k = 0): Tensor {
  const t = asT(x);
  if (t.rank === 2) return diagonal(t, { offset: k });
  if (t.rank !== 1) fail(`diag: expected a 1-D or 2-D tensor, got ${desc(t)}`);
  const n = t.shape[0]!;
  const eyeMask = o.eye(n, { dtype: "bool" });
  const square = o.where(
    eyeMask,
    o.broadcastTo(o.reshape(t, [n, 1]), [n, n]),
    o.zeros([], { dtype: t.dtype }),
  );
  const a = Math.abs(k);
  if (a === 0) return square;
  return k > 0
    ? o.pad(square, [
        [0, a],
        [a, 0],
      ])
    : o.pad(square, [
        [a, 0],
        [0, a],
      ]);
}

/** Sum of diagonal `offset` of axes `axis1`, `axis2` (NumPy trace; default the first two). */
export function trace(
  x: TensorLike,
  opts: { offset?: number; axis1?: number; axis2?: number } = {},
): Tensor {
  return o.sum(diagonal(x, opts), -1);
}
