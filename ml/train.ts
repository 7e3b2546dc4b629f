/**
 * Training (Axon.Loop's role): compile the whole training step — forward, loss, backward,
 * optimizer update, metrics — into ONE ONNX graph and run it step after step in one cached ONNX
 * Runtime session; a loop over epochs and batches with shuffling, validation, metrics, early
 * stopping, events that user code hooks, progress on stdout and a history of records.
 *
 * Invariants:
 * - One step session per batch size (a smaller last batch compiles a second one, once).
 * - The training state (parameters + optimizer slots + step counter) is carried as the step's
 *   outputs fed back as its inputs; after every step the model's parameters point at the newest
 *   values, so a halt or an interrupt keeps the weights trained so far.
 * - The loop yields to the event loop at least every `yieldEveryMs`, so an interrupt or a halt
 *   request can arrive between steps.
 * - The same model seed and trainer seed give the same weights and metrics (shuffles and dropout
 *   masks come from seeded generators; ORT runs single-threaded by default).
 */
import ort from "onnxruntime-node";
import type { Output } from "../core/outputs.ts";
import {
  DISPLAY,
  type HostData,
  type HostTensor,
  type NxTensor,
  fromHost,
  toHost,
} from "./host.ts";
import {
  type Loss,
  type LossName,
  type Metric,
  type MetricName,
  resolveLoss,
  resolveMetric,
} from "./losses.ts";
import type { Model } from "./nn.ts";
import { compiledSession, type Session } from "./session.ts";
import { adam, adamw, sgd, type Optimizer } from "./optim.ts";

function resolveOptimizer(o: Optimizer | string | undefined): Optimizer {
  if (o === undefined) return adam();
  if (typeof o !== "string") return o;
  switch (o.toLowerCase()) {
    case "sgd":
      return sgd();
    case "adam":
      return adam();
    case "adamw":
      return adamw();
    default:
      throw new Error(
        `optimizer: unknown '${o}' (use "sgd", "adam", "adamw" or optim.sgd/adam/adamw({...}))`,
      );
  }
}
import { mulberry32 } from "./random.ts";
import { Tape, type Val } from "./tape.ts";

/** Data the loop accepts for x or y: an nx tensor, a host tensor, a {data, shape} matrix or labels. */
export type DataInput =
  | HostTensor
  | { data: HostData; shape: readonly number[] }
  | Int32Array
  | Float32Array
  | number[]
  | unknown;

/** Options of a {@link Trainer}. */
export interface TrainerOptions {
  loss: Loss | LossName;
  /** An optimizer, or "sgd" | "adam" | "adamw" with default settings. Default adam(). */
  optimizer?: Optimizer | "sgd" | "adam" | "adamw";
  metrics?: Array<Metric | MetricName>;
  /** Seed of shuffling and dropout masks. Default 0. */
  seed?: number;
  /** Intra-op threads of the step session. Default 1. */
  threads?: number;
}

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  /** Held-out data evaluated after every epoch. */
  validationData?: [DataInput, DataInput];
  /** Or hold out this fraction of the training data (the last rows, before shuffling). */
  validationSplit?: number;
  /** Stop when a monitored value stops improving. */
  earlyStopping?: EarlyStopping;
  /** Print a progress line (updated in place with \r) and a line per epoch. Default true. */
  verbose?: boolean;
  /** Where progress lines go (default process.stdout, which the kernel streams to the cell). */
  progressStream?: { write(text: string): unknown };
  /**
   * Show a live Vega-Lite chart of the loss (per step, smoothed) and the epoch metrics in the cell,
   * when running in a notebook kernel. Default: same as `verbose`.
   */
  liveChart?: boolean;
  /** Stop between steps when aborted. */
  signal?: AbortSignal;
  /** Yield to the event loop at least this often (ms). Default 50. */
  yieldEveryMs?: number;
  /**
   * Full batches per session run (an ONNX Loop keeps the state inside ONNX Runtime between them).
   * Default 8; 1 when an iterationCompleted handler is registered (it sees every step).
   */
  stepsPerRun?: number;
}

/** Early stopping. */
export interface EarlyStopping {
  /** e.g. "val_loss" (default), "loss", "val_accuracy". */
  monitor?: string;
  patience?: number;
  minDelta?: number;
  /** "min" for losses, "max" for accuracies; default from the name. */
  mode?: "min" | "max";
  /** Put back the best epoch's weights when stopping. Default true. */
  restoreBest?: boolean;
}

/** The per-epoch record: loss and metrics (and val_ ones), ready for a chart. */
export interface EpochRecord {
  epoch: number;
  [metric: string]: number;
}

/** One training step's record. */
export interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
}

/** Events of the loop. Handlers may return "halt" (or a promise of it) to stop training. */
export type TrainEvent =
  "started" | "epochStarted" | "iterationCompleted" | "epochCompleted" | "halted" | "completed";

/** What handlers see. */
export interface LoopState {
  epoch: number;
  /** Steps completed since the trainer was created. */
  step: number;
  /** Batch index within the epoch. */
  iteration: number;
  /** Loss of the last step. */
  loss: number;
  /** Epoch record, on epochCompleted. */
  metrics?: EpochRecord;
  /** Why training halted, on halted. */
  reason?: string;
  history: History;
}

