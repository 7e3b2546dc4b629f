/**
 * A stand-in kernel for server tests that do not need real TypeScript evaluation. A cell's code
 * is a tiny script, one command a line:
 *   out TEXT      console text "TEXT\n"          wait MS     sleep
 *   define NAME   the cell defines NAME          use NAME    the cell uses NAME
 *   throw MSG     fail with an error             hang        never finish (until interrupted)
 *   die           the kernel process dies        result TEXT the cell's result (Markdown)
 * Anything else is ignored. Evaluations run one at a time, like the real kernel.
 */
import type {
  EvaluationRequest,
  KernelFactory,
  KernelSink,
  SessionKernel,
} from "../../server/kernel-runner.ts";

export interface FakeKernelLog {
  started: number;
  evaluations: EvaluationRequest[];
  interrupts: number;
  restarts: number;
  stops: number;
}

export function fakeKernelFactory(
  log: FakeKernelLog = { started: 0, evaluations: [], interrupts: 0, restarts: 0, stops: 0 },
): KernelFactory {
  return (sink: KernelSink): SessionKernel => new FakeKernel(sink, log);
}

class FakeKernel implements SessionKernel {
  private running = false;
  private queue: EvaluationRequest[] = [];
  private interrupted: (() => void) | null = null;
  private alive = false;
  constructor(
    private sink: KernelSink,
    private log: FakeKernelLog,
  ) {}

  evaluate(req: EvaluationRequest): void {
    this.log.evaluations.push(req);
    this.queue.push(req);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const req = this.queue.shift();
    if (!req) return;
    this.running = true;
    if (!this.alive) {
      this.alive = true;
      this.log.started++;
      this.sink.status("starting");
      await sleep(5);
      this.sink.status("idle");
    }
    this.sink.started(req.cellId, req.evaluationId);
    const t0 = Date.now();
    const defines: string[] = [];
    const uses: string[] = [];
    let status: "ok" | "error" | "interrupted" = "ok";
    let result: import("../../core/outputs.ts").Output | null = null;
    for (const line of req.code.split("\n")) {
      const [cmd, ...restWords] = line.trim().split(" ");
      const rest = restWords.join(" ");
      if (cmd === "out")
        this.sink.output(req.cellId, { type: "terminal", stream: "stdout", text: rest + "\n" });
      else if (cmd === "define") defines.push(rest);
      else if (cmd === "use") uses.push(rest);
      else if (cmd === "result") result = { type: "markdown", text: rest };
      else if (cmd === "table")
        this.sink.output(req.cellId, {
          type: "table",
          id: rest,
          columns: ["i"],
          rows: [[0], [1]],
          offset: 0,
          totalRows: 100,
        });
      else if (cmd === "wait") await sleep(Number(rest));
      else if (cmd === "throw") {
        status = "error";
        result = {
          type: "error",
          name: "Error",
          message: rest,
          stack: `Error: ${rest}\n    at ${req.file}:${req.line}:1`,
        };
        break;
      } else if (cmd === "hang") {
        await new Promise<void>((resolve) => (this.interrupted = resolve));
        status = "interrupted";
        result = {
          type: "error",
          name: "Interrupted",
          message: "interrupted",
          stack: "",
          interrupted: true,
        };
        break;
      } else if (cmd === "die") {
        this.alive = false;
        this.running = false;
        this.queue = [];
        this.sink.status("dead", "exited with code 1");
        return;
      }
    }
    this.sink.finished({
      cellId: req.cellId,
      evaluationId: req.evaluationId,
      status,
      result,
      defines,
      uses,
      durationMs: Date.now() - t0,
    });
    this.running = false;
    void this.pump();
  }

  interrupt(): void {
    this.log.interrupts++;
    this.interrupted?.();
    this.interrupted = null;
  }

  async restart(): Promise<void> {
    this.log.restarts++;
    this.interrupted = null;
    this.queue = [];
    this.running = false;
    this.alive = false;
    this.sink.status("not-started", "restarted");
  }

  async stop(): Promise<void> {
    this.log.stops++;
    this.alive = false;
  }

  setInputValue(): void {}

  controlEvent(): void {}

  async tablePage(_tableId: string, offset: number, limit: number): Promise<{ rows: unknown[][] }> {
    const rows: unknown[][] = [];
    for (let i = offset; i < Math.min(offset + limit, 100); i++) rows.push([i]);
    return { rows };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
