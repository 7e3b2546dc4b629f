import { test } from "node:test";
import assert from "node:assert/strict";
import * as ds from "../../ml/datasets.ts";
import * as nn from "../../ml/nn.ts";
import * as optim from "../../ml/optim.ts";
import * as losses from "../../ml/losses.ts";
import * as onnx from "../../ml/onnx.ts";
import { DISPLAY } from "../../ml/host.ts";
import { exportOnnx } from "../../ml/export.ts";
import { decodeModel } from "../../tensor/onnx/proto.ts";
import { Trainer, fit, predict } from "../../ml/train.ts";
import * as nx from "../../tensor/index.ts";
import { mulberry32 } from "../../ml/random.ts";

async function digitsSplit() {
  const d = await ds.digits();
  const split = ds.splitIndices(d.labels.shape[0]!, { testSize: 0.25, seed: 42 });
  const sc = ds.fitStandardizer(ds.takeRows(d.images, split.train));
  return {
    xtr: sc.transform(ds.takeRows(d.images, split.train)),
    ytr: ds.take(d.labels, split.train),
    xte: sc.transform(ds.takeRows(d.images, split.test)),
    yte: ds.take(d.labels, split.test),
  };
}

const mlp = (seed: number) =>
  nn.sequential([nn.dense(128, { activation: "relu" }), nn.dropout(0.1), nn.dense(10)], {
    inputShape: [64],
    seed,
  });

test("digits MLP reaches ≥95% held-out accuracy, deterministically, in a few seconds", async () => {
  const { xtr, ytr, xte, yte } = await digitsSplit();
  const t0 = performance.now();
  const run = async () => {
    const model = mlp(7);
    const tr = new Trainer(model, {
      loss: "categoricalCrossEntropy",
      optimizer: optim.adam({ learningRate: 1e-3 }),
      metrics: ["accuracy"],
      seed: 3,
    });
    const h = await tr.fit(xtr, ytr, { epochs: 8, batchSize: 32, verbose: false });
    return { model, tr, h, ev: await tr.evaluate(xte, yte) };
  };
  const a = await run();
  assert.ok(a.ev.accuracy! >= 0.95, `test accuracy ${a.ev.accuracy}`);
  assert.ok(performance.now() - t0 < 10_000, "performance.now() - t0 < 10_000");
  assert.equal(a.h.epochs.length, 8);
  assert.ok(a.h.epochs[7]!.loss! < a.h.epochs[0]!.loss!, "loss goes down");
  // same seeds → same weights and metrics
  const b = await run();
  assert.deepEqual(
    b.h.epochs.map((r) => r.loss),
    a.h.epochs.map((r) => r.loss),
  );
  for (const [k, p] of a.model.params) assert.deepEqual(b.model.params.get(k)!.data, p.data);
  // a different trainer seed (shuffle, dropout) gives a different run
  const c = new Trainer(mlp(7), { loss: "categoricalCrossEntropy", seed: 4 });
  const hc = await c.fit(xtr, ytr, { epochs: 1, verbose: false });
  assert.notEqual(hc.epochs[0]!.loss, a.h.epochs[0]!.loss);
  // predictions agree with evaluate's accuracy
  const pred = await a.tr.predict(xte);
  const n = yte.shape[0]!;
  assert.deepEqual(pred.shape, [n, 10]);
  const correct = nx.sum(nx.equal(nx.argmax(pred, 1), yte)).item() as number;
  assert.ok(
    Math.abs(correct / n - a.ev.accuracy!) < 1e-9,
    "Math.abs(correct / n - a.ev.accuracy!) < 1e-9",
  );
});

