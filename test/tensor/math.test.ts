// The element-wise functions and activations of tensor/math.ts against NumPy (python3-numpy) on
// each dtype, empty and scalar inputs and broadcasting, and their gradients against central
// differences in f64.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

type Unary = (x: nx.Tensor) => nx.Tensor;

/** Inputs per function: inside its domain, with edges (±1, 0, Inf, NaN) where they matter. */
const UNARY: Array<{ name: string; np: string; fn: Unary; values: number[] }> = [
  { name: "tan", np: "np.tan(x)", fn: nx.tan, values: [-1.2, -0.5, 0, 0.3, 1, 1.5] },
  { name: "asin", np: "np.arcsin(x)", fn: nx.asin, values: [-1, -0.7, 0, 0.2, 0.99, 1, 1.5] },
  { name: "acos", np: "np.arccos(x)", fn: nx.acos, values: [-1, -0.7, 0, 0.2, 0.99, 1] },
  {
    name: "atan",
    np: "np.arctan(x)",
    fn: nx.atan,
    values: [-Infinity, -1e6, -3, -1, -0.15, 0, 0.5, 1, 2.5, 1e9, Infinity, NaN],
  },
  { name: "sinh", np: "np.sinh(x)", fn: nx.sinh, values: [-3, -1, -0.01, 0, 0.5, 2] },
  { name: "cosh", np: "np.cosh(x)", fn: nx.cosh, values: [-3, -1, 0, 0.5, 2] },
  { name: "asinh", np: "np.arcsinh(x)", fn: nx.asinh, values: [-50, -1, -0.1, 0, 0.5, 3] },
  { name: "acosh", np: "np.arccosh(x)", fn: nx.acosh, values: [1, 1.01, 2, 10, 0.5] },
  { name: "atanh", np: "np.arctanh(x)", fn: nx.atanh, values: [-1, -0.9, 0, 0.3, 0.99, 1] },
  { name: "expm1", np: "np.expm1(x)", fn: nx.expm1, values: [-2, -1e-7, 0, 1e-9, 3e-6, 0.5, 3] },
  { name: "log2", np: "np.log2(x)", fn: nx.log2, values: [0.25, 1, 3, 1024, 0] },
  { name: "log10", np: "np.log10(x)", fn: nx.log10, values: [0.001, 1, 7, 1e6] },
];

