/**
 * ONNX interop (Ortex's role): load any `.onnx` model, show its inputs and outputs, run it on
 * tensors by input name, get tensors back by output name.
 *
 * Invariants: sessions are cached per (model bytes or path, options) and never churned — ONNX
 * Runtime leaks a little per created session, and creation costs milliseconds. Sessions default to
 * one intra-op thread without spinning (a notebook kernel shares the machine with everything
 * else). Inputs are checked against the model's metadata before ONNX Runtime sees them, so a
 * wrong name, dtype or shape gives an error in tsnb's terms that lists what the model expects.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import ort from "onnxruntime-node";
import { readOnnxInfoFromBytes } from "../core/onnx-info.ts";
import type { Output } from "../core/outputs.ts";
import {
  DISPLAY,
  type HostData,
  type HostTensor,
  type NxTensor,
  fromOrtValue,
  isHostTensor,
  toHost,
  toHostSync,
} from "./host.ts";
import { explainProviders } from "../tensor/runtime.ts";
import { metadataList } from "../core/onnx-info.ts";

/** The dtypes ONNX Runtime tensors use (ort's `Tensor.Type`). */
export type OrtType = ort.Tensor.Type;

/** A model input or output as the model declares it. */
export interface ValueSpec {
  name: string;
  /** tsnb dtype name when tsnb has one (f32, f64, i32, i64, u8, bool), else ORT's (float16, string, …). */
  dtype: string;
  /** Dimensions: a number is fixed, a string is a named dynamic dimension, null an unnamed one. */
  shape: Array<number | string | null> | null;
  /** False for sequences and maps (shown, but run() only feeds tensors). */
  isTensor: boolean;
}

/** Options for {@link load}. */
export interface LoadOptions {
  /** ONNX Runtime execution providers, in preference order. Default ["cpu"]. */
  executionProviders?: string[];
  /** Intra-op threads of this session. Default 1. */
  intraOpThreads?: number;
  /** Graph optimisation level. Default "all". */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /**
   * Show a progress bar in the running cell while the file is read and the session prepared.
   * Default: for files of at least {@link PROGRESS_BYTES}.
   */
  progress?: boolean;
}

/** Files from this size up show a progress bar while they load (unless `progress: false`). */
export const PROGRESS_BYTES = 16 * 1024 * 1024;

/** One class of {@link OnnxModel.classify}'s answer. */
export interface ClassProbability {
  label: string;
  probability: number;
}

/** What {@link OnnxModel.classify} returns; shown as a bar chart of the probabilities. */
export class Classification {
  constructor(
    /** The most probable class's label. */
    readonly label: string,
    /** Its index among the model's outputs. */
    readonly index: number,
    /** Every class with its probability, in output order. */
    readonly probabilities: readonly ClassProbability[],
  ) {}

  [DISPLAY](): Output {
    const p = this.probabilities[this.index]?.probability ?? 0;
    return {
      type: "vega-lite",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: `Predicted: ${this.label} (${(p * 100).toFixed(1)}%)`,
        width: 320,
        data: { values: this.probabilities.map((c) => ({ ...c })) },
        mark: "bar",
        encoding: {
          y: { field: "label", type: "nominal", sort: null, title: "class" },
          x: {
            field: "probability",
            type: "quantitative",
            scale: { domain: [0, 1] },
            axis: { format: "%" },
          },
          color: {
            condition: { test: `datum.label === ${JSON.stringify(this.label)}`, value: "#2563eb" },
            value: "#9ca3af",
          },
        },
      },
    };
  }

  toString(): string {
    return `${this.label} (${this.probabilities.map((c) => `${c.label} ${(c.probability * 100).toFixed(1)}%`).join(", ")})`;
  }
}

interface KernelProgress {
  newId(prefix: string): string;
  emit(o: Output): void;
  update(o: unknown): void;
}

function kernelBridge(): KernelProgress | undefined {
  const bridge = (globalThis as Record<symbol, unknown>)[Symbol.for("tsnb.kernel")] as
    KernelProgress | undefined;
  return bridge && typeof bridge.emit === "function" ? bridge : undefined;
}

/** What `run` accepts for one input: an nx tensor, an onnxruntime `Tensor`, a typed array, a number or nested arrays of numbers. */
export type FeedValue =
  NxTensor | ort.Tensor | HostData | number | bigint | boolean | NestedNumbers;

