/**
 * The view of one cell: a toolbar of actions, the source (Monaco/static code for code cells,
 * rendered Markdown or a textarea for Markdown cells), the evaluation status and the outputs.
 *
 * Owns: the DOM of the cell and its local editing state. Invariants: it only reads session
 * data (`update`) and reports user intent through `CellActions`; it never changes the data
 * itself. Outputs are re-rendered only when their object changed (the reducer is immutable),
 * and charts with live updates are kept (rows are pushed into them instead).
 */
import type { Cell } from "../core/notebook.ts";
import type { Output } from "../core/outputs.ts";
import type { CellSessionState } from "../core/session/data.ts";
import { button, formatDuration, h } from "./dom.ts";
import { CellCodeEditor } from "./editor.ts";
import type { TextDelta } from "../core/delta.ts";
import type { RemoteCursor } from "./collab.ts";
import { renderMarkdown } from "./markdown.ts";
import { createMarkdownEditor, type MarkdownSourceEditor } from "./markdown-editor.ts";
import { renderOutput, updateOutputElement, type OutputHost } from "./outputs.ts";
import { SmartCellPanel, type SmartCellActions } from "./smart-cell-view.ts";
import { SMART_CELLS } from "../smart-cells/index.ts";
import type { ScanContext } from "../smart-cells/types.ts";

/** Outputs that keep changing (console text streaming in) are drawn at most this often (ms). */
const OUTPUT_DRAW_MS = 33;

/** What a cell view asks the notebook for. */
export interface CellActions extends OutputHost, SmartCellActions {
  run(cellId: string): void;
  insertBelow(cellId: string, type: "code" | "markdown"): void;
  /** Insert a smart cell of `kind` below, its attrs drawn from the current scan. */
  insertSmartBelow(cellId: string, kind: string): void;
  /** What the binding scan found so far (for smart-cell forms). */
  scan(): ScanContext;
  delete(cellId: string): void;
  move(cellId: string, offset: number): void;
  /** The user edited the source (`delta`: the change, when the editor knows it). */
  sourceChanged(cellId: string, source: string, delta?: TextDelta): void;
  /** The user's cursor moved in the cell's editor (null: left it). */
  cursorMoved(cellId: string, selection: { anchor: number; head: number } | null): void;
  select(cellId: string): void;
  /** Leave editing: focus the cell itself (command mode). */
  escape(cellId: string): void;
}

export class CellView {
  readonly element: HTMLElement;
  private cell: Cell;
  private state: CellSessionState | null = null;
  readonly codeEditor: CellCodeEditor | null = null;
  private smartPanel: SmartCellPanel | null = null;
  private readonly body: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly outputsEl: HTMLElement;
  private renderedOutputs: Array<{ output: Output; el: HTMLElement }> = [];
  private markdownView: HTMLElement | null = null;
  private markdownEditor: MarkdownSourceEditor | null = null;
  private remoteCursors: RemoteCursor[] = [];
  /** Outputs changed since they were last drawn (drawn at the next frame). */
  private outputsScheduled = false;
  /** When the outputs were last drawn (`performance.now()`). */
  private outputsDrawnAt = -Infinity;
  private timer: number | null = null;
  /** What the status shows (`statusKey`), to draw it again only when that changes. */
  private statusKey = "";

