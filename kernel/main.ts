/**
 * The kernel process (bundled to dist/kernel.mjs): evaluates cells for one notebook.
 *
 * Evaluation uses V8's REPL mode through an in-process inspector session (`Runtime.evaluate`
 * with `replMode`): top-level const/let/class persist and may be redeclared by later cells, and
 * top-level await works. Cells are compiled by kernel/compile.ts; console output is attributed
 * to the evaluation that produced it through kernel/context.ts (timers and promises a cell starts
 * keep its context) and sent in batches (every 50 ms, and before the evaluation finishes).
 *
 * Channels (core/kernel-protocol.ts): requests on stdin, events on fd 3 (written synchronously,
 * so nothing is lost when user code calls process.exit), interrupts on fd 4 read by a watchdog
 * thread (kernel/interrupt.ts).
 *
 * Invariants: one evaluation at a time, in request order; each gets exactly one
 * `evaluation-started` and one `evaluation-finished`; all outputs queued before
 * `evaluation-finished` are sent before it.
 */

import inspector from "node:inspector";
import { writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { inspect } from "node:util";
import { Console } from "node:console";
import type { ErrorOutput, Output, OutputUpdate } from "../core/outputs.ts";
import {
  KERNEL_PROTOCOL_VERSION,
  ProtocolError,
  checkOutput,
  checkUpdate,
  parseKernelRequest,
  type EvaluateRequest,
  type EvaluationFinishedEvent,
  type KernelEvent,
  type KernelRequest,
} from "../core/kernel-protocol.ts";
import { assertNever } from "../core/notebook.ts";
import {
  CellSyntaxError,
  compileCell,
  warmUpEsbuild,
  IMPORT_FN,
  IMPORT_META,
  type CompiledCell,
  type Redeclare,
} from "./compile.ts";
import { scanBindings } from "./scan.ts";
import type { BindingInfo } from "../core/bindings.ts";
import { inspectText, tablePageFor, toOutput } from "./format.ts";
import { importMeta, importModule, notebookRequire, setImportingFile } from "./imports.ts";
import { resolvedThisEvaluation, setInstallProgress, setRecordedDependencies } from "./npm.ts";
import {
  cellUrl,
  codeExcerpt,
  firstCellPosition,
  mapPosition,
  mapStack,
  registerCell,
  type MappedPosition,
  userStack,
} from "./stack.ts";
import {
  startInterruptWatchdog,
  FLUSH_MS,
  SLOT_HOOKS,
  SLOT_PENDING,
  SLOT_RUNNING,
  SLOT_SYNC,
} from "./interrupt.ts";
import type { InputSpec, InputValue } from "../core/inputs.ts";
import {
  createInput,
  evaluationFinished,
  evaluationStarting,
  lifetimeOf,
  readInput,
  setInput,
  setOverrides,
  stopAll,
  stopCell,
  subscribe,
  controlEvent,
} from "./inputs.ts";
import {
  asyncHooksEnabled,
  contextOfPromise,
  contextOfThrown,
  currentContext as runningContext,
  installContextTracking,
  resetContext,
  runInContext,
  type EvalContext,
} from "./context.ts";

const EVENTS_FD = 3;
// Enough frames to see a notebook's calls under a library's, and recursion (collapsed when shown).
Error.stackTraceLimit = 50;

// ---------------------------------------------------------------------------------------------
// sending events

/** >0 while the kernel's own output code runs: a flush requested by the watchdog must wait. */
let busy = 0;
/** The watchdog's shared slots, once it runs (SLOT_PENDING tells it output is waiting). */
let slots: Int32Array | null = null;

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

function sendNow(event: KernelEvent): void {
  let line: string;
  try {
    line = JSON.stringify(event);
  } catch (err) {
    // A display-protocol output that is not JSON (a BigInt, a cycle): report instead of dying.
    if (event.type !== "output") throw err;
    line = JSON.stringify({
      ...event,
      output: errorOutputOf(new TypeError(`output is not JSON: ${String(err)}`)),
    });
  }
  busy++;
  try {
    writeAll(EVENTS_FD, line + "\n");
  } finally {
    busy--;
  }
}

/**
 * Console text being batched: consecutive writes of one evaluation, both streams in write order,
 * encoded into one growing buffer as they come (the strings die young: holding a million small
 * strings for 50 ms made the garbage collector the main cost), with stderr's ranges. It becomes
 * one terminal output.
 */
interface ConsoleBatch {
  evalId: string;
  cellId: string;
  /** The text so far, UTF-8, in `bytes[0, used)`. */
  bytes: Buffer;
  used: number;
  /** The text's length in UTF-16 units (what the ranges count). */
  length: number;
  /** stderr's [start, end) ranges in the joined text, flat. */
  stderr: number[];
}

/** Pending output events; console text of one evaluation is merged (`ConsoleBatch`). */
let pending: Array<KernelEvent | ConsoleBatch> = [];
let flushTimer: NodeJS.Timeout | null = null;
let lastFlush = 0;
/** Console text sent in one output event at most (a larger batch is sent at once). */
const MAX_BATCH_CHARS = 1 << 18;

/** A buffer for a new batch (the last one sent, when it was not a big one). */
let spareBytes: Buffer | null = null;
function spare(): Buffer {
  const b = spareBytes ?? Buffer.allocUnsafe(64 * 1024);
  spareBytes = null;
  return b;
}

function batchEvent(b: ConsoleBatch): KernelEvent {
  const text = b.bytes.toString("utf8", 0, b.used);
  const allStderr = b.stderr.length === 2 && b.stderr[0] === 0 && b.stderr[1] === text.length;
  const output: Output =
    b.stderr.length === 0
      ? { type: "terminal", stream: "stdout", text }
      : allStderr
        ? { type: "terminal", stream: "stderr", text }
        : { type: "terminal", stream: "stdout", text, stderr: b.stderr };
  if (b.bytes.length <= 4 * MAX_BATCH_CHARS) spareBytes = b.bytes;
  return { type: "output", evalId: b.evalId, cellId: b.cellId, output };
}

function flush(): void {
  if (flushTimer) {
    clearTimeout(flushTimer);
    flushTimer = null;
  }
  const batch = pending;
  if (batch.length === 0) return;
  busy++;
  try {
    pending = [];
    if (slots) Atomics.store(slots, SLOT_PENDING, 0);
    // Throttle on output actually sent: the first output after a quiet 50 ms goes out at once
    // (so a line printed just before a long synchronous computation is seen during it).
    lastFlush = performance.now();
    for (const e of batch) sendNow("bytes" in e ? batchEvent(e) : e);
  } finally {
    busy--;
  }
}

// Output waiting while the main thread is blocked (a long synchronous cell) cannot be sent by
// the flush timer: the watchdog thread calls this through its inspector session, which runs it
// in the middle of the blocking code, unless the kernel's own output code is running.
Object.defineProperty(globalThis, Symbol.for("tsnb.flushFromWatchdog"), {
  value: () => {
    if (busy === 0) flush();
  },
  enumerable: false,
});

function queueOutput(event: KernelEvent): void {
  busy++;
  try {
    queueOutputUnguarded(event);
  } finally {
    busy--;
  }
}

function queueOutputUnguarded(event: KernelEvent): void {
  pending.push(event);
  afterQueued();
}

/** Console text of the current evaluation: appended to the batch waiting, if it is its own. */
function queueConsole(stream: "stdout" | "stderr", text: string): void {
  busy++;
  try {
    const ctx = currentContext();
    let last = pending[pending.length - 1];
    if (!last || !("bytes" in last) || last.evalId !== ctx.evalId) {
      last = {
        evalId: ctx.evalId,
        cellId: ctx.cellId,
        bytes: spare(),
        used: 0,
        length: 0,
        stderr: [],
      };
      pending.push(last);
    }
    if (stream === "stderr") {
      const r = last.stderr;
      if (r.length && r[r.length - 1] === last.length) r[r.length - 1] = last.length + text.length;
      else r.push(last.length, last.length + text.length);
    }
    if (last.used + text.length * 3 > last.bytes.length) {
      const bigger = Buffer.allocUnsafe(
        Math.max(last.bytes.length * 2, last.used + text.length * 3),
      );
      last.bytes.copy(bigger, 0, 0, last.used);
      last.bytes = bigger;
    }
    last.used += last.bytes.write(text, last.used, "utf8");
    last.length += text.length;
    if (last.length >= MAX_BATCH_CHARS) flush();
    else afterQueued();
  } finally {
    busy--;
  }
}

function afterQueued(): void {
  if (slots) Atomics.store(slots, SLOT_PENDING, 1);
  // A synchronous loop never lets the timer fire: flush from the write path when due (and the
  // watchdog flushes what is left when the loop stops printing).
  if (performance.now() - lastFlush >= FLUSH_MS) flush();
  else if (!flushTimer) {
    flushTimer = noContext(() => setTimeout(flush, FLUSH_MS));
    flushTimer.unref();
  }
}

/** Send an event that is not output: everything queued before it goes first. */
function send(event: KernelEvent): void {
  flush();
  sendNow(event);
}

// ---------------------------------------------------------------------------------------------
// attribution of output to evaluations

installContextTracking();
/** The most recent evaluation: output with no context (native callbacks) goes there. */
let lastContext: EvalContext = { evalId: "", cellId: "" };

function currentContext(): EvalContext {
  return runningContext() ?? lastContext;
}

function noContext<T>(fn: () => T): T {
  return runInContext(null, fn);
}

function emitOutput(output: Output, ctx = currentContext()): void {
  queueOutput({ type: "output", evalId: ctx.evalId, cellId: ctx.cellId, output });
}

function emitUpdate(update: OutputUpdate, ctx = currentContext()): void {
  queueOutput({ type: "output-update", evalId: ctx.evalId, cellId: ctx.cellId, update });
}

// console.* and direct writes to process.stdout/stderr become terminal output of the cell.
for (const stream of ["stdout", "stderr"] as const) {
  const s = process[stream];
  s.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
    const text =
      typeof chunk === "string"
        ? chunk
        : Buffer.from(chunk as Uint8Array).toString(
            typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8",
          );
    // Printed errors (console.error(err)) show notebook positions, not the kernel's frames.
    if (text.length) queueConsole(stream, text.includes("tsnbcell:///") ? mapStack(text) : text);
    const done = typeof encoding === "function" ? encoding : cb;
    if (typeof done === "function") afterWrite(done as () => void);
    return true;
  }) as typeof s.write;
}

