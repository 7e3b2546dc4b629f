// nx.linalg's host decompositions (tensor/decomp.ts): svd, svdvals, qr, qrR, eigh, eigvalsh on
// the real-valued cases of NumPy's own numpy/linalg/tests/test_linalg.py (square, non-square,
// hermitian, 0-size, 1×n and n×1, and their "_tile3"/"_tile213" batched versions), plus
// rank-deficient and 1×1 matrices, in f32 and f64. Singular values, eigenvalues, |R| and every
// result shape are compared with NumPy (python3-numpy); since signs of vectors may differ, the
// vectors are checked by reconstruction (U·diag(S)·Vh ≈ A, Q·R ≈ A, A·V ≈ V·diag(w)) and
// orthogonality, computed here in plain f64 JS.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { type NumpyCase, assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

interface Case {
  name: string;
  data: number[];
  shape: number[];
}

const r = rng(1234);
const rand = (shape: number[]): Case => ({
  name: `${shape.join("x")}`,
  shape,
  data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r()),
});
const tile3 = (c: Case): Case => ({
  name: `${c.name}_tile3`,
  shape: [3, ...c.shape],
  data: [1, 2, 3].flatMap((k) => c.data.map((v) => k * v)),
});
const tile213 = (c: Case): Case => ({
  name: `${c.name}_tile213`,
  shape: [3, 2, ...c.shape],
  data: Array.from({ length: 6 }, () => c.data).flat(),
});

// test_linalg.py's real cases: "single"/"double", "0x0", "8x8" (random), "1x1",
// "nonarray"; the non-square "single_nsq_1", "single_nsq_2", "8x11", "1x5", "5x1", "0x4", "4x0"
const SQUARE: Case[] = [
  { name: "double", shape: [2, 2], data: [1, 2, 3, 4] },
  { name: "0x0", shape: [0, 0], data: [] },
  rand([8, 8]),
  rand([1, 1]),
  { name: "rank1_3x3", shape: [3, 3], data: [1, 2, 3, 2, 4, 6, 3, 6, 9] },
  { name: "zeros_2x2", shape: [2, 2], data: [0, 0, 0, 0] },
];
const NONSQUARE: Case[] = [
  { name: "nsq_1", shape: [2, 3], data: [1, 2, 3, 3, 4, 6] },
  { name: "nsq_2", shape: [3, 2], data: [1, 2, 3, 4, 5, 6] },
  rand([8, 11]),
  rand([1, 5]),
  rand([5, 1]),
  { name: "0x4", shape: [0, 4], data: [] },
  { name: "4x0", shape: [4, 0], data: [] },
  // rank 2 of a 5×4 (two equal columns, one sum of two)
  {
    name: "rank2_5x4",
    shape: [5, 4],
    data: [1, 1, 2, 3, 2, 2, 1, 3, 0, 0, 1, 1, 3, 3, 0, 3, 1, 1, 5, 6],
  },
];
// hermitian: "hsingle"/"hdouble", "hempty", "hmatrix_1x1", and a random symmetric 6×6
const sym6 = ((): Case => {
  const b = rand([6, 6]).data;
  const s = Array.from({ length: 36 }, (_, k) => b[k]! + b[(k % 6) * 6 + Math.floor(k / 6)]!);
  return { name: "sym6", shape: [6, 6], data: s };
})();
const HERMITIAN: Case[] = [
  { name: "hdouble", shape: [2, 2], data: [1, 2, 2, 1] },
  { name: "hempty", shape: [0, 0], data: [] },
  { name: "h1x1", shape: [1, 1], data: [r()] },
  sym6,
  { name: "hrepeated", shape: [3, 3], data: [2, 0, 0, 0, 2, 0, 0, 0, 1] },
];
const withBatches = (cs: Case[]): Case[] => [...cs, ...cs.flatMap((c) => [tile3(c), tile213(c)])];
const GENERAL = withBatches([...SQUARE, ...NONSQUARE]);
const SYMMETRIC = withBatches(HERMITIAN);

