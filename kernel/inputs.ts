/**
 * The kernel's input registry: input values by id, the reads each evaluation makes, controls
 * and their subscribers, and the lifetime of background work (listeners) per cell.
 *
 * Identity (as Kino's): an input's id is a hash of the creating cell, how many inputs that
 * evaluation had made before it, and its spec — so re-running an unchanged cell makes the same
 * ids and keeps the values the user set, while a changed label or option makes a new input.
 *
 * Invariants: values arrive validated (the parent checks them against the spec); a value may
 * arrive before any cell creates its input (a fresh kernel gets the session's values replayed)
 * and is kept by id. Subscribers run in the context of the cell that subscribed (their output
 * goes to that cell) and are dropped when that cell starts again, is interrupted, or when an
 * interrupt arrives while no cell runs.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  MAX_INPUT_BYTES,
  defaultValue,
  validateInputValue,
  type ControlEvent,
  type InputSpec,
  type InputValue,
} from "../core/inputs.ts";
import { runInContext, type EvalContext } from "./context.ts";

type Subscriber = (event: unknown) => void;

interface Subscription {
  fn: Subscriber;
  ctx: EvalContext;
}

/** Per cell: an AbortController for everything running in its background. */
const lifetimes = new Map<string, AbortController>();
const values = new Map<string, InputValue>();
const specs = new Map<string, InputSpec>();
const subscribers = new Map<string, Set<Subscription>>();
/** `tsnb run --input LABEL=TEXT`. */
let overrides = new Map<string, string>();
/** How many inputs each evaluation made so far (the position part of an input's identity). */
const counters = new WeakMap<EvalContext, number>();
/** The inputs each running evaluation read, recorded while it is the running one. */
const reads = new WeakMap<EvalContext, Set<string>>();

/** Start recording an evaluation's reads and end its cell's earlier background work. */
export function evaluationStarting(ctx: EvalContext): void {
  reads.set(ctx, new Set());
  stopCell(ctx.cellId);
}

/** The inputs `ctx` read; recording stops. */
export function evaluationFinished(ctx: EvalContext): string[] {
  const r = reads.get(ctx);
  reads.delete(ctx);
  return r ? [...r] : [];
}

/** Stop every listener and subscription of a cell. */
export function stopCell(cellId: string): void {
  const lt = lifetimes.get(cellId);
  if (lt) {
    lifetimes.delete(cellId);
    lt.abort(new Error("the cell was run again or interrupted"));
  }
  for (const [id, subs] of subscribers) {
    for (const s of subs) if (s.ctx.cellId === cellId) subs.delete(s);
    if (subs.size === 0) subscribers.delete(id);
  }
}

/** Stop the background work of every cell (an interrupt while no cell runs). */
export function stopAll(): void {
  for (const cellId of [...lifetimes.keys()]) stopCell(cellId);
  subscribers.clear();
}

/** Aborted when the cell of `ctx` runs again or is interrupted. */
export function lifetimeOf(ctx: EvalContext): AbortSignal {
  let lt = lifetimes.get(ctx.cellId);
  if (!lt) {
    lt = new AbortController();
    lifetimes.set(ctx.cellId, lt);
  }
  return lt.signal;
}

/** Register an input made by the cell of `ctx`; returns its stable id and current value. */
export function createInput(spec: InputSpec, ctx: EvalContext): { id: string; value: InputValue } {
  const n = counters.get(ctx) ?? 0;
  counters.set(ctx, n + 1);
  const id =
    "input-" +
    createHash("sha256")
      .update(JSON.stringify([ctx.cellId, n, spec]))
      .digest("base64url")
      .slice(0, 16);
  specs.set(id, spec);
  if (!values.has(id)) {
    const text = overrides.get(spec.label);
    values.set(id, text === undefined ? defaultValue(spec) : fromText(spec, text));
  }
  return { id, value: values.get(id)! };
}

/** The current value of an input, recorded as read by the running evaluation `running`. */
export function readInput(id: string, running: EvalContext | null): InputValue {
  if (running) reads.get(running)?.add(id);
  return values.has(id) ? values.get(id)! : null;
}

/** A window set an input (validated by the parent): store it and tell the input's subscribers. */
export function setInput(id: string, value: InputValue): void {
  values.set(id, value);
  deliver(id, { type: "change", value });
}

export function setOverrides(byLabel: Record<string, string>): void {
  overrides = new Map(Object.entries(byLabel));
}

/** Subscribe `fn` (run in `ctx`) to a control's events or an input's changes; returns unsubscribe. */
export function subscribe(sourceId: string, fn: Subscriber, ctx: EvalContext): () => void {
  let subs = subscribers.get(sourceId);
  if (!subs) {
    subs = new Set();
    subscribers.set(sourceId, subs);
  }
  const s: Subscription = { fn, ctx };
  subs.add(s);
  return () => subscribers.get(sourceId)?.delete(s);
}

/** A control event from a window (or a kernel-made one, e.g. an interval tick). */
export function controlEvent(
  controlId: string,
  event: ControlEvent | Record<string, unknown>,
): void {
  deliver(controlId, event);
}

function deliver(sourceId: string, event: unknown): void {
  const subs = subscribers.get(sourceId);
  if (!subs) return;
  for (const s of [...subs]) {
    runInContext(s.ctx, () => {
      try {
        s.fn(event);
      } catch (err) {
        process.stderr.write(`listener failed: ${(err as Error)?.stack ?? String(err)}\n`);
      }
    });
  }
}

/**
 * A value given as text on the command line, converted to the input's kind and validated the
 * way a window's value is: numbers, true/false, an option's value or label, YYYY-MM-DD, #rrggbb;
 * a path for file and audio inputs (read from the notebook's folder). Throws saying what is
 * wrong.
 */
function fromText(spec: InputSpec, text: string): InputValue {
  const where = `--input ${spec.label}=${text}`;
  let value: InputValue;
  switch (spec.kind) {
    case "text":
    case "textarea":
    case "password":
    case "color":
      value = text;
      break;
    case "date":
      value = text === "" ? null : text;
      break;
    case "number":
    case "range":
      value = text.trim() === "" ? null : Number(text);
      break;
    case "checkbox":
      if (!/^(true|false)$/i.test(text)) throw new Error(`${where}: expected true or false`);
      value = /^true$/i.test(text);
      break;
    case "select":
      value = spec.options.find((o) => o.value === text || o.label === text)?.value ?? text;
      break;
    case "file":
    case "audio": {
      const bytes = readFileSync(resolve(text));
      if (bytes.length > MAX_INPUT_BYTES)
        throw new Error(`${where}: the file is larger than the limit of 10 MB`);
      const data = bytes.toString("base64");
      value =
        spec.kind === "file"
          ? { name: text.split("/").pop() ?? text, type: "", data }
          : { wav: data, name: text };
      break;
    }
    case "image":
      throw new Error(
        `${where}: image inputs cannot be set from the command line (images are decoded by the page)`,
      );
  }
  const bad = validateInputValue(spec, value);
  if (bad) throw new Error(`${where}: ${bad}`);
  return value;
}
