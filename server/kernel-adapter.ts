/**
 * The default `KernelFactory`: one kernel process (`KernelProcess` from kernel/client.ts) per
 * session, started lazily on the first evaluation and again after it died or was restarted.
 *
 * Invariants: events of a process that is no longer the current one (stopped, restarted, dead)
 * are dropped; every evaluation ends in `sink.finished` or, when the process dies, in
 * `sink.status("dead", reason)` (the reducer then aborts the running cell).
 * Inputs: the kernel protocol has no message for input values yet, so `setInputValue` only
 * changes what the session shows (documented limitation).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { KernelProcess } from "../kernel/client.ts";
import type { EvaluationRequest, KernelFactory, KernelOptions, KernelSink, SessionKernel } from "./kernel-runner.ts";
import { packageRoot } from "./static.ts";

class KernelProcessAdapter implements SessionKernel {
  private proc: KernelProcess | null = null;

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
    const proc = new KernelProcess({ cwd: this.options.cwd, ...(kernelPath ? { kernelPath } : {}) });
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
    proc.start().then(
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
    void proc
      .evaluate({ evalId: String(evaluationId), cellId, code: req.code, file: req.file, line: req.line }, (event) => {
        if (this.proc !== proc) return;
        switch (event.type) {
          case "evaluation-started":
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
      })
      .then((fin) => {
        if (this.proc !== proc) return; // restarted or stopped: the session already aborted the cell
        if (fin.status === "aborted") {
          // The process died: its death is reported through onDeath (status "dead").
          if (proc.death) return;
          this.sink.finished({ cellId, evaluationId, status: "error", result: fin.error ?? null, defines: [], uses: [], durationMs: fin.durationMs });
          return;
        }
        this.sink.finished({
          cellId,
          evaluationId,
          status: fin.status,
          result: fin.status === "ok" ? (fin.result ?? null) : (fin.error ?? null),
          defines: fin.defines,
          uses: fin.uses,
          durationMs: fin.durationMs,
        });
      });
  }

  interrupt(): void {
    this.proc?.interrupt();
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

  setInputValue(): void {}

  async tablePage(tableId: string, offset: number, limit: number): Promise<{ rows: unknown[][] }> {
    if (!this.proc || this.proc.death) throw new Error("the kernel is not running");
    const event = await this.proc.requestTablePage(tableId, offset, limit);
    if (!event || event.update.type !== "table-page") throw new Error(`the kernel has no table ${tableId}`);
    return { rows: event.update.rows };
  }
}

export const kernelProcessFactory: KernelFactory = (sink, options) => new KernelProcessAdapter(sink, options);
