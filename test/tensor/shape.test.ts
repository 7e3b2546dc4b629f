// The shape ops of tensor/shape.ts against NumPy on every dtype, with empty and scalar inputs,
// and their gradients against central differences in f64.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

const DTYPES: nx.DType[] = ["f32", "f64", "i32", "i64", "u8", "bool"];

function sample(shape: number[], dtype: nx.DType): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => (dtype === "bool" ? i % 3 !== 1 : (i * 5) % 17));
  return nx.tensor(vals, { dtype, shape });
}

describe("shape ops vs NumPy", () => {
  it("tile, repeat, split, roll, moveAxis, swapAxes, meshgrid, tril, triu, diag, diagonal, trace on every dtype", () => {
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
      const x = sample([3, 4], dtype);
      const c = sample([2, 3, 4], dtype);
      const v = sample([4], dtype);
      const s = sample([], dtype);
      const e = sample([0, 3], dtype);
      const a = { x, c, v, s, e };
      const d = `${dtype} `;
      add(d + "tile 2", "np.tile(x, 2)", a, nx.tile(x, 2));
      add(d + "tile [2,1,3]", "np.tile(x, (2, 1, 3))", a, nx.tile(x, [2, 1, 3]));
      add(d + "tile scalar", "np.tile(s, (2, 2))", a, nx.tile(s, [2, 2]));
      add(d + "tile empty", "np.tile(e, (2, 2))", a, nx.tile(e, [2, 2]));
      add(d + "repeat flat", "np.repeat(x, 2)", a, nx.repeat(x, 2));
      add(d + "repeat axis 1", "np.repeat(x, 3, axis=1)", a, nx.repeat(x, 3, { axis: 1 }));
      add(d + "repeat counts", "np.repeat(x, [2, 0, 1], axis=0)", a, nx.repeat(x, [2, 0, 1], 0));
      add(d + "repeat scalar", "np.repeat(s, 3)", a, nx.repeat(s, 3));
      nx.split(c, 2, { axis: 2 }).forEach((p, i) =>
        add(d + `split ${i}`, `np.split(c, 2, axis=2)[${i}]`, a, p),
      );
      nx.split(x, [1, -1, 10], 1).forEach((p, i) =>
        add(d + `split at ${i}`, `np.split(x, [1, -1, 10], axis=1)[${i}]`, a, p),
      );
      add(d + "roll flat", "np.roll(x, 5)", a, nx.roll(x, 5));
      add(d + "roll axis", "np.roll(x, -1, axis=1)", a, nx.roll(x, -1, 1));
      add(d + "roll axes", "np.roll(c, (1, 7), axis=(0, 2))", a, nx.roll(c, [1, 7], [0, 2]));
      add(d + "roll empty", "np.roll(e, 2, axis=0)", a, nx.roll(e, 2, 0));
      add(d + "moveAxis", "np.moveaxis(c, 0, -1)", a, nx.moveAxis(c, 0, -1));
      add(d + "moveAxis 2", "np.moveaxis(c, [0, 1], [2, 0])", a, nx.moveAxis(c, [0, 1], [2, 0]));
      add(d + "swapAxes", "np.swapaxes(c, 0, 2)", a, nx.swapAxes(c, 0, 2));
      const [mx, my] = nx.meshgrid(v, nx.index(x, 0, "1:"));
      add(d + "meshgrid xy 0", "np.meshgrid(v, x[0, 1:])[0]", a, mx!);
      add(d + "meshgrid xy 1", "np.meshgrid(v, x[0, 1:])[1]", a, my!);
      const [ix, iy, iz] = nx.meshgrid(v, x.index(0, "1:"), x.index(1), { indexing: "ij" });
      add(d + "meshgrid ij 0", "np.meshgrid(v, x[0, 1:], x[1], indexing='ij')[0]", a, ix!);
      add(d + "meshgrid ij 1", "np.meshgrid(v, x[0, 1:], x[1], indexing='ij')[1]", a, iy!);
      add(d + "meshgrid ij 2", "np.meshgrid(v, x[0, 1:], x[1], indexing='ij')[2]", a, iz!);
      add(d + "tril", "np.tril(x)", a, nx.tril(x));
      add(d + "tril -1", "np.tril(c, -1)", a, nx.tril(c, -1));
      add(d + "triu 1", "np.triu(x, 1)", a, nx.triu(x, 1));
      add(d + "triu batched", "np.triu(c, -2)", a, nx.triu(c, -2));
      add(d + "tril empty", "np.tril(e)", a, nx.tril(e));
      add(d + "diag of vector", "np.diag(v)", a, nx.diag(v));
      add(d + "diag k=2", "np.diag(v, 2)", a, nx.diag(v, 2));
      add(d + "diag k=-1", "np.diag(v, -1)", a, nx.diag(v, -1));
      add(d + "diag of matrix", "np.diag(x)", a, nx.diag(x));
      add(d + "diag of matrix k=1", "np.diag(x, 1)", a, nx.diag(x, 1));
      add(d + "diag of matrix k=-2", "np.diag(x, -2)", a, nx.diag(x, -2));
      add(d + "diag out of range", "np.diag(x, 9)", a, nx.diag(x, 9));
      add(
        d + "diagonal 3-D",
        "np.diagonal(c, 1, 1, 2)",
        a,
        nx.diagonal(c, { offset: 1, axis1: 1, axis2: 2 }),
      );
      if (dtype !== "bool") {
        add(d + "trace", "np.trace(x)", a, nx.trace(x));
        add(d + "trace k", "np.trace(x, -1)", a, nx.trace(x, { offset: -1 }));
        add(d + "trace 3-D", "np.trace(c)", a, nx.trace(c));
      }
    }
    const ref = numpy(cases);
    got.forEach(([what, t], i) => {
      const r = ref[i]!;
      // NumPy's trace of small ints gives int64 (a wider sum); compare values
      assertLikeNumpy(t, r, 0, what);
    });
  });

  it("errors name the op and shapes", () => {
    const x = nx.zeros([3, 4]);
    assert.throws(
      () => nx.split(x, 3, 1),
      /split: 4 elements along axis 1 of f32\[3,4\] do not split into 3/,
    );
    assert.throws(() => nx.tril(nx.zeros([3])), /tril: needs at least 2 dimensions/);
    assert.throws(() => nx.repeat(x, [1, 2], 0), /repeat: 2 repeat counts for axis 0 of size 3/);
    assert.throws(() => nx.moveAxis(x, [0, 0], [1, 0]), /moveAxis/);
  });
});