test("penguins species from the numeric columns reaches ≥95%", async () => {
  const cols = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];
  const rows = ds.dropMissing(await ds.penguins(), cols);
  const species = ds.labelEncode(rows.map((r) => r.species));
  const split = ds.splitIndices(rows.length, {
    testSize: 0.3,
    seed: 1,
    stratify: (i) => Number(species.indices.dataSync()[i]!),
  });
  const x = ds.recordsToTensor(rows, cols);
  const sc = ds.fitStandardizer(ds.takeRows(x, split.train));
  const model = nn.sequential([nn.dense(16, { activation: "tanh" }), nn.dense(3)], {
    inputShape: [4],
    seed: 1,
  });
  const h = await fit(
    model,
    sc.transform(ds.takeRows(x, split.train)),
    ds.take(species.indices, split.train),
    {
      loss: "categoricalCrossEntropy",
      optimizer: optim.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true }),
      metrics: ["accuracy"],
      epochs: 30,
      batchSize: 16,
      validationData: [
        sc.transform(ds.takeRows(x, split.test)),
        ds.take(species.indices, split.test),
      ],
      verbose: false,
    },
  );
  const last = h.epochs[h.epochs.length - 1]!;
  assert.ok(last.val_accuracy! >= 0.95, `val accuracy ${last.val_accuracy}`);
  assert.ok(
    h.long().some((r) => r.metric === "val_accuracy"),
    'h.long().some((r) => r.metric === "val_accuracy")',
  );
  assert.equal((h[DISPLAY]() as { type: string }).type, "vega-lite");
});

test("events fire in order; a handler halts training and the weights of completed steps stay", async () => {
  const { xtr, ytr } = await digitsSplit();
  const model = mlp(1);
  const before = new Map([...model.ensureInit().params].map(([k, p]) => [k, p.data.slice()]));
  const events: string[] = [];
  const tr = new Trainer(model, { loss: "categoricalCrossEntropy", seed: 1 });
  tr.on("started", () => void events.push("started"))
    .on("epochStarted", (s) => void events.push(`epochStarted ${s.epoch}`))
    .on("iterationCompleted", (s) => (s.step === 5 ? "halt" : undefined))
    .on("halted", (s) => void events.push(`halted ${s.reason}`));
  const h = await tr.fit(xtr, ytr, { epochs: 3, batchSize: 32, verbose: false });
  assert.deepEqual(events, [
    "started",
    "epochStarted 1",
    "halted halted by a iterationCompleted handler",
  ]);
  assert.equal(tr.step, 5);
  assert.equal(h.steps.length, 5);
  assert.ok(
    [...model.params].some(([k, p]) => p.data.some((v, i) => v !== before.get(k)![i])),
    "weights changed",
  );
  // the weights kept are exactly the 5-step weights: resuming continues from them
  const ctrl = new AbortController();
  tr.on("iterationCompleted", (s) => void (s.step === 8 && ctrl.abort()));
  await tr.fit(xtr, ytr, { epochs: 1, verbose: false, signal: ctrl.signal });
  assert.equal(tr.step, 8);
});

test("the loop yields to the event loop so an interrupt can arrive mid-training", async () => {
  const { xtr, ytr } = await digitsSplit();
  const tr = new Trainer(mlp(2), { loss: "categoricalCrossEntropy" });
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 30);
  const h = await tr.fit(xtr, ytr, {
    epochs: 1000,
    batchSize: 8,
    verbose: false,
    signal: ctrl.signal,
    yieldEveryMs: 5,
  });
  assert.match(h.stopped ?? "", /interrupted/);
  assert.ok(tr.step > 0 && tr.step < 1000 * 180, "tr.step > 0 && tr.step < 1000 * 180");
});

test("early stopping restores the best epoch's weights", async () => {
  const { xtr, ytr, xte, yte } = await digitsSplit();
  const tr = new Trainer(mlp(3), {
    loss: "categoricalCrossEntropy",
    optimizer: optim.sgd({ learningRate: 0.01 }),
    metrics: ["accuracy"],
  });
  // an impossible min delta: no epoch after the first counts as an improvement
  const h = await tr.fit(xtr, ytr, {
    epochs: 10,
    validationData: [xte, yte],
    earlyStopping: { monitor: "val_loss", patience: 1, minDelta: 100 },
    verbose: false,
  });
  assert.equal(h.epochs.length, 3);
  assert.match(h.stopped!, /early stopping/);
  const ev = await tr.evaluate(xte, yte);
  assert.ok(Math.abs(ev.loss! - h.epochs[0]!.val_loss!) < 1e-5, "weights are those of epoch 1");
});