describe("element-wise math vs NumPy", () => {
  it("trigonometric, hyperbolic, expm1, log2, log10 on f32 and f64, integers (→ f32), empty and scalar", () => {
    const cases: NumpyCase[] = [];
    const runs: Array<[string, nx.Tensor, number]> = [];
    for (const u of UNARY) {
      for (const dtype of ["f32", "f64"] as nx.DType[]) {
        const x = nx.tensor(u.values, { dtype });
        cases.push({ expr: u.np, args: { x } });
        runs.push([`${u.name} ${dtype}`, u.fn(x), dtype === "f32" ? 3e-6 : 1e-13]);
      }
      // integers compute in f32, as NumPy's float functions give a float
      const ints = nx.tensor([1, 2, 3], { dtype: "i32" });
      cases.push({ expr: u.np.replace("(x)", "(x.astype(np.float32))"), args: { x: ints } });
      runs.push([`${u.name} i32`, u.fn(ints), 3e-6]);
      assert.equal(u.fn(ints).dtype, "f32", `${u.name} of i32 is f32`);
      assert.deepEqual(u.fn(nx.zeros([0, 2])).shape, [0, 2], `${u.name} of empty`);
      const s = nx.tensor(0.5, { dtype: "f64" });
      cases.push({ expr: u.np, args: { x: s } });
      runs.push([`${u.name} scalar`, u.fn(s), 1e-13]);
    }
    const ref = numpy(cases);
    runs.forEach(([what, got, tol], i) => assertLikeNumpy(got, ref[i]!, tol, what));
  });

  it("atan2 in every quadrant and on the axes, with broadcasting, like np.arctan2", () => {
    const y = nx.tensor([[1], [-1], [0], [-0], [2.5], [-Infinity]], { dtype: "f64" });
    const x = nx.tensor([1, -1, 0, -0, -3, Infinity], { dtype: "f64" });
    const [r64, r32] = numpy([
      { expr: "np.arctan2(y, x)", args: { y, x } },
      { expr: "np.arctan2(y.astype(np.float32), x.astype(np.float32))", args: { y, x } },
    ]);
    assertLikeNumpy(nx.atan2(y, x), r64!, 1e-13, "f64");
    assertLikeNumpy(nx.atan2(nx.cast(y, "f32"), nx.cast(x, "f32")), r32!, 3e-6, "f32");
    assert.deepEqual(nx.atan2(nx.zeros([0]), 1).shape, [0]);
  });

  it("isInf, isFinite; bitwise ops on every integer dtype and bool", () => {
    const f = nx.tensor([1, Infinity, -Infinity, NaN, 0]);
    const [inf, fin] = numpy([
      { expr: "np.isinf(x)", args: { x: f } },
      { expr: "np.isfinite(x)", args: { x: f } },
    ]);
    assertLikeNumpy(nx.isInf(f), inf!, 0, "isInf");
    assertLikeNumpy(nx.isFinite(f), fin!, 0, "isFinite");
    assert.deepEqual(nx.isFinite(nx.tensor([1], { dtype: "i32" })).toArraySync(), [true]);
    const cases: NumpyCase[] = [];
    const got: nx.Tensor[] = [];
    for (const dtype of ["i32", "i64", "u8"] as nx.DType[]) {
      const a = nx.tensor([[12], [5], [255], [0]], { dtype });
      const b = nx.tensor([10, 3, -1 & 255], { dtype });
      for (const [fn, np] of [
        [nx.bitwiseAnd, "np.bitwise_and"],
        [nx.bitwiseOr, "np.bitwise_or"],
        [nx.bitwiseXor, "np.bitwise_xor"],
      ] as const) {
        cases.push({ expr: `${np}(a, b)`, args: { a, b } });
        got.push(fn(a, b));
      }
      cases.push({ expr: "np.invert(a)", args: { a } });
      got.push(nx.bitwiseNot(a));
    }
    const p = nx.tensor([true, false]);
    cases.push({ expr: "np.invert(p)", args: { p } });
    got.push(nx.bitwiseNot(p));
    numpy(cases).forEach((r, i) => assertLikeNumpy(got[i]!, r, 0, cases[i]!.expr));
    assert.equal(nx.bitwiseAnd(nx.tensor([1], { dtype: "u8" }), 3).dtype, "u8");
    assert.throws(
      () => nx.bitwiseAnd(nx.tensor([1.5]), 1),
      /bitwiseAnd: integer or bool tensors only, got f32\[1\]/,
    );
  });
});

describe("activations vs NumPy formulas (as PyTorch and jax.nn define them)", () => {
  it("leakyRelu, elu, selu, softplus, gelu (exact and tanh), silu, hardSigmoid", () => {
    const x = nx.tensor([-40, -3, -1, -0.2, 0, 0.2, 1, 3, 40], { dtype: "f64" });
    const cases: Array<[string, nx.Tensor, string, number]> = [
      ["leakyRelu", nx.leakyRelu(x), "np.where(x > 0, x, 0.01 * x)", 1e-15],
      ["leakyRelu 0.2", nx.leakyRelu(x, 0.2), "np.where(x > 0, x, 0.2 * x)", 1e-15],
      ["elu", nx.elu(x), "np.where(x > 0, x, np.expm1(x))", 1e-13],
      [
        "selu",
        nx.selu(x),
        "1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))",
        1e-13,
      ],
      ["softplus", nx.softplus(x), "np.logaddexp(0, x)", 1e-13],
      [
        "gelu",
        nx.gelu(x),
        "0.5 * x * (1 + np.vectorize(__import__('math').erf)(x / np.sqrt(2)))",
        2e-7,
      ],
      [
        "gelu tanh",
        nx.gelu(x, { approximate: true }),
        "0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))",
        1e-13,
      ],
      ["silu", nx.silu(x), "x / (1 + np.exp(-x))", 1e-13],
      ["hardSigmoid", nx.hardSigmoid(x), "np.clip(x / 6 + 0.5, 0, 1)", 1e-15],
    ];
    const ref = numpy(cases.map(([, , expr]) => ({ expr, args: { x } })));
    cases.forEach(([what, got, , tol], i) => {
      assert.equal(got.dtype, "f64", what);
      assertLikeNumpy(got, ref[i]!, tol, what);
    });
    assert.equal(nx.silu(nx.tensor([1, 2], { dtype: "i32" })).dtype, "f32");
    assert.deepEqual(nx.softplus(nx.zeros([2, 0])).shape, [2, 0]);
  });
});