// The global console's methods also report every call to the inspector session the kernel
// evaluates through (V8 builds a console message with a stack trace per call): that doubled the
// cost of printing. The methods of a plain Console on the same streams do only the printing; the
// global object stays (code that kept a reference to it, or patches it, still works).
{
  // Colours as the global console decides them ("auto": the kernel's stdout is a pipe, so only
  // FORCE_COLOR turns them on); without it, no per-call check.
  const plain = new Console({
    stdout: process.stdout,
    stderr: process.stderr,
    colorMode: process.env["FORCE_COLOR"] === undefined ? false : "auto",
  });
  for (const [name, fn] of Object.entries(plain))
    if (typeof fn === "function" && name in console)
      (console as unknown as Record<string, unknown>)[name] = fn;
}

/** Write callbacks, called together in one microtask (console.log passes one per call). */
let writeCallbacks: Array<() => void> = [];
function afterWrite(done: () => void): void {
  writeCallbacks.push(done);
  if (writeCallbacks.length === 1)
    queueMicrotask(() => {
      const calls = writeCallbacks;
      writeCallbacks = [];
      for (const f of calls) f();
    });
}

/** What the notebook standard library (stdlib/) talks to; shared across bundles via a global. */
export interface KernelBridge {
  /** Show an output in the current cell. */
  emit(output: Output): void;
  /** Update an output shown earlier (by its id). */
  update(update: OutputUpdate): void;
  /** An id unique within this kernel, for outputs that can be updated. */
  newId(prefix?: string): string;
  /** The output the kernel would show for a value (display protocol, table, inspector tree). */
  toOutput(value: unknown): Promise<Output>;
  /**
   * Aborted when the user interrupts the evaluation that is current where this is read (read it
   * synchronously when work starts: long-running library code such as a training loop checks it
   * between steps and stops cleanly, keeping what it has done).
   */
  readonly signal: AbortSignal | undefined;
  /**
   * Register an input made by the current cell (kernel/inputs.ts): its id is stable across
   * re-runs of the cell, and its value is the one the user set, else the default.
   */
  createInput(spec: InputSpec): { id: string; value: InputValue };
  /**
   * An input's current value; with `bind` (the default) a read by the running evaluation binds
   * its cell to the input (stale when it changes). Displaying an input does not bind.
   */
  readInput(id: string, bind?: boolean): InputValue;
  /**
   * Call `fn` with each event of a control or each change of an input (`{type: "change",
   * value}`), in the current cell's context, until the cell runs again or is interrupted.
   */
  subscribe(sourceId: string, fn: (event: unknown) => void): () => void;
  /** Aborted when the current cell runs again or is interrupted (background work stops). */
  readonly lifetime: AbortSignal;
}