/** Nested arrays of numbers (they take the model's dtype). */
export type NestedNumbers = number | boolean | NestedNumbers[];

const ORT_TO_DTYPE: Record<string, string> = {
  float32: "f32",
  float64: "f64",
  int32: "i32",
  int64: "i64",
  uint8: "u8",
  bool: "bool",
  int8: "i8",
  int16: "i16",
  uint16: "u16",
  uint32: "u32",
  uint64: "u64",
  float16: "f16",
  string: "string",
};
const DTYPE_TO_ORT: Record<string, OrtType> = Object.fromEntries(
  Object.entries(ORT_TO_DTYPE).map(([k, v]) => [v, k as OrtType]),
) as Record<string, OrtType>;

/** tsnb's dtype name for an ORT tensor type. */
export function dtypeOfOrt(t: string): string {
  return ORT_TO_DTYPE[t] ?? t;
}

/** ORT's tensor type for a tsnb dtype name. */
export function ortOfDtype(d: string): OrtType {
  const t = DTYPE_TO_ORT[d];
  if (t === undefined) throw new Error(`onnx: dtype '${d}' has no ONNX Runtime equivalent`);
  return t;
}

function formatShape(shape: ValueSpec["shape"]): string {
  if (shape === null) return "unknown";
  return (
    "[" +
    shape.map((d) => (typeof d === "number" && d >= 0 ? String(d) : `${d ?? "?"}*`)).join(", ") +
    "]"
  );
}

function describe(specs: readonly ValueSpec[]): string {
  return specs.map((s) => `  ${s.name}: ${s.dtype} ${formatShape(s.shape)}`).join("\n");
}

function specOf(m: ort.InferenceSession.ValueMetadata): ValueSpec {
  if (!m.isTensor) return { name: m.name, dtype: "non-tensor", shape: null, isTensor: false };
  const shape = m.shape.map((d) =>
    typeof d === "number" ? (d >= 0 ? d : null) : d === "" ? null : d,
  );
  return { name: m.name, dtype: dtypeOfOrt(m.type), shape, isTensor: true };
}

const sessionCache = new Map<string, Promise<ort.InferenceSession>>();

function sessionOptions(o: LoadOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: o.executionProviders ?? ["cpu"],
    intraOpNumThreads: o.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: o.graphOptimizationLevel ?? "all",
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  };
}

/**
 * A cached ONNX Runtime session for model bytes (keyed by content hash and options).
 * Used by the training compiler too, so that a recompiled identical graph reuses its session.
 */
export function cachedSession(
  bytes: Uint8Array,
  o: LoadOptions = {},
): Promise<ort.InferenceSession> {
  const key = createHash("sha1").update(bytes).digest("hex") + JSON.stringify(o);
  let s = sessionCache.get(key);
  if (!s) {
    s = ort.InferenceSession.create(bytes, sessionOptions(o));
    s.catch(() => sessionCache.delete(key));
    sessionCache.set(key, s);
  }
  return s;
}

/** A loaded ONNX model. Display it in a cell to see its inputs and outputs. */
export class OnnxModel {
  /** The inputs the model expects, in order. */
  readonly inputs: readonly ValueSpec[];
  /** The outputs the model produces, in order. */
  readonly outputs: readonly ValueSpec[];
  private readonly expected: Map<string, ValueSpec>;

  constructor(
    /** The underlying ONNX Runtime session (for advanced use; shared through the cache). */
    readonly session: ort.InferenceSession,
    /** Where the model came from (a path, or "bytes"). */
    readonly source: string,
    /** The model's metadata properties (ModelProto.metadata_props); tsnb's exports write `tsnb.*`. */
    readonly metadata: Readonly<Record<string, string>> = {},
  ) {
    this.inputs = session.inputMetadata.map(specOf);
    this.outputs = session.outputMetadata.map(specOf);
    this.expected = new Map(this.inputs.map((spec) => [spec.name, spec]));
  }

  private metaList<T>(key: string, ok: (v: unknown) => v is T): T[] | null {
    return metadataList(this.metadata, key, ok);
  }

  /** Class names saved with the model (`train.saveOnnx(model, path, {labels})`), or null. */
  get labels(): string[] | null {
    return this.metaList("tsnb.labels", (v): v is string => typeof v === "string");
  }

