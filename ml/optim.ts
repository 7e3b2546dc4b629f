/**
 * Optimizers (Polaris' role) and learning-rate schedules. An optimizer emits its update into the
 * training-step graph; per-step numbers that change (learning rate from the schedule, Adam's bias
 * corrections) are fed as scalar inputs, so a schedule never recompiles the step.
 *
 * Invariants: optimizer state (momentum, Adam moments) has one slot per parameter with the
 * parameter's shape, starts at zero, and is part of the training state carried between steps (and
 * between `fit` calls on the same trainer). Updates follow PyTorch's formulas, so results can be
 * compared with torch.optim.
 */
import * as nx from "../tensor/index.ts";

type Val = nx.Tensor;

/** A learning-rate schedule: step (0-based) → learning rate. */
export type Schedule = (step: number) => number;

/** A constant learning rate or a schedule. */
export type LearningRate = number | Schedule;

/** An optimizer as the training compiler uses it. */
export interface Optimizer {
  readonly name: string;
  /** State slots per parameter (e.g. ["m", "v"]). */
  readonly slots: readonly string[];
  /** Scalar inputs fed each step. */
  readonly hyperNames: readonly string[];
  /** Values of the scalar inputs at a step (0-based). */
  hyper(step: number): Record<string, number>;
  /** The update of one parameter (nx ops, traced into the step); returns its new value and new state slots. */
  update(
    p: Val,
    g: Val,
    state: Record<string, Val>,
    h: Record<string, Val>,
  ): { p: Val; state: Record<string, Val> };
}

const lrAt = (lr: LearningRate, step: number) => (typeof lr === "number" ? lr : lr(step));

/** Options of {@link sgd}. */
export interface SgdOptions {
  learningRate?: LearningRate;
  momentum?: number;
  nesterov?: boolean;
  /** L2 penalty added to the gradient. */
  weightDecay?: number;
}

/** Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD. */
export function sgd(opts: SgdOptions = {}): Optimizer {
  const mu = opts.momentum ?? 0;
  const wd = opts.weightDecay ?? 0;
  const lr = opts.learningRate ?? 0.01;
  if (opts.nesterov && mu <= 0) throw new Error("sgd: nesterov needs momentum > 0");
  return {
    name: "sgd",
    slots: mu > 0 ? ["velocity"] : [],
    hyperNames: ["lr"],
    hyper: (step) => ({ lr: lrAt(lr, step) }),
    update(p, g, state, h) {
      let grad = g;
      if (wd > 0) grad = nx.add(grad, nx.multiply(p, wd));
      if (mu <= 0)
        return { p: nx.subtract(p, nx.multiply(grad, h.lr!)), state: {} as Record<string, Val> };
      const v = nx.add(nx.multiply(state.velocity!, mu), grad);
      const step = opts.nesterov ? nx.add(grad, nx.multiply(v, mu)) : v;
      return { p: nx.subtract(p, nx.multiply(step, h.lr!)), state: { velocity: v } };
    },
  };
}

/** Options of {@link adam} and {@link adamw}. */
export interface AdamOptions {
  learningRate?: LearningRate;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Adam: L2 added to the gradient; AdamW: decoupled decay (default 0.01). */
  weightDecay?: number;
}

function adamLike(name: "adam" | "adamw", opts: AdamOptions): Optimizer {
  const b1 = opts.beta1 ?? 0.9;
  const b2 = opts.beta2 ?? 0.999;
  const eps = opts.epsilon ?? 1e-8;
  const lr = opts.learningRate ?? 1e-3;
  const wd = opts.weightDecay ?? (name === "adamw" ? 0.01 : 0);
  return {
    name,
    slots: ["m", "v"],
    hyperNames: ["lr", "step", "epsHat", "decay"],
    hyper(step) {
      const t = step + 1;
      const a = lrAt(lr, step);
      // torch.optim.Adam/AdamW: p ← p·(1 − lr·wd) − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
      //   = p·decay − step · m / (√v + epsHat)  with step = lr·√(1−β2ᵗ)/(1−β1ᵗ), epsHat = ε·√(1−β2ᵗ)
      const bc2 = Math.sqrt(1 - b2 ** t);
      return {
        lr: a,
        step: (a * bc2) / (1 - b1 ** t),
        epsHat: eps * bc2,
        decay: name === "adamw" ? 1 - a * wd : 1,
      };
    },
    update(p, g, state, h) {
      let grad = g;
      if (name === "adam" && wd > 0) grad = nx.add(grad, nx.multiply(p, wd));
      // m + (g − m)(1 − β1) and v + (g² − v)(1 − β2): the same moments in fewer passes
      const m = nx.add(state.m!, nx.multiply(nx.subtract(grad, state.m!), 1 - b1));
      const v = nx.add(
        state.v!,
        nx.multiply(nx.subtract(nx.multiply(grad, grad), state.v!), 1 - b2),
      );
      const denom = nx.add(nx.sqrt(v), h.epsHat!);
      const stepv = nx.multiply(nx.divide(m, denom), h.step!);
      const base = name === "adamw" ? nx.multiply(p, h.decay!) : p;
      return { p: nx.subtract(base, stepv), state: { m, v } };
    },
  };
}

/** Adam (Kingma & Ba), as torch.optim.Adam. */
export function adam(opts: AdamOptions = {}): Optimizer {
  return adamLike("adam", opts);
}

/** AdamW: Adam with decoupled weight decay, as torch.optim.AdamW. */
export function adamw(opts: AdamOptions = {}): Optimizer {
  return adamLike("adamw", opts);
}

// ---------------------------------------------------------------------------------------------
// Schedules

/** lr · rate^(step / decaySteps), optionally in whole stairs. */
export function exponentialDecay(
  lr: number,
  decaySteps: number,
  rate: number,
  opts: { staircase?: boolean } = {},
): Schedule {
  return (step) =>
    lr * rate ** (opts.staircase ? Math.floor(step / decaySteps) : step / decaySteps);
}

/** Cosine decay from lr to lr·alpha over decaySteps, then constant. */
export function cosineDecay(
  lr: number,
  decaySteps: number,
  opts: { alpha?: number } = {},
): Schedule {
  const alpha = opts.alpha ?? 0;
  return (step) => {
    const p = Math.min(step, decaySteps) / decaySteps;
    return lr * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * p)) + alpha);
  };
}

/** Piecewise constant: values[i] until boundaries[i] (steps), then the last value. */
export function piecewiseConstant(boundaries: number[], values: number[]): Schedule {
  if (values.length !== boundaries.length + 1)
    throw new Error("piecewiseConstant: needs one more value than boundaries");
  return (step) => {
    const i = boundaries.findIndex((b) => step < b);
    return values[i === -1 ? values.length - 1 : i]!;
  };
}

/** Linear warm-up from 0 over `steps`, then the wrapped schedule (shifted). */
export function linearWarmup(steps: number, after: LearningRate): Schedule {
  return (step) =>
    step < steps ? (lrAt(after, 0) * (step + 1)) / steps : lrAt(after, step - steps);
}