test("export → onnx.load gives the same outputs; wrong inputs are rejected", async () => {
  const model = nn.sequential(
    [
      nn.reshape([1, 8, 8]),
      nn.conv2d(4, { kernelSize: 3, padding: "same" }),
      nn.batchNorm(),
      nn.relu(),
      nn.maxPool2d(2),
      nn.flatten(),
      nn.layerNorm(),
      nn.dense(16, { activation: "gelu" }),
      nn.batchNorm(),
      nn.dropout(0.5),
      nn.dense(10, { activation: "softmax" }),
    ],
    { inputShape: [64], seed: 5 },
  );
  const { xtr, ytr, xte } = await digitsSplit();
  const tr = new Trainer(model, { loss: "categoricalCrossEntropy", metrics: ["accuracy"] });
  await tr.fit(xtr, ytr, { epochs: 1, verbose: false });
  const m = await onnx.load(exportOnnx(model));
  assert.deepEqual(m.inputs, [
    { name: "input", dtype: "f32", shape: ["batch", 64], isTensor: true },
  ]);
  assert.deepEqual(m.outputs[0]!.shape, ["batch", 10]);
  const x = nx.slice(xte, [0, 0], [50, -1]);
  const got = (await m.run({ input: x })).output!;
  const want = await tr.predict(x);
  assert.deepEqual(got.shape, [50, 10]);
  let maxDiff = 0;
  const g = got.dataSync() as Float32Array;
  const w = want.dataSync() as Float32Array;
  for (let i = 0; i < g.length; i++) maxDiff = Math.max(maxDiff, Math.abs(g[i]! - w[i]!));
  assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
  await assert.rejects(
    m.run({ images: x }),
    /missing input 'input' \(given 'images', which the model does not have\)[\s\S]*input: f32 \[batch\*, 64\]/,
  );
  await assert.rejects(
    m.run({ input: nx.tensor(new Float64Array(64), { shape: [1, 64] }) }),
    /dtype f64, expected f32/,
  );
  await assert.rejects(
    m.run({ input: nx.tensor(new Float32Array(63), { shape: [1, 63] }) }),
    /expected \[batch\*, 64\]/,
  );
});

test("exported weights keep their parameter names as the model's initializers", async () => {
  const model = nn.sequential([nn.dense(8, { activation: "relu" }), nn.dense(3)], {
    inputShape: [4],
    seed: 2,
  });
  const decoded = decodeModel(exportOnnx(model)) as {
    graph: { initializer: Array<{ name: string }> };
  };
  const names = decoded.graph.initializer.map((t) => t.name);
  for (const p of model.params.keys()) assert.ok(names.includes(p), `${p} in ${names.join(", ")}`);
});

test("summary lists layers, output shapes and parameter counts; functional models compose", () => {
  const x = nn.input([8]);
  const h = nn.dense(8, { name: "hidden", activation: "relu" }).call(x);
  const y = nn.dense(2).call(nn.add().call(h, x));
  const model = nn.model(x, y, { seed: 1 });
  const rows = model.summary();
  assert.deepEqual(
    rows.map((r) => [r.layer, r.outputShape, r.params]),
    [
      ["input", "[batch, 8]", 0],
      ["hidden", "[batch, 8]", 72],
      ["add_0", "[batch, 8]", 0],
      ["dense_0", "[batch, 2]", 18],
    ],
  );
  const out = model[DISPLAY]() as { type: string; rows: unknown[][] };
  assert.equal(out.type, "table");
  assert.deepEqual(out.rows.at(-1), ["total", "", "", 90]);
  assert.throws(
    () => nn.sequential([nn.conv2d(2)], { inputShape: [4] }),
    /conv2d: input must be \[channels, height, width\]/,
  );
  assert.throws(() => nn.add().call(nn.input([2]), nn.input([3])), /add: shapes/);
  assert.throws(() => nn.dense(0), /units/);
});

test("initialisers are seeded and scaled", () => {
  const a = nn.initialize("glorotUniform", [100, 50], 1);
  assert.deepEqual(a, nn.initialize("glorotUniform", [100, 50], 1));
  assert.notDeepEqual(a, nn.initialize("glorotUniform", [100, 50], 2));
  const lim = Math.sqrt(6 / 150);
  assert.ok(
    a.every((v) => Math.abs(v) <= lim),
    "a.every((v) => Math.abs(v) <= lim)",
  );
  const he = nn.initialize("heNormal", [400, 300], 1);
  const std = Math.sqrt(he.reduce((s, v) => s + v * v, 0) / he.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 400)) < 0.005, `std ${std}`);
});

