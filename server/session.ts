/**
 * One open notebook on the server: the authoritative `SessionData`, the windows joined to it,
 * its kernel, its file (autosave, external-change detection) — Livebook's `Session` process.
 *
 * Invariants:
 * - `data` changes only through `applyOperation`, one operation at a time, in the order they
 *   are queued; each applied operation is broadcast to every joined client before the actions
 *   it asked for are performed (an action may queue further operations, applied after it).
 * - The notebook file is never overwritten when its content differs from what this session
 *   last read or wrote (`fingerprint`): the session records a disk conflict instead and waits
 *   for `resolveConflict`. Every write is atomic (`writeFileAtomic`).
 * - A notebook without a file is autosaved to the app data folder (`UnsavedStore`).
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { lstat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { CursorMessage, ServerMessage, SessionSummary } from "../core/app-protocol.ts";
import {
  exportNotebook,
  exportNotebookWithLines,
  importNotebookBytes,
} from "../core/format/index.ts";
import { assertNever, newId, notebookDependencies, type Notebook } from "../core/notebook.ts";
import { prepareSmartCellOp } from "../smart-cells/ops.ts";
import type { Output, TableOutput, TableSort } from "../core/outputs.ts";
import {
  applyOperation,
  createSessionData,
  type ImportedFrom,
  notebookForSave,
  type SessionData,
} from "../core/session/data.ts";
import {
  validateClientOperation,
  type Action,
  type Operation,
} from "../core/session/operations.ts";
import type { UnsavedStore } from "./app-data.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import {
  NotRegularFileError,
  OutsideFolderError,
  confinedRealPath,
  isReadOnlyMode,
  openRegularFile,
  readAll,
  readRegularFile,
} from "./files.ts";
import { fileErrorReason } from "./paths.ts";
import { Journal, journalKey, readJournal } from "./journal.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import type { KernelFactory, KernelSink, SessionKernel } from "./kernel-runner.ts";
import type { Runtime } from "../kernel/remote.ts";
import type { RuntimeSummary } from "../core/session/operations.ts";

/** A window joined to the session. `send` takes an already serialised `ServerMessage`. */
export interface SessionClient {
  id: string;
  send(text: string): void;
}

