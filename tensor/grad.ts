/**
 * Symbolic reverse-mode differentiation of a trace: ONE table of gradient rules (one per
 * primitive) and the backward pass that applies them.
 *
 * A rule maps the cotangent of a node's output to cotangents of its inputs, written with the
 * public ops, so the backward graph is recorded into the same trace (it lowers to standard ONNX
 * ops and can itself be differentiated). Broadcasting is undone in one place: the backward pass
 * sums every input cotangent back to that input's shape (`sumToShape`). Primitives absent from
 * the table (comparisons, argmax, floor, …) have zero derivative.
 *
 * Invariants: only float inputs receive cotangents; gradients are accumulated by `add`; the
 * pass stops at the `wrt` nodes (they are fresh identity nodes made by grad, so each argument is
 * an independent variable).
 */
import { isFloat } from "./dtype.ts";
import type { Attrs, Prim } from "./lower.ts";
import * as o from "./ops.ts";
import { productOfOthers } from "./reduce.ts";
import { einsum } from "./linalg.ts";
import { avgPoolGrad } from "./conv.ts";
import { geluInner } from "./math.ts";
import { type Tensor, TensorError } from "./tensor.ts";

/** A gradient rule: the output cotangent g, the node's inputs x, its output y and attributes. */
type Rule = (g: Tensor, x: readonly Tensor[], y: Tensor, a: Attrs) => Array<Tensor | null>;

const swapLast = (t: Tensor): Tensor => {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 1] = t.rank - 2;
  perm[t.rank - 2] = t.rank - 1;
  return o.transpose(t, perm);
};

const keepShape = (shape: readonly number[], axes: readonly number[]): number[] =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d));

/** Weight of the first operand of max/min: 1 where it wins, ½ on ties (as JAX). */
function chooser(a: Tensor, b: Tensor, wins: Tensor): Tensor {
  return o.add(o.cast(wins, a.dtype), o.multiply(o.cast(o.equal(a, b), a.dtype), 0.5));
}

