/**
 * What a `Session` needs from a kernel, as a narrow interface, so the session logic does not
 * depend on how the kernel process is driven (see `kernel-adapter.ts` for the real one over
 * `kernel/client.ts`, and the tests' fake).
 *
 * Invariants a `SessionKernel` keeps: evaluations run one at a time in the order `evaluate` was
 * called; every evaluation ends in exactly one `finished` or the kernel reports `status("dead")`
 * (never left hanging); the kernel is started lazily on the first evaluation and again after it
 * died or was restarted.
 */
import type { Runtime } from "../kernel/remote.ts";
import type { Output, OutputUpdate, TableSort } from "../core/outputs.ts";
import type { ControlEvent, InputValue } from "../core/inputs.ts";
import type { BindingInfo } from "../core/bindings.ts";
import type { EvaluationOutcome, KernelStatus } from "../core/session/operations.ts";

/** Where the kernel reports what happens; the session turns each call into an operation. */
export interface KernelSink {
  status(status: KernelStatus, reason?: string): void;
  started(cellId: string, evaluationId: number): void;
  output(cellId: string, output: Output): void;
  update(update: OutputUpdate, cellId?: string): void;
  finished(result: {
    cellId: string;
    evaluationId: number;
    status: EvaluationOutcome;
    result: Output | null;
    defines: string[];
    uses: string[];
    /** Inputs the evaluation read (absent: none). */
    inputs?: string[];
    durationMs: number;
    bindings?: BindingInfo[];
    /** npm versions the evaluation resolved that the notebook did not record. */
    dependencies?: Record<string, string>;
  }): void;
}

export interface EvaluationRequest {
  cellId: string;
  evaluationId: number;
  code: string;
  /** 1-based line of the notebook file where the cell's source starts (for source-mapped errors). */
  line: number;
  /** The notebook file (absolute), or a display name for an unsaved notebook. */
  file: string;
  /** The npm versions the notebook records (`metadata.dependencies`). */
  dependencies?: Record<string, string>;
}

export interface SessionKernel {
  evaluate(request: EvaluationRequest): void;
  /**
   * Stop the current evaluation. One the kernel has not started yet (e.g. its process is still
   * starting) is cancelled: it never runs and finishes with status `interrupted`.
   */
  interrupt(): void;
  /** Stop the process; the next evaluation starts a fresh one. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** An input's new value (validated by the reducer); kept by the kernel for later reads. */
  setInputValue(inputId: string, value: InputValue): void;
  /** A window used a control. */
  controlEvent(controlId: string, event: ControlEvent, origin: string): void;
  /** Resident memory of the kernel process in bytes (null when no process runs or the OS does not say). */
  memoryBytes?(): Promise<number | null>;
  /** One page of a table output's rows (the session knows the table's total from the output). */
  tablePage(
    tableId: string,
    offset: number,
    limit: number,
    sort?: TableSort,
  ): Promise<{ rows: unknown[][] }>;
}

export interface KernelOptions {
  /** Working folder of the kernel process: the notebook's folder. */
  cwd: string;
  /** The session's input values, told to every kernel process right after it is spawned. */
  inputValues?: () => Record<string, InputValue>;
  /**
   * Where the next kernel process runs: a Jupyter server (kernel/remote.ts), or null / absent
   * for a local child process. Read each time a process is started.
   */
  runtime?: () => Runtime | null;
}

export type KernelFactory = (sink: KernelSink, options: KernelOptions) => SessionKernel;
