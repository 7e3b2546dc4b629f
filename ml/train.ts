/**
 * Training (Axon.Loop's role): the whole training step — forward, loss, backward, optimizer
 * update, metrics — is a function of `tsnb/nx` tensors, differentiated with `nx.valueAndGrad` and
 * compiled with `nx.jit` into ONE ONNX graph run step after step in one cached ONNX Runtime
 * session (several steps per run: the same traced step as the body of an ONNX Loop); a loop over epochs and batches with shuffling, validation, metrics, early
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
import type { KernelBridge } from "../kernel/main.ts";
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
import * as nx from "../tensor/index.ts";
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
import { chartKinds, trainingChartSpec } from "./training-chart.ts";

type Tensor = nx.Tensor;

/** An nx tensor over a host buffer (shares memory: refilling the buffer changes the tensor). */
const view = (data: Float32Array | BigInt64Array, shape: readonly number[]): Tensor =>
  nx.fromOrt(
    new ort.Tensor(data instanceof BigInt64Array ? "int64" : "float32", data, shape.slice()),
  );

/** Inference context: dropout off, running statistics used. */
const INFERENCE = {
  training: false,
  dropoutMask: (): never => {
    throw new Error("dropout masks are not used at inference");
  },
};

/**
 * Data the loop accepts for x or y: an nx tensor (the one currency of tsnb's ML side; integer
 * tensors of class indices as labels), or nested arrays of numbers and typed arrays, which are
 * read as nx would read them.
 */
export type DataInput = Tensor | nx.NestedArray | Int32Array | Float32Array;

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
  /**
   * Where the training step, evaluation and prediction run: ONNX Runtime execution providers in
   * order of preference, e.g. ["cuda", "cpu"] (docs/ml.md says how to install CUDA's libraries).
   * Default CPU only; a provider that cannot be used fails the first step with what is missing.
   */
  executionProviders?: readonly string[];
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
function kernelBridge(): KernelBridge | undefined {
  const bridge = (globalThis as Record<symbol, unknown>)[Symbol.for("tsnb.kernel")] as
    KernelBridge | undefined;
  return bridge && typeof bridge.emit === "function" ? bridge : undefined;
}

/**
 * The AbortSignal of the running notebook evaluation (aborted when the user interrupts it), if
 * the kernel provides one: `signal` on the kernel bridge, or `globalThis[Symbol.for("tsnb.interrupt")]`.
 */
function kernelSignal(): AbortSignal | undefined {
  const s =
    kernelBridge()?.signal ?? (globalThis as Record<symbol, unknown>)[Symbol.for("tsnb.interrupt")];
  return s && typeof (s as AbortSignal).aborted === "boolean" ? (s as AbortSignal) : undefined;
}