type Handler = (s: LoopState) => void | "halt" | Promise<void | "halt">;

/** The kernel's bridge to the cell's outputs (kernel/main.ts), when running in a notebook. */
interface KernelBridge {
  emit(output: Output): void;
  update(update: { type: "vega-lite-push"; id: string; rows: unknown[]; window?: number }): void;
  newId(prefix?: string): string;
}

/**
 * The AbortSignal of the running notebook evaluation, if the kernel provides one: `signal` on the
 * kernel bridge (`globalThis[Symbol.for("tsnb.kernel")]`) or `globalThis[Symbol.for("tsnb.interrupt")]`.
 */
function kernelSignal(): AbortSignal | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const bridge = g[Symbol.for("tsnb.kernel")] as { signal?: unknown } | undefined;
  const s = bridge?.signal ?? g[Symbol.for("tsnb.interrupt")];
  return s && typeof (s as AbortSignal).aborted === "boolean" ? (s as AbortSignal) : undefined;
}

/** A Vega-Lite line chart in the cell that training pushes rows to. */
class LiveChart {
  private constructor(
    private readonly bridge: KernelBridge,
    private readonly id: string,
  ) {}
  static start(): LiveChart | undefined {
    const bridge = (globalThis as Record<symbol, unknown>)[Symbol.for("tsnb.kernel")] as
      KernelBridge | undefined;
    if (!bridge || typeof bridge.emit !== "function") return undefined;
    const id = bridge.newId("training");
    bridge.emit({
      type: "vega-lite",
      id,
      dataset: "history",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        width: 400,
        height: 180,
        data: { name: "history" },
        mark: { type: "line", point: false },
        encoding: {
          x: { field: "step", type: "quantitative", title: "step" },
          y: { field: "value", type: "quantitative" },
          color: { field: "metric", type: "nominal" },
        },
      },
    });
    return new LiveChart(bridge, id);
  }
  push(rows: Array<{ step: number; metric: string; value: number }>): void {
    if (rows.length > 0)
      this.bridge.update({ type: "vega-lite-push", id: this.id, rows, window: 5000 });
  }
}

/** The loss/metric history: records per epoch and per step, plus a chart when displayed. */
export class History {
  readonly epochs: EpochRecord[] = [];
  readonly steps: StepRecord[] = [];
  /** Why the last fit stopped early, if it did. */
  stopped?: string;
  /** At most this many step records are kept (the oldest half is dropped when full), so memory stays flat. */
  maxSteps = 10_000;
  recordStep(r: StepRecord): void {
    if (this.steps.length >= this.maxSteps) this.steps.splice(0, Math.ceil(this.maxSteps / 2));
    this.steps.push(r);
  }
  /** Per-epoch records in long form ({epoch, metric, value}) for a Vega-Lite line chart. */
  long(): Array<{ epoch: number; metric: string; value: number }> {
    return this.epochs.flatMap((r) =>
      Object.entries(r)
        .filter(([k]) => k !== "epoch" && k !== "seconds")
        .map(([metric, value]) => ({ epoch: r.epoch, metric, value })),
    );
  }
  [DISPLAY](): Output {
    return {
      type: "vega-lite",
      spec: {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        width: 400,
        height: 200,
        data: { values: this.long() },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "epoch", type: "quantitative" },
          y: { field: "value", type: "quantitative" },
          color: { field: "metric", type: "nominal" },
        },
      },
    };
  }
}

interface Prepared {
  x: HostTensor;
  y: HostTensor;
  n: number;
}

interface CompiledStep {
  session: Session;
  masks: Array<{ name: string; shape: number[]; rate: number }>;
  /** Steps per run (an ONNX Loop when > 1). */
  k: number;
}

/** The reused inputs of one batch size's step. */
interface StepIO {
  x: Float32Array | BigInt64Array;
  y: Float32Array;
  feeds: Record<string, ort.Tensor>;
  masks: Array<{ data: Float32Array; rate: number; keep: number }>;
  hyper: Array<{ name: string; data: Float32Array }>;
}

interface CompiledEval {
  session: Session;
  metricNames: string[];
}

/** Normalise one data argument into a host tensor. */
export async function toData(v: DataInput, what: string): Promise<HostTensor> {
  if (Array.isArray(v)) {
    const flat = (v as unknown[]).flat(Infinity) as number[];
    const shape: number[] = [];
    let cur: unknown = v;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    return { dtype: "f32", shape, data: Float32Array.from(flat) };
  }
  if (v instanceof Int32Array || (ArrayBuffer.isView(v) && v.constructor.name === "Int32Array"))
    return { dtype: "i32", shape: [(v as Int32Array).length], data: v as Int32Array };
  if (v instanceof Float32Array || (ArrayBuffer.isView(v) && v.constructor.name === "Float32Array"))
    return { dtype: "f32", shape: [(v as Float32Array).length], data: v as Float32Array };
  const h = await toHost(v);
  if (h) return h;
  const o = v as { data?: unknown; shape?: unknown };
  if (o && ArrayBuffer.isView(o.data) && Array.isArray(o.shape)) {
    const name = (o.data as object).constructor.name;
    const dtype =
      name === "Int32Array"
        ? "i32"
        : name === "BigInt64Array"
          ? "i64"
          : name === "Float64Array"
            ? "f64"
            : name === "Uint8Array"
              ? "u8"
              : "f32";
    return { dtype, shape: o.shape.map(Number), data: o.data as HostData };
  }
  throw new Error(
    `${what}: expected a tensor, a {data, shape} matrix, a typed array or nested arrays, got ${v === null ? "null" : typeof v}`,
  );
}

