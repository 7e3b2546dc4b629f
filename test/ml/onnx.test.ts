import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import * as onnx from "../../ml/onnx.ts";
import { DISPLAY } from "../../ml/host.ts";
import { readWav, decodeWav, encodeWav } from "../../ml/audio.ts";
import { detectSpeech, sileroModelPath } from "../../ml/vad.ts";
import { encodeModel, OnnxDataType } from "../../tensor/onnx/proto.ts";

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
    x: { dtype: "f32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
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
    m.run({ x: new Float32Array(3), b, z: b }),
    /unknown input 'z'[\s\S]*x: f32 \[batch\*, 3\][\s\S]*b: f32 \[3\]/,
  );
  await assert.rejects(m.run({ x: new Float32Array(3) }), /missing input 'b'/);
  await assert.rejects(m.run({ x: new Int32Array(3), b }), /input 'x' has dtype i32, expected f32/);
  await assert.rejects(
    m.run({ x: { dtype: "f32", shape: [2, 4], data: new Float32Array(8) }, b }),
    /shape \[2, 4\], expected \[batch\*, 3\]/,
  );
  await assert.rejects(
    m.run({ x: { dtype: "f32", shape: [3], data: new Float32Array(3) }, b }),
    /expected rank 2/,
  );
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

test("decodeWav reads 16-bit PCM and rejects other files", () => {
  const a = decodeWav(encodeWav(Float32Array.from([0, 0.5, -0.5, 1]), 8000));
  assert.equal(a.sampleRate, 8000);
  assert.equal(a.samples.length, 4);
  assert.ok(Math.abs(a.samples[1]! - 0.5) < 1e-4, "Math.abs(a.samples[1]! - 0.5) < 1e-4");
  assert.ok(Math.abs(a.samples[2]! + 0.5) < 1e-4, "Math.abs(a.samples[2]! + 0.5) < 1e-4");
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
