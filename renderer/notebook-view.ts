/**
 * The view of one open notebook: header (title, path, save state, kernel status, notebook
 * actions), sections and their cells, and the keyboard shortcuts.
 *
 * Owns: the mapping from `SessionData` to DOM (cell views keyed by cell id, moved rather than
 * rebuilt), the selected cell, and the translation of user intent into client operations.
 * Invariant: the view never changes `SessionData`; every change goes out as an operation and
 * comes back through `update` after the server has ordered it (model apart from view).
 */
import {
  allCells,
  findCell,
  isEvaluable,
  newId,
  type Cell,
  type Section,
} from "../core/notebook.ts";
import {
  DEFAULT_OUTPUT_LIMIT,
  MAX_OUTPUT_LIMIT,
  MIN_OUTPUT_LIMIT,
  outputLimitProblem,
  type TableSort,
} from "../core/outputs.ts";
import type { SessionData } from "../core/session/data.ts";
import type { ClientOperationInput, Operation } from "../core/session/operations.ts";
import { button, h, setText } from "./dom.ts";
import { CellView, liveChartIds, type CellActions } from "./cell-view.ts";
import {
  interactionCount,
  LazyEditors,
  loadMonaco,
  onTypeScriptStart,
  startTypeScript,
  typeScriptStarted,
} from "./editor.ts";
import { pushChartRows } from "./outputs.ts";
import { syncInputs } from "./inputs.ts";
import { smartCellMenu } from "./cell-view.ts";
import { availableBindings, definitionOf, generate } from "../smart-cells/index.ts";
import type { ScanContext } from "../smart-cells/types.ts";
import type { ModelFile } from "../core/onnx-info.ts";
import { errorMarks } from "./error-output.ts";
import type { FileEntry } from "../core/app-protocol.ts";
import { confirmDialog, showShortcuts } from "./dialog.ts";
import { Sidebar } from "./sidebar.ts";
import { USER_PROFILE_EVENT } from "./user-profile.ts";
import type { SessionsView } from "./sessions-view.ts";
import { themeToggle } from "./theme.ts";
import { SourceSync } from "./collab.ts";
import type { TextDelta } from "../core/delta.ts";
import type { CursorMessage } from "../core/app-protocol.ts";
import { RuntimePicker, type RuntimeHost } from "./runtime-picker.ts";

/** What the notebook view needs from the app (the connection). */
export interface NotebookHost {
  send(op: ClientOperationInput): void;
  save(): void;
  requestTablePage(tableId: string, offset: number, limit: number, sort?: TableSort): void;
  /** One page of a table for this window only (not shown): "Download CSV" gathers them. */
  fetchTablePage(
    tableId: string,
    offset: number,
    limit: number,
    sort?: TableSort,
  ): Promise<unknown[][]>;
  /** Go back to the file browser. */
  showFiles(): void;
  /** Our client id (ops we made are not pushed back into our own editors). */
  clientId(): string;
  /** Tell the other windows where our cursor is (presence; see core/app-protocol.ts). */
  sendCursor(cellId: string | null, anchor: number, head: number, revision: number): void;
  resolveConflict(choice: "reload" | "keep-mine"): void;
  /** The running-sessions view (the sidebar shows it). */
  sessionsView: SessionsView;
  listFiles(path: string): Promise<FileEntry[]>;
  openFile(path: string): void;
  /** Listing, adding and choosing runtimes (renderer/runtime-picker.ts). */
  runtimes: RuntimeHost;
  /** The `.onnx` models the ONNX smart cell can offer (the server reads the notebook's folder). */
  listModels(): Promise<ModelFile[]>;
}

/** Operations after which the error lines marked in editors may change. */
const ERROR_MARK_OPS = new Set<Operation["type"]>([
  "evaluation-started",
  "evaluation-finished",
  "output-appended",
  "clear-outputs",
  "notebook-replaced",
  "delete-cell",
  "restore-cell",
]);

