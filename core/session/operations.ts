/**
 * Every change to a notebook session, as data (Livebook's `Session.Data` operations).
 *
 * Owns: the `Operation` union (what a renderer or the kernel asks to change) and the `Action`
 * union (the side effects the reducer asks its caller to perform), plus their runtime
 * validator for operations arriving over the WebSocket.
 *
 * Invariants:
 * - An operation is plain JSON. It carries the id of the client that made it (`clientId`;
 *   "server" for operations the server makes itself, "kernel" for kernel events) and the time
 *   it was accepted (`at`, epoch ms). The server overwrites both on every operation it
 *   receives from a renderer, so every copy of the reducer sees the same values and stays pure.
 * - Ops a renderer may send are `ClientOperation`s; kernel/server-originated ops are refused
 *   when they arrive from a renderer (see `isClientOperationType`).
 * - Typing changes a cell's source by `apply-cell-delta`: a text delta (core/delta.ts) made on
 *   the source at the cell's `sourceRevision` it names, transformed by the reducer against the
 *   changes applied since (Livebook's `apply_cell_delta`), so concurrent typing keeps every
 *   character. `set-cell-source` (whole source: formatting, programmatic changes) is kept and
 *   recorded as the delta from the old source to the new, so typing concurrent with it is
 *   transformed too. Every source change bumps the cell's `sourceRevision`.
 */
import { assertNever, type CodeCellOptions, type Notebook } from "../notebook.ts";
import { outputLimitProblem, type Output, type OutputUpdate } from "../outputs.ts";
import type { ControlEvent, InputValue } from "../inputs.ts";
import { MAX_INPUT_BYTES } from "../inputs.ts";
import type { BindingInfo } from "../bindings.ts";
import { fieldChecks, isRecord, jsonProblem, type JsonBounds } from "../fields.ts";
import { deltaProblem, type TextDelta } from "../delta.ts";

/** Bounds of the free-form JSON an operation carries: cell options, smart-cell attrs, input values. */
export const OPTIONS_BOUNDS: JsonBounds = { maxDepth: 8, maxSize: 64 * 1024 };
export const ATTRS_BOUNDS: JsonBounds = { maxDepth: 32, maxSize: 1024 * 1024 };
/** Input values and control events: a 10 MB file is about 14 M characters of base64. */
export const INPUT_VALUE_BOUNDS: JsonBounds = {
  maxDepth: 32,
  maxSize: Math.ceil((MAX_INPUT_BYTES * 4) / 3) + 1024 * 1024,
};

/** Fields every operation carries. */
export interface OperationBase {
  /** Who made the change: a renderer's client id, "server" or "kernel". */
  clientId: string;
  /** When the server accepted the operation (epoch ms). Set by the server. */
  at: number;
}

export type CellKind = "code" | "markdown" | "smart";

// ---- Document edits (made by renderers) ----

/** Insert a new cell at `index` (0 … cells.length) of a section. `cellId` is chosen by the client (use `newId()`); it must be unused. */
export interface InsertCellOp extends OperationBase {
  type: "insert-cell";
  sectionId: string;
  index: number;
  cellType: CellKind;
  cellId: string;
  /** Initial source ("" when omitted). */
  source?: string;
  /** For a smart cell: its kind and initial attrs (both required when `cellType` is "smart"). */
  kind?: string;
  attrs?: Record<string, unknown>;
}

/** Insert a new, empty section at `index` (0 … sections.length). */
export interface InsertSectionOp extends OperationBase {
  type: "insert-section";
  sectionId: string;
  index: number;
  title: string;
}

export interface RenameSectionOp extends OperationBase {
  type: "rename-section";
  sectionId: string;
  title: string;
}

/** Delete a section and all its cells. The last remaining section cannot be deleted. */
export interface DeleteSectionOp extends OperationBase {
  type: "delete-section";
  sectionId: string;
}

export interface SetTitleOp extends OperationBase {
  type: "set-title";
  title: string;
}