test("bad training data gives errors naming shapes", async () => {
  const model = mlp(1);
  await assert.rejects(
    fit(model, nx.tensor(new Float32Array(10 * 63), { shape: [10, 63] }), new Int32Array(10), {
      loss: "categoricalCrossEntropy",
      verbose: false,
    }),
    /x has shape \[10, 63\], the model expects \[n, 64\]/,
  );
  await assert.rejects(
    fit(model, nx.tensor(new Float32Array(10 * 64), { shape: [10, 64] }), new Int32Array(9), {
      loss: "categoricalCrossEntropy",
      verbose: false,
    }),
    /10 rows but y has 9/,
  );
  await assert.rejects(
    fit(model, nx.tensor(new Float32Array(2 * 64), { shape: [2, 64] }), Int32Array.from([0, 12]), {
      loss: "categoricalCrossEntropy",
      verbose: false,
    }),
    /label 12 at row 1 is outside 0..9/,
  );
  await assert.rejects(
    predict(model, nx.tensor(new Float32Array(5), { shape: [5] })),
    /predict: x has shape \[5\]/,
  );
  assert.throws(() => new Trainer(model, { loss: "nope" as "mse" }), /unknown 'nope'/);
});

test("regression with MSE and an embedding model train (losses go down)", async () => {
  const rand = mulberry32(9);
  const n = 256;
  const x = new Float32Array(n * 3);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 3; j++) x[i * 3 + j] = rand() * 2 - 1;
    y[i] = 2 * x[i * 3]! - x[i * 3 + 1]! + 0.5 * x[i * 3 + 2]!;
  }
  const reg = nn.sequential([nn.dense(1)], { inputShape: [3] });
  const h = await fit(reg, nx.tensor(x, { shape: [n, 3] }), nx.tensor(y, { shape: [n, 1] }), {
    loss: "mse",
    optimizer: optim.adamw({ learningRate: 0.05 }),
    metrics: ["mae"],
    epochs: 30,
    verbose: false,
  });
  assert.ok(h.epochs.at(-1)!.mae! < 0.1, `mae ${h.epochs.at(-1)!.mae}`);
  // token id → class: parity of the token, via an embedding
  const ids = Int32Array.from({ length: 200 }, (_, i) => i % 20);
  const labels = Int32Array.from(ids, (v) => v % 2);
  const emb = nn.sequential([nn.embedding(20, 4), nn.flatten(), nn.dense(2)], { inputShape: [1] });
  const he = await fit(emb, nx.tensor(ids, { shape: [200, 1] }), labels, {
    loss: "categoricalCrossEntropy",
    optimizer: optim.adam({ learningRate: optim.exponentialDecay(0.05, 100, 0.5) }),
    metrics: ["accuracy"],
    epochs: 15,
    verbose: false,
  });
  assert.equal(he.epochs.at(-1)!.accuracy, 1);
});

test("schedules", () => {
  assert.equal(optim.exponentialDecay(1, 10, 0.5)(10), 0.5);
  assert.equal(optim.exponentialDecay(1, 10, 0.5, { staircase: true })(15), 0.5);
  assert.ok(
    Math.abs(optim.cosineDecay(1, 100)(50) - 0.5) < 1e-12,
    "Math.abs(optim.cosineDecay(1, 100)(50) - 0.5) < 1e-12",
  );
  assert.equal(optim.cosineDecay(1, 100, { alpha: 0.1 })(1000), 0.1);
  assert.equal(optim.piecewiseConstant([10, 20], [1, 0.1, 0.01])(15), 0.1);
  assert.equal(optim.linearWarmup(10, 1)(4), 0.5);
  assert.throws(() => optim.sgd({ nesterov: true }), /momentum/);
});

/**
 * Finite-difference check (f32, as training runs) of nx.grad through the ops the layers, losses and
 * activations are built from: the loss `build` of named random inputs.
 */
