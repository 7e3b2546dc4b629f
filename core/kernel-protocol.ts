/**
 * The kernel protocol: every message between a kernel process and its parent (the server or
 * `tsnb run`), as discriminated unions with a literal `type`, plus the runtime validators used
 * where messages cross the process boundary.
 *
 * Transport (kernel/client.ts, kernel/main.ts): newline-delimited JSON. The parent writes
 * `KernelRequest`s to the kernel's stdin; the kernel writes `KernelEvent`s to fd 3; interrupts
 * (`InterruptRequest`) travel on their own pipe (fd 4), read by a watchdog thread in the kernel,
 * because the kernel's main thread cannot read while user code blocks it. The kernel's own
 * stdout/stderr carry only text written around `console` (native libraries, crash traces).
 *
 * Handshake: the first event a kernel sends is `hello`; the parent refuses a kernel whose
 * `protocolVersion` differs from `KERNEL_PROTOCOL_VERSION`.
 *
 * Invariants: for each `evaluate` the kernel sends exactly one `evaluation-started` and one
 * `evaluation-finished`, in request order; `output`/`output-update` of an evaluation may also
 * arrive after its `evaluation-finished` (timers the cell started), and always name the
 * evaluation that produced them. No Node or DOM imports here.
 */

import type { ErrorOutput, Output, OutputUpdate, TableSort } from "./outputs.ts";
import { checkControlSpec, checkInputSpec, type ControlEvent, type InputValue } from "./inputs.ts";
import { isRecord } from "./fields.ts";
import { checkBindings, type BindingInfo } from "./bindings.ts";

/** Bumped on any incompatible change to the messages below. */
export const KERNEL_PROTOCOL_VERSION = 2;

// ---------------------------------------------------------------------------------------------
// parent → kernel (stdin)

export type KernelRequest =
  | EvaluateRequest
  | TablePageRequest
  | SetInputRequest
  | InputOverridesRequest
  | ControlEventRequest
  | ShutdownRequest;

/** Evaluate one cell's TypeScript. Evaluations run one at a time in the order received. */
export interface EvaluateRequest {
  type: "evaluate";
  /** Unique per evaluation (chosen by the parent); every event of this evaluation carries it. */
  evalId: string;
  /** The cell being evaluated; outputs are attributed to it. */
  cellId: string;
  /** The cell's TypeScript source. */
  code: string;
  /** Path of the notebook file (for stack frames, e.g. "notebook.tsnb"); default "cell". */
  file?: string;
  /** 1-based line in `file` where the cell's first source line is; default 1. */
  line?: number;
  /**
   * The npm versions the notebook records (`metadata.dependencies`, name → exact version): an
   * `npm:` import whose range one satisfies uses it without asking the registry (kernel/npm.ts).
   */
  dependencies?: Record<string, string>;
}

/** Ask for another page of a table output; answered with an `output-update` of type `table-page`. */
export interface TablePageRequest {
  type: "table-page";
  /** The `id` of the `table` output. */
  tableId: string;
  /** Index of the first row wanted. */
  offset: number;
  /** How many rows at most (capped by the kernel at 1000). */
  limit: number;
  /** Page the rows in this order (the whole table sorted by one column). */
  sort?: TableSort;
}

/**
 * An input's value changed (a window set it; or, right after the kernel starts, the session's
 * values are replayed). Already validated by the parent against the input's spec. The kernel
 * keeps it by id even before a cell creates that input, so a re-run or a fresh kernel reads it.
 * Handled between evaluations' synchronous parts, like every request.
 */
export interface SetInputRequest {
  type: "set-input";
  inputId: string;
  value: InputValue;
}

/**
 * Values for inputs by label, as text (`tsnb run --input LABEL=VALUE`): an input created later
 * with that label starts with the text converted to its kind (a file path for file and audio
 * inputs); a text that does not fit the kind fails the creating cell with a clear error.
 */
export interface InputOverridesRequest {
  type: "input-overrides";
  byLabel: Record<string, string>;
}

/** A window used a control (a click, a form submit, a key). `origin` is that window's client id. */
export interface ControlEventRequest {
  type: "control-event";
  controlId: string;
  event: ControlEvent;
  origin: string;
}

/** Ask the kernel to exit cleanly (exit code 0). */
export interface ShutdownRequest {
  type: "shutdown";
}

/** The only message of the interrupt pipe (fd 4): stop the running evaluation. */
export interface InterruptRequest {
  type: "interrupt";
}