function toF32(d: HostData): Float32Array {
  if (d instanceof Float32Array) return d;
  return Float32Array.from(d as ArrayLike<number | bigint>, Number);
}

/** A trainer: a model, a loss, an optimizer and metrics, with compiled sessions and training state. */
export class Trainer {
  readonly loss: Loss;
  readonly optimizer: Optimizer;
  readonly metrics: Metric[];
  readonly history = new History();
  /** Steps taken so far (drives schedules and Adam's bias correction). */
  step = 0;
  private readonly handlers = new Map<TrainEvent, Handler[]>();
  private readonly stepCache = new Map<string, CompiledStep>();
  private readonly evalCache = new Map<number, CompiledEval>();
  private readonly predictCache = new Map<number, Session>();
  private state = new Map<string, ort.Tensor>();
  private haltRequested: string | undefined;
  private rng: () => number;
  private readonly threads: number;

  constructor(
    readonly model: Model,
    opts: TrainerOptions,
  ) {
    this.loss = resolveLoss(opts.loss);
    this.optimizer = resolveOptimizer(opts.optimizer);
    this.metrics = (opts.metrics ?? []).map((m) => resolveMetric(m, this.loss));
    this.rng = mulberry32(opts.seed ?? 0);
    this.threads = opts.threads ?? 1;
    if (model.built) model.ensureInit();
  }

  /** Hook an event (Axon.Loop's handlers). Returns this for chaining. */
  on(event: TrainEvent, handler: Handler): this {
    const list = this.handlers.get(event) ?? [];
    list.push(handler);
    this.handlers.set(event, list);
    return this;
  }

  /** Remove a handler added with {@link on}. */
  off(event: TrainEvent, handler: Handler): this {
    const list = this.handlers.get(event);
    if (list)
      this.handlers.set(
        event,
        list.filter((h) => h !== handler),
      );
    return this;
  }

  /** Ask the loop to stop after the current step. */
  halt(reason = "halted by user"): void {
    this.haltRequested = reason;
  }

  private async emit(event: TrainEvent, s: LoopState): Promise<void> {
    for (const h of this.handlers.get(event) ?? []) {
      if ((await h(s)) === "halt") this.haltRequested ??= `halted by a ${event} handler`;
    }
  }

  // -- compilation -----------------------------------------------------------------------------

  private targetShape(): number[] {
    return this.model.outputShape;
  }

  private paramInputs(t: Tape): Map<string, Val> {
    const vals = new Map<string, Val>();
    for (const [name, p] of this.model.params) vals.set(name, t.input(`p:${name}`, p.shape));
    return vals;
  }

  /** Names of the training state in feed order: per parameter `p:<name>` then its optimizer slots. */
  private stateOrder(): string[] {
    const out: string[] = [];
    for (const [name, p] of this.model.params) {
      out.push(`p:${name}`);
      if (p.trainable) for (const slot of this.optimizer.slots) out.push(`s:${slot}:${name}`);
    }
    return out;
  }

  /**
   * Emit one training step on `t`: forward, loss, backward, optimizer update, metrics. Inputs come
   * from `get` (graph inputs for a single step, slices of stacked inputs inside a Loop body); returns
   * the new state values keyed like {@link stateOrder}, the loss and the metric sums.
   */
  private emitStep(
    t: Tape,
    b: number,
    get: (name: string, shape: number[], dtype?: Val["dtype"]) => Val,
    masks: CompiledStep["masks"],
  ): { state: Map<string, Val>; loss: Val; metrics: Val[] } {
    const x = get("x", [b, ...this.model.inputShape], this.model.inputDtype);
    const y = get("y", [b, ...this.targetShape()]);
    const params = new Map<string, Val>();
    for (const [name, p] of this.model.params) params.set(name, get(`p:${name}`, p.shape));
    const stateUpdates = new Map<string, Val>();
    const pred = this.model.forward(t, x, params, {
      training: true,
      setState: (name, value) => void stateUpdates.set(name, value),
      dropoutMask: (shape, rate) => {
        const name = `mask${masks.length}`;
        masks.push({ name, shape, rate });
        return get(name, shape);
      },
    });
    const loss = this.loss.build(t, pred, y);
    const out = new Map<string, Val>();
    const names = [...params.keys()].filter((n) => this.model.params.get(n)!.trainable);
    for (const [n, p] of this.model.params)
      if (!p.trainable)
        out.set(`p:${n}`, stateUpdates.get(n) ?? t.raw("Identity", [params.get(n)!], p.shape));
    const grads = t.backward(
      loss,
      names.map((n) => params.get(n)!),
    );
    const h: Record<string, Val> = {};
    for (const hn of this.optimizer.hyperNames) h[hn] = get(`h:${hn}`, []);
    names.forEach((n, i) => {
      const p = params.get(n)!;
      const g = grads[i] ?? t.zeros(p.shape);
      const st: Record<string, Val> = {};
      for (const slot of this.optimizer.slots) st[slot] = get(`s:${slot}:${n}`, p.shape);
      const u = this.optimizer.update(t, p, g, st, h);
      out.set(`p:${n}`, u.p);
      for (const slot of this.optimizer.slots) out.set(`s:${slot}:${n}`, u.state[slot]!);
    });
    t.recording = false;
    const metrics = this.metrics.map((m) => m.build(t, pred, y));
    return { state: out, loss, metrics };
  }