function gradCheck(
  inputs: Record<string, number[]>,
  build: (v: Record<string, nx.Tensor>) => nx.Tensor,
) {
  const names = Object.keys(inputs);
  const rand = mulberry32(11);
  const data: Record<string, Float32Array> = {};
  for (const [k, s] of Object.entries(inputs))
    data[k] = Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  const args = () => names.map((k) => nx.tensor(data[k]!.slice(), { shape: inputs[k]! }));
  const f = (...xs: nx.Tensor[]) => build(Object.fromEntries(names.map((k, i) => [k, xs[i]!])));
  const loss = nx.jit(f);
  const grads = nx.grad(
    f,
    names.map((_, i) => i),
  )(...args()) as nx.Tensor[];
  const eps = 1e-2;
  names.forEach((k, gi) => {
    const g = grads[gi]!.dataSync() as Float32Array;
    for (let i = 0; i < data[k]!.length; i += Math.max(1, Math.floor(data[k]!.length / 12))) {
      const orig = data[k]![i]!;
      data[k]![i] = orig + eps;
      const up = loss(...args()).item() as number;
      data[k]![i] = orig - eps;
      const down = loss(...args()).item() as number;
      data[k]![i] = orig;
      const num = (up - down) / (2 * eps);
      assert.ok(
        Math.abs(num - g[i]!) <= 2e-2 * Math.max(1, Math.abs(num)),
        `d loss/d ${k}[${i}]: numeric ${num}, symbolic ${g[i]}`,
      );
    }
  });
}

const gelu = (x: nx.Tensor) =>
  nx.multiply(x, nx.multiply(nx.add(nx.erf(nx.multiply(x, Math.SQRT1_2)), 1), 0.5));

test("gradients match finite differences: dense, activations, softmax, broadcasting", () => {
  gradCheck({ x: [3, 4], w: [4, 5], b: [5] }, (v) => {
    const h = nx.add(nx.matmul(v.x!, v.w!), v.b!);
    const a = nx.add(nx.add(nx.tanh(h), nx.sigmoid(h)), nx.add(gelu(h), nx.relu(h)));
    const s = nx.multiply(
      nx.softmax(a),
      nx.logSoftmax(nx.divide(a, nx.add(nx.exp(nx.negate(nx.abs(h))), 1))),
    );
    return nx.add(nx.mean(s), nx.sum(nx.sqrt(nx.add(nx.square(h), 1))));
  });
});

test("gradients match finite differences: conv2d (same, strided), maxPool2d, layerNorm", () => {
  gradCheck({ x: [2, 2, 6, 6], w: [3, 2, 3, 3], w2: [2, 3, 3, 3] }, (v) => {
    const c = nx.conv2d(v.x!, v.w!, { padding: 1 });
    const p = nx.maxPool2d(nx.tanh(c), 2);
    const c2 = nx.conv2d(c, v.w2!, { strides: 2 });
    const f = nx.reshape(nx.add(nx.reshape(p, [2, -1]), 0), [2, 27]);
    const mu = nx.mean(f, { axes: [-1], keepDims: true });
    const ln = nx.divide(
      nx.subtract(f, mu),
      nx.sqrt(nx.add(nx.mean(nx.square(nx.subtract(f, mu)), { axes: [-1], keepDims: true }), 1e-5)),
    );
    return nx.add(nx.sum(nx.multiply(ln, ln)), nx.sum(nx.tanh(c2)));
  });
});

test("fit, evaluate and onnx.run take tsnb/nx tensors", async () => {
  const x = nx.tensor(
    [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ],
    { dtype: "f32" },
  );
  const y = nx.tensor([0, 1, 1, 0], { dtype: "i32" });
  const model = nn.sequential([nn.dense(8, { activation: "tanh" }), nn.dense(2)], {
    inputShape: [2],
    seed: 2,
  });
  const tr = new Trainer(model, {
    loss: "categoricalCrossEntropy",
    optimizer: optim.adam({ learningRate: 0.05 }),
    metrics: ["accuracy"],
  });
  await tr.fit(x, y, { epochs: 150, batchSize: 4, verbose: false });
  assert.equal((await tr.evaluate(x, y)).accuracy, 1, "learns XOR");
  const m = await onnx.load(exportOnnx(model));
  const out = await m.run({ input: x });
  assert.ok(out.output instanceof nx.Tensor, "out.output instanceof nx.Tensor");
  assert.deepEqual(out.output!.argmax({ axis: 1 }).toArraySync(), [0, 1, 1, 0]);
  await assert.rejects(
    m.run({ input: nx.tensor([[1, 2]], { dtype: "f64" }) }),
    /dtype f64, expected f32/,
  );
});