  /** Input column names saved with the model (`{features}`), or null. */
  get features(): string[] | null {
    return this.metaList("tsnb.features", (v): v is string => typeof v === "string");
  }

  /**
   * Classify one row of a tabular model (one input [batch, k], one output [batch, classes]): the
   * row by feature name (`{beak_length_mm: 39.1, …}`, names from `features`) or as k numbers; it
   * is standardised with the mean and std saved with the model, if any. Outputs that are not
   * probabilities already (logits) go through a softmax.
   */
  async classify(
    row: Readonly<Record<string, number | null | undefined>> | readonly number[],
  ): Promise<Classification> {
    const fail = (msg: string): never => {
      throw new Error(`classify: ${msg}`);
    };
    const spec = this.inputs[0];
    if (this.inputs.length !== 1 || !spec?.shape || spec.shape.length !== 2)
      fail(`the model must take one [batch, columns] input; it expects\n${describe(this.inputs)}`);
    const width = spec!.shape![1];
    const names =
      this.features ??
      (typeof width === "number" ? Array.from({ length: width }, (_, i) => `x${i}`) : null);
    if (names === null) return fail(`the number of columns of input '${spec!.name}' is not fixed`);
    const values = names.map((name, i) => {
      const v = Array.isArray(row) ? row[i] : (row as Record<string, unknown>)[name];
      if (typeof v !== "number" || !Number.isFinite(v))
        fail(
          `'${name}' must be a number, got ${v === null || v === undefined ? "nothing" : JSON.stringify(v)}`,
        );
      return v as number;
    });
    const mean = this.metaList("tsnb.mean", (v): v is number => typeof v === "number");
    const std = this.metaList("tsnb.std", (v): v is number => typeof v === "number");
    const x =
      mean && std && mean.length === values.length && std.length === values.length
        ? values.map((v, i) => (v - mean[i]!) / (std[i]! || 1))
        : values;
    const data = spec!.dtype === "f64" ? Float64Array.from(x) : Float32Array.from(x);
    const out = await this.run({
      [spec!.name]: new ort.Tensor(spec!.dtype === "f64" ? "float64" : "float32", data, [
        1,
        x.length,
      ]),
    });
    const first = out[this.outputs[0]!.name]!;
    const scores = Array.from(first.dataSync() as ArrayLike<number>, Number);
    const sum = scores.reduce((a, b) => a + b, 0);
    const isProb = scores.every((p) => p >= 0 && p <= 1) && Math.abs(sum - 1) < 1e-3;
    const max = Math.max(...scores);
    const exps = scores.map((s) => Math.exp(s - max));
    const total = exps.reduce((a, b) => a + b, 0);
    const probs = isProb ? scores : exps.map((e) => e / total);
    const labels = this.labels ?? probs.map((_, i) => `class ${i}`);
    if (labels.length !== probs.length)
      fail(`the model gives ${probs.length} scores and has ${labels.length} labels`);
    let best = 0;
    probs.forEach((p, i) => {
      if (p > probs[best]!) best = i;
    });
    return new Classification(
      labels[best]!,
      best,
      probs.map((p, i) => ({ label: labels[i]!, probability: p })),
    );
  }

  /** The expected inputs and outputs as text, used in error messages. */
  signature(): string {
    return `inputs:\n${describe(this.inputs)}\noutputs:\n${describe(this.outputs)}`;
  }