  /**
   * The compiled step for batch size b running `k` consecutive steps per session run. k = 1 is a
   * plain graph; k > 1 wraps the step in an ONNX Loop over stacked batches, so parameters and
   * optimizer state stay inside ONNX Runtime between those steps (onnxruntime-node copies every
   * output into fresh JS memory, which for a step's whole state is a real cost).
   */
  private compileStep(b: number, k = 1): CompiledStep {
    const key = `${b}x${k}`;
    let c = this.stepCache.get(key);
    if (!c) {
      const t = new Tape();
      const masks: CompiledStep["masks"] = [];
      const order = this.stateOrder();
      if (k === 1) {
        const step = this.emitStep(
          t,
          b,
          (name, shape, dtype = "f32") => t.input(name, shape, dtype),
          masks,
        );
        for (const n of order) t.output(step.state.get(n)!, `o:${n}`);
        t.output(step.loss, "loss");
        step.metrics.forEach((m, i) => t.output(m, `metric${i}`));
      } else {
        // The Loop body: iteration number, condition, then the carried state; other inputs are
        // gathered from stacked outer-scope inputs at the iteration number.
        const body = new Tape();
        body.prefix = "body_";
        const iter = body.input("iter", [], "i64");
        const cond = body.input("cond_in", [], "bool");
        const carried = new Map<string, Val>();
        for (const n of order) carried.set(n, body.input(`in_${n}`, [...this.stateShape(n)]));
        const stacked: Array<{ name: string; shape: number[]; dtype: Val["dtype"] }> = [];
        const step = this.emitStep(
          body,
          b,
          (name, shape, dtype = "f32") => {
            const c0 = carried.get(name);
            if (c0) return c0;
            stacked.push({ name: `all_${name}`, shape: [k, ...shape], dtype });
            return body.raw(
              "Gather",
              [{ name: `all_${name}`, shape: [k, ...shape], dtype }, iter],
              shape,
              { axis: 0 },
              dtype,
            );
          },
          masks,
        );
        body.output(body.raw("Identity", [cond], [], undefined, "bool"), "cond_out");
        for (const n of order) body.output(step.state.get(n)!, `out_${n}`);
        body.output(step.loss, "loss_i");
        step.metrics.forEach((m, i) => body.output(m, `metric_i${i}`));
        const tripCount = t.input("trip_count", [], "i64");
        for (const st of stacked) t.input(st.name, st.shape, st.dtype);
        const outer = order.map((n) => t.input(n, [...this.stateShape(n)]));
        const trueName = t.boolConstant(true);
        t.loop(
          [tripCount.name, trueName, ...outer.map((v) => v.name)],
          [...order.map((n) => `o:${n}`), "loss", ...this.metrics.map((_, i) => `metric${i}`)],
          body.graph("step_body"),
        );
        for (const n of order)
          t.outputs.push(t.valueInfo(`o:${n}`, [...this.stateShape(n)], "f32"));
        t.outputs.push(t.valueInfo("loss", [k], "f32"));
        this.metrics.forEach((_, i) => t.outputs.push(t.valueInfo(`metric${i}`, [k], "f32")));
      }
      c = { session: compiledSession(t.encode("train_step"), this.threads), masks, k };
      this.stepCache.set(key, c);
    }
    return c;
  }

  private stateShape(n: string): readonly number[] {
    const name = n.startsWith("p:") ? n.slice(2) : n.slice(n.indexOf(":", 2) + 1);
    return this.model.params.get(name)!.shape;
  }

  private compileEval(b: number): CompiledEval {
    let c = this.evalCache.get(b);
    if (!c) {
      c = (() => {
        const t = new Tape();
        t.recording = false;
        const x = t.input("x", [b, ...this.model.inputShape], this.model.inputDtype);
        const y = t.input("y", [b, ...this.targetShape()]);
        const pred = this.model.forward(t, x, this.paramInputs(t), {
          training: false,
          dropoutMask: () => {
            throw new Error("unreachable");
          },
        });
        t.output(this.loss.build(t, pred, y), "loss");
        this.metrics.forEach((m, i) => t.output(m.build(t, pred, y), `metric${i}`));
        const session = compiledSession(t.encode("eval_step"), this.threads);
        return { session, metricNames: this.metrics.map((m) => m.name) };
      })();
      this.evalCache.set(b, c);
    }
    return c;
  }