export const GRAD_RULES: Partial<Record<Prim, Rule>> = {
  identity: (g) => [g],
  add: (g) => [g, g],
  sub: (g) => [g, o.negate(g)],
  mul: (g, [a, b]) => [o.multiply(g, b!), o.multiply(g, a!)],
  div: (g, [, b], y) => [o.divide(g, b!), o.negate(o.divide(o.multiply(g, y), b!))],
  pow: (g, [a, b], y) => [
    o.multiply(g, o.where(o.equal(b!, 0), 0, o.multiply(b!, o.pow(a!, o.subtract(b!, 1))))),
    o.multiply(g, o.where(o.equal(a!, 0), 0, o.multiply(o.log(o.where(o.equal(a!, 0), 1, a!)), y))),
  ],
  max: (g, [a, b]) => {
    const w = chooser(a!, b!, o.greater(a!, b!));
    return [o.multiply(g, w), o.multiply(g, o.subtract(1, w))];
  },
  min: (g, [a, b]) => {
    const w = chooser(a!, b!, o.less(a!, b!));
    return [o.multiply(g, w), o.multiply(g, o.subtract(1, w))];
  },
  mod: (g, [a, b]) => [g, o.negate(o.multiply(g, o.floor(o.divide(a!, b!))))],
  neg: (g) => [o.negate(g)],
  abs: (g, [a]) => [o.multiply(g, o.sign(a!))],
  exp: (g, _x, y) => [o.multiply(g, y)],
  log: (g, [a]) => [o.divide(g, a!)],
  sqrt: (g, _x, y) => [o.divide(g, o.multiply(y, 2))],
  tanh: (g, _x, y) => [o.multiply(g, o.subtract(1, o.multiply(y, y)))],
  sigmoid: (g, _x, y) => [o.multiply(g, o.multiply(y, o.subtract(1, y)))],
  relu: (g, [a]) => [o.multiply(g, o.cast(o.greater(a!, 0), g.dtype))],
  sin: (g, [a]) => [o.multiply(g, o.cos(a!))],
  cos: (g, [a]) => [o.negate(o.multiply(g, o.sin(a!)))],
  // the f32 kernels of math.ts (f64 differentiates through its composites)
  tan: (g, _x, y) => [o.multiply(g, o.add(o.multiply(y, y), 1))],
  asin: (g, [a]) => [o.multiply(g, o.rsqrt(o.subtract(1, o.multiply(a!, a!))))],
  acos: (g, [a]) => [o.negate(o.multiply(g, o.rsqrt(o.subtract(1, o.multiply(a!, a!)))))],
  atan: (g, [a]) => [o.divide(g, o.add(o.multiply(a!, a!), 1))],
  sinh: (g, [a]) => [o.multiply(g, o.divide(o.add(o.exp(a!), o.exp(o.negate(a!))), 2))],
  cosh: (g, [a]) => [o.multiply(g, o.divide(o.subtract(o.exp(a!), o.exp(o.negate(a!))), 2))],
  asinh: (g, [a]) => [o.multiply(g, o.rsqrt(o.add(o.multiply(a!, a!), 1)))],
  acosh: (g, [a]) => [o.multiply(g, o.rsqrt(o.subtract(o.multiply(a!, a!), 1)))],
  atanh: (g, [a]) => [o.divide(g, o.subtract(1, o.multiply(a!, a!)))],
  cast: (g, [a]) => [isFloat(a!.dtype) ? o.cast(g, a!.dtype) : null],
  where: (g, [c]) => [null, o.where(c!, g, 0), o.where(c!, 0, g)],
  reduceSum: (g, [a], _y, at) => [
    o.broadcastTo(o.reshape(g, keepShape(a!.shape, at.axes as number[])), a!.shape),
  ],
  reduceMax: (g, [a], y, at) => reduceChooser(g, a!, y, at),
  reduceMin: (g, [a], y, at) => reduceChooser(g, a!, y, at),
  matmul: (g, [a, b]) => [o.matmul(g, swapLast(b!)), matmulWeightGrad(a!, g, b!)],
  transpose: (g, _x, _y, at) => {
    const perm = at.perm as number[];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [o.transpose(g, inv)];
  },
  reshape: (g, [a]) => [o.reshape(g, a!.shape)],
  expand: (g) => [g], // summed back to the input shape by the backward pass
  slice: (g, [a], y, at) => sliceGrad(g, a!, y, at),
  pad: (g, [a], _y, at) => {
    const pads = at.pads as number[];
    return [o.slice(g, pads.slice(0, a!.rank), a!.shape)];
  },
  concat: (g, xs, _y, at) => {
    const axis = at.axis as number;
    let offset = 0;
    return xs.map((x) => {
      const begin = x.shape.map((_, i) => (i === axis ? offset : 0));
      offset += x.shape[axis]!;
      return o.slice(g, begin, x.shape);
    });
  },
  gather: (g, [a, idx], _y, at) => [
    o.primitive(
      "gatherGrad",
      [g, idx!],
      { axis: at.axis as number, shape: a!.shape.slice(), idxRank: idx!.rank },
      a!.shape,
      g.dtype,
    ),
    null,
  ],
  // y = x − logSumExp(x): dx = g − softmax(x)·Σg
  softmax: (g, _x, y, at) => [
    o.multiply(
      y,
      o.subtract(g, o.sum(o.multiply(g, y), { axes: at.axis as number, keepDims: true })),
    ),
  ],
  logSoftmax: (g, _x, y, at) => [
    o.subtract(g, o.multiply(o.exp(y), o.sum(g, { axes: at.axis as number, keepDims: true }))),
  ],
  erf: (g, [a]) => [
    o.multiply(g, o.multiply(o.exp(o.negate(o.multiply(a!, a!))), 2 / Math.sqrt(Math.PI))),
  ],
  conv: (g, [x, w], _y, at) => [
    convInputGrad(g, w!, at, x!.shape),
    convKernelGrad(x!, g, at, w!.shape),
  ],
  // convTranspose(g, w) is linear in g (adjoint of conv) and in w
  convTranspose: (h, [g, w], _y, at) => {
    const convAttrs: Attrs = { strides: at.strides!, pads: at.pads!, dilations: at.dilations! };
    return [
      o.primitive("conv", [h, w!], convAttrs, g!.shape, h.dtype),
      convKernelGrad(h, g!, convAttrs, w!.shape),
    ];
  },
  // the gradient goes to each window's maximum (the first one on ties; how its positions are
  // found is the lowering's choice: lower.ts maxPoolIndices)
  maxPool: (g, [x], y, at) => {
    const idx = o.primitive(
      "maxPoolIndices",
      [x!],
      { ...at, shape: x!.shape.slice() },
      y.shape,
      "i64",
    );
    // windows that do not overlap send at most one value to each position
    const strides = at.strides as number[];
    const unique = (at.kernel as number[]).every((k, i) => k <= strides[i]!);
    const flat = o.primitive(
      "scatterElementsAdd",
      [o.reshape(g, [g.size]), o.reshape(idx, [idx.size])],
      { axis: 0, shape: [x!.size], ...(unique ? { unique: true } : {}) },
      [x!.size],
      g.dtype,
    );
    return [o.reshape(flat, x!.shape)];
  },
  gatherGrad: (g, [, idx], _y, at) => [
    o.primitive(
      "gather",
      [g, idx!],
      { axis: at.axis as number },
      gatherShape(g.shape, idx!.shape, at.axis as number),
      g.dtype,
    ),
    null,
  ],
  cumsum: (g, [a], _y, at) => [
    o.primitive(
      "cumsum",
      [g],
      { axis: at.axis as number, reverse: !at.reverse, exclusive: at.exclusive as boolean },
      a!.shape,
      g.dtype,
    ),
  ],
  gatherElements: (g, [a, idx], _y, at) => [
    o.primitive(
      "scatterElementsAdd",
      [g, idx!],
      { axis: at.axis as number, shape: a!.shape.slice() },
      a!.shape,
      g.dtype,
    ),
    null,
  ],
  // x.at[…].set/add on flat data: overwritten positions get no gradient (set); updates get theirs
  scatter: (g, [, idx, upd], _y, at) => {
    const gu = o.primitive("gatherElements", [g, idx!], { axis: 0 }, idx!.shape, g.dtype);
    if (at.reduction === "add") return [g, null, gu];
    const zero = o.zeros(upd!.shape, { dtype: g.dtype });
    return [
      o.primitive("scatter", [g, idx!, zero], { reduction: "none" }, g.shape, g.dtype),
      null,
      gu,
    ];
  },
  // x.at(rows).set/add as one ScatterND: the updates' cotangent is g's rows; set zeroes them in x's
  scatterRows: (g, [, idx, upd], _y, at) => {
    const gu = o.take(g, o.reshape(idx!, [idx!.shape[0]!]), { axis: 0 });
    if (at.reduction === "add") return [g, null, gu];
    const zero = o.zeros(upd!.shape, { dtype: g.dtype });
    return [
      o.primitive("scatterRows", [g, idx!, zero], { reduction: "none" }, g.shape, g.dtype),
      null,
      gu,
    ];
  },
  // the product of the other elements (two exclusive scans): exact where x has zeros
  reduceProd: (g, [a], _y, at) => {
    const axes = at.axes as number[];
    const rest = a!.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...rest, ...axes];
    const moved = o.transpose(a!, perm);
    const k = axes.reduce((n, i) => n * a!.shape[i]!, 1);
    const flat = o.reshape(moved, [...rest.map((i) => a!.shape[i]!), k]);
    const others = o.reshape(productOfOthers(flat), moved.shape);
    const inv = perm.map((_, i) => perm.indexOf(i));
    const dx = o.transpose(others, inv);
    return [o.multiply(dx, o.reshape(g, keepShape(a!.shape, axes)))];
  },
  // operands are clean (linalg.ts): each index of operand i is in the output or another operand
  einsum: (g, xs, _y, at) => {
    const [lhs, out] = (at.equation as string).split("->") as [string, string];
    const subs = lhs.split(",");
    return xs.map((x, i) => {
      if (!isFloat(x.dtype)) return null;
      const others = xs.filter((_, j) => j !== i);
      const eq = [out, ...subs.filter((_, j) => j !== i)].join(",") + "->" + subs[i]!;
      return einsum(eq, g, ...others);
    });
  },
  avgPool: (g, [x], _y, at) => [avgPoolGrad(g, x!.shape, at)],
  gelu: (g, [x], _y, at) => [o.multiply(g, geluDerivative(x!, at.approximate === "tanh"))],
  // y = (x − μ)·r with r = (σ² + ε)^−½ over the normalized axes (n elements):
  // dx = r·(g − mean(g) − y·mean(g·y))
  normalize: (g, [x], y, at) => {
    const axes = normalizedAxes(x!, at);
    const rstd = o.primitive("normRstd", [x!], at, keepShape(x!.shape, axes), x!.dtype);
    const centred = o.subtract(g, o.mean(g, { axes, keepDims: true }));
    const along = o.multiply(y, o.mean(o.multiply(g, y), { axes, keepDims: true }));
    return [o.multiply(o.subtract(centred, along), rstd)];
  },
  // dr/dx = −r³·(x − μ)/n = −r²·y/n
  normRstd: (g, [x], r, at) => {
    const axes = normalizedAxes(x!, at);
    const n = axes.reduce((k, i) => k * x!.shape[i]!, 1);
    const y = o.primitive("normalize", [x!], at, x!.shape, x!.dtype);
    return [o.multiply(y, o.multiply(o.multiply(g, o.multiply(r, r)), -1 / n))];
  },
  trilu: (g, _x, _y, at) => [o.primitive("trilu", [g], at, g.shape, g.dtype)],
  scatterElementsAdd: (g, [, idx], _y, at) => [
    o.primitive("gatherElements", [g, idx!], { axis: at.axis as number }, idx!.shape, g.dtype),
    null,
  ],
};

