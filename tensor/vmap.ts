/**
 * vmap's batching interpreter (JAX's batching rules, applied to tsnb's trace IR).
 *
 * `vmap(f)(xs)` traces `f` once on placeholders of ONE example's shapes (the mapped axis removed),
 * in a Trace of its own, then replays that trace on the whole batch: every value carries a flag
 * "has the mapped axis in front" (a BatchTracer's batch dimension, always axis 0 here), and every
 * primitive has a rule that moves or broadcasts batch axes and emits ONE batched primitive. So
 * the batched computation has one op per primitive of `f` whatever the batch size, eagerly (each
 * op runs once on the batch) and inside `jit` (a graph whose size does not grow with it).
 * Values that do not depend on a mapped argument stay unbatched and their ops run once.
 *
 * Invariants: a rule receives at least one batched input and returns the node's per-example
 * result with the mapped axis first (or an unbatched value, for `count`); rules emit through the
 * public ops and `emit`, so the batched ops are ordinary primitives that jit lowers and grad
 * differentiates. A primitive without a rule (conv/convTranspose with a batched kernel) is
 * unrolled for that node only: one op per example, then a stack. A function that cannot be traced
 * (it reads values: `item()`, boolean masks, `unique`, host decompositions) makes transforms.ts
 * fall back to calling it once per example.
 *
 * Random draws: while `f` is traced, unseeded draws (random.uniform/normal/randint/permutation/
 * choice/shuffle/bernoulli) are deferred; the batch then draws them example by example, in the
 * order the unrolled calls would, so each example gets its own values (and `random.seed(s)`
 * reproduces the unrolled values exactly). Seeded draws give every example the same values, as
 * the unrolled calls do.
 */
import { type Attrs, LOWERINGS, type Prim } from "./lower.ts";
import * as o from "./ops.ts";
import { type Draw, drawThroughHooks, streamCounter, withRandomHook } from "./random.ts";
import { moveAxis } from "./shape.ts";
import { type Node, type Tensor, TensorError, Trace, emit } from "./tensor.ts";
import { flatten } from "./tree.ts";

/** A value of the batched computation: `t` has the mapped axis first when `b`, else every example shares it. */
interface BVal {
  t: Tensor;
  b: boolean;
}

/** A batching rule: the node's inputs (at least one batched), its per-example output, the batch size. */
type Rule = (ins: readonly BVal[], node: Node, out: Tensor, n: number) => BVal;

const batched = (t: Tensor): BVal => ({ t, b: true });
const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
const ones = (k: number): number[] => new Array<number>(Math.max(0, k)).fill(1);

/** A batched value with size-1 axes inserted after the batch axis up to per-example rank `rank` (for broadcasting). */
function withRank(v: BVal, rank: number, n: number): Tensor {
  const r = v.t.rank - 1;
  return r >= rank ? v.t : o.reshape(v.t, [n, ...ones(rank - r), ...v.t.shape.slice(1)]);
}

/** The value with the batch axis in front: batched as is, unbatched broadcast to n copies. */
function full(v: BVal, n: number): Tensor {
  return v.b ? v.t : o.broadcastTo(v.t, [n, ...v.t.shape]);
}

/** Offsets k·size (k < n) shaped [n, 1, …] of rank `rank`: flat positions of each example's block. */
function offsets(n: number, size: number, rank: number, idx: Tensor): Tensor {
  const k = o.multiply(o.arange(0, n, 1, { dtype: idx.dtype === "i64" ? "i64" : "i32" }), size);
  return o.reshape(o.cast(k, idx.dtype), [n, ...ones(rank - 1)]);
}

/** Indices with negative values counted from the end of an axis of `size`. */
const nonNegative = (idx: Tensor, size: number): Tensor =>
  o.where(o.less(idx, 0), o.add(idx, size), idx);

const norm = (a: number, rank: number): number => (a < 0 ? a + rank : a);

/** Element-wise primitives (NumPy broadcasting, so matmul's batch axes too): align ranks, prepend the batch. */
const elementwise: Rule = (ins, node, out, n) =>
  batched(
    emit(
      node.op,
      ins.map((v) => (v.b ? withRank(v, out.rank, n) : v.t)),
      node.attrs,
      [n, ...out.shape],
      out.dtype,
    ),
  );