  // -- data ------------------------------------------------------------------------------------

  private async prepare(
    xIn: DataInput,
    yIn: DataInput | undefined,
    what: string,
  ): Promise<Prepared> {
    const x = await toData(xIn, `${what} x`);
    const n = x.shape[0] ?? 0;
    if (!this.model.built) this.model.build(x.shape.slice(1));
    this.model.ensureInit();
    const want = this.model.inputShape;
    const got = x.shape.slice(1);
    if (got.length !== want.length || got.some((d, i) => d !== want[i]))
      throw new Error(
        `${what}: x has shape [${x.shape.join(", ")}], the model expects [n, ${want.join(", ")}]`,
      );
    const xData: HostData =
      this.model.inputDtype === "i64"
        ? BigInt64Array.from(x.data as ArrayLike<number | bigint>, (v) => BigInt(v))
        : toF32(x.data);
    if (yIn === undefined)
      return {
        x: { ...x, dtype: this.model.inputDtype, data: xData },
        y: { dtype: "f32", shape: [n], data: new Float32Array(0) },
        n,
      };
    const y = await toData(yIn, `${what} y`);
    if (y.shape[0] !== n) throw new Error(`${what}: x has ${n} rows but y has ${y.shape[0]}`);
    const out = this.targetShape();
    const width = out.reduce((a, b) => a * b, 1);
    let yData: Float32Array;
    const isLabels =
      y.shape.length === 1 &&
      (y.dtype === "i32" || y.dtype === "i64" || this.loss.target === "onehot");
    if (this.loss.target === "onehot" && isLabels) {
      yData = new Float32Array(n * width);
      for (let i = 0; i < n; i++) {
        const k = Number(y.data[i]!);
        if (!(Number.isInteger(k) && k >= 0 && k < width))
          throw new Error(
            `${what}: label ${k} at row ${i} is outside 0..${width - 1} (the model has ${width} outputs)`,
          );
        yData[i * width + k] = 1;
      }
    } else {
      if (y.data.length !== n * width)
        throw new Error(
          `${what}: y has shape [${y.shape.join(", ")}], the model's output is [n, ${out.join(", ")}]`,
        );
      yData = toF32(y.data);
    }
    return {
      x: { ...x, dtype: this.model.inputDtype, data: xData },
      y: { dtype: "f32", shape: [n, ...out], data: yData },
      n,
    };
  }

