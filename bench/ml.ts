/**
 * ML benchmarks (issue 5), each against its reference in the same run, printing ratios:
 *  1. Training steps/s of MLPs (digits 64-128-10 at batch 32 and 128; 784-128-10 on random data
 *     at batch 128), Adam, cross-entropy: tsnb (whole step = one ORT session) vs PyTorch
 *     (/usr/bin/python3, Debian python3-torch) at 1 and 2 threads, and vs tfjs-backend-wasm.
 *  2. Silero VAD over the 12 s speech file: time per 30 ms chunk for vad.speechProbabilities and
 *     for onnx.load(...).run(...) per chunk, vs a raw onnxruntime-node loop; real-time factor.
 *  3. Memory over 20,000 training steps (heap and RSS after GC at 2,000 and 20,000 steps).
 *
 * Run: node --expose-gc --import tsx bench/ml.ts [--quick] [--only=train,vad,memory]
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";
import * as nx from "../tensor/index.ts";
import * as nn from "../ml/nn.ts";
import * as optim from "../ml/optim.ts";
import * as onnx from "../ml/onnx.ts";
import { Trainer } from "../ml/train.ts";
import { readWav } from "../ml/audio.ts";
import { sileroModelPath, speechProbabilities } from "../ml/vad.ts";
import { mulberry32, normalSampler } from "../ml/random.ts";
import { torchReference, type TorchReference } from "./torch-reference.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
/** Timed repetitions per measurement; the best one counts (shared, noisy machines). */
const REPS = quick ? 2 : 5;
/** Seconds per timed repetition. */
const SECONDS = quick ? 0.5 : 1.5;

function randomData(n: number, nIn: number, nOut: number) {
  const norm = normalSampler(mulberry32(1));
  const x = Float32Array.from({ length: n * nIn }, norm);
  const r = mulberry32(2);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * nOut));
  return { x: nx.tensor(x, { shape: [n, nIn] }), y };
}

/** A tsnb trainer for an MLP on random data, measured in repetitions of about SECONDS. */
async function tsnbRunner(
  threads: number,
  nIn: number,
  hidden: number,
  nOut: number,
  batch: number,
): Promise<() => Promise<number>> {
  const { x, y } = randomData(2048, nIn, nOut);
  const model = nn.sequential([nn.dense(hidden, { activation: "relu" }), nn.dense(nOut)], {
    inputShape: [nIn],
    seed: 0,
  });
  const tr = new Trainer(model, {
    loss: "categoricalCrossEntropy",
    optimizer: optim.adam({ learningRate: 1e-3 }),
    threads,
  });
  // whole epochs, no per-step handler (so the trainer may run several steps per session run)
  const perEpoch = Math.floor(2048 / batch);
  const run = async (epochs: number) => {
    await tr.fit(x, y, { epochs, batchSize: batch, verbose: false });
    return epochs * perEpoch;
  };
  const t0 = performance.now();
  await run(2);
  const msPerEpoch = (performance.now() - t0) / 2;
  const chunk = Math.max(1, Math.round(50 / Math.max(1e-6, msPerEpoch))); // epochs per ~50 ms
  return async () => {
    let steps = 0;
    const t = performance.now();
    while (performance.now() - t < SECONDS * 1000) steps += await run(chunk);
    return steps / ((performance.now() - t) / 1000);
  };
}

/** The PyTorch reference (bench/python/ml_torch.py) as a child process, one repetition per call. */
function torchRunner(
  threads: number,
  nIn: number,
  hidden: number,
  nOut: number,
  batch: number,
): Promise<TorchReference> {
  return torchReference(join(root, "bench/python/ml_torch.py"), threads, [
    threads,
    nIn,
    hidden,
    nOut,
    batch,
    SECONDS,
  ]);
}