// --- plain f64 checks --------------------------------------------------------------------------
const f64 = (t: nx.Tensor): number[] => Array.from(t.dataSync() as Float64Array, Number);

/** The matrices of a [..., m, n] array, each as rows. */
function mats(data: number[], shape: readonly number[]): number[][][] {
  const m = shape[shape.length - 2]!;
  const n = shape[shape.length - 1]!;
  const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: m }, (_, i) => data.slice(b * m * n + i * n, b * m * n + (i + 1) * n)),
  );
}
const mm = (a: number[][], b: number[][], inner: number): number[][] =>
  a.map((row) =>
    (b[0] ?? []).map((_, j) => row.slice(0, inner).reduce((s, v, k) => s + v * b[k]![j]!, 0)),
  );
const tr = (a: number[][], cols: number): number[][] =>
  Array.from({ length: cols }, (_, j) => a.map((row) => row[j]!));
function assertClose(got: number[][], want: number[][], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: rows`);
  got.forEach((row, i) =>
    row.forEach((v, j) =>
      assert.ok(
        Math.abs(v - want[i]![j]!) <= tol,
        `${what}: [${i},${j}] got ${v}, want ${want[i]![j]} (tol ${tol})`,
      ),
    ),
  );
}
const eye = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const scale = (c: Case): number => Math.max(1, ...c.data.map(Math.abs));

for (const dtype of ["f64", "f32"] as const) {
  const tol = dtype === "f64" ? 1e-11 : 2e-5;
  describe(`nx.linalg decompositions on NumPy's test_linalg cases (${dtype})`, () => {
    it("svd: S and all shapes like NumPy, U·diag(S)·Vh ≈ A, U and Vh orthonormal (full and reduced)", () => {
      const cases: NumpyCase[] = [];
      const got: Array<() => void> = [];
      for (const c of GENERAL) {
        const a = nx.tensor(c.data, { dtype, shape: c.shape });
        const m = c.shape[c.shape.length - 2]!;
        const n = c.shape[c.shape.length - 1]!;
        const k = Math.min(m, n);
        for (const full of [true, false]) {
          const { U, S, Vh } = nx.linalg.svd(a, { fullMatrices: full });
          const base = cases.length;
          const py = full ? "True" : "False";
          cases.push(
            { expr: `np.linalg.svd(a, full_matrices=${py})[0]`, args: { a } },
            { expr: `np.linalg.svd(a, full_matrices=${py})[1]`, args: { a } },
            { expr: `np.linalg.svd(a, full_matrices=${py})[2]`, args: { a } },
          );
          got.push(() => {
            const what = `${c.name} svd full=${full}`;
            assert.equal(U.dtype, dtype);
            assert.equal(S.dtype, dtype);
            assert.deepEqual(U.shape, ref[base]!.shape, `${what}: U shape`);
            assertLikeNumpy(S, ref[base + 1]!, tol * scale(c) * 10, `${what}: S`);
            assert.deepEqual(Vh.shape, ref[base + 2]!.shape, `${what}: Vh shape`);
            const us = mats(f64(U), U.shape);
            const vs = mats(f64(Vh), Vh.shape);
            const s = f64(S);
            const as = mats(c.data, c.shape);
            as.forEach((A, b) => {
              const us1 = us[b]!.map((row) => row.map((v, j) => (j < k ? v * s[b * k + j]! : 0)));
              assertClose(mm(us1, vs[b]!, k), A, tol * scale(c) * 10, `${what}: U·S·Vh`);
              const uc = U.shape[U.shape.length - 1]!;
              assertClose(mm(tr(us[b]!, uc), us[b]!, m), eye(uc), tol * 10, `${what}: UᵀU`);
              const vr = Vh.shape[Vh.shape.length - 2]!;
              assertClose(mm(vs[b]!, tr(vs[b]!, n), n), eye(vr), tol * 10, `${what}: Vh·Vhᵀ`);
            });
          });
        }
        cases.push({ expr: "np.linalg.svd(a, compute_uv=False)", args: { a } });
        const base = cases.length - 1;
        const sv = nx.linalg.svdvals(a);
        got.push(() => assertLikeNumpy(sv, ref[base]!, tol * scale(c) * 10, `${c.name} svdvals`));
      }
      const ref = numpy(cases);
      for (const g of got) g();
    });

    it("qr: R (up to row signs) and shapes like NumPy, Q·R ≈ A, Q orthonormal, R upper (reduced, complete, r)", () => {
      const cases: NumpyCase[] = [];
      const got: Array<() => void> = [];
      for (const c of GENERAL) {
        const a = nx.tensor(c.data, { dtype, shape: c.shape });
        const m = c.shape[c.shape.length - 2]!;
        const n = c.shape[c.shape.length - 1]!;
        for (const mode of ["reduced", "complete"] as const) {
          const { Q, R } = nx.linalg.qr(a, { mode });
          const base = cases.length;
          cases.push(
            { expr: `np.linalg.qr(a, mode="${mode}")[0]`, args: { a } },
            { expr: `np.abs(np.linalg.qr(a, mode="${mode}")[1])`, args: { a } },
          );
          got.push(() => {
            const what = `${c.name} qr ${mode}`;
            assert.equal(Q.dtype, dtype);
            assert.deepEqual(Q.shape, ref[base]!.shape, `${what}: Q shape`);
            // R is unique up to row signs when A has full column rank (all but the rank-deficient cases)
            if (!/rank|zeros/.test(c.name))
              assertLikeNumpy(nx.abs(R), ref[base + 1]!, tol * scale(c) * 10, `${what}: |R|`);
            else assert.deepEqual(R.shape, ref[base + 1]!.shape, `${what}: R shape`);
            const qs = mats(f64(Q), Q.shape);
            const rs = mats(f64(R), R.shape);
            const qc = Q.shape[Q.shape.length - 1]!;
            mats(c.data, c.shape).forEach((A, b) => {
              assertClose(mm(qs[b]!, rs[b]!, qc), A, tol * scale(c) * 10, `${what}: Q·R`);
              assertClose(mm(tr(qs[b]!, qc), qs[b]!, m), eye(qc), tol * 10, `${what}: QᵀQ`);
              rs[b]!.forEach((row, i) =>
                row.forEach((v, j) => j < i && assert.equal(v, 0, `${what}: R[${i},${j}]`)),
              );
            });
          });
        }
        const rOnly = nx.linalg.qrR(a);
        cases.push({ expr: `np.abs(np.linalg.qr(a, mode="r"))`, args: { a } });
        const base = cases.length - 1;
        got.push(() =>
          /rank|zeros/.test(c.name)
            ? assert.deepEqual(rOnly.shape, ref[base]!.shape)
            : assertLikeNumpy(nx.abs(rOnly), ref[base]!, tol * scale(c) * 10, `${c.name} qrR`),
        );
        void n;
      }
      const ref = numpy(cases);
      for (const g of got) g();
    });

    it("eigh: eigenvalues ascending like NumPy's eigvalsh, A·V ≈ V·diag(w), V orthonormal; UPLO", () => {
      const cases: NumpyCase[] = [];
      const got: Array<() => void> = [];
      for (const c of SYMMETRIC) {
        const a = nx.tensor(c.data, { dtype, shape: c.shape });
        const n = c.shape[c.shape.length - 1]!;
        const { eigenvalues: w, eigenvectors: V } = nx.linalg.eigh(a);
        cases.push({ expr: "np.linalg.eigvalsh(a)", args: { a } });
        cases.push({ expr: "np.linalg.eigh(a)[1]", args: { a } });
        const base = cases.length - 2;
        got.push(() => {
          const what = `${c.name} eigh`;
          assert.equal(w.dtype, dtype);
          assertLikeNumpy(w, ref[base]!, tol * scale(c) * 10, `${what}: eigenvalues`);
          assertLikeNumpy(
            nx.linalg.eigvalsh(a),
            ref[base]!,
            tol * scale(c) * 10,
            `${what}: eigvalsh`,
          );
          assert.deepEqual(V.shape, ref[base + 1]!.shape, `${what}: V shape`);
          const vs = mats(f64(V), V.shape);
          const ws = f64(w);
          mats(c.data, c.shape).forEach((A, b) => {
            const vw = vs[b]!.map((row) => row.map((v, j) => v * ws[b * n + j]!));
            assertClose(mm(A, vs[b]!, n), vw, tol * scale(c) * 10, `${what}: A·V`);
            assertClose(mm(tr(vs[b]!, n), vs[b]!, n), eye(n), tol * 10, `${what}: VᵀV`);
          });
        });
      }
      // only one triangle is read: garbage in the other one is ignored, as NumPy's UPLO
      const lowerOnly = nx.tensor(
        [
          [2, 99],
          [1, 3],
        ],
        { dtype },
      );
      const upperOnly = nx.tensor(
        [
          [2, 1],
          [-99, 3],
        ],
        { dtype },
      );
      cases.push({ expr: "np.linalg.eigvalsh(a)", args: { a: lowerOnly } });
      cases.push({ expr: 'np.linalg.eigvalsh(a, UPLO="U")', args: { a: upperOnly } });
      const ref = numpy(cases);
      for (const g of got) g();
      assertLikeNumpy(nx.linalg.eigh(lowerOnly).eigenvalues, ref[ref.length - 2]!, tol, "UPLO=L");
      assertLikeNumpy(
        nx.linalg.eigh(upperOnly, { UPLO: "U" }).eigenvalues,
        ref[ref.length - 1]!,
        tol,
        "UPLO=U",
      );
    });
  });
}