const normalizedAxes = (x: Tensor, at: Attrs): number[] =>
  x.shape.map((_, i) => i).slice(at.axis as number);

/**
 * d/dx of GELU. Exact: Φ(x) + x·φ(x) = ½·(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π), in 11 element-wise
 * kernels (the composite's backward took 10 more after its 5 forward ones). Tanh form: with
 * t = tanh(u), u = √(2/π)·(x + 0.044715x³): ½(1 + t) + ½x·(1 − t²)·√(2/π)·(1 + 3·0.044715x²).
 */
function geluDerivative(x: Tensor, tanh: boolean): Tensor {
  if (tanh) {
    const t = o.tanh(geluInner(x));
    const du = o.multiply(
      o.add(o.multiply(o.multiply(x, x), 3 * 0.044715), 1),
      Math.sqrt(2 / Math.PI),
    );
    const half = o.multiply(o.add(t, 1), 0.5);
    return o.add(
      half,
      o.multiply(o.multiply(o.multiply(x, 0.5), o.subtract(1, o.multiply(t, t))), du),
    );
  }
  const u = o.multiply(x, Math.SQRT1_2);
  const density = o.exp(o.multiply(u, o.multiply(x, -Math.SQRT1_2))); // e^(−x²/2)
  const cdf = o.multiply(o.erf(u), 0.5);
  return o.add(o.add(cdf, o.multiply(o.multiply(x, density), 1 / Math.sqrt(2 * Math.PI))), 0.5);
}

