/**
 * The training compiler's core: a tape that emits ONNX nodes for the forward pass with static
 * shapes and records, per op, how to emit its gradient (micrograd's idea, symbolic: backward
 * emits more ONNX nodes rather than computing numbers). `backward(loss)` walks the tape in
 * reverse and returns gradient value names for the requested values; the caller appends the
 * optimizer update, and the whole step becomes one ONNX graph → one ORT session.
 *
 * Why here and not tsnb/nx's jit/grad: this is the smallest adapter that gives ml/ layer-level ops
 * (Conv/ConvTranspose, MaxPool with indices, ScatterND) with exact static shapes while the tensor
 * backend's transforms were being built in parallel. It depends only on the shared ONNX encoder.
 *
 * Invariants: every value has a known static shape (batch size included: one graph per batch
 * size); all differentiable values are f32; gradients of broadcast operands are reduced back to
 * the operand's shape in one place (`unbroadcast`); only standard ONNX ops (opset 18).
 */
import {
  encodeModel,
  OnnxDataType,
  type AttrValue,
  type GraphJson,
  type NodeJson,
  type TensorProtoJson,
  type ValueInfoJson,
} from "../tensor/onnx/proto.ts";

/** A value in the graph being built. */
export interface Val {
  name: string;
  shape: number[];
  /** "f32" for differentiable values; "i64" for indices. */
  dtype: "f32" | "i64" | "bool";
}

/** Emits the gradients of an op's inputs from its output's gradient; `need[i]` is false for inputs no gradient is wanted for (data), which the rule may skip. */
type Backward = (g: Val, need: boolean[]) => Array<Val | null>;

interface TapeEntry {
  out: Val;
  inputs: Val[];
  backward: Backward;
}