/** Single-input primitives with an `axis` or `axes` attribute: shift it past the batch axis. */
function shifted(key: "axis" | "axes"): Rule {
  return (ins, node, out, n) => {
    const rank = node.inputs[0]!.rank;
    const a = node.attrs[key] as number | number[];
    const attrs: Attrs = {
      ...node.attrs,
      [key]: Array.isArray(a) ? a.map((x) => norm(x, rank) + 1) : norm(a, rank) + 1,
    };
    return batched(emit(node.op, [ins[0]!.t], attrs, [n, ...out.shape], out.dtype));
  };
}

/** Primitives over NCHW images with an unbatched kernel: the batch folds into N. */
const foldIntoN: Rule = (ins, node, out, n) => {
  if (ins.slice(1).some((v) => v.b)) return unrolled(ins, node, out, n);
  const xs = node.inputs[0]!.shape;
  const x = o.reshape(full(ins[0]!, n), [n * xs[0]!, ...xs.slice(1)]);
  const y = emit(
    node.op,
    [x, ...ins.slice(1).map((v) => v.t)],
    node.attrs,
    [n * out.shape[0]!, ...out.shape.slice(1)],
    out.dtype,
  );
  return batched(o.reshape(y, [n, ...out.shape]));
};

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The batching rule of each primitive (input and const are handled by the interpreter). */
const RULES: Partial<Record<Prim, Rule>> = {
  ...Object.fromEntries(
    (
      [
        "add",
        "sub",
        "mul",
        "div",
        "pow",
        "max",
        "min",
        "mod",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "and",
        "or",
        "xor",
        "not",
        "neg",
        "abs",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sigmoid",
        "relu",
        "sign",
        "floor",
        "ceil",
        "round",
        "sin",
        "cos",
        "isnan",
        "identity",
        "stopGradient",
        "cast",
        "where",
        "erf",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "asinh",
        "acosh",
        "atanh",
        "bitAnd",
        "bitOr",
        "bitXor",
        "bitNot",
        "matmul",
        "trilu",
        "gelu",
      ] as const
    ).map((p) => [p, elementwise]),
  ),
  reduceSum: shifted("axes"),
  reduceMax: shifted("axes"),
  reduceMin: shifted("axes"),
  reduceProd: shifted("axes"),
  argMax: shifted("axis"),
  argMin: shifted("axis"),
  softmax: shifted("axis"),
  logSoftmax: shifted("axis"),
  normalize: shifted("axis"),
  normRstd: shifted("axis"),
  cumsum: shifted("axis"),
  topkIndices: shifted("axis"),
  // the element count over axes is the same for every example: one unbatched scalar
  count: (ins, node, out) => {
    const rank = node.inputs[0]!.rank;
    const axes = (node.attrs.axes as number[]).map((a) => norm(a, rank) + 1);
    return { t: emit("count", [ins[0]!.t], { axes }, out.shape, out.dtype), b: false };
  },
  transpose: (ins, node, out, n) => {
    const perm = [0, ...(node.attrs.perm as number[]).map((p) => p + 1)];
    return batched(emit("transpose", [ins[0]!.t], { perm }, [n, ...out.shape], out.dtype));
  },
  reshape: (ins, _node, out, n) => batched(o.reshape(ins[0]!.t, [n, ...out.shape])),
  expand: (ins, _node, out, n) => {
    const shape = [n, ...out.shape];
    return batched(emit("expand", [withRank(ins[0]!, out.rank, n)], { shape }, shape, out.dtype));
  },
  slice: (ins, node, out, n) => {
    const axes = (node.attrs.axes as number[]).map((a) => norm(a, out.rank) + 1);
    const attrs = { ...node.attrs, axes };
    return batched(emit("slice", [ins[0]!.t], attrs, [n, ...out.shape], out.dtype));
  },
  pad: (ins, node, out, n) => {
    const p = node.attrs.pads as number[];
    const r = p.length / 2;
    const pads = [0, ...p.slice(0, r), 0, ...p.slice(r)];
    return batched(emit("pad", [ins[0]!.t], { ...node.attrs, pads }, [n, ...out.shape], out.dtype));
  },
  concat: (ins, node, out, n) => {
    const axis = norm(node.attrs.axis as number, out.rank) + 1;
    const ts = ins.map((v) => full(v, n));
    return batched(emit("concat", ts, { axis }, [n, ...out.shape], out.dtype));
  },
  gather: (ins, node, out, n) => {
    const [x, idx] = ins as [BVal, BVal];
    const xs = node.inputs[0]!.shape;
    const axis = norm(node.attrs.axis as number, xs.length);
    const ri = node.inputs[1]!.rank;
    if (!idx.b)
      return batched(
        emit("gather", [x.t, idx.t], { axis: axis + 1 }, [n, ...out.shape], out.dtype),
      );
    if (!x.b) {
      // the index's batch axis lands where the gathered axis was: move it to the front
      const shape = [...xs.slice(0, axis), n, ...idx.t.shape.slice(1), ...xs.slice(axis + 1)];
      return batched(moveAxis(emit("gather", [x.t, idx.t], { axis }, shape, out.dtype), axis, 0));
    }
    // both batched: gather rows of the batch flattened into the gathered axis
    const size = xs[axis]!;
    const rest = [...xs.slice(0, axis), ...xs.slice(axis + 1)];
    const flat = o.reshape(moveAxis(x.t, axis + 1, 1), [n * size, ...rest]);
    const at = o.add(nonNegative(idx.t, size), offsets(n, size, ri + 1, idx.t));
    const shape = [n, ...idx.t.shape.slice(1), ...rest];
    const g = emit("gather", [flat, at], { axis: 0 }, shape, out.dtype);
    // [n, I, x[:axis], x[axis+1:]] → [n, x[:axis], I, x[axis+1:]]
    const perm = [
      0,
      ...range(1 + ri, 1 + ri + axis),
      ...range(1, 1 + ri),
      ...range(1 + ri + axis, g.rank),
    ];
    return batched(o.transpose(g, perm));
  },
  // gather's gradient (a scatter-add into zeros of x's shape)
  gatherGrad: (ins, node, out, n) => {
    const [g, idx] = ins as [BVal, BVal];
    const xs = node.attrs.shape as number[];
    const axis = node.attrs.axis as number;
    const ri = node.attrs.idxRank as number;
    if (!idx.b) {
      const attrs = { axis: axis + 1, shape: [n, ...xs], idxRank: ri };
      return batched(emit("gatherGrad", [g.t, idx.t], attrs, [n, ...xs], out.dtype));
    }
    // per-example indices (an embedding's per-example gradient): scatter into the flattened batch
    const size = xs[axis]!;
    const rest = [...xs.slice(0, axis), ...xs.slice(axis + 1)];
    const gt = full(g, n); // [n, x[:axis], I, x[axis+1:]]
    const perm = [
      0,
      ...range(1 + axis, 1 + axis + ri),
      ...range(1, 1 + axis),
      ...range(1 + axis + ri, gt.rank),
    ];
    const at = o.add(nonNegative(idx.t, size), offsets(n, size, ri + 1, idx.t));
    const attrs = { axis: 0, shape: [n * size, ...rest], idxRank: ri + 1 };
    const s = emit(
      "gatherGrad",
      [o.transpose(gt, perm), at],
      attrs,
      [n * size, ...rest],
      out.dtype,
    );
    return batched(moveAxis(o.reshape(s, [n, size, ...rest]), 1, 1 + axis));
  },
  gatherElements: (ins, node, out, n) => {
    const axis = norm(node.attrs.axis as number, out.rank) + 1;
    const ts = ins.map((v) => full(v, n));
    return batched(emit("gatherElements", ts, { axis }, [n, ...out.shape], out.dtype));
  },
  scatterElementsAdd: (ins, node, out, n) => {
    const axis = norm(node.attrs.axis as number, out.rank) + 1;
    const attrs = { axis, shape: [n, ...(node.attrs.shape as number[])] };
    const ts = ins.map((v) => full(v, n));
    return batched(emit("scatterElementsAdd", ts, attrs, [n, ...out.shape], out.dtype));
  },
  // data[idx[k]] = upd[k] on 1-D data: one scatter on the batch's concatenated data
  scatter: (ins, node, out, n) => {
    const [d, idx, upd] = ins as [BVal, BVal, BVal];
    const size = node.inputs[0]!.shape[0]!;
    const k = node.inputs[1]!.shape[0]!;
    const at = o.add(nonNegative(idx.t, size), offsets(n, size, 2, idx.t));
    const y = emit(
      "scatter",
      [o.reshape(full(d, n), [n * size]), o.reshape(at, [n * k]), o.reshape(full(upd, n), [n * k])],
      node.attrs,
      [n * size],
      out.dtype,
    );
    return batched(o.reshape(y, [n, size]));
  },
  // whole rows data[idx[k, 0], ...] = upd[k, ...]: rows of the batch's stacked data
  scatterRows: (ins, node, out, n) => {
    const [d, idx, upd] = ins as [BVal, BVal, BVal];
    const xs = node.inputs[0]!.shape;
    const size = xs[0]!;
    const rest = xs.slice(1);
    const k = node.inputs[1]!.shape[0]!;
    const at = o.add(nonNegative(idx.t, size), offsets(n, size, 3, idx.t));
    const y = emit(
      "scatterRows",
      [
        o.reshape(full(d, n), [n * size, ...rest]),
        o.reshape(at, [n * k, 1]),
        o.reshape(full(upd, n), [n * k, ...rest]),
      ],
      node.attrs,
      [n * size, ...rest],
      out.dtype,
    );
    return batched(o.reshape(y, [n, ...xs]));
  },
  // a new index letter for the batch, on the batched operands and the output
  einsum: (ins, node, out, n) => {
    const eq = node.attrs.equation as string;
    const [lhs, rhs] = eq.split("->") as [string, string];
    const letter = [...LETTERS].find((c) => !eq.includes(c));
    if (!letter) return unrolled(ins, node, out, n);
    const subs = lhs.split(",").map((s, i) => (ins[i]!.b ? letter + s : s));
    const equation = `${subs.join(",")}->${letter}${rhs}`;
    return batched(
      emit(
        "einsum",
        ins.map((v) => v.t),
        { equation },
        [n, ...out.shape],
        out.dtype,
      ),
    );
  },
  conv: foldIntoN,
  convTranspose: foldIntoN,
  maxPool: foldIntoN,
  avgPool: foldIntoN,
  // flat NCHW positions of each window's maximum: computed on the folded batch, made per example
  maxPoolIndices: (ins, node, out, n) => {
    const xs = node.inputs[0]!.shape;
    const attrs = { ...node.attrs, shape: [n * xs[0]!, ...xs.slice(1)] };
    const y = foldIntoN(ins, { ...node, attrs }, out, n).t;
    const size = node.inputs[0]!.size;
    return batched(o.subtract(y, offsets(n, size, out.rank + 1, y)));
  },
};

