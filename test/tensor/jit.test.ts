// jit: tracing into one graph, caching per signature, composition, errors; eager session caching
// and flat memory over long loops of eager ops and jit calls.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";

const f32 = (x: nx.NestedArray) => nx.tensor(x, { dtype: "f32" });

describe("jit", () => {
  it("gives the same results as eager execution", () => {
    const fn = (x: nx.Tensor, w: nx.Tensor) =>
      nx.softmax(nx.add(nx.matmul(x, w), 1)).argmax({ axis: 1 });
    const x = nx.random.normal([4, 3], { seed: 1 });
    const w = nx.random.normal([3, 5], { seed: 2 });
    assert.deepEqual((nx.jit(fn)(x, w) as nx.Tensor).toArraySync(), fn(x, w).toArraySync());
    const g = (x: nx.Tensor) =>
      nx.logSumExp(
        nx.take(
          nx.pad(x, [
            [1, 1],
            [0, 0],
          ]),
          [0, 2],
        ),
        { axis: 1 },
      );
    assert.deepEqual((nx.jit(g)(x) as nx.Tensor).toArraySync(), g(x).toArraySync());
  });

  it("compiles once per argument signature and reuses the session", () => {
    let traces = 0;
    const fn = nx.jit(
      (x: nx.Tensor) => {
        traces++;
        return nx.multiply(x, 2);
      },
      { batchPolymorphic: false },
    );
    const before = nx.runtimeStats.sessionsCreated;
    fn(f32([1, 2]));
    fn(f32([3, 4]));
    assert.equal(traces, 1);
    assert.equal(nx.runtimeStats.sessionsCreated, before + 1);
    assert.deepEqual((fn(f32([1, 2, 3])) as nx.Tensor).toArraySync(), [2, 4, 6]);
    assert.equal(traces, 2, "a new shape retraces");
    fn(nx.tensor([1, 2], { dtype: "f64" }));
    assert.equal(traces, 3, "a new dtype retraces");
    fn(f32([5, 6]));
    assert.equal(traces, 3);
  });

  it("takes and returns trees; non-tensor arguments are static", () => {
    let traces = 0;
    const fn = nx.jit((p: { a: nx.Tensor; b: nx.Tensor[] }, scale: number) => {
      traces++;
      return { sum: nx.add(p.a, p.b[0]!).mul(scale), parts: [p.b[1]!, scale, "label"] };
    });
    const out = fn({ a: f32([1]), b: [f32([2]), f32([3])] }, 10) as {
      sum: nx.Tensor;
      parts: [nx.Tensor, number, string];
    };
    assert.deepEqual(out.sum.toArraySync(), [30]);
    assert.deepEqual(out.parts[0].toArraySync(), [3]);
    assert.equal(out.parts[1], 10);
    assert.equal(out.parts[2], "label");
    fn({ a: f32([1]), b: [f32([2]), f32([3])] }, 20);
    assert.equal(traces, 2, "a different static value retraces");
  });

  it("captured tensors are constants of the graph, small or large", () => {
    const small = f32([1, 2, 3]);
    const large = nx.random.uniform([1000], { seed: 4 });
    const fn = nx.jit((x: nx.Tensor) => nx.sum(nx.add(x, large)).add(nx.sum(small)));
    const x = nx.zeros([1000]);
    const expected = nx.sum(large).item() as number;
    assert.ok(Math.abs(((fn(x) as nx.Tensor).item() as number) - (expected + 6)) < 1e-2);
  });

  it("returns outputs that do not depend on the inputs, and inputs themselves", () => {
    const fn = nx.jit((x: nx.Tensor) => [x, nx.ones([2]), nx.add(x, 1)]);
    const [a, b, c] = fn(f32([5])) as nx.Tensor[];
    assert.deepEqual([a!.toArraySync(), b!.toArraySync(), c!.toArraySync()], [[5], [1, 1], [6]]);
  });

  it("serves new batch sizes from one batch-polymorphic graph once two sizes were seen", () => {
    const w = nx.random.normal([4, 3], { seed: 8 });
    const loss = (p: { w: nx.Tensor }, x: nx.Tensor, y: nx.Tensor) =>
      nx.mean(nx.square(nx.subtract(nx.softmax(nx.matmul(x, p.w)), y)));
    const step = nx.jit((p: { w: nx.Tensor }, x: nx.Tensor, y: nx.Tensor) => {
      const [l, g] = nx.valueAndGrad(loss)(p, x, y);
      return {
        loss: l,
        w: nx.subtract(p.w, g.w),
        flat: nx.reshape(x, [-1]),
        first: nx.slice(x, [0, 0], [-1, 1]),
      };
    });
    const batch = (n: number) =>
      [nx.random.normal([n, 4], { seed: n }), nx.random.uniform([n, 3], { seed: n + 1 })] as const;
    for (const n of [8, 16]) step({ w }, ...batch(n));
    const sessions = nx.runtimeStats.sessionsCreated;
    const sizes = [5, 3, 1, 40];
    const outs = sizes.map(
      (n) =>
        step({ w }, ...batch(n)) as {
          loss: nx.Tensor;
          w: nx.Tensor;
          flat: nx.Tensor;
          first: nx.Tensor;
        },
    );
    assert.equal(
      nx.runtimeStats.sessionsCreated,
      sessions,
      "no recompilation for batch sizes 5, 3, 1, 40",
    );
    sizes.forEach((n, k) => {
      const [x, y] = batch(n);
      const out = outs[k]!;
      const [l, g] = nx.valueAndGrad(loss)({ w }, x, y);
      assert.ok(
        Math.abs((out.loss.item() as number) - (l.item() as number)) < 1e-6,
        `loss at batch ${n}`,
      );
      const expectedW = nx.subtract(w, g.w).dataSync();
      out.w
        .dataSync()
        .forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(expectedW[i])) < 1e-6));
      assert.deepEqual(out.flat.shape, [n * 4]);
      assert.deepEqual(out.first.toArraySync(), nx.slice(x, [0, 0], [-1, 1]).toArraySync());
    });
  });

  it("stays static (and correct) when the function bakes in the batch size", () => {
    let traces = 0;
    const fn = nx.jit((x: nx.Tensor) => {
      traces++;
      return nx.divide(nx.sum(x), x.shape[0]!).add(nx.sum(nx.arange(x.shape[0]!)));
    });
    for (const n of [2, 3, 4, 5]) {
      const x = nx.ones([n, 2]);
      assert.equal((fn(x) as nx.Tensor).item(), 2 + (n * (n - 1)) / 2);
    }
    assert.ok(traces >= 4);
  });

  it("errors: reading values while tracing, leaking traced tensors", () => {
    assert.throws(() => nx.jit((x: nx.Tensor) => nx.tensor(x.item()))(f32([1])), {
      name: "TensorError",
      message:
        "item: the values of a traced tensor (f32[1]) are not known inside jit/grad; return it from the function instead",
    });
    let leaked: nx.Tensor | undefined;
    nx.jit((x: nx.Tensor) => {
      leaked = nx.add(x, 1);
      return leaked;
    })(f32([1]));
    assert.throws(
      () => nx.add(leaked!, 1),
      /add: a tensor traced inside jit\/grad \(f32\[1\]\) was used after the trace ended/,
    );
    assert.throws(
      () => nx.jit((x: nx.Tensor) => nx.matmul(x, x))(f32([[1, 2]])),
      /matmul: shapes \[1,2\] and \[1,2\] do not align/,
    );
    // an out-of-range traced index is only known when the graph runs: still a tsnb message, ORT's in .cause
    assert.throws(
      () =>
        nx.jit((x: nx.Tensor, i: nx.Tensor) => nx.take(x, i))(
          nx.zeros([3]),
          nx.tensor([5], { dtype: "i32" }),
        ),
      (e: Error) => {
        assert.equal(e.name, "TensorError");
        assert.equal(
          e.message,
          "jit: running the compiled graph failed for arguments (f32[3], i32[1]): index 5 is out of bounds for an axis of size 3",
        );
        assert.ok(e.cause instanceof Error);
        return true;
      },
    );
  });
});