/**
 * Replace a cell's whole source (not typing: formatting, tools, tests). The change is recorded as
 * the delta from the old source to the new one, so typing concurrent with it is transformed
 * against it; the cell's `sourceRevision` is bumped. `baseRevision` (optional) is the revision
 * the client edited from, for diagnostics only — the operation is applied either way.
 */
export interface SetCellSourceOp extends OperationBase {
  type: "set-cell-source";
  cellId: string;
  source: string;
  baseRevision?: number;
}

/**
 * Typing: a text delta (core/delta.ts) made on the cell's source as it was at `revision` (its
 * `sourceRevision` then). The reducer transforms it against the changes applied since, applies
 * it and bumps `sourceRevision`; the applied (transformed) delta is the last of the cell's
 * `sourceDeltas`. Refused when `revision` is ahead of the cell or older than the deltas it keeps
 * (`MAX_SOURCE_DELTAS`): the window must join again.
 */
export interface ApplyCellDeltaOp extends OperationBase {
  type: "apply-cell-delta";
  cellId: string;
  delta: TextDelta;
  revision: number;
}

/** Move a cell `offset` places in document order (negative = up); it crosses section boundaries and stops at the ends. */
export interface MoveCellOp extends OperationBase {
  type: "move-cell";
  cellId: string;
  offset: number;
}

/** Delete a cell. A running or queued evaluation of it is cancelled. */
export interface DeleteCellOp extends OperationBase {
  type: "delete-cell";
  cellId: string;
}

/** Replace a code or smart cell's options (e.g. `{autoRun: true}`). */
export interface SetCellOptionsOp extends OperationBase {
  type: "set-cell-options";
  cellId: string;
  options: CodeCellOptions;
}

/** New attrs for a smart cell plus the code they generate (the server recomputes `source` from the attrs with the smart cell's `toSource`). */
export interface SetSmartCellAttrsOp extends OperationBase {
  type: "set-smart-cell-attrs";
  cellId: string;
  attrs: Record<string, unknown>;
  source: string;
}

/**
 * Turn a smart cell into ordinary code cells: one per chunk of its generated code (filled in by
 * the server), the first keeping the cell's id. Without `chunks`: one code cell with its source.
 */
export interface ConvertSmartCellOp extends OperationBase {
  type: "convert-smart-cell";
  cellId: string;
  chunks?: Array<{ cellId: string; source: string }>;
}

/** Notebook-level setting: save outputs with the notebook. */
export interface SetPersistOutputsOp extends OperationBase {
  type: "set-persist-outputs";
  persistOutputs: boolean;
}

/** Notebook-level setting: console text kept per cell (null: the default). */
export interface SetOutputLimitOp extends OperationBase {
  type: "set-output-limit";
  outputLimit: number | null;
}

// ---- Evaluation requests (made by renderers) ----

/** Queue a code or smart cell for evaluation (no-op if already queued or running). */
export interface EvaluateCellOp extends OperationBase {
  type: "evaluate-cell";
  cellId: string;
}

/** Queue every code and smart cell in document order. */
export interface EvaluateAllOp extends OperationBase {
  type: "evaluate-all";
}

/** Stop the running evaluation and clear the queue. */
export interface InterruptOp extends OperationBase {
  type: "interrupt";
}

/** Restart the kernel: the running cell is aborted, the queue cleared, every evaluated cell becomes stale. */
export interface RestartKernelOp extends OperationBase {
  type: "restart-kernel";
}

/**
 * Shut the kernel down (its memory is freed; the next evaluation starts a fresh one): as a
 * restart, but nothing is started. The server applies it too (clientId "server") when nobody
 * has had the notebook open for the idle timeout, with `reason` saying so.
 */
export interface ShutdownKernelOp extends OperationBase {
  type: "shutdown-kernel";
  reason?: string;
}

/**
 * Put a deleted cell back from the session's bin (Livebook's bin): into its section at its old
 * place (clamped), or at the end of the last section when that section is gone.
 */
export interface RestoreCellOp extends OperationBase {
  type: "restore-cell";
  cellId: string;
}

/** Clear the outputs of one cell, or of every cell when `cellId` is omitted. */
export interface ClearOutputsOp extends OperationBase {
  type: "clear-outputs";
  cellId?: string;
}

