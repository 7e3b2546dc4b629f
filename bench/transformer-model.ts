/**
 * The tiny transformer of notebooks/08-transformer.tsnb as a module, for bench/learn.ts: the same
 * functions (token + position embeddings, causal multi-head self-attention, layer norm, GELU MLP,
 * residuals, cross-entropy of the next token) and the same Adam step in one `nx.jit`, with the
 * sizes as parameters. bench/python/learn_torch.py is the same model in PyTorch.
 */
import * as nx from "../tensor/index.ts";

export interface Config {
  vocab: number;
  context: number;
  width: number;
  heads: number;
  layers: number;
}

type Norm = { gain: nx.Tensor; bias: nx.Tensor };
type Block = {
  norm1: Norm;
  qkv: nx.Tensor;
  out: nx.Tensor;
  norm2: Norm;
  up: nx.Tensor;
  upBias: nx.Tensor;
  down: nx.Tensor;
  downBias: nx.Tensor;
};
export type Params = {
  tokens: nx.Tensor;
  positions: nx.Tensor;
  blocks: Block[];
  norm: Norm;
  head: nx.Tensor;
};
export type State = { p: Params; m: Params; v: Params };

export function initParams(c: Config, seed = 1): Params {
  let s = seed;
  const D = c.width;
  const normal = (shape: number[], std = 0.02) => nx.random.normal(shape, { std, seed: s++ });
  const norm = (): Norm => ({ gain: nx.ones([D]), bias: nx.zeros([D]) });
  return {
    tokens: normal([c.vocab, D]),
    positions: normal([c.context, D]),
    blocks: Array.from({ length: c.layers }, () => ({
      norm1: norm(),
      qkv: normal([D, 3 * D]),
      out: normal([D, D], 0.02 / Math.sqrt(2 * c.layers)),
      norm2: norm(),
      up: normal([D, 4 * D]),
      upBias: nx.zeros([4 * D]),
      down: normal([4 * D, D], 0.02 / Math.sqrt(2 * c.layers)),
      downBias: nx.zeros([D]),
    })),
    norm: norm(),
    head: normal([D, c.vocab]),
  };
}

export function model(c: Config) {
  const { width: D, heads: H, context: T, vocab: V } = c;
  const Dh = D / H;
  const layerNorm = (x: nx.Tensor, p: Norm) => nx.layerNorm(x, { gain: p.gain, bias: p.bias });
  const causalMask = nx.where(
    nx.greater(nx.arange(T).reshape([1, T]), nx.arange(T).reshape([T, 1])),
    -1e9,
    0,
  );
  const attention = (x: nx.Tensor, p: Block) => {
    const [b, t] = x.shape as [number, number, number];
    const qkv = nx.matmul(x, p.qkv).reshape([b, t, 3, H, Dh]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice([i], [1]).reshape([b, H, t, Dh])) as [
      nx.Tensor,
      nx.Tensor,
      nx.Tensor,
    ];
    const scores = nx
      .matmul(q, k.transpose([0, 1, 3, 2]))
      .mul(1 / Math.sqrt(Dh))
      .add(causalMask);
    const heads = nx.matmul(nx.softmax(scores, { axis: -1 }), v);
    return nx.matmul(heads.transpose([0, 2, 1, 3]).reshape([b, t, D]), p.out);
  };
  const mlp = (x: nx.Tensor, p: Block) =>
    nx.matmul(nx.gelu(nx.matmul(x, p.up).add(p.upBias)), p.down).add(p.downBias);
  const logits = (p: Params, x: nx.Tensor) => {
    let h = nx.take(p.tokens, x).add(p.positions);
    for (const block of p.blocks) {
      h = h.add(attention(layerNorm(h, block.norm1), block));
      h = h.add(mlp(layerNorm(h, block.norm2), block));
    }
    return nx.matmul(layerNorm(h, p.norm), p.head);
  };
  const loss = (p: Params, x: nx.Tensor, y: nx.Tensor) =>
    nx.negate(
      nx.mean(nx.sum(nx.oneHot(y, V).mul(nx.logSoftmax(logits(p, x), { axis: -1 })), { axes: -1 })),
    );
  const beta1 = 0.9;
  const beta2 = 0.99;
  const step = (threads?: number) =>
    nx.jit(
      (s: State, x: nx.Tensor, y: nx.Tensor, stepSize: nx.Tensor, epsHat: nx.Tensor) => {
        const [value, g] = nx.valueAndGrad(loss)(s.p, x, y);
        const m = nx.treeMap(
          (a: nx.Tensor, gi: nx.Tensor) => a.mul(beta1).add(gi.mul(1 - beta1)),
          s.m,
          g,
        ) as Params;
        const v = nx.treeMap(
          (a: nx.Tensor, gi: nx.Tensor) => a.mul(beta2).add(nx.square(gi).mul(1 - beta2)),
          s.v,
          g,
        ) as Params;
        // lesson 5's form of Adam's update: the bias corrections folded into stepSize and epsHat
        const p = nx.treeMap(
          (w: nx.Tensor, mi: nx.Tensor, vi: nx.Tensor) =>
            w.sub(mi.div(nx.sqrt(vi).add(epsHat)).mul(stepSize)),
          s.p,
          m,
          v,
        ) as Params;
        return { loss: value, state: { p, m, v } };
      },
      threads === undefined ? {} : { threads },
    );
  return { logits, loss, step, beta1, beta2 };
}
