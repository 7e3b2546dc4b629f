/**
 * The default `KernelFactory`: one kernel process (`KernelProcess` from kernel/client.ts) per
 * session, started lazily on the first evaluation and again after it died or was restarted.
 *
 * Invariants: events of a process that is no longer the current one (stopped, restarted, dead)
 * are dropped; every evaluation ends in `sink.finished` or, when the process dies, in
 * `sink.status("dead", reason)` (the reducer then aborts the running cell).
 * An interrupt before the kernel reported the evaluation started cancels it (it never runs).
 * Inputs: values go to the kernel as `set-input` requests; a freshly spawned process first gets
 * every value the session holds (`KernelOptions.inputValues`), so re-running a cell after a
 * restart reads what the user had set.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ControlEvent, InputValue } from "../core/inputs.ts";
import type { TableSort } from "../core/outputs.ts";
import { KernelProcess } from "../kernel/client.ts";
import { jupyterChild } from "../kernel/remote.ts";
import type {
  EvaluationRequest,
  KernelFactory,
  KernelOptions,
  KernelSink,
  SessionKernel,
} from "./kernel-runner.ts";
import { packageRoot } from "./static.ts";

/** The evaluation last handed to the kernel, until it finishes. */
interface Current {
  evaluationId: number;
  /** The kernel reported `evaluation-started` (its code runs). */
  started: boolean;
  /** The user interrupted it before it started. */
  interrupted: boolean;
}

class KernelProcessAdapter implements SessionKernel {
  private proc: KernelProcess | null = null;
  private current: Current | null = null;

  constructor(
    private readonly sink: KernelSink,
    private readonly options: KernelOptions,
  ) {}

  private kernelPath(): string | undefined {
    const p = join(packageRoot(), "dist", "kernel.mjs");
    return existsSync(p) ? p : undefined;
  }

  /** The current process, starting one when there is none. */
  private ensure(): KernelProcess {
    if (this.proc && !this.proc.death) return this.proc;
    const kernelPath = this.kernelPath();
    const runtime = this.options.runtime?.() ?? null;
    const proc = new KernelProcess({
      cwd: this.options.cwd,
      ...(kernelPath ? { kernelPath } : {}),
      // On a Jupyter server: its reconnect notices go to the server's log, its end to the sink.
      ...(runtime
        ? { spawn: jupyterChild(runtime, (l) => process.stderr.write(`tsnb: ${l}\n`)) }
        : {}),
    });
    this.proc = proc;
    let reported = false;
    const dead = (reason: string) => {
      if (reported || this.proc !== proc) return;
      reported = true;
      this.proc = null;
      this.sink.status("dead", reason);
    };
    proc.onDeath((death) => dead(death.message));
    this.sink.status("starting");
    // Spawned synchronously by start(): requests written now precede every evaluation.
    const started = proc.start();
    for (const [id, value] of Object.entries(this.options.inputValues?.() ?? {}))
      proc.setInput(id, value);
    started.then(
      () => {
        if (this.proc === proc && !reported) this.sink.status("idle");
      },
      (e: Error) => dead(`the kernel could not start: ${e.message}`),
    );
    return proc;
  }

