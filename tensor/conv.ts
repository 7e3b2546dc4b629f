/**
 * More convolution and pooling (channels first, as conv2d): conv1d, convTranspose2d, avgPool2d,
 * globalAvgPool.
 *
 * conv1d is conv2d on a height-1 image (a free reshape). convTranspose2d is ONNX ConvTranspose
 * (the primitive conv's input gradient already uses, with its rule). avgPool2d is ONNX
 * AveragePool for f32 (one kernel) with a gradient rule in grad.ts; ONNX Runtime's AveragePool
 * is f32-only, so f64 input is computed exactly from strided slices instead. Padded positions are
 * not counted in the average unless `countIncludePad` (TensorFlow's and ONNX's default exclude
 * them; PyTorch's AvgPool2d includes them).
 */
import { floatType, promote } from "./dtype.ts";
import * as o from "./ops.ts";
import { type Tensor, TensorError, type TensorLike, emit } from "./tensor.ts";

const asT = (x: TensorLike): Tensor => o.tensor(x);
const desc = (t: Tensor): string => `${t.dtype}[${t.shape.join(",")}]`;

function fail(msg: string): never {
  throw new TensorError(msg);
}

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  strides?: number;
  /** "valid" (default), "same", a number for both ends, or [left, right]. */
  padding?: "valid" | "same" | number | readonly [number, number];
  dilations?: number;
}

/**
 * 1-D convolution (cross-correlation): x `[n, c, w]`, kernel `[out, c, k]` → `[n, out, w']`.
 * Float; computed by conv2d (f32 kernels, as conv2d).
 */