describe("shape op gradients (f64, central differences)", () => {
  const r = rng(7);
  const x = rand([3, 4], r);
  it("each op passes gradients back to its input", () => {
    check("tile", (a) => nx.tile(a, [2, 1, 2]), [x]);
    check("repeat", (a) => nx.repeat(a, 2, 1), [x]);
    check("repeat counts", (a) => nx.repeat(a, [0, 3, 1], 0), [x]);
    check("split", (a) => nx.multiply(nx.split(a, [1], 1)[1]!, 2), [x]);
    check("roll", (a) => nx.roll(a, [1, -3], [0, 1]), [x]);
    check("moveAxis", (a) => nx.moveAxis(nx.reshape(a, [3, 2, 2]), 0, 2), [x]);
    check("tril", (a) => nx.tril(a, 1), [x]);
    check("triu", (a) => nx.triu(a, -1), [x]);
    check("diag of vector", (a) => nx.diag(nx.index(a, 0), 1), [x]);
    check("diag of matrix", (a) => nx.diag(a, -1), [x]);
    check("trace", (a) => nx.trace(a, { offset: 1 }), [x]);
    check("meshgrid", (a) => nx.meshgrid(nx.index(a, 0), nx.index(a, 1, "1:"))[0]!, [x]);
  });
});
