// Every gradient rule against central finite differences in f64 on random inputs, including
// broadcast operands and reduced axes; composition of grad with jit; options and errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { close, rng } from "./ref.ts";

import { type F, check, rand } from "./gradcheck.ts";

describe("gradient rules vs finite differences (f64)", () => {
  const r = rng(1234);
  const BROADCAST: Array<[number[], number[]]> = [
    [
      [2, 3],
      [2, 3],
    ],
    [[2, 3], [3]],
    [
      [2, 1],
      [1, 3],
    ],
    [[], [2, 2]],
    [[20, 3], [3]],
  ];
  const binary: Array<[string, F, [number, number]?]> = [
    ["add", nx.add],
    ["subtract", nx.subtract],
    ["multiply", nx.multiply],
    ["divide", nx.divide],
    ["pow", nx.pow, [0.5, 2]],
    ["maximum", nx.maximum],
    ["minimum", nx.minimum],
    ["remainder", (a, b) => nx.remainder(a, nx.add(nx.abs(b), 0.5))],
  ];
  for (const [name, op, range] of binary) {
    it(`${name} with broadcasting`, () => {
      for (const [sa, sb] of BROADCAST) {
        check(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, op, [
          rand(sa, r, ...(range ?? [-2, 2])),
          rand(sb, r, ...(range ?? [-2, 2])),
        ]);
      }
    });
  }

  const unary: Array<[string, F, [number, number]?]> = [
    ["negate", nx.negate],
    ["abs", nx.abs],
    ["exp", nx.exp],
    ["log", nx.log, [0.2, 3]],
    ["sqrt", nx.sqrt, [0.2, 3]],
    ["tanh", nx.tanh],
    ["sigmoid", nx.sigmoid],
    ["relu", nx.relu],
    ["sin", nx.sin],
    ["cos", nx.cos],
    ["square", nx.square],
    ["reciprocal", nx.reciprocal, [0.5, 2]],
    ["clip", (x) => nx.clip(x, -1, 1)],
    ["identity through floor (zero)", (x) => nx.add(nx.floor(x), x)],
  ];
  for (const [name, op, range] of unary) {
    it(name, () => check(name, op, [rand([2, 3], r, ...(range ?? [-2, 2]))], 1e-5));
  }

  it("cast passes the gradient through (converted back to the input dtype)", () => {
    const g = nx.grad((x: nx.Tensor) =>
      nx.sum(nx.multiply(nx.cast(x, "f32"), nx.tensor([1, 2, 3], { dtype: "f32" }))),
    )(nx.tensor([0.1, 0.2, 0.3], { dtype: "f64" })) as nx.Tensor;
    assert.equal(g.dtype, "f64");
    assert.deepEqual(g.toArraySync(), [1, 2, 3]);
  });

  it("where with a broadcast condition", () => {
    const c = nx.tensor([true, false, true]);
    check("where", (a, b) => nx.where(c, a, b), [rand([2, 3], r), rand([2, 1], r)]);
  });

  it("reductions over axes, with and without keepDims", () => {
    for (const axes of [undefined, 0, 1, [0, 2], -1]) {
      for (const keepDims of [false, true]) {
        const o = { axes: axes as number | number[] | undefined, keepDims };
        const x = rand([2, 3, 2], r);
        check(`sum ${JSON.stringify(o)}`, (t) => nx.sum(t, o), [x]);
        check(`mean ${JSON.stringify(o)}`, (t) => nx.mean(t, o), [x]);
        check(`max ${JSON.stringify(o)}`, (t) => nx.max(t, o), [x]);
        check(`min ${JSON.stringify(o)}`, (t) => nx.min(t, o), [x]);
        check(`logSumExp ${JSON.stringify(o)}`, (t) => nx.logSumExp(t, o), [x]);
        check(`variance ${JSON.stringify(o)}`, (t) => nx.variance(t, o), [x]);
      }
    }
  });

  it("max shares the gradient equally among ties", () => {
    const g = nx.grad((x: nx.Tensor) => nx.max(x))(
      nx.tensor([1, 3, 3], { dtype: "f64" }),
    ) as nx.Tensor;
    assert.deepEqual(g.toArraySync(), [0, 0.5, 0.5]);
  });

  it("softmax and logSoftmax", () => {
    check("softmax", (t) => nx.softmax(t), [rand([3, 4], r)]);
    check("softmax axis 0", (t) => nx.softmax(t, { axis: 0 }), [rand([3, 4], r)]);
    check("logSoftmax", (t) => nx.logSoftmax(t), [rand([3, 4], r)]);
  });

  it("matmul: 2-D, batched with broadcasting, 1-D operands", () => {
    check("matmul 2d", nx.matmul, [rand([2, 3], r), rand([3, 4], r)]);
    check("matmul batched", nx.matmul, [rand([2, 2, 3], r), rand([3, 4], r)]);
    check("matmul rank-4 batch, 2-D weight", nx.matmul, [rand([2, 3, 2, 3], r), rand([3, 4], r)]);
    check("matmul broadcast batch", nx.matmul, [rand([2, 1, 2, 3], r), rand([3, 3, 2], r)]);
    check("matmul vector-matrix", nx.matmul, [rand([3], r), rand([3, 2], r)]);
    check("dot vectors", nx.dot, [rand([3], r), rand([3], r)]);
  });

  it("shape ops", () => {
    check("transpose", (t) => nx.transpose(t, [2, 0, 1]), [rand([2, 3, 4], r)]);
    check("reshape", (t) => nx.reshape(t, [3, 2]), [rand([2, 3], r)]);
    check("broadcastTo", (t) => nx.broadcastTo(t, [2, 3, 3]), [rand([3, 1], r)]);
    check("squeeze/expandDims", (t) => nx.expandDims(nx.squeeze(t), 0), [rand([1, 3], r)]);
    check("slice", (t) => nx.slice(t, [1, 1], [2, -1]), [rand([3, 4], r)]);
    check("slice with strides", (t) => nx.slice(t, [0, 1], [-1, -1], [2, 2]), [rand([5, 5], r)]);
    // slices that tile an axis get one concatenated cotangent; overlapping or partial ones are
    // padded and added, and a slice used next to the whole tensor mixes both
    check(
      "slices tiling an axis (Q/K/V split)",
      (t) => {
        const [a, b, c] = [0, 1, 2].map((i) => nx.slice(t, [0, i * 2], [-1, 2]));
        return nx.concatenate([nx.multiply(a!, b!), nx.exp(c!), nx.multiply(c!, 3)], { axis: 1 });
      },
      [rand([3, 6], r)],
    );
    check(
      "overlapping and partial slices, and the whole tensor",
      (t) => {
        const a = nx.slice(t, [0, 1], [-1, 3]);
        const b = nx.slice(t, [0, 2], [-1, 2]);
        return nx.add(
          nx.multiply(nx.slice(t, [0, 0], [-1, 2]), nx.sum(nx.multiply(a, a))),
          nx.sin(b),
        );
      },
      [rand([2, 5], r)],
    );
    check(
      "a tiling split plus the whole tensor",
      (t) =>
        nx.multiply(
          nx.concatenate(nx.split(t, 2, { axis: 0 }).reverse(), { axis: 0 }),
          nx.square(t),
        ),
      [rand([4, 3], r)],
    );
    check("take with repeats", (t) => nx.take(t, [2, 0, 2, -1], { axis: 1 }), [rand([2, 3], r)]);
    check(
      "take 2-D indices",
      (t) =>
        nx.take(t, [
          [0, 1],
          [1, 1],
        ]),
      [rand([3, 2], r)],
    );
    check(
      "takeAlongAxis with repeats",
      (t) =>
        nx.takeAlongAxis(
          t,
          [
            [2, 2],
            [0, 1],
          ],
          1,
        ),
      [rand([2, 3], r)],
    );
    check("topK values", (t) => nx.topK(t, 2).values, [rand([3, 4], r)]);
    check("sort", (t) => nx.sort(t, { axis: 0 }), [rand([3, 2], r)]);
    check("cumsum", (t) => nx.cumsum(t, 1), [rand([2, 4], r)]);
    check(
      "cumsum reverse exclusive",
      (t) => nx.cumsum(t, { axis: 0, reverse: true, exclusive: true }),
      [rand([3, 2], r)],
    );
    check("reverse", (t) => nx.reverse(t), [rand([2, 3], r)]);
    check(
      "takeAlongAxis's gradient (second order)",
      (t) =>
        nx.grad((y: nx.Tensor) => nx.sum(nx.square(nx.takeAlongAxis(y, [[1, 1]], 1))))(
          t,
        ) as nx.Tensor,
      [rand([1, 3], r)],
    );
    check(
      "pad with cropping",
      (t) =>
        nx.pad(t, [
          [-1, 1],
          [0, -2],
        ]),
      [rand([3, 4], r)],
    );
    check(
      "pad",
      (t) =>
        nx.pad(
          t,
          [
            [1, 0],
            [2, 1],
          ],
          3,
        ),
      [rand([2, 2], r)],
    );
    const idx = nx.tensor([1, 0, 1], { dtype: "i32" });
    // the gradient of take is a scatter-add; differentiating it again goes through its own rule
    check(
      "take's gradient (second order)",
      (t) =>
        nx.grad((y: nx.Tensor) =>
          nx.sum(nx.multiply(nx.square(nx.take(y, idx, 1)), nx.take(y, idx, 1))),
        )(t) as nx.Tensor,
      [rand([2, 3], r)],
    );
    check("concatenate", (a, b) => nx.concatenate([a, b, a], { axis: 1 }), [
      rand([2, 2], r),
      rand([2, 1], r),
    ]);
    check("stack", (a, b) => nx.stack([a, b], { axis: 1 }), [rand([2, 3], r), rand([2, 3], r)]);
  });

  it("a small network: matmul, bias, relu, logSoftmax, oneHot cross-entropy", () => {
    const labels = nx.oneHot([0, 2, 1], 3, { dtype: "f64" });
    const net: F = (x, w1, b1, w2) => {
      const h = nx.relu(nx.add(nx.matmul(x, w1), b1));
      return nx.negate(
        nx.mean(nx.sum(nx.multiply(nx.logSoftmax(nx.matmul(h, w2)), labels), { axis: 1 })),
      );
    };
    check("mlp", net, [rand([3, 4], r), rand([4, 5], r), rand([5], r), rand([5, 3], r)]);
  });
});

