// Indexing (tensor/indexing.ts) against NumPy on each dtype: integers, ranges with negative bounds
// and steps (negative steps too), new axes, ellipsis, integer arrays (NumPy's placement rule) and
// boolean masks; the updates (set, add with repeated positions, putSlice, indexedPut/Add) against
// NumPy's item assignment and np.add.at; gradients against central differences in f64; jit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

const DTYPES: nx.DType[] = ["f32", "f64", "i32", "i64", "u8", "bool"];

function sample(shape: number[], dtype: nx.DType): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => (dtype === "bool" ? i % 3 === 0 : (i * 7) % 23));
  return nx.tensor(vals, { dtype, shape });
}

/** [nx specs, the same index in NumPy's syntax] on x of shape [4, 5, 6]. */
const CASES: Array<[nx.Index[], string]> = [
  [[1], "1"],
  [[-1, 2], "-1, 2"],
  [[-1, -2, -3], "-1, -2, -3"],
  [[nx.range(1, 3)], "1:3"],
  [[nx.range(-3)], "-3:"],
  [[nx.range(undefined, undefined, -1)], "::-1"],
  [["::-2", "1:-1", "::3"], "::-2, 1:-1, ::3"],
  [[nx.range(3, 0, -2), "4:1:-1"], "3:0:-2, 4:1:-1"],
  [[nx.range(10, -10, -3)], "10:-10:-3"],
  [[nx.range(-100, 100)], "-100:100"],
  [["2:2"], "2:2"],
  [["3:1"], "3:1"],
  [[nx.newAxis, 0, null, "::2"], "None, 0, None, ::2"],
  [["...", 1], "..., 1"],
  [[0, "...", nx.newAxis], "0, ..., None"],
  [[":", ":", nx.range(undefined, undefined, -1)], ":, :, ::-1"],
  [[[2, 0, -1]], "[2, 0, -1]"],
  [
    [
      ":",
      [
        [0, 4],
        [1, 1],
      ],
    ],
    ":, [[0, 4], [1, 1]]",
  ],
  [
    [
      [0, 2],
      [1, 3],
    ],
    "[0, 2], [1, 3]",
  ],
  [[":", [0, 2], [[1], [3]]], ":, [0, 2], [[1], [3]]"],
  [[[0, 2], ":", [1, 3]], "[0, 2], :, [1, 3]"], // non-adjacent: broadcast dims go first
  [[0, ":", [1, 3]], "0, :, [1, 3]"], // an integer next to an array counts as an array index
  [[nx.range(1, 3), [4, 0], nx.newAxis, "::-1"], "1:3, [4, 0], None, ::-1"],
  [[[]], "np.array([], dtype=np.int64)"],
];

