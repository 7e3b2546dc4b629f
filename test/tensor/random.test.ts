// random.shuffle, random.choice and random.bernoulli: reproducible with a seed, the right
// support and shapes, and frequencies within a few standard errors of the asked probabilities.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";

const sorted = (t: nx.Tensor): number[] =>
  (t.toArraySync() as number[]).slice().sort((a, b) => a - b);

describe("random", () => {
  it("shuffle permutes along an axis, reproducibly with a seed", () => {
    const x = nx.arange(12).reshape([6, 2]);
    const s = nx.random.shuffle(x, { seed: 5 });
    assert.deepEqual(s.shape, [6, 2]);
    assert.deepEqual(sorted(nx.index(s, ":", 0)), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(
      nx.index(s, ":", 1).toArraySync(),
      nx.add(nx.index(s, ":", 0), 1).toArraySync(),
      "rows stay whole",
    );
    assert.deepEqual(nx.random.shuffle(x, { seed: 5 }).toArraySync(), s.toArraySync());
    assert.notDeepEqual(
      nx.random.shuffle(nx.arange(50), { seed: 6 }).toArraySync(),
      nx.arange(50).toArraySync(),
    );
    assert.deepEqual(sorted(nx.index(nx.random.shuffle(x, { seed: 1, axis: 1 }), 0)), [0, 1]);
  });

  it("choice: from a count or a tensor, with and without replacement, with probabilities", () => {
    const c = nx.random.choice(5, [1000], { seed: 1 });
    assert.equal(c.dtype, "i32");
    assert.ok((c.toArraySync() as number[]).every((v) => v >= 0 && v < 5));
    const noRep = nx.random.choice(10, 10, { replace: false, seed: 2 });
    assert.deepEqual(sorted(noRep), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rows = nx.random.choice(
      nx.tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      [2, 2],
      { seed: 3 },
    );
    assert.deepEqual(rows.shape, [2, 2, 2]);
    assert.equal(nx.random.choice(3, undefined, { seed: 3 }).rank, 0);
    const p = [0.1, 0.6, 0.3];
    const n = 20000;
    const draws = nx.random.choice(3, n, { p, seed: 4 });
    const counts = nx.bincount(draws, { length: 3 }).toArraySync() as number[];
    counts.forEach((k, i) => {
      const se = Math.sqrt(n * p[i]! * (1 - p[i]!));
      assert.ok(
        Math.abs(k - n * p[i]!) < 5 * se,
        `value ${i}: ${k} of ${n}, expected ${n * p[i]!}`,
      );
    });
    const weighted = nx.random.choice(4, 3, { p: [0.5, 0, 0.25, 0.25], replace: false, seed: 9 });
    assert.deepEqual(sorted(weighted), [0, 2, 3], "a zero-probability value is never taken");
    assert.throws(() => nx.random.choice(3, 4, { replace: false }), /without replacement/);
    assert.throws(() => nx.random.choice(3, 2, { p: [0.5, 0.5, 0.5] }), /summing to 1/);
  });

  it("bernoulli: bool, frequency p, tensor p broadcast to a shape", () => {
    const b = nx.random.bernoulli(0.3, [50000], { seed: 7 });
    assert.equal(b.dtype, "bool");
    const mean = nx.mean(b).item() as number;
    assert.ok(Math.abs(mean - 0.3) < 5 * Math.sqrt((0.3 * 0.7) / 50000), `mean ${mean}`);
    const pt = nx.tensor([0, 1, 0.5]);
    const m = nx.random.bernoulli(pt, [4000, 3], { seed: 8 });
    const col = nx.mean(m, 0).toArraySync() as number[];
    assert.equal(col[0], 0);
    assert.equal(col[1], 1);
    assert.ok(Math.abs(col[2]! - 0.5) < 0.04);
    assert.deepEqual(nx.random.bernoulli(pt, undefined, { seed: 1 }).shape, [3]);
  });
});