/**
 * The gradient of a (possibly strided, possibly reversed) slice: the cotangent goes back to the
 * positions start + k·step of each axis, zeros elsewhere. A negative step is a reversed positive
 * one; a step s > 1 interleaves s − 1 zeros after each element (a new axis padded and merged).
 */
function sliceGrad(g: Tensor, a: Tensor, y: Tensor, at: Attrs): Array<Tensor | null> {
  const starts = at.starts as number[];
  const steps = at.steps as number[];
  if (y.size === 0) return [o.zerosLike(a)];
  let r = g;
  for (let i = 0; i < a.rank; i++) {
    const n = a.shape[i]!;
    const c = y.shape[i]!;
    let b = starts[i]! < 0 ? starts[i]! + n : starts[i]!;
    let s = steps[i]!;
    if (s < 0) {
      r = o.reverse(r, i);
      b += (c - 1) * s;
      s = -s;
    }
    if (s > 1) {
      const widths = new Array<[number, number]>(r.rank + 1).fill([0, 0]);
      widths[i + 1] = [0, s - 1];
      const wide = o.pad(o.expandDims(r, i + 1), widths);
      const merged = r.shape.slice();
      merged[i] = c * s;
      r = o.reshape(wide, merged);
      const keep = merged.map((d, j) => (j === i ? (c - 1) * s + 1 : d));
      r = o.slice(r, [], keep);
    }
    const len = (c - 1) * s + 1;
    if (b !== 0 || b + len !== n)
      r = o.pad(
        r,
        r.shape.map((_, j) => (j === i ? [b, n - b - len] : [0, 0]) as [number, number]),
      );
  }
  return [r];
}