/**
 * A user changed an input: the value is checked against the input's spec (refused with the
 * reason when it does not fit), stored as session state (never saved in the file), told to the
 * kernel; the cells that read the input become stale (core/session/data.ts).
 */
export interface SetInputValueOp extends OperationBase {
  type: "set-input-value";
  inputId: string;
  value: unknown;
}

/** A user used a control (click, form submit or change, key): checked, then sent to the kernel. */
export interface ControlEventOp extends OperationBase {
  type: "control-event";
  controlId: string;
  event: ControlEvent;
}

// ---- Kernel events (made by the server from the kernel's messages; clientId "kernel") ----

/** The kernel actually began running the evaluation (`at` becomes its `startedAt`). */
export interface EvaluationStartedOp extends OperationBase {
  type: "evaluation-started";
  cellId: string;
  evaluationId: number;
}

/** An output produced by a cell (console text is merged with `appendTerminal`). May arrive after the evaluation finished (timers). */
export interface OutputAppendedOp extends OperationBase {
  type: "output-appended";
  cellId: string;
  output: Output;
}

/** A change to an output already shown, addressed by its id (searched in `cellId` first when given). */
export interface OutputUpdatedOp extends OperationBase {
  type: "output-updated";
  update: OutputUpdate;
  cellId?: string;
}

export type EvaluationOutcome = "ok" | "error" | "interrupted";

/** The evaluation ended. `result` (the last expression's value, or the error) is appended to the cell's outputs. */
export interface EvaluationFinishedOp extends OperationBase {
  type: "evaluation-finished";
  cellId: string;
  evaluationId: number;
  status: EvaluationOutcome;
  result?: Output | null;
  /** Top-level names the cell defines. */
  defines: string[];
  /** Free names the cell uses. */
  uses: string[];
  /** Inputs whose value the evaluation read (absent: none). */
  inputs?: string[];
  durationMs: number;
  /** What the kernel's binding scan found among the names the cell defines (metadata, never values). */
  bindings?: BindingInfo[];
  /**
   * npm versions the cell's `npm:` imports resolved (name → version): recorded in the notebook's
   * `metadata.dependencies`, a change of the document (docs/sharing.md).
   */
  dependencies?: Record<string, string>;
}

/**
 * The server's debounce window after input changes has passed: queue the "reevaluate
 * automatically" cells waiting in `autoPending` that are still stale.
 */
export interface AutoEvaluateOp extends OperationBase {
  type: "auto-evaluate";
}

export type KernelStatus = "not-started" | "starting" | "idle" | "busy" | "dead";

/** The kernel process changed state. "dead" aborts the running cell and makes evaluated cells stale. */
export interface KernelStatusOp extends OperationBase {
  type: "kernel-status";
  status: KernelStatus;
  /** Why it is dead / not started (e.g. "killed by SIGKILL", "exited with code 1"). */
  reason?: string;
}

/** A Jupyter server a session's kernel can run on (the user's configuration; no token). */
export interface RuntimeSummary {
  id: string;
  name: string;
  /** Its base URL, without the token. */
  url: string;
}

/**
 * The session's kernel now runs on another runtime (null: a local process), as a window asked
 * (`set-runtime` message, checked by the server against the user's runtimes). Like a restart:
 * the running cell is aborted, the queue cleared, evaluated cells become stale; the next
 * evaluation starts a kernel there. Session state, never saved in the file.
 */
export interface SetRuntimeOp extends OperationBase {
  type: "set-runtime";
  runtime: RuntimeSummary | null;
}

// ---- File events (made by the server; clientId "server") ----

/** The notebook was written to `path` as it was at document revision `docRevision`. */
export interface NotebookSavedOp extends OperationBase {
  type: "notebook-saved";
  path: string;
  docRevision: number;
}

/** The notebook's file path changed (save as), or null for an unsaved notebook. Display path: relative to the served folder when inside it. */
export interface SetPathOp extends OperationBase {
  type: "set-path";
  path: string | null;
}

/** Another program changed the file on disk: autosave stops until the user chooses reload or keep-mine. */
export interface FileChangedOnDiskOp extends OperationBase {
  type: "file-changed-on-disk";
}