  /**
   * Convert feeds to ORT tensors, refusing before ONNX Runtime only what ONNX Runtime itself would
   * refuse (a missing input, a dtype other than the declared one, a rank other than the declared
   * one — except for declared scalars, which take any shape, as ORT lets `[1]` through for Silero's
   * `sr` —, a fixed dimension of another size), with an error listing what the model expects.
   * Names the model does not have are ignored when every input is given (as ORT does).
   */
  prepare(feeds: Record<string, FeedValue>): Record<string, ort.Tensor> {
    const fail = (msg: string): never => {
      throw new Error(
        `onnx.run: ${msg}\nThe model (${this.source}) expects\n${describe(this.inputs)}`,
      );
    };
    if (feeds === null || typeof feeds !== "object")
      fail(`expected an object of inputs by name, got ${feeds === null ? "null" : typeof feeds}`);
    const missing = this.inputs.filter((s) => !(s.name in feeds)).map((s) => s.name);
    if (missing.length > 0) {
      const unknown = Object.keys(feeds).filter((k) => !this.expected.has(k));
      fail(
        `missing input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")}` +
          (unknown.length
            ? ` (given ${unknown.map((u) => `'${u}'`).join(", ")}, which the model does not have)`
            : ""),
      );
    }
    const out: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) {
      if (!spec.isTensor) fail(`input '${spec.name}' is not a tensor; tsnb only feeds tensors`);
      const t = toOrtFeed(feeds[spec.name]!, spec, fail);
      const dtype = dtypeOfOrt(t.type);
      if (dtype !== spec.dtype)
        fail(
          `input '${spec.name}' has dtype ${dtype}, expected ${spec.dtype}${spec.dtype in DTYPE_TO_ORT ? ` (cast it first, e.g. nx.cast(x, "${spec.dtype}"))` : ""}`,
        );
      const dims = t.dims as readonly number[];
      if (spec.shape !== null && spec.shape.length > 0) {
        if (dims.length !== spec.shape.length)
          fail(
            `input '${spec.name}' has shape [${dims.join(", ")}] (rank ${dims.length}), expected rank ${spec.shape.length} ${formatShape(spec.shape)}`,
          );
        spec.shape.forEach((d, i) => {
          if (typeof d === "number" && d !== dims[i])
            fail(
              `input '${spec.name}' has shape [${dims.join(", ")}], expected ${formatShape(spec.shape)} (dimension ${i} must be ${d})`,
            );
        });
      }
      out[spec.name] = t;
    }
    return out;
  }

  /** Named dynamic dimensions that differ between inputs (a likely cause when the model fails). */
  private dimensionConflicts(prepared: Record<string, ort.Tensor>): string[] {
    const seen = new Map<string, { size: number; input: string }>();
    const notes: string[] = [];
    for (const spec of this.inputs) {
      const dims = prepared[spec.name]?.dims;
      if (!dims || !spec.shape || spec.shape.length !== dims.length) continue;
      spec.shape.forEach((d, i) => {
        if (typeof d !== "string") return;
        const prev = seen.get(d);
        if (prev && prev.size !== dims[i])
          notes.push(
            `input '${spec.name}' has ${d}=${dims[i]} (dimension ${i}) but input '${prev.input}' has ${d}=${prev.size}`,
          );
        else if (!prev) seen.set(d, { size: dims[i]!, input: spec.name });
      });
    }
    return notes;
  }

  /** Run the model: inputs by name (nx tensors, typed arrays, numbers), outputs by name as nx tensors. */
  async run(feeds: Record<string, FeedValue>): Promise<Record<string, NxTensor>> {
    const prepared = this.prepare(feeds);
    let res: ort.InferenceSession.ReturnType;
    try {
      res = await this.session.run(prepared);
    } catch (e) {
      const shapes = Object.entries(prepared)
        .map(([k, t]) => `${k}: ${dtypeOfOrt(t.type)} [${t.dims.join(", ")}]`)
        .join(", ");
      const notes = this.dimensionConflicts(prepared);
      throw new Error(
        `onnx.run: the model (${this.source}) failed on inputs ${shapes}: ${String((e as Error).message ?? e).split("\n")[0]}` +
          (notes.length ? `\n(note: ${notes.join("; ")})` : ""),
        { cause: e },
      );
    }
    const out: Record<string, NxTensor> = {};
    for (const name of this.session.outputNames) out[name] = fromOrtValue(res[name]!);
    return out;
  }

  /** A Markdown summary: the inputs and outputs with dtypes and dimensions (dynamic ones marked *). */
  toMarkdown(): string {
    const rows = (specs: readonly ValueSpec[], kind: string) =>
      specs
        .map(
          (s) =>
            `| ${kind} | \`${s.name}\` | ${s.dtype} | ${formatShape(s.shape).replace(/\*/g, "\\*")} |`,
        )
        .join("\n");
    return (
      `**ONNX model** ${this.source === "bytes" ? "" : `\`${this.source}\``}\n\n` +
      `| | name | dtype | shape |\n|---|---|---|---|\n${rows(this.inputs, "input")}\n${rows(this.outputs, "output")}\n\n` +
      `*dynamic dimension (any size)`
    );
  }

  [DISPLAY](): Output {
    return { type: "markdown", text: this.toMarkdown() };
  }

  toString(): string {
    return `OnnxModel(${this.source})\n${this.signature()}`;
  }
}

const TYPED: Array<[new (...a: never[]) => ArrayBufferView, string]> = [
  [Float32Array, "f32"],
  [Float64Array, "f64"],
  [Int32Array, "i32"],
  [BigInt64Array, "i64"],
  [Uint8Array, "u8"],
  [Int8Array, "i8"],
  [Int16Array, "i16"],
  [Uint16Array, "u16"],
  [Uint32Array, "u32"],
  [BigUint64Array, "u64"],
];

/** The dtype a typed array holds (by its constructor name, so arrays from another vm realm work). */
function dtypeOfTypedArray(a: ArrayBufferView): string | undefined {
  const name = a.constructor?.name;
  for (const [ctor, d] of TYPED) if (ctor.name === name) return d;
  return undefined;
}

function castArray(values: number[], dtype: string): HostData {
  switch (dtype) {
    case "f32":
      return Float32Array.from(values);
    case "f64":
      return Float64Array.from(values);
    case "i32":
      return Int32Array.from(values);
    case "i64":
      return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
    case "u8":
    case "bool":
      return Uint8Array.from(values);
    default:
      throw new Error(`cannot build a ${dtype} tensor from numbers`);
  }
}

/** An onnxruntime Tensor, also one made by another copy of onnxruntime-node (its own `Tensor` class). */
function isOrtTensorLike(v: unknown): v is ort.Tensor {
  if (v instanceof ort.Tensor) return true;
  if (v === null || typeof v !== "object") return false;
  const o = v as { type?: unknown; dims?: unknown; data?: unknown };
  return typeof o.type === "string" && Array.isArray(o.dims) && ArrayBuffer.isView(o.data);
}

/** One feed as an ORT tensor: nx tensors and ORT tensors pass through without a copy. */
function toOrtFeed(v: FeedValue, spec: ValueSpec, fail: (m: string) => never): ort.Tensor {
  if (v instanceof ort.Tensor) return v;
  const own = (v as { toOrt?: () => ort.Tensor } | null)?.toOrt;
  if (typeof own === "function") return own.call(v);
  if (isOrtTensorLike(v)) {
    const o = v as unknown as { type: OrtType; data: HostData; dims: readonly number[] };
    return new ort.Tensor(o.type, o.data as never, o.dims.slice());
  }
  const host = toPlainFeed(v, spec, fail);
  return new ort.Tensor(ortOfDtype(host.dtype), host.data as never, host.shape);
}

function toPlainFeed(v: FeedValue, spec: ValueSpec, fail: (m: string) => never): HostTensor {
  const host = toHostSync(v);
  if (host) return host;
  // Plain values: numbers, bigints, booleans and (nested) arrays take the model's dtype.
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
    const n = typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
    const shape = spec.shape && spec.shape.length > 0 ? spec.shape.map(() => 1) : [];
    return { dtype: spec.dtype, shape, data: castArray([n], spec.dtype) };
  }
  if (Array.isArray(v)) {
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    const flat = (v as unknown[]).flat(Infinity) as number[];
    if (flat.some((x) => typeof x !== "number" && typeof x !== "boolean"))
      fail(`input '${spec.name}' must hold numbers`);
    if (flat.length !== shape.reduce((a, b) => a * b, 1))
      fail(`input '${spec.name}' is a ragged array`);
    return { dtype: spec.dtype, shape, data: castArray(flat.map(Number), spec.dtype) };
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const dtype = dtypeOfTypedArray(v) ?? "unknown";
    const len = (v as unknown as { length: number }).length;
    // A bare typed array has no shape: infer it from the model's dimensions.
    const dims = spec.shape ?? [len];
    const known = dims.filter((d): d is number => typeof d === "number").reduce((a, b) => a * b, 1);
    const unknown = dims.filter((d) => typeof d !== "number").length;
    let shape: number[];
    if (unknown === 0) shape = dims as number[];
    else if (unknown === 1 && known > 0 && len % known === 0)
      shape = dims.map((d) => (typeof d === "number" ? d : len / known));
    else
      return fail(
        `input '${spec.name}' is a bare ${dtype} array of ${len} values and ${formatShape(spec.shape)} has several dynamic dimensions: pass a tensor with a shape (nx.tensor(data).reshape([...]))`,
      );
    if (shape.reduce((a, b) => a * b, 1) !== len)
      fail(
        `input '${spec.name}' has ${len} values, expected ${formatShape(spec.shape)} (${shape.reduce((a, b) => a * b, 1)} values)`,
      );
    return { dtype, shape, data: v as unknown as HostData };
  }
  return fail(
    `input '${spec.name}' must be a tensor (nx or onnxruntime), a typed array or numbers, got ${v === null ? "null" : typeof v}`,
  );
}

/**
 * Load an ONNX model from a file path or its bytes. Sessions are cached: loading the same model
 * again with the same options is free.
 */
export async function load(
  pathOrBytes: string | Uint8Array | ArrayBuffer,
  options: LoadOptions = {},
): Promise<OnnxModel> {
  let bytes: Uint8Array;
  let source: string;
  const loading: {
    bar?: { set(fraction: number | null, label: string): void; done(label: string): void };
  } = {};
  if (typeof pathOrBytes === "string") {
    try {
      bytes = readModelFile(pathOrBytes, options.progress, (b) => (loading.bar = b));
    } catch (e) {
      throw new Error(`onnx.load: cannot read '${pathOrBytes}': ${(e as Error).message}`);
    }
    source = pathOrBytes;
  } else if (pathOrBytes instanceof Uint8Array || ArrayBuffer.isView(pathOrBytes)) {
    const v = pathOrBytes as ArrayBufferView;
    bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    source = "bytes";
  } else if (
    pathOrBytes instanceof ArrayBuffer ||
    Object.prototype.toString.call(pathOrBytes) === "[object ArrayBuffer]"
  ) {
    bytes = new Uint8Array(pathOrBytes as ArrayBuffer);
    source = "bytes";
  } else
    throw new Error(
      `onnx.load: expected a file path or the model's bytes, got ${typeof pathOrBytes}`,
    );
  let session: ort.InferenceSession;
  try {
    loading.bar?.set(null, `Preparing ${source} (ONNX Runtime)…`);
    const { progress: _progress, ...sessionOpts } = options;
    session = await cachedSession(bytes, sessionOpts);
    loading.bar?.done(`Loaded ${source} (${megabytes(bytes.length)})`);
  } catch (e) {
    const provider = explainProviders(options.executionProviders ?? ["cpu"], e);
    if (provider) throw new Error(`onnx.load: '${source}': ${provider}`, { cause: e });
    throw new Error(
      `onnx.load: '${source}' is not a model ONNX Runtime can load: ${(e as Error).message.split("\n")[0]}`,
      { cause: e },
    );
  }
  let metadata: Record<string, string> = {};
  try {
    metadata = readOnnxInfoFromBytes(bytes).metadata;
  } catch {
    // ONNX Runtime read it; metadata is a courtesy
  }
  return new OnnxModel(session, source, metadata);
}

const megabytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/**
 * Read a model file; from PROGRESS_BYTES up (or when asked), in pieces with a progress bar in
 * the running cell, which `onBar` receives to follow it through session creation.
 */
function readModelFile(
  path: string,
  progress: boolean | undefined,
  onBar: (bar: { set(f: number | null, l: string): void; done(l: string): void }) => void,
): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const bridge = kernelBridge();
    if (!bridge || progress === false || (progress !== true && size < PROGRESS_BYTES))
      return readFileSync(fd);
    const id = bridge.newId("progress");
    const label = `Loading ${path} (${megabytes(size)})`;
    bridge.emit({ type: "progress", id, fraction: 0, label });
    const bar = {
      set: (fraction: number | null, l: string) =>
        bridge.update({ type: "progress-set", id, fraction, label: l }),
      done: (l: string) => bridge.update({ type: "progress-set", id, fraction: 1, label: l }),
    };
    onBar(bar);
    const bytes = new Uint8Array(size);
    const piece = 8 * 1024 * 1024;
    let shown = 0;
    for (let pos = 0; pos < size;) {
      const n = readSync(fd, bytes, pos, Math.min(piece, size - pos), pos);
      if (n === 0) throw new Error("the file ended early");
      pos += n;
      if (pos - shown >= piece || pos === size) {
        shown = pos;
        bar.set((pos / size) * 0.9, label);
      }
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

export { explainProviders, isHostTensor, toHost };
