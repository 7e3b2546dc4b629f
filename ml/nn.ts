/**
 * Models (Axon's role): layers, a sequential builder and a functional graph API, seeded
 * initialisers, and a model summary that renders as a table.
 *
 * A model is a DAG of layer nodes from one input to one output. Each layer knows its output
 * shape (without the batch dimension), the parameters it needs, and its forward computation
 * written with `tsnb/nx` ops on (traced) tensors; gradients come from nx's `grad`, so layers never
 * write backward code.
 *
 * Invariants: parameter names are `<layer name>.<param>` and unique; the same seed gives the same
 * initial weights (each parameter's generator is derived from the seed and its name); weights
 * live in host Float32Arrays that training replaces step by step, so an interrupted training
 * keeps the weights of the last completed step.
 */
import type { Output } from "../core/outputs.ts";
import { DISPLAY } from "./host.ts";
import { deriveSeed, mulberry32, normalSampler } from "./random.ts";
import * as nx from "../tensor/index.ts";

type Val = nx.Tensor;

// ---------------------------------------------------------------------------------------------
// Initialisers

/** How a parameter starts: a named scheme, resolved with fan-in/fan-out and a seed. */
export type Initializer =
  | "zeros"
  | "ones"
  | "glorotUniform"
  | "glorotNormal"
  | "heUniform"
  | "heNormal"
  | "normal"
  | ((shape: number[], seed: number) => Float32Array);

function fans(shape: number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  if (shape.length === 4) {
    const rf = shape[2]! * shape[3]!;
    return [shape[1]! * rf, shape[0]! * rf];
  }
  const n = shape.reduce((a, b) => a * b, 1);
  return [n, n];
}