  constructor(
    cell: Cell,
    private readonly actions: CellActions,
  ) {
    this.cell = cell;
    this.element = h("div", {
      class: `cell cell-${cell.type}`,
      "data-cell-id": cell.id,
      "data-cell-type": cell.type,
      tabindex: "-1",
      role: "group",
      "aria-label":
        cell.type === "markdown"
          ? "Markdown cell"
          : cell.type === "smart"
            ? "Smart cell"
            : "Code cell",
    });
    this.element.addEventListener("focusin", () => actions.select(cell.id));
    this.element.addEventListener("mousedown", () => actions.select(cell.id));
    const toolbar = h("div", {
      class: "cell-toolbar",
      role: "toolbar",
      "aria-label": "Cell actions",
    });
    if (cell.type !== "markdown") {
      toolbar.append(
        button("Run cell", () => this.run(), {
          icon: "▶",
          title: "Run cell (Shift+Enter)",
          cls: "run",
        }),
      );
    }
    toolbar.append(
      withShort(
        button("Insert code cell", () => actions.insertBelow(cell.id, "code"), {
          icon: "+",
          title: "Insert code cell below (B)",
        }),
        "Code",
      ),
      withShort(
        button("Insert Markdown cell", () => actions.insertBelow(cell.id, "markdown"), {
          icon: "+",
          title: "Insert Markdown cell below (M)",
        }),
        "Markdown",
      ),
      smartCellMenu((kind) => actions.insertSmartBelow(cell.id, kind), "Insert smart cell"),
      button("Move up", () => actions.move(cell.id, -1), { icon: "↑", title: "Move up (Alt+↑)" }),
      button("Move down", () => actions.move(cell.id, 1), {
        icon: "↓",
        title: "Move down (Alt+↓)",
      }),
      button("Delete cell", () => actions.delete(cell.id), {
        icon: "✕",
        title: "Delete cell (D D)",
        cls: "danger",
      }),
    );
    this.body = h("div", { class: "cell-body" });
    this.statusEl = h("div", { class: "cell-status", "aria-live": "polite" });
    this.outputsEl = h("div", { class: "outputs" });
    if (cell.type === "markdown") {
      this.element.append(toolbar, this.body);
      this.showMarkdown();
    } else if (cell.type === "smart") {
      this.smartPanel = new SmartCellPanel(cell, actions.scan(), actions);
      this.body.append(this.smartPanel.element);
      this.element.append(toolbar, this.body, this.statusEl, this.outputsEl);
    } else {
      const editor = new CellCodeEditor(cell.id, cell.source, {
        onChange: (source, delta) => actions.sourceChanged(cell.id, source, delta),
        onCursor: (selection) => actions.cursorMoved(cell.id, selection),
        onRun: () => this.run(),
        onEscape: () => actions.escape(cell.id),
        onFocus: () => actions.select(cell.id),
      });
      (this as { codeEditor: CellCodeEditor | null }).codeEditor = editor;
      this.body.append(editor.element);
      this.element.append(toolbar, this.body, this.statusEl, this.outputsEl);
    }
  }

  get id(): string {
    return this.cell.id;
  }

  /** New binding scan: a smart cell's form redraws its lists. */
  updateScan(): void {
    if (this.cell.type === "smart") this.smartPanel?.update(this.cell, this.actions.scan());
  }

  get type(): Cell["type"] {
    return this.cell.type;
  }

  /** The source shown in this view (the editor's buffer for code cells). */
  currentSource(): string {
    if (this.codeEditor) return this.codeEditor.getSource();
    if (this.markdownEditor) return this.markdownEditor.value;
    return this.cell.source;
  }

  private run(): void {
    this.actions.run(this.cell.id);
  }

  /**
   * Someone else's change, rebased past this window's typing (renderer/collab.ts): `delta` turns
   * the editor's text into `text` (absent: replace the text).
   */
  applyRemoteSource(text: string, delta?: TextDelta): void {
    if (this.codeEditor) this.codeEditor.setSource(text, delta);
    else this.markdownEditor?.setValue(text, delta);
  }

  /** New data for this cell. `remoteSource` is false when the change is our own echo. */
  update(cell: Cell, state: CellSessionState | undefined, remoteSource: boolean): void {
    const sourceChanged = cell.source !== this.cell.source;
    this.cell = cell;
    if (cell.type === "smart") this.smartPanel?.update(cell, this.actions.scan());
    if (sourceChanged && remoteSource && cell.type !== "smart") {
      if (this.codeEditor || this.markdownEditor) this.applyRemoteSource(cell.source);
      else this.showMarkdown();
    }
    if (state && state !== this.state) {
      const outputsChanged = this.state?.outputs !== state.outputs;
      const statusChanged = this.state?.status.type !== state.status.type;
      this.state = state;
      this.renderStatus();
      // Streaming text waits for the next frame; a run starting or ending draws its outputs
      // with its status, so "Done" never shows next to the previous run's outputs.
      if (statusChanged && (outputsChanged || this.outputsScheduled)) this.drawOutputsNow();
      else if (outputsChanged) this.scheduleOutputs();
    }
  }

  // ---- Markdown cells ----

  private showMarkdown(): void {
    // Forget the editor before removing it: removing the focused textarea fires its blur
    // handler (finishMarkdown), which must then find nothing left to finish.
    const editor = this.markdownEditor;
    this.markdownEditor = null;
    editor?.dispose();
    // The editor is gone (a disposed Monaco does not always report its blur): so is our cursor.
    if (editor) this.actions.cursorMoved(this.cell.id, null);
    const view = h("div", { class: "markdown-body rendered", title: "Double-click to edit" });
    view.innerHTML = this.cell.source.trim()
      ? renderMarkdown(this.cell.source)
      : `<p class="placeholder">Empty Markdown cell — double-click to edit</p>`;
    view.addEventListener("dblclick", () => this.editMarkdown());
    this.markdownView?.remove();
    this.markdownView = view;
    this.body.append(view);
  }

