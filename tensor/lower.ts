/**
 * Lowering of tsnb's primitive ops (the IR) to ONNX nodes: one function per primitive.
 *
 * Invariants: a lowering reads only its inputs' names and dtypes and the node's attributes —
 * never static input shapes — so the same lowering serves eager single-op graphs (symbolic
 * dimensions, one cached session per op/attrs/dtypes/ranks) and jit graphs. Where ONNX Runtime's
 * CPU kernels lack a dtype (e.g. Add on bool, MatMul on u8), the lowering computes in a supported
 * dtype and casts back, so every primitive accepts every dtype its shape rule admits.
 */
import type { DType } from "./dtype.ts";
import { GraphBuilder, PolyUnsupported } from "./graph.ts";
import { CORES } from "./runtime.ts";

/** The primitive ops of the IR. Composite ops (softmax, mean, clip, …) are built from these. */
export type Prim =
  | "input"
  | "const"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "mod"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "and"
  | "or"
  | "xor"
  | "not"
  | "neg"
  | "abs"
  | "exp"
  | "log"
  | "sqrt"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "sign"
  | "floor"
  | "ceil"
  | "round"
  | "sin"
  | "cos"
  | "isnan"
  | "identity"
  | "stopGradient"
  | "cast"
  | "where"
  | "reduceSum"
  | "reduceMax"
  | "reduceMin"
  | "argMax"
  | "argMin"
  | "matmul"
  | "transpose"
  | "reshape"
  | "expand"
  | "slice"
  | "pad"
  | "concat"
  | "gather"
  | "gatherGrad"
  | "count"
  | "topkIndices"
  | "gatherElements"
  | "scatterElementsAdd"
  | "cumsum"
  | "erf"
  | "logSoftmax"
  | "softmax"
  | "conv"
  | "convTranspose"
  | "maxPool"
  | "maxPoolIndices"
  | "tan"
  | "asin"
  | "acos"
  | "atan"
  | "sinh"
  | "cosh"
  | "asinh"
  | "acosh"
  | "atanh"
  | "bitAnd"
  | "bitOr"
  | "bitXor"
  | "bitNot"
  | "scatter"
  | "scatterRows"
  | "trilu"
  | "reduceProd"
  | "einsum"
  | "avgPool"
  | "gelu"
  | "normalize"
  | "normRstd";

/**
 * Attributes that eager single-op graphs take as int64 inputs instead of constants, so values that
 * vary from call to call (a moving slice window, a batch-sized broadcast) reuse one session.
 */
export const EAGER_PARAMS: Partial<Record<Prim, readonly string[]>> = {
  slice: ["starts", "ends"],
  pad: ["pads"],
  expand: ["shape"],
};

/** Attributes of a node: plain JSON values (they are part of the eager session cache key). */
export type Attrs = Record<string, number | number[] | string | boolean>;

type Lowering = (b: GraphBuilder, ins: string[], dts: DType[], a: Attrs, out: DType) => string;

const ALL_BUT_BOOL: ReadonlySet<DType> = new Set(["f32", "f64", "i32", "i64", "u8"]);
const WIDE: ReadonlySet<DType> = new Set(["f32", "f64", "i32", "i64"]);
const FLOATS: ReadonlySet<DType> = new Set(["f32", "f64"]);
/** ONNX Runtime's CPU Conv/ConvTranspose/Erf kernels are f32 only: f64 computes in f32. */
const CONV_TYPES: ReadonlySet<DType> = new Set(["f32"]);

/** Emits `opType` on inputs of one dtype, computing in a supported dtype when needed, giving `out`. */
function typed(
  b: GraphBuilder,
  opType: string,
  ins: string[],
  dt: DType,
  supported: ReadonlySet<DType>,
  out: DType,
  attrs?: Record<string, import("./onnx/proto.ts").AttrValue>,
): string {
  if (supported.has(dt)) return b.add(opType, ins, attrs);
  const compute: DType =
    supported.has("i32") && (dt === "bool" || dt === "u8")
      ? "i32"
      : supported.has("u8")
        ? "u8"
        : "f32";
  // only the data inputs are cast: trailing int64 parameter inputs (axes) keep their type
  const dataInputs =
    opType.startsWith("Reduce") || opType === "CumSum" || opType === "Trilu"
      ? 1
      : opType === "Where"
        ? 3
        : ins.length;
  const y = b.add(
    opType,
    ins.map((x, i) =>
      i < dataInputs && !(opType === "Where" && i === 0) ? b.cast(x, compute) : x,
    ),
    attrs,
  );
  return out === compute ? y : b.cast(y, out);
}