/** Materialise an initialiser for a shape with a seed. */
export function initialize(init: Initializer, shape: number[], seed: number): Float32Array {
  if (typeof init === "function") return init(shape, seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const [fanIn, fanOut] = fans(shape);
  const rand = mulberry32(seed);
  const normal = normalSampler(rand);
  const uniform = (limit: number) => {
    for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * limit;
  };
  const gauss = (std: number) => {
    for (let i = 0; i < n; i++) out[i] = normal() * std;
  };
  switch (init) {
    case "zeros":
      break;
    case "ones":
      out.fill(1);
      break;
    case "glorotUniform":
      uniform(Math.sqrt(6 / (fanIn + fanOut)));
      break;
    case "glorotNormal":
      gauss(Math.sqrt(2 / (fanIn + fanOut)));
      break;
    case "heUniform":
      uniform(Math.sqrt(6 / fanIn));
      break;
    case "heNormal":
      gauss(Math.sqrt(2 / fanIn));
      break;
    case "normal":
      gauss(0.05);
      break;
    default:
      throw new Error(`initialize: unknown initialiser '${String(init satisfies never)}'`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Layers

/** A parameter a layer needs. */
export interface ParamSpec {
  /** Local name within the layer, e.g. "kernel". */
  name: string;
  shape: number[];
  init: Initializer;
  /** False for state the optimizer does not touch (batchNorm's running statistics). Default true. */
  trainable?: boolean;
}

/** What a layer's forward pass can use besides its inputs and parameters. */
export interface ApplyContext {
  training: boolean;
  /** The dropout keep-mask of the given shape (batch included), scaled by 1/(1-rate): an input of the compiled step, so every step gets fresh randomness. */
  dropoutMask(shape: number[], rate: number): Val;
  /** Set the next value of a non-trainable parameter of this layer (training only). */
  setState?(param: string, value: Val): void;
}

/** A layer: shape inference, parameters, and its forward computation with nx ops. */
export interface Layer {
  /** The kind, e.g. "dense". */
  readonly kind: string;
  /** A name unique within its model; set when the model is built unless given. */
  name?: string;
  /** Output shape (without batch) for the given input shapes (without batch). */
  outputShape(inputs: number[][]): number[];
  /** Parameters for the given input shapes. */
  params(inputs: number[][]): ParamSpec[];
  /** The forward pass on (traced) nx tensors, batch dimension first. */
  apply(inputs: Val[], params: Record<string, Val>, ctx: ApplyContext): Val;
  /** The rate of a dropout layer (its mask is fed to the compiled step). */
  readonly dropoutRate?: number;
  /** Input dtype this layer needs when it is the first layer (embedding takes i64 indices). */
  readonly inputDtype?: "f32" | "i64";
  /** Call the layer on symbolic nodes (functional API). */
  call(...inputs: Node[]): Node;
}

/** A symbolic tensor in the functional API: the output of a layer applied to other nodes. */
export class Node {
  constructor(
    readonly layer: Layer | null,
    readonly inputs: Node[],
    /** Shape without the batch dimension. */
    readonly shape: number[],
    readonly dtype: "f32" | "i64" = "f32",
  ) {}
  /** Apply a layer to this node (chaining). */
  to(layer: Layer): Node {
    return layer.call(this);
  }
}

function makeLayer(
  kind: string,
  opts: { name?: string; inputDtype?: "f32" | "i64"; dropoutRate?: number },
  impl: Pick<Layer, "outputShape" | "params" | "apply">,
): Layer {
  const layer: Layer = {
    kind,
    name: opts.name,
    inputDtype: opts.inputDtype,
    dropoutRate: opts.dropoutRate,
    ...impl,
    call(...inputs: Node[]): Node {
      if (inputs.length === 0) throw new Error(`${kind}: needs an input`);
      return new Node(layer, inputs, layer.outputShape(inputs.map((i) => i.shape)));
    },
  };
  return layer;
}

const one = (inputs: number[][], kind: string): number[] => {
  if (inputs.length !== 1) throw new Error(`${kind}: takes one input, got ${inputs.length}`);
  return inputs[0]!;
};

/** A symbolic model input of the given shape (without the batch dimension). */
export function input(shape: number[], opts: { dtype?: "f32" | "i64" } = {}): Node {
  return new Node(null, [], [...shape], opts.dtype ?? "f32");
}

/** Options of {@link dense}. */
export interface DenseOptions {
  name?: string;
  /** Activation applied after the affine map. */
  activation?: Activation;
  useBias?: boolean;
  kernelInit?: Initializer;
  biasInit?: Initializer;
}

/** A fully connected layer: x·W + b over the last dimension. */
export function dense(units: number, opts: DenseOptions = {}): Layer {
  if (!(Number.isInteger(units) && units > 0))
    throw new Error(`dense: units must be a positive integer, got ${units}`);
  const act = opts.activation;
  return makeLayer("dense", opts, {
    outputShape: (ins) => [...one(ins, "dense").slice(0, -1), units],
    params: (ins) => {
      const s = one(ins, "dense");
      const k = s[s.length - 1];
      if (k === undefined) throw new Error("dense: input must have at least one dimension");
      const p: ParamSpec[] = [
        {
          name: "kernel",
          shape: [k, units],
          init:
            opts.kernelInit ?? (act === "relu" || act === "gelu" ? "heUniform" : "glorotUniform"),
        },
      ];
      if (opts.useBias !== false)
        p.push({ name: "bias", shape: [units], init: opts.biasInit ?? "zeros" });
      return p;
    },
    apply: ([x], p) => {
      let y = nx.matmul(x!, p.kernel!);
      if (p.bias) y = nx.add(y, p.bias);
      return act ? applyActivation(act, y) : y;
    },
  });
}

/** Activation functions. */
export type Activation = "relu" | "gelu" | "tanh" | "sigmoid" | "softmax" | "logSoftmax" | "linear";

function applyActivation(a: Activation, x: Val): Val {
  switch (a) {
    case "relu":
      return nx.relu(x);
    case "gelu":
      // exact GELU: x·Φ(x) = x · ½(1 + erf(x/√2))
      return nx.multiply(x, nx.multiply(nx.add(nx.erf(nx.multiply(x, Math.SQRT1_2)), 1), 0.5));
    case "tanh":
      return nx.tanh(x);
    case "sigmoid":
      return nx.sigmoid(x);
    case "softmax":
      return nx.softmax(x, -1);
    case "logSoftmax":
      return nx.logSoftmax(x, -1);
    case "linear":
      return x;
    default:
      throw new Error(`activation: unknown '${String(a satisfies never)}'`);
  }
}

/** An activation as a layer. */
export function activation(a: Activation, opts: { name?: string } = {}): Layer {
  return makeLayer(a, opts, {
    outputShape: (ins) => one(ins, a),
    params: () => [],
    apply: ([x]) => applyActivation(a, x!),
  });
}
export const relu = (o: { name?: string } = {}) => activation("relu", o);
export const gelu = (o: { name?: string } = {}) => activation("gelu", o);
export const tanh = (o: { name?: string } = {}) => activation("tanh", o);
export const sigmoid = (o: { name?: string } = {}) => activation("sigmoid", o);
export const softmax = (o: { name?: string } = {}) => activation("softmax", o);

/** Flatten everything but the batch dimension. */
export function flatten(opts: { name?: string } = {}): Layer {
  return makeLayer("flatten", opts, {
    outputShape: (ins) => [one(ins, "flatten").reduce((a, b) => a * b, 1)],
    params: () => [],
    apply: ([x]) => nx.reshape(x!, [x!.shape[0]!, -1]),
  });
}

/** Reshape everything but the batch dimension. */
export function reshape(shape: number[], opts: { name?: string } = {}): Layer {
  return makeLayer("reshape", opts, {
    outputShape: (ins) => {
      const n = one(ins, "reshape").reduce((a, b) => a * b, 1);
      if (shape.reduce((a, b) => a * b, 1) !== n)
        throw new Error(`reshape: cannot reshape [${ins[0]!.join(", ")}] to [${shape.join(", ")}]`);
      return [...shape];
    },
    params: () => [],
    apply: ([x]) => nx.reshape(x!, [x!.shape[0]!, ...shape]),
  });
}

/** Dropout: during training zero a `rate` fraction of values (seeded masks), identity otherwise. */
export function dropout(rate: number, opts: { name?: string } = {}): Layer {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  return makeLayer(
    "dropout",
    { ...opts, dropoutRate: rate },
    {
      outputShape: (ins) => one(ins, "dropout"),
      params: () => [],
      apply: ([x], _p, ctx) =>
        ctx.training && rate > 0 ? nx.multiply(x!, ctx.dropoutMask(x!.shape.slice(), rate)) : x!,
    },
  );
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  name?: string;
  /** Kernel size (square). Default 3. */
  kernelSize?: number;
  stride?: number;
  /** "same" keeps the spatial size at stride 1, "valid" (default) pads nothing. */
  padding?: "same" | "valid";
  activation?: Activation;
  kernelInit?: Initializer;
}

/** 2-D convolution over NCHW inputs ([channels, height, width] without batch). */
export function conv2d(filters: number, opts: Conv2dOptions = {}): Layer {
  const k = opts.kernelSize ?? 3;
  const s = opts.stride ?? 1;
  const pad = opts.padding === "same" ? Math.floor((k - 1) / 2) : 0;
  const act = opts.activation;
  return makeLayer("conv2d", opts, {
    outputShape: (ins) => {
      const sh = one(ins, "conv2d");
      if (sh.length !== 3)
        throw new Error(`conv2d: input must be [channels, height, width], got [${sh.join(", ")}]`);
      return [
        filters,
        Math.floor((sh[1]! + 2 * pad - k) / s) + 1,
        Math.floor((sh[2]! + 2 * pad - k) / s) + 1,
      ];
    },
    params: (ins) => [
      {
        name: "kernel",
        shape: [filters, one(ins, "conv2d")[0]!, k, k],
        init: opts.kernelInit ?? "heUniform",
      },
      { name: "bias", shape: [filters, 1, 1], init: "zeros" },
    ],
    apply: ([x], p) => {
      const y = nx.add(nx.conv2d(x!, p.kernel!, { strides: s, padding: pad }), p.bias!);
      return act ? applyActivation(act, y) : y;
    },
  });
}

/** 2-D max pooling over NCHW inputs. */
export function maxPool2d(poolSize = 2, opts: { name?: string; stride?: number } = {}): Layer {
  const s = opts.stride ?? poolSize;
  return makeLayer("maxPool2d", opts, {
    outputShape: (ins) => {
      const sh = one(ins, "maxPool2d");
      if (sh.length !== 3)
        throw new Error(
          `maxPool2d: input must be [channels, height, width], got [${sh.join(", ")}]`,
        );
      return [
        sh[0]!,
        Math.floor((sh[1]! - poolSize) / s) + 1,
        Math.floor((sh[2]! - poolSize) / s) + 1,
      ];
    },
    params: () => [],
    apply: ([x]) => nx.maxPool2d(x!, poolSize, { strides: s }),
  });
}

/** Layer normalisation over the last dimension, with learned scale and offset. */
export function layerNorm(opts: { name?: string; epsilon?: number } = {}): Layer {
  const eps = opts.epsilon ?? 1e-5;
  return makeLayer("layerNorm", opts, {
    outputShape: (ins) => one(ins, "layerNorm"),
    params: (ins) => {
      const s = one(ins, "layerNorm");
      const d = s[s.length - 1]!;
      return [
        { name: "gamma", shape: [d], init: "ones" },
        { name: "beta", shape: [d], init: "zeros" },
      ];
    },
    apply: ([x], p) => nx.layerNorm(x!, { epsilon: eps, gain: p.gamma!, bias: p.beta! }),
  });
}

/** Embedding: integer indices (any shape) → rows of a [vocab, dim] table. */
export function embedding(
  vocabSize: number,
  dim: number,
  opts: { name?: string; init?: Initializer } = {},
): Layer {
  return makeLayer(
    "embedding",
    { ...opts, inputDtype: "i64" },
    {
      outputShape: (ins) => [...one(ins, "embedding"), dim],
      params: () => [{ name: "table", shape: [vocabSize, dim], init: opts.init ?? "normal" }],
      apply: ([x], p) => nx.take(p.table!, x!, { axis: 0 }),
    },
  );
}

/**
 * Batch normalisation over the feature axis (the last one for [features] inputs, the channel axis
 * for [c, h, w] inputs). Training normalises with the batch's statistics and updates running
 * averages (PyTorch's momentum convention, unbiased running variance); inference and export use
 * the running averages.
 */
export function batchNorm(
  opts: { name?: string; momentum?: number; epsilon?: number } = {},
): Layer {
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.epsilon ?? 1e-5;
  const paramShape = (s: number[]) => (s.length === 3 ? [s[0]!, 1, 1] : [s[s.length - 1]!]);
  return makeLayer("batchNorm", opts, {
    outputShape: (ins) => one(ins, "batchNorm"),
    params: (ins) => {
      const ps = paramShape(one(ins, "batchNorm"));
      return [
        { name: "gamma", shape: ps, init: "ones" },
        { name: "beta", shape: ps, init: "zeros" },
        { name: "runningMean", shape: ps, init: "zeros", trainable: false },
        { name: "runningVar", shape: ps, init: "ones", trainable: false },
      ];
    },
    apply: ([x], p, ctx) => {
      const ps = p.gamma!.shape.slice();
      const normalize = (xc: Val, variance: Val) =>
        nx.add(nx.multiply(nx.divide(xc, nx.sqrt(nx.add(variance, eps))), p.gamma!), p.beta!);
      if (!ctx.training) return normalize(nx.subtract(x!, p.runningMean!), p.runningVar!);
      const rank = x!.shape.length;
      const axes = rank === 4 ? [0, 2, 3] : Array.from({ length: rank - 1 }, (_, i) => i);
      const mu = nx.mean(x!, { axes, keepDims: true });
      const xc = nx.subtract(x!, mu);
      const v = nx.mean(nx.square(xc), { axes, keepDims: true });
      const n = axes.reduce((a, ax) => a * x!.shape[ax]!, 1);
      // running statistics: not on the loss's path, so no gradient flows through them
      const ema = (old: Val, cur: Val) =>
        nx.add(nx.multiply(old, 1 - momentum), nx.multiply(nx.reshape(cur, ps), momentum));
      ctx.setState?.("runningMean", ema(p.runningMean!, mu));
      ctx.setState?.("runningVar", ema(p.runningVar!, nx.multiply(v, n / Math.max(1, n - 1))));
      return normalize(xc, v);
    },
  });
}

/** Element-wise sum of several nodes of the same shape (residual connections). */
export function add(opts: { name?: string } = {}): Layer {
  return makeLayer("add", opts, {
    outputShape: (ins) => {
      const s = ins[0]!;
      for (const o of ins)
        if (o.join() !== s.join())
          throw new Error(`add: shapes [${s.join(", ")}] and [${o.join(", ")}] differ`);
      return s;
    },
    params: () => [],
    apply: (xs) => xs.slice(1).reduce((a, b) => nx.add(a, b), xs[0]!),
  });
}

// ---------------------------------------------------------------------------------------------
// Models

/** A parameter tensor of a model. */
export interface Param {
  name: string;
  shape: number[];
  data: Float32Array;
  /** False for non-trainable state (running statistics). */
  trainable: boolean;
}

/** One row of a model summary. */
export interface SummaryRow {
  layer: string;
  kind: string;
  outputShape: string;
  params: number;
}

let summaryCounter = 0;

/** A model: a DAG of layers from one input node to one output node, and its parameters. */
export class Model {
  /** The model's parameters by full name (`layer.param`), in a stable order. */
  readonly params = new Map<string, Param>();
  private initialized = false;
  private graphNodes: { input: Node; output: Node; order: Node[] } | undefined;
  /** A sequential model whose input shape comes from the first data it sees. */
  private deferred: { layers: Layer[]; dtype: "f32" | "i64" } | undefined;

  constructor(
    inputNode: Node | { layers: Layer[]; dtype: "f32" | "i64" },
    outputNode?: Node,
    /** Seed of the initial weights. */
    public seed = 0,
  ) {
    if (inputNode instanceof Node) this.setGraph(inputNode, outputNode!);
    else this.deferred = inputNode;
  }

  private setGraph(inputNode: Node, outputNode: Node): void {
    const order = topoOrder(outputNode);
    if (!order.includes(inputNode))
      throw new Error("model: the output does not depend on the input");
    const used = new Set<string>();
    const counts = new Map<string, number>();
    for (const n of order) {
      if (!n.layer) continue;
      let name = n.layer.name;
      if (!name || used.has(name)) {
        do {
          const c = counts.get(n.layer.kind) ?? 0;
          counts.set(n.layer.kind, c + 1);
          name = `${n.layer.kind}_${c}`;
        } while (used.has(name));
        if (!n.layer.name) n.layer.name = name;
      }
      used.add(name);
      nodeNames.set(n, name);
    }
    this.graphNodes = { input: inputNode, output: outputNode, order };
  }

  /** Whether the input shape is known (always, except a sequential model built without one). */
  get built(): boolean {
    return this.graphNodes !== undefined;
  }

  /**
   * Fix the input shape (without batch) of a sequential model created without `inputShape`.
   * Training and prediction call this with the data's shape; a built model only accepts its shape.
   */
  build(inputShape: readonly number[]): this {
    if (this.graphNodes) {
      const have = this.graphNodes.input.shape;
      if (have.length !== inputShape.length || have.some((d, i) => d !== inputShape[i]))
        throw new Error(
          `model: built for inputs [n, ${have.join(", ")}], got [n, ${inputShape.join(", ")}]`,
        );
      return this;
    }
    const { layers, dtype } = this.deferred!;
    const x = input([...inputShape], { dtype });
    this.setGraph(
      x,
      layers.reduce<Node>((h, l) => l.call(h), x),
    );
    this.deferred = undefined;
    return this;
  }

  private graph(): { input: Node; output: Node; order: Node[] } {
    if (!this.graphNodes)
      throw new Error(
        "model: the input shape is not known yet; pass {inputShape} to nn.sequential, call model.build([...]), or train it first",
      );
    return this.graphNodes;
  }

  /** The input node. */
  get inputNode(): Node {
    return this.graph().input;
  }
  /** The output node. */
  get outputNode(): Node {
    return this.graph().output;
  }
  /** Layers in evaluation order. */
  get order(): Node[] {
    return this.graph().order;
  }

  /** Input shape without the batch dimension. */
  get inputShape(): number[] {
    return this.inputNode.shape;
  }
  get inputDtype(): "f32" | "i64" {
    return this.inputNode.dtype;
  }
  /** Output shape without the batch dimension. */
  get outputShape(): number[] {
    return this.outputNode.shape;
  }

  /** The layer name of a node. */
  nameOf(n: Node): string {
    return nodeNames.get(n) ?? "input";
  }

  /** Parameter specs per layer node, in order. */
  paramSpecs(): Array<{ node: Node; full: string; spec: ParamSpec }> {
    const out: Array<{ node: Node; full: string; spec: ParamSpec }> = [];
    for (const n of this.order) {
      if (!n.layer) continue;
      for (const spec of n.layer.params(n.inputs.map((i) => i.shape)))
        out.push({ node: n, full: `${this.nameOf(n)}.${spec.name}`, spec });
    }
    return out;
  }

  /** (Re)initialise every parameter from a seed. */
  init(seed = this.seed): this {
    this.seed = seed;
    this.params.clear();
    for (const { full, spec } of this.paramSpecs())
      this.params.set(full, {
        name: full,
        shape: spec.shape,
        data: initialize(spec.init, spec.shape, deriveSeed(seed, full)),
        trainable: spec.trainable !== false,
      });
    this.initialized = true;
    return this;
  }

  /** Make sure parameters exist (initialised from the seed on first use). */
  ensureInit(): this {
    return this.initialized ? this : this.init();
  }

  /** Total number of scalar parameters. */
  get parameterCount(): number {
    return this.paramSpecs().reduce((a, p) => a + p.spec.shape.reduce((x, y) => x * y, 1), 0);
  }

  /** The forward pass on nx tensors (traced inside the compiled step); `params` maps full names to values. */
  forward(x: Val, params: Map<string, Val>, ctx: ApplyContext): Val {
    const vals = new Map<Node, Val>([[this.inputNode, x]]);
    for (const n of this.order) {
      if (!n.layer) continue;
      const local: Record<string, Val> = {};
      const layerName = this.nameOf(n);
      for (const spec of n.layer.params(n.inputs.map((i) => i.shape)))
        local[spec.name] = params.get(`${layerName}.${spec.name}`)!;
      const setState = ctx.setState;
      const layerCtx: ApplyContext = setState
        ? { ...ctx, setState: (param, value) => setState(`${layerName}.${param}`, value) }
        : ctx;
      vals.set(
        n,
        n.layer.apply(
          n.inputs.map((i) => vals.get(i)!),
          local,
          layerCtx,
        ),
      );
    }
    return vals.get(this.outputNode)!;
  }

  /** The layers with output shapes and parameter counts. */
  summary(): SummaryRow[] {
    const counts = new Map<Node, number>();
    for (const { node, spec } of this.paramSpecs())
      counts.set(node, (counts.get(node) ?? 0) + spec.shape.reduce((a, b) => a * b, 1));
    const rows: SummaryRow[] = [
      {
        layer: "input",
        kind: "input",
        outputShape: `[batch, ${this.inputShape.join(", ")}]`,
        params: 0,
      },
    ];
    for (const n of this.order)
      if (n.layer)
        rows.push({
          layer: this.nameOf(n),
          kind: n.layer.kind,
          outputShape: `[batch, ${n.shape.join(", ")}]`,
          params: counts.get(n) ?? 0,
        });
    return rows;
  }

  /** The summary as a table output (plus a total row). */
  [DISPLAY](): Output {
    if (!this.built)
      return {
        type: "markdown",
        text: `**Model** (input shape not known yet: it is fixed by the first data it is trained on or run on)\n\nLayers: ${this.deferred!.layers.map((l) => l.name ?? l.kind).join(" → ")}`,
      };
    const rows = this.summary();
    return {
      type: "table",
      id: `ml-summary-${++summaryCounter}`,
      name: `Model (${this.parameterCount.toLocaleString("en-US")} parameters)`,
      columns: ["layer", "kind", "output shape", "parameters"],
      rows: [
        ...rows.map((r) => [r.layer, r.kind, r.outputShape, r.params]),
        ["total", "", "", this.parameterCount],
      ],
      offset: 0,
      totalRows: rows.length + 1,
    };
  }

  toString(): string {
    const rows = this.summary();
    return (
      rows
        .map(
          (r) =>
            `${r.layer.padEnd(14)} ${r.kind.padEnd(10)} ${r.outputShape.padEnd(22)} ${r.params}`,
        )
        .join("\n") + `\ntotal parameters: ${this.parameterCount}`
    );
  }
}

const nodeNames = new WeakMap<Node, string>();

function topoOrder(out: Node): Node[] {
  const seen = new Set<Node>();
  const order: Node[] = [];
  const visit = (n: Node) => {
    if (seen.has(n)) return;
    seen.add(n);
    n.inputs.forEach(visit);
    order.push(n);
  };
  visit(out);
  return order;
}

/** Build a model from a functional graph: `nn.model(x, y)` where y was computed from x. */
export function model(inputNode: Node, outputNode: Node, opts: { seed?: number } = {}): Model {
  return new Model(inputNode, outputNode, opts.seed ?? 0);
}

/**
 * A stack of layers applied one after the other to an input of `inputShape` (one example, without
 * the batch dimension). Without `inputShape` the model takes its input shape from the first data
 * it is trained or run on (or `model.build(shape)`).
 */
export function sequential(
  layers: Layer[],
  opts: { inputShape?: number[]; inputDtype?: "f32" | "i64"; seed?: number } = {},
): Model {
  if (!Array.isArray(layers) || layers.length === 0)
    throw new Error("sequential: needs a non-empty array of layers");
  const dtype = opts.inputDtype ?? layers[0]?.inputDtype ?? "f32";
  if (opts.inputShape === undefined) return new Model({ layers, dtype }, undefined, opts.seed ?? 0);
  const x = input(opts.inputShape, { dtype });
  const y = layers.reduce<Node>((h, l) => l.call(h), x);
  return new Model(x, y, opts.seed ?? 0);
}