describe("gradients of the new functions", () => {
  const r = rng(77);
  it("f64 (composites) against central differences", () => {
    const inside = (shape: number[], lo: number, hi: number) => rand(shape, r, lo, hi);
    check("tan", nx.tan, [inside([2, 3], -1.2, 1.2)]);
    check("asin", nx.asin, [inside([5], -0.9, 0.9)]);
    check("acos", nx.acos, [inside([5], -0.9, 0.9)]);
    check("atan", nx.atan, [rand([8], r, -4, 4)]);
    check("sinh", nx.sinh, [rand([4], r)]);
    check("cosh", nx.cosh, [rand([4], r)]);
    check("asinh", nx.asinh, [rand([4], r)]);
    check("acosh", nx.acosh, [inside([4], 1.2, 3)]);
    check("atanh", nx.atanh, [inside([4], -0.9, 0.9)]);
    check("atan2 broadcast", (y, x) => nx.atan2(y, x), [rand([3, 1], r), rand([4], r, 0.5, 2)]);
    check("expm1", nx.expm1, [rand([5], r)]);
    check("log2", nx.log2, [inside([4], 0.5, 3)]);
    check("log10", nx.log10, [inside([4], 0.5, 3)]);
    for (const [name, fn] of [
      ["leakyRelu", (x: nx.Tensor) => nx.leakyRelu(x, 0.1)],
      ["elu", nx.elu],
      ["selu", nx.selu],
      ["softplus", nx.softplus],
      ["gelu tanh", (x: nx.Tensor) => nx.gelu(x, { approximate: true })],
      ["silu", nx.silu],
      ["hardSigmoid", nx.hardSigmoid],
    ] as Array<[string, (x: nx.Tensor) => nx.Tensor]>)
      check(name, fn, [rand([6], r, -4, 4)]);
  });

  it("the f32 kernels' gradient rules agree with the f64 composites' gradients", () => {
    for (const [fn, lo, hi] of [
      [nx.tan, -1.2, 1.2],
      [nx.asin, -0.9, 0.9],
      [nx.acos, -0.9, 0.9],
      [nx.atan, -4, 4],
      [nx.sinh, -2, 2],
      [nx.cosh, -2, 2],
      [nx.asinh, -2, 2],
      [nx.acosh, 1.2, 3],
      [nx.atanh, -0.9, 0.9],
    ] as const) {
      const x64 = rand([6], r, lo, hi);
      const g64 = nx.grad((x: nx.Tensor) => nx.sum(fn(x)))(x64) as nx.Tensor;
      const g32 = nx.grad((x: nx.Tensor) => nx.sum(fn(x)))(nx.cast(x64, "f32")) as nx.Tensor;
      assert.equal(g32.dtype, "f32");
      const a = g32.dataSync();
      const b = g64.dataSync();
      for (let i = 0; i < a.length; i++)
        assert.ok(
          Math.abs(Number(a[i]) - Number(b[i])) <= 2e-5 * Math.max(1, Math.abs(Number(b[i]))),
          `${fn.name}: ${a[i]} vs ${b[i]}`,
        );
    }
  });

  it("compose with jit: one graph for a chain of the new functions", () => {
    const f = nx.jit((x: nx.Tensor) => nx.sum(nx.silu(nx.atan2(nx.sinh(x), nx.expm1(x)))));
    const x = nx.tensor([0.3, -0.7, 1.1], { dtype: "f64" });
    const eager = nx.sum(nx.silu(nx.atan2(nx.sinh(x), nx.expm1(x)))).item() as number;
    assert.ok(Math.abs((f(x) as nx.Tensor).item() as number) - Math.abs(eager) < 1e-12);
  });
});

