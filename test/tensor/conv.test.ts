// conv2d, maxPool2d and erf: forward against plain-JS references (strides, "same"/"valid"/explicit
// padding, dilation), gradients against central finite differences, second-order gradients,
// jit composition and errors.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { close, rng } from "./ref.ts";
import { GraphBuilder } from "../../tensor/graph.ts";
import { LOWERINGS } from "../../tensor/lower.ts";

function rand(shape: number[], r: () => number, dtype: "f32" | "f64" = "f64"): nx.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float64Array.from({ length: n }, () => r() * 4 - 2);
  return nx.tensor(dtype === "f64" ? data : Float32Array.from(data), { shape });
}

/** Plain-JS NCHW convolution with explicit pads [top, left, bottom, right]. */
function refConv(
  x: nx.Tensor,
  w: nx.Tensor,
  s: [number, number],
  p: number[],
  d: [number, number] = [1, 1],
): { shape: number[]; data: number[] } {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [o, , kh, kw] = w.shape as [number, number, number, number];
  const oh = Math.floor((h + p[0]! + p[2]! - ((kh - 1) * d[0] + 1)) / s[0]) + 1;
  const ow = Math.floor((wd + p[1]! + p[3]! - ((kw - 1) * d[1] + 1)) / s[1]) + 1;
  const X = Array.from(x.dataSync() as ArrayLike<number>);
  const W = Array.from(w.dataSync() as ArrayLike<number>);
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let f = 0; f < o; f++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = 0;
          for (let ch = 0; ch < c; ch++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * s[0] + u * d[0] - p[0]!;
                const z = j * s[1] + v * d[1] - p[1]!;
                if (y < 0 || z < 0 || y >= h || z >= wd) continue;
                acc += X[((b * c + ch) * h + y) * wd + z]! * W[((f * c + ch) * kh + u) * kw + v]!;
              }
          out.push(acc);
        }
  return { shape: [n, o, oh, ow], data: out };
}

function refPool(x: nx.Tensor, k: [number, number], s: [number, number]) {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h - k[0]) / s[0]) + 1;
  const ow = Math.floor((w - k[1]) / s[1]) + 1;
  const X = Array.from(x.dataSync() as ArrayLike<number>);
  const out: number[] = [];
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let m = -Infinity;
        for (let u = 0; u < k[0]; u++)
          for (let v = 0; v < k[1]; v++)
            m = Math.max(m, X[(b * h + i * s[0] + u) * w + j * s[1] + v]!);
        out.push(m);
      }
  return { shape: [n, c, oh, ow], data: out };
}

/** Central differences of scalar f with respect to each argument. */
function numericGrad(f: (...a: nx.Tensor[]) => nx.Tensor, args: nx.Tensor[], eps: number) {
  return args.map((a, i) => {
    const base = Float64Array.from(a.dataSync() as ArrayLike<number>);
    return Array.from(base, (_, j) => {
      const at = (delta: number) => {
        const d = Float64Array.from(base);
        d[j] = d[j]! + delta;
        const moved = args.slice();
        moved[i] = nx.tensor(d, { shape: a.shape });
        return f(...moved).item() as number;
      };
      return (at(eps) - at(-eps)) / (2 * eps);
    });
  });
}

function checkGrad(
  name: string,
  op: (...a: nx.Tensor[]) => nx.Tensor,
  args: nx.Tensor[],
  eps: number,
  tol: number,
): void {
  const r = rng(name.length * 31);
  const weights = rand(op(...args).shape.slice(), r);
  const f = (...xs: nx.Tensor[]) => nx.sum(nx.multiply(op(...xs), weights));
  const symbolic = nx.grad(
    f,
    args.map((_, i) => i),
  )(...args) as nx.Tensor[];
  const numeric = numericGrad(f, args, eps);
  symbolic.forEach((g, i) => {
    assert.deepEqual(g.shape, args[i]!.shape, `${name}: gradient ${i} shape`);
    close(Array.from(g.dataSync() as ArrayLike<number>), numeric[i]!, tol, `${name}: d/darg${i}`);
  });
}

