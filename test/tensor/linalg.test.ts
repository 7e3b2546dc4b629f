// Linear algebra (tensor/linalg.ts) against NumPy: einsum (explicit and implicit output, "...",
// diagonals, traces, batched products) on every numeric dtype, outer, tensordot, norms, det,
// inverse and solve; gradients against central differences in f64; einsum under jit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

function sample(shape: number[], dtype: nx.DType, seed = 1): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from(
    { length: n },
    (_, i) => ((i * 7 + seed * 3) % 9) - (dtype === "u8" || dtype === "bool" ? 0 : 4),
  );
  return nx.tensor(dtype === "bool" ? vals.map((v) => v % 2 === 0) : vals, { dtype, shape });
}

const EINSUM: Array<[string, number[][]]> = [
  [
    "ij,jk->ik",
    [
      [3, 4],
      [4, 2],
    ],
  ],
  [
    "ij,jk",
    [
      [3, 4],
      [4, 2],
    ],
  ],
  ["i,i->", [[5], [5]]],
  ["i,j->ij", [[3], [2]]],
  ["ii->i", [[4, 4]]],
  ["ii", [[4, 4]]],
  ["ij->ji", [[2, 3]]],
  ["ij->", [[2, 3]]],
  [
    "bij,bjk->bik",
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
  ],
  [
    "...ij,...jk->...ik",
    [
      [2, 1, 3, 4],
      [5, 4, 2],
    ],
  ],
  ["...i,...i", [[2, 3], [3]]],
  ["ijk,ikl,l->j", [[2, 3, 4], [2, 4, 3], [3]]],
  ["iij->j", [[3, 3, 2]]],
  [
    "ij,kl->ijkl",
    [
      [2, 2],
      [2, 1],
    ],
  ],
  ["i,ij->j", [[0], [0, 3]]],
];

describe("einsum vs NumPy", () => {
  it("products, contractions, diagonals, traces, implicit output and ... on f32, f64, i32, i64", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor]> = [];
    for (const dtype of ["f32", "f64", "i32", "i64"] as nx.DType[]) {
      for (const [eq, shapes] of EINSUM) {
        const ops = shapes.map((s, i) => sample(s, dtype, i + 1));
        const names = ops.map((_, i) => `a${i}`);
        cases.push({
          expr: `np.einsum("${eq}", ${names.join(", ")})`,
          args: Object.fromEntries(ops.map((t, i) => [names[i]!, t])),
        });
        got.push([`${dtype} ${eq}`, nx.einsum(eq, ...ops)]);
      }
    }
    const ref = numpy(cases);
    got.forEach(([what, t], i) => assertLikeNumpy(t, ref[i]!, 1e-6, what));
    assert.throws(
      () => nx.einsum("ij,jk->ik", nx.zeros([2, 3]), nx.zeros([4, 2])),
      /index "j" has sizes 3 and 4/,
    );
    assert.throws(
      () => nx.einsum("ij->k", nx.zeros([2, 3])),
      /output index "k" is not in any operand/,
    );
    assert.equal(
      nx
        .einsum("i,i->", nx.tensor([1, 2], { dtype: "u8" }), nx.tensor([3, 4], { dtype: "u8" }))
        .item(),
      11,
    );
  });

  it("outer, tensordot, norms (vector and matrix), det, inverse, solve", () => {
    const a = sample([3, 4], "f64");
    const b = sample([4, 2], "f64", 2);
    const c = sample([2, 3, 4], "f64", 3);
    const m = nx.tensor(
      [
        [4, 1, 2],
        [1, 5, 3],
        [2, 3, 6],
      ],
      { dtype: "f64" },
    );
    const perm = nx.tensor(
      [
        [0, 2, 1],
        [3, 0, 0],
        [1, 1, 4],
      ],
      { dtype: "f64" },
    ); // needs pivoting
    const batch = nx.stack([m, perm, nx.eye(3, { dtype: "f64" })]);
    const rhs = nx.tensor([1, -2, 3], { dtype: "f64" });
    const rhs2 = sample([3, 3, 2], "f64", 4);
    const args = { a, b, c, m, perm, batch, rhs, rhs2 };
    const pairs: Array<[string, nx.Tensor, number]> = [
      ["np.outer(a, b)", nx.outer(a, b), 0],
      [
        "np.tensordot(c, a, axes=([1, 2], [0, 1]))",
        nx.tensordot(c, a, [
          [1, 2],
          [0, 1],
        ]),
        1e-12,
      ],
      ["np.tensordot(c, b, 1)", nx.tensordot(c, b, 1), 1e-12],
      ["np.tensordot(a, a, 2)", nx.tensordot(a, a), 1e-12],
      ["np.linalg.norm(c)", nx.norm(c), 1e-12],
      ["np.linalg.norm(a, axis=1)", nx.norm(a, { axis: 1 }), 1e-12],
      ["np.linalg.norm(a, ord=1, axis=0)", nx.norm(a, { ord: 1, axis: 0 }), 1e-12],
      [
        "np.linalg.norm(a, ord=np.inf, axis=1, keepdims=True)",
        nx.norm(a, { ord: Infinity, axis: 1, keepDims: true }),
        0,
      ],
      ["np.linalg.norm(a, ord=-np.inf, axis=1)", nx.norm(a, { ord: -Infinity, axis: 1 }), 0],
      ["np.linalg.norm(a, ord=0, axis=1)", nx.norm(a, { ord: 0, axis: 1 }), 0],
      ["np.linalg.norm(a, ord=3, axis=1)", nx.norm(a, { ord: 3, axis: 1 }), 1e-12],
      ["np.linalg.norm(a, 'fro')", nx.norm(a, { ord: "fro" }), 1e-12],
      ["np.linalg.norm(a, 1)", nx.norm(a, { ord: 1 }), 1e-12],
      ["np.linalg.norm(a, -1)", nx.norm(a, { ord: -1 }), 1e-12],
      ["np.linalg.norm(a, np.inf)", nx.norm(a, { ord: Infinity }), 1e-12],
      ["np.linalg.norm(c, axis=(0, 2))", nx.norm(c, { axis: [0, 2] }), 1e-12],
      [
        "np.linalg.norm(c, ord=np.inf, axis=(2, 1), keepdims=True)",
        nx.norm(c, { ord: Infinity, axis: [2, 1], keepDims: true }),
        1e-12,
      ],
      ["np.linalg.det(m)", nx.det(m), 1e-12],
      ["np.linalg.det(perm)", nx.det(perm), 1e-12],
      ["np.linalg.det(batch)", nx.det(batch), 1e-12],
      [
        "np.linalg.det(np.array([[1., 2.], [2., 4.]]))",
        nx.det(
          nx.tensor(
            [
              [1, 2],
              [2, 4],
            ],
            { dtype: "f64" },
          ),
        ),
        1e-12,
      ],
      ["np.linalg.det(m.astype(np.float32))", nx.det(nx.cast(m, "f32")), 1e-5],
      ["np.linalg.inv(m)", nx.inverse(m), 1e-12],
      ["np.linalg.inv(batch)", nx.inverse(batch), 1e-12],
      ["np.linalg.inv(perm.astype(np.float32))", nx.inverse(nx.cast(perm, "f32")), 1e-5],
      ["np.linalg.solve(m, rhs)", nx.solve(m, rhs), 1e-12],
      ["np.linalg.solve(batch, rhs2)", nx.solve(batch, rhs2), 1e-12],
      ["np.linalg.solve(perm, rhs2)", nx.solve(perm, rhs2), 1e-12],
    ];
    const ref = numpy(pairs.map(([expr]) => ({ expr, args })));
    pairs.forEach(([expr, t, tol], i) => assertLikeNumpy(t, ref[i]!, tol, expr));
    assert.throws(
      () =>
        nx.inverse(
          nx.tensor(
            [
              [1, 2],
              [2, 4],
            ],
            { dtype: "f64" },
          ),
        ),
      /inverse: the matrix is singular/,
    );
    assert.throws(() => nx.det(nx.zeros([2, 3])), /det: expected square matrices/);
    assert.equal(nx.det(nx.zeros([0, 0])).item(), 1);
  });
});