describe("isClose and allClose vs NumPy", () => {
  it("tolerances, infinities, NaN (equalNan), broadcasting, integers", () => {
    const a = nx.tensor([1, 1 + 1e-6, 1e-9, Infinity, -Infinity, NaN, 100], { dtype: "f64" });
    const b = nx.tensor([1, 1, 0, Infinity, Infinity, NaN, 100.002], { dtype: "f64" });
    const i = nx.tensor([[1], [2]], { dtype: "i32" });
    const [d, t, n, bc] = numpy([
      { expr: "np.isclose(a, b)", args: { a, b } },
      { expr: "np.isclose(a, b, rtol=1e-4, atol=0)", args: { a, b } },
      { expr: "np.isclose(a, b, equal_nan=True)", args: { a, b } },
      { expr: "np.isclose(i, a[:3])", args: { a, i } },
    ]);
    assertLikeNumpy(nx.isClose(a, b), d!, 0, "defaults");
    assertLikeNumpy(nx.isClose(a, b, { rtol: 1e-4, atol: 0 }), t!, 0, "rtol");
    assertLikeNumpy(nx.isClose(a, b, { equalNan: true }), n!, 0, "equalNan");
    assertLikeNumpy(nx.isClose(i, nx.index(a, ":3")), bc!, 0, "broadcast ints");
    assert.equal(nx.allClose(nx.tensor([1, 2]), nx.tensor([1, 2.00001])), true);
    assert.equal(nx.allClose(nx.tensor([1, 2]), nx.tensor([1, 2.1])), false);
    assert.equal(nx.allClose(nx.zeros([0]), nx.zeros([0])), true);
  });
});

