/**
 * The training smart cell (no anchor has one): data (x and y tensor bindings from the scan, or
 * one of `datasets`), validation (a split, other bindings, or none), the model (layers built in
 * the form — dense sizes, activations, dropout — or an existing model binding), loss, optimizer
 * and learning rate, epochs, batch size, metrics, seed, early stopping. Generates the
 * `train.fit` call with its live chart; the cell's result is the last epoch's metrics.
 * Chunks: preparing a dataset (only when one is chosen), then building and training the model.
 */
import {
  arr,
  arrow,
  awaitExpr,
  blank,
  call,
  constStmt,
  exprStmt,
  id,
  importStmt,
  lit,
  member,
  obj,
  printStatements,
  type Expr,
  type Stmt,
} from "./printer.ts";
import type { Schema } from "./schema.ts";
import type { Attrs, FieldContext, FormField, Option, SmartCellDefinition } from "./types.ts";

export const ACTIVATIONS = ["relu", "gelu", "tanh", "sigmoid", "linear"] as const;
export const LOSSES = ["categoricalCrossEntropy", "binaryCrossEntropy", "mse", "mae"] as const;
export const OPTIMIZERS = ["adam", "adamw", "sgd"] as const;
export const DATASETS = {
  penguins: {
    label: "datasets.penguins (species from 4 measurements)",
    classes: 3,
  },
  digits: { label: "datasets.digits (8×8 handwritten digits)", classes: 10 },
} as const;
type DatasetName = keyof typeof DATASETS;

export interface HiddenLayer {
  units: number;
  activation: (typeof ACTIVATIONS)[number];
  dropout: number;
}

export interface TrainAttrs extends Attrs {
  version: 1;
  /** "bindings": x and y from the scan; else a dataset name. */
  source: "bindings" | DatasetName;
  x: string | null;
  y: string | null;
  validation: "split" | "bindings" | "none";
  validationSplit: number;
  xVal: string | null;
  yVal: string | null;
  /** "build": layers from the form; "binding": an existing model. */
  model: "build" | "binding";
  modelBinding: string | null;
  hidden: HiddenLayer[];
  /** Units of the last dense layer (classes, or outputs); null: the dataset's number of classes. */
  outputUnits: number | null;
  loss: (typeof LOSSES)[number];
  optimizer: (typeof OPTIMIZERS)[number];
  learningRate: number;
  epochs: number;
  batchSize: number;
  metrics: { accuracy: boolean; mae: boolean };
  seed: number;
  earlyStopping: boolean;
  patience: number;
  /** Names the code defines. */
  modelName: string;
  historyName: string;
}

const name = (nullable: boolean): Schema => ({ type: "string", identifier: true, nullable });

const schema: Schema = {
  type: "object",
  fields: {
    version: { type: "literal", value: 1 },
    source: { type: "string", enum: ["bindings", ...Object.keys(DATASETS)], default: "bindings" },
    x: name(true),
    y: name(true),
    validation: { type: "string", enum: ["split", "bindings", "none"], default: "split" },
    validationSplit: { type: "number", min: 0.01, max: 0.9, default: 0.2 },
    xVal: name(true),
    yVal: name(true),
    model: { type: "string", enum: ["build", "binding"], default: "build" },
    modelBinding: name(true),
    hidden: {
      type: "array",
      max: 20,
      default: [],
      items: {
        type: "object",
        fields: {
          units: { type: "number", integer: true, min: 1, max: 100_000, default: 32 },
          activation: { type: "string", enum: ACTIVATIONS, default: "relu" },
          dropout: { type: "number", min: 0, max: 0.95, default: 0 },
        },
      },
    },
    outputUnits: { type: "number", integer: true, min: 1, max: 100_000, nullable: true },
    loss: { type: "string", enum: LOSSES, default: "categoricalCrossEntropy" },
    optimizer: { type: "string", enum: OPTIMIZERS, default: "adam" },
    learningRate: { type: "number", min: 0, max: 10, default: 0.01 },
    epochs: { type: "number", integer: true, min: 1, max: 100_000, default: 20 },
    batchSize: { type: "number", integer: true, min: 1, max: 1_000_000, default: 32 },
    metrics: {
      type: "object",
      fields: {
        accuracy: { type: "boolean", default: true },
        mae: { type: "boolean", default: false },
      },
    },
    seed: { type: "number", integer: true, min: 0, max: 2 ** 31 - 1, default: 0 },
    earlyStopping: { type: "boolean", default: false },
    patience: { type: "number", integer: true, min: 1, max: 10_000, default: 5 },
    modelName: { type: "string", identifier: true, default: "model" },
    historyName: { type: "string", identifier: true, default: "history" },
  },
};

function defaultAttrs(): TrainAttrs {
  return {
    version: 1,
    source: "penguins",
    x: null,
    y: null,
    validation: "split",
    validationSplit: 0.2,
    xVal: null,
    yVal: null,
    model: "build",
    modelBinding: null,
    hidden: [{ units: 16, activation: "relu", dropout: 0 }],
    outputUnits: null,
    loss: "categoricalCrossEntropy",
    optimizer: "adam",
    learningRate: 0.01,
    epochs: 20,
    batchSize: 16,
    metrics: { accuracy: true, mae: false },
    seed: 0,
    earlyStopping: false,
    patience: 5,
    modelName: "model",
    historyName: "history",
  };
}

