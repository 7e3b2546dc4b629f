// Property tests (fast-check): NumPy broadcasting of random compatible shapes, and reductions over
// random axes, against the plain-JS reference; incompatible shapes always raise a TensorError.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as nx from "../../tensor/index.ts";
import { close, mapN, reduceRef } from "./ref.ts";

/** A shape and a second shape broadcast-compatible with it (dims dropped from the front or set to 1). */
const compatibleShapes = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 })
  .chain((a) =>
    fc.tuple(
      fc.constant(a),
      fc
        .integer({ min: 0, max: a.length })
        .chain((drop) =>
          fc
            .array(fc.boolean(), { minLength: a.length - drop, maxLength: a.length - drop })
            .map((ones) => a.slice(drop).map((d, i) => (ones[i] ? 1 : d))),
        ),
      fc.boolean(),
    ),
  );

function values(shape: number[], seed: number): number[] {
  const n = shape.reduce((x, y) => x * y, 1);
  return Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 97) / 8 - 6);
}

describe("broadcasting properties", () => {
  it("binary ops on compatible shapes match the reference in either operand order", () => {
    fc.assert(
      fc.property(compatibleShapes, fc.integer({ min: 0, max: 1000 }), ([sa, sb, swap], seed) => {
        const [s1, s2] = swap ? [sb, sa] : [sa, sb];
        const A = { shape: s1, data: values(s1, seed) };
        const B = { shape: s2, data: values(s2, seed + 1) };
        const ta = nx.tensor(A.data, { dtype: "f64", shape: s1 });
        const tb = nx.tensor(B.data, { dtype: "f64", shape: s2 });
        for (const [op, f] of [
          [nx.add, (x: number, y: number) => x + y],
          [nx.multiply, (x: number, y: number) => x * y],
          [nx.maximum, Math.max],
        ] as const) {
          const out = op(ta, tb);
          const ref = mapN(f, A, B);
          assert.deepEqual(out.shape, ref.shape);
          close(Array.from(out.dataSync() as Float64Array), ref.data, 1e-12, op.name);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("incompatible shapes raise a TensorError naming both shapes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 0, max: 2 }),
        (a, b, extra) => {
          fc.pre(a !== b);
          const s1 = [...Array<number>(extra).fill(2), a];
          assert.throws(
            () => nx.add(nx.zeros(s1), nx.zeros([b])),
            (e: Error) =>
              e.name === "TensorError" && e.message.includes(`[${s1.join(",")}] and [${b}]`),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it("sum over random axes matches the reference", () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })
          .chain((shape) =>
            fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean()),
          ),
        ([shape, axes, keepDims]) => {
          const data = values(shape, 3);
          const t = nx.tensor(data, { dtype: "f64", shape });
          const out = nx.sum(t, { axes: axes.length ? axes : undefined, keepDims });
          const ref = reduceRef(
            { shape, data },
            axes.length ? axes : shape.map((_, i) => i),
            keepDims,
            0,
            (x, y) => x + y,
          );
          assert.deepEqual(out.shape, ref.shape);
          close(Array.from(out.dataSync() as Float64Array), ref.data, 1e-12, "sum");
        },
      ),
      { numRuns: 60 },
    );
  });
});