function elementwise(opType: string, supported: ReadonlySet<DType>): Lowering {
  return (b, ins, dts, _a, out) => typed(b, opType, ins, dts[0]!, supported, out);
}

function compare(opType: string): Lowering {
  return (b, ins, dts) =>
    typed(
      b,
      opType,
      ins,
      dts[0]!,
      opType === "Equal" ? new Set([...ALL_BUT_BOOL, "bool"]) : ALL_BUT_BOOL,
      "bool",
    );
}

function axesAttr(a: Attrs, key = "axes"): number[] {
  return a[key] as number[];
}

function reduce(opType: string, supported: ReadonlySet<DType>): Lowering {
  return (b, ins, dts, a, out) => {
    const axes = axesAttr(a);
    if (axes.length === 0) return b.add("Identity", ins);
    const keepdims = a.keepDims ? 1 : 0;
    const axesName = b.ints(axes);
    const y = typed(b, opType, [ins[0]!, axesName], dts[0]!, supported, out, { keepdims });
    if (
      (opType !== "ReduceMax" && opType !== "ReduceMin") ||
      (dts[0] !== "f32" && dts[0] !== "f64") ||
      a.skipNaN
    )
      return y;
    // ONNX Runtime's ReduceMax/Min skip NaN; NumPy and Nx propagate it
    const nan = b.add("ReduceMax", [b.cast(b.add("IsNaN", [ins[0]!]), "u8"), axesName], {
      keepdims,
    });
    return b.add("Where", [b.cast(nan, "bool"), b.scalar(dts[0], NaN), y]);
  };
}

/**
 * Sum over axes. ONNX Runtime's integer ReduceSum saturates on overflow (i32 [2147483647, 1] sums
 * to 2147483647), while tsnb's integers wrap (as add and cumsum do, and NumPy): i32 sums in i64
 * and casts back (the cast wraps); i64 sums its low and high 32-bit halves apart (neither can
 * overflow) and joins them with a wrapping multiply-add.
 */
function lowerReduceSum(
  b: GraphBuilder,
  ins: string[],
  dts: DType[],
  a: Attrs,
  out: DType,
): string {
  const dt = dts[0]!;
  if (isFloatType(dt) || axesAttr(a).length === 0)
    return reduce("ReduceSum", WIDE)(b, ins, dts, a, out);
  const axes = b.ints(axesAttr(a));
  const keepdims = a.keepDims ? 1 : 0;
  const x = dt === "i64" ? ins[0]! : b.cast(ins[0]!, "i64");
  if (dt !== "i64") return b.cast(b.add("ReduceSum", [x, axes], { keepdims }), out);
  const lo = b.add("BitwiseAnd", [x, b.scalar("i64", 0xffffffff)]);
  const hi = b.add("Div", [b.add("Sub", [x, lo]), b.scalar("i64", 2 ** 32)]);
  const loSum = b.add("ReduceSum", [lo, axes], { keepdims });
  const hiSum = b.add("ReduceSum", [hi, axes], { keepdims });
  return b.add("Add", [b.add("Mul", [hiSum, b.scalar("i64", 2 ** 32)]), loSum]);
}

const isFloatType = (d: DType): boolean => d === "f32" || d === "f64";

function argReduce(opType: string): Lowering {
  return (b, ins, dts, a) =>
    typed(b, opType, ins, dts[0]!, ALL_BUT_BOOL, "i64", {
      axis: a.axis as number,
      keepdims: a.keepDims ? 1 : 0,
      select_last_index: 0,
    });
}

