/**
 * Linear algebra with NumPy's names: einsum, outer, tensordot, norm (vector and matrix), det,
 * inverse, solve.
 *
 * einsum is one ONNX Einsum on "clean" operands: tsnb first expands `...`, takes the diagonals
 * of repeated indices within an operand (`ii->i`) and sums out indices that only one operand
 * has, so every index of an operand appears in the output or another operand; then the gradient
 * of operand i is itself a clean einsum of the output's cotangent with the other operands.
 *
 * det, inverse and solve are Gauss–Jordan elimination with partial pivoting written with tsnb ops
 * (batched over leading axes, unrolled over n): ONNX Runtime's CPU Det is f32-only and its
 * Inverse is a contrib op, so composing them keeps f64 precise, works in jit, and differentiates
 * through the elimination (the pivot choice has zero derivative, as in LAPACK-based autodiff).
 */
import { arithmeticType, floatType } from "./dtype.ts";
import * as o from "./ops.ts";
import { svdvals } from "./decomp.ts";
import { diagonal } from "./shape.ts";
import { type Tensor, TensorError, type TensorLike, emit } from "./tensor.ts";

const asT = (x: TensorLike): Tensor => o.tensor(x);
const desc = (t: Tensor): string => `${t.dtype}[${t.shape.join(",")}]`;

