/**
 * Losses and metrics as functions of nx tensors, traced into the compiled training step.
 *
 * Invariants: a loss returns the mean over the batch (a scalar); a metric returns the SUM over the
 * batch (the loop divides by the number of examples, so a smaller last batch is weighted right).
 * Cross-entropy from logits goes through LogSoftmax / softplus forms that never take log(0).
 */
import * as nx from "../tensor/index.ts";

type Val = nx.Tensor;

/** A loss: name, the target form it wants, and its computation (nx ops, traced into the step). */
export interface Loss {
  name: string;
  /** True when the loss takes logits (so accuracy thresholds logits at 0), false for probabilities. */
  fromLogits?: boolean;
  /** "onehot": class indices are one-hot encoded to the prediction's width; "same": targets match predictions. */
  target: "onehot" | "same";
  /** The mean loss over the batch, a scalar, from predictions and targets (nx tensors, batch first). */
  build(pred: Val, target: Val): Val;
}

/** A metric: name and its computation (the SUM over the batch, a scalar nx tensor). */
export interface Metric {
  name: string;
  build(pred: Val, target: Val): Val;
}

/** Names accepted where a loss is expected. */
export type LossName = "mse" | "mae" | "binaryCrossEntropy" | "categoricalCrossEntropy";
/** Names accepted where a metric is expected. */
export type MetricName = "accuracy" | "mae" | "mse";

const batchOf = (v: Val) => v.shape[0]!;

/** Mean squared error. */
export const meanSquaredError: Loss = {
  name: "mse",
  target: "same",
  build: (p, y) => nx.mean(nx.square(nx.subtract(p, y))),
};

/** Mean absolute error. */
export const meanAbsoluteError: Loss = {
  name: "mae",
  target: "same",
  build: (p, y) => nx.mean(nx.abs(nx.subtract(p, y))),
};

/**
 * Binary cross-entropy. With `fromLogits` (default) the stable form max(x,0) − x·y + log(1+e^−|x|);
 * otherwise on probabilities clipped to [1e-7, 1 − 1e-7].
 */
export function binaryCrossEntropy(opts: { fromLogits?: boolean } = {}): Loss {
  const fromLogits = opts.fromLogits ?? true;
  return {
    name: "binaryCrossEntropy",
    fromLogits,
    target: "same",
    build: (x, y) => {
      if (fromLogits) {
        const softplus = nx.log(nx.add(nx.exp(nx.negate(nx.abs(x))), 1));
        return nx.mean(nx.add(nx.subtract(nx.relu(x), nx.multiply(x, y)), softplus));
      }
      const p = nx.add(nx.multiply(x, 1 - 2e-7), 1e-7);
      const l = nx.add(
        nx.multiply(y, nx.log(p)),
        nx.multiply(nx.subtract(1, y), nx.log(nx.subtract(1, p))),
      );
      return nx.negate(nx.mean(l));
    },
  };
}

/**
 * Categorical cross-entropy against one-hot (or soft) targets; class indices are one-hot encoded
 * by the loop. From logits (default) it uses logSoftmax, which is numerically stable.
 */
export function categoricalCrossEntropy(
  opts: { fromLogits?: boolean; labelSmoothing?: number } = {},
): Loss {
  const fromLogits = opts.fromLogits ?? true;
  const ls = opts.labelSmoothing ?? 0;
  return {
    name: "categoricalCrossEntropy",
    fromLogits,
    target: "onehot",
    build: (x, y) => {
      const c = x.shape[x.shape.length - 1]!;
      const target = ls > 0 ? nx.add(nx.multiply(y, 1 - ls), ls / c) : y;
      const logp = fromLogits ? nx.logSoftmax(x, -1) : nx.log(nx.add(x, 1e-7));
      return nx.multiply(nx.sum(nx.multiply(target, logp)), -1 / batchOf(x));
    },
  };
}

/** Other spellings users bring from Keras and PyTorch, normalised (lower case, no _ - or spaces). */
const LOSS_ALIASES: Record<string, LossName> = {
  mse: "mse",
  meansquarederror: "mse",
  mae: "mae",
  meanabsoluteerror: "mae",
  bce: "binaryCrossEntropy",
  binarycrossentropy: "binaryCrossEntropy",
  crossentropy: "categoricalCrossEntropy",
  categoricalcrossentropy: "categoricalCrossEntropy",
  sparsecategoricalcrossentropy: "categoricalCrossEntropy",
};

/** Resolve a loss given by name (or a Keras/PyTorch spelling of it) or object. */
export function resolveLoss(l: Loss | LossName): Loss {
  if (typeof l !== "string") return l;
  const name = LOSS_ALIASES[l.toLowerCase().replace(/[_\s-]/g, "")] ?? l;
  switch (name) {
    case "mse":
      return meanSquaredError;
    case "mae":
      return meanAbsoluteError;
    case "binaryCrossEntropy":
      return binaryCrossEntropy();
    case "categoricalCrossEntropy":
      return categoricalCrossEntropy();
    default:
      throw new Error(
        `loss: unknown '${String(name satisfies never)}' (use mse, mae, binaryCrossEntropy, categoricalCrossEntropy or a Loss object)`,
      );
  }
}

/** Accuracy: argmax agreement for several classes, threshold 0 on logits (0.5 on probabilities) for one. */
export function accuracy(opts: { fromLogits?: boolean } = {}): Metric {
  return {
    name: "accuracy",
    build: (p, y) => {
      const c = p.shape[p.shape.length - 1]!;
      let eq: Val;
      if (c === 1 || p.shape.length === 1) {
        const thr = opts.fromLogits === false ? 0.5 : 0;
        eq = nx.equal(nx.greater(p, thr), nx.greater(y, 0.5));
      } else eq = nx.equal(nx.argmax(p, { axis: -1 }), nx.argmax(y, { axis: -1 }));
      return nx.sum(nx.cast(eq, "f32"));
    },
  };
}

/** Mean absolute error as a metric (per example: mean over its values). */
export const maeMetric: Metric = {
  name: "mae",
  build: (p, y) => {
    const perRow = p.shape.slice(1).reduce((a, b) => a * b, 1);
    return nx.multiply(nx.sum(nx.abs(nx.subtract(p, y))), 1 / perRow);
  },
};

/** Mean squared error as a metric. */
export const mseMetric: Metric = {
  name: "mse",
  build: (p, y) => {
    const perRow = p.shape.slice(1).reduce((a, b) => a * b, 1);
    return nx.multiply(nx.sum(nx.square(nx.subtract(p, y))), 1 / perRow);
  },
};

/** Resolve a metric given by name or object. */
export function resolveMetric(m: Metric | MetricName, loss: Loss): Metric {
  if (typeof m !== "string") return m;
  const key = m.toLowerCase().replace(/[_\s-]/g, "");
  const alias: Record<string, MetricName> = {
    accuracy: "accuracy",
    acc: "accuracy",
    mae: "mae",
    meanabsoluteerror: "mae",
    mse: "mse",
    meansquarederror: "mse",
  };
  const name = alias[key] ?? m;
  switch (name) {
    case "accuracy":
      // one output: threshold logits at 0 for losses on logits, probabilities (and regressions) at 0.5
      return accuracy({ fromLogits: loss.fromLogits === true });
    case "mae":
      return maeMetric;
    case "mse":
      return mseMetric;
    default:
      throw new Error(
        `metric: unknown '${String(name satisfies never)}' (use accuracy, mae, mse or a Metric object)`,
      );
  }
}