describe("index vs NumPy", () => {
  it("integers, ranges (negative bounds and steps), new axes, ellipsis, integer arrays on every dtype", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor]> = [];
    for (const dtype of DTYPES) {
      const x = sample([4, 5, 6], dtype);
      for (const [specs, np] of CASES) {
        cases.push({ expr: `x[${np}]`, args: { x } });
        got.push([`${dtype} x[${np}]`, nx.index(x, ...specs)]);
      }
    }
    const ref = numpy(cases);
    got.forEach(([what, t], i) => {
      assertLikeNumpy(t, ref[i]!, 0, what);
    });
    const x = sample([4, 5, 6], "i64");
    assert.equal(x.index(1, "::2").dtype, "i64");
    assert.deepEqual(x.index(nx.range(1, 3)).shape, [2, 5, 6]);
  });

  it("boolean masks: a full mask, a mask over the leading axes, masks from comparisons, empty results", () => {
    const x = sample([3, 4], "f32");
    const m2 = nx.greater(x, 10);
    const m1 = nx.tensor([true, false, true]);
    const cases: NumpyCase[] = [
      { expr: "x[m2]", args: { x, m2 } },
      { expr: "x[m1]", args: { x, m1 } },
      { expr: "x[m1, 1:]", args: { x, m1 } },
      { expr: "x[:, np.array([True, False, False, True])]", args: { x } },
      { expr: "x[x > 100]", args: { x } },
      { expr: "x[1, x[0] > 5]", args: { x } },
    ];
    const ref = numpy(cases);
    assertLikeNumpy(x.index(m2), ref[0]!, 0, "x[x > 10]");
    assertLikeNumpy(x.index(m1), ref[1]!, 0, "x[m1]");
    assertLikeNumpy(x.index(m1, "1:"), ref[2]!, 0, "x[m1, 1:]");
    assertLikeNumpy(x.index(":", [true, false, false, true]), ref[3]!, 0, "x[:, mask]");
    assertLikeNumpy(x.index(nx.greater(x, 100)), ref[4]!, 0, "empty");
    assertLikeNumpy(x.index(1, nx.greater(x.index(0), 5)), ref[5]!, 0, "int + mask");
    assert.throws(() => x.index(nx.tensor([true, false])), /boolean mask bool\[2\] does not match/);
  });

  it("scalars, empty tensors and errors", () => {
    const s = nx.tensor(3.5, { dtype: "f64" });
    assert.equal(nx.index(s).item(), 3.5);
    assert.deepEqual(nx.index(s, nx.newAxis).toArraySync(), [3.5]);
    assert.deepEqual(nx.index(s, "...").shape, []);
    const e = nx.zeros([0, 3]);
    assert.deepEqual(e.index(":", 1).shape, [0]);
    assert.deepEqual(e.index("::-1", nx.range(1)).shape, [0, 2]);
    const x = nx.arange(6).reshape([2, 3]);
    assert.throws(() => x.index(2), /index 2 is out of bounds for axis 0 with size 2/);
    assert.throws(() => x.index(0, 0, 0), /too many indices/);
    assert.throws(() => x.index("::0"), /step cannot be zero/);
    assert.throws(() => x.index(nx.tensor([0.5])), /must be integers, got f32\[1\]/);
    assert.throws(() => x.index("...", "..."), /single ellipsis/);
    assert.throws(() => x.index([0, 5]), /index 5 is out of bounds/);
    assert.throws(() => x.index([0, 1], [[0, 1, 2]]), /cannot be broadcast together/);
  });
});