describe("built on the decompositions: pinv, matrixRank, cholesky, spectral and nuclear norms", () => {
  it("match NumPy on the test_linalg cases (f64), including rank-deficient and batched ones", () => {
    const cases: NumpyCase[] = [];
    const got: Array<[string, nx.Tensor, number]> = [];
    for (const c of GENERAL) {
      const a = nx.tensor(c.data, { dtype: "f64", shape: c.shape });
      const tol = 1e-9 * scale(c) ** 2;
      cases.push({ expr: "np.linalg.pinv(a)", args: { a } });
      got.push([`${c.name} pinv`, nx.linalg.pinv(a), tol]);
      if (c.shape.every((d) => d > 0)) {
        cases.push({ expr: "np.linalg.matrix_rank(a)", args: { a } });
        got.push([`${c.name} matrix_rank`, nx.linalg.matrixRank(a), 0]);
        for (const [ord, np] of [
          [2, "2"],
          [-2, "-2"],
          ["nuc", '"nuc"'],
        ] as const) {
          cases.push({ expr: `np.linalg.norm(a, ord=${np}, axis=(-2, -1))`, args: { a } });
          got.push([`${c.name} norm ord=${np}`, nx.linalg.norm(a, { ord, axis: [-2, -1] }), tol]);
        }
        // the matrix axes need not be the last two
        cases.push({ expr: "np.linalg.norm(a, ord=2, axis=(-1, -2), keepdims=True)", args: { a } });
        got.push([
          `${c.name} norm ord=2 axis=(-1,-2)`,
          nx.norm(a, { ord: 2, axis: [-1, -2], keepDims: true }),
          tol,
        ]);
      }
    }
    // Cholesky of symmetric positive-definite matrices: A·Aᵀ + n·I of the cases, and NumPy's own
    // test matrix [[1, 2], [2, 5]]... made SPD: L is unique, so compared directly
    for (const c of [...SQUARE, tile3(SQUARE[2]!)]) {
      const a0 = nx.tensor(c.data, { dtype: "f64", shape: c.shape });
      const n = c.shape[c.shape.length - 1]!;
      const spd = nx.add(
        nx.matmul(a0, nx.swapAxes(a0, -1, -2)),
        nx.multiply(nx.eye(n, { dtype: "f64" }), n),
      );
      cases.push({ expr: "np.linalg.cholesky(a)", args: { a: spd } });
      got.push([`${c.name} cholesky`, nx.linalg.cholesky(spd), 1e-10 * scale(c) ** 2]);
      cases.push({ expr: "np.linalg.cholesky(a).swapaxes(-1, -2)", args: { a: spd } });
      got.push([
        `${c.name} cholesky upper`,
        nx.linalg.cholesky(spd, { upper: true }),
        1e-10 * scale(c) ** 2,
      ]);
    }
    const ref = numpy(cases);
    got.forEach(([what, t, tol], i) => assertLikeNumpy(t, ref[i]!, tol, what));
    assert.throws(
      () =>
        nx.linalg.cholesky(
          nx.tensor(
            [
              [1, 2],
              [2, 1],
            ],
            { dtype: "f64" },
          ),
        ),
      /cholesky: the matrix is not positive definite/,
    );
    assert.equal(
      nx.linalg.matrixRank(
        nx.tensor([
          [1, 2],
          [2, 4],
        ]),
      ).dtype,
      "i64",
    );
    // an empty matrix has rank 0 (NumPy raises: no maximum of zero singular values)
    assert.deepEqual(
      nx.linalg.matrixRank(nx.zeros([3, 0, 4])).dataSync(),
      BigInt64Array.of(0n, 0n, 0n),
    );
    assert.throws(
      () => nx.jit((x: nx.Tensor) => nx.norm(x, { ord: "nuc", axis: [0, 1] }))(nx.eye(2)),
      /norm: matrix ord nuc needs singular values, computed eagerly on the host: not inside jit or grad/,
    );
  });
});