// ---- code ----

const PENGUIN_COLUMNS = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];

/** The dataset chunk and the names of its x and y. */
function datasetChunk(source: DatasetName): { stmts: Stmt[]; x: string; y: string } {
  if (source === "penguins")
    return {
      x: "penguinFeatures",
      y: "penguinSpecies",
      stmts: [
        importStmt(["datasets"], "tsnb"),
        blank,
        constStmt("penguinColumns", arr(PENGUIN_COLUMNS.map(lit))),
        // Shuffled once, so the validation split (the last rows) holds every species.
        constStmt(
          "penguinRows",
          call(
            "datasets.shuffle",
            call(
              "datasets.dropMissing",
              awaitExpr(call("datasets.penguins")),
              id("penguinColumns"),
            ),
            lit(0),
          ),
        ),
        constStmt(
          "penguinFeatures",
          call(
            "datasets.standardize",
            call("datasets.recordsToTensor", id("penguinRows"), id("penguinColumns")),
          ),
        ),
        constStmt(
          "penguinSpecies",
          member(
            call(
              "datasets.labelEncode",
              call(member(id("penguinRows"), "map"), arrow(["p"], member(id("p"), "species"))),
            ),
            "indices",
          ),
        ),
      ],
    };
  return {
    x: "digitImages",
    y: "digitLabels",
    stmts: [
      importStmt(["datasets"], "tsnb"),
      blank,
      constStmt("digits", awaitExpr(call("datasets.digits"))),
      constStmt("digitImages", call("datasets.standardize", member(id("digits"), "images"))),
      constStmt("digitLabels", member(id("digits"), "labels")),
    ],
  };
}

function layersOf(a: TrainAttrs, outputUnits: number): Expr {
  const layers: Expr[] = [];
  for (const l of a.hidden) {
    layers.push(
      call(
        "nn.dense",
        lit(l.units),
        ...(l.activation === "linear" ? [] : [obj({ activation: lit(l.activation) })]),
      ),
    );
    if (l.dropout > 0) layers.push(call("nn.dropout", lit(l.dropout)));
  }
  const outAct = a.loss === "binaryCrossEntropy" ? [obj({ activation: lit("sigmoid") })] : [];
  layers.push(call("nn.dense", lit(outputUnits), ...outAct));
  return arr(layers);
}

function toSource(a: TrainAttrs): string[] {
  const chunks: string[] = [];
  let x = a.x;
  let y = a.y;
  if (a.source !== "bindings") {
    const d = datasetChunk(a.source);
    chunks.push(printStatements(d.stmts));
    x = d.x;
    y = d.y;
  }
  if (x === null || y === null) return [];
  const outputUnits =
    a.outputUnits ?? (a.source !== "bindings" ? DATASETS[a.source].classes : null);
  if (a.model === "build" && outputUnits === null) return [];
  if (a.model === "binding" && a.modelBinding === null) return [];
  if (a.validation === "bindings" && (a.xVal === null || a.yVal === null)) return [];
  const names = ["nn", "optim", "train"].filter((n) => n !== "nn" || a.model === "build");
  const stmts: Stmt[] = [importStmt(names, "tsnb"), blank];
  const model = a.model === "build" ? a.modelName : a.modelBinding!;
  if (a.model === "build")
    stmts.push(
      constStmt(
        a.modelName,
        call("nn.sequential", layersOf(a, outputUnits!), obj({ seed: lit(a.seed) })),
      ),
    );
  const metrics = (["accuracy", "mae"] as const).filter((m) => a.metrics[m]);
  const validation =
    a.validation === "split"
      ? { validationSplit: lit(a.validationSplit) }
      : a.validation === "bindings"
        ? { validationData: arr([id(a.xVal!), id(a.yVal!)]) }
        : {};
  const options = obj({
    loss: lit(a.loss),
    optimizer: call(`optim.${a.optimizer}`, obj({ learningRate: lit(a.learningRate) })),
    metrics: metrics.length > 0 ? arr(metrics.map(lit)) : undefined,
    epochs: lit(a.epochs),
    batchSize: lit(a.batchSize),
    ...validation,
    earlyStopping: a.earlyStopping
      ? obj({
          monitor: lit(a.validation === "none" ? "loss" : "val_loss"),
          patience: lit(a.patience),
        })
      : undefined,
    seed: lit(a.seed),
    liveChart: lit(true),
  });
  stmts.push(
    constStmt(a.historyName, awaitExpr(call("train.fit", id(model), id(x), id(y), options))),
    exprStmt(call(member(member(id(a.historyName), "epochs"), "at"), lit(-1)), true),
  );
  chunks.push(printStatements(stmts));
  return chunks;
}

// ---- form ----

const asOptions = (values: readonly string[]): Option[] =>
  values.map((v) => ({ value: v, label: v }));