export const LOWERINGS: Record<Exclude<Prim, "input" | "const">, Lowering> = {
  add: elementwise("Add", ALL_BUT_BOOL),
  sub: elementwise("Sub", ALL_BUT_BOOL),
  mul: elementwise("Mul", ALL_BUT_BOOL),
  div: elementwise("Div", ALL_BUT_BOOL),
  pow: elementwise("Pow", WIDE),
  max: elementwise("Max", ALL_BUT_BOOL),
  min: elementwise("Min", ALL_BUT_BOOL),
  mod: lowerMod,
  eq: compare("Equal"),
  ne: (b, ins, dts) => b.add("Not", [compare("Equal")(b, ins, dts, {}, "bool")]),
  lt: compare("Less"),
  le: compare("LessOrEqual"),
  gt: compare("Greater"),
  ge: compare("GreaterOrEqual"),
  and: (b, ins) => b.add("And", ins),
  or: (b, ins) => b.add("Or", ins),
  xor: (b, ins) => b.add("Xor", ins),
  not: (b, ins) => b.add("Not", ins),
  neg: elementwise("Neg", WIDE),
  abs: elementwise("Abs", ALL_BUT_BOOL),
  exp: elementwise("Exp", FLOATS),
  log: elementwise("Log", FLOATS),
  sqrt: elementwise("Sqrt", FLOATS),
  tanh: elementwise("Tanh", FLOATS),
  sigmoid: elementwise("Sigmoid", FLOATS),
  // integers as Max(x, 0): ONNX Runtime has no integer Relu kernel at opset 19+ (a graph with Gelu)
  relu: (b, ins, dts, _a, out) =>
    dts[0] === "f32" || dts[0] === "f64"
      ? b.add("Relu", ins)
      : typed(
          b,
          "Max",
          [ins[0]!, b.scalar(dts[0] === "i64" ? "i64" : "i32", 0)],
          dts[0]!,
          WIDE,
          out,
        ),
  sign: elementwise("Sign", ALL_BUT_BOOL),
  floor: elementwise("Floor", FLOATS),
  ceil: elementwise("Ceil", FLOATS),
  round: elementwise("Round", FLOATS),
  sin: elementwise("Sin", FLOATS),
  cos: elementwise("Cos", FLOATS),
  isnan: (b, ins) => b.add("IsNaN", ins),
  // ORT's CPU kernels for these are f32 only; math.ts sends f64 through f64 composites instead
  tan: elementwise("Tan", CONV_TYPES),
  asin: elementwise("Asin", CONV_TYPES),
  acos: elementwise("Acos", CONV_TYPES),
  atan: elementwise("Atan", CONV_TYPES),
  sinh: elementwise("Sinh", CONV_TYPES),
  cosh: elementwise("Cosh", CONV_TYPES),
  asinh: elementwise("Asinh", CONV_TYPES),
  acosh: elementwise("Acosh", CONV_TYPES),
  atanh: elementwise("Atanh", CONV_TYPES),
  bitAnd: (b, ins) => b.add("BitwiseAnd", ins),
  bitOr: (b, ins) => b.add("BitwiseOr", ins),
  bitXor: (b, ins) => b.add("BitwiseXor", ins),
  bitNot: (b, ins) => b.add("BitwiseNot", ins),
  identity: (b, ins) => b.add("Identity", ins),
  stopGradient: (b, ins) => b.add("Identity", ins),
  cast: (b, ins, dts, a) =>
    dts[0] === a.to ? b.add("Identity", ins) : b.cast(ins[0]!, a.to as DType),
  where: (b, ins, dts, _a, out) => {
    const [c, x, y] = ins as [string, string, string];
    return typed(b, "Where", [c, x, y], dts[1]!, new Set(["f32", "f64", "i32", "i64", "u8"]), out);
  },
  reduceSum: lowerReduceSum,
  reduceMax: reduce("ReduceMax", ALL_BUT_BOOL),
  reduceMin: reduce("ReduceMin", ALL_BUT_BOOL),
  argMax: argReduce("ArgMax"),
  argMin: argReduce("ArgMin"),
  matmul: elementwise("MatMul", WIDE),
  transpose: (b, ins, _d, a) => b.add("Transpose", ins, { perm: axesAttr(a, "perm") }),
  reshape: (b, ins, _d, a) =>
    b.add("Reshape", [ins[0]!, b.shapeInts(axesAttr(a, "shape"))], { allowzero: 1 }),
  expand: (b, ins, _d, a) =>
    b.add("Expand", [ins[0]!, b.param("shape", axesAttr(a, "shape"), "shape")]),
  slice: (b, ins, _d, a) =>
    b.add("Slice", [
      ins[0]!,
      b.param("starts", axesAttr(a, "starts"), "starts"),
      b.param("ends", axesAttr(a, "ends"), "ends"),
      b.ints(axesAttr(a, "axes")),
      b.ints(axesAttr(a, "steps")),
    ]),
  pad: (b, ins, dts, a) =>
    b.add(
      "Pad",
      [
        ins[0]!,
        b.param("pads", axesAttr(a, "pads"), "plain"),
        b.scalar(dts[0]!, a.value as number),
      ],
      { mode: "constant" },
    ),
  concat: (b, ins, _d, a) => b.add("Concat", ins, { axis: a.axis as number }),
  gather: (b, ins, _d, a) => b.add("Gather", ins, { axis: a.axis as number }),
  gatherGrad: lowerGatherGrad,
  topkIndices: (b, ins, dts, a) => {
    let x = ins[0]!;
    if (!WIDE.has(dts[0]!)) x = b.cast(x, "i32");
    const values = b.fresh("topk_values");
    const indices = b.fresh("topk_indices");
    b.nodes.push({
      opType: "TopK",
      inputs: [x, b.ints([a.k as number])],
      outputs: [values, indices],
      attrs: { axis: a.axis as number, largest: a.largest ? 1 : 0, sorted: 1 },
    });
    return indices;
  },
  cumsum: (b, ins, dts, a, out) =>
    typed(b, "CumSum", [ins[0]!, b.scalar("i64", a.axis as number)], dts[0]!, WIDE, out, {
      reverse: a.reverse ? 1 : 0,
      exclusive: a.exclusive ? 1 : 0,
    }),
  gatherElements: (b, ins, _d, a) => b.add("GatherElements", ins, { axis: a.axis as number }),
  // gradient of gatherElements: scatter-add into zeros of the data's shape
  scatterElementsAdd: (b, ins, dts, a, out) => {
    const [g, idx] = ins as [string, string];
    const compute: DType = dts[0] === "f64" ? "f64" : "f32";
    const i64 = dts[1] === "i64" ? idx : b.cast(idx, "i64");
    const shape = axesAttr(a, "shape");
    if (a.unique && dts[0] === "f32" && shape.length === 1) {
      // positions known to be distinct (the gradient of non-overlapping max pooling): MaxUnpool
      // writes each value once into zeros, ≈ 4× faster than ScatterElements with reduction add
      const row = (v: string) => b.add("Unsqueeze", [v, b.ints([0, 1])]);
      const y = b.add("MaxUnpool", [row(g), row(i64), b.shapeInts([1, 1, shape[0]!])], {
        kernel_shape: [1],
        strides: [1],
      });
      return b.add("Reshape", [y, b.shapeInts(shape)]);
    }
    const zeros = b.add("ConstantOfShape", [b.shapeInts(shape)], {
      value: GraphBuilder.tensorAttr(compute, 0),
    });
    const y = b.add("ScatterElements", [zeros, i64, dts[0] === compute ? g : b.cast(g, compute)], {
      axis: a.axis as number,
      reduction: "add",
    });
    return out === compute ? y : b.cast(y, out);
  },
  logSoftmax: (b, ins, dts, a, out) =>
    typed(b, "LogSoftmax", ins, dts[0]!, FLOATS, out, { axis: a.axis as number }),
  softmax: (b, ins, dts, a, out) =>
    typed(b, "Softmax", ins, dts[0]!, FLOATS, out, { axis: a.axis as number }),
  erf: elementwise("Erf", CONV_TYPES), // no f64 Erf kernel in ORT CPU: f64 computes in f32
  conv: (b, ins, dts, a, out) =>
    typed(b, "Conv", ins, dts[0]!, CONV_TYPES, out, {
      strides: axesAttr(a, "strides"),
      pads: axesAttr(a, "pads"),
      dilations: axesAttr(a, "dilations"),
    }),
  // the gradient of conv with respect to its input (attrs: conv's, plus outputPadding)
  convTranspose: (b, ins, dts, a, out) =>
    typed(b, "ConvTranspose", ins, dts[0]!, CONV_TYPES, out, {
      strides: axesAttr(a, "strides"),
      pads: axesAttr(a, "pads"),
      dilations: axesAttr(a, "dilations"),
      output_padding: axesAttr(a, "outputPadding"),
    }),
  maxPool: (b, ins, dts, a, out) =>
    dts[0] === "f32" && out === "f32"
      ? maxPoolValues(b, ins[0]!, a)
      : typed(b, "MaxPool", ins, dts[0]!, FLOATS, out, {
          kernel_shape: axesAttr(a, "kernel"),
          strides: axesAttr(a, "strides"),
          pads: axesAttr(a, "pads"),
        }),
  // flat (NCHW row-major) index of each window's maximum (the first on ties), i64
  maxPoolIndices: (b, ins, dts, a) => {
    // ONNX Runtime runs the tiled lowering's Slices and Wheres on one thread and MaxPool's
    // indices on all: with more threads the indices path is as fast (bench/learn.ts, docs/learn.md)
    if (dts[0] === "f32" && (b.threads ?? CORES) === 1) {
      const tiled = tiledMaxPoolIndices(b, ins[0]!, a);
      if (tiled) return tiled;
    }
    // MaxPool's second output: ONNX Runtime computes it in a plain loop (≈ 15× its forward)
    const x = FLOATS.has(dts[0]!) ? ins[0]! : b.cast(ins[0]!, "f32");
    const values = b.fresh("maxpool_values");
    const indices = b.fresh("maxpool_indices");
    b.nodes.push({
      opType: "MaxPool",
      inputs: [x],
      outputs: [values, indices],
      attrs: {
        kernel_shape: axesAttr(a, "kernel"),
        strides: axesAttr(a, "strides"),
        pads: axesAttr(a, "pads"),
      },
    });
    return indices;
  },
  // ScatterElements on 1-D data: data[idx[k]] = upd[k] ("none") or += ("add"); bool adds in i32
  scatter: (b, ins, dts, a, out) => {
    const [d, idx, upd] = ins as [string, string, string];
    const reduction = a.reduction as string;
    if (reduction === "add" && dts[0] === "bool") {
      const y = b.add("ScatterElements", [b.cast(d, "i32"), idx, b.cast(upd, "i32")], {
        axis: 0,
        reduction,
      });
      return b.cast(y, "bool");
    }
    return b.add("ScatterElements", [d, idx, upd], { axis: 0, reduction });
  },
  // ScatterND of whole rows: data[idx[k, 0], ...] = upd[k, ...] ("none") or += ("add")
  scatterRows: (b, ins, dts, a, out) =>
    b.add("ScatterND", [ins[0]!, ins[1]!, ins[2]!], { reduction: a.reduction as string }),
  // lower (upper: false) or upper triangle of the last two axes, from diagonal k
  trilu: (b, ins, dts, a, out) =>
    typed(b, "Trilu", [ins[0]!, b.scalar("i64", a.k as number)], dts[0]!, WIDE, out, {
      upper: a.upper ? 1 : 0,
    }),
  reduceProd: reduce("ReduceProd", WIDE),
  avgPool: (b, ins, dts, a, out) =>
    typed(b, "AveragePool", ins, dts[0]!, CONV_TYPES, out, {
      kernel_shape: axesAttr(a, "kernel"),
      strides: axesAttr(a, "strides"),
      pads: axesAttr(a, "pads"),
      count_include_pad: a.countIncludePad ? 1 : 0,
    }),
  einsum: (b, ins, dts, a, out) =>
    typed(b, "Einsum", ins, dts[0]!, WIDE, out, { equation: a.equation as string }),
  // f32 only (ONNX Gelu, opset 20); attrs: approximate "none" | "tanh"
  gelu: (b, ins, _d, a) => b.add("Gelu", ins, { approximate: a.approximate as string }),
  // (x − mean) / sqrt(var + ε) over the axes from `axis` on (f32): one LayerNormalization node,
  // whose InvStdDev output is normRstd of the same input (the backward reuses the forward's node)
  normalize: (b, ins, _d, a) => layerNormOutputs(b, ins[0]!, a).y,
  normRstd: (b, ins, _d, a) => layerNormOutputs(b, ins[0]!, a).rstd,
  // number of elements over `axes` of the input, as a scalar of the output dtype (read from the run-time shape)
  count: (b, ins, _d, a, out) => {
    const dims = b.add("Gather", [b.add("Shape", [ins[0]!]), b.ints(axesAttr(a, "axes"))], {
      axis: 0,
    });
    const n = b.add("ReduceProd", [dims], { keepdims: 0 });
    return b.cast(n, out);
  },
};