// Installing an npm: package shows a progress line in the cell that imports it.
setInstallProgress(() => {
  const ctx = currentContext();
  const id = `npm-${++idCounter}`;
  return {
    start: (label) => emitOutput({ type: "progress", id, fraction: null, label }, ctx),
    done: (label) => emitUpdate({ type: "progress-set", id, fraction: 1, label }, ctx),
  };
});

/** One AbortController per evaluation, aborted on interrupt (see KernelBridge.signal). */
const aborts = new WeakMap<EvalContext, AbortController>();

let idCounter = 0;
/** Outputs from library or user code are checked here: a malformed one becomes a stderr note. */
function invalidOutput(err: unknown): Output {
  return { type: "terminal", stream: "stderr", text: `display: ${(err as Error).message}\n` };
}

const bridge: KernelBridge = {
  emit: (output) => {
    try {
      emitOutput(checkOutput(output, "displayed output"));
    } catch (err) {
      emitOutput(invalidOutput(err));
    }
  },
  update: (update) => {
    try {
      emitUpdate(checkUpdate(update, "output update"));
    } catch (err) {
      emitOutput(invalidOutput(err));
    }
  },
  newId: (prefix = "out") => `${prefix}-${process.pid}-${++idCounter}`,
  toOutput: (value) => toOutput(value, currentContext()),
  get signal() {
    return aborts.get(currentContext())?.signal;
  },
  createInput: (spec) => createInput(spec, currentContext()),
  readInput: (id, bind = true) => {
    const ctx = runningContext();
    return readInput(id, bind && running && !running.done && ctx === running.ctx ? ctx : null);
  },
  subscribe: (sourceId, fn) => subscribe(sourceId, fn, currentContext()),
  get lifetime() {
    return lifetimeOf(currentContext());
  },
};
Object.defineProperty(globalThis, Symbol.for("tsnb.kernel"), { value: bridge, enumerable: false });