  /** Copy rows idx[start..end) of src into dst from row `at` on. */
  private gather(
    src: HostData,
    rowSize: number,
    idx: Int32Array,
    start: number,
    end: number,
    dst: HostData,
    at = 0,
  ): void {
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      (dst as Float32Array).set(
        (src as Float32Array).subarray(r * rowSize, r * rowSize + rowSize),
        (at + i - start) * rowSize,
      );
    }
  }

  private initState(): void {
    if (this.state.size > 0) {
      // parameters may have been replaced (e.g. model.init()): resync
      for (const [name, p] of this.model.params) {
        const cur = this.state.get(`p:${name}`);
        if (!cur || cur.data !== p.data)
          this.state.set(`p:${name}`, new ort.Tensor("float32", p.data, p.shape));
      }
      return;
    }
    for (const [name, p] of this.model.params) {
      this.state.set(`p:${name}`, new ort.Tensor("float32", p.data, p.shape));
      if (p.trainable)
        for (const slot of this.optimizer.slots)
          this.state.set(
            `s:${slot}:${name}`,
            new ort.Tensor("float32", new Float32Array(p.data.length), p.shape),
          );
    }
  }

  /** Reset the optimizer state and step counter (parameters stay). */
  resetOptimizer(): void {
    this.state.clear();
    this.step = 0;
  }

  // -- the loop --------------------------------------------------------------------------------

  /** Train for `epochs` over shuffled batches. Returns the history (also kept on the trainer). */
  async fit(xIn: DataInput, yIn: DataInput, opts: FitOptions = {}): Promise<History> {
    // The kernel's interrupt signal of the evaluation that called fit, captured before any await: a
    // later cell's evaluation gets a fresh signal and must not keep an interrupted training alive.
    const cellSignal = kernelSignal();
    const epochs = opts.epochs ?? 1;
    const batchSize = opts.batchSize ?? 32;
    const verbose = opts.verbose ?? true;
    const chart = (opts.liveChart ?? verbose) ? LiveChart.start() : undefined;
    let lineLength = 0;
    const writeLine = (text: string, end = "") => {
      (opts.progressStream ?? process.stdout).write(
        `\r${text}${" ".repeat(Math.max(0, lineLength - text.length))}${end}`,
      );
      lineLength = end ? 0 : text.length;
    };
    const yieldEvery = opts.yieldEveryMs ?? 50;
    let data = await this.prepare(xIn, yIn, "fit");
    let val: Prepared | undefined;
    if (opts.validationData)
      val = await this.prepare(
        opts.validationData[0],
        opts.validationData[1],
        "fit validationData",
      );
    else if (opts.validationSplit) {
      const nVal = Math.round(data.n * opts.validationSplit);
      const cut = (h: HostTensor, from: number, to: number): HostTensor => {
        const row = h.shape.slice(1).reduce((a, b) => a * b, 1);
        return {
          dtype: h.dtype,
          shape: [to - from, ...h.shape.slice(1)],
          data: h.data.slice(from * row, to * row) as HostData,
        };
      };
      val = {
        x: cut(data.x, data.n - nVal, data.n),
        y: cut(data.y, data.n - nVal, data.n),
        n: nVal,
      };
      data = {
        x: cut(data.x, 0, data.n - nVal),
        y: cut(data.y, 0, data.n - nVal),
        n: data.n - nVal,
      };
    }
    const n = data.n;
    if (n === 0) throw new Error("fit: no training rows");
    const xRow = this.model.inputShape.reduce((a, b) => a * b, 1);
    const yRow = this.targetShape().reduce((a, b) => a * b, 1);
    const nBatches = Math.ceil(n / batchSize);
    this.haltRequested = undefined;
    this.initState();
    const es = opts.earlyStopping;
    const monitor = es ? (es.monitor ?? (val ? "val_loss" : "loss")) : "";
    const mode = es?.mode ?? (/acc/.test(monitor) ? "max" : "min");
    let best = mode === "min" ? Infinity : -Infinity;
    let bestParams: Map<string, Float32Array> | undefined;
    let waited = 0;
    const t0 = performance.now();
    let lastYield = t0;
    let lastPrint = 0;
    const total = epochs * nBatches;
    let done = 0;
    const base: Omit<LoopState, "epoch"> = {
      step: this.step,
      iteration: 0,
      loss: NaN,
      history: this.history,
    };
    await this.emit("started", { ...base, epoch: 0 });
    const interrupted = () => {
      if (opts.signal?.aborted) return "interrupted (signal aborted)";
      if (cellSignal?.aborted) return "interrupted";
      return this.haltRequested;
    };
    let reason: string | undefined;
    // Per compiled step (batch size × steps per run): input buffers and their ORT tensors, created
    // once and refilled every run (ORT reads them during run(), which returns before the next fill).
    const ios = new Map<CompiledStep, StepIO>();
    const stateKeys = [...this.state.keys()];
    const stateOutKeys = stateKeys.map((k) => `o:${k}`);
    const paramOut = [...this.model.params.values()].map((p) => [p, `o:p:${p.name}`] as const);
    const metricKeys = this.metrics.map((_, i) => `metric${i}`);
    const ioFor = (b: number, compiled: CompiledStep): StepIO => {
      let io = ios.get(compiled);
      if (!io) {
        const k = compiled.k;
        const stackedName = (name: string) => (k === 1 ? name : `all_${name}`);
        const lead = k === 1 ? [] : [k];
        const x =
          this.model.inputDtype === "i64"
            ? new BigInt64Array(k * b * xRow)
            : new Float32Array(k * b * xRow);
        const y = new Float32Array(k * b * yRow);
        const feeds: Record<string, ort.Tensor> = {
          [stackedName("x")]: new ort.Tensor(
            this.model.inputDtype === "i64" ? "int64" : "float32",
            x,
            [...lead, b, ...this.model.inputShape],
          ),
          [stackedName("y")]: new ort.Tensor("float32", y, [...lead, b, ...this.targetShape()]),
        };
        if (k > 1) feeds.trip_count = new ort.Tensor("int64", BigInt64Array.from([BigInt(k)]), []);
        const masks = compiled.masks.map((m) => {
          const data = new Float32Array(k * m.shape.reduce((a, c) => a * c, 1));
          feeds[stackedName(m.name)] = new ort.Tensor("float32", data, [...lead, ...m.shape]);
          return { data, rate: m.rate, keep: 1 / (1 - m.rate) };
        });
        const hyper = this.optimizer.hyperNames.map((name) => {
          const data = new Float32Array(k);
          feeds[stackedName(`h:${name}`)] = new ort.Tensor("float32", data, lead);
          return { name, data };
        });
        ios.set(compiled, (io = { x, y, feeds, masks, hyper }));
      }
      return io;
    };
    // Several full batches per session run (an ONNX Loop) unless a handler wants every step.
    const perRun = Math.max(1, Math.floor(opts.stepsPerRun ?? 8));
    outer: for (let epoch = 1; epoch <= epochs; epoch++) {
      await this.emit("epochStarted", { ...base, step: this.step, epoch });
      const order =
        opts.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : this.permutation(n);
      let lossSum = 0;
      const metricSums = new Float64Array(this.metrics.length);
      let seen = 0;
      const eStart = performance.now();
      for (let bi = 0; bi < nBatches;) {
        reason = interrupted();
        if (reason) break outer;
        const s = bi * batchSize;
        const b = Math.min(n, s + batchSize) - s;
        const fullLeft = Math.floor((n - s) / batchSize);
        const stepHandlers = (this.handlers.get("iterationCompleted")?.length ?? 0) > 0;
        const k = b === batchSize && !stepHandlers && perRun > 1 && fullLeft >= perRun ? perRun : 1;
        const compiled = this.compileStep(b, k);
        const io = ioFor(b, compiled);
        for (let j = 0; j < k; j++) {
          const s0 = s + j * b;
          this.gather(data.x.data, xRow, order, s0, s0 + b, io.x, j * b);
          this.gather(data.y.data, yRow, order, s0, s0 + b, io.y, j * b);
          const hyper = this.optimizer.hyper(this.step + j);
          for (const h of io.hyper) h.data[j] = hyper[h.name]!;
        }
        for (const m of io.masks)
          for (let i = 0; i < m.data.length; i++) m.data[i] = this.rng() < m.rate ? 0 : m.keep;
        const feeds = io.feeds;
        for (let i = 0; i < stateKeys.length; i++)
          feeds[stateKeys[i]!] = this.state.get(stateKeys[i]!)!;
        const res = compiled.session.run(feeds);
        for (let i = 0; i < stateKeys.length; i++)
          this.state.set(stateKeys[i]!, res[stateOutKeys[i]!]!);
        for (const [p, key] of paramOut) p.data = res[key]!.data as Float32Array;
        const losses = res.loss!.data as Float32Array;
        for (let i = 0; i < metricKeys.length; i++) {
          const v = res[metricKeys[i]!]!.data as Float32Array;
          for (let j = 0; j < k; j++) metricSums[i]! += v[j]!;
        }
        let loss = NaN;
        for (let j = 0; j < k; j++) {
          loss = losses[j]!;
          lossSum += loss * b;
          seen += b;
          this.step++;
          done++;
          bi++;
          this.history.recordStep({ step: this.step, epoch, loss });
          if (!Number.isFinite(loss)) {
            reason = `loss became ${loss} at step ${this.step}`;
            break outer;
          }
        }
        if (stepHandlers)
          await this.emit("iterationCompleted", {
            ...base,
            step: this.step,
            epoch,
            iteration: bi - 1,
            loss,
          });
        const now = performance.now();
        const tick = now - lastPrint > 100 || bi === nBatches;
        if (tick) {
          lastPrint = now;
          chart?.push([{ step: this.step, metric: "loss", value: lossSum / seen }]);
        }
        if (verbose && tick) {
          const elapsed = (now - t0) / 1000;
          const eta = (elapsed / done) * (total - done);
          const ms = this.metrics
            .map((m, i) => ` ${m.name} ${(metricSums[i]! / seen).toFixed(4)}`)
            .join("");
          writeLine(
            `Epoch ${epoch}/${epochs}  batch ${bi}/${nBatches}  loss ${(lossSum / seen).toFixed(4)}${ms}  ${elapsed.toFixed(1)}s elapsed, ETA ${eta.toFixed(1)}s`,
          );
        }
        if (now - lastYield > yieldEvery) {
          lastYield = now;
          await new Promise((r) => setImmediate(r));
        }
      }
      const rec: EpochRecord = { epoch, loss: lossSum / seen };
      this.metrics.forEach((m, i) => (rec[m.name] = metricSums[i]! / seen));
      if (val) {
        const ev = await this.evaluateData(val, batchSize);
        for (const [k, v] of Object.entries(ev)) rec[`val_${k}`] = v;
      }
      rec.seconds = (performance.now() - eStart) / 1000;
      this.history.epochs.push(rec);
      if (verbose)
        writeLine(
          `Epoch ${epoch}/${epochs}  ` +
            Object.entries(rec)
              .filter(([k]) => k !== "epoch" && k !== "seconds")
              .map(([k, v]) => `${k} ${v.toFixed(4)}`)
              .join("  ") +
            `  (${rec.seconds.toFixed(1)}s)`,
          "\n",
        );
      chart?.push(
        Object.entries(rec)
          .filter(([k]) => k !== "epoch" && k !== "seconds" && k !== "loss")
          .map(([metric, value]) => ({ step: this.step, metric, value })),
      );
      await this.emit("epochCompleted", {
        ...base,
        step: this.step,
        epoch,
        metrics: rec,
        loss: rec.loss!,
      });
      if (es) {
        const v = rec[monitor];
        if (v === undefined)
          throw new Error(
            `earlyStopping: '${monitor}' is not recorded (have ${Object.keys(rec).join(", ")})`,
          );
        const improved =
          mode === "min" ? v < best - (es.minDelta ?? 0) : v > best + (es.minDelta ?? 0);
        if (improved) {
          best = v;
          waited = 0;
          if (es.restoreBest !== false)
            bestParams = new Map([...this.model.params].map(([k, p]) => [k, p.data.slice()]));
        } else if (++waited > (es.patience ?? 0)) {
          reason = `early stopping: ${monitor} did not improve for ${waited} epochs (best ${best.toFixed(4)})`;
          if (bestParams) {
            for (const [k, d] of bestParams) this.model.params.get(k)!.data = d;
            this.initState();
          }
          break;
        }
      }
      reason = interrupted();
      if (reason) break;
    }
    if (reason) {
      this.history.stopped = reason;
      if (verbose) writeLine(`Stopped: ${reason}`, "\n");
      await this.emit("halted", {
        ...base,
        step: this.step,
        epoch: this.history.epochs.length,
        reason,
      });
    } else await this.emit("completed", { ...base, step: this.step, epoch: epochs });
    return this.history;
  }

  private permutation(n: number): Int32Array {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const t = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = t;
    }
    return idx;
  }

  private paramFeeds(feeds: Record<string, ort.Tensor>): void {
    for (const [name, p] of this.model.params)
      feeds[`p:${name}`] = new ort.Tensor("float32", p.data, p.shape);
  }

  private async evaluateData(d: Prepared, batchSize: number): Promise<Record<string, number>> {
    const xRow = this.model.inputShape.reduce((a, b) => a * b, 1);
    const yRow = this.targetShape().reduce((a, b) => a * b, 1);
    let loss = 0;
    const sums = new Float64Array(this.metrics.length);
    for (let s = 0; s < d.n; s += batchSize) {
      const e = Math.min(d.n, s + batchSize);
      const b = e - s;
      const c = this.compileEval(b);
      const feeds: Record<string, ort.Tensor> = {
        x: new ort.Tensor(
          this.model.inputDtype === "i64" ? "int64" : "float32",
          d.x.data.slice(s * xRow, e * xRow) as never,
          [b, ...this.model.inputShape],
        ),
        y: new ort.Tensor("float32", (d.y.data as Float32Array).slice(s * yRow, e * yRow), [
          b,
          ...this.targetShape(),
        ]),
      };
      this.paramFeeds(feeds);
      const res = c.session.run(feeds);
      loss += (res.loss!.data as Float32Array)[0]! * b;
      this.metrics.forEach((_, i) => (sums[i]! += (res[`metric${i}`]!.data as Float32Array)[0]!));
    }
    const out: Record<string, number> = { loss: loss / d.n };
    this.metrics.forEach((m, i) => (out[m.name] = sums[i]! / d.n));
    return out;
  }

  /** Loss and metrics over a dataset (no training). */
  async evaluate(
    x: DataInput,
    y: DataInput,
    opts: { batchSize?: number } = {},
  ): Promise<Record<string, number>> {
    return this.evaluateData(await this.prepare(x, y, "evaluate"), opts.batchSize ?? 256);
  }

  /** The model's outputs for x, as one tensor [n, ...outputShape]. */
  async predict(xIn: DataInput, opts: { batchSize?: number } = {}): Promise<NxTensor> {
    return predict(this.model, xIn, { ...opts, threads: this.threads, cache: this.predictCache });
  }
}

