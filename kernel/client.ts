/**
 * The parent side of a kernel: `KernelProcess` spawns dist/kernel.mjs, checks its handshake,
 * sends evaluations one at a time in order, and reports the kernel's death. Used by the server
 * and by `tsnb run`.
 *
 *   const k = new KernelProcess({ cwd: notebookDir });
 *   await k.start();
 *   const fin = await k.evaluate({ evalId, cellId, code, file, line }, (event) => …);
 *   k.interrupt(); await k.restart(); await k.stop();
 *   k.onDeath((death) => …);
 *
 * `evaluate()` before `start()` starts the kernel; after a death, evaluations resolve as aborted
 * until `restart()`.
 *
 * Invariants: every `evaluate()` promise settles — resolved with the kernel's
 * `evaluation-finished`, or with a synthesized one of status `aborted` when the kernel dies, is
 * stopped or restarted first. It never rejects. `onEvent` also receives outputs that arrive after
 * the evaluation finished (timers the cell started).
 */

import type { TableSort } from "../core/outputs.ts";
import type { ControlEvent, InputValue } from "../core/inputs.ts";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";
import { assertNever } from "../core/notebook.ts";
import {
  KERNEL_PROTOCOL_VERSION,
  parseKernelEvent,
  type EvaluateRequest,
  type EvaluationFinishedEvent,
  type HelloEvent,
  type KernelEvent,
  type KernelRequest,
  type OutputUpdateEvent,
} from "../core/kernel-protocol.ts";

/** Why a kernel is gone. */
export interface KernelDeath {
  reason:
    | "exit"
    | "signal"
    | "out-of-memory"
    | "crash"
    | "interrupted"
    | "spawn-failed"
    | "protocol-error"
    | "stopped";
  /** Exit code, when it exited. */
  code: number | null;
  /** Signal that killed it, e.g. "SIGKILL". */
  signal: string | null;
  /** A sentence for the user, e.g. "the kernel ran out of memory". */
  message: string;
  /** Last lines the kernel wrote to stderr (crash traces of Node/V8). */
  stderr: string;
}

export interface KernelOptions {
  /** The notebook's folder: the kernel's cwd, where relative imports and packages resolve. */
  cwd?: string;
  /** Path of dist/kernel.mjs; by default next to this module's bundle, or <repo>/dist. */
  kernelPath?: string;
  /** Extra Node flags, e.g. ["--max-old-space-size=64"]. */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long start() waits for the handshake (ms). Default 20 s. */
  startTimeoutMs?: number;
  /**
   * Where the kernel runs: by default a child process of this one (`spawnLocal`); a remote
   * runtime (kernel/remote.ts) gives a `KernelChild` that carries the same lines elsewhere.
   */
  spawn?: (options: KernelOptions) => KernelChild;
}

/**
 * A running kernel as `KernelProcess` drives it: JSON lines of requests in, JSON lines of events
 * out, interrupts on their own channel (so they overtake a busy request stream), text the kernel
 * writes outside the protocol, and an exit. A local child process is one; a kernel on a Jupyter
 * server reached through its WebSocket is another.
 */
export interface KernelChild {
  /** Requests, one JSON line each. */
  readonly requests: Writable;
  /** Events, one JSON line each. */
  readonly events: Readable;
  /** `{"type":"interrupt"}` lines. */
  readonly interrupts: Writable;
  /** Text outside the protocol (Node's crash traces), kept for death reports. */
  readonly output: Readable[];
  /** Why it ended when that was not the kernel's doing (a lost connection), set before "exit". */
  readonly failure?: string | null;
  /** The local process id (a child process has one; a remote kernel does not). */
  readonly pid?: number | undefined;
  kill(signal?: NodeJS.Signals): void;
  on(event: "exit", listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
}

/** The default: dist/kernel.mjs as a child process, protocol on fds 0/3/4. */
export function spawnLocal(options: KernelOptions): KernelChild {
  const kernelPath = options.kernelPath ?? defaultKernelPath();
  const child = spawn(process.execPath, [...(options.execArgv ?? []), kernelPath], {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    stdio: ["pipe", "pipe", "pipe", "pipe", "pipe"],
  });
  return Object.assign(child, {
    requests: child.stdin!,
    events: child.stdio[3] as Readable,
    interrupts: child.stdio[4] as Writable,
    output: [child.stderr!, child.stdout!],
  });
}

type EventListener = (event: KernelEvent) => void;

interface Pending {
  req: EvaluateRequest;
  onEvent?: (event: KernelEvent) => void;
  resolve: (fin: EvaluationFinishedEvent) => void;
}

/** Where dist/kernel.mjs is: next to the running bundle (dist/cli.mjs), or under the repo root. */
export function defaultKernelPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "kernel.mjs"), join(here, "..", "dist", "kernel.mjs")]) {
    if (existsSync(candidate)) return candidate;
  }
  return join(here, "..", "dist", "kernel.mjs");
}