describe("eager execution and memory", () => {
  it("reuses one session per op signature, whatever the dimensions", () => {
    nx.add(f32([1]), f32([2]));
    const before = nx.runtimeStats.sessionsCreated;
    for (let n = 1; n < 20; n++) nx.add(nx.zeros([n]), nx.ones([n]));
    assert.equal(nx.runtimeStats.sessionsCreated, before);
    // moving windows, varying pads and broadcast targets are inputs of one session, not constants
    const data = nx.arange(100).reshape([50, 2]);
    data.slice([0, 0], [10, 2]);
    nx.pad(data, [
      [1, 1],
      [0, 0],
    ]);
    nx.broadcastTo(nx.tensor([1, 2]), [3, 2]);
    const before2 = nx.runtimeStats.sessionsCreated;
    for (let i = 1; i < 40; i++) {
      assert.deepEqual(data.slice([i, 0], [10, 2]).shape, [10, 2]);
      assert.deepEqual(
        nx.pad(data, [
          [i, 0],
          [0, i % 3],
        ]).shape,
        [50 + i, 2 + (i % 3)],
      );
      assert.deepEqual(nx.broadcastTo(nx.tensor([1, 2]), [i + 3, 2]).shape, [i + 3, 2]);
    }
    assert.deepEqual(data.slice([7, 1], [2, 1]).toArraySync(), [[15], [17]]);
    assert.equal(nx.runtimeStats.sessionsCreated, before2);
  });

  it("100,000 small eager ops and 10,000 jit calls run with flat memory", () => {
    const a = f32([1, 2, 3]);
    let x = f32([0, 0, 0]);
    const step = nx.jit((v: nx.Tensor) => nx.tanh(nx.add(nx.multiply(v, 0.5), 1)));
    const run = (eager: number, jitted: number) => {
      for (let i = 0; i < eager; i++) x = nx.add(x, a);
      let y = x;
      for (let i = 0; i < jitted; i++) y = step(y) as nx.Tensor;
      return y;
    };
    run(20_000, 2_000); // warm up: sessions, JIT, allocator pools
    const rss0 = process.memoryUsage().rss;
    const sessions0 = nx.runtimeStats.sessionsCreated;
    const t0 = performance.now();
    run(100_000, 10_000);
    const ms = performance.now() - t0;
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.equal(nx.runtimeStats.sessionsCreated, sessions0, "no session was created in the loop");
    assert.ok(grown < 40, `RSS grew by ${grown.toFixed(1)} MiB`);
    assert.deepEqual(x.toArraySync(), [120000, 240000, 360000]);
    console.log(`  110,000 ops in ${ms.toFixed(0)} ms, RSS change ${grown.toFixed(1)} MiB`);
  });
});