describe("layerNorm and the f32 gelu: one kernel each, with their own gradient rules", () => {
  const r = rng(2026);
  const x64 = rand([3, 4, 5], r, -3, 3);
  const gain64 = rand([5], r, 0.5, 1.5);
  const bias64 = rand([5], r);
  const f32 = (t: nx.Tensor) => nx.cast(t, "f32");

  it("layerNorm matches NumPy's (x − mean) / sqrt(var + ε) · gain + bias, over the last axes", () => {
    const ref = numpy([
      {
        expr: "(x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b",
        args: { x: x64, g: gain64, b: bias64 },
      },
      {
        expr: "(x - x.mean((1, 2), keepdims=True)) / np.sqrt(x.var((1, 2), keepdims=True) + 0.1)",
        args: { x: x64 },
      },
    ]);
    for (const x of [x64, f32(x64)]) {
      const tol = x.dtype === "f32" ? 2e-6 : 1e-12;
      const y = nx.layerNorm(x, { gain: nx.cast(gain64, x.dtype), bias: nx.cast(bias64, x.dtype) });
      assert.equal(y.dtype, x.dtype);
      assertLikeNumpy(y, ref[0]!, tol, `layerNorm ${x.dtype}`);
      assertLikeNumpy(
        nx.layerNorm(x, { axis: 1, epsilon: 0.1 }),
        ref[1]!,
        tol,
        `axis 1 ${x.dtype}`,
      );
      // under jit too (the primitive in a compiled graph)
      const jitted = nx.jit((t: nx.Tensor) => nx.layerNorm(t, { axis: -2, epsilon: 0.1 }));
      assertLikeNumpy(jitted(x), ref[1]!, tol, `jit ${x.dtype}`);
    }
    assert.throws(
      () => nx.layerNorm(x64, { axis: 3 }),
      /layerNorm: axis 3 is out of range for f64\[3,4,5\]/,
    );
    assert.throws(() => nx.layerNorm(x64, { epsilon: -1 }), /layerNorm: epsilon must be ≥ 0/);
    assert.deepEqual(nx.layerNorm(nx.zeros([0, 4])).shape, [0, 4]);
  });

  it("f64 layerNorm (a composite) against central differences", () => {
    check("layerNorm", (x, g, b) => nx.layerNorm(x, { gain: g, bias: b }), [x64, gain64, bias64]);
    check("layerNorm axis 1", (x) => nx.layerNorm(x, { axis: 1, epsilon: 0.1 }), [x64]);
  });

  it("the f32 rules (first and second order) agree with the f64 composites' gradients", () => {
    const w = rand([3, 4, 5], r, 0.5, 1.5);
    const cases: Array<[string, (x: nx.Tensor) => nx.Tensor]> = [
      [
        "layerNorm",
        (x) => nx.layerNorm(x, { gain: nx.cast(gain64, x.dtype), bias: nx.cast(bias64, x.dtype) }),
      ],
      ["layerNorm axis 1", (x) => nx.layerNorm(x, { axis: 1 })],
      ["gelu", (x) => nx.gelu(x)],
      ["gelu tanh", (x) => nx.gelu(x, { approximate: true })],
    ];
    for (const [name, fn] of cases) {
      const loss = (x: nx.Tensor) => nx.sum(nx.multiply(fn(x), nx.cast(w, x.dtype)));
      // the second order: the gradient of the gradient's squared norm
      const second = (x: nx.Tensor) => nx.sum(nx.square(nx.grad(loss)(x) as nx.Tensor));
      for (const [order, f] of [
        ["first", loss],
        ["second", second],
      ] as const) {
        const g64 = nx.grad(f)(x64) as nx.Tensor;
        const g32 = nx.grad(f)(f32(x64)) as nx.Tensor;
        const jitted = nx.jit(nx.grad(f))(f32(x64)) as nx.Tensor;
        assert.equal(g32.dtype, "f32");
        const scale = Math.max(1, Number(nx.max(nx.abs(g64)).item()));
        for (const [how, g] of [
          ["eager", g32],
          ["jit", jitted],
        ] as const) {
          const err = Number(nx.max(nx.abs(nx.subtract(nx.cast(g, "f64"), g64))).item());
          assert.ok(
            err <= 1e-4 * scale,
            `${name} ${order} order (${how}): off by ${err} (scale ${scale})`,
          );
        }
      }
    }
  });

  it("a jitted layerNorm serves new batch sizes from one graph; over the batch axis it stays correct", () => {
    const perRow = nx.jit((t: nx.Tensor) => nx.gelu(nx.layerNorm(t)));
    const overBatch = nx.jit((t: nx.Tensor) => nx.layerNorm(t, { axis: 0 }));
    const batch = (n: number) => nx.random.normal([n, 5], { seed: n });
    for (const n of [8, 16]) perRow(batch(n));
    const sessions = nx.runtimeStats.sessionsCreated;
    const got = [3, 40].map((n) => perRow(batch(n)));
    assert.equal(
      nx.runtimeStats.sessionsCreated,
      sessions,
      "no recompilation for batch sizes 3, 40",
    );
    [3, 40].forEach((n, i) => {
      const want = nx.gelu(nx.layerNorm(batch(n)));
      assert.ok(Number(nx.max(nx.abs(nx.subtract(got[i]!, want))).item()) < 1e-6);
    });
    for (const n of [8, 16, 3]) {
      const x = nx.cast(batch(n), "f64");
      const want = nx.divide(
        nx.subtract(x, nx.mean(x)),
        nx.sqrt(nx.add(nx.variance(x), 1e-5)), // axis 0: over every axis
      );
      const err = nx.max(nx.abs(nx.subtract(nx.cast(overBatch(batch(n)), "f64"), want)));
      assert.ok(Number(err.item()) < 1e-5, `batch ${n}`);
    }
  });

  it("vmap of layerNorm and gelu is the unbatched op on each example", () => {
    const x = f32(x64);
    const f = (t: nx.Tensor) => nx.gelu(nx.layerNorm(t, { axis: 0, gain: f32(gain64) }));
    const mapped = nx.vmap(f)(x);
    const each = nx.stack([0, 1, 2].map((i) => f(nx.reshape(x.slice([i], [1]), [4, 5]))));
    assert.ok(Number(nx.max(nx.abs(nx.subtract(mapped, each))).item()) < 1e-6);
  });

  it("a model with the f32 gelu declares opset 20 (ONNX Gelu); one without stays at opset 18", () => {
    const x = f32(x64);
    const withGelu = nx.decodeModel(
      nx.exportOnnx((t: nx.Tensor) => nx.gelu(nx.layerNorm(t)), [x]),
    ) as any;
    const without = nx.decodeModel(
      nx.exportOnnx((t: nx.Tensor) => nx.relu(nx.layerNorm(t)), [x]),
    ) as any;
    assert.equal(withGelu.opsetImport[0].version, 20);
    assert.ok(withGelu.graph.node.some((n: { opType: string }) => n.opType === "Gelu"));
    assert.ok(
      withGelu.graph.node.some((n: { opType: string }) => n.opType === "LayerNormalization"),
    );
    assert.equal(without.opsetImport[0].version, nx.OPSET);
    // an integer relu in a graph with Gelu (ONNX Runtime has no integer Relu at opset 19+)
    const mixed = nx.jit((t: nx.Tensor, i: nx.Tensor) => [nx.gelu(t), nx.relu(i)]);
    const [, ri] = mixed(x, nx.tensor([-2, 3], { dtype: "i64" })) as nx.Tensor[];
    assert.deepEqual(Array.from(ri!.dataSync() as BigInt64Array, Number), [0, 3]);
  });
});
