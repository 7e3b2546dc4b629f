// vmap: mapping over a leading (or any) axis of tensors and trees, with inAxes/outAxes, against
// the stack of per-element calls; composed with jit (one graph) and grad (per-example gradients
// against central differences in f64).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, numericGrad, rand } from "./gradcheck.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";
import { close, rng } from "./ref.ts";

describe("vmap", () => {
  const r = rng(21);
  it("maps over axis 0 of tensors and trees, with inAxes (null: unmapped) and outAxes, like NumPy's batched forms", () => {
    const xs = rand([5, 3], r);
    const w = rand([3, 2], r);
    const [mm, outer] = numpy([
      { expr: "xs @ w", args: { xs, w } },
      { expr: "np.einsum('bi,bj->jbi', xs, xs)", args: { xs } },
    ]);
    assertLikeNumpy(
      nx.vmap((x: nx.Tensor, m: nx.Tensor) => nx.matmul(x, m), { inAxes: [0, null] })(xs, w),
      mm!,
      1e-12,
      "vmap matvec",
    );
    assertLikeNumpy(
      nx.vmap((x: nx.Tensor) => nx.outer(x, x), { outAxes: 1 })(xs),
      outer!,
      1e-12,
      "outAxes 1",
    );
    const cols = nx.vmap((c: nx.Tensor) => nx.sum(c), { inAxes: 1 })(xs);
    assertLikeNumpy(cols, numpy([{ expr: "xs.sum(axis=0)", args: { xs } }])[0]!, 1e-12, "inAxes 1");
    const tree = nx.vmap((p: { a: nx.Tensor; b: nx.Tensor }) => ({
      s: nx.add(p.a, p.b),
      n: [nx.norm(p.a)],
    }))({ a: xs, b: xs });
    assert.deepEqual(tree.s.shape, [5, 3]);
    assert.deepEqual(tree.n[0]!.shape, [5]);
    assert.throws(
      () => nx.vmap((a: nx.Tensor, b: nx.Tensor) => nx.add(a, b))(xs, rand([4, 3], r)),
      /different sizes \(5 and 4\)/,
    );
    assert.throws(() => nx.vmap((a: nx.Tensor) => a)(nx.zeros([0, 2])), /empty axis/);
  });

  it("composes with jit (the mapped calls are one graph) and grad (per-example gradients)", () => {
    const xs = rand([4, 3], r);
    const w = rand([3], r);
    const loss = (wt: nx.Tensor, x: nx.Tensor): nx.Tensor =>
      nx.square(nx.tanh(nx.sum(nx.multiply(wt, x))));
    const perExample = nx.jit(nx.vmap(nx.grad(loss), { inAxes: [null, 0] }));
    perExample(w, xs);
    const runs = nx.runtimeStats.runs;
    const g = perExample(w, xs);
    assert.equal(nx.runtimeStats.runs - runs, 1, "one run");
    assert.deepEqual(g.shape, [4, 3]);
    for (let i = 0; i < 4; i++) {
      const gi = nx.grad(loss)(w, nx.index(xs, i));
      assert.ok(nx.allClose(nx.index(g, i), gi, { rtol: 1e-10 }), `example ${i}`);
    }
    check(
      "grad of vmap",
      (a, b) => nx.vmap((x: nx.Tensor, y: nx.Tensor) => nx.multiply(nx.sin(x), nx.sum(y)))(a, b),
      [rand([3, 2], r), rand([3, 4], r)],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Batching rules: vmap(f)(xs) against the stack of f(x_i) computed one example at a time, eagerly
// and under jit, and the exported graph of vmap(f) must not grow with the batch size.

type Fn = (...args: any[]) => any;

/** f applied to each example separately (nx.take of every mapped argument), stacked at outAxis. */
function stackOfCalls(f: Fn, args: unknown[], inAxes: Array<number | null>, outAxis = 0): unknown {
  const n = args
    .map((a, i) => (inAxes[i] === null ? -1 : nx.treeLeaves(a)[0]!.shape.at(inAxes[i]!)!))
    .find((d) => d >= 0)!;
  const results: unknown[] = [];
  for (let k = 0; k < n; k++) {
    const callArgs = args.map((a, i) =>
      inAxes[i] === null
        ? a
        : nx.treeMap((t: nx.Tensor) => nx.take(t, k, { axis: inAxes[i]! }), a as nx.Tensor),
    );
    results.push(f(...callArgs));
  }
  return nx.treeMap(
    (...ts: nx.Tensor[]) =>
      nx.stack(ts, { axis: outAxis < 0 ? outAxis + ts[0]!.rank + 1 : outAxis }),
    results[0] as nx.Tensor,
    ...(results.slice(1) as nx.Tensor[]),
  );
}

function assertSame(actual: unknown, expected: unknown, tol: number, what: string): void {
  const a = nx.treeLeaves(actual);
  const e = nx.treeLeaves(expected);
  assert.equal(a.length, e.length, `${what}: number of results`);
  a.forEach((t, i) => {
    const x = e[i]!;
    assert.deepEqual(t.shape, x.shape, `${what}: shape of result ${i}`);
    assert.equal(t.dtype, x.dtype, `${what}: dtype of result ${i}`);
    const u = Array.from(t.dataSync() as ArrayLike<number | bigint>, Number);
    const v = Array.from(x.dataSync() as ArrayLike<number | bigint>, Number);
    u.forEach((p, j) => {
      const q = v[j]!;
      const ok =
        (Number.isNaN(p) && Number.isNaN(q)) ||
        p === q ||
        Math.abs(p - q) <= tol * Math.max(1, Math.abs(q));
      assert.ok(ok, `${what}: result ${i} element ${j}: ${p} vs ${q}`);
    });
  });
}

/** Node count of the ONNX graph of fn traced on args (exportOnnx: the jit trace written out). */
function graphNodes(fn: Fn, args: unknown[]): number {
  const model = nx.decodeModel(nx.exportOnnx(fn, args)) as { graph: { node?: unknown[] } };
  return model.graph.node?.length ?? 0;
}

/** Resizes the mapped axis of each mapped argument to n (cycling the examples). */
function resized(args: unknown[], inAxes: Array<number | null>, n: number): unknown[] {
  return args.map((a, i) => {
    const ax = inAxes[i];
    if (ax === null || ax === undefined) return a;
    return nx.treeMap((t: nx.Tensor) => {
      const len = t.shape.at(ax)!;
      return nx.take(
        t,
        nx.tensor(
          Array.from({ length: n }, (_, k) => k % len),
          { dtype: "i32" },
        ),
        {
          axis: ax,
        },
      );
    }, a as nx.Tensor);
  });
}

interface Case {
  name: string;
  f: Fn;
  args: unknown[];
  inAxes?: Array<number | null>;
  outAxes?: number;
  tol?: number;
  /** The exported graph may grow with the batch (a documented per-node unrolling). */
  unrolls?: boolean;
}

function checkCase(c: Case): void {
  const inAxes = c.inAxes ?? c.args.map(() => 0);
  const opts = { inAxes, outAxes: c.outAxes ?? 0 };
  const tol = c.tol ?? 1e-6;
  const expected = stackOfCalls(c.f, c.args, inAxes, c.outAxes ?? 0);
  assertSame(nx.vmap(c.f, opts)(...c.args), expected, tol, `${c.name} (eager)`);
  assertSame(nx.jit(nx.vmap(c.f, opts))(...c.args), expected, tol, `${c.name} (jit)`);
  // one example, and a batch of 7
  for (const n of [1, 7]) {
    const args = resized(c.args, inAxes, n);
    const exp = stackOfCalls(c.f, args, inAxes, c.outAxes ?? 0);
    assertSame(nx.vmap(c.f, opts)(...args), exp, tol, `${c.name} (batch of ${n})`);
  }
  const small = graphNodes(nx.vmap(c.f, opts), resized(c.args, inAxes, 2));
  const large = graphNodes(nx.vmap(c.f, opts), resized(c.args, inAxes, 9));
  if (c.unrolls) assert.ok(large > small, `${c.name}: unrolled nodes grow (${small} → ${large})`);
  else assert.equal(large, small, `${c.name}: graph nodes for batches of 2 and 9`);
}

const T = (data: nx.NestedArray, dtype: nx.DType = "f32"): nx.Tensor => nx.tensor(data, { dtype });

describe("vmap batching rules", () => {
  const r = rng(77);
  const f64 = (shape: number[]) => rand(shape, r);
  const f32 = (shape: number[]) => nx.cast(rand(shape, r), "f32");
  const ints = (shape: number[], lo: number, hi: number, dtype: nx.DType = "i32") =>
    nx.cast(nx.floor(rand(shape, r, lo, hi)), dtype);

  it("element-wise ops with broadcasting, on every dtype, mapped and unmapped operands", () => {
    const cases: Case[] = [
      {
        name: "add f32",
        f: (x, y) => nx.add(nx.multiply(x, y), 1),
        args: [f32([3, 2, 4]), f32([3, 4])],
      },
      {
        name: "sub, unmapped y",
        f: (x, y) => nx.subtract(x, y),
        args: [f64([3, 4]), f64([2, 4])],
        inAxes: [0, null],
      },
      {
        name: "rank lift (y has more axes)",
        f: (x, y) => nx.divide(x, y),
        args: [f64([3, 4]), f64([3, 2, 4])],
      },
      {
        name: "pow/max/min f64",
        f: (x, y) => nx.add(nx.pow(nx.abs(x), y), nx.maximum(x, nx.minimum(y, 0.5))),
        args: [f64([4, 3]), f64([4, 3])],
      },
      {
        name: "i32 floorDivide/remainder",
        f: (x, y) => [nx.floorDivide(x, y), nx.remainder(x, y), nx.quotient(x, y)],
        args: [ints([4, 5], -20, 20), ints([4, 5], 1, 6)],
      },
      { name: "u8 wraps", f: (x) => nx.add(x, 250), args: [ints([3, 4], 0, 200, "u8")] },
      {
        name: "i64",
        f: (x, y) => nx.multiply(nx.subtract(x, y), 3),
        args: [ints([3, 4], -9, 9, "i64"), ints([4], -9, 9, "i64")],
        inAxes: [0, null],
      },
      {
        name: "bool logic",
        f: (a, b) => [nx.logicalAnd(a, b), nx.logicalXor(a, nx.logicalNot(b)), nx.logicalOr(a, b)],
        args: [nx.greater(f64([3, 4]), 0), nx.greater(f64([3, 4]), 0)],
      },
      {
        name: "bitwise",
        f: (a, b) => [
          nx.bitwiseAnd(a, b),
          nx.bitwiseOr(a, b),
          nx.bitwiseXor(a, b),
          nx.bitwiseNot(a),
        ],
        args: [ints([3, 4], 0, 100), ints([3, 4], 0, 100)],
      },
      {
        name: "unary f64",
        f: (x) =>
          nx.stack([
            nx.exp(x),
            nx.log(nx.abs(x)),
            nx.sqrt(nx.abs(x)),
            nx.tanh(x),
            nx.sigmoid(x),
            nx.relu(x),
            nx.sign(x),
            nx.floor(x),
            nx.ceil(x),
            nx.round(x),
            nx.sin(x),
            nx.cos(x),
            nx.negate(x),
          ]),
        args: [f64([3, 5])],
        tol: 1e-12,
      },
      {
        name: "f32 kernels (tan, atan, erf, isNaN)",
        f: (x) => [nx.tan(x), nx.atan(x), nx.erf(x), nx.isNaN(nx.log(x))],
        args: [f32([4, 3])],
      },
      {
        name: "comparisons and where",
        f: (x, y) => [
          nx.where(nx.greater(x, y), x, nx.multiply(y, 2)),
          nx.equal(x, y),
          nx.lessEqual(x, 0),
          nx.notEqual(x, 0),
        ],
        args: [f64([3, 4]), f64([4])],
        inAxes: [0, null],
      },
      {
        name: "where, mapped condition only",
        f: (c, a, b) => nx.where(c, a, b),
        args: [nx.greater(f64([3, 2, 4]), 0), f64([4]), f64([2, 1])],
        inAxes: [0, null, null],
      },
      {
        name: "casts",
        f: (x) => [
          nx.cast(x, "i32"),
          nx.cast(x, "bool"),
          nx.cast(nx.cast(x, "i64"), "f64"),
          nx.cast(x, "u8"),
        ],
        args: [rand([3, 4], r, -3, 300)],
      },
      {
        name: "activations",
        f: (x) => [nx.gelu(x), nx.softplus(x), nx.silu(x), nx.leakyRelu(x), nx.elu(x)],
        args: [f32([3, 6])],
      },
      {
        name: "stopGradient, clip, square",
        f: (x) => nx.clip(nx.square(nx.stopGradient(x)), 0.5, 2),
        args: [f64([3, 4])],
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("reductions, scans, softmax, sorting", () => {
    const x = f64([4, 3, 5]);
    const cases: Case[] = [
      {
        name: "sum/mean axes",
        f: (t) => [nx.sum(t, 1), nx.mean(t), nx.sum(t, { axes: [0, 1], keepDims: true })],
        args: [x],
      },
      {
        name: "max/min/prod",
        f: (t) => [nx.max(t, 0), nx.min(t, { axes: 1, keepDims: true }), nx.prod(t, -1)],
        args: [x],
        tol: 1e-12,
      },
      {
        name: "argmax/argmin",
        f: (t) => [nx.argmax(t, 1), nx.argmin(t), nx.argmax(t, { axis: 0, keepDims: true })],
        args: [x],
      },
      {
        name: "variance, std, logSumExp",
        f: (t) => [
          nx.variance(t, 1),
          nx.standardDeviation(t, { axes: 0, ddof: 1 }),
          nx.logSumExp(t, -1),
        ],
        args: [x],
        tol: 1e-12,
      },
      {
        name: "any/all on i32",
        f: (t) => [nx.any(t, 0), nx.all(t, 1)],
        args: [ints([4, 3, 2], -1, 2)],
      },
      {
        name: "i32 sum wraps, bool counts",
        f: (t) => [nx.sum(t, 0), nx.sum(nx.greater(t, 0))],
        args: [ints([3, 4, 2], -5, 5)],
      },
      {
        name: "softmax/logSoftmax",
        f: (t) => [nx.softmax(t), nx.logSoftmax(t, 0)],
        args: [x],
        tol: 1e-12,
      },
      {
        name: "cumsum, cumprod, cummax",
        f: (t) => [
          nx.cumsum(t, { axis: 1, reverse: true }),
          nx.cumprod(t, 0),
          nx.cummax(t, { axis: 1 }),
        ],
        args: [x],
        tol: 1e-12,
      },
      {
        name: "sort/argsort/topK",
        f: (t) => [
          nx.sort(t),
          nx.argsort(t, { axis: 0, descending: true }),
          nx.topK(t, 2).values,
          nx.topK(t, 2, { axis: 0 }).indices,
        ],
        args: [x],
      },
      {
        name: "median, quantile",
        f: (t) => [nx.median(t, 1), nx.quantile(t, [0.25, 0.5])],
        args: [x],
        tol: 1e-12,
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("matmul with the batch on either or both operands, vectors, dot, einsum", () => {
    const cases: Case[] = [
      {
        name: "batched a",
        f: (a, b) => nx.matmul(a, b),
        args: [f64([4, 3, 5]), f64([5, 2])],
        inAxes: [0, null],
        tol: 1e-12,
      },
      {
        name: "batched b",
        f: (a, b) => nx.matmul(a, b),
        args: [f64([3, 5]), f64([4, 5, 2])],
        inAxes: [null, 0],
        tol: 1e-12,
      },
      {
        name: "both batched, per-example batch axes broadcast",
        f: (a, b) => nx.matmul(a, b),
        args: [f64([4, 2, 3, 5]), f64([4, 5, 2])],
        tol: 1e-12,
      },
      {
        name: "matvec, vecmat, dot",
        f: (m, v) => [nx.matmul(m, v), nx.matmul(v, nx.transpose(m)), nx.dot(v, v)],
        args: [f64([4, 3, 5]), f64([4, 5])],
        tol: 1e-12,
      },
      {
        name: "f32 matmul",
        f: (a, b) => nx.matmul(a, b),
        args: [f32([3, 4, 6]), f32([6, 3])],
        inAxes: [0, null],
        tol: 1e-5,
      },
      {
        name: "i32 matmul",
        f: (a, b) => nx.matmul(a, b),
        args: [ints([3, 2, 4], -5, 5), ints([3, 4, 2], -5, 5)],
      },
      {
        name: "einsum, outer, tensordot",
        f: (a, b) => [
          nx.einsum("ij,jk->ki", a, b),
          nx.outer(nx.sum(a, 1), nx.sum(b, 0)),
          nx.einsum("ii", nx.matmul(a, b)),
        ],
        args: [f64([3, 4, 4]), f64([3, 4, 4])],
        tol: 1e-12,
      },
      {
        name: "einsum, one operand batched",
        f: (a, b) => nx.einsum("bij,bj->bi", a, b),
        args: [f64([3, 2, 4, 5]), f64([2, 5])],
        inAxes: [0, null],
        tol: 1e-12,
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("shape ops: reshape, transpose, slices, concat/stack, pad, tile, repeat, roll, triangles", () => {
    const x = f64([3, 4, 6]);
    const cases: Case[] = [
      {
        name: "reshape, flatten, squeeze, expandDims",
        f: (t) => [
          nx.reshape(t, [2, 12]),
          t.flatten(),
          nx.squeeze(nx.expandDims(t, 1)),
          nx.reshape(t, [-1, 3]),
        ],
        args: [x],
      },
      {
        name: "transpose, moveAxis, swapAxes, T",
        f: (t) => [nx.transpose(t), nx.moveAxis(nx.expandDims(t, 0), 0, 2), t.T],
        args: [x],
      },
      { name: "broadcastTo", f: (t) => nx.broadcastTo(t, [2, 4, 6]), args: [f64([3, 1, 6])] },
      {
        name: "slice and strided/negative index",
        f: (t) => [
          nx.slice(t, [1, 2], [2, -1], [1, 2]),
          t.index("::-1", "1:-1:2"),
          t.index(-1),
          t.index("...", nx.newAxis, 0),
        ],
        args: [x],
      },
      {
        name: "concat/stack with an unmapped operand",
        f: (a, b) => [
          nx.concatenate([a, b], { axis: 1 }),
          nx.stack([a, b], { axis: -1 }),
          nx.concatenate([b, a, b]),
        ],
        args: [f64([3, 4, 2]), f64([4, 2])],
        inAxes: [0, null],
      },
      {
        name: "pad (negative crops), reverse",
        f: (t) => [
          nx.pad(
            t,
            [
              [1, 0],
              [2, -1],
            ],
            7,
          ),
          nx.reverse(t, 1),
        ],
        args: [x],
      },
      {
        name: "tile, repeat, roll, split",
        f: (t) => [
          nx.tile(t, [2, 1]),
          nx.repeat(t, 2, { axis: 1 }),
          nx.roll(t, 2, 1),
          ...nx.split(t, 2, { axis: 1 }),
        ],
        args: [x],
      },
      {
        name: "tril/triu, diagonal, trace, diag",
        f: (t) => [nx.tril(t), nx.triu(t, 1), nx.diagonal(t), nx.trace(t)],
        args: [f64([3, 4, 4])],
      },
      {
        name: "bool reshape/concat",
        f: (t) => nx.concatenate([t, nx.logicalNot(t)], { axis: 0 }),
        args: [nx.greater(x, 0)],
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("gather/take with the batch on the data, the indices or both; updates; one-hot", () => {
    const x = f64([4, 5, 3]);
    const cases: Case[] = [
      {
        name: "take, data batched",
        f: (t) => [
          nx.take(t, [2, 0, -1]),
          nx.take(
            t,
            [
              [1, 1],
              [0, 2],
            ],
            { axis: 1 },
          ),
        ],
        args: [x],
      },
      {
        name: "take, indices batched",
        f: (t, i) => [nx.take(t, i), nx.take(t, i, { axis: 1 })],
        args: [f64([5, 5]), ints([4, 3], -5, 5)],
        inAxes: [null, 0],
      },
      {
        name: "take, both batched (negative indices)",
        f: (t, i) => [nx.take(t, i), nx.take(t, i, { axis: 1 })],
        args: [f64([4, 3, 3]), ints([4, 2, 2], -3, 3)],
      },
      {
        name: "index with an array and a range",
        f: (t, i) => t.index(":", i),
        args: [x, ints([4, 2], 0, 3)],
      },
      {
        name: "takeAlongAxis, both batched",
        f: (t, i) => nx.takeAlongAxis(t, i, 1),
        args: [x, ints([4, 5, 2], 0, 3)],
      },
      { name: "oneHot of batched indices", f: (i) => nx.oneHot(i, 4), args: [ints([4, 3], 0, 5)] },
      {
        name: "at().add rows (ScatterND), data and values batched",
        f: (t, v) => t.at([0, 2, 0]).add(v),
        args: [f64([4, 3, 2]), f64([4, 2])],
        tol: 1e-12,
      },
      {
        name: "at().set rows, values unmapped",
        f: (t, v) => t.at([1]).set(v),
        args: [f64([4, 3, 2]), f64([2])],
        inAxes: [0, null],
      },
      {
        name: "at().set flat positions (ScatterElements)",
        f: (t, v) => t.at(":", 1).set(v),
        args: [f64([4, 3, 2]), f64([4, 3])],
      },
      {
        name: "at().add into an unmapped tensor",
        f: (t, v) => t.at(nx.range(0, 2), 0).add(v),
        args: [f64([3, 2]), f64([4])],
        inAxes: [null, 0],
      },
      {
        name: "indexedAdd, putSlice",
        f: (t, u) => [
          nx.indexedAdd(
            t,
            [
              [0, 1],
              [2, 0],
            ],
            u,
          ),
          nx.putSlice(t, [1, 0], nx.reshape(u, [1, 2])),
        ],
        args: [f64([4, 3, 2]), f64([4, 2])],
        tol: 1e-12,
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("conv and pooling fold the batch into N; a batched kernel is unrolled for that op", () => {
    const img = f32([3, 2, 2, 6, 6]);
    const k = f32([4, 2, 3, 3]);
    const cases: Case[] = [
      {
        name: "conv2d same, strides",
        f: (x, w) => nx.conv2d(x, w, { padding: "same", strides: 2 }),
        args: [img, k],
        inAxes: [0, null],
        tol: 1e-5,
      },
      {
        name: "maxPool2d, avgPool2d, globalAvgPool",
        f: (x) => [
          nx.maxPool2d(x, 2),
          nx.avgPool2d(x, 3, { strides: 1, padding: "same" }),
          nx.globalAvgPool(x),
        ],
        args: [img],
        tol: 1e-5,
      },
      {
        name: "conv1d, convTranspose2d",
        f: (x, w) => [
          nx.conv1d(nx.reshape(x, [2, 2, 36]), nx.reshape(w, [4, 2, 9])),
          nx.convTranspose2d(x, nx.transpose(w, [1, 0, 2, 3]), { strides: 2 }),
        ],
        args: [img, k],
        inAxes: [0, null],
        tol: 1e-5,
      },
      { name: "f64 maxPool2d", f: (x) => nx.maxPool2d(x, 2), args: [nx.cast(img, "f64")] },
      {
        name: "conv2d with a batched kernel",
        f: (x, w) => nx.conv2d(x, w),
        args: [img, nx.stack([k, k, nx.negate(k)])],
        tol: 1e-5,
        unrolls: true,
      },
    ];
    for (const c of cases) checkCase(c);
  });

  it("inAxes/outAxes other than 0, trees, nested vmap, closures over traced values", () => {
    checkCase({
      name: "inAxes 1 and -1",
      f: (a, b) => nx.matmul(a, b),
      args: [f64([3, 4, 5]), f64([5, 2, 4])],
      inAxes: [1, -1],
      tol: 1e-12,
    });
    checkCase({
      name: "outAxes 1",
      f: (a) => nx.outer(a, nx.exp(a)),
      args: [f64([4, 3])],
      outAxes: 1,
      tol: 1e-12,
    });
    checkCase({
      name: "outAxes -1",
      f: (a) => nx.softmax(a),
      args: [f64([4, 3, 2])],
      outAxes: -1,
      tol: 1e-12,
    });
    checkCase({
      name: "trees in and out",
      f: (p: { w: nx.Tensor; b: nx.Tensor }, x) => ({
        y: nx.add(nx.matmul(x, p.w), p.b),
        n: [nx.sum(p.w)],
      }),
      args: [{ w: f64([4, 3, 2]), b: f64([4, 2]) }, f64([3])],
      inAxes: [0, null],
      tol: 1e-12,
    });
    checkCase({
      name: "unbatched result is broadcast",
      f: (a, b) => [nx.sum(b), nx.add(a, 1)],
      args: [f64([4, 2]), f64([3])],
      inAxes: [0, null],
    });
    // nested: the inner function captures the outer example
    const xs = f64([3, 4]);
    const ys = f64([5, 4]);
    const nested = nx.vmap((x: nx.Tensor) =>
      nx.vmap((y: nx.Tensor) => nx.sum(nx.multiply(nx.sin(x), y)))(ys),
    );
    const want = nx.stack(
      [0, 1, 2].map((i) =>
        nx.stack(
          [0, 1, 2, 3, 4].map((j) => nx.sum(nx.multiply(nx.sin(nx.index(xs, i)), nx.index(ys, j)))),
        ),
      ),
    );
    assertSame(nested(xs), want, 1e-12, "nested vmap");
    assertSame(nx.jit(nested)(xs), want, 1e-12, "jit of nested vmap");
    assert.equal(
      graphNodes(nested, [f64([2, 4])]),
      graphNodes(nested, [f64([9, 4])]),
      "nested graph size",
    );
    // vmap(vmap(f), inAxes 1) over a matrix's two axes: f sees scalars
    const m = f64([3, 4]);
    assertSame(
      nx.vmap(
        nx.vmap((a: nx.Tensor) => nx.multiply(a, a)),
        { inAxes: 1 },
      )(m),
      nx.transpose(nx.square(m)),
      1e-12,
      "vmap of vmap over both axes",
    );
    // inside jit, the mapped function closes over the jitted function's traced arguments
    const w = f64([4, 2]);
    const jf = nx.jit((wt: nx.Tensor, x: nx.Tensor) =>
      nx.vmap((row: nx.Tensor) => nx.tanh(nx.matmul(row, wt)))(x),
    );
    assertSame(jf(w, xs), nx.tanh(nx.matmul(xs, w)), 1e-12, "closure over a jit argument");
  });

  it("inside jit one graph serves the batch: the same node count for 4 and 64 examples, one run per call", () => {
    const params = { w1: f32([16, 32]), b1: f32([32]), w2: f32([32, 10]) };
    const mlp = (p: typeof params, x: nx.Tensor): nx.Tensor =>
      nx.logSoftmax(nx.matmul(nx.relu(nx.add(nx.matmul(x, p.w1), p.b1)), p.w2));
    const batched = nx.vmap(mlp, { inAxes: [null, 0] });
    const n4 = graphNodes(batched, [params, f32([4, 16])]);
    const n64 = graphNodes(batched, [params, f32([64, 16])]);
    assert.equal(n4, n64, "nodes for 4 and 64 examples");
    assert.ok(n4 < 20, `a handful of nodes (${n4})`);
    // the old unrolled form grew linearly: check ours against the per-example batch form
    const jitted = nx.jit(batched);
    const x = f32([64, 16]);
    jitted(params, x);
    const runs = nx.runtimeStats.runs;
    const y = jitted(params, x);
    assert.equal(nx.runtimeStats.runs - runs, 1, "one session run");
    assertSame(y, mlp(params, x), 1e-5, "vmap of the per-example MLP equals the batch MLP");
    // eagerly: one op run per primitive, not per example
    const before = nx.runtimeStats.runs;
    batched(params, x);
    const eagerRuns = nx.runtimeStats.runs - before;
    assert.ok(eagerRuns <= 8, `eager runs for 64 examples: ${eagerRuns}`);
  });

  it("random draws are per example, in the unrolled order (seeded draws are shared)", () => {
    const xs = f64([5, 3]);
    const f = (x: nx.Tensor): nx.Tensor[] => [
      nx.add(x, nx.random.normal([3], { dtype: "f64" })),
      nx.random.uniform([2]),
      nx.cast(nx.random.bernoulli(0.5, [4]), "i32"),
      nx.random.shuffle(nx.arange(6)),
    ];
    nx.random.seed(3);
    const got = nx.vmap(f)(xs);
    const after = nx.random.uniform([1]).item();
    nx.random.seed(3);
    const want = stackOfCalls(f, [xs], [0]);
    assertSame(got, want, 0, "same values as the unrolled calls");
    assert.equal(nx.random.uniform([1]).item(), after, "the global stream advanced the same way");
    const u = (got[1] as nx.Tensor).toArraySync() as number[][];
    assert.notDeepEqual(u[0], u[1], "examples get different values");
    const seeded = nx.vmap((x: nx.Tensor) =>
      nx.add(nx.multiply(x, 0), nx.random.uniform([3], { seed: 9 })),
    )(xs);
    const rows = seeded.toArraySync() as number[][];
    assert.deepEqual(rows[4], rows[0], "a seeded draw is the same for every example");
    // nested vmap: every (i, j) gets its own draw
    const nestedDraws = nx.vmap((x: nx.Tensor) =>
      nx.vmap((y: nx.Tensor) => nx.add(nx.multiply(nx.sum(y), 0), nx.random.uniform([])))(xs),
    )(xs);
    const flat = Array.from(nestedDraws.dataSync() as Float32Array);
    assert.equal(new Set(flat).size, flat.length, "25 distinct draws");
  });

  it("functions that read values fall back to one call per example", () => {
    const xs = f64([4, 3]);
    const f = (x: nx.Tensor): nx.Tensor =>
      nx.multiply(x, (nx.sum(x).item() as number) > 0 ? 1 : -1);
    assertSame(nx.vmap(f)(xs), stackOfCalls(f, [xs], [0]), 0, "item() inside vmap");
  });

  it("every primitive has a batching rule", async () => {
    const { primitivesWithoutRule } = await import("../../tensor/vmap.ts");
    assert.deepEqual(primitivesWithoutRule(), []);
  });

  it("per-example gradients (vmap of grad, grad of vmap) against central differences in f64", () => {
    const p = { w1: f64([3, 4]), b1: f64([4]), w2: f64([4, 2]) };
    const xs = f64([5, 3]);
    const ys = nx.tensor([0, 1, 1, 0, 1], { dtype: "i32" });
    const loss = (q: typeof p, x: nx.Tensor, y: nx.Tensor): nx.Tensor => {
      const h = nx.tanh(nx.add(nx.matmul(x, q.w1), q.b1));
      const logits = nx.matmul(h, q.w2);
      return nx.negate(
        nx.sum(nx.multiply(nx.logSoftmax(logits), nx.oneHot(y, 2, { dtype: "f64" }))),
      );
    };
    const perExample = nx.vmap(nx.grad(loss), { inAxes: [null, 0, 0] });
    const g = perExample(p, xs, ys) as typeof p;
    const gj = nx.jit(perExample)(p, xs, ys) as typeof p;
    assert.deepEqual(g.w1.shape, [5, 3, 4]);
    for (let i = 0; i < 5; i++) {
      const xi = nx.index(xs, i);
      const yi = nx.index(ys, i);
      for (const key of ["w1", "b1", "w2"] as const) {
        const f = (w: nx.Tensor): nx.Tensor => loss({ ...p, [key]: w }, xi, yi);
        const numeric = numericGrad(f, [p[key]])[0]!;
        close(
          Array.from(nx.index(g[key], i).dataSync() as Float64Array),
          numeric,
          1e-6,
          `example ${i} d/d${key}`,
        );
        close(
          Array.from(nx.index(gj[key], i).dataSync() as Float64Array),
          numeric,
          1e-6,
          `jit example ${i} d/d${key}`,
        );
      }
    }
    assert.equal(
      graphNodes(perExample, [p, f64([2, 3]), nx.tensor([0, 1], { dtype: "i32" })]),
      graphNodes(perExample, [
        p,
        f64([9, 3]),
        nx.tensor([0, 1, 1, 0, 1, 0, 1, 1, 0], { dtype: "i32" }),
      ]),
      "per-example gradient graph does not grow",
    );
    // per-example gradients of an embedding (gather with per-example indices), of max-pooling
    // and of an unmapped-kernel convolution's input
    const emb = f64([6, 3]);
    const tokens = nx.tensor(
      [
        [0, 5, 5],
        [2, 1, 0],
        [4, 4, 3],
      ],
      { dtype: "i32" },
    );
    const embLoss = (e: nx.Tensor, t: nx.Tensor): nx.Tensor =>
      nx.sum(nx.square(nx.sin(nx.take(e, t))));
    const ge = nx.vmap(nx.grad(embLoss), { inAxes: [null, 0] })(emb, tokens) as nx.Tensor;
    for (let i = 0; i < 3; i++) {
      const numeric = numericGrad((e) => embLoss(e, nx.index(tokens, i)), [emb])[0]!;
      close(
        Array.from(nx.index(ge, i).dataSync() as Float64Array),
        numeric,
        1e-6,
        `embedding example ${i}`,
      );
    }
    const imgs = f64([3, 1, 1, 4, 4]);
    const poolLoss = (x: nx.Tensor): nx.Tensor =>
      nx.sum(
        nx.multiply(nx.maxPool2d(x, 2), nx.arange(1, 5, 1, { dtype: "f64" }).reshape([1, 1, 2, 2])),
      );
    const gp = nx.vmap(nx.grad(poolLoss))(imgs) as nx.Tensor;
    for (let i = 0; i < 3; i++) {
      const numeric = numericGrad(poolLoss, [nx.index(imgs, i)])[0]!;
      close(
        Array.from(nx.index(gp, i).dataSync() as Float64Array),
        numeric,
        1e-6,
        `maxPool example ${i}`,
      );
    }
    // a CNN's per-example kernel gradients: the kernel-gradient conv has a batched kernel (the
    // cotangent), the one op vmap unrolls; the result must still equal per-example grads
    const kernel = nx.cast(f64([2, 1, 3, 3]), "f32");
    const pics = nx.cast(f64([4, 1, 1, 5, 5]), "f32");
    const cnnLoss = (w: nx.Tensor, x: nx.Tensor): nx.Tensor =>
      nx.sum(nx.square(nx.relu(nx.conv2d(x, w))));
    const gk = nx.vmap(nx.grad(cnnLoss), { inAxes: [null, 0] })(kernel, pics) as nx.Tensor;
    for (let i = 0; i < 4; i++)
      assertSame(
        nx.index(gk, i),
        nx.grad(cnnLoss)(kernel, nx.index(pics, i)),
        1e-5,
        `CNN kernel gradient ${i}`,
      );
    // grad of vmap: the gradient of a sum over the batch
    check(
      "grad of vmap (matmul, softmax, gather)",
      (w, x) =>
        nx.vmap((row: nx.Tensor) => nx.softmax(nx.matmul(nx.take(w, [1, 0, 2]), row)), {
          inAxes: 0,
        })(x),
      [f64([3, 4]), f64([5, 4])],
    );
    check(
      "grad of vmap with an unmapped argument",
      (w, x) =>
        nx.sum(
          nx.vmap((a: nx.Tensor, b: nx.Tensor) => nx.tanh(nx.matmul(b, a)), { inAxes: [null, 0] })(
            w,
            x,
          ),
        ),
      [f64([4, 2]), f64([3, 4])],
    );
  });
});