describe("conv2d", () => {
  const r = rng(77);
  const cases: Array<
    [string, number[], number[], nx.Conv2dOptions, [number, number], number[], [number, number]?]
  > = [
    ["valid", [2, 3, 7, 6], [4, 3, 3, 3], {}, [1, 1], [0, 0, 0, 0]],
    ["same", [1, 2, 6, 6], [3, 2, 3, 3], { padding: "same" }, [1, 1], [1, 1, 1, 1]],
    [
      "same, stride 2 (extra padding at the end)",
      [1, 2, 6, 6],
      [2, 2, 2, 2],
      { padding: "same", strides: 2 },
      [2, 2],
      [0, 0, 0, 0],
    ],
    [
      "strided, padded",
      [2, 2, 7, 5],
      [3, 2, 3, 2],
      { strides: [2, 1], padding: 1 },
      [2, 1],
      [1, 1, 1, 1],
    ],
    [
      "explicit pads",
      [1, 1, 5, 5],
      [2, 1, 3, 3],
      {
        padding: [
          [0, 2],
          [1, 0],
        ],
      },
      [1, 1],
      [0, 1, 2, 0],
    ],
    ["dilated", [1, 2, 8, 8], [2, 2, 3, 3], { dilations: 2 }, [1, 1], [0, 0, 0, 0], [2, 2]],
  ];
  for (const [name, xs, ws, opts, s, p, d] of cases) {
    it(`matches the reference: ${name}`, () => {
      const x = rand(xs, r, "f32");
      const w = rand(ws, r, "f32");
      const y = nx.conv2d(x, w, opts);
      const want = refConv(x, w, s, p, d);
      assert.deepEqual(y.shape, want.shape);
      assert.equal(y.dtype, "f32");
      close(Array.from(y.dataSync() as Float32Array), want.data, 1e-4, name);
    });
    it(`gradients match finite differences: ${name}`, () => {
      // ONNX Runtime's CPU Conv is f32-only: f64 inputs compute in f32, hence eps 1e-3
      checkGrad(name, (a, b) => nx.conv2d(a, b, opts), [rand(xs, r), rand(ws, r)], 1e-3, 2e-3);
    });
  }
  it("second-order gradients (grad of grad) through the transposed convolution", () => {
    const x = rand([1, 2, 5, 5], r);
    const w = rand([2, 2, 3, 3], r);
    const inner = (xx: nx.Tensor, ww: nx.Tensor) =>
      nx.sum(
        nx.square(
          nx.grad((a: nx.Tensor) => nx.sum(nx.tanh(nx.conv2d(a, ww, { strides: 2, padding: 1 }))))(
            xx,
          ),
        ),
      );
    checkGrad("grad of conv grad", (a, b) => inner(a, b), [x, w], 1e-3, 5e-3);
  });
  it("jit compiles it and agrees with eager", () => {
    const x = rand([2, 1, 6, 6], r, "f32");
    const w = rand([2, 1, 3, 3], r, "f32");
    const f = nx.jit((a: nx.Tensor, b: nx.Tensor) => nx.relu(nx.conv2d(a, b, { padding: "same" })));
    close(
      Array.from(f(x, w).dataSync() as Float32Array),
      Array.from(nx.relu(nx.conv2d(x, w, { padding: "same" })).dataSync() as Float32Array),
      1e-6,
      "jit",
    );
  });
  it("one thread lowers tiling windows' indices to strided slices, more threads or overlapping windows to MaxPool's indices", () => {
    const opsOf = (threads: number, attrs: Record<string, unknown>) => {
      const b = new GraphBuilder();
      b.threads = threads;
      const x = b.input("x", "f32", [2, 3, 7, 9]);
      LOWERINGS.maxPoolIndices(
        b,
        [x],
        ["f32"],
        { pads: [0, 0, 0, 0], shape: [2, 3, 7, 9], ...attrs },
        "i64",
      );
      return b.nodes.map((n) => `${n.opType}/${n.outputs.length}`);
    };
    const tiled = { kernel: [2, 3], strides: [2, 3] };
    assert.ok(opsOf(1, tiled).includes("Slice/1") && !opsOf(1, tiled).includes("MaxPool/2"));
    assert.ok(opsOf(2, tiled).includes("MaxPool/2") && !opsOf(2, tiled).includes("Slice/1"));
    const overlapping = { kernel: [3, 3], strides: [1, 1] };
    assert.ok(opsOf(1, overlapping).includes("MaxPool/2"));
  });
  it("errors name the shapes", () => {
    assert.throws(
      () => nx.conv2d(nx.zeros([1, 3, 5, 5]), nx.zeros([2, 2, 3, 3])),
      /conv2d: input f32\[1,3,5,5\] and kernel f32\[2,2,3,3\] do not align/,
    );
    assert.throws(
      () => nx.conv2d(nx.zeros([1, 1, 2, 2]), nx.zeros([1, 1, 3, 3])),
      /larger than the padded input/,
    );
    assert.throws(
      () => nx.conv2d(nx.zeros([1, 1, 5, 5]), nx.zeros([1, 1, 3, 3]), { strides: 0 }),
      /strides must be positive/,
    );
  });
});