describe("nx.linalg decompositions: errors, jit/grad refusal, NumPy's other names", () => {
  it("refuses wrong rank, non-float, non-square eigh, NaN, bad qr mode", () => {
    assert.throws(
      () => nx.linalg.svd(nx.tensor([1, 2, 3])),
      /svd expects a tensor of rank >= 2, got shape \[3\]/,
    );
    assert.throws(
      () => nx.linalg.qr(nx.tensor(5)),
      /qr expects a tensor of rank >= 2, got shape \[\]/,
    );
    assert.throws(
      () => nx.linalg.svd(nx.tensor([[1, 2]], { dtype: "i32" })),
      /svd expects a float tensor \(f32 or f64\), got i32/,
    );
    assert.throws(
      () => nx.linalg.eigh(nx.zeros([2, 3])),
      /eigh expects square matrices in the last two axes, got shape \[2, 3\]/,
    );
    assert.throws(
      () => nx.linalg.svd(nx.tensor([[1, NaN]])),
      /svd: the input has NaN or infinite values/,
    );
    assert.throws(
      // @ts-expect-error: an unknown mode
      () => nx.linalg.qr(nx.eye(2), { mode: "full" }),
      /qr: mode must be "reduced" or "complete"/,
    );
  });

  it("refuses inside jit and grad with a clear message", () => {
    const viaJit = nx.jit((x: nx.Tensor) => nx.linalg.svdvals(x));
    assert.throws(
      () => viaJit(nx.eye(3)),
      /svdvals runs eagerly on the host and has no gradient rule: it cannot be used inside jit or grad/,
    );
    const viaGrad = nx.grad((x: nx.Tensor) => nx.linalg.eigh(x).eigenvalues.sum());
    assert.throws(
      () => viaGrad(nx.eye(3, { dtype: "f64" })),
      /eigh runs eagerly on the host .* inside jit or grad/,
    );
  });

  it("norm, det, inv, solve under nx.linalg are the tensor ops", () => {
    const a = nx.tensor(
      [
        [4, 1],
        [2, 3],
      ],
      { dtype: "f64" },
    );
    assert.equal(nx.linalg.det(a).item(), nx.det(a).item());
    assert.deepEqual(nx.linalg.inv(a).dataSync(), nx.inverse(a).dataSync());
    assert.equal(nx.linalg.norm(a).item(), nx.norm(a).item());
    assert.deepEqual(nx.linalg.solve(a, nx.tensor([1, 2], { dtype: "f64" })).shape, [2]);
  });
});
