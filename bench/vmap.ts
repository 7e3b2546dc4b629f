// vmap benchmark (part of bench/tensor.ts; alone: node --import tsx bench/vmap.ts [--quick]):
//  6. Per-example gradients of a 64-32-10 MLP's cross-entropy loss over 256 examples, f32:
//     nx.vmap(nx.grad(loss)) eagerly and under jit, against the unrolled form (one call per
//     example, then a stack: what nx.vmap did before its batching rules), against the same
//     per-example gradients written by hand with batched ops in PyTorch and NumPy, and against a
//     PyTorch autograd loop over the examples (bench/python/vmap_ref.py). Also the size of the
//     jitted graph and its compile time, batched vs unrolled.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as nx from "../tensor/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes("--quick");
const BATCH = 256;
const THREADS = Math.min(2, (await import("node:os")).cpus().length);

type P = { w1: nx.Tensor; b1: nx.Tensor; w2: nx.Tensor; b2: nx.Tensor };
const params: P = {
  w1: nx.random.normal([64, 32], { seed: 1, std: 0.1 }),
  b1: nx.zeros([32]),
  w2: nx.random.normal([32, 10], { seed: 2, std: 0.1 }),
  b2: nx.zeros([10]),
};
const xs = nx.random.normal([BATCH, 64], { seed: 3 });
const ys = nx.random.randint([BATCH], 0, 10, { seed: 4 });

/** One example's loss: x [64], y a scalar class. */
const loss = (p: P, x: nx.Tensor, y: nx.Tensor): nx.Tensor => {
  const h = nx.tanh(nx.add(nx.matmul(x, p.w1), p.b1));
  const logits = nx.add(nx.matmul(h, p.w2), p.b2);
  return nx.negate(nx.sum(nx.multiply(nx.logSoftmax(logits), nx.oneHot(y, 10))));
};
const perExampleGrad = nx.grad(loss);

/** The unrolled form: f on each example (nx.take), results stacked (nx.vmap before its rules). */
function unrolled(f: (p: P, x: nx.Tensor, y: nx.Tensor) => unknown) {
  return (p: P, x: nx.Tensor, y: nx.Tensor): unknown => {
    const outs: unknown[] = [];
    for (let k = 0; k < x.shape[0]!; k++) outs.push(f(p, nx.take(x, k), nx.take(y, k)));
    return nx.treeMap(
      (...ts: nx.Tensor[]) => nx.stack(ts),
      outs[0] as P,
      ...(outs.slice(1) as P[]),
    );
  };
}

const vmapped = nx.vmap(perExampleGrad, { inAxes: [null, 0, 0] });
const unrolledFn = unrolled(perExampleGrad);

function compileTime(f: (...a: any[]) => unknown): { fn: (...a: any[]) => unknown; ms: number } {
  const fn = nx.jit(f);
  const t0 = performance.now();
  fn(params, xs, ys);
  return { fn, ms: performance.now() - t0 };
}

function graphNodes(f: (...a: any[]) => unknown): number {
  const m = nx.decodeModel(nx.exportOnnx(f, [params, xs, ys])) as { graph: { node?: unknown[] } };
  return m.graph.node?.length ?? 0;
}

// same values both ways
const a = vmapped(params, xs, ys) as P;
const b = unrolledFn(params, xs, ys) as P;
let maxDiff = 0;
for (const k of ["w1", "b1", "w2", "b2"] as const) {
  const u = a[k].dataSync() as Float32Array;
  const v = b[k].dataSync() as Float32Array;
  for (let i = 0; i < u.length; i++) maxDiff = Math.max(maxDiff, Math.abs(u[i]! - v[i]!));
}

const jitV = compileTime(vmapped);
const jitU = compileTime(unrolledFn);
const nodesV = graphNodes(vmapped);
const nodesU = graphNodes(unrolledFn);

/** Best seconds per call of each contestant, round-robin blocks (shared machine). */
function timeMany(fns: Record<string, () => unknown>, rounds = quick ? 3 : 8, budget = 0.1) {
  const best: Record<string, number> = {};
  for (const [k, f] of Object.entries(fns)) {
    f();
    best[k] = Infinity;
  }
  for (let r = 0; r < rounds; r++)
    for (const [k, f] of Object.entries(fns)) {
      let n = 0;
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < budget * 1000 || n < 2) {
        f();
        n++;
        t = performance.now();
      }
      best[k] = Math.min(best[k]!, (t - t0) / 1000 / n);
    }
  return best;
}

// the floor of any graph with this much output: one jitted multiply writing as many f32 values
const outSize = BATCH * (64 * 32 + 32 + 32 * 10 + 10);
const same = nx.random.normal([outSize]);
const scale = nx.jit((v: nx.Tensor) => nx.multiply(v, 2));

const t = timeMany({
  outputFloor: () => scale(same),
  vmapEager: () => vmapped(params, xs, ys),
  unrolledEager: () => unrolledFn(params, xs, ys),
  vmapJit: () => jitV.fn(params, xs, ys),
  unrolledJit: () => jitU.fn(params, xs, ys),
});
const r = spawnSync(
  "/usr/bin/python3",
  [join(here, "python", "vmap_ref.py"), String(BATCH), String(THREADS)],
  { encoding: "utf8" },
);
const ref =
  r.status === 0
    ? (JSON.parse(r.stdout.trim().split("\n").pop()!) as {
        torch_batched: number;
        torch_batched_1: number;
        numpy_batched: number;
        torch_loop: number;
        torch: string;
      })
    : null;
if (!ref) console.log(`  (vmap_ref.py failed: ${r.stderr.trim().split("\n").pop()})`);

const ms = (s: number): string => (s * 1e3).toPrecision(3);
const ratio = (x: number, y: number | undefined): string =>
  y === undefined ? "n/a" : (x / y).toPrecision(3) + "×";
console.log(
  `\nPer-example gradients, 64-32-10 MLP, ${BATCH} examples, f32 (ms per call; ratio = time / nx vmap jit; torch autograd loop and numpy ${THREADS} threads; load ${(await import("node:fs")).readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`,
);
const rows: Array<[string, number | undefined]> = [
  ["nx vmap(grad) jit", t.vmapJit],
  ["nx vmap(grad) eager", t.vmapEager],
  ["nx jit x*2, same output", t.outputFloor],
  ["nx unrolled, jit", t.unrolledJit],
  ["nx unrolled, eager", t.unrolledEager],
  [`torch hand-batched, ${THREADS} thr`, ref?.torch_batched],
  ["torch hand-batched, 1 thr", ref?.torch_batched_1],
  ["numpy hand-batched ops", ref?.numpy_batched],
  ["torch autograd loop", ref?.torch_loop],
];
for (const [name, s] of rows)
  console.log(
    `  ${name.padEnd(24)} ${s === undefined ? "n/a".padStart(8) : ms(s).padStart(8)}  ${s === undefined ? "" : ratio(s, t.vmapJit)}`,
  );
console.log(
  `  speed-up of vmap over unrolling: eager ${(t.unrolledEager! / t.vmapEager!).toFixed(1)}×, jit ${(t.unrolledJit! / t.vmapJit!).toFixed(1)}×`,
);
console.log(
  `  jitted graph: ${nodesV} nodes batched vs ${nodesU} unrolled; first call (trace + compile + run) ${jitV.ms.toFixed(0)} ms vs ${jitU.ms.toFixed(0)} ms; max |batched − unrolled| = ${maxDiff.toExponential(1)}${ref ? `; torch ${ref.torch}` : ""}`,
);