test("batchNorm normalises with batch statistics in training and keeps running averages", async () => {
  const model = nn.sequential([nn.batchNorm({ momentum: 1 })], { inputShape: [2] });
  const x = nx.tensor(Float32Array.from([1, 10, 2, 20, 3, 30, 6, 40]), { shape: [4, 2] });
  const tr = new Trainer(model, { loss: "mse", optimizer: optim.sgd({ learningRate: 0 }) });
  await tr.fit(x, nx.tensor(new Float32Array(8), { shape: [4, 2] }), {
    epochs: 1,
    batchSize: 4,
    shuffle: false,
    verbose: false,
  });
  assert.deepEqual([...model.params.get("batchNorm_0.runningMean")!.data], [3, 25]);
  const v = model.params.get("batchNorm_0.runningVar")!.data;
  assert.ok(
    Math.abs(v[0]! - 14 / 3) < 1e-4 && Math.abs(v[1]! - 500 / 3) < 1e-3,
    `unbiased running variance ${[...v]}`,
  );
  assert.equal(model.params.get("batchNorm_0.gamma")!.trainable, true);
  assert.equal(model.params.get("batchNorm_0.runningMean")!.trainable, false);
  // inference uses the running statistics: (x - mean) / sqrt(var + eps)
  const out = (
    await tr.predict(nx.tensor(Float32Array.from([3, 25]), { shape: [1, 2] }))
  ).dataSync();
  assert.ok(
    Math.abs(out[0] as number) < 1e-6 && Math.abs(out[1] as number) < 1e-6,
    "Math.abs(out[0] as number) < 1e-6 && Math.abs(out[1] as number) < 1e-6",
  );
});

test("progress: a \\r line with epoch, batch, loss, metrics, elapsed and ETA; a live chart through the kernel bridge", async () => {
  const { xtr, ytr, xte, yte } = await digitsSplit();
  const emitted: Array<{ type: string; id?: string; dataset?: string }> = [];
  const pushed: Array<{
    id: string;
    rows: Array<{ step: number; metric: string; value: number }>;
  }> = [];
  const key = Symbol.for("tsnb.kernel");
  const g = globalThis as Record<symbol, unknown>;
  g[key] = {
    emit: (o: never) => emitted.push(o),
    update: (u: never) => pushed.push(u),
    newId: (p: string) => `${p}-1`,
    toOutput: async () => ({}),
  };
  const written: string[] = [];
  try {
    const tr = new Trainer(mlp(1), { loss: "categoricalCrossEntropy", metrics: ["accuracy"] });
    await tr.fit(xtr, ytr, {
      epochs: 2,
      batchSize: 64,
      validationData: [xte, yte],
      progressStream: { write: (t: string) => written.push(t) },
    });
  } finally {
    delete g[key];
  }
  const text = written.join("");
  assert.match(
    text,
    /\rEpoch 1\/2 {2}batch \d+\/\d+ {2}loss \d\.\d{4} accuracy \d\.\d{4} {2}\d+\.\ds elapsed, ETA \d+\.\ds/,
  );
  assert.match(
    text,
    /\rEpoch 2\/2 {2}loss \d\.\d{4} {2}accuracy \d\.\d{4} {2}val_loss \d\.\d{4} {2}val_accuracy \d\.\d{4} {2}\(\d+\.\ds\)\n/,
  );
  assert.equal(emitted.length, 1);
  assert.equal(emitted[0]!.type, "vega-lite");
  assert.equal(emitted[0]!.dataset, "history");
  const rows = pushed.flatMap((p) => (assert.equal(p.id, emitted[0]!.id), p.rows));
  assert.ok(
    rows.some((r) => r.metric === "loss") && rows.some((r) => r.metric === "val_accuracy"),
    'rows.some((r) => r.metric === "loss") && rows.some((r) => r.metric === "val_accuracy")',
  );
});