describe("grad and valueAndGrad", () => {
  const x64 = nx.tensor([0.5, -1, 2], { dtype: "f64" });
  it("differentiates a nested object of parameters and keeps its structure", () => {
    const params = {
      layer: {
        w: nx.tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: "f64" },
        ),
        b: nx.tensor([0.5, -0.5], { dtype: "f64" }),
      },
      scale: [nx.tensor(2, { dtype: "f64" })],
    };
    const x = nx.tensor([[1, -1]], { dtype: "f64" });
    const loss = (p: typeof params, input: nx.Tensor) =>
      nx.sum(nx.square(nx.multiply(nx.add(nx.matmul(input, p.layer.w), p.layer.b), p.scale[0]!)));
    const [value, g] = nx.valueAndGrad(loss)(params, x) as [nx.Tensor, typeof params];
    // y = (x W + b) s = ([-2, -2] + [0.5, -0.5]) * 2 = [-3, -5]; loss = 34
    assert.equal(value.item(), 34);
    assert.deepEqual(g.layer.b.toArraySync(), [-12, -20]);
    assert.deepEqual(g.layer.w.toArraySync(), [
      [-12, -20],
      [12, 20],
    ]);
    assert.equal(g.scale[0]!.item(), 2 * ((-1.5) ** 2 + (-2.5) ** 2) * 2);
  });

  it("argnums selects arguments; hasAux returns auxiliary outputs", () => {
    const f = (a: nx.Tensor, b: nx.Tensor) => nx.sum(nx.multiply(a, b));
    const gb = nx.grad(f, 1)(x64, nx.tensor([1, 2, 3], { dtype: "f64" })) as nx.Tensor;
    assert.deepEqual(gb.toArraySync(), [0.5, -1, 2]);
    const both = nx.grad(f, [0, 1])(x64, nx.tensor([1, 2, 3], { dtype: "f64" })) as nx.Tensor[];
    assert.deepEqual(both[0]!.toArraySync(), [1, 2, 3]);
    const [[v, aux], g] = nx.valueAndGrad(
      (a: nx.Tensor) => [nx.sum(nx.exp(a)), { doubled: nx.multiply(a, 2) }],
      { hasAux: true },
    )(x64);
    close([v.item()], [Math.exp(0.5) + Math.exp(-1) + Math.exp(2)], 1e-12, "value");
    assert.deepEqual(aux.doubled.toArraySync(), [1, -2, 4]);
    close(Array.from(g.dataSync()), [Math.exp(0.5), Math.exp(-1), Math.exp(2)], 1e-12, "grad");
  });

  it("stopGradient blocks the derivative; unused arguments get zeros", () => {
    const g = nx.grad((a: nx.Tensor) => nx.sum(nx.multiply(a, nx.stopGradient(a))))(
      x64,
    ) as nx.Tensor;
    assert.deepEqual(g.toArraySync(), [0.5, -1, 2]);
    const z = nx.grad((_a: nx.Tensor, b: nx.Tensor) => nx.sum(b), 0)(x64, x64) as nx.Tensor;
    assert.deepEqual(z.toArraySync(), [0, 0, 0]);
  });

  it("second derivatives: grad of grad", () => {
    const d1 = (x: nx.Tensor) =>
      nx.sum(nx.grad((y: nx.Tensor) => nx.sum(nx.multiply(nx.multiply(y, y), y)))(x) as nx.Tensor);
    const d2 = nx.grad(d1)(x64) as nx.Tensor;
    close(Array.from(d2.dataSync() as Float64Array), [3, -6, 12], 1e-12, "6x");
  });

  it("composes with jit both ways and inside a jitted training step", () => {
    const f = (a: nx.Tensor) => nx.sum(nx.tanh(a));
    const expected = (nx.grad(f)(x64) as nx.Tensor).toArraySync();
    assert.deepEqual((nx.jit(nx.grad(f))(x64) as nx.Tensor).toArraySync(), expected);
    assert.deepEqual((nx.grad(nx.jit(f))(x64) as nx.Tensor).toArraySync(), expected);
    // linear regression: a jitted step (forward, backward, update) converges
    const xs = nx.random.normal([64, 3], { seed: 1 });
    const trueW = nx.tensor([[1], [-2], [0.5]], { dtype: "f32" });
    const ys = nx.matmul(xs, trueW);
    const loss = (w: nx.Tensor) => nx.mean(nx.square(nx.subtract(nx.matmul(xs, w), ys)));
    const step = nx.jit((w: nx.Tensor) => {
      const [l, g] = nx.valueAndGrad(loss)(w);
      return { loss: l, w: nx.subtract(w, nx.multiply(g, 0.1)) };
    });
    let w = nx.zeros([3, 1]);
    let first = 0;
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const out = step(w) as { loss: nx.Tensor; w: nx.Tensor };
      if (i === 0) first = out.loss.item() as number;
      last = out.loss.item() as number;
      w = out.w;
    }
    assert.ok(last < first * 1e-4, `${first} -> ${last}`);
    close(Array.from(w.dataSync() as Float32Array), [1, -2, 0.5], 1e-3, "learned weights");
  });

  it("errors: non-scalar results, integer arguments, bad argnums", () => {
    assert.throws(() => nx.grad((a: nx.Tensor) => nx.multiply(a, 2))(x64), {
      name: "TensorError",
      message: "grad: the function must return a scalar f32/f64 tensor, got f64[3]",
    });
    assert.throws(
      () => nx.grad((a: nx.Tensor) => nx.sum(a))(nx.tensor([1, 2], { dtype: "i32" })),
      /grad: argument 0 has a i32\[2\] tensor; only f32\/f64 tensors can be differentiated/,
    );
    assert.throws(
      () => nx.grad((a: nx.Tensor) => nx.sum(a), 3)(x64),
      /grad: argnums 3 is out of range for 1 arguments/,
    );
    assert.throws(
      () => nx.grad((a: number) => nx.tensor(a))(2),
      /grad: argument 0 contains no tensors/,
    );
  });
});