const ELEM: Record<Val["dtype"], number> = {
  f32: OnnxDataType.FLOAT,
  i64: OnnxDataType.INT64,
  bool: OnnxDataType.BOOL,
};

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NumPy broadcasting of two static shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new Error(`${op}: shapes [${a.join(", ")}] and [${b.join(", ")}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Builds one ONNX graph with a tape for reverse mode. */
export class Tape {
  readonly nodes: NodeJson[] = [];
  readonly initializers: TensorProtoJson[] = [];
  readonly inputs: ValueInfoJson[] = [];
  readonly outputs: ValueInfoJson[] = [];
  private readonly entries: TapeEntry[] = [];
  private counter = 0;
  /** Whether new ops are recorded for backward (off inside backward itself and for metrics). */
  recording = true;

  /** Prefix of generated names (distinct for a Loop body, so its names never shadow the outer graph's). */
  prefix = "";

  fresh(prefix: string): string {
    return `${this.prefix}${prefix}_${this.counter++}`;
  }

  private node(
    opType: string,
    inputs: string[],
    shape: number[],
    attrs?: Record<string, AttrValue>,
    dtype: Val["dtype"] = "f32",
    outputs?: string[],
  ): Val {
    const out = { name: this.fresh(opType.toLowerCase()), shape, dtype };
    this.nodes.push({
      opType,
      inputs,
      outputs: outputs ? [out.name, ...outputs] : [out.name],
      attrs,
    });
    return out;
  }

  private record(out: Val, inputs: Val[], backward: Backward): Val {
    if (this.recording) this.entries.push({ out, inputs, backward });
    return out;
  }

  // -- graph inputs, outputs, constants --------------------------------------------------------

  input(name: string, shape: number[], dtype: Val["dtype"] = "f32"): Val {
    this.inputs.push({ name, elemType: ELEM[dtype], shape });
    return { name, shape, dtype };
  }

  /**
   * Mark a value as a graph output named `name`. A value computed by a node of this graph is
   * renamed in place (no Identity copy; the Val object takes the new name); graph inputs,
   * initializers and values already output get an Identity.
   */
  output(v: Val, name?: string): string {
    const n = name ?? v.name;
    if (n !== v.name) {
      const producer = this.nodes.find((node) => node.outputs.includes(v.name));
      const alreadyOutput = this.outputs.some((o) => o.name === v.name);
      if (producer && !alreadyOutput) {
        const old = v.name;
        for (const node of this.nodes) {
          node.inputs = node.inputs.map((i) => (i === old ? n : i));
          node.outputs = node.outputs.map((o) => (o === old ? n : o));
        }
        v.name = n;
      } else this.nodes.push({ opType: "Identity", inputs: [v.name], outputs: [n] });
    }
    this.outputs.push({ name: n, elemType: ELEM[v.dtype], shape: v.shape });
    return n;
  }

  /** An f32 initializer (weights in exported models, constants). */
  initializer(name: string, shape: number[], data: Float32Array): Val {
    this.initializers.push({
      name,
      dataType: OnnxDataType.FLOAT,
      dims: shape,
      rawData: new Uint8Array(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      ),
    });
    return { name, shape, dtype: "f32" };
  }

  scalar(value: number): Val {
    return this.initializer(this.fresh("k"), [], Float32Array.from([value]));
  }

  ints(values: readonly number[]): string {
    const name = this.fresh("i");
    this.initializers.push({
      name,
      dataType: OnnxDataType.INT64,
      dims: [values.length],
      rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
    });
    return name;
  }

  zeros(shape: number[]): Val {
    return this.node("ConstantOfShape", [this.ints(shape)], shape, {
      value: { tensor: { dataType: OnnxDataType.FLOAT, dims: [1], rawData: new Uint8Array(4) } },
    });
  }

  /** A graph input/output description. */
  valueInfo(name: string, shape: Array<number | string>, dtype: Val["dtype"]): ValueInfoJson {
    return { name, elemType: ELEM[dtype], shape };
  }

  /** A bool scalar initializer; returns its name. */
  boolConstant(v: boolean): string {
    const name = this.fresh("bool");
    this.initializers.push({
      name,
      dataType: OnnxDataType.BOOL,
      dims: [],
      rawData: Uint8Array.from([v ? 1 : 0]),
    });
    return name;
  }

  /** An ONNX Loop node with the given body graph. */
  loop(inputs: string[], outputs: string[], body: GraphJson): void {
    this.nodes.push({ opType: "Loop", inputs, outputs, attrs: { body: { graph: body } } });
  }

  /** This tape as a GraphJson (e.g. a Loop body). */
  graph(name: string): GraphJson {
    return {
      name,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
    };
  }

  encode(name = "tsnb"): Uint8Array {
    return encodeModel({
      graph: {
        name,
        nodes: this.nodes,
        inputs: this.inputs,
        outputs: this.outputs,
        initializers: this.initializers,
      },
    });
  }

  // -- gradient plumbing -----------------------------------------------------------------------

  /** Sum a gradient of shape `from` down to `to` (undoing broadcasting). */
  unbroadcast(g: Val, to: readonly number[]): Val {
    if (g.shape.length === to.length && g.shape.every((d, i) => d === to[i])) return g;
    const lead = g.shape.length - to.length;
    const axes: number[] = [];
    g.shape.forEach((d, i) => {
      if (i < lead || (to[i - lead] === 1 && d !== 1)) axes.push(i);
    });
    let r = g;
    const prefix = axes.every((a, i) => a === i);
    if (axes.length > 0 && prefix && g.shape.length > axes.length) {
      // Summing leading axes (a bias over the batch) as ones[1, R] · g[R, N]: a GEMM, which ORT runs
      // much faster than ReduceSum over axis 0.
      const rows = size(g.shape.slice(0, axes.length));
      const cols = size(g.shape.slice(axes.length));
      const ones = this.initializer(this.fresh("ones"), [1, rows], new Float32Array(rows).fill(1));
      r = this.node("MatMul", [ones.name, this.reshapeRaw(g, [rows, cols]).name], [1, cols]);
    } else if (axes.length > 0)
      r = this.node(
        "ReduceSum",
        [g.name, this.ints(axes)],
        g.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
        { keepdims: 1 },
      );
    return this.reshapeRaw(r, [...to]);
  }

  private reshapeRaw(x: Val, shape: number[]): Val {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.node("Reshape", [x.name, this.ints(shape)], shape);
  }

  /**
   * Reverse mode from a scalar `loss`: returns the gradient of each of `wrt` (null when the loss does
   * not depend on it). Gradient nodes are appended to the same graph.
   */
  backward(loss: Val, wrt: readonly Val[]): Array<Val | null> {
    if (size(loss.shape) !== 1)
      throw new Error(`backward: the loss must be a scalar, got shape [${loss.shape.join(", ")}]`);
    const grads = new Map<string, Val>();
    const wasRecording = this.recording;
    this.recording = false;
    grads.set(loss.name, this.reshapeRaw(this.scalar(1), loss.shape));
    // Values that depend on a `wrt` value: only their gradients are worth emitting.
    const req = new Set(wrt.map((w) => w.name));
    for (const e of this.entries) if (e.inputs.some((i) => req.has(i.name))) req.add(e.out.name);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      const g = grads.get(e.out.name);
      if (!g || !req.has(e.out.name)) continue;
      const need = e.inputs.map((inp) => req.has(inp.name) && inp.dtype === "f32");
      const gs = e.backward(g, need);
      e.inputs.forEach((inp, k) => {
        const gi = gs[k];
        if (!gi || !need[k]) return;
        const prev = grads.get(inp.name);
        grads.set(inp.name, prev ? this.node("Add", [prev.name, gi.name], inp.shape) : gi);
      });
    }
    this.recording = wasRecording;
    return wrt.map((w) => grads.get(w.name) ?? null);
  }

  // -- differentiable ops ----------------------------------------------------------------------

  private binary(op: "Add" | "Sub" | "Mul" | "Div", a: Val, b: Val): Val {
    const shape = broadcastShapes(a.shape, b.shape, op.toLowerCase());
    const out = this.node(op, [a.name, b.name], shape);
    return this.record(out, [a, b], (g, [na, nb]) => {
      switch (op) {
        case "Add":
          return [
            na ? this.unbroadcast(g, a.shape) : null,
            nb ? this.unbroadcast(g, b.shape) : null,
          ];
        case "Sub":
          return [
            na ? this.unbroadcast(g, a.shape) : null,
            nb ? this.unbroadcast(this.node("Neg", [g.name], g.shape), b.shape) : null,
          ];
        case "Mul":
          return [
            na ? this.unbroadcast(this.node("Mul", [g.name, b.name], shape), a.shape) : null,
            nb ? this.unbroadcast(this.node("Mul", [g.name, a.name], shape), b.shape) : null,
          ];
        case "Div": {
          const ga = this.node("Div", [g.name, b.name], shape);
          const gb = nb
            ? this.node(
                "Neg",
                [
                  this.node("Div", [this.node("Mul", [ga.name, a.name], shape).name, b.name], shape)
                    .name,
                ],
                shape,
              )
            : null;
          return [
            na ? this.unbroadcast(ga, a.shape) : null,
            gb ? this.unbroadcast(gb, b.shape) : null,
          ];
        }
      }
    });
  }
  add(a: Val, b: Val): Val {
    return this.binary("Add", a, b);
  }
  sub(a: Val, b: Val): Val {
    return this.binary("Sub", a, b);
  }
  mul(a: Val, b: Val): Val {
    return this.binary("Mul", a, b);
  }
  div(a: Val, b: Val): Val {
    return this.binary("Div", a, b);
  }

  private unary(
    op: string,
    x: Val,
    grad: (g: Val, x: Val, y: Val) => Val,
    attrs?: Record<string, AttrValue>,
  ): Val {
    const y = this.node(op, [x.name], x.shape, attrs);
    return this.record(y, [x], (g) => [grad(g, x, y)]);
  }
  private mulv(a: Val, b: Val): Val {
    return this.node("Mul", [a.name, b.name], broadcastShapes(a.shape, b.shape, "mul"));
  }
  neg(x: Val): Val {
    return this.unary("Neg", x, (g) => this.node("Neg", [g.name], g.shape));
  }
  exp(x: Val): Val {
    return this.unary("Exp", x, (g, _x, y) => this.mulv(g, y));
  }
  log(x: Val): Val {
    return this.unary("Log", x, (g, xx) => this.node("Div", [g.name, xx.name], g.shape));
  }
  sqrt(x: Val): Val {
    return this.unary("Sqrt", x, (g, _x, y) =>
      this.node("Div", [g.name, this.mulv(y, this.scalar(2)).name], g.shape),
    );
  }
  abs(x: Val): Val {
    return this.unary("Abs", x, (g, xx) => this.mulv(g, this.node("Sign", [xx.name], xx.shape)));
  }
  square(x: Val): Val {
    return this.mul(x, x);
  }
  tanh(x: Val): Val {
    // d tanh = 1 - y²
    return this.unary("Tanh", x, (g, _x, y) =>
      this.mulv(g, this.node("Sub", [this.scalar(1).name, this.mulv(y, y).name], y.shape)),
    );
  }
  sigmoid(x: Val): Val {
    return this.unary("Sigmoid", x, (g, _x, y) =>
      this.mulv(g, this.mulv(y, this.node("Sub", [this.scalar(1).name, y.name], y.shape))),
    );
  }
  relu(x: Val): Val {
    // dx = g where y > 0, else 0 (one Greater and one Where; y > 0 exactly when x > 0)
    return this.unary("Relu", x, (g, _x, y) => {
      const zero = this.scalar(0);
      const positive = this.node("Greater", [y.name, zero.name], y.shape, undefined, "bool");
      return this.node("Where", [positive.name, g.name, zero.name], g.shape);
    });
  }
  /** GELU (exact, erf form): x·Φ(x); derivative Φ(x) + x·φ(x). */
  gelu(x: Val): Val {
    const half = this.scalar(0.5);
    const erf = this.node("Erf", [this.mulv(x, this.scalar(Math.SQRT1_2)).name], x.shape);
    const cdf = this.mulv(this.node("Add", [erf.name, this.scalar(1).name], x.shape), half);
    const y = this.mulv(x, cdf);
    return this.record(y, [x], (g) => {
      const pdf = this.mulv(
        this.node("Exp", [this.mulv(this.mulv(x, x), this.scalar(-0.5)).name], x.shape),
        this.scalar(1 / Math.sqrt(2 * Math.PI)),
      );
      return [this.mulv(g, this.node("Add", [cdf.name, this.mulv(x, pdf).name], x.shape))];
    });
  }
  softmax(x: Val, axis = -1): Val {
    const y = this.node("Softmax", [x.name], x.shape, { axis });
    return this.record(y, [x], (g) => {
      // dx = y * (g - sum(g*y))
      const gy = this.mulv(g, y);
      const s = this.node(
        "ReduceSum",
        [gy.name, this.ints([axis])],
        x.shape.map((d, i) => (i === (axis + x.shape.length) % x.shape.length ? 1 : d)),
        { keepdims: 1 },
      );
      return [this.mulv(y, this.node("Sub", [g.name, s.name], x.shape))];
    });
  }
  logSoftmax(x: Val, axis = -1): Val {
    const y = this.node("LogSoftmax", [x.name], x.shape, { axis });
    return this.record(y, [x], (g) => {
      // dx = g - softmax(x) * sum(g)
      const s = this.node(
        "ReduceSum",
        [g.name, this.ints([axis])],
        x.shape.map((d, i) => (i === (axis + x.shape.length) % x.shape.length ? 1 : d)),
        { keepdims: 1 },
      );
      const p = this.node("Exp", [y.name], x.shape);
      return [this.node("Sub", [g.name, this.mulv(p, s).name], x.shape)];
    });
  }

  /** Sum over axes (all when omitted). */
  sum(x: Val, axes?: number[], keepDims = false): Val {
    const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + x.shape.length : a));
    const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
    const shape = keepDims ? kept : x.shape.filter((_, i) => !ax.includes(i));
    const y = this.node("ReduceSum", [x.name, this.ints(ax)], shape, {
      keepdims: keepDims ? 1 : 0,
    });
    return this.record(y, [x], (g) => [
      this.node("Expand", [this.reshapeRaw(g, kept).name, this.ints(x.shape)], x.shape),
    ]);
  }
  mean(x: Val, axes?: number[], keepDims = false): Val {
    const ax = (axes ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + x.shape.length : a));
    const n = ax.reduce((p, a) => p * x.shape[a]!, 1);
    return this.mul(this.sum(x, ax, keepDims), this.scalar(1 / n));
  }

  /** Matrix product of [..., m, k] and [k, n] (a weight matrix). */
  matmul(a: Val, b: Val): Val {
    const k = a.shape[a.shape.length - 1];
    if (b.shape.length !== 2 || b.shape[0] !== k)
      throw new Error(
        `matmul: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] do not align`,
      );
    const shape = [...a.shape.slice(0, -1), b.shape[1]!];
    const y = this.node("MatMul", [a.name, b.name], shape);
    return this.record(y, [a, b], (g, [na, nb]) => {
      const ga = na
        ? this.node(
            "MatMul",
            [
              g.name,
              this.node("Transpose", [b.name], [b.shape[1]!, b.shape[0]!], { perm: [1, 0] }).name,
            ],
            a.shape,
          )
        : null;
      if (!nb) return [ga, null];
      // gb = a2ᵀ g2 with leading dims flattened
      const rows = size(a.shape.slice(0, -1));
      const a2 = this.reshapeRaw(a, [rows, k!]);
      const g2 = this.reshapeRaw(g, [rows, b.shape[1]!]);
      const gb = this.node("Gemm", [a2.name, g2.name], [...b.shape], { transA: 1 });
      return [ga, gb];
    });
  }

  /** Flatten all but the first dimension (batch-size independent, for exported graphs). */
  flatten(x: Val): Val {
    const shape = [x.shape[0]!, size(x.shape.slice(1))];
    const y = this.node("Flatten", [x.name], shape, { axis: 1 });
    return this.record(y, [x], (g) => [this.reshapeRaw(g, x.shape)]);
  }

  /** Reshape; `onnxShape` may use 0 (copy the input's dimension) to stay batch-size independent. */
  reshape(x: Val, shape: number[], onnxShape: number[] = shape): Val {
    if (size(shape) !== size(x.shape))
      throw new Error(`reshape: cannot reshape [${x.shape.join(", ")}] to [${shape.join(", ")}]`);
    const y = this.node("Reshape", [x.name, this.ints(onnxShape)], shape);
    return this.record(y, [x], (g) => [this.reshapeRaw(g, x.shape)]);
  }

  /** Multiply by a fixed (non-differentiable) mask input, e.g. dropout. */
  mask(x: Val, m: Val): Val {
    const y = this.node("Mul", [x.name, m.name], x.shape);
    return this.record(y, [x], (g) => [this.mulv(g, m)]);
  }

  /** 2-D convolution, NCHW input and [out, in, kh, kw] weights. */
  conv2d(x: Val, w: Val, stride: number, pad: number): Val {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, ci, kh, kw] = w.shape as [number, number, number, number];
    if (x.shape.length !== 4 || ci !== c)
      throw new Error(
        `conv2d: input [${x.shape.join(", ")}] and kernel [${w.shape.join(", ")}] do not align (NCHW input, [out, in, kh, kw] kernel)`,
      );
    const oh = Math.floor((h + 2 * pad - kh) / stride) + 1;
    const ow = Math.floor((wd + 2 * pad - kw) / stride) + 1;
    const attrs = { strides: [stride, stride], pads: [pad, pad, pad, pad], kernel_shape: [kh, kw] };
    const y = this.node("Conv", [x.name, w.name], [n, o, oh, ow], attrs);
    return this.record(y, [x, w], (g, [nx, nw]) => {
      const outPadH = h - ((oh - 1) * stride + kh - 2 * pad);
      const outPadW = wd - ((ow - 1) * stride + kw - 2 * pad);
      const gx = nx
        ? this.node("ConvTranspose", [g.name, w.name], [n, c, h, wd], {
            ...attrs,
            output_padding: [outPadH, outPadW],
          })
        : null;
      if (!nw) return [gx, null];
      const xt = this.node("Transpose", [x.name], [c, n, h, wd], { perm: [1, 0, 2, 3] });
      const gt = this.node("Transpose", [g.name], [o, n, oh, ow], { perm: [1, 0, 2, 3] });
      const fh = h + 2 * pad - (oh - 1) * stride;
      const fw = wd + 2 * pad - (ow - 1) * stride;
      let gw = this.node("Conv", [xt.name, gt.name], [c, o, fh, fw], {
        dilations: [stride, stride],
        pads: [pad, pad, pad, pad],
        kernel_shape: [oh, ow],
      });
      if (fh !== kh || fw !== kw)
        gw = this.node(
          "Slice",
          [gw.name, this.ints([0, 0]), this.ints([kh, kw]), this.ints([2, 3])],
          [c, o, kh, kw],
        );
      return [gx, this.node("Transpose", [gw.name], [o, c, kh, kw], { perm: [1, 0, 2, 3] })];
    });
  }

  /** 2-D max pooling (NCHW); the gradient flows to the argmax of each window. */
  maxPool2d(x: Val, k: number, stride: number): Val {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const oh = Math.floor((h - k) / stride) + 1;
    const ow = Math.floor((w - k) / stride) + 1;
    const idx = this.fresh("poolidx");
    const y = this.node(
      "MaxPool",
      [x.name],
      [n, c, oh, ow],
      { kernel_shape: [k, k], strides: [stride, stride] },
      "f32",
      [idx],
    );
    return this.record(y, [x], (g) => {
      const total = n * c * h * w;
      const flatIdx = this.node(
        "Reshape",
        [idx, this.ints([-1])],
        [n * c * oh * ow],
        undefined,
        "i64",
      );
      const flatG = this.reshapeRaw(g, [n * c * oh * ow]);
      const z = this.zeros([total]);
      const scattered = this.node("ScatterElements", [z.name, flatIdx.name, flatG.name], [total], {
        axis: 0,
        reduction: "add",
      });
      return [this.reshapeRaw(scattered, x.shape)];
    });
  }

  /** Rows of a [vocab, dim] table for i64 indices of any shape (embedding lookup). */
  gather(table: Val, indices: Val): Val {
    const shape = [...indices.shape, table.shape[1]!];
    const y = this.node("Gather", [table.name, indices.name], shape, { axis: 0 });
    return this.record(y, [table, indices], (g) => {
      const z = this.zeros(table.shape);
      const idx = this.node(
        "Unsqueeze",
        [indices.name, this.ints([-1])],
        [...indices.shape, 1],
        undefined,
        "i64",
      );
      return [
        this.node("ScatterND", [z.name, idx.name, g.name], table.shape, { reduction: "add" }),
        null,
      ];
    });
  }

  // -- non-differentiable helpers (metrics, optimizer updates) ---------------------------------

  /** Emit a raw node without recording it for backward. */
  raw(
    op: string,
    inputs: Val[],
    shape: number[],
    attrs?: Record<string, AttrValue>,
    dtype: Val["dtype"] = "f32",
  ): Val {
    return this.node(
      op,
      inputs.map((i) => i.name),
      shape,
      attrs,
      dtype,
    );
  }
  rawInts(values: readonly number[]): Val {
    return { name: this.ints(values), shape: [values.length], dtype: "i64" };
  }
}