export function conv1d(x: TensorLike, kernel: TensorLike, opts: Conv1dOptions = {}): Tensor {
  const tx = asT(x);
  const tw = asT(kernel);
  if (tx.rank !== 3 || tw.rank !== 3 || tx.shape[1] !== tw.shape[1])
    fail(
      `conv1d: input ${desc(tx)} and kernel ${desc(tw)} do not align (input [n, c, w], kernel [out, c, k])`,
    );
  const p = opts.padding;
  const padding: o.Padding2d =
    p === undefined || p === "valid" || p === "same"
      ? (p ?? "valid")
      : typeof p === "number"
        ? [
            [0, 0],
            [p, p],
          ]
        : [
            [0, 0],
            [p[0], p[1]],
          ];
  const y = o.conv2d(o.expandDims(tx, 2), o.expandDims(tw, 2), {
    strides: [1, opts.strides ?? 1],
    dilations: [1, opts.dilations ?? 1],
    padding,
  });
  return o.squeeze(y, 2);
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions {
  strides?: number | readonly [number, number];
  /** Cropped from the full output: a number for every side, or [[top, bottom], [left, right]]. Default 0. */
  padding?: number | readonly [readonly [number, number], readonly [number, number]];
  /** Extra rows/columns at the bottom/right, so strided outputs can reach every size. Default 0. */
  outputPadding?: number | readonly [number, number];
  dilations?: number | readonly [number, number];
}

/**
 * Transposed 2-D convolution (the adjoint of conv2d, "deconvolution"): x `[n, cin, h, w]`,
 * kernel `[cin, cout, kh, kw]` (ONNX's and PyTorch's layout) → `[n, cout, h', w']` with
 * h' = (h − 1)·stride − padTop − padBottom + (kh − 1)·dilation + 1 + outputPadding.
 */
export function convTranspose2d(
  x: TensorLike,
  kernel: TensorLike,
  opts: ConvTranspose2dOptions = {},
): Tensor {
  let tx = asT(x);
  let tw = asT(kernel);
  const d = floatType(promote(tx.dtype, tw.dtype));
  tx = o.cast(tx, d);
  tw = o.cast(tw, d);
  if (tx.rank !== 4 || tw.rank !== 4 || tx.shape[1] !== tw.shape[0])
    fail(
      `convTranspose2d: input ${desc(tx)} and kernel ${desc(tw)} do not align (input [n, cin, h, w], kernel [cin, cout, kh, kw])`,
    );
  const strides = o.pair("convTranspose2d", opts.strides, "strides");
  const dilations = o.pair("convTranspose2d", opts.dilations, "dilations");
  const op = opts.outputPadding ?? 0;
  const outputPadding = typeof op === "number" ? [op, op] : [op[0], op[1]];
  const p = opts.padding ?? 0;
  const pads = typeof p === "number" ? [p, p, p, p] : [p[0][0], p[1][0], p[0][1], p[1][1]];
  if (
    pads.some((v) => !Number.isInteger(v) || v < 0) ||
    outputPadding.some((v) => !Number.isInteger(v) || v < 0)
  )
    fail(`convTranspose2d: padding and outputPadding must be non-negative integers`);
  if (outputPadding.some((v, i) => v >= Math.max(strides[i]!, dilations[i]!)))
    fail(`convTranspose2d: outputPadding must be smaller than the stride or the dilation`);
  const size = [0, 1].map(
    (i) =>
      (tx.shape[2 + i]! - 1) * strides[i]! -
      pads[i]! -
      pads[i + 2]! +
      (tw.shape[2 + i]! - 1) * dilations[i]! +
      1 +
      outputPadding[i]!,
  );
  if (size.some((v) => v <= 0)) fail(`convTranspose2d: padding leaves no output for ${desc(tx)}`);
  const shape = [tx.shape[0]!, tw.shape[1]!, size[0]!, size[1]!];
  return emit("convTranspose", [tx, tw], { strides, pads, dilations, outputPadding }, shape, d);
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions extends o.Pool2dOptions {
  /** Count padded positions in the average (PyTorch's default); default false (TensorFlow's, ONNX's). */
  countIncludePad?: boolean;
}

/** 2-D average pooling over `[n, c, h, w]` with a `windowSize` (number or [kh, kw]) window. Float. */
export function avgPool2d(
  x: TensorLike,
  windowSize: number | readonly [number, number],
  opts: AvgPool2dOptions = {},
): Tensor {
  let tx = asT(x);
  tx = o.cast(tx, floatType(tx.dtype));
  if (tx.rank !== 4) fail(`avgPool2d: input must be [n, c, h, w], got ${desc(tx)}`);
  const kernel = o.pair("avgPool2d", windowSize, "windowSize");
  const strides =
    opts.strides === undefined ? kernel : o.pair("avgPool2d", opts.strides, "strides");
  const pads = o.windowPads(
    "avgPool2d",
    opts.padding,
    [tx.shape[2]!, tx.shape[3]!],
    kernel,
    strides,
  );
  const shape = [
    tx.shape[0]!,
    tx.shape[1]!,
    o.windowOut(tx.shape[2]!, kernel[0], strides[0], 1, pads[0]!, pads[2]!),
    o.windowOut(tx.shape[3]!, kernel[1], strides[1], 1, pads[1]!, pads[3]!),
  ];
  if (shape[2]! <= 0 || shape[3]! <= 0)
    fail(`avgPool2d: window [${kernel.join(",")}] is larger than the padded input ${desc(tx)}`);
  const include = opts.countIncludePad ?? false;
  if (tx.dtype === "f32")
    return emit("avgPool", [tx], { kernel, strides, pads, countIncludePad: include }, shape, "f32");
  return avgPoolBySlices(tx, kernel, strides, pads, include, shape);
}

/** @internal average pooling as a sum of strided slices of the zero-padded input (exact in f64). */
export function avgPoolBySlices(
  x: Tensor,
  kernel: readonly number[],
  strides: readonly number[],
  pads: readonly number[],
  countIncludePad: boolean,
  shape: readonly number[],
): Tensor {
  const widths: Array<[number, number]> = [
    [0, 0],
    [0, 0],
    [pads[0]!, pads[2]!],
    [pads[1]!, pads[3]!],
  ];
  const windowSum = (t: Tensor): Tensor => {
    const padded = o.pad(t, widths);
    let acc: Tensor | null = null;
    for (let u = 0; u < kernel[0]!; u++)
      for (let v = 0; v < kernel[1]!; v++) {
        const part = o.slice(
          padded,
          [0, 0, u, v],
          [-1, -1, (shape[2]! - 1) * strides[0]! + 1, (shape[3]! - 1) * strides[1]! + 1],
          [1, 1, strides[0]!, strides[1]!],
        );
        acc = acc ? o.add(acc, part) : part;
      }
    return acc!;
  };
  const sums = windowSum(x);
  if (countIncludePad || pads.every((p) => p === 0)) return o.divide(sums, kernel[0]! * kernel[1]!);
  const counts = windowSum(o.ones([1, 1, x.shape[2]!, x.shape[3]!], { dtype: x.dtype }));
  return o.divide(sums, counts);
}

/** t with s − 1 zeros between consecutive elements along `axis` (length (c − 1)·s + 1). */
function dilate(t: Tensor, axis: number, s: number): Tensor {
  if (s === 1) return t;
  const c = t.shape[axis]!;
  const widths = new Array<[number, number]>(t.rank + 1).fill([0, 0]);
  widths[axis + 1] = [0, s - 1];
  const merged = t.shape.slice();
  merged[axis] = c * s;
  const flat = o.reshape(o.pad(o.expandDims(t, axis + 1), widths), merged);
  return o.slice(
    flat,
    [],
    merged.map((d, i) => (i === axis ? (c - 1) * s + 1 : d)),
  );
}

/**
 * @internal The gradient of average pooling (its adjoint): each output's cotangent, divided by
 * its window's count, spread over the window (attrs of the avgPool primitive).
 */
export function avgPoolGrad(
  g: Tensor,
  xshape: readonly number[],
  at: Record<string, unknown>,
): Tensor {
  const kernel = at.kernel as number[];
  const strides = at.strides as number[];
  const pads = at.pads as number[];
  const hp = xshape[2]! + pads[0]! + pads[2]!;
  const wp = xshape[3]! + pads[1]! + pads[3]!;
  let gc = g;
  if (at.countIncludePad || pads.every((p) => p === 0)) gc = o.divide(g, kernel[0]! * kernel[1]!);
  else {
    const ones = o.ones([1, 1, xshape[2]!, xshape[3]!], { dtype: g.dtype });
    const counts = avgPoolBySlices(ones, kernel, strides, pads, true, [
      1,
      1,
      g.shape[2]!,
      g.shape[3]!,
    ]);
    gc = o.divide(g, o.multiply(counts, kernel[0]! * kernel[1]!));
  }
  const spread = dilate(dilate(gc, 2, strides[0]!), 3, strides[1]!);
  let acc: Tensor | null = null;
  for (let u = 0; u < kernel[0]!; u++)
    for (let v = 0; v < kernel[1]!; v++) {
      const part = o.pad(spread, [
        [0, 0],
        [0, 0],
        [u, hp - u - spread.shape[2]!],
        [v, wp - v - spread.shape[3]!],
      ]);
      acc = acc ? o.add(acc, part) : part;
    }
  return o.slice(acc!, [0, 0, pads[0]!, pads[1]!], [-1, -1, xshape[2]!, xshape[3]!]);
}

/** The mean over every axis after the first two (`[n, c, ...]` → `[n, c, 1, ...]`), ONNX GlobalAveragePool. */
export function globalAvgPool(x: TensorLike): Tensor {
  const t = asT(x);
  if (t.rank < 3) fail(`globalAvgPool: input must be [n, c, ...spatial], got ${desc(t)}`);
  return o.mean(t, { axes: t.shape.slice(2).map((_, i) => i + 2), keepDims: true });
}