export class NotebookView {
  readonly element: HTMLElement;
  private data: SessionData;
  private readonly cellViews = new Map<string, CellView>();
  private readonly sectionEls = new Map<
    string,
    { root: HTMLElement; title: HTMLElement; cells: HTMLElement }
  >();
  private readonly sectionsEl: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly pathEl: HTMLElement;
  private readonly saveStateEl: HTMLElement;
  private readonly kernelEl: HTMLElement;
  /** The kernel's state in words (a narrow header shows only the dot: the words are its tooltip). */
  private readonly kernelTextEl: HTMLElement;
  private readonly runtimePicker: RuntimePicker;
  private readonly conflictEl: HTMLElement;
  /** "Imported from X.ipynb" and what did not come across (a Jupyter notebook's importer warnings). */
  private readonly importEl: HTMLElement;
  /** Says that edits were recovered from the journal after a crash, until dismissed. */
  private readonly recoveredEl: HTMLElement;
  private recoveredDismissed = false;
  private importShown: SessionData["importedFrom"] | null = null;
  /** "Save outputs" checkbox (the notebook's persistOutputs setting). */
  private readonly persistEl: HTMLElement;
  private readonly persistBox: HTMLInputElement;
  /** "Output limit" field (the notebook's outputLimit: console text kept per cell). */
  private readonly limitEl: HTMLElement;
  private readonly limitBox: HTMLInputElement;
  private readonly lazy: LazyEditors;
  private readonly sidebar: Sidebar;
  private readonly shutdownBtn: HTMLButtonElement;
  private selected: string | null = null;
  /** The cell whose element has the "selected" class. */
  private markedSelected: string | null = null;
  /** Typing as text operations, others' changes and cursors (renderer/collab.ts). */
  private readonly sync: SourceSync;
  private lastKey: { key: string; at: number } | null = null;
  private declTimer: number | null = null;
  /** Cancels the wait for the editors' TypeScript to start (see scheduleDeclarations). */
  private readonly stopWaitingForTypeScript: () => void;
  /** When the session last changed (an output, a status, an edit), for startTypeScriptWhenQuiet. */
  private lastChange = performance.now();
  private quietCheck: number | null;
  /** The binding scan as of `scanCells` (recomputed only when cell states change). */
  private scanCache: {
    cells: SessionData["cells"];
    files: readonly ModelFile[];
    scan: ScanContext;
  } | null = null;
  /** The models the server listed (asked for at start and after each evaluation). */
  private modelFiles: readonly ModelFile[] = [];
  private modelsAsked: Promise<void> | null = null;
  private lastScan: ScanContext | null = null;