// ---------------------------------------------------------------------------------------------
// kernel → parent (fd 3)

export type KernelEvent =
  | HelloEvent
  | EvaluationStartedEvent
  | OutputEvent
  | OutputUpdateEvent
  | EvaluationFinishedEvent
  | CrashEvent
  | ProtocolErrorEvent;

/** First message of every kernel: the parent checks the version before sending anything. */
export interface HelloEvent {
  type: "hello";
  protocolVersion: number;
  /** The kernel's process id. */
  pid: number;
  /** The kernel's Node version, e.g. "v20.20.2". */
  node: string;
}

export interface EvaluationStartedEvent {
  type: "evaluation-started";
  evalId: string;
  cellId: string;
}

/** A new output of an evaluation (console text, `display(...)`), in the order produced. */
export interface OutputEvent {
  type: "output";
  evalId: string;
  cellId: string;
  output: Output;
}

/** A change to an output shown earlier (a frame replaced, a table page, a progress bar). */
export interface OutputUpdateEvent {
  type: "output-update";
  /** The evaluation that created the output being updated ("" for a table page request). */
  evalId: string;
  cellId: string;
  update: OutputUpdate;
}

/**
 * How an evaluation ended: `ok` (it may have a result), `error` (`error` is set), `interrupted`
 * (stopped by an interrupt), `aborted` (the kernel died or was stopped; made by the client,
 * never sent by a kernel).
 */
export type EvaluationStatus = "ok" | "error" | "interrupted" | "aborted";

export interface EvaluationFinishedEvent {
  type: "evaluation-finished";
  evalId: string;
  cellId: string;
  status: EvaluationStatus;
  /** The cell's result (its last expression's value), when it has one. */
  result?: Output;
  /** The result as text, the way Node's REPL prints it (util.inspect), for terminals. */
  resultText?: string;
  /** Set when status is `error` or `interrupted`; `location` is in the notebook file. */
  error?: ErrorOutput;
  /** Top-level names the cell declares (const/let/var/class/function/enum/import bindings). */
  defines: string[];
  /** Free names the cell reads or assigns but does not declare (including globals like `Math`). */
  uses: string[];
  /**
   * Ids of the inputs whose `value` the evaluation read while it ran (its synchronous part and
   * its awaits; not later timers or listeners): the cell is bound to them (stale on change).
   */
  inputs: string[];
  /** Wall time from the start of the evaluation to its end, in milliseconds. */
  durationMs: number;
  /** The binding scan of the names the cell defined (core/bindings.ts): metadata, never values. */
  bindings?: BindingInfo[];
  /**
   * npm packages the evaluation's `npm:` imports resolved that the request's `dependencies` did
   * not hold at that version (name → exact version): for the host to record in the notebook.
   */
  dependencies?: Record<string, string>;
}

/**
 * An uncaught exception or unhandled rejection outside an evaluation's await chain (a timer, an
 * event handler): the kernel reports it and exits with status 1.
 */
export interface CrashEvent {
  type: "crash";
  /** e.g. "TypeError: x is not a function". */
  message: string;
  /** Stack with frames mapped to the notebook file where they are in a cell. */
  stack: string;
  /** The evaluation whose code (or whose timers) threw, when known. */
  evalId?: string;
  cellId?: string;
  /**
   * True when the kernel exits because an interrupt could not stop code safely (a loop in a
   * callback rather than in a cell's synchronous part).
   */
  interrupted?: boolean;
}

/** The kernel received a request it could not understand; it ignores that request. */
export interface ProtocolErrorEvent {
  type: "protocol-error";
  message: string;
}

// ---------------------------------------------------------------------------------------------
// validation

/** Thrown by the parsers below; `message` says which field was wrong and why. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj {
  if (!isRecord(v)) throw new ProtocolError(`${what}: expected an object`);
  return v;
}
function str(o: Obj, key: string, what: string, optional = false): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== "string")
    throw new ProtocolError(`${what}: field '${key}' must be a string, got ${typeof v}`);
}
function num(o: Obj, key: string, what: string, optional = false): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ProtocolError(`${what}: field '${key}' must be a finite number`);
}
/** An object whose values are all strings (npm names → versions). */
function stringRecord(o: Obj, key: string, what: string): void {
  const v = o[key];
  if (!isRecord(v) || !Object.values(v).every((x) => typeof x === "string"))
    throw new ProtocolError(`${what}: field '${key}' must be an object of strings`);
}
function strings(o: Obj, key: string, what: string): void {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    throw new ProtocolError(`${what}: field '${key}' must be an array of strings`);
  }
}
const OUTPUT_TYPES = new Set([
  "terminal",
  "markdown",
  "html",
  "image",
  "vega-lite",
  "table",
  "tensor",
  "value",
  "error",
  "frame",
  "progress",
  "input",
  "control",
  "layout",
]);
const UPDATE_TYPES = new Set([
  "frame-replace",
  "frame-append",
  "vega-lite-push",
  "progress-set",
  "table-page",
  "input-value",
]);