/** The training chart in the cell (ml/training-chart.ts) that training pushes rows to. */
class LiveChart {
  private constructor(
    private readonly bridge: KernelBridge,
    private readonly id: string,
  ) {}
  /** Start the chart: one panel for the loss and one per metric, validation overlaid when given. */
  static start(metrics: readonly string[], validation: boolean): LiveChart | undefined {
    const bridge = kernelBridge();
    if (!bridge) return undefined;
    const id = bridge.newId("training");
    bridge.emit({
      type: "vega-lite",
      id,
      dataset: "history",
      spec: trainingChartSpec({
        x: "step",
        kinds: chartKinds(metrics),
        validation,
        data: { name: "history" },
      }),
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
    const names = this.epochs.flatMap((r) => Object.keys(r));
    return {
      type: "vega-lite",
      spec: trainingChartSpec({
        x: "epoch",
        kinds: chartKinds(names),
        validation: names.some((n) => n.startsWith("val_")),
        data: { values: this.long() },
      }),
    };
  }
}

interface Prepared {
  x: HostTensor;
  y: HostTensor;
  n: number;
}

/** What one session run of a compiled step returns. */
interface StepResult {
  /** The new training state, in {@link Trainer.stateOrder} order. */
  state: Tensor[];
  /** One loss per step of the run. */
  losses: ArrayLike<number>;
  /** Per metric, one batch sum per step of the run. */
  metrics: Array<ArrayLike<number>>;
}

interface CompiledStep {
  masks: Array<{ shape: number[]; rate: number }>;
  /** Steps per run (an ONNX Loop when > 1). */
  k: number;
  run(state: readonly Tensor[], io: StepIO): StepResult;
}

/** The reused inputs of one compiled step: host buffers, refilled every run, and views of them. */
interface StepIO {
  x: Float32Array | BigInt64Array;
  y: Float32Array;
  masks: Array<{ data: Float32Array; rate: number; keep: number }>;
  hyper: Array<{ name: string; data: Float32Array }>;
  /** nx tensors over the buffers: the jitted step's arguments (k = 1), or the scan's xs (k > 1). */
  args?: StepArgs;
}

/** One step's inputs (stacked along a leading axis of k for nx.scan). */
interface StepArgs {
  x: Tensor;
  y: Tensor;
  masks: Tensor[];
  hyper: Record<string, Tensor>;
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
  /** The jitted single step (nx.jit caches one session per batch size). */
  private stepJit:
    | ((
        state: Tensor[],
        x: Tensor,
        y: Tensor,
        masks: Tensor[],
        h: Record<string, Tensor>,
      ) => [Tensor[], Tensor, Tensor[]])
    | undefined;
  /** The body of the k-step nx.scan (one per trainer: scan compiles once per body and signature). */
  private scanBody:
    | ((state: Tensor[], at: StepArgs) => readonly [Tensor[], readonly [Tensor, Tensor[]]])
    | undefined;
  /** The jitted evaluation (loss and metric sums of a batch). */
  private evalJit: ((params: Tensor[], x: Tensor, y: Tensor) => [Tensor, Tensor[]]) | undefined;
  private state = new Map<string, Tensor>();
  private haltRequested: string | undefined;
  private rng: () => number;
  private readonly threads: number;
  private readonly executionProviders: readonly string[] | undefined;

  constructor(
    readonly model: Model,
    opts: TrainerOptions,
  ) {
    this.loss = resolveLoss(opts.loss);
    this.optimizer = resolveOptimizer(opts.optimizer);
    this.metrics = (opts.metrics ?? []).map((m) => resolveMetric(m, this.loss));
    this.rng = mulberry32(opts.seed ?? 0);
    this.threads = opts.threads ?? 1;
    this.executionProviders = opts.executionProviders;
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

  /** Parameter tensors by full name, from a list in `model.params` order. */
  private paramMap(values: readonly Tensor[]): Map<string, Tensor> {
    const names = [...this.model.params.keys()];
    return new Map(names.map((n, i) => [n, values[i]!]));
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

  /** The dropout masks one step needs (one per active dropout layer, in forward order). */
  private maskSpecs(b: number): Array<{ shape: number[]; rate: number }> {
    return this.model.order
      .filter((n) => (n.layer?.dropoutRate ?? 0) > 0)
      .map((n) => ({ shape: [b, ...n.shape], rate: n.layer!.dropoutRate! }));
  }

  /**
   * One training step on (traced) nx tensors: forward, loss, gradients (nx.valueAndGrad with
   * respect to the trainable parameters), optimizer update, metrics. `state` and the returned
   * state follow {@link stateOrder}; dropout masks and the optimizer's per-step scalars are inputs.
   */
  private stepCore(
    state: readonly Tensor[],
    x: Tensor,
    y: Tensor,
    masks: readonly Tensor[],
    h: Record<string, Tensor>,
  ): { state: Tensor[]; loss: Tensor; metrics: Tensor[] } {
    const order = this.stateOrder();
    const cur = new Map(order.map((k, i) => [k, state[i]!]));
    const params = [...this.model.params.values()];
    const trainable = params.filter((p) => p.trainable).map((p) => p.name);
    const lossFn = (tp: Tensor[]): [Tensor, { pred: Tensor; updates: Record<string, Tensor> }] => {
      const values = new Map<string, Tensor>();
      for (const p of params) values.set(p.name, cur.get(`p:${p.name}`)!);
      trainable.forEach((n, i) => values.set(n, tp[i]!));
      const updates: Record<string, Tensor> = {};
      let used = 0;
      const pred = this.model.forward(x, values, {
        training: true,
        setState: (name, value) => void (updates[name] = value),
        dropoutMask: (shape) => {
          const m = masks[used++];
          if (!m || m.shape.join() !== shape.join())
            throw new Error(`dropout: internal error: no mask of shape [${shape.join(", ")}]`);
          return m;
        },
      });
      return [this.loss.build(pred, y), { pred, updates }];
    };
    const current = trainable.map((n) => cur.get(`p:${n}`)!);
    let loss: Tensor;
    let aux: { pred: Tensor; updates: Record<string, Tensor> };
    let grads: Tensor[] = [];
    if (trainable.length > 0) {
      const r = nx.valueAndGrad(lossFn, { hasAux: true })(current);
      [[loss, aux], grads] = r as unknown as [[Tensor, typeof aux], Tensor[]];
    } else [loss, aux] = lossFn([]);
    const out = new Map<string, Tensor>();
    for (const p of params)
      if (!p.trainable) out.set(`p:${p.name}`, aux.updates[p.name] ?? cur.get(`p:${p.name}`)!);
    trainable.forEach((n, i) => {
      const slots: Record<string, Tensor> = {};
      for (const slot of this.optimizer.slots) slots[slot] = cur.get(`s:${slot}:${n}`)!;
      const u = this.optimizer.update(cur.get(`p:${n}`)!, grads[i]!, slots, h);
      out.set(`p:${n}`, u.p);
      for (const slot of this.optimizer.slots) out.set(`s:${slot}:${n}`, u.state[slot]!);
    });
    const metrics = this.metrics.map((m) => m.build(aux.pred, y));
    return { state: order.map((k) => out.get(k)!), loss, metrics };
  }

  /**
   * The compiled step for batch size b running `k` consecutive steps per session run. k = 1 is
   * `nx.jit` of {@link stepCore}; k > 1 traces the same step (nx's tracing and lowering) as the
   * body of an ONNX Loop over stacked batches, so parameters and optimizer state stay inside ONNX
   * Runtime between those steps (onnxruntime-node copies every output into fresh JS memory, which
   * for a step's whole state is a real cost).
   */
  private compileStep(b: number, k = 1): CompiledStep {
    const key = `${b}x${k}`;
    let c = this.stepCache.get(key);
    if (c) return c;
    const masks = this.maskSpecs(b);
    if (k === 1) {
      this.stepJit ??= nx.jit(
        (state: Tensor[], x: Tensor, y: Tensor, ms: Tensor[], h: Record<string, Tensor>) => {
          const r = this.stepCore(state, x, y, ms, h);
          return [r.state, r.loss, r.metrics] as [Tensor[], Tensor, Tensor[]];
        },
        {
          threads: this.threads,
          batchPolymorphic: false,
          executionProviders: this.executionProviders,
        },
      );
      const jitted = this.stepJit;
      c = {
        masks,
        k,
        run: (state, io) => {
          const a = io.args!;
          const [next, loss, metrics] = jitted(state.slice(), a.x, a.y, a.masks, a.hyper);
          return {
            state: next,
            losses: loss.dataSync() as Float32Array,
            metrics: metrics.map((m) => m.dataSync() as Float32Array),
          };
        },
      };
    } else c = this.compileLoop(b, k, masks);
    this.stepCache.set(key, c);
    return c;
  }

  /** k steps per session run: the step as the body of nx.scan (one ONNX Loop) over stacked inputs. */
  private compileLoop(b: number, k: number, masks: CompiledStep["masks"]): CompiledStep {
    // one body per trainer, so nx.scan compiles once per signature
    this.scanBody ??= (state: Tensor[], at: StepArgs) => {
      const r = this.stepCore(state, at.x, at.y, at.masks, at.hyper);
      return [r.state, [r.loss, r.metrics]] as const;
    };
    const body = this.scanBody;
    const opts = { threads: this.threads, executionProviders: this.executionProviders };
    return {
      masks,
      k,
      run: (state, io) => {
        const [next, [losses, metrics]] = nx.scan(body, state.slice(), io.args!, opts);
        return {
          state: next,
          losses: losses.dataSync() as Float32Array,
          metrics: metrics.map((m) => m.dataSync() as Float32Array),
        };
      },
    };
  }

  /** The jitted evaluation: mean loss and metric sums of one batch (one session per batch size). */
  private evaluator(): (params: Tensor[], x: Tensor, y: Tensor) => [Tensor, Tensor[]] {
    this.evalJit ??= nx.jit(
      (params: Tensor[], x: Tensor, y: Tensor) => {
        const pred = this.model.forward(x, this.paramMap(params), INFERENCE);
        return [this.loss.build(pred, y), this.metrics.map((m) => m.build(pred, y))] as [
          Tensor,
          Tensor[],
        ];
      },
      {
        threads: this.threads,
        batchPolymorphic: false,
        executionProviders: this.executionProviders,
      },
    );
    return this.evalJit;
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
        if (!cur || cur.dataSync() !== p.data) this.state.set(`p:${name}`, view(p.data, p.shape));
      }
      return;
    }
    for (const [name, p] of this.model.params) {
      this.state.set(`p:${name}`, view(p.data, p.shape));
      if (p.trainable)
        for (const slot of this.optimizer.slots)
          this.state.set(`s:${slot}:${name}`, view(new Float32Array(p.data.length), p.shape));
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
    const chart =
      (opts.liveChart ?? verbose)
        ? LiveChart.start(
            this.metrics.map((m) => m.name),
            val !== undefined,
          )
        : undefined;
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
    const stateKeys = this.stateOrder();
    const params = [...this.model.params.values()];
    const ioFor = (b: number, compiled: CompiledStep): StepIO => {
      let io = ios.get(compiled);
      if (!io) {
        const k = compiled.k;
        const lead = k === 1 ? [] : [k];
        const xShape = [...lead, b, ...this.model.inputShape];
        const yShape = [...lead, b, ...this.targetShape()];
        const x =
          this.model.inputDtype === "i64"
            ? new BigInt64Array(k * b * xRow)
            : new Float32Array(k * b * xRow);
        const y = new Float32Array(k * b * yRow);
        const masks = compiled.masks.map((m) => ({
          data: new Float32Array(k * m.shape.reduce((a, c) => a * c, 1)),
          rate: m.rate,
          keep: 1 / (1 - m.rate),
          shape: [...lead, ...m.shape],
        }));
        const hyper = this.optimizer.hyperNames.map((name) => ({
          name,
          data: new Float32Array(k),
        }));
        io = { x, y, masks, hyper };
        const h: Record<string, Tensor> = {};
        for (const hp of hyper) h[hp.name] = view(hp.data, lead);
        io.args = {
          x: view(x, xShape),
          y: view(y, yShape),
          masks: masks.map((m) => view(m.data, m.shape)),
          hyper: h,
        };
        ios.set(compiled, io);
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
        const res = compiled.run(
          stateKeys.map((n) => this.state.get(n)!),
          io,
        );
        stateKeys.forEach((n, i) => this.state.set(n, res.state[i]!));
        for (const p of params) p.data = this.state.get(`p:${p.name}`)!.dataSync() as Float32Array;
        const losses = res.losses;
        for (let i = 0; i < res.metrics.length; i++) {
          const v = res.metrics[i]!;
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
          // the epoch number padded to the total's width, so the columns line up
          `Epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}  ` +
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

  private async evaluateData(d: Prepared, batchSize: number): Promise<Record<string, number>> {
    const xRow = this.model.inputShape.reduce((a, b) => a * b, 1);
    const yRow = this.targetShape().reduce((a, b) => a * b, 1);
    let loss = 0;
    const sums = new Float64Array(this.metrics.length);
    const evaluate = this.evaluator();
    const params = [...this.model.params.values()].map((p) => view(p.data, p.shape));
    for (let s = 0; s < d.n; s += batchSize) {
      const e = Math.min(d.n, s + batchSize);
      const b = e - s;
      const x = view((d.x.data as Float32Array | BigInt64Array).slice(s * xRow, e * xRow), [
        b,
        ...this.model.inputShape,
      ]);
      const y = view((d.y.data as Float32Array).slice(s * yRow, e * yRow), [
        b,
        ...this.targetShape(),
      ]);
      const [l, metrics] = evaluate(params, x, y);
      loss += (l.item() as number) * b;
      metrics.forEach((m, i) => (sums[i]! += m.item() as number));
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
    return predict(this.model, xIn, {
      ...opts,
      threads: this.threads,
      executionProviders: this.executionProviders,
    });
  }
}

/** The model's outputs for x (inference with the current weights). */
export async function predict(
  model: Model,
  xIn: DataInput,
  opts: { batchSize?: number; threads?: number; executionProviders?: readonly string[] } = {},
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
  const forward = forwardFor(model, opts.threads ?? 1, opts.executionProviders);
  const xData =
    model.inputDtype === "i64"
      ? BigInt64Array.from(x.data as ArrayLike<number | bigint>, (v) => BigInt(v))
      : toF32(x.data);
  const params = [...model.params.values()].map((p) => view(p.data, p.shape));
  for (let s = 0; s < n; s += bs) {
    const e = Math.min(n, s + bs);
    const y = forward(params, view(xData.slice(s * xRow, e * xRow), [e - s, ...want]));
    out.set(y.dataSync() as Float32Array, s * yRow);
  }
  return fromHost({ dtype: "f32", shape: [n, ...model.outputShape], data: out });
}

type Forward = (params: Tensor[], x: Tensor) => Tensor;
const forwards = new WeakMap<Model, Map<string, Forward>>();

/**
 * The model's jitted inference forward pass (one session per batch size), per thread count and
 * execution providers.
 */
function forwardFor(
  model: Model,
  threads: number,
  executionProviders?: readonly string[],
): Forward {
  let byConfig = forwards.get(model);
  if (!byConfig) forwards.set(model, (byConfig = new Map()));
  const key = `${threads}:${executionProviders?.join(",") ?? ""}`;
  let f = byConfig.get(key);
  if (!f) {
    f = nx.jit(
      (params: Tensor[], x: Tensor) => {
        const names = [...model.params.keys()];
        return model.forward(x, new Map(names.map((n, i) => [n, params[i]!])), INFERENCE);
      },
      { threads, batchPolymorphic: false, executionProviders },
    );
    byConfig.set(key, f);
  }
  return f;
}

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
