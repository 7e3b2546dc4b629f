// Golden `toSource` tests of the training smart cell: attrs → the code a person would write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { trainCell, type TrainAttrs } from "../../smart-cells/train.ts";
import { generate, parseAttrs } from "../../smart-cells/index.ts";
import { assertPrettierStable } from "./helpers.ts";

const attrs = (more: Partial<TrainAttrs>): TrainAttrs => ({
  ...trainCell.defaultAttrs({ bindings: [] }),
  ...more,
});

test("a dataset gives two chunks: preparing it, then the model and train.fit with the live chart", async () => {
  const { chunks } = generate(trainCell, attrs({ epochs: 30, earlyStopping: true }));
  assert.equal(chunks.length, 2);
  assert.equal(
    chunks[0],
    [
      'import { datasets } from "tsnb";',
      "",
      'const penguinColumns = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];',
      "const penguinRows = datasets.shuffle(",
      "  datasets.dropMissing(await datasets.penguins(), penguinColumns),",
      "  0,",
      ");",
      "const penguinFeatures = datasets.standardize(datasets.recordsToTensor(penguinRows, penguinColumns));",
      "const penguinSpecies = datasets.labelEncode(penguinRows.map((p) => p.species)).indices;",
    ].join("\n"),
  );
  assert.equal(
    chunks[1],
    [
      'import { nn, optim, train } from "tsnb";',
      "",
      'const model = nn.sequential([nn.dense(16, { activation: "relu" }), nn.dense(3)], { seed: 0 });',
      "const history = await train.fit(model, penguinFeatures, penguinSpecies, {",
      '  loss: "categoricalCrossEntropy",',
      "  optimizer: optim.adam({ learningRate: 0.01 }),",
      '  metrics: ["accuracy"],',
      "  epochs: 30,",
      "  batchSize: 16,",
      "  validationSplit: 0.2,",
      '  earlyStopping: { monitor: "val_loss", patience: 5 },',
      "  seed: 0,",
      "  liveChart: true,",
      "});",
      "history.epochs.at(-1)",
    ].join("\n"),
  );
  for (const c of chunks) await assertPrettierStable(c);
});

test("bindings, an existing model and validation tensors: one chunk, no layers", async () => {
  const src = generate(
    trainCell,
    attrs({
      source: "bindings",
      x: "xTrain",
      y: "yTrain",
      model: "binding",
      modelBinding: "net",
      validation: "bindings",
      xVal: "xTest",
      yVal: "yTest",
    }),
  ).source;
  assert.match(src, /^import \{ optim, train \} from "tsnb";/);
  assert.match(src, /train\.fit\(net, xTrain, yTrain, \{/);
  assert.match(src, /validationData: \[xTest, yTest\],/);
  await assertPrettierStable(src);
});

test("dropout layers, sigmoid output for binary cross-entropy; no code until x, y and units are chosen", () => {
  const src = generate(
    trainCell,
    attrs({
      source: "bindings",
      x: "x",
      y: "y",
      outputUnits: 1,
      loss: "binaryCrossEntropy",
      hidden: [{ units: 8, activation: "tanh", dropout: 0.25 }],
    }),
  ).source;
  assert.match(
    src,
    /\[nn\.dense\(8, \{ activation: "tanh" \}\), nn\.dropout\(0\.25\), nn\.dense\(1, \{ activation: "sigmoid" \}\)\]/,
  );
  assert.equal(generate(trainCell, attrs({ source: "bindings", x: "x", y: null })).source, "");
  assert.equal(
    generate(trainCell, attrs({ source: "bindings", x: "x", y: "y", outputUnits: null })).source,
    "",
  );
});

test("bad attrs are refused with the attr named", () => {
  const r = parseAttrs(trainCell, { version: 1, epochs: 0 });
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.error, /attrs\.epochs: must be ≥ 1/);
  const n = parseAttrs(trainCell, { version: 1, modelName: "my model" });
  assert.match(n.ok ? "" : n.error, /attrs\.modelName: must be a variable name/);
});