describe("index updates vs NumPy", () => {
  const setExpr = (idx: string, v = "v"): string =>
    `(lambda y: (y.__setitem__(np.s_[${idx}], ${v}), y)[1])(x.copy())`;
  const addExpr = (idx: string, v = "v"): string =>
    `(lambda y: (np.add.at(y, np.s_[${idx}], ${v}), y)[1])(x.copy())`;

  it("at().set and at().add on every dtype: ranges, negative steps, arrays with repeats, masks, broadcast values", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor]> = [];
    for (const dtype of DTYPES) {
      const x = sample([4, 5], dtype);
      const v = sample([2, 1], dtype);
      const row = sample([5], dtype);
      const list: Array<[nx.Index[], string, nx.Tensor, string]> = [
        [["1:3", "::-2"], "1:3, ::-2", v, "v"],
        [[0], "0", row, "v"],
        [[[3, 0], nx.range(undefined, undefined, -2)], "[3, 0], ::-2", v, "v"],
        [[[1, 1, 2]], "[1, 1, 2]", row, "v"], // repeated rows: set keeps the last, add accumulates
        // whole rows (one ScatterND): negative and repeated rows, a 2-D index array, "..." after it
        [[[-1, 0, 3]], "[-1, 0, 3]", row, "v"],
        [
          [
            [
              [0, 2],
              [2, -4],
            ],
            "...",
          ],
          "[[0, 2], [2, -4]], ...",
          row,
          "v",
        ],
        [["...", -1], "..., -1", nx.tensor(1, { dtype }), "v"],
        [[nx.greater(x, 8)], "x > 8", nx.tensor(0, { dtype }), "v"],
      ];
      for (const [specs, np, val, vname] of list) {
        cases.push({ expr: setExpr(np, vname), args: { x, v: val } });
        got.push([`${dtype} x[${np}] = v`, x.at(...specs).set(val)]);
        if (dtype !== "bool") {
          cases.push({ expr: addExpr(np, vname), args: { x, v: val } });
          got.push([`${dtype} np.add.at(x, (${np}), v)`, x.at(...specs).add(val)]);
        }
      }
    }
    const ref = numpy(cases);
    got.forEach(([what, t], i) => assertLikeNumpy(t, ref[i]!, 0, what));
  });

  it("set with repeated positions keeps the last value; the original tensor is unchanged", () => {
    const x = nx.zeros([4]);
    const y = x.at([1, 1, 3, 1]).set([5, 6, 7, 8]);
    assert.deepEqual(y.toArraySync(), [0, 8, 0, 7]);
    assert.deepEqual(x.toArraySync(), [0, 0, 0, 0]);
    assert.deepEqual(x.at([1, 1, 3, 1]).add(1).toArraySync(), [0, 3, 0, 1]);
    assert.deepEqual(nx.indexSet(x, [nx.range(1)], 2).toArraySync(), [0, 2, 2, 2]);
    assert.deepEqual(x.at(nx.greater(x, 1)).set(9).toArraySync(), [0, 0, 0, 0]); // empty selection
  });

  it("putSlice (Nx.put_slice, start clamped), indexedPut and indexedAdd (Nx forms) vs NumPy", () => {
    const x = sample([4, 5], "i32");
    const u = nx.tensor(
      [
        [100, 101],
        [102, 103],
      ],
      { dtype: "i32" },
    );
    const idx = nx.tensor(
      [
        [0, 1],
        [3, 4],
        [0, 1],
      ],
      { dtype: "i32" },
    );
    const upd = nx.tensor([10, 20, 30], { dtype: "i32" });
    const [ps, psClamp, ip, ia] = numpy([
      { expr: setExpr("slice(1, 3), slice(2, 4)", "u"), args: { x, u } },
      { expr: setExpr("slice(2, 4), slice(3, 5)", "u"), args: { x, u } },
      {
        expr: setExpr("idx[:, 0], idx[:, 1]", "np.array([10, 20, 30])[[2, 1, 2]]"),
        args: { x, idx },
      },
      { expr: addExpr("idx[:, 0], idx[:, 1]", "u2"), args: { x, idx, u2: upd } },
    ]);
    assertLikeNumpy(nx.putSlice(x, [1, 2], u), ps!, 0, "putSlice");
    assertLikeNumpy(nx.putSlice(x, [3, 10], u), psClamp!, 0, "putSlice clamps the start");
    assertLikeNumpy(nx.indexedPut(x, idx, upd), ip!, 0, "indexedPut (last repeat wins)");
    assertLikeNumpy(nx.indexedAdd(x, idx, upd), ia!, 0, "indexedAdd");
    const [aw, aw0] = numpy([
      { expr: "np.argwhere(x > 15)", args: { x } },
      { expr: "np.argwhere(x > 1000)", args: { x } },
    ]);
    assertLikeNumpy(nx.argwhere(nx.greater(x, 15)), aw!, 0, "argwhere");
    assertLikeNumpy(nx.argwhere(nx.greater(x, 1000)), aw0!, 0, "argwhere (none)");
  });
});