test("binary classification: logits with BCE, or sigmoid probabilities with BCE(fromLogits: false)", async () => {
  const rand = mulberry32(5);
  const n = 200;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i * 2] = rand() * 2 - 1;
    x[i * 2 + 1] = rand() * 2 - 1;
    y[i] = x[i * 2]! + x[i * 2 + 1]! > 0 ? 1 : 0;
  }
  const data = nx.tensor(x, { shape: [n, 2] });
  const logits = nn.sequential([nn.dense(1)], { inputShape: [2] });
  const h1 = await fit(logits, data, y, {
    loss: "binaryCrossEntropy",
    optimizer: optim.adam({ learningRate: 0.1 }),
    metrics: ["accuracy"],
    epochs: 20,
    verbose: false,
  });
  assert.ok(h1.epochs.at(-1)!.accuracy! >= 0.97, `accuracy ${h1.epochs.at(-1)!.accuracy}`);
  const probs = nn.sequential([nn.dense(1, { activation: "sigmoid" })], { inputShape: [2] });
  const h2 = await fit(probs, data, y, {
    loss: losses.binaryCrossEntropy({ fromLogits: false }),
    optimizer: optim.adam({ learningRate: 0.1 }),
    metrics: ["accuracy"],
    epochs: 20,
    verbose: false,
  });
  assert.ok(h2.epochs.at(-1)!.accuracy! >= 0.97, `accuracy ${h2.epochs.at(-1)!.accuracy}`);
  const p = (await predict(probs, data)).dataSync() as Float32Array;
  assert.ok(
    p.every((v) => v > 0 && v < 1),
    "p.every((v) => v > 0 && v < 1)",
  );
});

test("display outputs (model summary, history chart, ONNX model) pass the kernel protocol's output check", async () => {
  const { checkOutput } = await import("../../core/kernel-protocol.ts");
  const model = mlp(1);
  const tr = new Trainer(model, { loss: "categoricalCrossEntropy", metrics: ["accuracy"] });
  const { xtr, ytr } = await digitsSplit();
  const h = await tr.fit(xtr, ytr, { epochs: 1, verbose: false });
  for (const out of [
    model[DISPLAY](),
    h[DISPLAY](),
    (await onnx.load(exportOnnx(model)))[DISPLAY](),
  ]) {
    assert.doesNotThrow(() => checkOutput(out));
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(out)), "plain JSON");
  }
});

test("a kernel interrupt (the evaluation's AbortSignal) stops training between steps", async () => {
  const { xtr, ytr } = await digitsSplit();
  const key = Symbol.for("tsnb.interrupt");
  const g = globalThis as Record<symbol, unknown>;
  const ctrl = new AbortController();
  g[key] = ctrl.signal;
  try {
    const tr = new Trainer(mlp(4), { loss: "categoricalCrossEntropy" });
    const running = tr.fit(xtr, ytr, {
      epochs: 1000,
      batchSize: 8,
      verbose: false,
      yieldEveryMs: 5,
    });
    g[key] = new AbortController().signal; // a later evaluation's signal does not matter to this fit
    setTimeout(() => ctrl.abort(), 30);
    const h = await running;
    assert.equal(h.stopped, "interrupted");
    assert.equal(h.steps.at(-1)!.step, tr.step, "the last completed step is recorded and kept");
  } finally {
    delete g[key];
  }
});

test("several steps per session run (ONNX Loop) train the same as one step per run", async () => {
  const { xtr, ytr } = await digitsSplit();
  const run = async (stepsPerRun: number) => {
    const model = mlp(9);
    const tr = new Trainer(model, {
      loss: "categoricalCrossEntropy",
      optimizer: optim.adamw({ learningRate: optim.cosineDecay(2e-3, 100) }),
      metrics: ["accuracy"],
      seed: 2,
    });
    const h = await tr.fit(xtr, ytr, { epochs: 2, batchSize: 64, verbose: false, stepsPerRun });
    return { model, h, tr };
  };
  const one = await run(1);
  const eight = await run(8);
  assert.equal(eight.tr.step, one.tr.step);
  assert.equal(eight.h.steps.length, one.h.steps.length);
  for (let i = 0; i < one.h.steps.length; i++)
    assert.ok(Math.abs(one.h.steps[i]!.loss - eight.h.steps[i]!.loss) < 1e-4, `step ${i + 1}`);
  for (const [k, p] of one.model.params) {
    const q = eight.model.params.get(k)!.data;
    let d = 0;
    for (let i = 0; i < p.data.length; i++) d = Math.max(d, Math.abs(p.data[i]! - q[i]!));
    assert.ok(d < 1e-4, `${k} differs by ${d}`);
  }
  assert.ok(
    Math.abs(one.h.epochs[1]!.accuracy! - eight.h.epochs[1]!.accuracy!) < 1e-9,
    "Math.abs(one.h.epochs[1]!.accuracy! - eight.h.epochs[1]!.accuracy!) < 1e-9",
  );
});

