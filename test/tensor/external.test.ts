// tsnb/nx against NumPy code from outside this repository:
//  - the code cells of the Python Data Science Handbook's "Fancy Indexing" notebook (jakevdp,
//    test/fixtures/numpy-notebooks/), each ported to nx and checked against the output the
//    notebook recorded;
//  - cases of NumPy's own einsum tests (numpy/_core/tests/test_einsum.py, test_einsum_misc),
//    with the values NumPy asserts;
//  - scikit-fem's einsum helpers (skfem/helpers.py: dot, ddot, transpose, mul, trace over
//    trailing batch axes "..."), ported and compared with NumPy running the same expressions.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { rand } from "./gradcheck.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

interface Cell {
  execution_count: number;
  source: string[];
  output: string;
}

const fixture = JSON.parse(
  readFileSync(
    new URL("../fixtures/numpy-notebooks/pdsh-02.07-fancy-indexing.json", import.meta.url),
    "utf8",
  ),
) as { cells: Cell[] };

/** NumPy's printed form (`array([[ 2,  1], …])`, `[ 0. 89  3]`, `[71, 86]`) as nested numbers. */
function parsePrinted(text: string): unknown {
  const body = text.replace(/^array\(/, "").replace(/\)$/, "");
  const json = body
    .replace(/(\d)\.(?!\d)/g, "$1.0")
    .replace(/([\d.])\s*,?\s+(?=[-\d])/g, "$1, ")
    .replace(/\]\s*,?\s*\[/g, "], [");
  return JSON.parse(json);
}

function expectPrinted(t: nx.Tensor | number[], cell: number): void {
  const c = fixture.cells.find((x) => x.execution_count === cell)!;
  const got = t instanceof nx.Tensor ? t.toArraySync() : t;
  assert.deepEqual(got, parsePrinted(c.output), `cell ${cell}: ${c.source.join(" / ")}`);
}

describe("Python Data Science Handbook, 02.07 Fancy Indexing, ported to nx", () => {
  it("reading: index arrays, their shapes, several arrays broadcast, combined with integers, slices and masks", () => {
    // cell 1 draws x with NumPy's RandomState(42); the port starts from the values it printed
    const x = nx.tensor(parsePrinted(fixture.cells[0]!.output) as number[], { dtype: "i64" });
    expectPrinted(
      [3, 7, 2].map((i) => x.index(i).item() as number),
      2,
    );
    expectPrinted(x.index([3, 7, 4]), 3);
    expectPrinted(
      x.index(
        nx.tensor(
          [
            [3, 7],
            [4, 5],
          ],
          { dtype: "i32" },
        ),
      ),
      4,
    );
    const X = nx.reshape(nx.arange(12), [3, 4]);
    expectPrinted(X, 5);
    const row = nx.tensor([0, 1, 2], { dtype: "i32" });
    const col = nx.tensor([2, 1, 3], { dtype: "i32" });
    expectPrinted(X.index(row, col), 6);
    expectPrinted(X.index(row.index(":", nx.newAxis), col), 7);
    expectPrinted(nx.multiply(row.index(":", nx.newAxis), col), 8);
    expectPrinted(X.index(2, [2, 0, 1]), 10);
    expectPrinted(X.index("1:", [2, 0, 1]), 11);
    const mask = nx.tensor([true, false, true, false]);
    expectPrinted(X.index(row.index(":", nx.newAxis), mask), 12);
  });

  it("modifying: assignment through index arrays, repeated indices (last wins / no accumulation), np.add.at", () => {
    let x = nx.arange(10);
    const i = nx.tensor([2, 1, 8, 4], { dtype: "i32" });
    x = x.at(i).set(99);
    expectPrinted(x, 18);
    // x[i] -= 10 is x[i] = x[i] - 10
    x = x.at(i).set(nx.subtract(x.index(i), 10));
    expectPrinted(x, 19);
    let z = nx.zeros([10], { dtype: "f64" });
    z = z.at([0, 0]).set([4, 6]);
    expectPrinted(z, 20);
    // x[i] += 1 with repeats: buffered, each position gets one increment
    const rep = [2, 3, 3, 4, 4, 4];
    z = z.at(rep).set(nx.add(z.index(rep), 1));
    expectPrinted(z, 21);
    // np.add.at accumulates repeats
    expectPrinted(nx.zeros([10], { dtype: "f64" }).at(rep).add(1), 22);
  });
});