/** The notebook was replaced by the file's content (reload after an external change). Evaluation state is reset. */
export interface NotebookReplacedOp extends OperationBase {
  type: "notebook-replaced";
  notebook: Notebook;
}

/** The operations a renderer may send. */
export type ClientOperation =
  | InsertCellOp
  | InsertSectionOp
  | RenameSectionOp
  | DeleteSectionOp
  | SetTitleOp
  | SetCellSourceOp
  | ApplyCellDeltaOp
  | MoveCellOp
  | DeleteCellOp
  | SetCellOptionsOp
  | SetSmartCellAttrsOp
  | ConvertSmartCellOp
  | SetPersistOutputsOp
  | SetOutputLimitOp
  | EvaluateCellOp
  | EvaluateAllOp
  | InterruptOp
  | RestartKernelOp
  | ShutdownKernelOp
  | RestoreCellOp
  | ClearOutputsOp
  | SetInputValueOp
  | ControlEventOp;

/** Operations only the server (from the kernel or the file system) makes. */
export type ServerOperation =
  | EvaluationStartedOp
  | OutputAppendedOp
  | OutputUpdatedOp
  | EvaluationFinishedOp
  | KernelStatusOp
  | SetRuntimeOp
  | AutoEvaluateOp
  | NotebookSavedOp
  | SetPathOp
  | FileChangedOnDiskOp
  | NotebookReplacedOp;

export type Operation = ClientOperation | ServerOperation;

/** An operation as a client sends it: the server fills in `clientId` and `at`. */
export type ClientOperationInput = DistributiveOmit<ClientOperation, "clientId" | "at"> & {
  clientId?: string;
  at?: number;
};
type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;

/** Side effects the reducer asks its caller (the server's Session) to perform. */
export type Action =
  /** Run `code` in the kernel (starting the kernel first if needed); report back with `evaluationId`. */
  | { type: "start-evaluation"; cellId: string; evaluationId: number; code: string }
  /** Stop the kernel's running evaluation. */
  | { type: "interrupt-kernel" }
  /** Stop the kernel process and start a fresh one (lazily, on the next evaluation). */
  | { type: "restart-kernel" }
  /** Stop the kernel process; the next evaluation starts one. */
  | { type: "stop-kernel" }
  /** The document changed: save it (debounced) — to its file, or to the app data folder when it has none. */
  | { type: "schedule-autosave" }
  /** Tell the kernel an input's new value. */
  | { type: "set-input-value"; inputId: string; value: InputValue }
  /** Send a control's event to the kernel; `origin` is the window that sent it. */
  | { type: "control-event"; controlId: string; event: ControlEvent; origin: string }
  /** Inputs changed: apply `auto-evaluate` once the debounce window has passed (one timer). */
  | { type: "schedule-auto-evaluate" };

/** The operation types a window may send (the others come from the server and the kernel). */
export const CLIENT_OPERATION_TYPES: ReadonlySet<string> = new Set<ClientOperation["type"]>([
  "insert-cell",
  "insert-section",
  "rename-section",
  "delete-section",
  "set-title",
  "set-cell-source",
  "apply-cell-delta",
  "move-cell",
  "delete-cell",
  "set-cell-options",
  "set-smart-cell-attrs",
  "convert-smart-cell",
  "set-persist-outputs",
  "set-output-limit",
  "evaluate-cell",
  "evaluate-all",
  "interrupt",
  "restart-kernel",
  "shutdown-kernel",
  "restore-cell",
  "clear-outputs",
  "set-input-value",
  "control-event",
]);

export function isClientOperationType(type: string): type is ClientOperation["type"] {
  return CLIENT_OPERATION_TYPES.has(type);
}

/**
 * Validate an operation sent by a renderer (shape only; whether the cell exists is the
 * reducer's business). Returns the operation with `clientId` and `at` filled in, or the reason
 * it is refused.
 */