  /** Switch a Markdown cell to its editor (Monaco with Markdown highlighting, once loaded). */
  editMarkdown(): void {
    if (this.cell.type !== "markdown" || this.markdownEditor) return;
    const editor = createMarkdownEditor(this.cell.source, {
      onChange: (source) => this.actions.sourceChanged(this.cell.id, source),
      onFinish: () => {
        this.finishMarkdown();
        this.actions.escape(this.cell.id);
      },
      onBlur: () => this.finishMarkdown(),
      onCursor: (selection) => this.actions.cursorMoved(this.cell.id, selection),
    });
    this.markdownView?.remove();
    this.markdownView = null;
    this.markdownEditor = editor;
    this.body.append(editor.element);
    editor.setRemoteCursors(this.remoteCursors);
    editor.focus();
  }

  private finishMarkdown(): void {
    if (!this.markdownEditor) return;
    const source = this.markdownEditor.value;
    if (source !== this.cell.source) {
      this.actions.sourceChanged(this.cell.id, source);
      this.cell = { ...this.cell, source };
    }
    this.showMarkdown();
  }

  /** Other windows' cursors in this cell (drawn while it has an editor: code, or Markdown being edited). */
  setRemoteCursors(cursors: RemoteCursor[]): void {
    this.remoteCursors = cursors;
    this.codeEditor?.setRemoteCursors(cursors);
    this.markdownEditor?.setRemoteCursors(cursors);
  }

  /** Enter editing: focus the code editor or open the Markdown textarea. */
  edit(): void {
    if (this.codeEditor) this.codeEditor.focus();
    else this.editMarkdown();
  }

  isEditing(): boolean {
    return this.markdownEditor !== null || (this.codeEditor?.hasFocus() ?? false);
  }

  // ---- Status and outputs ----

  private renderStatus(): void {
    const s = this.state;
    if (!s || this.cell.type === "markdown") return;
    // A streaming cell gets a new state per message: what the status shows is drawn again only
    // when it changes (re-creating it restarts the running dot's animation and the timer, and
    // makes the page lay itself out again on every message).
    const key = statusKey(s);
    if (key === this.statusKey) return;
    this.statusKey = key;
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    const st = s.status;
    let text = "";
    let cls = st.type as string;
    switch (st.type) {
      case "idle":
        text = "";
        break;
      case "queued":
        text = "Queued";
        break;
      case "running": {
        const tick = () => {
          label.textContent = `Running… ${formatDuration(Date.now() - st.startedAt)}`;
        };
        const label = h("span", { class: "status-text" });
        tick();
        this.timer = window.setInterval(tick, 100);
        this.statusEl.replaceChildren(h("span", { class: "status-dot" }), label);
        this.statusEl.dataset["status"] = "running";
        this.element.dataset["status"] = "running";
        return;
      }
      case "done":
        text = `Done in ${formatDuration(st.durationMs)}`;
        break;
      case "error":
        text = `Error after ${formatDuration(st.durationMs)}`;
        break;
      case "aborted":
        text = `Aborted: ${st.reason}`;
        break;
    }
    const stale = s.validity === "stale" && st.type !== "queued";
    if (stale) cls += " stale";
    this.element.dataset["status"] = st.type;
    this.element.dataset["validity"] = s.validity;
    this.statusEl.dataset["status"] = cls;
    this.statusEl.replaceChildren();
    if (text)
      this.statusEl.append(
        h("span", { class: "status-dot" }),
        h("span", { class: "status-text" }, text),
      );
    if (stale)
      this.statusEl.append(
        h(
          "span",
          { class: "badge stale", title: "Its code or a cell it depends on changed since it ran" },
          "Stale",
        ),
      );
  }

  /**
   * Draw the outputs at the next frame: a cell streaming console text gets many updates per
   * frame, and drawing each would cost frames. Outputs that changed again within
   * `OUTPUT_DRAW_MS` of their last drawing wait for a later frame (a flood of console text is
   * drawn about 30 times a second: each drawing also costs the browser's layout, paint and
   * compositing, on a machine the kernel and the server keep busy). A page in the background
   * (no frames) draws after 100 ms instead.
   */
  private scheduleOutputs(): void {
    if (this.outputsScheduled) return;
    this.outputsScheduled = true;
    let frame = 0;
    let timer = 0;
    const draw = (at?: number) => {
      cancelAnimationFrame(frame);
      clearTimeout(timer);
      if (this.outputsScheduled) this.drawOutputsNow(at);
    };
    // `t`: the frame's start (frames come every ~16.7 ms at 60 Hz, hence the margin).
    const atFrame = (t: number) => {
      if (t - this.outputsDrawnAt < OUTPUT_DRAW_MS - 4) frame = requestAnimationFrame(atFrame);
      else draw(t);
    };
    frame = requestAnimationFrame(atFrame);
    timer = window.setTimeout(() => draw(), 100);
  }