function fail(msg: string): never {
  throw new TensorError(msg);
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * Einstein summation (NumPy einsum): `einsum("ij,jk->ik", a, b)`; implicit output (no `->`: the
 * indices that occur once, sorted), `...` for broadcast leading axes, repeated indices for
 * diagonals and traces (`"ii->"`). Operands are promoted to one dtype.
 */
export function einsum(equation: string, ...operands: TensorLike[]): Tensor {
  const op = "einsum";
  let ts = operands.map(asT);
  // the plan (broadcasts, diagonals, sums, the final equation) depends only on the equation and the shapes
  let key = equation;
  for (const t of ts) key += "|" + t.shape.join(",");
  const cached = PLANS.get(key);
  const d0 = ts.map((t) => t.dtype).reduce(arithmeticType);
  if (cached)
    return applyPlan(
      cached,
      ts.map((t) => o.cast(t, d0)),
      d0,
    );
  const plan: Plan = { steps: ts.map(() => []), final: { kind: "transpose", perm: [] } };
  const act = (i: number, s: Step): void => {
    plan.steps[i]!.push(s);
    ts[i] = applyStep(ts[i]!, s);
  };
  const eq = equation.replace(/\s+/g, "");
  const arrow = eq.indexOf("->");
  const lhs = arrow === -1 ? eq : eq.slice(0, arrow);
  let subs = lhs.split(",");
  if (subs.length !== ts.length)
    fail(`${op}: "${equation}" has ${subs.length} operands, got ${ts.length} tensors`);
  for (const s of [...subs, arrow === -1 ? "" : eq.slice(arrow + 2)])
    if (!/^[a-zA-Z]*(\.\.\.)?[a-zA-Z]*$/.test(s))
      fail(`${op}: cannot read "${equation}" (letters, one "..." per operand, "," and "->")`);
  const d = ts.map((t) => t.dtype).reduce(arithmeticType);
  ts = ts.map((t) => o.cast(t, d));

  // 1. expand "..." into fresh letters (right-aligned, broadcast explicitly)
  const used = new Set(eq.replace(/[^a-zA-Z]/g, ""));
  const fresh = [...LETTERS].filter((c) => !used.has(c));
  const ellRanks = subs.map((s, i) => {
    const letters = s.replace("...", "").length;
    if (!s.includes("...") && letters !== ts[i]!.rank)
      fail(`${op}: operand ${i} "${s}" has ${letters} indices for ${desc(ts[i]!)}`);
    if (letters > ts[i]!.rank)
      fail(`${op}: operand ${i} "${s}" has more indices than ${desc(ts[i]!)} has axes`);
    return s.includes("...") ? ts[i]!.rank - letters : 0;
  });
  const ellRank = Math.max(0, ...ellRanks);
  const ellLetters = fresh.slice(0, ellRank).join("");
  const ellShape = new Array<number>(ellRank).fill(1);
  subs.forEach((s, i) => {
    if (!s.includes("...")) return;
    const start = s.indexOf("...");
    const dims = ts[i]!.shape.slice(start, start + ellRanks[i]!);
    dims.forEach((dim, j) => {
      const k = ellRank - dims.length + j;
      if (dim !== 1 && ellShape[k] !== 1 && ellShape[k] !== dim)
        fail(`${op}: the "..." axes of the operands cannot be broadcast together`);
      if (dim !== 1) ellShape[k] = dim;
    });
  });
  subs = subs.map((s, i) => {
    if (!s.includes("...")) return s;
    const start = s.indexOf("...");
    const r = ellRanks[i]!;
    const t = ts[i]!;
    const target = t.shape.slice();
    for (let j = 0; j < r; j++) target[start + j] = ellShape[ellRank - r + j]!;
    act(i, { kind: "broadcast", shape: target });
    return s.replace("...", ellLetters.slice(ellRank - r));
  });
  let out: string;
  if (arrow === -1) {
    const counts = new Map<string, number>();
    for (const c of subs.join("")) counts.set(c, (counts.get(c) ?? 0) + 1);
    const singles = [...counts]
      .filter(([c, n]) => n === 1 && !ellLetters.includes(c))
      .map(([c]) => c)
      .sort();
    out = ellLetters + singles.join("");
  } else out = eq.slice(arrow + 2).replace("...", ellLetters);
  if (new Set(out).size !== out.length) fail(`${op}: output "${out}" repeats an index`);

  // sizes must agree
  const size = new Map<string, number>();
  subs.forEach((s, i) =>
    [...s].forEach((c, j) => {
      const dim = ts[i]!.shape[j]!;
      const prev = size.get(c);
      if (prev !== undefined && prev !== dim)
        fail(`${op}: index "${c}" has sizes ${prev} and ${dim} in "${equation}"`);
      size.set(c, dim);
    }),
  );
  for (const c of out) if (!size.has(c)) fail(`${op}: output index "${c}" is not in any operand`);

  // 2. diagonals of repeated indices within an operand; 3. sum indices only one operand has
  subs = subs.map((s0, i) => {
    let s = s0;
    for (;;) {
      const c = [...s].find((ch, j) => s.indexOf(ch) !== j);
      if (c === undefined) break;
      const p = s.indexOf(c);
      const q = s.indexOf(c, p + 1);
      act(i, { kind: "diagonal", axis1: p, axis2: q });
      s = [...s].filter((_, j) => j !== p && j !== q).join("") + c;
    }
    const others = subs.filter((_, j) => j !== i).join("") + out;
    const lonely = [...s].map((c, j) => (others.includes(c) ? -1 : j)).filter((j) => j >= 0);
    if (lonely.length) {
      act(i, { kind: "sum", axes: lonely });
      s = [...s].filter((_, j) => !lonely.includes(j)).join("");
    }
    return s;
  });
  const shape = [...out].map((c) => size.get(c)!);
  const s0 = subs[0]!;
  plan.final =
    ts.length === 1 && s0.length === out.length
      ? { kind: "transpose", perm: [...out].map((c) => s0.indexOf(c)) }
      : { kind: "einsum", equation: `${subs.join(",")}->${out}`, shape };
  if (PLANS.size >= 512) PLANS.clear();
  PLANS.set(key, plan);
  return applyPlan({ steps: plan.steps.map(() => []), final: plan.final }, ts, d);
}

type Step =
  | { kind: "broadcast"; shape: number[] }
  | { kind: "diagonal"; axis1: number; axis2: number }
  | { kind: "sum"; axes: number[] };

/** How einsum computes one equation on operands of given shapes. */
interface Plan {
  steps: Step[][];
  final:
    { kind: "transpose"; perm: number[] } | { kind: "einsum"; equation: string; shape: number[] };
}

const PLANS = new Map<string, Plan>();

function applyStep(t: Tensor, s: Step): Tensor {
  switch (s.kind) {
    case "broadcast":
      return o.broadcastTo(t, s.shape);
    case "diagonal":
      return diagonal(t, { axis1: s.axis1, axis2: s.axis2 });
    case "sum":
      return o.sum(t, s.axes);
  }
}

function applyPlan(plan: Plan, ts: Tensor[], d: ReturnType<typeof arithmeticType>): Tensor {
  const xs = ts.map((t, i) => plan.steps[i]!.reduce(applyStep, t));
  const f = plan.final;
  if (f.kind === "transpose") return o.transpose(xs[0]!, f.perm);
  return emit("einsum", xs, { equation: f.equation }, f.shape, d);
}

/** The outer product of two tensors, flattened first (NumPy outer): [a.size, b.size]. */
export function outer(a: TensorLike, b: TensorLike): Tensor {
  const ta = o.reshape(asT(a), [-1]);
  const tb = o.reshape(asT(b), [-1]);
  return o.multiply(o.reshape(ta, [ta.size, 1]), o.reshape(tb, [1, tb.size]));
}

/**
 * Sum of products over axes (NumPy tensordot): `axes` a number N (the last N of a with the first
 * N of b; default 2) or `[axesOfA, axesOfB]`.
 */
export function tensordot(
  a: TensorLike,
  b: TensorLike,
  axes: number | readonly [number | readonly number[], number | readonly number[]] = 2,
): Tensor {
  const ta = asT(a);
  const tb = asT(b);
  let axA: number[];
  let axB: number[];
  if (typeof axes === "number") {
    axA = Array.from({ length: axes }, (_, i) => ta.rank - axes + i);
    axB = Array.from({ length: axes }, (_, i) => i);
  } else {
    axA = typeof axes[0] === "number" ? [axes[0]] : [...axes[0]];
    axB = typeof axes[1] === "number" ? [axes[1]] : [...axes[1]];
  }
  axA = axA.map((x) => (x < 0 ? x + ta.rank : x));
  axB = axB.map((x) => (x < 0 ? x + tb.rank : x));
  if (
    axA.length !== axB.length ||
    axA.some((x, i) => x < 0 || x >= ta.rank || axB[i]! < 0 || axB[i]! >= tb.rank)
  )
    fail(
      `tensordot: axes [${axA.join(",")}] and [${axB.join(",")}] do not fit ${desc(ta)} and ${desc(tb)}`,
    );
  const la = LETTERS.slice(0, ta.rank).split("");
  const lb = LETTERS.slice(ta.rank, ta.rank + tb.rank).split("");
  axA.forEach((x, i) => (lb[axB[i]!] = la[x]!));
  const outL = [...la.filter((_, i) => !axA.includes(i)), ...lb.filter((_, i) => !axB.includes(i))];
  return einsum(`${la.join("")},${lb.join("")}->${outL.join("")}`, ta, tb);
}

/** Options of norm. */
export interface NormOptions {
  /**
   * Vector: 2 (default), 1, Infinity, -Infinity, 0 (count of non-zeros) or any p. Matrix (two
   * axes): "fro" (default), 1, -1, Infinity, -Infinity (column/row absolute sums), and eagerly
   * (from nx.linalg.svdvals) 2, -2 (largest/smallest singular value) and "nuc" (their sum).
   */
  ord?: number | "fro" | "nuc";
  /** One axis (vector norm) or two (matrix norm); all axes (flattened 2-norm) by default. */
  axis?: number | readonly [number, number];
  keepDims?: boolean;
}

/** Vector and matrix norms (NumPy linalg.norm); float result. */
export function norm(x: TensorLike, opts: NormOptions = {}): Tensor {
  let t = asT(x);
  t = o.cast(t, floatType(t.dtype));
  const keepDims = opts.keepDims ?? false;
  let axes: number[];
  if (opts.axis === undefined) {
    if (opts.ord === undefined || opts.ord === "fro") {
      if (opts.ord === "fro" && t.rank !== 2) fail(`norm: "fro" needs a matrix, got ${desc(t)}`);
      return o.sqrt(o.sum(o.square(o.abs(t)), { keepDims }));
    }
    if (t.rank !== 1 && t.rank !== 2)
      fail(`norm: an ord needs a vector or matrix (or an axis), got ${desc(t)}`);
    axes = t.shape.map((_, i) => i);
  } else
    axes = (typeof opts.axis === "number" ? [opts.axis] : [...opts.axis]).map((a) =>
      a < 0 ? a + t.rank : a,
    );
  const ord = opts.ord;
  const absT = o.abs(t);
  if (axes.length === 1) {
    const red = { axes, keepDims };
    if (ord === undefined || ord === 2) return o.sqrt(o.sum(o.square(absT), red));
    if (ord === "fro" || ord === "nuc") fail(`norm: "${ord}" is a matrix norm; give two axes`);
    if (ord === Infinity) return o.max(absT, red);
    if (ord === -Infinity) return o.min(absT, red);
    if (ord === 0) return o.cast(o.sum(o.notEqual(t, 0), red), t.dtype);
    if (ord === 1) return o.sum(absT, red);
    return o.pow(o.sum(o.pow(absT, ord), red), 1 / ord);
  }
  if (axes.length !== 2 || axes[0] === axes[1]) fail(`norm: axis must be one or two distinct axes`);
  const [r, c] = axes as [number, number];
  const keep = (y: Tensor): Tensor => {
    if (!keepDims) return y;
    const shape = t.shape.map((dim, i) => (i === r || i === c ? 1 : dim));
    return o.reshape(y, shape);
  };
  if (ord === undefined || ord === "fro") return keep(o.sqrt(o.sum(o.square(absT), axes)));
  if (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity) {
    // 1: the largest column sum (sum over rows); Infinity: the largest row sum
    const sumAxis = Math.abs(ord) === 1 ? r : c;
    const otherAxis = Math.abs(ord) === 1 ? c : r;
    const sums = o.sum(absT, { axes: sumAxis, keepDims: true });
    const red =
      ord > 0
        ? o.max(sums, { axes: otherAxis, keepDims: true })
        : o.min(sums, { axes: otherAxis, keepDims: true });
    return keep(
      o.reshape(
        red,
        t.shape.filter((_, i) => i !== r && i !== c),
      ),
    );
  }
  if (ord === 2 || ord === -2 || ord === "nuc") {
    // the spectral (2: the largest singular value, -2: the smallest) and nuclear (their sum) norms
    // from the host SVD of nx.linalg: eager only
    if (t.isSymbolic)
      fail(
        `norm: matrix ord ${String(ord)} needs singular values, computed eagerly on the host: not inside jit or grad`,
      );
    const rest = t.shape.map((_, i) => i).filter((i) => i !== r && i !== c);
    const s = svdvals(o.transpose(t, [...rest, r, c]));
    const red = { axes: s.rank - 1 };
    return keep(ord === 2 ? o.max(s, red) : ord === -2 ? o.min(s, red) : o.sum(s, red));
  }
  return fail(`norm: unknown matrix ord ${String(ord)} (NumPy's: "fro", "nuc", ±1, ±2, ±Infinity)`);
}

/**
 * Gauss–Jordan elimination with partial pivoting on a [..., n, n] (and right-hand sides
 * b [..., n, m]): the determinant and, with b, the solution of a·x = b.
 */
function eliminate(
  op: string,
  a0: Tensor,
  b0: Tensor | null,
): { det: Tensor; x: Tensor | null; pivots: Tensor[] } {
  let a = a0;
  let b = b0;
  const n = a.shape[a.rank - 1]!;
  const batch = a.shape.slice(0, -2);
  let det: Tensor = o.ones(batch, { dtype: a.dtype });
  const rows = o.arange(n, undefined, 1, { dtype: "i64" });
  const pivots: Tensor[] = [];
  for (let k = 0; k < n; k++) {
    const col = o.take(a, k, { axis: -1 }); // [..., n]
    const score = o.where(o.greaterEqual(rows, k), o.abs(col), -1);
    const p = o.expandDims(o.argmax(score, { axis: -1 }), -1); // [..., 1] i64
    const perm = o.where(o.equal(rows, k), p, o.where(o.equal(rows, p), k, rows)); // [..., n]
    const permIdx = o.expandDims(perm, -1);
    a = o.takeAlongAxis(a, permIdx, -2);
    if (b) b = o.takeAlongAxis(b, permIdx, -2);
    const swapped = o.squeeze(o.notEqual(p, k), -1);
    const pivot = o.take(o.take(a, k, { axis: -2 }), k, { axis: -1 }); // [...]
    pivots.push(pivot);
    det = o.multiply(det, o.multiply(pivot, o.where(swapped, -1, 1)));
    const safe = o.where(o.equal(pivot, 0), 1, pivot);
    const rowA = o.divide(o.take(a, k, { axis: -2 }), o.expandDims(safe, -1)); // [..., n]
    // f = column k minus e_k: subtracting f ⊗ rowA zeroes column k and leaves rowA as row k
    const f = o.subtract(o.take(a, k, { axis: -1 }), o.cast(o.equal(rows, k), a.dtype));
    a = o.subtract(a, o.multiply(o.expandDims(f, -1), o.expandDims(rowA, -2)));
    if (b) {
      const rowB = o.divide(o.take(b, k, { axis: -2 }), o.expandDims(safe, -1));
      b = o.subtract(b, o.multiply(o.expandDims(f, -1), o.expandDims(rowB, -2)));
    }
  }
  void op;
  return { det, x: b, pivots };
}

function square(op: string, x: TensorLike): Tensor {
  const t0 = asT(x);
  const t = o.cast(t0, floatType(t0.dtype));
  if (t.rank < 2 || t.shape[t.rank - 1] !== t.shape[t.rank - 2])
    fail(`${op}: expected square matrices [..., n, n], got ${desc(t0)}`);
  return t;
}

function checkSingular(op: string, pivots: readonly Tensor[]): void {
  for (const p of pivots) {
    if (p.isSymbolic) return;
    for (const v of p.dataSync()) if (v === 0) fail(`${op}: the matrix is singular`);
  }
}

/** Determinant of square matrices [..., n, n] (NumPy linalg.det); float result. */
export function det(x: TensorLike): Tensor {
  const t = square("det", x);
  if (t.shape[t.rank - 1] === 0) return o.ones(t.shape.slice(0, -2), { dtype: t.dtype });
  return eliminate("det", t, null).det;
}

/**
 * Solves a·x = b (NumPy linalg.solve): a [..., n, n]; b [n] (a vector, NumPy 2's rule: only when
 * b is 1-D) or [..., n, m]. A singular matrix is an error (eager).
 */
export function solve(a: TensorLike, b: TensorLike): Tensor {
  const ta = square("solve", a);
  let tb = o.cast(asT(b), ta.dtype === "f64" || asT(b).dtype === "f64" ? "f64" : ta.dtype);
  const tA = o.cast(ta, tb.dtype);
  const vector = tb.rank === 1;
  if (vector) tb = o.reshape(tb, [tb.shape[0]!, 1]);
  const n = tA.shape[tA.rank - 1]!;
  if (tb.shape[tb.rank - 2] !== n) fail(`solve: b ${desc(asT(b))} does not match a ${desc(ta)}`);
  const batch = o.broadcastShapes(
    "solve",
    o.zeros(tA.shape.slice(0, -2)),
    o.zeros(tb.shape.slice(0, -2)),
  );
  const A = o.broadcastTo(tA, [...batch, n, n]);
  const B = o.broadcastTo(tb, [...batch, n, tb.shape[tb.rank - 1]!]);
  const { x, pivots } = eliminate("solve", A, B);
  checkSingular("solve", pivots);
  return vector ? o.squeeze(x!, -1) : x!;
}

/** The inverse of square matrices [..., n, n] (NumPy linalg.inv). A singular matrix is an error (eager). */
export function inverse(x: TensorLike): Tensor {
  const t = square("inverse", x);
  const n = t.shape[t.rank - 1]!;
  const { x: inv, pivots } = eliminate(
    "inverse",
    t,
    o.broadcastTo(o.eye(n, { dtype: t.dtype }), t.shape),
  );
  checkSingular("inverse", pivots);
  return inv!;
}