/** The same MLP and Adam in tfjs-backend-wasm, measured in repetitions of about SECONDS. */
async function tfjsWasmRunner(
  nIn: number,
  hidden: number,
  nOut: number,
  batch: number,
): Promise<(() => number) | undefined> {
  try {
    const require = createRequire(import.meta.url);
    const tf = require("@tensorflow/tfjs") as typeof import("@tensorflow/tfjs");
    const wasm = require("@tensorflow/tfjs-backend-wasm") as { setWasmPaths(p: string): void };
    wasm.setWasmPaths(join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "/"));
    await tf.setBackend("wasm");
    await tf.ready();
    const { x, y } = randomData(2048, nIn, nOut);
    const xs = tf.tensor2d(x.dataSync() as Float32Array, [2048, nIn]);
    const ys = tf.oneHot(tf.tensor1d(y, "int32"), nOut).toFloat();
    const w1 = tf.variable(tf.randomNormal([nIn, hidden], 0, 0.05));
    const b1 = tf.variable(tf.zeros([hidden]));
    const w2 = tf.variable(tf.randomNormal([hidden, nOut], 0, 0.05));
    const b2 = tf.variable(tf.zeros([nOut]));
    const opt = tf.train.adam(1e-3);
    const step = (i: number) => {
      const s = (i * batch) % (2048 - batch);
      const loss = opt.minimize(() => {
        const xb = xs.slice([s, 0], [batch, nIn]);
        const yb = ys.slice([s, 0], [batch, nOut]);
        const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(xb, w1), b1)), w2), b2);
        return tf.losses.softmaxCrossEntropy(yb, logits) as import("@tensorflow/tfjs").Scalar;
      }, true);
      loss?.dataSync();
      loss?.dispose();
    };
    for (let i = 0; i < 10; i++) step(i);
    return () => {
      let steps = 0;
      const t = performance.now();
      while (performance.now() - t < SECONDS * 1000) step(steps++);
      return steps / ((performance.now() - t) / 1000);
    };
  } catch (e) {
    console.log(`  tfjs-backend-wasm unavailable: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
}

async function bench1() {
  console.log("\n1. Training steps/s (Adam, cross-entropy; higher is better)");
  console.log("   model          batch threads      tsnb     torch  tsnb/torch");
  const cases: Array<[string, number, number, number, number]> = [
    ["64-128-10", 64, 128, 10, 32],
    ["64-128-10", 64, 128, 10, 128],
    ["784-128-10", 784, 128, 10, 128],
  ];
  const wasmRows: string[] = [];
  for (const [name, i, h, o, b] of cases) {
    for (const threads of [1, 2]) {
      // alternate repetitions of both sides; the best of each counts
      const oursRep = await tsnbRunner(threads, i, h, o, b);
      const torchRef = await torchRunner(threads, i, h, o, b);
      let ours = 0;
      let torch = 0;
      for (let r = 0; r < REPS; r++) {
        ours = Math.max(ours, await oursRep());
        torch = Math.max(torch, await torchRef.rep());
      }
      torchRef.close();
      console.log(
        `   ${name.padEnd(14)} ${String(b).padStart(5)} ${String(threads).padStart(7)} ${ours.toFixed(0).padStart(9)} ${torch.toFixed(0).padStart(9)} ${(ours / torch).toFixed(2).padStart(10)}x`,
      );
    }
    const ours1Rep = await tsnbRunner(1, i, h, o, b);
    const wasmRep = await tfjsWasmRunner(i, h, o, b);
    let ours1 = 0;
    let w: number | undefined = wasmRep ? 0 : undefined;
    for (let r = 0; r < REPS; r++) {
      ours1 = Math.max(ours1, await ours1Rep());
      if (wasmRep) w = Math.max(w!, wasmRep());
    }
    if (w !== undefined)
      wasmRows.push(
        `   ${name.padEnd(14)} ${String(b).padStart(5)} ${ours1.toFixed(0).padStart(9)} ${w.toFixed(0).padStart(9)} ${(ours1 / w).toFixed(1).padStart(10)}x`,
      );
  }
  console.log("\n   vs tfjs-backend-wasm (1 thread)");
  console.log("   model          batch      tsnb tfjs-wasm   tsnb/wasm");
  for (const r of wasmRows) console.log(r);
}

async function bench2() {
  console.log("\n2. Silero VAD, 12.4 s of 16 kHz speech in 30 ms chunks (480 samples)");
  const audio = readWav(join(root, "data/speech.wav"));
  const samples = audio.samples.dataSync() as Float32Array;
  const frame = 480;
  const chunks = Math.ceil(samples.length / frame);
  const model = await onnx.load(sileroModelPath());
  const raw = await ort.InferenceSession.create(sileroModelPath(), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const rawLoop = async () => {
    let h: ort.Tensor = new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
    let c: ort.Tensor = new ort.Tensor("float32", new Float32Array(128), [2, 1, 64]);
    const sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
    for (let i = 0; i < chunks; i++) {
      const chunk = new Float32Array(frame);
      chunk.set(samples.subarray(i * frame, (i + 1) * frame));
      const r = await raw.run({ input: new ort.Tensor("float32", chunk, [1, frame]), sr, h, c });
      h = r.hn!;
      c = r.cn!;
    }
  };
  const apiLoop = async () => {
    let h = nx.zeros([2, 1, 64]);
    let c = nx.zeros([2, 1, 64]);
    for (let i = 0; i < chunks; i++) {
      const chunk = new Float32Array(frame);
      chunk.set(samples.subarray(i * frame, (i + 1) * frame));
      const r = await model.run({
        input: nx.tensor(chunk, { shape: [1, frame] }),
        sr: 16000,
        h,
        c,
      });
      h = r.hn!;
      c = r.cn!;
    }
  };
  const time = async (f: () => Promise<unknown>, reps: number) => {
    await f();
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      await f();
      ts.push(performance.now() - t);
    }
    return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
  };
  const reps = quick ? 3 : 9;
  // interleave the three so machine noise hits them alike
  const rawMs: number[] = [];
  const vadMs: number[] = [];
  const apiMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    rawMs.push(await time(rawLoop, 1));
    vadMs.push(await time(() => speechProbabilities(audio, { model, frameSamples: frame }), 1));
    apiMs.push(await time(apiLoop, 1));
  }
  const best = (a: number[]) => Math.min(...a);
  const [rw, vd, ap] = [best(rawMs), best(vadMs), best(apiMs)];
  console.log(`   raw onnxruntime-node      ${((rw / chunks) * 1000).toFixed(1)} µs/chunk`);
  console.log(
    `   vad.speechProbabilities   ${((vd / chunks) * 1000).toFixed(1)} µs/chunk  overhead ${((vd / rw - 1) * 100).toFixed(1)}%  real-time factor ${(vd / 1000 / audio.duration).toFixed(4)}`,
  );
  console.log(
    `   onnx model.run per chunk  ${((ap / chunks) * 1000).toFixed(1)} µs/chunk  overhead ${((ap / rw - 1) * 100).toFixed(1)}%  (input checks + tensor wrapping)`,
  );
}

async function bench3() {
  const total = quick ? 4000 : 20000;
  console.log(
    `\n3. Memory over ${total.toLocaleString("en-US")} training steps (digits-sized MLP, batch 32)`,
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.log("   (run with node --expose-gc for exact figures)");
  const { x, y } = randomData(2048, 64, 10);
  const marks: Array<[string, number, number, number]> = [];
  // both loop paths: one step per session run (a per-step handler) and eight (the default)
  for (const path of ["1 step/run", "8 steps/run"]) {
    const model = nn.sequential([nn.dense(128, { activation: "relu" }), nn.dense(10)], {
      inputShape: [64],
    });
    const tr = new Trainer(model, { loss: "categoricalCrossEntropy" });
    const mark = () => {
      gc?.();
      const m = process.memoryUsage();
      marks.push([path, tr.step, m.heapUsed / 2 ** 20, m.rss / 2 ** 20]);
    };
    const checkpoints = [total / 10, total / 2, total];
    if (path === "1 step/run") {
      tr.on("iterationCompleted", (s) => {
        if (checkpoints.includes(s.step)) mark();
        return s.step >= total ? "halt" : undefined;
      });
      await tr.fit(x, y, { epochs: 1_000_000, batchSize: 32, verbose: false });
    } else {
      for (const c of checkpoints) {
        while (tr.step < c) await tr.fit(x, y, { epochs: 1, batchSize: 32, verbose: false });
        mark();
      }
    }
  }
  for (const path of ["1 step/run", "8 steps/run"]) {
    const ms = marks.filter((m) => m[0] === path);
    for (const [, s, h, r] of ms)
      console.log(
        `   ${path.padEnd(12)} after ${String(s).padStart(6)} steps: heap ${h.toFixed(1)} MiB, rss ${r.toFixed(1)} MiB`,
      );
    const first = ms[0]!;
    const last = ms.at(-1)!;
    console.log(
      `   ${path.padEnd(12)} growth from ${first[1]} to ${last[1]} steps: heap ${(last[2] - first[2]).toFixed(1)} MiB, rss ${(last[3] - first[3]).toFixed(1)} MiB`,
    );
  }
}

console.log(
  `tsnb ML benchmarks (node ${process.version}, onnxruntime-node ${ort.env.versions.common}); load average ${(
    await import("node:os")
  )
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
// --only=train,vad,memory runs a subset
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
if (!only || only.includes("train")) await bench1();
if (!only || only.includes("vad")) await bench2();
if (!only || only.includes("memory")) await bench3();
