// conv1d, convTranspose2d, avgPool2d and globalAvgPool (tensor/conv.ts) against NumPy written
// out from the definitions (sliding windows, scatter-add for the transposed convolution), and
// their gradients against central differences (f64; conv kernels compute in f32 with f32 steps).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as nx from "../../tensor/index.ts";
import { check, rand } from "./gradcheck.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";
import { rng } from "./ref.ts";

const SWV = "np.lib.stride_tricks.sliding_window_view";

/** NumPy: 1-D cross-correlation from sliding windows. */
function npConv1d(k: number, s: number, d: number, l: number, r: number): string {
  return `np.einsum("ncwk,ock->now", ${SWV}(np.pad(x, ((0,0),(0,0),(${l},${r}))), ${(k - 1) * d + 1}, axis=2)[:, :, ::${s}, ::${d}], w)`;
}

/** NumPy: transposed convolution as a scatter-add of x ⊗ w, cropped by the pads. */
function npConvT(
  h: number,
  wd: number,
  kh: number,
  kw: number,
  s: number[],
  d: number[],
  p: number[],
  op: number[],
): string {
  const hf = (h - 1) * s[0]! + (kh - 1) * d[0]! + 1 + op[0]!;
  const wf = (wd - 1) * s[1]! + (kw - 1) * d[1]! + 1 + op[1]!;
  const hi = `(np.arange(${h})[:, None] * ${s[0]} + np.arange(${kh})[None, :] * ${d[0]})`;
  const wi = `(np.arange(${wd})[:, None] * ${s[1]} + np.arange(${kw})[None, :] * ${d[1]})`;
  const full = `(lambda f: (np.add.at(f, (slice(None), slice(None), ${hi}[:, :, None, None], ${wi}[None, None, :, :]), np.einsum("ncij,couv->noiujv", x, w)), f)[1])(np.zeros((x.shape[0], w.shape[1], ${hf}, ${wf})))`;
  return `${full}[:, :, ${p[0]}:${hf - p[2]!}, ${p[1]}:${wf - p[3]!}]`;
}

/** NumPy: average pooling from sliding windows over the zero-padded input. */
function npAvg(k: number[], s: number[], p: number[], include: boolean): string {
  const padW = `((0,0),(0,0),(${p[0]},${p[2]}),(${p[1]},${p[3]}))`;
  const sums = (t: string): string =>
    `${SWV}(np.pad(${t}, ${padW}), (${k[0]}, ${k[1]}), axis=(2, 3))[:, :, ::${s[0]}, ::${s[1]}].sum(axis=(-1, -2))`;
  return include ? `${sums("x")} / ${k[0]! * k[1]!}` : `${sums("x")} / ${sums("np.ones_like(x)")}`;
}