/** An error with a protocol error code, for the server to report to the requesting window. */
export class SessionError extends Error {
  constructor(
    readonly code:
      "no-path" | "import-failed" | "io" | "kernel" | "exists" | "read-only" | "forbidden-path",
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface SessionOptions {
  id: string;
  notebook: Notebook;
  /** Absolute path of the notebook file, null for an unsaved notebook. */
  file: string | null;
  /** Display path (relative to the served folder when inside it). */
  displayPath: string | null;
  /** Hash of the file content as read (null for an unsaved notebook). */
  fingerprint: string | null;
  /** Where each code cell's source starts in the file as read (from `importNotebook`). */
  cellLines?: Record<string, number>;
  /** Outputs to show at first, by cell id, instead of the cells' persisted ones (a Jupyter notebook's). */
  outputs?: Record<string, Output[]>;
  /** The notebook was read from another format: shown to the user with what did not come across. */
  importedFrom?: ImportedFrom;
  /** Where the notebook is autosaved while it has no file, and its id there. */
  unsaved: UnsavedStore;
  unsavedId: string;
  kernelFactory: KernelFactory;
  /** Working folder for the kernel when the notebook has no file. */
  defaultCwd: string;
  /** Delay between the last change and the autosave (ms). */
  autosaveMs: number;
  /**
   * Debounce window of automatic re-evaluation after input changes (ms, default
   * `AUTO_EVALUATE_MS`): the first change starts it, later ones within it join it.
   */
  autoEvaluateMs?: number;
  /** Longest delay between the first unsaved change and the autosave, however long editing goes on (ms). */
  autosaveMaxMs?: number;
  /**
   * The real folder the notebook's file must stay in (the served folder, or for a file opened
   * outside it by the desktop shell, that file's folder): checked at every read and write.
   */
  confine: string;
  /** Watch the file for changes by other programs (default true). */
  watchFile?: boolean;
  /**
   * Folder of the journals of acknowledged edits (server/journal.ts); a journal left there by a
   * crash is replayed when the notebook is opened again. Absent: no journal.
   */
  journalDir?: string;
  now?: () => number;
  log?: (message: string) => void;
}

/** Default debounce window of automatic re-evaluation after input changes. */
export const AUTO_EVALUATE_MS = 100;
/** Default `autosaveMaxMs`. */
export const DEFAULT_AUTOSAVE_MAX_MS = 5000;

export function contentHash(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export class Session {
  readonly id: string;
  data: SessionData;
  readonly clients = new Map<string, SessionClient>();
  /** Absolute path of the notebook file. */
  file: string | null;
  private fingerprint: string | null;
  /** See `SessionOptions.confine`. */
  private confine: string;
  private readonly options: SessionOptions;
  private unsavedId: string;
  private unsavedWrittenRevision = -1;
  private kernel: SessionKernel | null = null;
  /** The Jupyter server the kernel runs on (with its token; data.runtime has the summary). */
  private runtime: Runtime | null = null;
  private pending: Array<{ op: Operation; onError?: (error: string) => void }> = [];
  private draining = false;
  private autosaveTimer: NodeJS.Timeout | null = null;
  private autoEvaluateTimer: NodeJS.Timeout | null = null;
  /** When the autosave that is waiting was first asked for (the bound of the window). */
  private autosaveFirstAt = 0;
  /** The last autosave failure told to the windows (told once, until a save succeeds). */
  private lastToldFailure: string | null = null;
  private saveChain: Promise<void> = Promise.resolve();
  private writing = 0;
  private recheckAfterWrite = false;
  private watcher: FSWatcher | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private cellLinesCache: { docRevision: number; lines: Record<string, number> } | null = null;
  private closed = false;
  private journal: Journal | null = null;
  /** Edits recovered from the journal when this session was opened (after a crash). */
  readonly recoveredEdits: number = 0;
  /** The last cursor each joined window reported (sent to windows that join later). */
  private readonly cursors = new Map<string, CursorMessage & { clientId: string }>();

  constructor(options: SessionOptions) {
    this.options = options;
    this.id = options.id;
    this.file = options.file;
    this.fingerprint = options.fingerprint;
    this.confine = options.confine;
    this.unsavedId = options.unsavedId;
    this.data = createSessionData(options.notebook, options.displayPath, {
      ...(options.outputs ? { outputs: options.outputs } : {}),
      ...(options.importedFrom ? { importedFrom: options.importedFrom } : {}),
    });
    if (options.cellLines)
      this.cellLinesCache = { docRevision: this.data.docRevision, lines: options.cellLines };
    if (options.journalDir) {
      this.journal = new Journal(options.journalDir, journalKey(this.file, this.unsavedId), (m) =>
        this.log(m),
      );
      this.recoveredEdits = this.recover();
    }
    this.startWatching();
    if (this.data.dirty || (!this.file && this.recoveredEdits > 0)) this.scheduleAutosave();
  }

  /**
   * Replay a journal a crash left behind: the edits on the text they were made on. When the
   * file is no longer what the journal knew (another program changed it meanwhile), the
   * changed-on-disk choice is raised: neither side is lost. Returns the number of edits replayed.
   */
  private recover(): number {
    const journal = this.journal!;
    const rec = readJournal(journal.file);
    if (!rec) return 0;
    if (rec.ops.length === 0) {
      journal.discard();
      return 0;
    }
    let d: SessionData;
    try {
      d = createSessionData(rec.header.base, this.data.path);
    } catch (e) {
      this.log(`journal ${journal.file} has an unreadable base (${String(e)}): not replayed`);
      return 0;
    }
    const entries: Array<{ op: Operation; docRevision: number }> = [];
    for (const op of rec.ops) {
      const replay =
        op.type === "apply-cell-delta"
          ? { ...op, revision: d.cells[op.cellId]?.sourceRevision ?? 0 }
          : op;
      const r = applyOperation(d, replay);
      if (!r.ok) {
        this.log(`journal: ${op.type} not replayed: ${r.error}`);
        continue;
      }
      d = r.data;
      entries.push({ op, docRevision: d.docRevision });
    }
    this.data = {
      ...d,
      revision: 0,
      kernel: this.data.kernel,
      ...(this.data.importedFrom ? { importedFrom: this.data.importedFrom } : {}),
      ...(entries.length > 0 ? { recovered: { edits: entries.length } } : {}),
    };
    this.cellLinesCache = null;
    journal.start(rec.header, entries);
    const known = [rec.header.fileHash, ...rec.saving];
    if (this.file && this.fingerprint !== null && !known.includes(this.fingerprint))
      this.data = { ...this.data, diskConflict: { detectedAt: this.now() } };
    this.log(`recovered ${entries.length} edits from the journal`);
    return entries.length;
  }

  /** Record an acknowledged edit (before it is broadcast). `before`: the data it applied to. */
  private journalEdit(before: SessionData, op: Operation, after: SessionData): void {
    const journal = this.journal;
    if (!journal || op.clientId === "server" || op.clientId === "kernel") return;
    if (after.docRevision === before.docRevision) return;
    try {
      if (!journal.started) {
        const base = notebookForSave(before);
        journal.start({ v: 1, file: this.file, fileHash: this.fingerprint, base });
        // Listed as recoverable at once (with this edit: its title as the user sees it).
        if (!this.file && this.ensureUnsavedFile(exportNotebook(notebookForSave(after))))
          this.unsavedWrittenRevision = after.docRevision;
      }
      // A delta as applied (transformed): replayed on the same text it applies as is.
      const entry =
        op.type === "apply-cell-delta"
          ? { ...op, delta: after.cells[op.cellId]?.sourceDeltas.at(-1)?.delta ?? op.delta }
          : op;
      journal.append(entry, after.docRevision);
    } catch (e) {
      this.log(`journal write failed: ${(e as Error).message}`);
    }
  }

  /** An unsaved notebook being edited is listed as recoverable from its first edit on. */
  private ensureUnsavedFile(text: string): boolean {
    const path = this.options.unsaved.pathOf(this.unsavedId);
    try {
      mkdirSync(this.options.unsaved.dir, { recursive: true });
      writeFileSync(path, text, { flag: "wx" });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      return false;
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private log(message: string): void {
    this.options.log?.(`[session ${this.id}] ${message}`);
  }

  /** Id of this notebook's file in the app data folder (while it has no file of its own). */
  unsavedIdForRecovery(): string {
    return this.unsavedId;
  }

  summary(): SessionSummary {
    return {
      sessionId: this.id,
      title: this.data.notebook.title,
      path: this.data.path,
      dirty: this.data.dirty,
      clients: this.clients.size,
      kernel: this.data.kernel.status,
      memoryBytes: null,
      idleShutdownAt: this.idleShutdownAt,
    };
  }

  /** `summary()` with the kernel process's resident memory (read from the OS; null when unknown). */
  async summaryWithMemory(): Promise<SessionSummary> {
    const s = this.summary();
    const live = s.kernel === "idle" || s.kernel === "busy" || s.kernel === "starting";
    if (!live || !this.kernel?.memoryBytes) return s;
    const memoryBytes = await this.kernel.memoryBytes().catch(() => null);
    return { ...s, memoryBytes };
  }

  // ---- shutting down the kernel of a notebook nobody has open ----

  private idleShutdownMs: number | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** When the idle shutdown will happen (epoch ms), null when none is due. */
  private idleShutdownAt: number | null = null;

  /**
   * Shut the kernel down once no window has had the notebook open for `ms` (null: never). A
   * kernel that is running a cell is left alone and checked again later (as JupyterLab's culler
   * spares busy kernels by default). Re-armed by every leave, cancelled by every join.
   */
  setIdleShutdown(ms: number | null): void {
    this.idleShutdownMs = ms;
    this.armIdleShutdown();
  }

  private cancelIdleShutdown(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.idleShutdownAt = null;
  }

  private armIdleShutdown(): void {
    this.cancelIdleShutdown();
    const ms = this.idleShutdownMs;
    const live = this.data.kernel.status !== "not-started" && this.data.kernel.status !== "dead";
    if (ms === null || this.closed || this.clients.size > 0 || !live) return;
    this.idleShutdownAt = this.now() + ms;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.idleShutdownAt = null;
      if (this.closed || this.clients.size > 0) return;
      if (this.data.running) return this.armIdleShutdown();
      this.serverOp("shutdown-kernel", {
        reason: `shut down after ${idleText(ms)} with no window open`,
      });
    }, ms);
    this.idleTimer.unref?.();
  }

  join(client: SessionClient, requestId?: string): void {
    this.clients.set(client.id, client);
    this.cancelIdleShutdown();
    const msg: ServerMessage = { type: "joined", sessionId: this.id, snapshot: this.data };
    if (requestId !== undefined) msg.requestId = requestId;
    client.send(JSON.stringify(msg));
    for (const [id, c] of this.cursors) if (id !== client.id) client.send(JSON.stringify(c));
  }

  leave(clientId: string): void {
    if (!this.clients.delete(clientId)) return;
    if (this.clients.size === 0) this.armIdleShutdown();
    if (this.cursors.delete(clientId))
      this.broadcast({
        type: "cursor",
        sessionId: this.id,
        clientId,
        cellId: null,
        anchor: 0,
        head: 0,
        revision: 0,
      });
  }

  /** A window's cursor moved: told to the others (presence only; never applied or saved). */
  cursor(clientId: string, msg: CursorMessage): void {
    const out: CursorMessage & { clientId: string } = {
      type: "cursor",
      sessionId: this.id,
      clientId,
      cellId: msg.cellId,
      anchor: msg.anchor,
      head: msg.head,
      revision: msg.revision,
      ...(msg.name !== undefined ? { name: msg.name } : {}),
      ...(msg.color !== undefined ? { color: msg.color } : {}),
    };
    if (msg.cellId === null) this.cursors.delete(clientId);
    else this.cursors.set(clientId, out);
    const text = JSON.stringify(out);
    for (const c of this.clients.values()) if (c.id !== clientId) c.send(text);
  }

  /** Apply an operation sent by a renderer. Returns the reason it was refused, or null. */
  applyFromClient(clientId: string, raw: unknown, onError: (error: string) => void): void {
    const v = validateClientOperation(raw, clientId, this.now());
    if (!v.ok) return onError(v.error);
    // Smart cells: the server computes the code from the attrs (smart-cells/ops.ts). The check
    // runs on the data as it will be when the op's turn comes (ops apply in order, synchronously).
    const prepared = prepareSmartCellOp(this.data, v.op, () => newId());
    if (!prepared.ok) return onError(`${v.op.type}: ${prepared.error}`);
    for (const op of prepared.ops) this.enqueue(op, onError);
  }

  /** Apply an operation made by the server (kernel events, file events). */
  applyServer(op: Operation): void {
    this.enqueue(op);
  }

  private enqueue(op: Operation, onError?: (error: string) => void): void {
    if (this.closed) return;
    this.pending.push(onError ? { op, onError } : { op });
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const { op: next, onError: fail } = this.pending.shift()!;
        const r = applyOperation(this.data, next);
        if (!r.ok) {
          if (fail) fail(r.error);
          else this.log(`ignored ${next.type}: ${r.error}`);
          continue;
        }
        // Serialise before committing: an operation that cannot be sent (or saved) is refused, so
        // it can never poison the session for every later join, save and broadcast.
        let text: string;
        try {
          text = JSON.stringify({
            type: "applied",
            sessionId: this.id,
            op: next,
            revision: r.data.revision,
          } satisfies ServerMessage);
        } catch (e) {
          const error = `cannot be applied: ${(e as Error).message}`;
          if (fail) fail(error);
          else this.log(`ignored ${next.type}: ${error}`);
          continue;
        }
        this.journalEdit(this.data, next, r.data);
        this.data = r.data;
        this.broadcastText(text);
        // A kernel started or finished while nobody has the notebook open: (re)arm the timer.
        if (next.type === "kernel-status" && this.clients.size === 0 && !this.idleTimer)
          this.armIdleShutdown();
        for (const action of r.actions) {
          try {
            this.perform(action);
          } catch (e) {
            // A kernel that cannot take the evaluation must not leave the cell "running" forever.
            this.log(`${action.type} failed: ${(e as Error).stack ?? String(e)}`);
            if (action.type === "start-evaluation")
              this.pending.push({
                op: {
                  type: "kernel-status",
                  clientId: "kernel",
                  at: this.now(),
                  status: "dead",
                  reason: `cannot start the evaluation: ${(e as Error).message}`,
                },
              });
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  broadcast(msg: ServerMessage): void {
    this.broadcastText(JSON.stringify(msg));
  }

  private broadcastText(text: string): void {
    for (const c of this.clients.values()) c.send(text);
  }

  private serverOp<T extends Operation["type"]>(
    type: T,
    fields: Omit<Extract<Operation, { type: T }>, "type" | "clientId" | "at">,
    clientId = "server",
  ): void {
    this.applyServer({ type, clientId, at: this.now(), ...fields } as unknown as Operation);
  }

  private perform(action: Action): void {
    switch (action.type) {
      case "start-evaluation": {
        const kernel = this.ensureKernel();
        kernel.evaluate({
          cellId: action.cellId,
          evaluationId: action.evaluationId,
          code: action.code,
          line: this.cellLines()[action.cellId] ?? 1,
          file: this.file ?? `${this.data.notebook.title || "untitled"}.tsnb`,
          dependencies: notebookDependencies(this.data.notebook.metadata),
        });
        return;
      }
      case "interrupt-kernel":
        this.kernel?.interrupt();
        return;
      case "restart-kernel":
        if (this.kernel)
          void this.kernel.restart().catch((e) => this.log(`restart failed: ${String(e)}`));
        return;
      case "stop-kernel":
        this.cancelIdleShutdown();
        if (this.kernel)
          void this.kernel.stop().catch((e) => this.log(`stop failed: ${String(e)}`));
        return;
      case "schedule-autosave":
        this.scheduleAutosave();
        return;
      case "set-input-value":
        this.kernel?.setInputValue(action.inputId, action.value);
        return;
      case "control-event":
        this.kernel?.controlEvent(action.controlId, action.event, action.origin);
        return;
      case "schedule-auto-evaluate":
        // One window for a burst of changes (a slider being dragged): not reset by later ones.
        if (this.autoEvaluateTimer || this.closed) return;
        this.autoEvaluateTimer = setTimeout(() => {
          this.autoEvaluateTimer = null;
          this.serverOp("auto-evaluate", {});
        }, this.options.autoEvaluateMs ?? AUTO_EVALUATE_MS);
        return;
      default:
        assertNever(action, "action");
    }
  }

  /**
   * File line where each code cell's source starts: as read or last written while the document
   * is unchanged since, else as the notebook would be saved now (cached per document revision).
   */
  private cellLines(): Record<string, number> {
    if (this.cellLinesCache?.docRevision !== this.data.docRevision) {
      const { cellLines } = exportNotebookWithLines(notebookForSave(this.data));
      this.cellLinesCache = { docRevision: this.data.docRevision, lines: cellLines };
    }
    return this.cellLinesCache.lines;
  }

  private ensureKernel(): SessionKernel {
    if (this.kernel) return this.kernel;
    const sink: KernelSink = {
      status: (status, reason) =>
        this.serverOp(
          "kernel-status",
          reason === undefined ? { status } : { status, reason },
          "kernel",
        ),
      started: (cellId, evaluationId) =>
        this.serverOp("evaluation-started", { cellId, evaluationId }, "kernel"),
      output: (cellId, output) => this.serverOp("output-appended", { cellId, output }, "kernel"),
      update: (update, cellId) =>
        this.serverOp(
          "output-updated",
          cellId === undefined ? { update } : { update, cellId },
          "kernel",
        ),
      finished: (r) => this.serverOp("evaluation-finished", r, "kernel"),
    };
    this.kernel = this.options.kernelFactory(sink, {
      cwd: this.workingFolder(),
      // Input values are session state: every kernel this session starts gets them first.
      inputValues: () =>
        Object.fromEntries(Object.entries(this.data.inputs).map(([id, s]) => [id, s.value])),
      runtime: () => this.runtime,
    });
    return this.kernel;
  }

  /**
   * Run the kernel on `runtime` (a Jupyter server, with its token) or locally (null): the
   * reducer's `set-runtime` aborts what runs and restarts the kernel; the next evaluation starts
   * one there. Every window sees the choice (`data.runtime`, without the token).
   */
  setRuntime(choice: { summary: RuntimeSummary; runtime: Runtime } | null): void {
    this.runtime = choice?.runtime ?? null;
    this.serverOp("set-runtime", { runtime: choice?.summary ?? null });
  }

  /** The notebook's folder (the kernel's cwd): relative paths in its code resolve there. */
  workingFolder(): string {
    return this.file ? dirname(this.file) : this.options.defaultCwd;
  }

  async tablePage(
    tableId: string,
    offset: number,
    limit: number,
    sort?: TableSort,
  ): Promise<{ rows: unknown[][]; totalRows: number }> {
    if (!this.kernel) throw new SessionError("kernel", "the kernel is not running");
    const table = findTable(this.data, tableId);
    if (!table) throw new SessionError("kernel", `no table output ${tableId}`);
    try {
      const { rows } = await this.kernel.tablePage(tableId, offset, limit, sort);
      return { rows, totalRows: table.totalRows };
    } catch (e) {
      throw new SessionError("kernel", (e as Error).message);
    }
  }

  // ---- files ----

  private scheduleAutosave(): void {
    if (this.closed) return;
    const now = this.now();
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    else this.autosaveFirstAt = now;
    // Debounced after the last change, but never later than autosaveMaxMs after the first
    // unsaved one: continuous typing is saved too.
    const maxMs = this.options.autosaveMaxMs ?? DEFAULT_AUTOSAVE_MAX_MS;
    const delay = Math.max(
      0,
      Math.min(this.options.autosaveMs, this.autosaveFirstAt + maxMs - now),
    );
    this.autosaveTimer = setTimeout(() => {
      this.autosaveTimer = null;
      void this.autosave().then(
        () => (this.lastToldFailure = null),
        (e: Error) => {
          this.log(`autosave failed: ${e.message}`);
          // A disk conflict is shown through `diskConflict`; other failures (disk full, read-only,
          // outside the folder) are told to the windows, once until a save succeeds.
          if (this.data.diskConflict || this.lastToldFailure === e.message) return;
          this.lastToldFailure = e.message;
          const code = e instanceof SessionError ? e.code : "io";
          this.broadcast({
            type: "error",
            code: code === "read-only" || code === "forbidden-path" ? code : "io",
            message: `Autosave failed: ${e.message}`,
          });
        },
      );
    }, delay);
  }

  /** Save now what an autosave would save (used on shutdown and by the timer). */
  autosave(): Promise<void> {
    if (this.autosaveTimer) {
      clearTimeout(this.autosaveTimer);
      this.autosaveTimer = null;
    }
    return this.chain(async () => {
      if (this.file) {
        if (this.data.diskConflict || !this.data.dirty) return;
        await this.writeToFile(false);
      } else {
        if (this.data.docRevision === 0 || this.data.docRevision === this.unsavedWrittenRevision)
          return;
        const rev = this.data.docRevision;
        const base = notebookForSave(this.data);
        await this.options.unsaved.ensure();
        await writeFileAtomic(this.options.unsaved.pathOf(this.unsavedId), exportNotebook(base));
        this.unsavedWrittenRevision = rev;
        if (!this.file) this.journal?.saved({ file: null, fileHash: null, base }, rev);
      }
    });
  }

  /** Save to the notebook's file now (the user's "Save"). */
  save(): Promise<void> {
    return this.chain(async () => {
      if (!this.file)
        throw new SessionError("no-path", "this notebook has no file yet: use Save As");
      if (this.data.diskConflict)
        throw new SessionError("io", "the file changed on disk: choose Reload or Keep mine first");
      await this.writeToFile(false);
    });
  }

  /**
   * Save to a new file (absolute path; the caller checked it is allowed) and make it the
   * notebook's file. `confine`: the real folder it must stay in from now on (default: as before).
   */
  saveAs(file: string, display: string, confine = this.confine): Promise<void> {
    return this.chain(async () => {
      const previous = { file: this.file, fingerprint: this.fingerprint, confine: this.confine };
      this.file = file;
      this.fingerprint = null;
      this.confine = confine;
      try {
        await this.writeToFile(true);
      } catch (e) {
        ({ file: this.file, fingerprint: this.fingerprint, confine: this.confine } = previous);
        throw e;
      }
      const previousFile = previous.file;
      this.serverOp("set-path", { path: display });
      this.startWatching();
      if (!previousFile) await this.options.unsaved.remove(this.unsavedId).catch(() => undefined);
    });
  }

  /** The user's answer to a disk conflict. */
  resolveConflict(choice: "reload" | "keep-mine"): Promise<void> {
    return this.chain(async () => {
      if (!this.file) throw new SessionError("no-path", "this notebook has no file");
      if (choice === "keep-mine") {
        await this.writeToFile(true);
        return;
      }
      const bytes = await this.readOwnFile();
      if (bytes === null) throw new SessionError("io", `${this.data.path} no longer exists`);
      const r = importNotebookBytes(bytes);
      if (!r.ok)
        throw new SessionError(
          "import-failed",
          `${this.data.path}:${r.error.line}: ${r.error.message}`,
          r.error.line,
        );
      this.fingerprint = contentHash(bytes);
      this.serverOp("notebook-replaced", { notebook: r.notebook });
      this.journal?.discard();
      this.cellLinesCache = { docRevision: this.data.docRevision, lines: r.cellLines };
    });
  }

  /** Run file work one piece at a time; a failure is reported to the caller and does not stop later work. */
  private chain(work: () => Promise<void>): Promise<void> {
    const run = this.saveChain.then(work);
    this.saveChain = run.catch(() => undefined);
    return run;
  }

  /** The file's bytes now (null when it does not exist), read only where confined and only if regular. */
  private async readOwnFile(): Promise<Buffer | null> {
    const real = await this.confined(this.file!);
    try {
      return (await readRegularFile(real))?.bytes ?? null;
    } catch (e) {
      if (e instanceof NotRegularFileError) throw new SessionError("io", e.message);
      throw e;
    }
  }

  /** Where the notebook's file really is now, refused when a link leads it outside its folder. */
  private async confined(file: string): Promise<string> {
    try {
      return await confinedRealPath(this.confine, file);
    } catch (e) {
      if (e instanceof OutsideFolderError)
        throw new SessionError(
          "forbidden-path",
          `${this.data.path ?? file} now leads outside the served folder: not written (use Save As)`,
        );
      throw e;
    }
  }

  /**
   * Write the notebook to its file. Unless `force` (the user chose "keep mine" or Save As), the
   * file must still be what this session last read or wrote: checked just before the rename
   * (content hash and identity) and right after it (nobody wrote into the file we replaced);
   * a difference raises the changed-on-disk choice and keeps both sides. Confinement and the
   * read-only mode are checked at every write.
   */
  private async writeToFile(force: boolean): Promise<void> {
    const file = this.file!;
    const shown = this.data.path ?? basename(file);
    const real = await this.confined(file);
    const existing = await lstat(real).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (existing && !existing.isFile())
      throw new SessionError("io", `${shown} is not a regular file: not written`);
    if (existing && isReadOnlyMode(existing.mode))
      throw new SessionError(
        "read-only",
        `${shown} is read-only (its permissions forbid writing): your changes are kept here; use Save As to save a copy`,
      );
    const docRevision = this.data.docRevision;
    const saving = notebookForSave(this.data);
    const { text, cellLines } = exportNotebookWithLines(saving);
    const previous = this.fingerprint;
    const conflict = () => {
      if (!this.data.diskConflict) this.serverOp("file-changed-on-disk", {});
      return new SessionError("io", "the file changed on disk: choose Reload or Keep mine");
    };
    this.writing++;
    const hash = contentHash(text);
    try {
      this.journal?.markSaving(hash);
      await writeFileAtomic(real, text, {
        confine: async (target) => void (await this.confined(target)),
        beforeRename: force
          ? undefined
          : async (target) => {
              const opened = await openRegularFile(target).catch((e: Error) => {
                throw new SessionError("io", `${shown}: ${e.message}`);
              });
              if (!opened) return; // deleted meanwhile: written anew
              const { handle, stats } = opened;
              const seen = await readAll(handle, stats.size).catch(async (e: Error) => {
                await handle.close();
                throw e;
              });
              const seenHash = contentHash(seen);
              if (seenHash !== previous) {
                await handle.close();
                throw conflict();
              }
              // The handle keeps the replaced file: after the rename, whatever another program
              // wrote into it meanwhile is still there to be seen, and put back.
              return async () => {
                try {
                  const st = await handle.stat();
                  if (st.size === stats.size && st.mtimeMs === stats.mtimeMs) {
                    const again = await readAll(handle, st.size);
                    if (contentHash(again) === seenHash) return;
                  }
                  const theirs = await readAll(handle, st.size);
                  await writeFileAtomic(target, theirs);
                  this.fingerprint = contentHash(theirs);
                  throw conflict();
                } finally {
                  await handle.close().catch(() => undefined);
                }
              };
            },
      });
    } catch (e) {
      if (e instanceof SessionError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS")
        throw new SessionError(
          "read-only",
          `${shown} cannot be written (${fileErrorReason(e)}): your changes are kept here; use Save As to save a copy`,
        );
      throw new SessionError("io", `could not write ${shown}: ${fileErrorReason(e)}`);
    } finally {
      this.writing--;
      if (this.writing === 0 && this.recheckAfterWrite) {
        this.recheckAfterWrite = false;
        setTimeout(() => void this.checkDisk(), 0);
      }
    }
    this.fingerprint = hash;
    this.cellLinesCache = { docRevision, lines: cellLines };
    try {
      this.journal?.saved(
        { file, fileHash: hash, base: saving },
        docRevision,
        journalKey(file, this.unsavedId),
      );
    } catch (e) {
      this.log(`journal rotation failed: ${(e as Error).message}`);
    }
    this.serverOp("notebook-saved", { path: shown, docRevision });
  }

  private startWatching(): void {
    this.watcher?.close();
    this.watcher = null;
    if (!this.file || this.options.watchFile === false) return;
    const name = basename(this.file);
    try {
      // Watch the folder: editors and our own atomic writes replace the file by renaming.
      this.watcher = watch(dirname(this.file), (_event, filename) => {
        if (filename !== null && filename.toString() !== name) return;
        if (this.watchTimer) clearTimeout(this.watchTimer);
        this.watchTimer = setTimeout(() => void this.checkDisk(), 150);
      });
      this.watcher.on("error", () => undefined);
    } catch (e) {
      this.log(`cannot watch ${this.file}: ${String(e)}`);
    }
  }

  /** Compare the file with what we last read or wrote; a difference is a conflict for the user to resolve. */
  async checkDisk(): Promise<void> {
    // A change seen while we write (e.g. another program's rename right after ours) is checked
    // again once the write is done, not dropped.
    if (this.writing > 0) {
      this.recheckAfterWrite = true;
      return;
    }
    if (!this.file || this.closed || this.data.diskConflict) return;
    let bytes: Buffer | null;
    try {
      bytes = await this.readOwnFile();
    } catch {
      // Not readable, not a regular file or now outside the folder: the next write says so.
      return;
    }
    if (this.writing > 0) {
      this.recheckAfterWrite = true;
      return;
    }
    if (bytes === null || this.data.diskConflict) return;
    if (contentHash(bytes) !== this.fingerprint) this.serverOp("file-changed-on-disk", {});
  }

  /** Flush pending saves, stop the kernel and the watcher. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.autosave().catch((e) => this.log(`final save failed: ${String(e)}`));
    await this.saveChain;
    this.closed = true;
    this.cancelIdleShutdown();
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    if (this.autoEvaluateTimer) clearTimeout(this.autoEvaluateTimer);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watcher?.close();
    this.journal?.close();
    await this.kernel?.stop().catch(() => undefined);
    this.kernel = null;
    this.clients.clear();
  }
}

/** "40 s", "5 minutes", "2 hours" */
function idleText(ms: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  const min = Math.round(ms / 60_000);
  if (min < 120 || min % 60 !== 0) return plural(min, "minute");
  return plural(min / 60, "hour");
}

/** The table output with this id, in any cell (also inside frames). */
function findTable(data: SessionData, tableId: string): TableOutput | null {
  const search = (outputs: readonly Output[]): TableOutput | null => {
    for (const o of outputs) {
      if (o.type === "table" && o.id === tableId) return o;
      if (o.type === "frame") {
        const inner = search(o.outputs);
        if (inner) return inner;
      }
    }
    return null;
  };
  for (const s of Object.values(data.cells)) {
    const t = search(s.outputs);
    if (t) return t;
  }
  return null;
}
