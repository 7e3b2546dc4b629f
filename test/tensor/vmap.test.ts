// vmap: mapping over a leading (or any) axis of tensors and trees, with inAxes/outAxes, against
// the stack of per-element calls; composed with jit (one graph) and grad (per-example gradients
// against central differences in f64).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

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
