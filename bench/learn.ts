/**
 * Benchmarks of issue 15 (the Learn lessons' models), each against PyTorch (Debian's
 * python3-torch, bench/python/learn_torch.py) in the same run, at 1 and 2 threads, same model,
 * optimizer and batch; repetitions of both sides alternate; printed: the best of each side, their
 * ratio, and the median of the per-pair ratios (a tsnb repetition over the PyTorch one right after
 * it: on a shared machine whose speed drifts, steadier than a ratio of two maxima):
 *  1. lesson 8's tiny transformer (bench/transformer-model.ts; 4 layers, 4 heads, width 128,
 *     context 64, batch 16, vocabulary 65): training steps/s of the hand-written nx.jit step;
 *  2. a CNN (conv 3x3 16, pool, conv 3x3 32, pool, dense 10; batch 64 of 1x28x28; Adam) with
 *     nn layers and the built-in loop (train.fit): training steps/s.
 * Not run by CI. Run: node --import tsx bench/learn.ts [--quick] [--only=transformer,cnn]
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as nx from "../tensor/index.ts";
import * as nn from "../ml/nn.ts";
import * as optim from "../ml/optim.ts";
import { Trainer } from "../ml/train.ts";
import { mulberry32, normalSampler } from "../ml/random.ts";
import { torchReference, type TorchReference } from "./torch-reference.ts";
import { initParams, model, type Config, type Params, type State } from "./transformer-model.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const only = /--only=(\S+)/.exec(process.argv.join(" "))?.[1]?.split(",");
const REPS = quick ? 3 : 7;
const SECONDS = quick ? 0.5 : 1.5;

/** A PyTorch reference process (bench/python/learn_torch.py): one timed repetition per call. */
function reference(threads: number, args: Array<string | number>): Promise<TorchReference> {
  return torchReference(join(root, "bench/python/learn_torch.py"), threads, [
    threads,
    SECONDS,
    ...args,
  ]);
}

/** Repetitions of about SECONDS of `steps(k)` (which runs k steps), as steps/s. */
function timed(chunk: number, steps: (k: number) => void | Promise<void>) {
  return async () => {
    let n = 0;
    const t = performance.now();
    while (performance.now() - t < SECONDS * 1000) {
      await steps(chunk);
      n += chunk;
    }
    return n / ((performance.now() - t) / 1000);
  };
}

async function transformerRunner(threads: number, c: Config, batch: number) {
  const m = model(c);
  const step = m.step(threads);
  const p = initParams(c);
  const zeros = (q: Params) => nx.treeMap((t: nx.Tensor) => nx.zerosLike(t), q) as Params;
  let state: State = { p, m: zeros(p), v: zeros(p) };
  const r = mulberry32(3);
  const data = Int32Array.from({ length: 1 << 16 }, () => Math.floor(r() * c.vocab));
  let t = 0;
  const one = () => {
    t++;
    const xs = new Int32Array(batch * c.context);
    const ys = new Int32Array(batch * c.context);
    for (let i = 0; i < batch; i++) {
      const s = Math.floor(r() * (data.length - c.context - 1));
      xs.set(data.subarray(s, s + c.context), i * c.context);
      ys.set(data.subarray(s + 1, s + c.context + 1), i * c.context);
    }
    const out = step(
      state,
      nx.tensor(xs, { shape: [batch, c.context] }),
      nx.tensor(ys, { shape: [batch, c.context] }),
      nx.tensor((3e-3 * Math.sqrt(1 - m.beta2 ** t)) / (1 - m.beta1 ** t)),
      nx.tensor(1e-8 * Math.sqrt(1 - m.beta2 ** t)),
    );
    state = out.state;
    out.loss.item();
  };
  for (let i = 0; i < 3; i++) one(); // compile, warm up
  return timed(2, (k) => {
    for (let i = 0; i < k; i++) one();
  });
}

async function cnnRunner(threads: number, batch: number) {
  const n = 1024;
  const norm = normalSampler(mulberry32(1));
  const x = nx.tensor(Float32Array.from({ length: n * 784 }, norm), { shape: [n, 1, 28, 28] });
  const r = mulberry32(2);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * 10));
  const net = nn.sequential(
    [
      nn.conv2d(16, { kernelSize: 3, activation: "relu" }),
      nn.maxPool2d(2),
      nn.conv2d(32, { kernelSize: 3, activation: "relu" }),
      nn.maxPool2d(2),
      nn.flatten(),
      nn.dense(10),
    ],
    { inputShape: [1, 28, 28], seed: 0 },
  );
  const tr = new Trainer(net, {
    loss: "categoricalCrossEntropy",
    optimizer: optim.adam({ learningRate: 1e-3 }),
    threads,
  });
  const perEpoch = Math.floor(n / batch);
  const epoch = async () => {
    await tr.fit(x, y, { epochs: 1, batchSize: batch, verbose: false });
  };
  await epoch(); // compile
  return timed(perEpoch, epoch);
}

async function compare(
  label: string,
  tsnb: () => Promise<number>,
  torch: { rep: () => Promise<number>; close: () => void },
) {
  let best = 0;
  let bestTorch = 0;
  const pairs: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const a = await tsnb();
    const b = await torch.rep();
    best = Math.max(best, a);
    bestTorch = Math.max(bestTorch, b);
    pairs.push(a / b);
  }
  torch.close();
  pairs.sort((x, y) => x - y);
  const median = pairs[Math.floor(pairs.length / 2)]!;
  console.log(
    `| ${label} | ${best.toFixed(1)} | ${bestTorch.toFixed(1)} | ${(best / bestTorch).toFixed(2)}× | ${median.toFixed(2)}× (${pairs[0]!.toFixed(2)}–${pairs.at(-1)!.toFixed(2)}) |`,
  );
}

console.log(
  "| model, threads | tsnb steps/s (best) | PyTorch steps/s (best) | best / best | median of paired ratios (range) |",
);
console.log("| --- | --- | --- | --- | --- |");
const config: Config = { vocab: 65, context: 64, width: 128, heads: 4, layers: 4 };
for (const threads of [1, 2]) {
  if (!only || only.includes("transformer"))
    await compare(
      `transformer 4×128, context 64, batch 16, ${threads} thread${threads > 1 ? "s" : ""}`,
      await transformerRunner(threads, config, 16),
      await reference(threads, ["transformer", 65, 64, 128, 4, 4, 16]),
    );
  if (!only || only.includes("cnn"))
    await compare(
      `CNN 16-32-10, batch 64, ${threads} thread${threads > 1 ? "s" : ""}`,
      await cnnRunner(threads, 64),
      await reference(threads, ["cnn", 64]),
    );
}