/** The model's outputs for x (inference with the current weights). */
export async function predict(
  model: Model,
  xIn: DataInput,
  opts: { batchSize?: number; threads?: number; cache?: Map<number, Session> } = {},
): Promise<NxTensor> {
  const x = await toData(xIn, "predict x");
  if (!model.built) model.build(x.shape.slice(1));
  model.ensureInit();
  const want = model.inputShape;
  if (x.shape.length !== want.length + 1 || x.shape.slice(1).some((d, i) => d !== want[i]))
    throw new Error(
      `predict: x has shape [${x.shape.join(", ")}], the model expects [n, ${want.join(", ")}]`,
    );
  const n = x.shape[0]!;
  const bs = opts.batchSize ?? 256;
  const xRow = want.reduce((a, b) => a * b, 1);
  const yRow = model.outputShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * yRow);
  const cache = opts.cache ?? predictCaches.get(model) ?? new Map<number, Session>();
  predictCaches.set(model, cache);
  const xData =
    model.inputDtype === "i64"
      ? BigInt64Array.from(x.data as ArrayLike<number | bigint>, (v) => BigInt(v))
      : toF32(x.data);
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const b = e - s;
    let sess = cache.get(b);
    if (!sess) {
      const t = new Tape();
      t.recording = false;
      const xi = t.input("x", [b, ...want], model.inputDtype);
      const params = new Map<string, Val>();
      for (const [name, p] of model.params) params.set(name, t.input(`p:${name}`, p.shape));
      t.output(
        model.forward(t, xi, params, {
          training: false,
          dropoutMask: () => {
            throw new Error("unreachable");
          },
        }),
        "y",
      );
      sess = compiledSession(t.encode("predict"), opts.threads ?? 1);
      cache.set(b, sess);
    }
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor(
        model.inputDtype === "i64" ? "int64" : "float32",
        xData.slice(s * xRow, e * xRow) as never,
        [b, ...want],
      ),
    };
    for (const [name, p] of model.params)
      feeds[`p:${name}`] = new ort.Tensor("float32", p.data, p.shape);
    const res = sess.run(feeds);
    out.set(res.y!.data as Float32Array, s * yRow);
  }
  return fromHost({ dtype: "f32", shape: [n, ...model.outputShape], data: out });
}

const predictCaches = new WeakMap<Model, Map<number, Session>>();

/** Create a trainer (Axon.Loop.trainer): hook events with `.on`, then `.fit`. */
export function trainer(model: Model, opts: TrainerOptions): Trainer {
  return new Trainer(model, opts);
}

/** Train a model in one call: `await train.fit(model, x, y, {loss, optimizer, epochs, ...})`. */
export async function fit(
  model: Model,
  x: DataInput,
  y: DataInput,
  opts: TrainerOptions & FitOptions,
): Promise<History> {
  return new Trainer(model, opts).fit(x, y, opts);
}