  evaluate(req: EvaluationRequest): void {
    const proc = this.ensure();
    const { cellId, evaluationId } = req;
    const current: Current = { evaluationId, started: false, interrupted: false };
    this.current = current;
    void proc
      .evaluate(
        {
          evalId: String(evaluationId),
          cellId,
          code: req.code,
          file: req.file,
          line: req.line,
          ...(req.dependencies && Object.keys(req.dependencies).length
            ? { dependencies: req.dependencies }
            : {}),
        },
        (event) => {
          if (this.proc !== proc) return;
          switch (event.type) {
            case "evaluation-started":
              current.started = true;
              // Interrupted after it was sent but before it started: the kernel may have seen the
              // interrupt while nothing ran, so say it again now that the code runs.
              if (current.interrupted) proc.interrupt();
              this.sink.started(cellId, evaluationId);
              break;
            case "output":
              this.sink.output(event.cellId, event.output);
              break;
            case "output-update":
              this.sink.update(event.update, event.cellId);
              break;
            default:
              break;
          }
        },
      )
      .then((fin) => {
        if (this.current === current) this.current = null;
        if (this.proc !== proc) return; // restarted or stopped: the session already aborted the cell
        if (fin.status === "aborted" && current.interrupted && !current.started && !proc.death) {
          // Cancelled by `interrupt` while the kernel was starting: it never ran.
          this.sink.finished({
            cellId,
            evaluationId,
            status: "interrupted",
            result: null,
            defines: [],
            uses: [],
            inputs: [],
            durationMs: 0,
          });
          return;
        }
        if (fin.status === "aborted") {
          // The process died: its death is reported through onDeath (status "dead").
          if (proc.death) return;
          this.sink.finished({
            cellId,
            evaluationId,
            status: "error",
            result: fin.error ?? null,
            defines: [],
            uses: [],
            inputs: [],
            durationMs: fin.durationMs,
          });
          return;
        }
        this.sink.finished({
          cellId,
          evaluationId,
          status: fin.status,
          result: fin.status === "ok" ? (fin.result ?? null) : (fin.error ?? null),
          defines: fin.defines,
          uses: fin.uses,
          inputs: fin.inputs,
          durationMs: fin.durationMs,
          ...(fin.bindings && fin.bindings.length > 0 ? { bindings: fin.bindings } : {}),
          ...(fin.dependencies ? { dependencies: fin.dependencies } : {}),
        });
      });
  }

  /**
   * Interrupt the current evaluation. One that has not started yet (the kernel process is still
   * starting, or busy finishing the previous one) is cancelled: it never runs, and finishes as
   * `interrupted` — as a user who pressed Interrupt before anything ran expects.
   */
  interrupt(): void {
    const proc = this.proc;
    if (!proc) return;
    const current = this.current;
    if (current && !current.started) {
      current.interrupted = true;
      // Still queued in the client (before the kernel's handshake): dropped, resolves as aborted.
      proc.cancelQueued("interrupted before it started");
      return;
    }
    proc.interrupt();
  }

  async restart(): Promise<void> {
    const old = this.proc;
    this.proc = null;
    this.sink.status("not-started", "restarted");
    await old?.stop();
    if (!this.proc) this.ensure();
  }

  async stop(): Promise<void> {
    const old = this.proc;
    this.proc = null;
    await old?.stop();
  }

  setInputValue(inputId: string, value: InputValue): void {
    if (this.proc && !this.proc.death) this.proc.setInput(inputId, value);
  }

  controlEvent(controlId: string, event: ControlEvent, origin: string): void {
    if (this.proc && !this.proc.death) this.proc.controlEvent(controlId, event, origin);
  }

  async memoryBytes(): Promise<number | null> {
    const pid = this.proc && !this.proc.death ? this.proc.pid : null;
    return pid === null ? null : residentMemory(pid);
  }

  async tablePage(
    tableId: string,
    offset: number,
    limit: number,
    sort?: TableSort,
  ): Promise<{ rows: unknown[][] }> {
    if (!this.proc || this.proc.death) throw new Error("the kernel is not running");
    const event = await this.proc.requestTablePage(tableId, offset, limit, sort);
    if (!event || event.update.type !== "table-page")
      throw new Error(`the kernel has no table ${tableId}`);
    return { rows: event.update.rows };
  }
}

export const kernelProcessFactory: KernelFactory = (sink, options) =>
  new KernelProcessAdapter(sink, options);

/** Resident set size of a process in bytes: /proc on Linux, `ps` elsewhere; null when unknown. */
export async function residentMemory(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux, or the process is gone
  }
  if (process.platform === "win32") return null;
  return new Promise((resolve) => {
    execFile("ps", ["-o", "rss=", "-p", String(pid)], { timeout: 2000 }, (err, out) => {
      const kb = Number(String(out).trim());
      resolve(err || !Number.isFinite(kb) || kb <= 0 ? null : kb * 1024);
    });
  });
}