  constructor(
    data: SessionData,
    private readonly host: NotebookHost,
  ) {
    this.data = data;
    syncInputs(data.inputs);
    this.sync = new SourceSync(
      {
        clientId: () => this.host.clientId(),
        sendOp: (op) => this.host.send(op),
        sendCursor: (cellId, anchor, head, revision) =>
          this.host.sendCursor(cellId, anchor, head, revision),
      },
      (cellId, delta, text) =>
        this.cellViews.get(cellId)?.applyRemoteSource(text, delta ?? undefined),
      (cellId, cursors) => this.cellViews.get(cellId)?.setRemoteCursors(cursors),
    );
    this.sync.catchUp(data, null);
    this.titleEl = h("h1", {
      class: "nb-title",
      contenteditable: "plaintext-only",
      spellcheck: "false",
      title: "Notebook title (click to edit)",
    });
    this.titleEl.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        this.titleEl.blur();
      }
    });
    this.titleEl.addEventListener("blur", () => {
      const title = (this.titleEl.textContent ?? "").trim() || "Untitled notebook";
      if (title !== this.data.notebook.title) this.host.send({ type: "set-title", title });
    });
    this.pathEl = h("span", { class: "nb-path" });
    this.saveStateEl = h("span", { class: "save-state", "aria-live": "polite" });
    this.kernelTextEl = h("span", { class: "kernel-text" });
    this.kernelEl = h(
      "span",
      { class: "kernel-status", role: "status", "aria-label": "Kernel status" },
      this.kernelTextEl,
    );
    this.runtimePicker = new RuntimePicker(host.runtimes);
    this.conflictEl = h("div", { class: "conflict-banner", hidden: true, role: "alert" });
    this.importEl = h("div", { class: "import-banner", hidden: true, role: "status" });
    this.recoveredEl = h("div", {
      class: "import-banner recovered-banner",
      hidden: true,
      role: "status",
    });
    this.persistBox = h("input", { type: "checkbox" });
    this.persistBox.addEventListener("change", () =>
      this.host.send({ type: "set-persist-outputs", persistOutputs: this.persistBox.checked }),
    );
    this.persistEl = h(
      "label",
      { class: "persist-outputs", title: "Save text outputs and charts in the .tsnb file" },
      this.persistBox,
      h("span", {}, "Save outputs"),
    );
    this.limitBox = h("input", {
      type: "number",
      class: "output-limit-input",
      min: String(MIN_OUTPUT_LIMIT),
      max: String(MAX_OUTPUT_LIMIT),
      step: "1000",
      placeholder: DEFAULT_OUTPUT_LIMIT.toLocaleString("en"),
      "aria-label": "Output limit (characters of console text kept per cell)",
    });
    this.limitBox.addEventListener("change", () => this.setOutputLimit());
    this.limitEl = h(
      "label",
      {
        class: "output-limit",
        title: `Characters of console text each cell keeps; older lines are dropped (empty: ${DEFAULT_OUTPUT_LIMIT.toLocaleString("en")}). Saved in the notebook.`,
      },
      h("span", {}, "Output limit"),
      this.limitBox,
    );
    this.shutdownBtn = button(
      "Shut down kernel",
      () => this.host.send({ type: "shutdown-kernel" }),
      {
        icon: "⊘",
        title: "Shut down the kernel (frees its memory; the next run starts a new one)",
        cls: "ghost",
      },
    );
    const actions = h(
      "div",
      { class: "nb-actions", role: "toolbar", "aria-label": "Notebook actions" },
      button("Run all", () => this.runAll(), {
        icon: "▶",
        title: "Run all (Ctrl+Shift+Enter)",
        text: true,
        cls: "primary",
      }),
      button("Interrupt", () => this.host.send({ type: "interrupt" }), {
        icon: "■",
        title: "Interrupt (I I)",
        text: true,
      }),
      button("Restart kernel", () => void this.restartKernel(), {
        icon: "↻",
        title: "Restart kernel (0 0)",
        text: true,
      }),
      this.shutdownBtn,
      button("Save", () => this.save(), { icon: "⤓", title: "Save (Ctrl+S)", text: true }),
      this.exportMenu(),
      this.settingsMenu(),
    );
    const header = h(
      "header",
      { class: "nb-header" },
      h(
        "div",
        { class: "nb-topbar" },
        button("Start page", () => this.host.showFiles(), {
          icon: "⌂",
          title: "Start page: notebooks, running sessions",
          cls: "ghost",
        }),
        h("span", { class: "nb-where" }, this.pathEl, this.saveStateEl),
        h("span", { class: "spacer" }),
        actions,
        themeToggle(),
        this.runtimePicker.element,
        this.kernelEl,
      ),
      this.conflictEl,
      this.recoveredEl,
      this.importEl,
    );
    this.sectionsEl = h("div", { class: "sections" });
    const addSection = h(
      "div",
      { class: "notebook-add" },
      button("Add section", () => this.addSection(), { icon: "+", text: true, cls: "ghost" }),
    );
    const main = h(
      "main",
      { class: "notebook", "aria-label": "Notebook" },
      header,
      h("div", { class: "nb-body" }, this.titleEl, this.sectionsEl, addSection),
    );
    this.sidebar = new Sidebar(data, {
      scrollToSection: (id) => this.scrollToSection(id),
      listFiles: (path) => this.host.listFiles(path),
      openFile: (path) => this.host.openFile(path),
      restoreCell: (cellId) => this.host.send({ type: "restore-cell", cellId }),
      sessionsView: this.host.sessionsView,
      people: () => this.sync.people(),
    });
    this.element = h("div", { class: "nb-layout" }, this.sidebar.element, main);
    window.addEventListener(USER_PROFILE_EVENT, this.onUserProfile);
    main.addEventListener("keydown", (ev) => this.onKeyDown(ev));
    this.lazy = new LazyEditors(() => this.scheduleDeclarations());
    this.stopWaitingForTypeScript = onTypeScriptStart(() => this.scheduleDeclarations());
    this.quietCheck = window.setInterval(() => this.startTypeScriptWhenQuiet(), 500);
    this.render(null);
    // Load Monaco in the background once the page has painted.
    const idle = window.requestIdleCallback ?? ((fn: () => void) => window.setTimeout(fn, 200));
    idle(() => void loadMonaco(), { timeout: 1000 });
  }

  /** The session data changed by `op` (null: a whole new snapshot). */
  update(data: SessionData, op: Operation | null): void {
    this.lastChange = performance.now();
    if (op && op.type === "output-updated" && op.update.type === "vega-lite-push") {
      if (pushChartRows(op.update.id, op.update.rows, op.update.window))
        liveChartIds.add(op.update.id);
    }
    this.data = data;
    syncInputs(data.inputs);
    // Typing not yet acknowledged is rebased first, so render leaves those editors alone.
    this.sync.catchUp(data, op);
    this.render(op);
    this.sidebar.update(data);
    if (
      op &&
      (op.type === "set-cell-source" ||
        op.type === "apply-cell-delta" ||
        op.type === "insert-cell" ||
        op.type === "delete-cell" ||
        op.type === "move-cell")
    ) {
      this.scheduleDeclarations();
    }
  }

  /** The field's value as the notebook's output limit; a bad value says why, and is not sent. */
  private setOutputLimit(): void {
    const text = this.limitBox.value.trim();
    const value = text === "" ? null : Number(text);
    const problem = value === null ? null : outputLimitProblem(value);
    this.limitBox.setCustomValidity(problem ? `The ${problem.replace(/^the /, "")}` : "");
    if (problem) {
      this.limitBox.reportValidity();
      return;
    }
    this.host.send({ type: "set-output-limit", outputLimit: value });
  }

  private renderRecovered(): void {
    const edits = this.data.recovered?.edits ?? 0;
    const show = edits > 0 && !this.recoveredDismissed;
    this.recoveredEl.hidden = !show;
    if (!show) return;
    const what = edits === 1 ? "1 edit" : `${edits.toLocaleString("en")} edits`;
    const keep = !this.data.dirty
      ? "They are saved."
      : this.data.path
        ? "They are not saved yet: autosave or Save writes them."
        : "Use Save As to keep them in a file.";
    const text = `tsnb stopped before saving this notebook: ${what} made in it were recovered. ${keep}`;
    if (this.recoveredEl.firstChild?.textContent === text) return;
    this.recoveredEl.replaceChildren(
      h("span", {}, text),
      button(
        "Dismiss",
        () => {
          this.recoveredDismissed = true;
          this.renderRecovered();
        },
        { text: true, cls: "ghost" },
      ),
    );
  }

  private renderImported(): void {
    const from = this.data.importedFrom;
    if (from === this.importShown) return;
    this.importShown = from ?? null;
    this.importEl.hidden = !from;
    if (!from) return;
    const saves = this.data.path
      ? `Saving writes ${this.data.path}; the .ipynb is never changed.`
      : "Use Save As to keep it as a .tsnb; the .ipynb is never changed.";
    const head = h("span", {}, `Imported from ${from.file}. ${saves}`);
    if (from.warnings.length === 0) return this.importEl.replaceChildren(head);
    const list = h("ul", {}, ...from.warnings.map((w) => h("li", {}, w)));
    const details = h(
      "details",
      {},
      h(
        "summary",
        {},
        `${from.warnings.length} thing${from.warnings.length > 1 ? "s" : ""} did not come across as they were`,
      ),
      list,
    );
    this.importEl.replaceChildren(head, details);
  }

  /**
   * Run `then` once typing is sent (before run, save, move, delete): typing goes out as it
   * happens, one delta in flight per cell, so this waits at most for one acknowledgement.
   */
  flush(cellId?: string, then?: () => void): void {
    if (then) this.sync.whenSent(then, cellId);
  }

  /** Another window's cursor moved. */
  remoteCursor(m: CursorMessage & { clientId: string }): void {
    this.sync.remoteCursor(
      m.clientId,
      m.cellId === null
        ? null
        : {
            cellId: m.cellId,
            anchor: m.anchor,
            head: m.head,
            revision: m.revision,
            ...(m.name !== undefined ? { name: m.name } : {}),
            ...(m.color !== undefined ? { color: m.color } : {}),
          },
    );
    this.sidebar.refreshPeople();
  }

  private render(op: Operation | null): void {
    const nb = this.data.notebook;
    if (document.activeElement !== this.titleEl) setText(this.titleEl, nb.title);
    const title = `${nb.title}${this.data.dirty ? " •" : ""} — tsnb`;
    if (document.title !== title) document.title = title;
    setText(this.pathEl, this.data.path ?? "Unsaved notebook");
    this.pathEl.title = this.data.path ?? "Not saved yet: Save chooses where";
    setText(
      this.saveStateEl,
      this.data.dirty ? "Unsaved changes" : this.data.lastSavedAt ? "Saved" : "",
    );
    this.saveStateEl.dataset["dirty"] = String(this.data.dirty);
    this.persistBox.checked = this.data.notebook.metadata.persistOutputs === true;
    if (document.activeElement !== this.limitBox) {
      const limit = this.data.notebook.metadata.outputLimit;
      this.limitBox.value = typeof limit === "number" ? String(limit) : "";
      this.limitBox.setCustomValidity("");
    }
    const k = this.data.kernel;
    const kernelText: Record<string, string> = {
      "not-started": "Kernel not started",
      starting: "Kernel starting…",
      idle: "Kernel idle",
      busy: "Kernel busy",
      dead: "Kernel dead",
    };
    const kernelWords = kernelText[k.status] ?? k.status;
    setText(this.kernelTextEl, kernelWords);
    this.kernelEl.title = k.reason ? `${kernelWords}: ${k.reason}` : kernelWords;
    this.kernelEl.dataset["status"] = k.status;
    this.shutdownBtn.disabled = k.status === "not-started" || k.status === "dead";
    this.runtimePicker.update(this.data.runtime ?? null);
    if (this.data.diskConflict) {
      this.conflictEl.hidden = false;
      this.conflictEl.replaceChildren(
        h("span", {}, "The file was changed by another program. Autosave is paused."),
        button("Reload from disk", () => this.host.resolveConflict("reload"), { text: true }),
        button("Keep my version", () => this.host.resolveConflict("keep-mine"), { text: true }),
      );
    } else this.conflictEl.hidden = true;
    this.renderImported();
    this.renderRecovered();

    const me = this.host.clientId();
    // Our own echoed edits, and cells with typing not yet sent, keep what the editor shows.
    const keepLocal = (cellId: string) =>
      this.sync.isTracked(cellId) ||
      (op?.type === "apply-cell-delta" && op.clientId === me && op.cellId === cellId);
    // Typing changes one cell's source and nothing else of the page (sections, order, outputs,
    // bindings): update that cell alone instead of walking every cell on each keystroke.
    if (op && (op.type === "apply-cell-delta" || op.type === "set-cell-source")) {
      const view = this.cellViews.get(op.cellId);
      const found = findCell(nb, op.cellId);
      if (view && found && view.type === found.cell.type) {
        view.update(found.cell, this.data.cells[op.cellId], !keepLocal(op.cellId));
        return;
      }
    }
    // Moving a cell's element (a move across sections, or up) drops the focus it holds, and
    // with it command mode: Alt+↓ pressed again would do nothing. Give it back below.
    const focused = document.activeElement;
    const seenSections = new Set<string>();
    const seenCells = new Set<string>();
    nb.sections.forEach((section, si) => {
      seenSections.add(section.id);
      const sec = this.sectionView(section);
      if (this.sectionsEl.children[si] !== sec.root)
        this.sectionsEl.insertBefore(sec.root, this.sectionsEl.children[si] ?? null);
      if (document.activeElement !== sec.title) setText(sec.title, section.title);
      sec.root.classList.toggle("untitled", section.title === "");
      section.cells.forEach((cell, ci) => {
        seenCells.add(cell.id);
        let view = this.cellViews.get(cell.id);
        if (!view || view.type !== cell.type) {
          view?.dispose();
          view = new CellView(cell, this.cellActions);
          this.cellViews.set(cell.id, view);
          if (view.codeEditor) this.lazy.observe(view.codeEditor);
          view.update(cell, this.data.cells[cell.id], true);
        } else {
          view.update(cell, this.data.cells[cell.id], !keepLocal(cell.id));
        }
        if (sec.cells.children[ci] !== view.element)
          sec.cells.insertBefore(view.element, sec.cells.children[ci] ?? null);
      });
      while (sec.cells.children.length > section.cells.length) sec.cells.lastElementChild?.remove();
    });
    for (const [id, view] of this.cellViews) {
      if (!seenCells.has(id)) {
        if (view.codeEditor) this.lazy.unobserve(view.codeEditor);
        view.dispose();
        this.cellViews.delete(id);
        if (this.selected === id) this.selected = null;
      }
    }
    for (const [id, sec] of this.sectionEls) {
      if (!seenSections.has(id)) {
        sec.root.remove();
        this.sectionEls.delete(id);
      }
    }
    if (!op || ERROR_MARK_OPS.has(op.type)) this.showErrorMarks();
    if (!this.modelsAsked || op?.type === "evaluation-finished") void this.refreshModels();
    const scan = this.scan();
    if (scan !== this.lastScan) {
      this.lastScan = scan;
      for (const view of this.cellViews.values()) if (view.type === "smart") view.updateScan();
    }
    this.markSelected();
    if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected)
      focused.focus({ preventScroll: true });
  }

  private sectionView(section: Section): {
    root: HTMLElement;
    title: HTMLElement;
    cells: HTMLElement;
  } {
    const existing = this.sectionEls.get(section.id);
    if (existing) return existing;
    const title = h("h2", {
      class: "section-title",
      contenteditable: "plaintext-only",
      spellcheck: "false",
      title: "Section title (click to edit)",
    });
    title.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        title.blur();
      }
    });
    title.addEventListener("blur", () => {
      const text = (title.textContent ?? "").trim();
      const current = this.data.notebook.sections.find((s) => s.id === section.id);
      if (current && text !== current.title)
        this.host.send({ type: "rename-section", sectionId: section.id, title: text });
    });
    const cells = h("div", { class: "cells" });
    const add = h(
      "div",
      { class: "section-add" },
      button("Add code cell", () => this.insertAt(section.id, "end", "code"), {
        icon: "+",
        text: true,
        cls: "ghost",
      }),
      button("Add Markdown cell", () => this.insertAt(section.id, "end", "markdown"), {
        icon: "+",
        text: true,
        cls: "ghost",
      }),
      smartCellMenu((kind) => this.insertSmartAt(section.id, "end", kind), "Add smart cell"),
    );
    const head = h(
      "div",
      { class: "section-head" },
      title,
      button(
        "Delete section",
        () =>
          this.flush(undefined, () =>
            this.host.send({ type: "delete-section", sectionId: section.id }),
          ),
        { icon: "✕", title: "Delete this section and its cells", cls: "danger section-delete" },
      ),
    );
    const root = h(
      "section",
      { class: "section", "data-section-id": section.id },
      head,
      cells,
      add,
    );
    const view = { root, title, cells };
    this.sectionEls.set(section.id, view);
    return view;
  }

  // ---- Intents ----

  private readonly cellActions: CellActions = {
    run: (cellId) => this.run(cellId),
    insertBelow: (cellId, type) => this.insertBelow(cellId, type),
    delete: (cellId) => {
      const next = this.neighbour(cellId, 1) ?? this.neighbour(cellId, -1);
      this.flush(cellId, () => this.host.send({ type: "delete-cell", cellId }));
      this.selected = next;
      if (next) this.focusCell(next);
    },
    move: (cellId, offset) => {
      this.host.send({ type: "move-cell", cellId, offset });
      this.selected = cellId;
    },
    sourceChanged: (cellId, source, delta) => this.sync.local(cellId, source, delta),
    cursorMoved: (cellId, selection) =>
      selection
        ? this.sync.localCursor(cellId, selection.anchor, selection.head)
        : this.sync.leftCell(cellId),
    select: (cellId) => {
      if (this.selected !== cellId) {
        this.selected = cellId;
        this.markSelected();
        this.scheduleDeclarations();
      }
    },
    escape: (cellId) => this.focusCell(cellId),
    insertSmartBelow: (cellId, kind) => {
      for (const s of this.data.notebook.sections) {
        const i = s.cells.findIndex((c) => c.id === cellId);
        if (i >= 0) return this.insertSmartAt(s.id, i + 1, kind);
      }
    },
    scan: () => this.scan(),
    setSmartAttrs: (cellId, attrs, source) =>
      this.host.send({ type: "set-smart-cell-attrs", cellId, attrs, source }),
    setAutoRun: (cellId, autoRun) => {
      const cell = allCells(this.data.notebook).find((c) => c.id === cellId);
      if (cell && cell.type !== "markdown")
        this.host.send({
          type: "set-cell-options",
          cellId,
          options: { ...(cell.options ?? {}), autoRun },
        });
    },
    convertSmartCell: (cellId) => this.host.send({ type: "convert-smart-cell", cellId }),
    requestTablePage: (tableId, offset, limit, sort) =>
      this.host.requestTablePage(tableId, offset, limit, sort),
    fetchTableRows: async (tableId, totalRows, sort) => {
      const rows: unknown[][] = [];
      // The kernel pages at most 1,000 rows; a CSV of a big table is gathered page by page.
      while (rows.length < totalRows) {
        const page = await this.host.fetchTablePage(tableId, rows.length, 1000, sort);
        if (page.length === 0) break;
        rows.push(...page);
      }
      return rows;
    },
    setInputValue: (inputId, value) => this.host.send({ type: "set-input-value", inputId, value }),
    describeCell: (cellId) => this.describeCell(cellId),
    revealCell: (cellId, line, column) => {
      this.cellActions.select(cellId);
      this.cellViews.get(cellId)?.codeEditor?.revealPosition(line, column);
    },
    sendControlEvent: (controlId, event) =>
      this.host.send({ type: "control-event", controlId, event }),
  };

  /** "code cell 2 in “Load the data”": its place among the code cells, and its section. */
  private describeCell(cellId: string): string | null {
    let n = 0;
    for (const section of this.data.notebook.sections)
      for (const cell of section.cells) {
        if (cell.type !== "markdown") n++;
        if (cell.id === cellId)
          return `code cell ${n}${section.title ? ` in “${section.title}”` : ""}`;
      }
    return null;
  }

  /** Mark in each editor the line where its code failed (errors in place). */
  private showErrorMarks(): void {
    const marks = errorMarks(this.data.cells);
    for (const [id, view] of this.cellViews) view.codeEditor?.setErrorMark(marks.get(id) ?? null);
  }

  /**
   * Restart the kernel, after asking when it has state to lose (a live kernel): its variables
   * go, a running cell is stopped. A kernel that is not running restarts without a question.
   */
  async restartKernel(): Promise<void> {
    const k = this.data.kernel.status;
    if (k === "idle" || k === "busy" || k === "starting") {
      const running = this.data.running !== null || this.data.queue.length > 0;
      const ok = await confirmDialog(
        `Every variable the notebook defined is lost${running ? " and the running cell is stopped" : ""}; cells are marked stale.`,
        "Restart",
        { title: "Restart the kernel?", danger: true },
      );
      if (!ok) return;
    }
    this.host.send({ type: "restart-kernel" });
  }

  private scrollToSection(sectionId: string | null): void {
    const el = sectionId === null ? this.titleEl : this.sectionEls.get(sectionId)?.root;
    el?.scrollIntoView({ block: "start", behavior: "instant" as ScrollBehavior });
  }

  private addSection(): void {
    const index = this.data.notebook.sections.length;
    this.host.send({ type: "insert-section", sectionId: newId("s"), index, title: "New section" });
  }

  private run(cellId: string): void {
    const cell = allCells(this.data.notebook).find((c) => c.id === cellId);
    if (cell && isEvaluable(cell))
      this.flush(cellId, () => this.host.send({ type: "evaluate-cell", cellId }));
  }

  private runAll(): void {
    this.flush(undefined, () => this.host.send({ type: "evaluate-all" }));
  }

  save(): void {
    this.flush(undefined, () => this.host.save());
  }

  /**
   * "Settings": the notebook's own settings, saved in its file (keep outputs, output limit), in a
   * panel under the button so the header stays one row. Escape or a click elsewhere closes it.
   */
  private settingsMenu(): HTMLElement {
    const panel = h(
      "div",
      { class: "nb-settings-panel", role: "group", "aria-label": "Notebook settings" },
      this.persistEl,
      this.limitEl,
    );
    const menu = h(
      "details",
      { class: "nb-settings" },
      h(
        "summary",
        {
          class: "btn",
          title: "Notebook settings (saved in the notebook)",
          "aria-label": "Settings",
        },
        h("span", { class: "icon", "aria-hidden": "true" }, "⚙"),
        h("span", { class: "btn-text" }, "Settings"),
      ),
      panel,
    );
    menu.addEventListener("toggle", () => {
      if (!menu.open) return;
      // Under the button, right-aligned; moved right if that would leave the window.
      panel.style.left = "";
      panel.style.right = "0";
      if (panel.getBoundingClientRect().left < 8) {
        panel.style.right = "auto";
        panel.style.left = "0";
      }
    });
    document.addEventListener("pointerdown", (ev) => {
      if (menu.open && !menu.contains(ev.target as Node)) menu.open = false;
    });
    menu.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && menu.open) {
        ev.stopPropagation();
        menu.open = false;
        menu.querySelector("summary")!.focus();
      }
    });
    return menu;
  }

  /** "Export…": the notebook as the page shows it, as a download (renderer/export-download.ts). */
  private exportMenu(): HTMLSelectElement {
    const label = "Export the notebook with its outputs";
    const sel = h(
      "select",
      { class: "export-menu", "aria-label": label, title: label },
      h("option", { value: "" }, "Export…"),
      h("option", { value: "html" }, "HTML page (.html)"),
      h("option", { value: "html-no-code" }, "HTML page without code"),
      h("option", { value: "ipynb" }, "Jupyter notebook (.ipynb)"),
    );
    sel.addEventListener("change", () => {
      const format = sel.value;
      sel.value = "";
      if (format !== "html" && format !== "html-no-code" && format !== "ipynb") return;
      sel.disabled = true;
      this.flush(undefined, () => {
        void import("./export-download.ts")
          .then(({ downloadPageExport }) => downloadPageExport(this.data, format))
          .catch((err: unknown) => window.alert(`Export failed: ${String(err)}`))
          .finally(() => (sel.disabled = false));
      });
    });
    return sel;
  }

  private insertBelow(cellId: string, type: "code" | "markdown"): void {
    const sections = this.data.notebook.sections;
    for (const s of sections) {
      const i = s.cells.findIndex((c) => c.id === cellId);
      if (i >= 0) return this.insertAt(s.id, i + 1, type);
    }
  }

  /** The bindings the kernel described (smart-cell forms offer them). */
  private scan(): ScanContext {
    if (this.scanCache?.cells !== this.data.cells || this.scanCache.files !== this.modelFiles) {
      const bindings = availableBindings(this.data);
      // Keep the same object while nothing changed, so forms are not redrawn for every op.
      const same =
        this.scanCache &&
        this.scanCache.files === this.modelFiles &&
        JSON.stringify(this.scanCache.scan.bindings) === JSON.stringify(bindings);
      this.scanCache = {
        cells: this.data.cells,
        files: this.modelFiles,
        scan: same ? this.scanCache!.scan : { bindings, files: this.modelFiles },
      };
    }
    return this.scanCache.scan;
  }

  /** Ask the server for the models again (a cell may have written one); forms redraw if they changed. */
  private refreshModels(): Promise<void> {
    const asked = this.host.listModels().then(
      (files) => {
        if (JSON.stringify(files) === JSON.stringify(this.modelFiles)) return;
        this.modelFiles = files;
        const scan = this.scan();
        this.lastScan = scan;
        for (const view of this.cellViews.values()) if (view.type === "smart") view.updateScan();
      },
      () => undefined,
    );
    this.modelsAsked = asked;
    return asked;
  }

  private insertSmartAt(sectionId: string, index: number | "end", kind: string): void {
    const def = definitionOf(kind);
    // A model cell starts from the models the server lists: wait for a fresh list first.
    if (def?.scan.includes("onnx-model")) {
      void this.refreshModels().then(() => this.insertSmart(sectionId, index, kind));
      return;
    }
    this.insertSmart(sectionId, index, kind);
  }

  private insertSmart(sectionId: string, index: number | "end", kind: string): void {
    const section = this.data.notebook.sections.find((s) => s.id === sectionId);
    const def = definitionOf(kind);
    if (!section || !def) return;
    const attrs = def.defaultAttrs(this.scan());
    this.host.send({
      type: "insert-cell",
      sectionId,
      index: index === "end" ? section.cells.length : index,
      cellType: "smart",
      cellId: newId(),
      kind,
      attrs,
      source: generate(def, attrs).source,
    });
  }

  private insertAt(sectionId: string, index: number | "end", type: "code" | "markdown"): void {
    const section = this.data.notebook.sections.find((s) => s.id === sectionId);
    if (!section) return;
    const id = newId();
    this.host.send({
      type: "insert-cell",
      sectionId,
      index: index === "end" ? section.cells.length : index,
      cellType: type,
      cellId: id,
    });
    // The cell appears when the server's broadcast comes back; focus it then, unless the user
    // pressed a key or clicked meanwhile.
    const asked = interactionCount();
    const tryFocus = (attempt: number) => {
      if (interactionCount() !== asked) return;
      const view = this.cellViews.get(id);
      if (view) view.edit();
      else if (attempt < 50) window.setTimeout(() => tryFocus(attempt + 1), 20);
    };
    tryFocus(0);
  }

  private neighbour(cellId: string, dir: 1 | -1): string | null {
    const cells = allCells(this.data.notebook);
    const i = cells.findIndex((c) => c.id === cellId);
    return cells[i + dir]?.id ?? null;
  }

  private focusCell(cellId: string): void {
    const view = this.cellViews.get(cellId);
    if (!view) return;
    this.selected = cellId;
    view.element.focus({ preventScroll: false });
    this.markSelected();
  }

  private markSelected(): void {
    const marked = this.markedSelected;
    if (marked !== null && marked !== this.selected)
      this.cellViews.get(marked)?.element.classList.remove("selected");
    if (this.selected !== null)
      this.cellViews.get(this.selected)?.element.classList.add("selected");
    this.markedSelected = this.selected;
  }

  /** Keyboard shortcuts; in "command mode" (a cell is selected, nothing is being edited) single keys act. */
  private onKeyDown(ev: KeyboardEvent): void {
    const mod = ev.ctrlKey || ev.metaKey;
    if (mod && ev.key.toLowerCase() === "s") {
      ev.preventDefault();
      this.save();
      return;
    }
    if (mod && ev.shiftKey && ev.key === "Enter") {
      ev.preventDefault();
      this.runAll();
      return;
    }
    const sel = this.selected ? this.cellViews.get(this.selected) : undefined;
    if (!sel) return;
    if (ev.shiftKey && ev.key === "Enter" && !mod) {
      ev.preventDefault();
      if (sel.type === "markdown") return;
      this.run(sel.id);
      return;
    }
    if (ev.altKey && (ev.key === "ArrowUp" || ev.key === "ArrowDown")) {
      ev.preventDefault();
      this.cellActions.move(sel.id, ev.key === "ArrowUp" ? -1 : 1);
      return;
    }
    const target = ev.target as HTMLElement | null;
    const editing =
      sel.isEditing() ||
      (target !== null &&
        (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)));
    if (editing || mod || ev.altKey) return;
    const key = ev.key;
    const double = (k: string) => {
      const hit = this.lastKey?.key === k && Date.now() - this.lastKey.at < 600;
      this.lastKey = hit ? null : { key: k, at: Date.now() };
      return hit;
    };
    switch (key) {
      case "Enter":
        ev.preventDefault();
        sel.edit();
        break;
      case "?":
        ev.preventDefault();
        showShortcuts();
        break;
      case "b":
      case "B":
        ev.preventDefault();
        this.insertBelow(sel.id, "code");
        break;
      case "m":
      case "M":
        ev.preventDefault();
        this.insertBelow(sel.id, "markdown");
        break;
      case "d":
      case "D":
        if (double("d")) this.cellActions.delete(sel.id);
        break;
      case "i":
      case "I":
        if (double("i")) this.host.send({ type: "interrupt" });
        break;
      case "0":
        if (double("0")) void this.restartKernel();
        break;
      case "ArrowUp":
      case "k": {
        const prev = this.neighbour(sel.id, -1);
        if (prev) {
          ev.preventDefault();
          this.focusCell(prev);
        }
        break;
      }
      case "ArrowDown":
      case "j": {
        const next = this.neighbour(sel.id, 1);
        if (next) {
          ev.preventDefault();
          this.focusCell(next);
        }
        break;
      }
    }
  }

  /**
   * The editors' TypeScript starts when the user first works in an editor (renderer/editor.ts)
   * or, without that, once the notebook has been quiet for a while: no cell running or queued
   * and no change for 3 s, so its start (≈ 1.5 s of CPU) does not compete with a cell's output
   * streaming in right after the notebook opened (docs/ui.md).
   */
  private startTypeScriptWhenQuiet(): void {
    if (typeScriptStarted()) {
      if (this.quietCheck !== null) window.clearInterval(this.quietCheck);
      this.quietCheck = null;
      return;
    }
    const busy = this.data.running !== null || this.data.queue.length > 0;
    if (busy || performance.now() - this.lastChange < 3000) return;
    startTypeScript();
  }

  /** Recompute the editor's declarations of names defined by cells (debounced). */
  private scheduleDeclarations(): void {
    if (!typeScriptStarted()) return; // computed when TypeScript starts
    if (this.declTimer !== null) clearTimeout(this.declTimer);
    this.declTimer = window.setTimeout(() => {
      this.declTimer = null;
      // Names defined by the cells up to the last one with a live editor (at most 80 code
      // cells): a large notebook costs nothing until its editors exist. A name declared twice
      // takes its type from the last declaration at or before the selected cell (what that cell
      // sees when run in order); names only defined further down are still known.
      const all = allCells(this.data.notebook);
      let last = -1;
      all.forEach((c, i) => {
        if (this.cellViews.get(c.id)?.codeEditor?.hasEditor) last = i;
      });
      if (last < 0) return;
      const sel = this.selected ? all.findIndex((c) => c.id === this.selected) : -1;
      const code = (cs: Cell[]) =>
        cs.filter((c): c is Exclude<Cell, { type: "markdown" }> => isEvaluable(c));
      const before = code(all.slice(0, sel >= 0 ? sel + 1 : last + 1)).slice(-60);
      const after =
        sel >= 0 ? code(all.slice(sel + 1, Math.max(sel + 1, last + 1))).slice(0, 20) : [];
      // updateCellDeclarations lets later entries win: the cells after the selection go first.
      const cells = [...after, ...before];
      void loadMonaco().then((m) =>
        m.updateCellDeclarations(
          cells.map((c) => ({
            id: c.id,
            source: this.cellViews.get(c.id)?.currentSource() ?? c.source,
          })),
        ),
      );
    }, 800);
  }

  /** The user changed their name: the other windows get it with this window's cursor. */
  private readonly onUserProfile = (): void => this.sync.resendMine();

  dispose(): void {
    this.stopWaitingForTypeScript();
    if (this.quietCheck !== null) window.clearInterval(this.quietCheck);
    window.removeEventListener(USER_PROFILE_EVENT, this.onUserProfile);
    for (const v of this.cellViews.values()) v.dispose();
    this.cellViews.clear();
    this.element.remove();
  }
}