/** The fallback for a primitive without a rule: one op per example, stacked. */
function unrolled(ins: readonly BVal[], node: Node, out: Tensor, n: number): BVal {
  const parts: Tensor[] = [];
  for (let k = 0; k < n; k++) {
    const xs = ins.map((v) => (v.b ? o.take(v.t, k, { axis: 0 }) : v.t));
    parts.push(emit(node.op, xs, node.attrs, out.shape, out.dtype));
  }
  return batched(o.stack(parts));
}

/** @internal Primitives without a batching rule (each call is unrolled per example). */
export function primitivesWithoutRule(): Prim[] {
  return (Object.keys(LOWERINGS) as Prim[]).filter((p) => !RULES[p]);
}

/** Replays the part of `trace` that `outs` need on the batch; `env` holds the inputs' values. */
function interpret(trace: Trace, outs: readonly Tensor[], env: Map<number, BVal>, n: number): void {
  const needed = new Set<number>();
  const stack: number[] = [];
  for (const t of outs) if (t._node?.trace === trace) stack.push(t._node.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    for (const x of trace.nodes[id]!.inputs) stack.push(x._node!.id);
  }
  for (const node of trace.nodes) {
    if (!needed.has(node.id) || env.has(node.id)) continue;
    const out = trace.outputs[node.id]!;
    if (node.op === "const") {
      // a captured tensor (concrete, or a traced value of an enclosing jit/grad/vmap)
      env.set(node.id, { t: node.value!, b: false });
      continue;
    }
    if (node.op === "input") throw new TensorError("vmap: internal error: an unbound input");
    const ins = node.inputs.map((x) => env.get(x._node!.id)!);
    let v: BVal;
    if (!ins.some((x) => x.b))
      v = {
        t: emit(
          node.op,
          ins.map((x) => x.t),
          node.attrs,
          out.shape,
          out.dtype,
        ),
        b: false,
      };
    else v = (RULES[node.op] ?? unrolled)(ins, node, out, n);
    const want = v.b ? [n, ...out.shape] : out.shape;
    const got = v.t._ort ? v.t._ort.dims : v.t.shape;
    if (v.t.dtype !== out.dtype || got.length !== want.length || got.some((d, i) => d !== want[i]))
      throw new TensorError(
        `vmap: internal error: the batching rule of ${node.op} gave ${v.t.dtype}[${got.join(",")}], expected ${out.dtype}[${want.join(",")}]`,
      );
    env.set(node.id, v);
  }
}