export function validateClientOperation(
  value: unknown,
  clientId: string,
  at: number,
): { ok: true; op: ClientOperation } | { ok: false; error: string } {
  if (!isRecord(value)) return { ok: false, error: "operation must be an object" };
  const type = value["type"];
  if (typeof type !== "string") return { ok: false, error: "operation.type must be a string" };
  if (!isClientOperationType(type))
    return { ok: false, error: `operation type '${type}' cannot be sent by a client` };
  const v = value;
  const problem = checkFields(type, v);
  if (problem) return { ok: false, error: `${type}: ${problem}` };
  return { ok: true, op: { ...(v as object), clientId, at } as ClientOperation };
}

function checkFields(type: ClientOperation["type"], v: Record<string, unknown>): string | null {
  const { str, int, first } = fieldChecks(v);
  switch (type) {
    case "insert-cell": {
      const ct = v["cellType"];
      if (ct !== "code" && ct !== "markdown" && ct !== "smart")
        return "cellType must be code, markdown or smart";
      if (v["source"] !== undefined && typeof v["source"] !== "string")
        return "source must be a string";
      if (ct === "smart" && (typeof v["kind"] !== "string" || !isRecord(v["attrs"])))
        return "a smart cell needs kind (string) and attrs (object)";
      if (v["kind"] !== undefined && typeof v["kind"] !== "string") return "kind must be a string";
      if (v["attrs"] !== undefined && !isRecord(v["attrs"])) return "attrs must be an object";
      return first(
        str("sectionId"),
        int("index"),
        str("cellId"),
        v["attrs"] === undefined ? null : jsonProblem(v["attrs"], "attrs", ATTRS_BOUNDS),
      );
    }
    case "insert-section":
      return first(str("sectionId"), int("index"), str("title"));
    case "rename-section":
      return first(str("sectionId"), str("title"));
    case "delete-section":
      return str("sectionId");
    case "set-title":
      return str("title");
    case "set-cell-source":
      if (v["baseRevision"] !== undefined && !Number.isInteger(v["baseRevision"]))
        return "baseRevision must be an integer";
      return first(str("cellId"), str("source"));
    case "apply-cell-delta":
      if (!Number.isSafeInteger(v["revision"]) || (v["revision"] as number) < 0)
        return "revision must be a non-negative integer";
      return first(str("cellId"), deltaProblem(v["delta"]));
    case "move-cell":
      return first(str("cellId"), int("offset"));
    case "convert-smart-cell":
      if (v["chunks"] !== undefined) return "chunks are filled in by the server";
      return str("cellId");
    case "delete-cell":
    case "evaluate-cell":
    case "restore-cell":
      return str("cellId");
    case "set-cell-options":
      if (!isRecord(v["options"])) return "options must be an object";
      if (v["options"]["autoRun"] !== undefined && typeof v["options"]["autoRun"] !== "boolean")
        return "options.autoRun must be a boolean";
      return first(str("cellId"), jsonProblem(v["options"], "options", OPTIONS_BOUNDS));
    case "set-smart-cell-attrs":
      if (!isRecord(v["attrs"])) return "attrs must be an object";
      return first(str("cellId"), str("source"), jsonProblem(v["attrs"], "attrs", ATTRS_BOUNDS));
    case "set-persist-outputs":
      return typeof v["persistOutputs"] === "boolean" ? null : "persistOutputs must be a boolean";
    case "set-output-limit":
      return v["outputLimit"] === null ? null : outputLimitProblem(v["outputLimit"]);
    case "evaluate-all":
    case "interrupt":
    case "restart-kernel":
      return null;
    case "shutdown-kernel":
      return v["reason"] === undefined ? null : str("reason");
    case "clear-outputs":
      return v["cellId"] === undefined ? null : str("cellId");
    case "set-input-value":
      if (!("value" in v)) return "value is missing";
      return first(str("inputId"), jsonProblem(v["value"], "value", INPUT_VALUE_BOUNDS));
    case "control-event":
      if (!isRecord(v["event"]) || typeof v["event"]["type"] !== "string")
        return "event must be an object with a type";
      return first(str("controlId"), jsonProblem(v["event"], "event", INPUT_VALUE_BOUNDS));
    default:
      return assertNever(type, "operation type");
  }
}