let currentFile: string | undefined;
Object.defineProperty(globalThis, IMPORT_FN, {
  value: importModule,
  enumerable: false,
  writable: false,
});
if (!("require" in globalThis)) {
  Object.defineProperty(globalThis, "require", {
    value: notebookRequire(),
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
Object.defineProperty(globalThis, IMPORT_META, {
  get: () => importMeta(currentFile),
  enumerable: false,
});

// ---------------------------------------------------------------------------------------------
// errors

function errorOutputOf(err: unknown, interrupted = false): ErrorOutput {
  let name = "Error";
  let message: string;
  let stack: string;
  if (
    err instanceof Error ||
    (err && typeof err === "object" && "stack" in err && "message" in err)
  ) {
    const e = err as Error;
    name = String(e.name ?? "Error");
    message = String(e.message ?? "");
    stack = typeof e.stack === "string" ? e.stack : `${name}: ${message}`;
  } else {
    name = "Uncaught";
    message = inspect(err, { depth: 2 });
    stack = `Uncaught ${message}`;
  }
  const p = firstCellPosition(stack);
  const shown = userStack(stack);
  const out: ErrorOutput = { type: "error", name, message, stack: shown.stack };
  if (shown.fullStack !== undefined) out.fullStack = shown.fullStack;
  if (p) setErrorPosition(out, p);
  if (interrupted) out.interrupted = true;
  return out;
}

/** Put a mapped position on an error: in the file (the CLI's FILE:LINE:COL) and in its cell. */
function setErrorPosition(out: ErrorOutput, p: MappedPosition): void {
  out.location = { line: p.line, column: p.column };
  if (p.cellId !== undefined) out.cell = { cellId: p.cellId, line: p.cellLine, column: p.column };
}

// ---------------------------------------------------------------------------------------------
// evaluation

const session = new inspector.Session();
session.connect();

function post<T>(method: string, params: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

interface RemoteObject {
  type: string;
  subtype?: string;
  value?: unknown;
  unserializableValue?: string;
  objectId?: string;
  description?: string;
}

interface EvaluateResult {
  result: RemoteObject;
  exceptionDetails?: {
    text: string;
    url?: string;
    lineNumber: number;
    columnNumber: number;
    exception?: RemoteObject;
  };
}

const STASH = Symbol.for("tsnb.stash");

/** The real JS value behind a RemoteObject of this isolate. */
async function realValue(ro: RemoteObject): Promise<unknown> {
  if (ro.objectId) {
    await post("Runtime.callFunctionOn", {
      objectId: ro.objectId,
      functionDeclaration: `function () { "use strict"; globalThis[Symbol.for("tsnb.stash")] = this; }`,
      silent: true,
    });
    const g = globalThis as unknown as Record<symbol, unknown>;
    const v = g[STASH];
    g[STASH] = undefined;
    return v;
  }
  if (ro.unserializableValue !== undefined) {
    const u = ro.unserializableValue;
    if (u.endsWith("n")) return BigInt(u.slice(0, -1));
    return Number(u);
  }
  if (ro.type === "undefined") return undefined;
  return ro.value;
}

let seq = 0;
const queue: EvaluateRequest[] = [];

interface Running {
  req: EvaluateRequest;
  seq: number;
  ctx: EvalContext;
  t0: number;
  defines: string[];
  uses: string[];
  done: boolean;
  /** Resolves the wait on Runtime.evaluate early (interrupt of a pending await). */
  stopWaiting: ((how: "interrupted") => void) | null;
}
let running: Running | null = null;

let watchdogInstance: ReturnType<typeof startInterruptWatchdog> | null = null;
/** The interrupt watchdog thread, started right after the handshake (or on first use). */
function watchdog(): ReturnType<typeof startInterruptWatchdog> {
  if (!watchdogInstance) {
    watchdogInstance = createWatchdog();
    slots = watchdogInstance.shared;
    if (pending.length) Atomics.store(slots, SLOT_PENDING, 1);
  }
  return watchdogInstance;
}

const createWatchdog = () =>
  startInterruptWatchdog({
    onInterrupt(runningSeq) {
      // Reaching this handler means the main thread is free: the cell (if any) awaits something.
      if (running && running.seq === runningSeq) {
        running.stopWaiting?.("interrupted");
        finish(running, "interrupted", {
          error: interruptedError(),
        });
      } else if (!running) {
        // Nothing runs: an interrupt stops background work (listeners, intervals) of every cell.
        stopAll();
      }
    },
    onTerminated(runningSeq) {
      // Code stopped mid-callback never ran its promise hook `after`: start from a clean slate.
      resetContext();
      // The watchdog stopped JavaScript that would not yield; if that killed the evaluation's own
      // continuation, finish it here.
      if (running && running.seq === runningSeq) {
        running.stopWaiting?.("interrupted");
        finish(running, "interrupted", { error: interruptedError() });
      }
    },
  });

function interruptedError(): ErrorOutput {
  return {
    type: "error",
    name: "Interrupted",
    message: "Evaluation interrupted",
    stack: "Interrupted: Evaluation interrupted",
    interrupted: true,
  };
}

function finish(
  r: Running,
  status: EvaluationFinishedEvent["status"],
  extra: { result?: Output; resultText?: string; error?: ErrorOutput; bindings?: BindingInfo[] },
): void {
  if (r.done) return;
  r.done = true;
  if (status === "interrupted") {
    aborts.get(r.ctx)?.abort(new Error("Evaluation interrupted"));
    stopCell(r.req.cellId);
  }
  if (running === r) {
    running = null;
    Atomics.store(watchdog().shared, SLOT_RUNNING, 0);
    Atomics.store(watchdog().shared, SLOT_HOOKS, asyncHooksEnabled() ? 1 : 0);
  }
  const resolved = resolvedThisEvaluation();
  const event: EvaluationFinishedEvent = {
    type: "evaluation-finished",
    evalId: r.req.evalId,
    cellId: r.req.cellId,
    status,
    ...extra,
    ...(Object.keys(resolved).length ? { dependencies: resolved } : {}),
    defines: r.defines,
    uses: r.uses,
    inputs: evaluationFinished(r.ctx),
    durationMs: performance.now() - r.t0,
  };
  send(event);
  setImmediate(pump);
}

function pump(): void {
  if (running) return;
  const req = queue.shift();
  if (!req) return;
  void evaluate(req);
}

async function evaluate(req: EvaluateRequest): Promise<void> {
  const mySeq = ++seq;
  const ctx: EvalContext = { evalId: req.evalId, cellId: req.cellId };
  aborts.set(ctx, new AbortController());
  evaluationStarting(ctx);
  lastContext = ctx;
  currentFile = req.file;
  setImportingFile(req.file);
  setRecordedDependencies(req.dependencies);
  const r: Running = {
    req,
    seq: mySeq,
    ctx,
    t0: performance.now(),
    defines: [],
    uses: [],
    done: false,
    stopWaiting: null,
  };
  running = r;
  Atomics.store(watchdog().shared, SLOT_HOOKS, asyncHooksEnabled() ? 1 : 0);
  Atomics.store(watchdog().shared, SLOT_RUNNING, mySeq);
  send({ type: "evaluation-started", evalId: req.evalId, cellId: req.cellId });
  // A cell's first output goes out at once, even if another cell printed just before.
  lastFlush = -Infinity;
  const file = req.file ?? "cell";
  const line = req.line ?? 1;
  try {
    const redeclare: Redeclare = {};
    let compiled: CompiledCell;
    let outcome: { err: Error | null; res?: EvaluateResult } | "interrupted";
    for (let attempt = 0; ; attempt++) {
      try {
        compiled = await compileCell(req.code, `${file}:${line}`, redeclare);
      } catch (err) {
        if (err instanceof CellSyntaxError) {
          const loc = { line: line + err.line - 1, column: err.column + 1 };
          const error: ErrorOutput = {
            type: "error",
            name: "SyntaxError",
            message: err.message,
            stack: `SyntaxError: ${err.message}\n    at ${file}:${loc.line}:${loc.column}`,
            location: loc,
            cell: { cellId: req.cellId, line: err.line, column: loc.column },
          };
          const excerpt = codeExcerpt(req.code, line, loc);
          if (excerpt) error.excerpt = excerpt;
          finish(r, "error", { error });
          return;
        }
        throw err;
      }
      if (r.done) return;
      r.defines = compiled.defines;
      r.uses = compiled.uses;
      registerCell(mySeq, { file, line, map: compiled.map, cellId: req.cellId });
      const expression = `${compiled.js}\n//# sourceURL=${cellUrl(mySeq)}`;
      outcome = await new Promise<{ err: Error | null; res?: EvaluateResult } | "interrupted">(
        (resolve) => {
          r.stopWaiting = resolve;
          runInContext(ctx, () => {
            Atomics.store(watchdog().shared, SLOT_SYNC, mySeq);
            session.post(
              "Runtime.evaluate",
              {
                expression,
                replMode: true,
                awaitPromise: true,
                objectGroup: "tsnb",
                generatePreview: false,
              },
              (err, res) => resolve({ err, res: res as EvaluateResult }),
            );
            Atomics.store(watchdog().shared, SLOT_SYNC, 0);
          });
        },
      );
      r.stopWaiting = null;
      // A top-level name clashes with an earlier cell's binding of another kind (nothing ran yet):
      // declare it the way the existing binding is and try again.
      const clash = outcome !== "interrupted" && !outcome.err ? clashingName(outcome.res!) : null;
      if (clash && attempt < 20 && redeclare[clash] !== "var" && redeclare[clash] !== "const") {
        // An existing var/function is a property of the global object; otherwise it is lexical,
        // and V8 may accept only `const` over an earlier `const`.
        redeclare[clash] = Object.getOwnPropertyDescriptor(globalThis, clash)
          ? "var"
          : redeclare[clash] === "let"
            ? "const"
            : "let";
        continue;
      }
      break;
    }
    if (outcome === "interrupted" || r.done) return;
    if (outcome.err) {
      // "Execution was terminated": the watchdog stopped a synchronous loop.
      const interrupted = /terminated/i.test(outcome.err.message);
      finish(r, interrupted ? "interrupted" : "error", {
        error: interrupted ? interruptedError() : errorOutputOf(outcome.err),
      });
      return;
    }
    const res = outcome.res!;
    if (res.exceptionDetails) {
      const ex = res.exceptionDetails;
      const thrown = ex.exception
        ? await runInContext(ctx, () => realValue(ex.exception!))
        : new Error(ex.text);
      const error = errorOutputOf(thrown);
      // Compile errors of V8 itself have no cell frame: use the exception's position, when it is
      // in the cell (an error thrown elsewhere, e.g. by a failing import, has its position there).
      if (!error.location && (ex.url === undefined || ex.url === cellUrl(mySeq))) {
        const p = mapPosition(mySeq, ex.lineNumber + 1, ex.columnNumber + 1);
        if (p) {
          setErrorPosition(error, p);
          if (!error.stack.includes(`${p.file}:`))
            error.stack += `\n    at ${p.file}:${p.line}:${p.column}`;
        }
      }
      if (error.name === "SyntaxError" && error.location) {
        const excerpt = codeExcerpt(req.code, line, error.location);
        if (excerpt) error.excerpt = excerpt;
      }
      finish(r, "error", { error });
      return;
    }
    if (!compiled.hasResult) {
      finish(r, "ok", { bindings: await scanDefines(r) });
      return;
    }
    let value = await realValue(res.result);
    // A promise as the last expression is awaited (a rejected one fails the cell).
    if (
      value !== null &&
      typeof value === "object" &&
      typeof (value as PromiseLike<unknown>).then === "function"
    ) {
      try {
        value = await runInContext(ctx, () =>
          Promise.race([
            value as PromiseLike<unknown>,
            new Promise((res2) => (r.stopWaiting = () => res2(ABORTED))),
          ]),
        );
      } catch (err) {
        finish(r, "error", { error: errorOutputOf(err) });
        return;
      }
      if (value === ABORTED || r.done) return;
    }
    if (value === undefined) {
      finish(r, "ok", { bindings: await scanDefines(r) });
      return;
    }
    const result = await runInContext(ctx, () => toOutput(value, ctx));
    // A value that chooses its own output (display protocol) is shown as that output in text
    // too (`tsnb run`), not as its internals.
    const ownDisplay =
      typeof value === "object" &&
      value !== null &&
      typeof (value as Record<symbol, unknown>)[Symbol.for("tsnb.display")] === "function";
    finish(r, "ok", {
      result,
      resultText: ownDisplay ? undefined : inspectText(value),
      bindings: await scanDefines(r),
    });
  } catch (err) {
    finish(r, "error", { error: errorOutputOf(err) });
  } finally {
    void post("Runtime.releaseObjectGroup", { objectGroup: "tsnb" }).catch(() => {});
  }
}
const ABORTED = Symbol("aborted");

/** The binding scan of the names the cell defined (kernel/scan.ts), read through V8's REPL scope. */
async function scanDefines(r: Running): Promise<BindingInfo[]> {
  if (r.done || r.defines.length === 0) return [];
  return scanBindings(r.defines, async (name) => {
    const res = await post<EvaluateResult>("Runtime.evaluate", {
      expression: name,
      replMode: true,
      objectGroup: "tsnb",
      silent: true,
      throwOnSideEffect: true,
    });
    if (res.exceptionDetails) throw new Error(res.exceptionDetails.text);
    return realValue(res.result);
  });
}

/** The name in V8's "Identifier 'x' has already been declared" (a SyntaxError before running). */
function clashingName(res: EvaluateResult): string | null {
  const ex = res.exceptionDetails;
  if (!ex?.exception || ex.exception.subtype !== "error") return null;
  const m = /^SyntaxError: Identifier '([^']+)' has already been declared/.exec(
    ex.exception.description ?? "",
  );
  return m ? m[1]! : null;
}

// ---------------------------------------------------------------------------------------------
// requests

function handle(req: KernelRequest): void {
  switch (req.type) {
    case "evaluate":
      queue.push(req);
      pump();
      break;
    case "table-page": {
      const page = tablePageFor(req.tableId, req.offset, req.limit, req.sort);
      if (!page) send({ type: "protocol-error", message: `unknown table ${req.tableId}` });
      else {
        send({
          type: "output-update",
          evalId: page.evalId,
          cellId: page.cellId,
          update: {
            type: "table-page",
            id: req.tableId,
            offset: req.offset,
            rows: page.rows,
            ...(req.sort ? { sort: req.sort } : {}),
          },
        });
      }
      break;
    }
    case "set-input":
      setInput(req.inputId, req.value);
      break;
    case "input-overrides":
      setOverrides(req.byLabel);
      break;
    case "control-event":
      controlEvent(req.controlId, { ...req.event, origin: req.origin });
      break;
    case "shutdown":
      flush();
      process.exit(0);
      break;
    default:
      assertNever(req, "request");
  }
}

let inbox = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  inbox += chunk;
  let nl: number;
  while ((nl = inbox.indexOf("\n")) >= 0) {
    const line = inbox.slice(0, nl);
    inbox = inbox.slice(nl + 1);
    if (!line.trim()) continue;
    let req: KernelRequest;
    try {
      req = parseKernelRequest(line);
    } catch (err) {
      send({
        type: "protocol-error",
        message: err instanceof ProtocolError ? err.message : String(err),
      });
      continue;
    }
    handle(req);
  }
});
// The parent went away: nothing can see our output any more.
process.stdin.on("end", () => {
  flush();
  process.exit(0);
});

