/**
 * Losses and metrics, emitted on a {@link Tape} so they compile into the training step.
 *
 * Invariants: a loss returns the mean over the batch (a scalar); a metric returns the SUM over the
 * batch (the loop divides by the number of examples, so a smaller last batch is weighted right).
 * Cross-entropy from logits goes through LogSoftmax / softplus forms that never take log(0).
 */
import type { Tape, Val } from "./tape.ts";

/** A loss: name, the target form it wants, and its graph. */
export interface Loss {
  name: string;
  /** True when the loss takes logits (so accuracy thresholds logits at 0), false for probabilities. */
  fromLogits?: boolean;
  /** "onehot": class indices are one-hot encoded to the prediction's width; "same": targets match predictions. */
  target: "onehot" | "same";
  build(t: Tape, pred: Val, target: Val): Val;
}

/** A metric: name and its graph (sum over the batch). */
export interface Metric {
  name: string;
  build(t: Tape, pred: Val, target: Val): Val;
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
  build: (t, p, y) => t.mean(t.square(t.sub(p, y))),
};

/** Mean absolute error. */
export const meanAbsoluteError: Loss = {
  name: "mae",
  target: "same",
  build: (t, p, y) => t.mean(t.abs(t.sub(p, y))),
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
    build: (t, x, y) => {
      if (fromLogits) {
        const softplus = t.log(t.add(t.exp(t.neg(t.abs(x))), t.scalar(1)));
        return t.mean(t.add(t.sub(t.relu(x), t.mul(x, y)), softplus));
      }
      const p = t.add(t.mul(x, t.scalar(1 - 2e-7)), t.scalar(1e-7));
      const l = t.add(
        t.mul(y, t.log(p)),
        t.mul(t.sub(t.scalar(1), y), t.log(t.sub(t.scalar(1), p))),
      );
      return t.neg(t.mean(l));
    },
  };
}

/**
 * Categorical cross-entropy against one-hot (or soft) targets; class indices are one-hot encoded
 * by the loop. From logits (default) it uses LogSoftmax, which is numerically stable.
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
    build: (t, x, y) => {
      const c = x.shape[x.shape.length - 1]!;
      const target = ls > 0 ? t.add(t.mul(y, t.scalar(1 - ls)), t.scalar(ls / c)) : y;
      const logp = fromLogits ? t.logSoftmax(x) : t.log(t.add(x, t.scalar(1e-7)));
      return t.mul(t.sum(t.mul(target, logp)), t.scalar(-1 / batchOf(x)));
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
    build: (t, p, y) => {
      const c = p.shape[p.shape.length - 1]!;
      let eq: Val;
      if (c === 1 || p.shape.length === 1) {
        const thr = t.scalar(opts.fromLogits === false ? 0.5 : 0);
        const pred = t.raw("Greater", [p, thr], p.shape, undefined, "bool");
        const truth = t.raw("Greater", [y, t.scalar(0.5)], y.shape, undefined, "bool");
        eq = t.raw("Equal", [pred, truth], p.shape, undefined, "bool");
      } else {
        const a = t.raw("ArgMax", [p], [p.shape[0]!], { axis: -1, keepdims: 0 }, "i64");
        const b = t.raw("ArgMax", [y], [y.shape[0]!], { axis: -1, keepdims: 0 }, "i64");
        eq = t.raw("Equal", [a, b], [p.shape[0]!], undefined, "bool");
      }
      const f = t.raw("Cast", [eq], eq.shape, { to: 1 });
      return t.raw("ReduceSum", [f], [], { keepdims: 0 });
    },
  };
}

/** Mean absolute error as a metric (per example: mean over its values). */
export const maeMetric: Metric = {
  name: "mae",
  build: (t, p, y) => {
    const perRow = p.shape.slice(1).reduce((a, b) => a * b, 1);
    const d = t.raw("Abs", [t.raw("Sub", [p, y], p.shape)], p.shape);
    return t.raw("Mul", [t.raw("ReduceSum", [d], [], { keepdims: 0 }), t.scalar(1 / perRow)], []);
  },
};

/** Mean squared error as a metric. */
export const mseMetric: Metric = {
  name: "mse",
  build: (t, p, y) => {
    const perRow = p.shape.slice(1).reduce((a, b) => a * b, 1);
    const d = t.raw("Sub", [p, y], p.shape);
    return t.raw(
      "Mul",
      [
        t.raw("ReduceSum", [t.raw("Mul", [d, d], p.shape)], [], { keepdims: 0 }),
        t.scalar(1 / perRow),
      ],
      [],
    );
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