/** f32 MaxPool of `x` (values only), made once per builder: the gradient's indices reuse it. */
function maxPoolValues(b: GraphBuilder, x: string, a: Attrs): string {
  const kernel = axesAttr(a, "kernel");
  const strides = axesAttr(a, "strides");
  const pads = axesAttr(a, "pads");
  const key = `MaxPool ${x} ${kernel} ${strides} ${pads}`;
  const known = b.memo.get(key);
  if (known) return known[0]!;
  const y = b.add("MaxPool", [x], { kernel_shape: kernel, strides, pads });
  b.memo.set(key, [y]);
  return y;
}

/**
 * The indices of {@link maxPoolIndices} for windows that tile the input (stride = window, no
 * padding) of a static shape (attr `shape`), without MaxPool's slow indices path: each window
 * offset's strided slice is compared with the pooled maximum, and a chain of Wheres picks the
 * first offset that holds it (row-major in the window, as MaxPool's indices), as a flat position
 * from constant tables. Null when the windows overlap, are padded or large, or the shape is not
 * static (a batch-polymorphic lowering).
 */
function tiledMaxPoolIndices(b: GraphBuilder, x: string, a: Attrs): string | null {
  const kernel = axesAttr(a, "kernel");
  const strides = axesAttr(a, "strides");
  const shape = a.shape as number[] | undefined;
  if (!shape || shape.length !== 4 || shape.some((d) => b.isBatchSized(d))) return null;
  if (kernel.some((k, i) => k !== strides[i]) || axesAttr(a, "pads").some((p) => p !== 0))
    return null;
  const [kh, kw] = kernel as [number, number];
  if (kh * kw > 9 || kh * kw < 2) return null;
  const [n, c, h, w] = shape as [number, number, number, number];
  const ho = Math.floor(h / kh);
  const wo = Math.floor(w / kw);
  // positions are computed in i32 (ONNX Runtime's Where on i64 is twice as slow) and widened once
  if (n * c * h * w >= 2 ** 31) return null;
  const y = maxPoolValues(b, x, a);
  // flat position of window (i, j)'s element (r, s) within one [h, w] plane, per offset
  const at = (r: number, s: number) => {
    const t = new Int32Array(ho * wo);
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) t[i * wo + j] = (i * kh + r) * w + j * kw + s;
    return b.initializer("i32", [1, 1, ho, wo], t);
  };
  let pick = at(kh - 1, kw - 1);
  for (let k = kh * kw - 2; k >= 0; k--) {
    const [r, s] = [Math.floor(k / kw), k % kw];
    const part = b.add("Slice", [
      x,
      b.ints([r, s]),
      b.ints([r + ho * kh, s + wo * kw]),
      b.ints([2, 3]),
      b.ints([kh, kw]),
    ]);
    pick = b.add("Where", [b.add("Equal", [part, y]), at(r, s), pick]);
  }
  const planes = new Int32Array(n * c);
  for (let p = 0; p < n * c; p++) planes[p] = p * h * w;
  return b.cast(b.add("Add", [pick, b.initializer("i32", [n, c, 1, 1], planes)]), "i64");
}