/** Stderr ranges of a terminal output: sorted, non-empty, non-touching pairs inside the text. */
function checkRanges(v: unknown, length: number, what: string): void {
  const ok =
    Array.isArray(v) &&
    v.length % 2 === 0 &&
    v.every((x, i) => Number.isInteger(x) && x >= 0 && x <= length && (i === 0 || x > v[i - 1]));
  if (!ok)
    throw new ProtocolError(
      `${what}: field 'stderr' must be sorted [start, end) offsets inside the text`,
    );
}

/** Checks the shape of an Output (its `type` and the fields every renderer relies on). */
export function checkOutput(v: unknown, what = "output"): Output {
  const o = obj(v, what);
  if (typeof o.type !== "string" || !OUTPUT_TYPES.has(o.type)) {
    throw new ProtocolError(`${what}: unknown output type ${JSON.stringify(o.type)}`);
  }
  switch (o.type) {
    case "terminal":
      str(o, "text", what);
      if (o.stream !== "stdout" && o.stream !== "stderr")
        throw new ProtocolError(`${what}: stream must be stdout or stderr`);
      if (o.stderr !== undefined) checkRanges(o.stderr, (o.text as string).length, what);
      if (o.dropped !== undefined) throw new ProtocolError(`${what}: a kernel never drops text`);
      break;
    case "markdown":
      str(o, "text", what);
      break;
    case "html":
      str(o, "html", what);
      break;
    case "image":
      str(o, "mime", what);
      str(o, "data", what);
      break;
    case "error":
      str(o, "name", what);
      str(o, "message", what);
      str(o, "stack", what);
      str(o, "fullStack", what, true);
      str(o, "excerpt", what, true);
      if (o.uncaught !== undefined && o.uncaught !== "exception" && o.uncaught !== "rejection")
        throw new ProtocolError(`${what}: uncaught must be "exception" or "rejection"`);
      break;
    case "table":
      str(o, "id", what);
      strings(o, "columns", what);
      if (!Array.isArray(o.rows)) throw new ProtocolError(`${what}: field 'rows' must be an array`);
      num(o, "offset", what);
      num(o, "totalRows", what);
      break;
    case "frame":
      str(o, "id", what);
      if (!Array.isArray(o.outputs))
        throw new ProtocolError(`${what}: field 'outputs' must be an array`);
      o.outputs.forEach((x, i) => checkOutput(x, `${what}.outputs[${i}]`));
      break;
    case "value":
      obj(o.preview, `${what}.preview`);
      break;
    case "tensor":
      str(o, "dtype", what);
      str(o, "text", what);
      break;
    case "progress":
      str(o, "id", what);
      break;
    case "input": {
      str(o, "id", what);
      const bad = checkInputSpec(o.input);
      if (bad) throw new ProtocolError(`${what}: ${bad}`);
      break;
    }
    case "control": {
      str(o, "id", what);
      const bad = checkControlSpec(o.control);
      if (bad) throw new ProtocolError(`${what}: ${bad}`);
      break;
    }
    case "layout":
      if (o.layout !== "grid" && o.layout !== "tabs")
        throw new ProtocolError(`${what}: layout must be grid or tabs`);
      if (!Array.isArray(o.items))
        throw new ProtocolError(`${what}: field 'items' must be an array`);
      o.items.forEach((item, i) => {
        const it = obj(item, `${what}.items[${i}]`);
        str(it, "title", `${what}.items[${i}]`, true);
        if (!Array.isArray(it.outputs))
          throw new ProtocolError(`${what}.items[${i}]: field 'outputs' must be an array`);
        it.outputs.forEach((x, j) => checkOutput(x, `${what}.items[${i}].outputs[${j}]`));
      });
      break;
  }
  return o as unknown as Output;
}