describe("maxPool2d", () => {
  const r = rng(91);
  it("matches the reference (window 2, stride 2 and window 3, stride 1)", () => {
    const x = rand([2, 3, 6, 7], r, "f32");
    for (const [k, s] of [
      [2, 2],
      [3, 1],
    ] as const) {
      const y = nx.maxPool2d(x, k, { strides: s });
      const want = refPool(x, [k, k], [s, s]);
      assert.deepEqual(y.shape, want.shape);
      close(Array.from(y.dataSync() as Float32Array), want.data, 0, `pool ${k}/${s}`);
    }
    assert.deepEqual(nx.maxPool2d(x, 2, { padding: "same" }).shape, [2, 3, 3, 4]);
  });
  it("gradients match finite differences (f64), overlapping windows included", () => {
    checkGrad("maxPool2d 2", (a) => nx.maxPool2d(a, 2), [rand([2, 2, 6, 6], r)], 1e-6, 1e-5);
    checkGrad(
      "maxPool2d 3/1",
      (a) => nx.maxPool2d(a, [3, 2], { strides: 1 }),
      [rand([1, 2, 5, 5], r)],
      1e-6,
      1e-5,
    );
  });
  it("on ties the whole gradient goes to the first maximum of the window", () => {
    const g = nx.grad((a: nx.Tensor) => nx.sum(nx.maxPool2d(a, 2)))(nx.ones([1, 1, 2, 2]));
    assert.deepEqual(g.toArraySync(), [
      [
        [
          [1, 0],
          [0, 0],
        ],
      ],
    ]);
  });
  it("tiling windows on a cropped input with many ties: the gradient goes to the first maximum in row-major window order", () => {
    // values in {0, 1, 2}: most windows have tied maxima; 7x9 with 2x3 and 3x3 windows leaves
    // rows/columns out. f32 tiling windows on one thread lower to strided slices, on more to
    // MaxPool's indices, and both scatter with MaxUnpool (under vmap with ScatterElements); f64
    // uses MaxPool's indices and ScatterElements: eager, jit on 1 and 2 threads, and vmap.
    for (const [k, dtype, how] of [
      [[2, 2], "f64", "eager"],
      [[3, 3], "f64", "eager"],
      [[2, 3], "f64", "eager"],
      [[2, 2], "f32", "eager"],
      [[2, 2], "f32", "jit1"],
      [[2, 2], "f32", "jit2"],
      [[3, 3], "f32", "jit1"],
      [[2, 3], "f32", "vmap"],
      [[1, 2], "f32", "jit1"],
    ] as const) {
      const [n, c, h, w] = [2, 3, 7, 9];
      const xs = Array.from({ length: n * c * h * w }, () => Math.floor(r() * 3));
      const x = nx.tensor(Float64Array.from(xs), { shape: [n, c, h, w] }).astype(dtype);
      const [ho, wo] = [Math.floor(h / k[0]), Math.floor(w / k[1])];
      const wts = Array.from({ length: n * c * ho * wo }, () => r());
      const tw = nx.tensor(Float64Array.from(wts), { shape: [n, c, ho, wo] }).astype(dtype);
      const loss = (a: nx.Tensor, t: nx.Tensor) => nx.sum(nx.multiply(nx.maxPool2d(a, k), t));
      const g =
        how === "eager"
          ? nx.grad(loss)(x, tw)
          : how === "vmap"
            ? // per example: [c, h, w] images as batches of one, in one jitted graph
              nx.jit(
                nx.vmap((a: nx.Tensor, t: nx.Tensor) =>
                  nx
                    .grad(loss)(a.reshape([1, c, h, w]), t.reshape([1, c, ho, wo]))
                    .reshape([c, h, w]),
                ),
                { threads: 1 },
              )(x, tw)
            : nx.jit(nx.grad(loss), { threads: how === "jit1" ? 1 : 2 })(x, tw);
      const want = new Float64Array(xs.length);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < ho; i++)
          for (let j = 0; j < wo; j++) {
            let best = -1;
            for (let di = 0; di < k[0]; di++)
              for (let dj = 0; dj < k[1]; dj++) {
                const at = p * h * w + (i * k[0] + di) * w + j * k[1] + dj;
                if (best < 0 || xs[at]! > xs[best]!) best = at;
              }
            want[best]! += wts[(p * ho + i) * wo + j]!;
          }
      const tol = dtype === "f64" ? 1e-12 : 1e-6;
      close(Array.from(g.dataSync()), Array.from(want), tol, `ties ${k} ${dtype} ${how}`);
    }
  });
  it("errors name the shapes", () => {
    assert.throws(
      () => nx.maxPool2d(nx.zeros([3, 4, 4]), 2),
      /maxPool2d: input must be \[n, c, h, w\], got f32\[3,4,4\]/,
    );
  });
});

describe("erf", () => {
  it("values and gradient", () => {
    const x = nx.tensor([-1, 0, 0.5, 2], { dtype: "f64" });
    close(
      Array.from(nx.erf(x).dataSync() as Float64Array),
      [-0.8427007929497149, 0, 0.5204998778130465, 0.9953222650189527],
      1e-7,
      "erf",
    );
    checkGrad("erf (computed in f32)", (a) => nx.erf(a), [x], 1e-3, 1e-3);
  });
});