export class KernelProcess {
  private child: KernelChild | null = null;
  private requests: Writable | null = null;
  private interruptPipe: Writable | null = null;
  private hello: HelloEvent | null = null;
  private queue: Pending[] = [];
  private inFlight: Pending | null = null;
  /** Evaluations that finished, for outputs arriving later (bounded). */
  private late = new Map<string, (event: KernelEvent) => void>();
  private listeners = new Set<EventListener>();
  private deathListeners = new Set<(death: KernelDeath) => void>();
  private stderrTail = "";
  private crash: { message: string; stack: string; interrupted?: boolean } | null = null;
  private stopping = false;
  private interruptedAt = 0;
  private exited: Promise<void> = Promise.resolve();
  private startPromise: Promise<HelloEvent> | null = null;
  /** How the last kernel ended, or null while one runs. */
  death: KernelDeath | null = null;

  constructor(private readonly options: KernelOptions = {}) {}

  /** The kernel's handshake, once started. */
  get info(): HelloEvent | null {
    return this.hello;
  }

  /** The kernel process's id while one runs (for the running-sessions view's memory figure). */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.hello !== null && this.death === null;
  }

  /** Every event of every evaluation (and table pages); returns an unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the kernel dies (not when stop() or restart() end it on purpose). */
  onDeath(listener: (death: KernelDeath) => void): () => void {
    this.deathListeners.add(listener);
    return () => this.deathListeners.delete(listener);
  }

  /** Spawn the kernel; resolves after the version handshake. Rejects when it cannot start. */
  start(): Promise<HelloEvent> {
    if (this.startPromise) return this.startPromise;
    this.death = null;
    this.stopping = false;
    this.crash = null;
    this.stderrTail = "";
    let child: KernelChild;
    try {
      child = (this.options.spawn ?? spawnLocal)(this.options);
    } catch (err) {
      this.died({
        reason: "spawn-failed",
        code: null,
        signal: null,
        message: `the kernel could not start: ${(err as Error).message}`,
        stderr: "",
      });
      return Promise.reject(err as Error);
    }
    this.child = child;
    this.requests = child.requests;
    this.interruptPipe = child.interrupts;
    child.requests.on("error", () => {});
    this.interruptPipe.on("error", () => {});
    let resolveExit!: () => void;
    this.exited = new Promise((r) => (resolveExit = r));

    this.startPromise = new Promise<HelloEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`the kernel did not start within ${this.options.startTimeoutMs ?? 20_000} ms`),
        );
        child.kill("SIGKILL");
      }, this.options.startTimeoutMs ?? 20_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };

      // Text the kernel writes outside console (Node's own crash traces): keep the tail.
      const keepTail = (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-8000);
      };
      for (const stream of child.output) stream.on("data", keepTail);

      let buf = "";
      const fromKernel = child.events;
      fromKernel.setEncoding("utf8");
      fromKernel.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let event: KernelEvent;
          try {
            event = parseKernelEvent(line);
          } catch (err) {
            this.kill(
              "protocol-error",
              `the kernel sent a malformed message: ${(err as Error).message}`,
            );
            fail(err as Error);
            return;
          }
          if (event.type === "hello") {
            if (event.protocolVersion !== KERNEL_PROTOCOL_VERSION) {
              const msg = `kernel protocol version ${event.protocolVersion} does not match ${KERNEL_PROTOCOL_VERSION}`;
              this.kill("protocol-error", msg);
              fail(new Error(msg));
              return;
            }
            this.hello = event;
            clearTimeout(timer);
            resolve(event);
            this.sendNext();
            continue;
          }
          this.dispatch(event);
        }
      });

      child.on("error", (err) => {
        fail(err);
        this.died({
          reason: "spawn-failed",
          code: null,
          signal: null,
          message: `the kernel could not start: ${err.message}`,
          stderr: "",
        });
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        // Let the last events (crash) drain before deciding the reason.
        setImmediate(() => {
          resolveExit();
          if (!this.hello)
            fail(
              new Error(
                `the kernel exited before it was ready (${signal ?? `code ${code}`}): ${this.stderrTail.trim().slice(-500)}`,
              ),
            );
          this.died(this.deathOf(code, signal));
        });
      });
    });
    return this.startPromise;
  }

  private deathOf(code: number | null, signal: NodeJS.Signals | null): KernelDeath {
    const stderr = this.stderrTail;
    if (this.stopping)
      return { reason: "stopped", code, signal, message: "the kernel was stopped", stderr };
    if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
      return {
        reason: "out-of-memory",
        code,
        signal,
        message: "the kernel ran out of memory (JavaScript heap out of memory)",
        stderr,
      };
    }
    // Stopping code in a Node callback can leave Node's async bookkeeping broken, which Node
    // treats as fatal: after an interrupt, that is the interrupt's doing.
    if (
      Date.now() - this.interruptedAt < 10_000 &&
      /async hook stack has become corrupted|InternalCallbackScope/.test(stderr)
    ) {
      return {
        reason: "interrupted",
        code,
        signal,
        message:
          "the kernel was stopped by an interrupt: the code was running in a Node callback, where it cannot be stopped safely; its state is lost",
        stderr,
      };
    }
    if (this.crash?.interrupted) {
      return {
        reason: "interrupted",
        code,
        signal,
        message: `the kernel was stopped by an interrupt: ${this.crash.message.replace(/^Interrupted: /, "")}`,
        stderr,
      };
    }
    const failure = this.child?.failure;
    if (failure && !this.crash) return { reason: "exit", code, signal, message: failure, stderr };
    if (this.crash) {
      return {
        reason: "crash",
        code,
        signal,
        message: `the kernel crashed: uncaught ${this.crash.message}`,
        stderr: this.crash.stack,
      };
    }
    if (signal)
      return {
        reason: "signal",
        code,
        signal,
        message: `the kernel was killed by ${signal}`,
        stderr,
      };
    return { reason: "exit", code, signal, message: `the kernel exited with code ${code}`, stderr };
  }

  private died(death: KernelDeath): void {
    if (this.death) return;
    this.death = death;
    this.child = null;
    this.hello = null;
    this.startPromise = null;
    const pending = [...(this.inFlight ? [this.inFlight] : []), ...this.queue];
    this.inFlight = null;
    this.queue = [];
    for (const p of pending) p.resolve(aborted(p.req, death.message));
    if (death.reason !== "stopped") for (const l of this.deathListeners) l(death);
  }

  private dispatch(event: KernelEvent): void {
    for (const l of this.listeners) l(event);
    switch (event.type) {
      case "evaluation-started":
      case "output":
      case "output-update": {
        const p = this.inFlight && this.inFlight.req.evalId === event.evalId ? this.inFlight : null;
        const to = p?.onEvent ?? this.late.get(event.evalId);
        to?.(event);
        break;
      }
      case "evaluation-finished": {
        const p = this.inFlight;
        if (p && p.req.evalId === event.evalId) {
          this.inFlight = null;
          p.onEvent?.(event);
          if (p.onEvent) {
            this.late.set(event.evalId, p.onEvent);
            if (this.late.size > 1000) this.late.delete(this.late.keys().next().value!);
          }
          p.resolve(event);
          this.sendNext();
        }
        break;
      }
      case "crash":
        this.crash = {
          message: event.message,
          stack: event.stack,
          interrupted: event.interrupted === true,
        };
        break;
      case "protocol-error":
      case "hello":
        break;
      default:
        assertNever(event, "kernel event");
    }
  }

  private write(req: KernelRequest): void {
    this.requests?.write(JSON.stringify(req) + "\n");
  }

  /**
   * Send a request as it is, outside the evaluation queue: its events reach `onEvent`
   * listeners. For bridges that relay another client's requests (kernel/jupyter.ts).
   */
  send(req: KernelRequest): void {
    this.write(req);
  }

  private sendNext(): void {
    if (this.inFlight || !this.hello) return;
    const next = this.queue.shift();
    if (!next) return;
    this.inFlight = next;
    this.write(next.req);
  }

  /**
   * Evaluate a cell after those queued before it. Resolves with its `evaluation-finished`
   * (status `aborted` when the kernel dies or is stopped first); never rejects.
   */
  evaluate(
    req: Omit<EvaluateRequest, "type">,
    onEvent?: (event: KernelEvent) => void,
  ): Promise<EvaluationFinishedEvent> {
    const full: EvaluateRequest = { type: "evaluate", ...req };
    if (this.death && !this.startPromise) return Promise.resolve(aborted(full, this.death.message));
    // Never started: start now (a failure to start aborts the queued evaluations).
    if (!this.startPromise) void this.start().catch(() => {});
    return new Promise((resolve) => {
      this.queue.push({ req: full, onEvent, resolve });
      this.sendNext();
    });
  }

  /**
   * Tell the kernel an input's value (validated by the caller). Sent at once, ahead of queued
   * evaluations; before `start()` it is lost (call it after starting).
   */
  setInput(inputId: string, value: InputValue): void {
    this.write({ type: "set-input", inputId, value });
  }

  /** Values for inputs by label, as text (`tsnb run --input LABEL=VALUE`). */
  setInputOverrides(byLabel: Record<string, string>): void {
    this.write({ type: "input-overrides", byLabel });
  }

  /** A window used a control; `origin` is its client id. */
  controlEvent(controlId: string, event: ControlEvent, origin: string): void {
    this.write({ type: "control-event", controlId, event, origin });
  }

  /** Stop the running evaluation (queued ones still run). No effect when none runs. */
  interrupt(): void {
    this.interruptedAt = Date.now();
    this.interruptPipe?.write(JSON.stringify({ type: "interrupt" }) + "\n");
  }

  /** Drop evaluations that have not started yet (they resolve as aborted). */
  cancelQueued(reason = "cancelled"): void {
    const q = this.queue;
    this.queue = [];
    for (const p of q) p.resolve(aborted(p.req, reason));
  }

  /** Ask for another page of a table output; the answer arrives as an `output-update` event. */
  requestTablePage(
    tableId: string,
    offset: number,
    limit: number,
    sort?: TableSort,
  ): Promise<OutputUpdateEvent | null> {
    const sortKey = (s: TableSort | undefined) => (s ? `${s.descending}:${s.column}` : "");
    return new Promise((resolve) => {
      const off = this.onEvent((e) => {
        if (
          e.type === "output-update" &&
          e.update.type === "table-page" &&
          e.update.id === tableId &&
          e.update.offset === offset &&
          sortKey(e.update.sort) === sortKey(sort)
        ) {
          off();
          resolve(e);
        } else if (e.type === "protocol-error" && e.message.includes(tableId)) {
          off();
          resolve(null);
        }
      });
      this.write({ type: "table-page", tableId, offset, limit, ...(sort ? { sort } : {}) });
    });
  }

  /** End the kernel (pending evaluations resolve as aborted). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    this.write({ type: "shutdown" });
    const timer = setTimeout(() => child.kill("SIGKILL"), 1000);
    await this.exited;
    clearTimeout(timer);
  }

  /** A fresh kernel: stop this one (its state is lost) and start another. */
  async restart(): Promise<HelloEvent> {
    await this.stop();
    this.startPromise = null;
    return this.start();
  }

  /** Kill the process now with SIGKILL (for tests and stuck kernels). */
  kill(reason: KernelDeath["reason"] = "signal", message?: string): void {
    const child = this.child;
    if (!child) return;
    if (message) this.crash = { message, stack: "" };
    if (reason === "protocol-error" && message) {
      this.died({ reason, code: null, signal: "SIGKILL", message, stderr: this.stderrTail });
    }
    child.kill("SIGKILL");
  }
}

function aborted(req: EvaluateRequest, why: string): EvaluationFinishedEvent {
  return {
    type: "evaluation-finished",
    evalId: req.evalId,
    cellId: req.cellId,
    status: "aborted",
    error: { type: "error", name: "Aborted", message: why, stack: `Aborted: ${why}` },
    defines: [],
    uses: [],
    inputs: [],
    durationMs: 0,
  };
}