/**
 * The gradient of conv with respect to its kernel: a convolution of the input (channels and batch
 * swapped) with the output cotangent as kernel, strides and dilations exchanged, cropped to the
 * kernel's size. Shared by conv's and convTranspose's rules.
 */
function convKernelGrad(x: Tensor, g: Tensor, a: Attrs, kshape: readonly number[]): Tensor {
  const swap = [1, 0, 2, 3];
  const at: Attrs = {
    strides: a.dilations as number[],
    pads: a.pads as number[],
    dilations: a.strides as number[],
  };
  const xt = o.transpose(x, swap);
  const gt = o.transpose(g, swap);
  const full = o.primitive("conv", [xt, gt], at, o.convShape(xt.shape, gt.shape, at), g.dtype);
  const cropped =
    full.shape[2] === kshape[2] && full.shape[3] === kshape[3]
      ? full
      : o.slice(full, [0, 0, 0, 0], [-1, -1, kshape[2]!, kshape[3]!]);
  return o.transpose(cropped, swap);
}

/** conv's input gradient: a transposed convolution back to the input's spatial size. */
function convInputGrad(g: Tensor, w: Tensor, a: Attrs, xshape: readonly number[]): Tensor {
  const s = a.strides as number[];
  const p = a.pads as number[];
  const d = a.dilations as number[];
  const outputPadding = [0, 1].map(
    (i) =>
      xshape[2 + i]! -
      (s[i]! * (g.shape[2 + i]! - 1) + (w.shape[2 + i]! - 1) * d[i]! + 1 - p[i]! - p[i + 2]!),
  );
  return o.primitive("convTranspose", [g, w], { ...a, outputPadding }, xshape, g.dtype);
}

function gatherShape(x: readonly number[], idx: readonly number[], axis: number): number[] {
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}

/** max/min over axes: the cotangent is shared equally among the positions that attain it. */
/**
 * matmul's cotangent for `b`. A 2-D `b` (a layer's weight) under a batched `a` ([..., m, k]) gets
 * one [k, m·batch] × [m·batch, n] product instead of a batch of [k, n] products summed after: the
 * same sum, one GEMM, no [batch, k, n] intermediate (profiled: a quarter of a small
 * transformer's step went to those products and their ReduceSum).
 */
function matmulWeightGrad(a: Tensor, g: Tensor, b: Tensor): Tensor {
  if (b.rank !== 2 || a.rank <= 2) return o.matmul(swapLast(a), g);
  const k = a.shape[a.rank - 1]!;
  const n = g.shape[g.rank - 1]!;
  return o.matmul(o.transpose(o.reshape(a, [a.size / k, k])), o.reshape(g, [g.size / n, n]));
}

function reduceChooser(g: Tensor, a: Tensor, y: Tensor, at: Attrs): Array<Tensor | null> {
  const axes = at.axes as number[];
  const ks = keepShape(a.shape, axes);
  const mask = o.cast(o.equal(a, o.reshape(y, ks)), a.dtype);
  const count = o.sum(mask, { axes, keepDims: true });
  return [o.multiply(o.divide(mask, count), o.reshape(g, ks))];
}

/**
 * Cotangents of the scalar `y` with respect to each tensor of `wrt` (nodes of y's trace).
 * A wrt that y does not depend on gets zeros.
 */