function bindingOptions(kind: "tensor" | "model") {
  return (ctx: FieldContext<TrainAttrs>): Option[] =>
    ctx.scan.bindings
      .filter((b) => b.kind === kind)
      .map((b) => ({
        value: b.name,
        label:
          b.kind === "tensor"
            ? `${b.name} (${b.dtype} [${b.shape.join(", ")}])`
            : b.kind === "model"
              ? `${b.name} (${b.params.toLocaleString("en")} params)`
              : b.name,
      }));
}

const fromBindings = (ctx: FieldContext<TrainAttrs>) => ctx.attrs.source === "bindings";

const form: FormField<TrainAttrs>[] = [
  {
    type: "row",
    fields: [
      {
        type: "select",
        key: "source",
        label: "Data",
        options: [
          { value: "bindings", label: "Tensors from the notebook" },
          ...Object.entries(DATASETS).map(([value, d]) => ({ value, label: d.label })),
        ],
      },
      {
        type: "select",
        key: "x",
        label: "Inputs (x)",
        options: bindingOptions("tensor"),
        empty: "Choose",
        showIf: fromBindings,
      },
      {
        type: "select",
        key: "y",
        label: "Targets (y)",
        options: bindingOptions("tensor"),
        empty: "Choose",
        showIf: fromBindings,
      },
    ],
  },
  {
    type: "row",
    fields: [
      {
        type: "select",
        key: "validation",
        label: "Validation",
        options: [
          { value: "split", label: "Hold out a fraction" },
          { value: "bindings", label: "Other tensors" },
          { value: "none", label: "None" },
        ],
      },
      {
        type: "number",
        key: "validationSplit",
        label: "Validation fraction",
        min: 0.01,
        max: 0.9,
        step: 0.05,
        showIf: (c) => c.attrs.validation === "split",
      },
      {
        type: "select",
        key: "xVal",
        label: "Validation inputs",
        options: bindingOptions("tensor"),
        empty: "Choose",
        showIf: (c) => c.attrs.validation === "bindings",
      },
      {
        type: "select",
        key: "yVal",
        label: "Validation targets",
        options: bindingOptions("tensor"),
        empty: "Choose",
        showIf: (c) => c.attrs.validation === "bindings",
      },
    ],
  },
  {
    type: "row",
    fields: [
      {
        type: "select",
        key: "model",
        label: "Model",
        options: [
          { value: "build", label: "Build layers here" },
          { value: "binding", label: "An existing model" },
        ],
      },
      {
        type: "select",
        key: "modelBinding",
        label: "Existing model",
        options: bindingOptions("model"),
        empty: "Choose",
        showIf: (c) => c.attrs.model === "binding",
      },
      {
        type: "text",
        key: "modelName",
        label: "Model variable",
        showIf: (c) => c.attrs.model === "build",
      },
      {
        type: "number",
        key: "outputUnits",
        label: "Output units",
        min: 1,
        step: 1,
        empty: "classes",
        showIf: (c) => c.attrs.model === "build",
      },
    ],
  },
  {
    type: "group",
    key: "hidden",
    label: "Hidden layers",
    itemLabel: "Dense layer",
    max: 20,
    showIf: (c) => c.attrs.model === "build",
    newItem: () => ({ units: 32, activation: "relu", dropout: 0 }),
    fields: [
      {
        type: "row",
        fields: [
          { type: "number", key: "units", label: "Units", min: 1, step: 1 },
          {
            type: "select",
            key: "activation",
            label: "Activation",
            options: asOptions(ACTIVATIONS),
          },
          { type: "number", key: "dropout", label: "Dropout", min: 0, max: 0.95, step: 0.05 },
        ],
      },
    ],
  },
  {
    type: "row",
    fields: [
      { type: "select", key: "loss", label: "Loss", options: asOptions(LOSSES) },
      { type: "select", key: "optimizer", label: "Optimizer", options: asOptions(OPTIMIZERS) },
      { type: "number", key: "learningRate", label: "Learning rate", min: 0, step: 0.001 },
      { type: "number", key: "epochs", label: "Epochs", min: 1, step: 1 },
      { type: "number", key: "batchSize", label: "Batch size", min: 1, step: 1 },
    ],
  },
  {
    type: "row",
    fields: [
      { type: "checkbox", key: "metrics.accuracy", label: "Accuracy" },
      { type: "checkbox", key: "metrics.mae", label: "Mean absolute error" },
      { type: "number", key: "seed", label: "Seed", min: 0, step: 1 },
      { type: "checkbox", key: "earlyStopping", label: "Early stopping" },
      {
        type: "number",
        key: "patience",
        label: "Patience (epochs)",
        min: 1,
        step: 1,
        showIf: (c) => c.attrs.earlyStopping,
      },
      { type: "text", key: "historyName", label: "History variable" },
    ],
  },
];

export const trainCell: SmartCellDefinition<TrainAttrs> = {
  kind: "train",
  name: "Training",
  description: "Train a model on tensors or a dataset, with a live loss chart",
  version: 1,
  schema,
  scan: ["tensor", "model"],
  autoRun: false,
  defaultAttrs,
  toSource,
  form,
};