describe("Python Data Science Handbook, 02.07: binning data by hand", () => {
  it("searchsorted + add.at (the notebook's hand-made histogram) and histogram match NumPy on the same data", () => {
    // cell 23's recipe: bins = linspace(-5, 5, 20); i = searchsorted(bins, x); add.at(counts, i, 1)
    const x = nx.random.normal([100], { seed: 42, dtype: "f64" });
    const bins = nx.linspace(-5, 5, 20, { dtype: "f64" });
    const i = nx.searchsorted(bins, x);
    const counts = nx.zerosLike(bins).at(i).add(1);
    const [ri, rc, rr, rh] = numpy([
      { expr: "np.searchsorted(bins, x)", args: { bins, x } },
      {
        expr: "(lambda c: (np.add.at(c, np.searchsorted(bins, x), 1), c)[1])(np.zeros_like(bins))",
        args: { bins, x },
      },
      { expr: "np.searchsorted(bins, x, side='right')", args: { bins, x } },
      { expr: "np.histogram(x, bins)[0]", args: { bins, x } },
    ]);
    assertLikeNumpy(i, ri!, 0, "searchsorted");
    assertLikeNumpy(counts, rc!, 0, "counts by hand");
    assertLikeNumpy(nx.searchsorted(bins, x, { side: "right" }), rr!, 0, "side right");
    // np.histogram with explicit edges: nx.histogram takes equal bins over a range
    assertLikeNumpy(nx.histogram(x, { bins: 19, range: [-5, 5] }).counts, rh!, 0, "histogram");
  });
});

describe("NumPy's einsum tests (test_einsum_misc), ported", () => {
  it("'ij...,j...->i...', '...i,...i', a three-operand sum and 'x,yx,zx->xzy' give NumPy's asserted values", () => {
    const a = nx.ones([1, 2], { dtype: "f64" });
    const b = nx.ones([2, 2, 1], { dtype: "f64" });
    assert.deepEqual(nx.einsum("ij...,j...->i...", a, b).toArraySync(), [[[2], [2]]]);
    assert.equal(
      nx
        .einsum(
          "...i,...i",
          nx.tensor([1, 2, 3], { dtype: "i32" }),
          nx.tensor([2, 3, 4], { dtype: "i32" }),
        )
        .item(),
      20,
    );
    const a5 = nx.ones([5, 12, 4, 2, 3], { dtype: "i64" });
    const b5 = nx.ones([5, 12, 11], { dtype: "i64" });
    assert.deepEqual(
      nx.einsum("ijklm,ijn,ijn->", a5, b5, b5).item(),
      nx.einsum("ijklm,ijn->", a5, b5).item(),
    );
    const x = nx.arange(1, 3);
    const y = nx.reshape(nx.arange(1, 5), [2, 2]);
    const w = nx.reshape(nx.arange(1, 9), [4, 2]);
    assert.deepEqual(nx.einsum("x,yx,zx->xzy", x, y, w).toArraySync(), [
      [
        [1, 3],
        [3, 9],
        [5, 15],
        [7, 21],
      ],
      [
        [8, 16],
        [16, 32],
        [24, 48],
        [32, 64],
      ],
    ]);
  });
});

describe("scikit-fem's einsum helpers (skfem/helpers.py), ported", () => {
  it("dot, ddot, transpose, mul (matrix and vector), trace over trailing batch axes match NumPy", () => {
    const r = rng(2026);
    // fields at quadrature points: [dim, dim, elements, points] and [dim, elements, points]
    const A = rand([3, 3, 4, 5], r);
    const B = rand([3, 3, 4, 5], r);
    const u = rand([3, 4, 5], r);
    const v = rand([3, 4, 5], r);
    const ported: Array<[string, nx.Tensor]> = [
      ["np.einsum('i...,i...', u, v)", nx.einsum("i...,i...", u, v)],
      ["np.einsum('ij...,ij...', A, B)", nx.einsum("ij...,ij...", A, B)],
      ["np.einsum('ij...->ji...', A)", nx.einsum("ij...->ji...", A)],
      ["np.einsum('ij...,jk...->ik...', A, B)", nx.einsum("ij...,jk...->ik...", A, B)],
      ["np.einsum('ij...,j...->i...', A, u)", nx.einsum("ij...,j...->i...", A, u)],
      ["np.einsum('ii...', A)", nx.einsum("ii...", A)],
    ];
    const ref = numpy(ported.map(([expr]) => ({ expr, args: { A, B, u, v } })));
    ported.forEach(([expr, t], i) => assertLikeNumpy(t, ref[i]!, 1e-12, expr));
  });
});