  /** Draw the outputs now (`at`: the frame's start when drawn at a frame). */
  private drawOutputsNow(at = performance.now()): void {
    this.outputsScheduled = false;
    this.outputsDrawnAt = at;
    if (this.state) this.renderOutputs(this.state.outputs);
  }

  private renderOutputs(outputs: readonly Output[]): void {
    const next: Array<{ output: Output; el: HTMLElement }> = [];
    // Outputs drawn before, found by identity wherever they moved: when the output limit removes
    // a cell's earliest console text, the displays after it move up and are kept as drawn.
    const drawn = new Map(this.renderedOutputs.map((r) => [r.output, r.el]));
    const shown = new Set(outputs);
    const used = new Set<HTMLElement>();
    for (let i = 0; i < outputs.length; i++) {
      const o = outputs[i]!;
      const moved = drawn.get(o);
      if (moved && !used.has(moved)) {
        used.add(moved);
        next.push({ output: o, el: moved });
        continue;
      }
      // Else the element at the same place, if its output is gone (replaced by a new state); for
      // console text, the next such console element (where earlier outputs were removed).
      const free = (r: { output: Output; el: HTMLElement } | undefined) =>
        r !== undefined && !used.has(r.el) && !shown.has(r.output);
      let old = free(this.renderedOutputs[i]) ? this.renderedOutputs[i] : undefined;
      if (o.type === "terminal" && old?.output.type !== "terminal")
        for (let j = i + 1; j < this.renderedOutputs.length; j++) {
          const r = this.renderedOutputs[j]!;
          if (r.output.type === "terminal" && free(r)) {
            old = r;
            break;
          }
        }
      if (old) used.add(old.el);
      if (old && sameLiveChart(old.output, o)) {
        next.push({ output: o, el: old.el });
      } else if (old && old.output.type === "terminal" && updateOutputElement(old.el, o)) {
        // More console text: the terminal view redraws what it shows, in place.
        next.push({ output: o, el: old.el });
      } else {
        next.push({ output: o, el: renderOutput(o, this.actions, this.cell.id) });
      }
    }
    // Patch the DOM in order, reusing kept elements.
    const els = next.map((n) => n.el);
    for (const old of this.renderedOutputs) if (!els.includes(old.el)) old.el.remove();
    els.forEach((el, i) => {
      if (this.outputsEl.children[i] !== el)
        this.outputsEl.insertBefore(el, this.outputsEl.children[i] ?? null);
    });
    this.renderedOutputs = next;
  }

  dispose(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.outputsScheduled = false;
    this.codeEditor?.dispose();
    this.element.remove();
  }
}

/** A select listing the smart cells (resets after each choice). */
export function smartCellMenu(onPick: (kind: string) => void, label: string): HTMLSelectElement {
  const sel = h(
    "select",
    { class: "smart-menu", "aria-label": label, title: label },
    h("option", { value: "" }, "+ Smart"),
    ...SMART_CELLS.map((d) => h("option", { value: d.kind, title: d.description }, d.name)),
  );
  sel.addEventListener("click", (ev) => ev.stopPropagation());
  sel.addEventListener("change", () => {
    const kind = sel.value;
    sel.value = "";
    if (kind) onPick(kind);
  });
  return sel;
}

function withShort(b: HTMLButtonElement, text: string): HTMLButtonElement {
  b.append(h("span", { class: "short", "aria-hidden": "true" }, text));
  return b;
}

/** A live chart whose rows were pushed into the drawn view already (see NotebookView). */
function sameLiveChart(a: Output, b: Output): boolean {
  return (
    a.type === "vega-lite" &&
    b.type === "vega-lite" &&
    a.id !== undefined &&
    a.id === b.id &&
    liveChartIds.has(a.id)
  );
}

/** Ids of charts that received pushed rows directly (so re-rendering them is unnecessary). */
export const liveChartIds = new Set<string>();

/** What a cell's status line shows, as a string that changes when it does. */
function statusKey(s: CellSessionState): string {
  const st = s.status;
  const what =
    st.type === "running"
      ? `${st.evaluationId}:${st.startedAt}`
      : st.type === "done" || st.type === "error"
        ? String(st.durationMs)
        : st.type === "aborted"
          ? st.reason
          : "";
  return `${st.type}:${what}:${s.validity}`;
}
