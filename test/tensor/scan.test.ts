// nx.scan (JAX's lax.scan): k steps of a body threading a carry, as one ONNX Loop; the same
// values as a JavaScript loop of the body; unrolled inside jit and grad; clear errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";

const close = (a: nx.Tensor, b: nx.Tensor, tol = 1e-6, what = "") => {
  assert.deepEqual(a.shape, b.shape, what);
  assert.equal(a.dtype, b.dtype, what);
  const err = Number(nx.max(nx.abs(nx.subtract(nx.cast(a, "f64"), nx.cast(b, "f64")))).item());
  assert.ok(err <= tol, `${what}: off by ${err}`);
};

type Carry = { h: nx.Tensor; count: nx.Tensor };
type In = { x: nx.Tensor; scale: nx.Tensor };
// an RNN-like body: a tree carry with an i64 counter, a tree of inputs, two outputs per step
const w = nx.random.normal([4, 4], { seed: 1, std: 0.5 });
function body(c: Carry, i: In): [Carry, [nx.Tensor, nx.Tensor]] {
  const h = nx.tanh(nx.add(nx.matmul(c.h, w), nx.multiply(i.x, i.scale)));
  return [{ h, count: nx.add(c.count, 1) }, [nx.sum(h), nx.multiply(h, 2)]];
}
const init: Carry = { h: nx.zeros([3, 4]), count: nx.tensor(0n, { dtype: "i64" }) };
const xs: In = { x: nx.random.normal([6, 3, 4], { seed: 2 }), scale: nx.linspace(0.5, 1.5, 6) };

function byLoop(c: Carry): [Carry, [nx.Tensor, nx.Tensor]] {
  const a: nx.Tensor[] = [];
  const b: nx.Tensor[] = [];
  for (let k = 0; k < 6; k++) {
    const [c2, [s, h2]] = body(c, {
      x: nx.take(xs.x, k, { axis: 0 }),
      scale: nx.take(xs.scale, k),
    });
    c = c2;
    a.push(s);
    b.push(h2);
  }
  return [c, [nx.stack(a), nx.stack(b)]];
}

describe("nx.scan", () => {
  it("gives what a loop of the body gives: the last carry and the ys stacked, in one compiled Loop", () => {
    const [c, [sums, hs]] = nx.scan(body, init, xs);
    const [want, [wantSums, wantHs]] = byLoop(init);
    close(c.h, want.h, 1e-6, "carry h");
    assert.equal(c.count.dtype, "i64");
    assert.equal(Number(c.count.item()), 6);
    close(sums, wantSums, 1e-5, "ys[0]");
    close(hs, wantHs, 1e-6, "ys[1]");
    assert.deepEqual(hs.shape, [6, 3, 4]);
    // compiled once per signature: a second call creates no session
    const sessions = nx.runtimeStats.sessionsCreated;
    const runs = nx.runtimeStats.runs;
    const [again] = nx.scan(body, c, xs);
    assert.equal(nx.runtimeStats.sessionsCreated, sessions);
    assert.equal(nx.runtimeStats.runs, runs + 1, "six steps, one call into ONNX Runtime");
    close(again.h, byLoop(c)[0].h, 1e-6, "from the last carry");
  });

  it("a cumulative sum and product, checked against NumPy", () => {
    const x = nx.random.uniform([5, 3], { seed: 4, min: 0.5, max: 1.5 });
    const [last, ys] = nx.scan(
      (c: [nx.Tensor, nx.Tensor], row: nx.Tensor) => {
        const next: [nx.Tensor, nx.Tensor] = [nx.add(c[0], row), nx.multiply(c[1], row)];
        return [next, next];
      },
      [nx.zeros([3]), nx.ones([3])] as [nx.Tensor, nx.Tensor],
      x,
    );
    const ref = numpy([
      { expr: "np.cumsum(x, axis=0)", args: { x } },
      { expr: "np.cumprod(x, axis=0)", args: { x } },
    ]);
    assertLikeNumpy(ys[0], ref[0]!, 1e-6, "cumsum");
    assertLikeNumpy(ys[1], ref[1]!, 1e-6, "cumprod");
    close(last[0], nx.take(ys[0], 4, { axis: 0 }));
  });

  it("inside jit and grad it unrolls: the same values, and gradients through every step", () => {
    const run = (h0: nx.Tensor) => nx.sum(nx.scan(body, { h: h0, count: init.count }, xs)[1][0]);
    const loop = (h0: nx.Tensor) => nx.sum(byLoop({ h: h0, count: init.count })[1][0]);
    const h0 = nx.random.normal([3, 4], { seed: 5 });
    close(nx.jit(run)(h0), loop(h0), 1e-5, "jit");
    close(nx.grad(run)(h0) as nx.Tensor, nx.grad(loop)(h0) as nx.Tensor, 1e-5, "grad");
    close(nx.jit(nx.grad(run))(h0) as nx.Tensor, nx.grad(loop)(h0) as nx.Tensor, 1e-5, "jit(grad)");
  });

  it("says what is wrong with its arguments and its body", () => {
    assert.throws(
      () => nx.scan(body, init, { x: xs.x, scale: nx.ones([5]) }),
      /scan: every tensor of xs needs the same leading length \(got \[6,3,4\], \[5\]\)/,
    );
    assert.throws(() => nx.scan(body, init, {} as In), /scan: xs holds no tensor/);
    assert.throws(
      () => nx.scan(body, init, { x: nx.zeros([0, 3, 4]), scale: nx.zeros([0]) }),
      /xs has length 0/,
    );
    assert.throws(
      () =>
        nx.scan(
          (c: nx.Tensor, x: nx.Tensor) => [nx.stack([c, c]), x] as const,
          nx.zeros([2]),
          nx.zeros([3, 2]),
        ),
      /scan: the body must return a carry of the structure, shapes and dtypes it was given \(f32\[2\]\), got \(f32\[2,2\]\)/,
    );
    assert.throws(
      () =>
        nx.scan(
          (c: nx.Tensor) => c as unknown as [nx.Tensor, nx.Tensor],
          nx.zeros([2]),
          nx.zeros([3, 2]),
        ),
      /scan: the body must return \[carry, y\]/,
    );
  });
});