describe("conv1d, convTranspose2d, avgPool2d, globalAvgPool vs NumPy", () => {
  const r = rng(4);
  it("conv1d with strides, dilation, explicit and same padding", () => {
    const x = rand([2, 3, 11], r);
    const w = rand([4, 3, 3], r);
    const [a, b, c, same] = numpy([
      { expr: npConv1d(3, 1, 1, 0, 0), args: { x, w } },
      { expr: npConv1d(3, 2, 1, 1, 2), args: { x, w } },
      { expr: npConv1d(3, 3, 2, 0, 0), args: { x, w } },
      { expr: npConv1d(3, 1, 1, 1, 1), args: { x, w } },
    ]);
    assertLikeNumpy(nx.conv1d(x, w), a!, 1e-5, "valid");
    assertLikeNumpy(nx.conv1d(x, w, { strides: 2, padding: [1, 2] }), b!, 1e-5, "strided, padded");
    assertLikeNumpy(nx.conv1d(x, w, { strides: 3, dilations: 2 }), c!, 1e-5, "dilated");
    assertLikeNumpy(nx.conv1d(x, w, { padding: "same" }), same!, 1e-5, "same");
    assert.equal(nx.conv1d(nx.cast(x, "f32"), nx.cast(w, "f32")).dtype, "f32");
  });

  it("convTranspose2d with strides, pads, output padding and dilation", () => {
    const x = rand([2, 3, 4, 5], r);
    const w = rand([3, 2, 3, 2], r);
    const settings: Array<{ s: number[]; d: number[]; p: number[]; op: number[] }> = [
      { s: [1, 1], d: [1, 1], p: [0, 0, 0, 0], op: [0, 0] },
      { s: [2, 3], d: [1, 1], p: [1, 0, 1, 0], op: [1, 2] },
      { s: [2, 1], d: [2, 2], p: [0, 1, 2, 1], op: [1, 0] },
    ];
    const ref = numpy(
      settings.map((c) => ({ expr: npConvT(4, 5, 3, 2, c.s, c.d, c.p, c.op), args: { x, w } })),
    );
    settings.forEach((c, i) => {
      const y = nx.convTranspose2d(x, w, {
        strides: [c.s[0]!, c.s[1]!],
        dilations: [c.d[0]!, c.d[1]!],
        padding: [
          [c.p[0]!, c.p[2]!],
          [c.p[1]!, c.p[3]!],
        ],
        outputPadding: [c.op[0]!, c.op[1]!],
      });
      assertLikeNumpy(y, ref[i]!, 1e-5, `convTranspose2d ${JSON.stringify(c)}`);
    });
  });

  it("avgPool2d (f32 kernel and exact f64), padding excluded or included, and globalAvgPool", () => {
    const x = rand([2, 3, 7, 6], r);
    const cases: Array<[number[], number[], number[], boolean, nx.AvgPool2dOptions]> = [
      [[2, 2], [2, 2], [0, 0, 0, 0], false, {}],
      [
        [3, 2],
        [2, 1],
        [1, 0, 1, 1],
        false,
        {
          strides: [2, 1],
          padding: [
            [1, 1],
            [0, 1],
          ],
        },
      ],
      [[3, 3], [1, 1], [1, 1, 1, 1], true, { strides: 1, padding: "same", countIncludePad: true }],
      [[3, 3], [2, 2], [1, 0, 1, 1], false, { strides: 2, padding: "same" }],
    ];
    const ref = numpy([
      ...cases.map(([k, s, p, inc]) => ({ expr: npAvg(k, s, p, inc), args: { x } })),
      { expr: "x.mean(axis=(2, 3), keepdims=True)", args: { x } },
    ]);
    cases.forEach(([k, , , , opts], i) => {
      const win = [k[0]!, k[1]!] as [number, number];
      assertLikeNumpy(nx.avgPool2d(x, win, opts), ref[i]!, 1e-12, `f64 avgPool2d ${i}`);
      assertLikeNumpy(
        nx.avgPool2d(nx.cast(x, "f32"), win, opts),
        ref[i]!,
        1e-5,
        `f32 avgPool2d ${i}`,
      );
    });
    assertLikeNumpy(nx.globalAvgPool(x), ref[cases.length]!, 1e-12, "globalAvgPool");
    assert.deepEqual(nx.globalAvgPool(nx.zeros([1, 2, 3])).shape, [1, 2, 1]);
  });
});

describe("convolution and pooling gradients (central differences)", () => {
  const r = rng(9);
  it("conv1d and convTranspose2d (f32 kernels, f32 step), avgPool2d (f32 kernel's rule and f64 composite)", () => {
    // the conv kernels compute in f32: compare with a step and tolerance fit for f32
    check(
      "conv1d",
      (a, b) => nx.cast(nx.conv1d(a, b, { strides: 2, padding: [1, 0] }), "f64"),
      [rand([1, 2, 7], r), rand([3, 2, 2], r)],
      1e-3,
      1e-2,
    );
    check(
      "convTranspose2d",
      (a, b) =>
        nx.cast(nx.convTranspose2d(a, b, { strides: 2, padding: 1, outputPadding: 1 }), "f64"),
      [rand([1, 2, 3, 3], r), rand([2, 1, 3, 3], r)],
      1e-3,
      1e-2,
    );
    check("avgPool2d f64", (a) => nx.avgPool2d(a, 3, { strides: 2, padding: "same" }), [
      rand([1, 2, 5, 5], r),
    ]);
    check(
      "avgPool2d f32 kernel",
      (a) =>
        nx.cast(
          nx.avgPool2d(nx.cast(a, "f32"), [2, 3], {
            strides: [1, 2],
            padding: [
              [1, 0],
              [1, 1],
            ],
          }),
          "f64",
        ),
      [rand([1, 1, 4, 5], r)],
      1e-3,
      1e-2,
    );
    check("globalAvgPool", (a) => nx.globalAvgPool(a), [rand([2, 2, 3, 2], r)]);
  });
});