export function backward(y: Tensor, wrt: readonly Tensor[]): Tensor[] {
  const yNode = y._node;
  if (!yNode) return wrt.map((w) => o.zerosLike(w));
  const trace = yNode.trace;
  const wrtIds = new Set<number>();
  for (const w of wrt) {
    if (!w._node || w._node.trace !== trace)
      throw new TensorError("grad: internal error: argument is not part of the traced graph");
    wrtIds.add(w._node.id);
  }
  // nodes on a path from a wrt node
  const dep = new Set<number>(wrtIds);
  for (let i = 0; i <= yNode.id; i++) {
    const n = trace.nodes[i]!;
    if (dep.has(i)) continue;
    if (n.inputs.some((x) => dep.has(x._node!.id))) dep.add(i);
  }
  // every node's cotangent contributions, summed when the node is reached (all its consumers
  // come later in the trace, so they are all in by then)
  const ct = new Map<number, Contribution[]>();
  const add = (id: number, c: Contribution) => {
    const list = ct.get(id);
    if (list) list.push(c);
    else ct.set(id, [c]);
  };
  add(yNode.id, { g: o.scalar(1, y.dtype) });
  const total = (id: number, x: Tensor): Tensor | undefined => {
    const list = ct.get(id);
    return list && sumContributions(list, x);
  };
  for (let i = yNode.id; i >= 0; i--) {
    if (wrtIds.has(i) || !dep.has(i) || !ct.has(i)) continue;
    const node = trace.nodes[i]!;
    const rule = GRAD_RULES[node.op];
    if (!rule) continue;
    const y = trace.outputs[i]!;
    const g = total(i, y)!;
    const x0 = node.inputs[0]!;
    const piece = node.op === "slice" ? slicePiece(x0, y, node.attrs) : undefined;
    if (piece !== undefined) {
      if (dep.has(x0._node!.id) && isFloat(x0.dtype))
        add(x0._node!.id, { g: g.dtype === x0.dtype ? g : o.cast(g, x0.dtype), ...piece });
      continue;
    }
    const grads = rule(g, node.inputs, y, node.attrs);
    node.inputs.forEach((x, j) => {
      let gj = grads[j];
      const id = x._node!.id;
      if (!gj || !dep.has(id) || !isFloat(x.dtype)) return;
      gj = o.sumToShape(gj, x.shape);
      if (gj.dtype !== x.dtype) gj = o.cast(gj, x.dtype);
      add(id, { g: gj });
    });
  }
  return wrt.map((w) => total(w._node!.id, w) ?? o.zerosLike(w));
}

/**
 * A cotangent contribution: the full-shape `g`, or (`axis` set) the cotangent of a unit-step
 * slice `[start, start + g.shape[axis])` along one axis, not yet padded to the full shape.
 */
interface Contribution {
  g: Tensor;
  axis?: number;
  start?: number;
}

/** The slice of `a` that `y` is, when it narrows one axis with unit steps (else undefined). */
function slicePiece(a: Tensor, y: Tensor, at: Attrs): { axis: number; start: number } | undefined {
  const steps = at.steps as number[];
  const narrowed = a.shape.flatMap((d, i) => (y.shape[i] !== d ? [i] : []));
  if (narrowed.length !== 1 || steps.some((s) => s !== 1) || y.size === 0) return undefined;
  const axis = narrowed[0]!;
  const s = (at.starts as number[])[axis]!;
  return { axis, start: s < 0 ? s + a.shape[axis]! : s };
}

/**
 * The sum of a node's contributions. Slices along one axis that together tile it (the Q, K, V
 * split of attention, `split`, `unstack`) are concatenated: one Concat instead of a Pad per
 * slice to the full shape and an Add per pair. Anything else is padded and added.
 */
function sumContributions(list: Contribution[], x: Tensor): Tensor {
  const pieces = list.filter((c) => c.axis !== undefined);
  const axis = pieces[0]?.axis;
  if (pieces.length > 1 && pieces.every((c) => c.axis === axis)) {
    const sorted = [...pieces].sort((a, b) => a.start! - b.start!);
    let at = 0;
    for (const c of sorted) at = at === c.start ? at + c.g.shape[axis!]! : NaN;
    if (at === x.shape[axis!]) {
      const joined = o.concatenate(
        sorted.map((c) => c.g),
        { axis: axis! },
      );
      const rest = list.filter((c) => c.axis === undefined);
      return rest.reduce((acc, c) => o.add(acc, c.g), joined);
    }
  }
  let sum: Tensor | undefined;
  for (const c of list) {
    const full = c.axis === undefined ? c.g : padPiece(c, x);
    sum = sum ? o.add(sum, full) : full;
  }
  return sum!;
}

function padPiece(c: Contribution, x: Tensor): Tensor {
  const len = c.g.shape[c.axis!]!;
  return o.pad(
    c.g,
    x.shape.map(
      (n, j) => (j === c.axis ? [c.start!, n - c.start! - len] : [0, 0]) as [number, number],
    ),
  );
}