/**
 * Calls `fn` on a batch: `axes[i]` is the mapped axis of argument i (null: passed whole), `n` the
 * batch size, `outAxis` where the batch goes in each result. Returns null when `fn` cannot be
 * traced (it reads values), for the caller to unroll.
 */
export function batchedCall(
  fn: (...args: unknown[]) => unknown,
  args: readonly unknown[],
  axes: ReadonlyArray<number | null>,
  n: number,
  outAxis: number,
): { value: unknown } | null {
  const trace = new Trace();
  trace.acceptsOuter = true;
  const env = new Map<number, BVal>();
  const callArgs = args.map((a, i) => {
    const ax = axes[i];
    if (ax === null || ax === undefined) return a;
    const flat = flatten(a);
    return flat.rebuild(
      flat.leaves.map((t) => {
        const axis = norm(ax, t.rank);
        const p = trace.placeholder(
          t.shape.filter((_, j) => j !== axis),
          t.dtype,
        );
        env.set(p._node!.id, batched(moveAxis(t, axis, 0)));
        return p;
      }),
    );
  });
  // unseeded random draws are deferred (module comment): each becomes a placeholder
  const draws: Array<{ draw: Draw; placeholders: Tensor[] }> = [];
  const hook = (draw: Draw): Tensor[] => {
    const counter = streamCounter();
    const probe = withRandomHook(null, draw); // one example's shapes and dtypes
    streamCounter(counter);
    const placeholders = probe.map((t) => trace.placeholder(t.shape, t.dtype));
    draws.push({ draw, placeholders });
    return placeholders;
  };
  let result: unknown;
  try {
    result = withRandomHook(hook, () => fn(...callArgs));
  } catch (e) {
    if (e instanceof TensorError) return null;
    throw e;
  } finally {
    trace.active = false;
  }
  if (result instanceof Promise)
    throw new TensorError("vmap: the function returned a Promise; it must be synchronous");
  const out = flatten(result);
  if (draws.length) {
    // example by example, in the unrolled calls' order; through an enclosing vmap's hook if any
    const values = drawThroughHooks(() => {
      const per: Tensor[][] = draws.flatMap((d) => d.placeholders.map(() => []));
      for (let k = 0; k < n; k++) {
        let j = 0;
        for (const d of draws) for (const t of d.draw()) per[j++]!.push(t);
      }
      return per.map((list) => o.stack(list));
    });
    let j = 0;
    for (const d of draws)
      for (const p of d.placeholders) env.set(p._node!.id, batched(values[j++]!));
  }
  interpret(trace, out.leaves, env, n);
  const leaves = out.leaves.map((t) => {
    const v = t._node?.trace === trace ? env.get(t._node.id)! : { t, b: false };
    const whole = full(v, n);
    return moveAxis(whole, 0, norm(outAxis, whole.rank));
  });
  return { value: out.rebuild(leaves) };
}