describe("grad API conveniences", () => {
  it("valueAndGrad results also read as .value/.grad/.aux; axes may be given positionally", () => {
    const x = nx.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "f64" },
    );
    const r = nx.valueAndGrad((t: nx.Tensor) => nx.sum(nx.max(t, 1)))(x);
    assert.equal(r.value.item(), 6);
    assert.deepEqual(r.grad.toArraySync(), [
      [0, 1],
      [0, 1],
    ]);
    const a = nx.valueAndGrad((t: nx.Tensor) => [nx.sum(t), nx.mean(t, [0, 1])], { hasAux: true })(
      x,
    );
    assert.equal(a.value.item(), 10);
    assert.equal(a.aux.item(), 2.5);
    assert.deepEqual(nx.softmax(x, 0).shape, [2, 2]);
    assert.deepEqual(nx.argmax(x, 0).toArraySync(), [1, 1]);
    assert.deepEqual(nx.concatenate([x, x], 1).shape, [2, 4]);
    assert.deepEqual(nx.sum(x, { axes: 0, keepdims: true } as nx.ReduceOptions).shape, [1, 2]);
  });

  it("max and min propagate NaN like NumPy", () => {
    assert.ok(Number.isNaN(nx.max(nx.tensor([1, NaN, 3])).item() as number));
    assert.deepEqual(
      nx
        .min(
          nx.tensor([
            [1, NaN],
            [2, 3],
          ]),
          1,
        )
        .toArraySync()
        .toString(),
      "NaN,2",
    );
  });
});
