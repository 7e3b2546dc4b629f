// The reductions and scans of tensor/reduce.ts against NumPy on every dtype (with empty, scalar
// and NaN inputs) and their gradients against central differences in f64 (prod with zeros too).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

const DTYPES: nx.DType[] = ["f32", "f64", "i32", "i64", "u8", "bool"];

function sample(shape: number[], dtype: nx.DType): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) =>
    dtype === "bool" ? i % 4 !== 2 : ((i * 5) % 7) - (dtype === "u8" ? 0 : 3),
  );
  return nx.tensor(vals, { dtype, shape });
}

describe("reductions and scans vs NumPy", () => {
  it("prod, cumprod, cummax, cummin over axes on every dtype, empty and scalar", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor]> = [];
    const add = (
      what: string,
      expr: string,
      args: Record<string, nx.Tensor>,
      t: nx.Tensor,
    ): void => {
      cases.push({ expr, args });
      got.push([what, t]);
    };
    for (const dtype of DTYPES) {
      const x = sample([3, 5], dtype);
      const e = sample([0, 4], dtype);
      const s = sample([], dtype);
      const a = { x, e, s };
      const d = `${dtype} `;
      // NumPy multiplies small ints in int64 and bools as int64; wrap-around is not tested here
      add(d + "prod", "np.prod(x)", a, nx.prod(x));
      add(d + "prod axis 1", "np.prod(x, axis=1)", a, nx.prod(x, 1));
      add(
        d + "prod keepdims",
        "np.prod(x, axis=0, keepdims=True)",
        a,
        nx.prod(x, { axis: 0, keepDims: true }),
      );
      add(d + "prod empty", "np.prod(e, axis=0)", a, nx.prod(e, 0));
      add(d + "prod scalar", "np.prod(s)", a, nx.prod(s));
      add(d + "cumprod", "np.cumprod(x, axis=1)", a, nx.cumprod(x, 1));
      add(d + "cumprod 0", "np.cumprod(x, axis=0)", a, nx.cumprod(x));
      add(d + "cummax", "np.maximum.accumulate(x, axis=1)", a, nx.cummax(x, 1));
      add(d + "cummin", "np.minimum.accumulate(x, axis=0)", a, nx.cummin(x, 0));
      add(
        d + "cummax reverse",
        "np.flip(np.maximum.accumulate(np.flip(x, 1), axis=1), 1)",
        a,
        nx.cummax(x, { axis: 1, reverse: true }),
      );
      add(d + "cumprod empty", "np.cumprod(e, axis=0)", a, nx.cumprod(e));
    }
    const long = nx.tensor(
      Array.from({ length: 37 }, (_, i) => 1 + ((i * 13) % 5) / 10),
      { dtype: "f64" },
    );
    add("cumprod of 37 (six rounds)", "np.cumprod(v)", { v: long }, nx.cumprod(long));
    const nan = nx.tensor([1, 3, NaN, 2, 5], { dtype: "f64" });
    add("cummax NaN", "np.maximum.accumulate(v)", { v: nan }, nx.cummax(nan));
    add("cummin NaN", "np.minimum.accumulate(v)", { v: nan }, nx.cummin(nan));
    const ref = numpy(cases);
    got.forEach(([what, t], i) => assertLikeNumpy(t, ref[i]!, 1e-6, what));
    assert.equal(nx.prod(sample([2], "u8")).dtype, "i32");
  });

  it("median, quantile, percentile (linear), with axes, keepDims, lists of q and NaN", () => {
    const x = nx.tensor(
      [
        [3, 1, 4, 1, 5],
        [9, 2, 6, 5, 3],
        [5, 8, 9, 7, 9],
        [3, 2, 3, 8, 4],
      ],
      { dtype: "f64" },
    );
    const xi = nx.cast(x, "i32");
    const nan = nx.tensor(
      [
        [1, NaN, 3],
        [4, 5, 6],
      ],
      { dtype: "f64" },
    );
    const cases: NumpyCase[] = [
      { expr: "np.median(x)", args: { x } },
      { expr: "np.median(x, axis=1)", args: { x } },
      { expr: "np.median(x, axis=0, keepdims=True)", args: { x } },
      { expr: "np.quantile(x, 0.3, axis=1)", args: { x } },
      { expr: "np.quantile(x, [0, 0.25, 0.9, 1], axis=0)", args: { x } },
      { expr: "np.percentile(x, 37.5)", args: { x } },
      { expr: "np.median(x.astype(np.float32), axis=1)", args: { x } },
      { expr: "np.median(n, axis=1)", args: { n: nan } },
      { expr: "np.quantile(x, [0.5, 0.75], keepdims=True)", args: { x } },
    ];
    const [m, m1, m0, q, qs, p, mi, mn, qk] = numpy(cases);
    assertLikeNumpy(nx.median(x), m!, 1e-12, "median");
    assertLikeNumpy(nx.median(x, 1), m1!, 1e-12, "median axis 1");
    assertLikeNumpy(nx.median(x, { axis: 0, keepDims: true }), m0!, 1e-12, "median keepDims");
    assertLikeNumpy(nx.quantile(x, 0.3, 1), q!, 1e-12, "quantile");
    assertLikeNumpy(nx.quantile(x, [0, 0.25, 0.9, 1], 0), qs!, 1e-12, "quantiles");
    assertLikeNumpy(nx.percentile(x, 37.5), p!, 1e-12, "percentile");
    assertLikeNumpy(nx.median(xi, 1), mi!, 1e-6, "median of i32 (f32)");
    assertLikeNumpy(nx.median(nan, 1), mn!, 0, "NaN row");
    assertLikeNumpy(
      nx.quantile(x, [0.5, 0.75], { keepDims: true }),
      qk!,
      1e-12,
      "keepDims all axes",
    );
    assert.equal(nx.median(xi).dtype, "f32");
    assert.throws(() => nx.median(nx.zeros([0])), /empty axis/);
  });

  it("unique/uniqueAll (NaN once), bincount (weights, minlength, length), histogram on every numeric dtype", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor]> = [];
    const add = (
      what: string,
      expr: string,
      args: Record<string, nx.Tensor>,
      t: nx.Tensor,
    ): void => {
      cases.push({ expr, args });
      got.push([what, t]);
    };
    for (const dtype of DTYPES) {
      const x = sample([3, 5], dtype);
      const u = nx.uniqueAll(x);
      add(`${dtype} unique`, "np.unique(x)", { x }, nx.unique(x));
      add(`${dtype} unique indices`, "np.unique(x, return_index=True)[1]", { x }, u.indices);
      add(
        `${dtype} unique inverse`,
        "np.unique(x, return_inverse=True)[1].reshape(x.shape)",
        { x },
        u.inverse,
      );
      add(`${dtype} unique counts`, "np.unique(x, return_counts=True)[1]", { x }, u.counts);
    }
    const f = nx.tensor([2, NaN, 1, NaN, 2, -0, 0], { dtype: "f64" });
    add("unique NaN", "np.unique(f)", { f }, nx.unique(f));
    add("unique empty", "np.unique(e)", { e: nx.zeros([0]) }, nx.unique(nx.zeros([0])));
    for (const dtype of ["i32", "i64", "u8"] as nx.DType[]) {
      const b = nx.tensor([0, 1, 1, 3, 2, 1, 7], { dtype });
      const w = nx.tensor([0.3, 0.5, 0.2, 0.7, 1, -0.6, 2], { dtype: "f64" });
      add(`${dtype} bincount`, "np.bincount(b)", { b }, nx.bincount(b));
      add(
        `${dtype} bincount weights`,
        "np.bincount(b, weights=w)",
        { b, w },
        nx.bincount(b, { weights: w }),
      );
      add(
        `${dtype} bincount minlength`,
        "np.bincount(b, minlength=10)",
        { b },
        nx.bincount(b, { minlength: 10 }),
      );
      add(`${dtype} bincount length`, "np.bincount(b)[:4]", { b }, nx.bincount(b, { length: 4 }));
    }
    add(
      "bincount empty",
      "np.bincount(np.zeros(0, dtype=np.int32))",
      {},
      nx.bincount(nx.zeros([0], { dtype: "i32" })),
    );
    const h = nx.tensor([0.5, 1, 1.5, 2, 2.25, 3, 3.5, 4, -1, 10], { dtype: "f64" });
    const h32 = nx.random.normal([200], { seed: 3 });
    const hi = nx.tensor([1, 2, 2, 3, 9, 4], { dtype: "i32" });
    const ha = { h, h32, hi };
    add("histogram", "np.histogram(h)[0]", ha, nx.histogram(h).counts);
    add("histogram edges", "np.histogram(h)[1]", ha, nx.histogram(h).edges);
    add(
      "histogram range",
      "np.histogram(h, bins=4, range=(1, 4))[0]",
      ha,
      nx.histogram(h, { bins: 4, range: [1, 4] }).counts,
    );
    add("histogram f32", "np.histogram(h32, bins=7)[0]", ha, nx.histogram(h32, { bins: 7 }).counts);
    add(
      "histogram f32 edges",
      "np.histogram(h32, bins=7)[1]",
      ha,
      nx.histogram(h32, { bins: 7 }).edges,
    );
    add("histogram ints", "np.histogram(hi, bins=3)[0]", ha, nx.histogram(hi, { bins: 3 }).counts);
    add(
      "histogram weights",
      "np.histogram(h, bins=3, weights=h)[0]",
      ha,
      nx.histogram(h, { bins: 3, weights: h }).counts,
    );
    const ref = numpy(cases);
    got.forEach(([what, t], i) => assertLikeNumpy(t, ref[i]!, 1e-6, what));
    const jitted = nx.jit((v: nx.Tensor) => nx.histogram(v, { bins: 4, range: [1, 4] }).counts);
    assert.deepEqual(
      jitted(h).toArraySync(),
      nx.histogram(h, { bins: 4, range: [1, 4] }).counts.toArraySync(),
    );
    assert.throws(() => nx.jit((v: nx.Tensor) => nx.unique(v))(h), /not known inside jit/);
  });
});

describe("reduction gradients (f64, central differences)", () => {
  const r = rng(3);
  it("prod (with zeros), cumprod, cummax, cummin, median, quantile", () => {
    const x = rand([3, 4], r);
    check("prod", (a) => nx.prod(a, 1), [x]);
    check("prod all", (a) => nx.prod(a), [rand([2, 3], r, 0.5, 1.5)]);
    check("prod over two axes", (a) => nx.prod(a, { axes: [0, 2] }), [rand([2, 3, 2], r)]);
    const z = nx.tensor(
      [
        [0, 2, 3],
        [0, 0, 4],
      ],
      { dtype: "f64" },
    );
    check("prod with zeros", (a) => nx.prod(a, 1), [z]);
    check("cumprod", (a) => nx.cumprod(a, 1), [x]);
    check("cumprod with zero", (a) => nx.cumprod(a, 1), [z]);
    check("cummax", (a) => nx.cummax(a, 1), [x]);
    check("cummin", (a) => nx.cummin(a, { axis: 0, reverse: true }), [x]);
    check("median", (a) => nx.median(a, 1), [x]);
    check("quantile", (a) => nx.quantile(a, [0.1, 0.8], 0), [x]);
  });
});