// An exception no evaluation awaits (thrown in a timer, a callback, an event handler) and a promise
// rejection nobody handles are errors of the cell that started that work, as in Node's REPL: the
// kernel lives on. A cell still running fails now; one that finished gets the error as an output
// (the session marks it failed, `tsnb run` exits 1).
process.on("uncaughtException", (err) => {
  reportBackgroundError(err, "exception", contextOfThrown(err) ?? runningContext());
});
process.on("unhandledRejection", (reason, promise) => {
  reportBackgroundError(reason, "rejection", contextOfPromise(promise) ?? runningContext());
});

function reportBackgroundError(
  err: unknown,
  kind: "exception" | "rejection",
  ctx: EvalContext | null,
): void {
  const owner = ctx && ctx.evalId ? ctx : running ? running.ctx : lastContext;
  let error: ErrorOutput;
  try {
    error = { ...errorOutputOf(err), uncaught: kind };
  } catch {
    error = { type: "error", name: "Error", message: String(err), stack: "", uncaught: kind };
  }
  if (!owner.evalId) {
    // Nothing ran yet: nobody to tell but the kernel's stderr (kept by the client).
    writeAll(2, `uncaught ${error.name}: ${error.message}\n`);
    return;
  }
  // Library loops of that cell (a training run) stop as on an interrupt: the cell failed.
  aborts.get(owner)?.abort(err);
  if (running && running.ctx === owner) {
    running.stopWaiting?.("interrupted");
    finish(running, "error", { error });
  } else emitOutput(error, owner);
}
// Ctrl+C in a terminal reaches the whole process group: the parent decides (tsnb run interrupts).
process.on("SIGINT", () => {});
process.on("exit", () => {
  try {
    flush();
  } catch {
    // the parent is gone
  }
});

send({
  type: "hello",
  protocolVersion: KERNEL_PROTOCOL_VERSION,
  pid: process.pid,
  node: process.version,
});
// Start esbuild's service after the handshake, so a kernel is ready as fast as Node starts.
setImmediate(() => {
  watchdog();
  void warmUpEsbuild().catch(() => {});
});