describe("indexing gradients (f64, central differences)", () => {
  const r = rng(12);
  const x = rand([4, 5], r);
  it("get: ranges with steps (negative too), new axes, integer arrays (repeats sum), masks", () => {
    check("x[1:, ::-2]", (a) => nx.index(a, "1:", "::-2"), [x]);
    check("x[::3, 4:0:-3]", (a) => nx.index(a, "::3", "4:0:-3"), [x]);
    check("x[None, -1]", (a) => nx.index(a, nx.newAxis, -1), [x]);
    check("x[[0, 0, 3], ::2]", (a) => nx.index(a, [0, 0, 3], "::2"), [x]);
    check("x[[0, 2], [1, 1]]", (a) => nx.index(a, [0, 2], [1, 1]), [x]);
    const m = nx.greater(x, 0);
    check("x[x > 0]", (a) => nx.index(a, m), [x]);
    check("reverse", (a) => nx.reverse(a), [x]);
  });
  it("updates: set (overwritten positions get none), add, putSlice — for x and the values", () => {
    const v = rand([2, 1], r);
    check("x.at[1:3, ::-2].set(v)", (a, b) => a.at("1:3", "::-2").set(b), [x, v]);
    check("x.at[[1, 1], 0:2].add(v)", (a, b) => a.at([1, 1], "0:2").add(b), [x, rand([2, 2], r)]);
    check("x.at[[3, 0, 3]].set(row)", (a, b) => a.at([3, 0, 3]).set(b), [x, rand([5], r)]);
    check("x.at[[3, -1, 0]].add(rows)", (a, b) => a.at([3, -1, 0]).add(b), [x, rand([3, 5], r)]);
    check("x.at[[1, 1]].add(row)", (a, b) => a.at([1, 1]).add(b), [x, rand([5], r)]);
    check("putSlice", (a, b) => nx.putSlice(a, [1, 2], b), [x, rand([2, 3], r)]);
    check(
      "indexedAdd",
      (a, b) =>
        nx.indexedAdd(
          a,
          [
            [0, 1],
            [0, 1],
            [2, 2],
          ],
          b,
        ),
      [x, rand([3], r)],
    );
  });
});

describe("indexing under jit", () => {
  it("a jitted chain of slicing, array indexing and updates matches eager and runs as one graph", () => {
    const f = (a: nx.Tensor, i: nx.Tensor): nx.Tensor =>
      a.index("::-1", nx.newAxis, "1:").index(i).at(0, 0).add(1).sum({ axis: 1 });
    const jf = nx.jit(f);
    const a = nx.random.normal([5, 4], { seed: 1 });
    const i = nx.tensor([3, 0, 3], { dtype: "i32" });
    jf(a, i); // compiles (index positions of the update are computed while tracing)
    const before = nx.runtimeStats.runs;
    const got = jf(a, i);
    assert.equal(nx.runtimeStats.runs - before, 1, "one session run");
    assert.deepEqual(got.toArraySync(), f(a, i).toArraySync());
    // index arrays that are arguments (traced) in gets and updates
    const upd = nx.jit((t: nx.Tensor, k: nx.Tensor, v: nx.Tensor) =>
      t.at(":", k).add(v).at(k).set(0),
    );
    const k = nx.tensor([2, 0, 2], { dtype: "i32" });
    const vals = nx.ones([5, 3]);
    assert.deepEqual(
      upd(a, k, vals).toArraySync(),
      a.at(":", k).add(vals).at(k).set(0).toArraySync(),
    );
    const g = nx.grad((t: nx.Tensor, kk: nx.Tensor) => nx.sum(nx.square(t.at(kk).set(1))), 0)(a, k);
    const expected = nx.multiply(a, 2).at(k).set(0);
    assert.ok(nx.allClose(g, expected), "gradient of set with traced indices");
    // whole-row updates with a constant index (one ScatterND) inside jit, checked against plain JS
    const rows = nx.jit((t: nx.Tensor) => t.at([3, -1, 3]).add(1).at([0, 0]).set(7));
    const want = a.toArraySync() as number[][];
    want.forEach((row, ri) =>
      row.forEach((_, c) => {
        row[c] = ri === 0 ? 7 : row[c]! + (ri === 3 ? 2 : ri === 4 ? 1 : 0);
      }),
    );
    const gotRows = rows(a).toArraySync() as number[][];
    gotRows.forEach((row, ri) =>
      row.forEach((val, c) => assert.ok(Math.abs(val - want[ri]![c]!) < 1e-6, `rows [${ri},${c}]`)),
    );
    assert.throws(
      () => nx.jit((t: nx.Tensor) => t.index(nx.greater(t, 0)))(a),
      /boolean mask's result size depends on its values/,
    );
  });
});
