/** Gradient checks shared by the tensor tests: nx.grad against central finite differences. */
import assert from "node:assert/strict";
import * as nx from "../../tensor/index.ts";
import { close, rng } from "./ref.ts";

export type F = (...args: nx.Tensor[]) => nx.Tensor;

export function rand(shape: number[], r: () => number, lo = -2, hi = 2): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return nx.tensor(
    Float64Array.from({ length: n }, () => lo + r() * (hi - lo)),
    { shape },
  );
}

/** Central differences of the scalar f with respect to every element of every argument. */
export function numericGrad(f: F, args: nx.Tensor[], eps = 1e-6): number[][] {
  return args.map((a, i) => {
    const base = a.dataSync() as Float64Array;
    const out: number[] = [];
    for (let j = 0; j < base.length; j++) {
      const eval1 = (delta: number): number => {
        const d = Float64Array.from(base);
        d[j] = d[j]! + delta;
        const moved = args.slice();
        moved[i] = nx.tensor(d, { shape: a.shape });
        return f(...moved).item() as number;
      };
      out.push((eval1(eps) - eval1(-eps)) / (2 * eps));
    }
    return out;
  });
}

/**
 * Checks nx.grad(f) for all arguments against finite differences; f gets a random weighting so
 * every output element matters. `eps`: the step (larger for ops that compute in f32).
 */
export function check(name: string, op: F, args: nx.Tensor[], tol = 1e-5, eps = 1e-6): void {
  const r = rng(name.length * 101 + args.length);
  const probe = op(...args);
  const w = rand(probe.shape.slice(), r, 0.5, 1.5);
  const f: F = (...xs) => nx.sum(nx.multiply(op(...xs), w));
  const symbolic = nx.grad(
    f,
    args.map((_, i) => i),
  )(...args) as nx.Tensor[];
  const numeric = numericGrad(f, args, eps);
  symbolic.forEach((g, i) => {
    assert.deepEqual(g.shape, args[i]!.shape, `${name}: gradient ${i} shape`);
    assert.equal(g.dtype, "f64", `${name}: gradient ${i} dtype`);
    close(Array.from(g.dataSync() as Float64Array), numeric[i]!, tol, `${name}: d/darg${i}`);
  });
}