test("losses, metrics and optimizers by Keras/PyTorch-style names", async () => {
  const rand = mulberry32(3);
  const xd = Float32Array.from({ length: 64 * 2 }, () => rand() * 2 - 1);
  const x = nx.tensor(xd, { shape: [64, 2] });
  const y = Int32Array.from({ length: 64 }, (_, i) => (xd[i * 2]! > 0 ? 1 : 0));
  const model = nn.sequential([nn.dense(2)], { inputShape: [2] });
  const h = await fit(model, x, y, {
    loss: "sparse_categorical_crossentropy" as "categoricalCrossEntropy",
    optimizer: "adam",
    metrics: ["acc" as "accuracy"],
    epochs: 2,
    verbose: false,
  });
  assert.ok(h.epochs[0]!.accuracy !== undefined, "h.epochs[0]!.accuracy !== undefined");
  assert.throws(
    () => new Trainer(model, { loss: "mse", optimizer: "rmsprop" as "sgd" }),
    /optimizer: unknown 'rmsprop'/,
  );
  assert.throws(
    () => new Trainer(model, { loss: "mse", metrics: ["f1" as "mae"] }),
    /metric: unknown 'f1'/,
  );
});

test("a sequential model without inputShape takes it from the first data", async () => {
  const { xtr, ytr, xte, yte } = await digitsSplit();
  const model = nn.sequential([nn.dense(32, { activation: "relu" }), nn.dense(10)]);
  assert.equal(model.built, false);
  assert.equal((model[DISPLAY]() as { type: string }).type, "markdown");
  assert.throws(() => exportOnnx(model), /input shape is not known yet/);
  const tr = new Trainer(model, { loss: "categoricalCrossEntropy", metrics: ["accuracy"] });
  await tr.fit(xtr, ytr, { epochs: 8, verbose: false });
  assert.equal(model.built, true);
  assert.deepEqual(model.inputShape, [64]);
  assert.equal(model.parameterCount, 64 * 32 + 32 + 32 * 10 + 10);
  const acc = (await tr.evaluate(xte, yte)).accuracy!;
  assert.ok(acc > 0.9, `accuracy ${acc}`);
  await assert.rejects(
    tr.predict(nx.tensor(new Float32Array(10), { shape: [1, 10] })),
    /x has shape \[1, 10\], the model expects \[n, 64\]/,
  );
  const lazy = nn.sequential([nn.dense(3)]);
  assert.deepEqual(
    (await predict(lazy, nx.tensor(new Float32Array(8), { shape: [2, 4] }))).shape,
    [2, 3],
  );
});

test("a CNN on the digits learns, and trains the same on 1 and 2 threads (the max-pool gradient's two lowerings)", async () => {
  const { xtr, ytr, xte, yte } = await digitsSplit();
  const images = (x: nx.Tensor) => x.reshape([-1, 1, 8, 8]);
  const run = async (threads: number) => {
    const model = nn.sequential(
      [
        nn.conv2d(16, { kernelSize: 3, padding: "same", activation: "relu" }),
        nn.maxPool2d(2),
        nn.conv2d(32, { kernelSize: 3, padding: "same", activation: "relu" }),
        nn.maxPool2d(2),
        nn.flatten(),
        nn.dense(10),
      ],
      { inputShape: [1, 8, 8], seed: 3 },
    );
    const tr = new Trainer(model, {
      loss: "categoricalCrossEntropy",
      metrics: ["accuracy"],
      optimizer: optim.adam({ learningRate: 3e-3 }),
      threads,
      seed: 1,
    });
    const history = await tr.fit(images(xtr), ytr, { epochs: 8, batchSize: 32, verbose: false });
    const ev = await tr.evaluate(images(xte), yte);
    return { losses: history.epochs.map((e) => e["loss"]!), accuracy: ev["accuracy"]! };
  };
  const one = await run(1);
  const two = await run(2);
  assert.ok(one.accuracy > 0.95, `test accuracy ${one.accuracy}`);
  // the same positions get the same gradients: the runs differ only in float summation order
  for (let e = 0; e < one.losses.length; e++)
    assert.ok(
      Math.abs(one.losses[e]! - two.losses[e]!) < 1e-3,
      `epoch ${e + 1} loss ${one.losses[e]} (1 thread) vs ${two.losses[e]} (2 threads)`,
    );
});