describe("linear algebra gradients (f64, central differences)", () => {
  const r = rng(5);
  it("einsum (each operand, diagonals, ...), tensordot, outer, norm, det, inverse, solve", () => {
    check("ij,jk->ik", (a, b) => nx.einsum("ij,jk->ik", a, b), [rand([2, 3], r), rand([3, 2], r)]);
    check("ii->i", (a) => nx.einsum("ii->i", a), [rand([3, 3], r)]);
    check("ij->", (a) => nx.einsum("ij->", a), [rand([2, 3], r)]);
    check("...ij,...jk", (a, b) => nx.einsum("...ij,...jk->...ik", a, b), [
      rand([2, 1, 2, 3], r),
      rand([2, 3, 2], r),
    ]);
    check("ijk,ikl,l->j", (a, b, c) => nx.einsum("ijk,ikl,l->j", a, b, c), [
      rand([2, 3, 2], r),
      rand([2, 2, 3], r),
      rand([3], r),
    ]);
    check("tensordot", (a, b) => nx.tensordot(a, b, 1), [rand([2, 3], r), rand([3, 2], r)]);
    check("outer", (a, b) => nx.outer(a, b), [rand([3], r), rand([2], r)]);
    check("norm", (a) => nx.norm(a, { axis: 1 }), [rand([2, 3], r, 0.5, 2)]);
    check("norm ord 1 matrix", (a) => nx.norm(a, { ord: 1 }), [rand([3, 3], r, 0.5, 2)]);
    const m = nx.add(rand([3, 3], r), nx.multiply(nx.eye(3, { dtype: "f64" }), 3));
    check("det", (a) => nx.det(a), [m]);
    check("det batched with pivoting", (a) => nx.det(a), [rand([2, 3, 3], r)]);
    check("inverse", (a) => nx.inverse(a), [m]);
    check("solve", (a, b) => nx.solve(a, b), [m, rand([3, 2], r)]);
  });
});

describe("einsum under jit", () => {
  it("a jitted einsum chain compiles to one graph and matches eager", () => {
    const f = (a: nx.Tensor, b: nx.Tensor): nx.Tensor =>
      nx.einsum("bij,bjk->bik", a, b).index("...", 0).sum();
    const jf = nx.jit(f);
    const a = nx.random.normal([4, 3, 5], { seed: 2 });
    const b = nx.random.normal([4, 5, 2], { seed: 3 });
    jf(a, b);
    const before = nx.runtimeStats.runs;
    const y = jf(a, b);
    assert.equal(nx.runtimeStats.runs - before, 1);
    assert.ok(Math.abs((y.item() as number) - (f(a, b).item() as number)) < 1e-4);
  });
});