/**
 * The LayerNormalization node (scale 1, no bias) of input `x` with attrs {axis, epsilon, shape:
 * the normalized dims}: made once per builder, so normalize and normRstd of one value share it.
 */
function layerNormOutputs(b: GraphBuilder, x: string, a: Attrs): { y: string; rstd: string } {
  const key = `LayerNormalization ${x} ${a.axis as number} ${a.epsilon as number}`;
  const known = b.memo.get(key);
  if (known) return { y: known[0]!, rstd: known[1]! };
  const shape = axesAttr(a, "shape");
  // the scale's shape is static: normalizing over the batch axis cannot be batch-polymorphic
  if (shape.some((d) => b.isBatchSized(d)))
    throw new PolyUnsupported("layerNorm normalizes over a batch-sized axis");
  const ones = b.initializer(
    "f32",
    shape,
    new Float32Array(shape.reduce((n, d) => n * d, 1)).fill(1),
  );
  const [y, mean, rstd] = [b.fresh("layernorm"), b.fresh("mean"), b.fresh("rstd")];
  b.nodes.push({
    opType: "LayerNormalization",
    inputs: [x, ones],
    outputs: [y, mean, rstd],
    attrs: { axis: a.axis as number, epsilon: { float: a.epsilon as number } },
  });
  b.memo.set(key, [y, rstd]);
  return { y, rstd };
}