/** Checks the shape of an OutputUpdate (its `type` and `id`). */
export function checkUpdate(v: unknown, what = "update"): OutputUpdate {
  const o = obj(v, what);
  if (typeof o.type !== "string" || !UPDATE_TYPES.has(o.type)) {
    throw new ProtocolError(`${what}: unknown update type ${JSON.stringify(o.type)}`);
  }
  str(o, "id", what);
  return o as unknown as OutputUpdate;
}

/** Parse and validate one line from the parent; throws ProtocolError when malformed. */
export function parseKernelRequest(line: string): KernelRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolError(`request is not JSON: ${line.slice(0, 80)}`);
  }
  const o = obj(v, "request");
  switch (o.type) {
    case "evaluate":
      str(o, "evalId", "evaluate");
      str(o, "cellId", "evaluate");
      str(o, "code", "evaluate");
      str(o, "file", "evaluate", true);
      num(o, "line", "evaluate", true);
      if (o.dependencies !== undefined) stringRecord(o, "dependencies", "evaluate");
      return o as unknown as EvaluateRequest;
    case "table-page":
      str(o, "tableId", "table-page");
      num(o, "offset", "table-page");
      num(o, "limit", "table-page");
      if (o.sort !== undefined) {
        const sort = obj(o.sort, "table-page.sort");
        str(sort, "column", "table-page.sort");
        if (typeof sort.descending !== "boolean")
          throw new ProtocolError("table-page.sort.descending must be a boolean");
      }
      return o as unknown as TablePageRequest;
    case "set-input":
      str(o, "inputId", "set-input");
      if (!("value" in o)) throw new ProtocolError("set-input: field 'value' is missing");
      return o as unknown as SetInputRequest;
    case "input-overrides": {
      const by = obj(o.byLabel, "input-overrides.byLabel");
      for (const k of Object.keys(by)) str(by, k, "input-overrides.byLabel");
      return o as unknown as InputOverridesRequest;
    }
    case "control-event":
      str(o, "controlId", "control-event");
      str(o, "origin", "control-event");
      str(obj(o.event, "control-event.event"), "type", "control-event.event");
      return o as unknown as ControlEventRequest;
    case "shutdown":
      return { type: "shutdown" };
    default:
      throw new ProtocolError(`unknown request type ${JSON.stringify(o.type)}`);
  }
}

/** Parse and validate one line from a kernel; throws ProtocolError when malformed. */
export function parseKernelEvent(line: string): KernelEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolError(`kernel message is not JSON: ${line.slice(0, 80)}`);
  }
  const o = obj(v, "kernel message");
  const t = o.type;
  switch (t) {
    case "hello":
      num(o, "protocolVersion", "hello");
      num(o, "pid", "hello");
      str(o, "node", "hello");
      break;
    case "evaluation-started":
      str(o, "evalId", t);
      str(o, "cellId", t);
      break;
    case "output":
      str(o, "evalId", t);
      str(o, "cellId", t);
      checkOutput(o.output, "output.output");
      break;
    case "output-update":
      str(o, "evalId", t);
      str(o, "cellId", t);
      checkUpdate(o.update, "output-update.update");
      break;
    case "evaluation-finished":
      str(o, "evalId", t);
      str(o, "cellId", t);
      if (o.status !== "ok" && o.status !== "error" && o.status !== "interrupted") {
        throw new ProtocolError(`evaluation-finished: bad status ${JSON.stringify(o.status)}`);
      }
      if (o.result !== undefined) checkOutput(o.result, "evaluation-finished.result");
      if (o.error !== undefined) checkOutput(o.error, "evaluation-finished.error");
      str(o, "resultText", t, true);
      strings(o, "defines", t);
      strings(o, "uses", t);
      strings(o, "inputs", t);
      num(o, "durationMs", t);
      if (o.bindings !== undefined) {
        const problem = checkBindings(o.bindings);
        if (problem) throw new ProtocolError(`evaluation-finished: ${problem}`);
      }
      if (o.dependencies !== undefined) stringRecord(o, "dependencies", t);
      break;
    case "crash":
      str(o, "message", t);
      str(o, "stack", t);
      str(o, "evalId", t, true);
      str(o, "cellId", t, true);
      if (o.interrupted !== undefined && typeof o.interrupted !== "boolean")
        throw new ProtocolError("crash: interrupted must be a boolean");
      break;
    case "protocol-error":
      str(o, "message", t);
      break;
    default:
      throw new ProtocolError(`unknown kernel message type ${JSON.stringify(t)}`);
  }
  return o as unknown as KernelEvent;
}