/**
 * The gradient of `gather(x, indices, axis)` with respect to x: scatter-add of the incoming
 * gradient into zeros of x's shape (ScatterND with reduction "add" on a transposed view).
 * Attributes: axis, shape (x's shape), idxRank.
 */
function lowerGatherGrad(
  b: GraphBuilder,
  ins: string[],
  dts: DType[],
  a: Attrs,
  out: DType,
): string {
  const [g, idx] = ins as [string, string];
  const axis = a.axis as number;
  const shape = a.shape as number[];
  const r = a.idxRank as number;
  const n = shape.length;
  // g has shape x[:axis] + I + x[axis+1:]; bring I to the front.
  const gRank = n - 1 + r;
  const gPerm = [
    ...Array.from({ length: r }, (_, i) => axis + i),
    ...Array.from({ length: axis }, (_, i) => i),
    ...Array.from({ length: gRank - axis - r }, (_, i) => axis + r + i),
  ];
  const gT = b.add("Transpose", [g], { perm: gPerm });
  const zShape = [shape[axis]!, ...shape.slice(0, axis), ...shape.slice(axis + 1)];
  const compute: DType = dts[0] === "f64" ? "f64" : "f32";
  const zeros = b.add("ConstantOfShape", [b.shapeInts(zShape)], {
    value: GraphBuilder.tensorAttr(compute, 0),
  });
  let i64 = dts[1] === "i64" ? idx : b.cast(idx, "i64");
  // negative indices count from the end, as in gather
  if (b.isBatchSized(shape[axis]!)) throw new PolyUnsupported("gather along the batch axis");
  const size = b.scalar("i64", shape[axis]!);
  i64 = b.add("Where", [b.add("Less", [i64, b.scalar("i64", 0)]), b.add("Add", [i64, size]), i64]);
  const idxND = b.add("Unsqueeze", [i64, b.ints([-1])]);
  const gC = dts[0] === compute ? gT : b.cast(gT, compute);
  const scattered = b.add("ScatterND", [zeros, idxND, gC], { reduction: "add" });
  const backPerm = [
    ...Array.from({ length: axis }, (_, i) => i + 1),
    0,
    ...Array.from({ length: n - axis - 1 }, (_, i) => axis + 1 + i),
  ];
  const y = b.add("Transpose", [scattered], { perm: backPerm });
  return out === compute ? y : b.cast(y, out);
}

/** Remainder with the sign of the divisor (NumPy/Python `%`): ONNX Mod fmod=0 for ints; for floats, C fmod adjusted. */
function lowerMod(b: GraphBuilder, ins: string[], dts: DType[], _a: Attrs, out: DType): string {
  const dt = dts[0]!;
  if (dt !== "f32" && dt !== "f64") return typed(b, "Mod", ins, dt, ALL_BUT_BOOL, out, { fmod: 0 });
  const [x, y] = ins as [string, string];
  const r = b.add("Mod", [x, y], { fmod: 1 });
  const zero = b.scalar(dt, 0);
  const nonzero = b.add("Not", [b.add("Equal", [r, zero])]);
  const signsDiffer = b.add("Xor", [b.add("Less", [r, zero]), b.add("Less", [y, zero])]);
  return b.add("Where", [b.add("And", [nonzero, signsDiffer]), b.add("Add", [r, y]), r]);
}
