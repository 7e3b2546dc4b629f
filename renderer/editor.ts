/**
 * Code editors for cells, created lazily: a cell shows its source as static highlighted code
 * until it comes near the viewport (IntersectionObserver) or is focused; then a Monaco editor
 * replaces it. Editors of cells far out of view are disposed again (their models stay), so a
 * notebook of 1,000 cells holds only a screenful of editors.
 *
 * Owns: loading the Monaco bundle (dist/renderer/monaco.js + monaco.css) once, one Monaco model
 * per code cell (file:///cells/<id>.ts), and the cell declarations library (names defined by
 * the notebook's cells, so later cells see their types). Invariant: the model is the editing
 * buffer of a cell; the session data stays the source of truth and remote changes are pushed
 * into the model with `setSource` (local typing is reported through `onChange`).
 */
import { h } from "./dom.ts";
import { highlightCode } from "./markdown.ts";
import { monacoTheme, onThemeChange } from "./theme.ts";
import { popupLayer } from "./editor-popups.ts";
import { applyErrorMark, sameMark, type ErrorMark } from "./error-output.ts";
import { deltaFromDiff, normalizeDelta, type TextDelta } from "../core/delta.ts";
import type { RemoteCursor } from "./collab.ts";
import { RemoteCursorLayer } from "./remote-cursors.ts";
type MonacoModule = typeof import("./monaco-entry.ts");
type Monaco = MonacoModule["monaco"];
type IStandaloneCodeEditor = import("monaco-editor").editor.IStandaloneCodeEditor;
type ITextModel = import("monaco-editor").editor.ITextModel;
type IEditorDecorationsCollection = import("monaco-editor").editor.IEditorDecorationsCollection;

let loading: Promise<MonacoModule> | null = null;

/** Counts the user's key presses and clicks (a deferred focus must not steal a later choice). */
let interactions = 0;
for (const type of ["keydown", "mousedown"])
  window.addEventListener(type, () => interactions++, { capture: true });

/** How many key presses and clicks the user made so far (compare to detect "did something else"). */
export function interactionCount(): number {
  return interactions;
}
let loaded: MonacoModule | null = null;

/** Load Monaco (script + stylesheet) once; resolves to the bundle's exports. */
export function loadMonaco(): Promise<MonacoModule> {
  if (!loading) {
    const link = h("link", {
      rel: "stylesheet",
      href: new URL("monaco.css", import.meta.url).href,
    });
    document.head.append(link);
    const url = new URL("monaco.js", import.meta.url).href;
    loading = (import(/* @vite-ignore */ url) as Promise<MonacoModule>).then(async (m) => {
      loaded = m;
      // Monaco's theme is global: switch it with the page's.
      onThemeChange((t) => m.monaco.editor.setTheme(monacoTheme(t)));
      try {
        const json = async (name: string): Promise<Record<string, string>> => {
          const res = await fetch(new URL(name, import.meta.url).href);
          return res.ok ? ((await res.json()) as Record<string, string>) : {};
        };
        const [lib, nodeTypes] = await Promise.all([
          json("tsnb-lib.json"),
          json("node-types.json").catch(() => ({})),
        ]);
        m.setLibraryDeclarations(lib, nodeTypes);
      } catch {
        // the editor works without the library's declarations
      }
      return m;
    });
  }
  return loading;
}

let typeScriptWanted = false;
let typeScriptRunning = false;
const typeScriptListeners: Array<() => void> = [];

/**
 * Start the editors' TypeScript (its worker, diagnostics, the cells' shared declarations) the
 * first time the user works in an editor: focus or the mouse over one. Until then a notebook that
 * is only read or run spends no CPU on it.
 */
export function startTypeScript(): void {
  if (typeScriptWanted) return;
  typeScriptWanted = true;
  void loadMonaco().then((m) => {
    m.startTypeScript();
    typeScriptRunning = true;
    for (const f of typeScriptListeners.splice(0)) f();
  });
}

/** Whether {@link startTypeScript} was called. */
export function typeScriptStarted(): boolean {
  return typeScriptWanted;
}

/** Call `f` once TypeScript has started (at once if it has); returns a function that cancels. */
export function onTypeScriptStart(f: () => void): () => void {
  if (typeScriptRunning) {
    f();
    return () => {};
  }
  typeScriptListeners.push(f);
  return () => {
    const i = typeScriptListeners.indexOf(f);
    if (i >= 0) typeScriptListeners.splice(i, 1);
  };
}

export function monacoIfLoaded(): Monaco | null {
  return loaded?.monaco ?? null;
}

export interface CodeEditorCallbacks {
  /** The user edited the source (`delta`: the change, from the editor's own change events). */
  onChange(source: string, delta?: TextDelta): void;
  /** The user's cursor or selection moved (UTF-16 offsets); null: the editor lost focus. */
  onCursor?(selection: { anchor: number; head: number } | null): void;
  /** Shift+Enter in the editor. */
  onRun(): void;
  /** Escape: leave the editor (focus goes back to the cell). */
  onEscape(): void;
  onFocus(): void;
}

/** The code area of one cell: static code or a live Monaco editor. */
export class CellCodeEditor {
  readonly element: HTMLElement;
  private source: string;
  private editor: IStandaloneCodeEditor | null = null;
  private model: ITextModel | null = null;
  private staticView: HTMLElement | null = null;
  private applyingRemote = false;
  private wantFocus = false;
  /** The user's interaction count when `focus()` was asked before the editor existed. */
  private focusAskedAt = -1;
  private disposed = false;
  /** The line where the last run failed (errors in place), and its decorations. */
  private errorMark: ErrorMark | null = null;
  private errorDecorations: IEditorDecorationsCollection | null = null;
  /** Other windows' cursors shown in this editor. */
  private readonly remoteCursors: RemoteCursorLayer;
  /** The model whose change events this editor turns into deltas (once per model). */
  private listenedModel: ITextModel | null = null;

  constructor(
    readonly cellId: string,
    source: string,
    private readonly callbacks: CodeEditorCallbacks,
  ) {
    this.source = source;
    this.element = h("div", { class: "code-area", "data-cell-editor": cellId });
    this.remoteCursors = new RemoteCursorLayer(this.element);
    this.showStatic();
  }

  get hasEditor(): boolean {
    return this.editor !== null;
  }

  getSource(): string {
    return this.model ? this.model.getValue() : this.source;
  }

  /**
   * A change from elsewhere (another window, the server): applied as the smallest edit (the
   * delta when given, else the difference), so the cursor and selection stay with their text;
   * not echoed back.
   */
  setSource(source: string, delta?: TextDelta): void {
    const before = this.getSource();
    if (source === before) return;
    this.source = source;
    if (this.model) {
      const model = this.model;
      const edits: Array<{ range: import("monaco-editor").IRange; text: string }> = [];
      let at = 0;
      for (const c of delta ?? deltaFromDiff(before, source)) {
        if (typeof c === "number" && c > 0) {
          at += c;
          continue;
        }
        const start = model.getPositionAt(at);
        const length = typeof c === "number" ? -c : 0;
        const end = model.getPositionAt(at + length);
        const range = {
          startLineNumber: start.lineNumber,
          startColumn: start.column,
          endLineNumber: end.lineNumber,
          endColumn: end.column,
        };
        edits.push({ range, text: typeof c === "string" ? c : "" });
        at += length;
      }
      this.applyingRemote = true;
      try {
        model.pushEditOperations([], edits, () => null);
        if (model.getValue() !== source) model.setValue(source);
      } finally {
        this.applyingRemote = false;
      }
      this.remoteCursors.render(this.editor);
      // Text inserted before the caret on another line moves its offset but not its line and
      // column (no cursor event): report it.
      if (this.editor?.hasTextFocus()) this.reportCursor();
    } else {
      this.showStatic();
    }
  }

  private reportCursor(): void {
    const sel = this.editor?.getSelection();
    const model = this.model;
    if (!sel || !model) return;
    this.callbacks.onCursor?.({
      anchor: model.getOffsetAt({
        lineNumber: sel.selectionStartLineNumber,
        column: sel.selectionStartColumn,
      }),
      head: model.getOffsetAt(sel.getPosition()),
    });
  }

  /** Show other windows' cursors (offsets into this editor's text). */
  setRemoteCursors(cursors: RemoteCursor[]): void {
    this.remoteCursors.set(cursors, this.editor);
  }

  private showStatic(): void {
    const code = h("code", { class: "hljs language-typescript" });
    code.textContent = this.source;
    if (this.source) highlightLater(code, this.source);
    const pre = h(
      "pre",
      { class: "static-code", tabindex: "0", "aria-label": "Code (press Enter to edit)" },
      code,
    );
    if (!this.source)
      pre.append(h("span", { class: "placeholder" }, "TypeScript — Shift+Enter runs the cell"));
    pre.addEventListener("mousedown", (ev) => {
      ev.preventDefault();
      this.focus();
    });
    pre.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        this.focus();
      }
    });
    this.staticView?.remove();
    this.staticView = pre;
    this.element.append(pre);
  }

  /** Create the Monaco editor (loading Monaco first if needed). */
  async activate(): Promise<void> {
    if (this.editor || this.disposed) return;
    const m = await loadMonaco();
    if (this.editor || this.disposed) return;
    const { monaco } = m;
    const uri = monaco.Uri.parse(`file:///cells/${this.cellId}.ts`);
    this.model =
      monaco.editor.getModel(uri) ?? monaco.editor.createModel(this.source, m.cellLanguage(), uri);
    if (this.model.getValue() !== this.source) this.model.setValue(this.source);
    const host = h("div", { class: "monaco-host" });
    const lines = Math.max(1, this.source.split("\n").length);
    host.style.height = `${lines * LINE_HEIGHT + PADDING}px`;
    this.element.append(host);
    const editor = monaco.editor.create(host, {
      model: this.model,
      theme: monacoTheme(),
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      lineNumbers: "off",
      glyphMargin: false,
      folding: false,
      lineDecorationsWidth: 8,
      lineNumbersMinChars: 0,
      renderLineHighlight: "none",
      overviewRulerLanes: 0,
      hideCursorInOverviewRuler: true,
      scrollbar: {
        vertical: "hidden",
        horizontal: "auto",
        alwaysConsumeMouseWheel: false,
        verticalScrollbarSize: 0,
      },
      fontSize: 13.5,
      lineHeight: LINE_HEIGHT,
      fontFamily: "'JetBrains Mono', 'Fira Code', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
      padding: { top: PADDING / 2, bottom: PADDING / 2 },
      automaticLayout: true,
      wordWrap: "on",
      tabSize: 2,
      fixedOverflowWidgets: true,
      // Completion, hovers and hints go outside the cell (a content-visibility container).
      overflowWidgetsDomNode: popupLayer(),
      stickyScroll: { enabled: false },
      ariaLabel: "Code cell editor",
      placeholder: "TypeScript — Shift+Enter runs the cell",
    });
    this.editor = editor;
    const fit = () => {
      const height = Math.max(LINE_HEIGHT + PADDING, editor.getContentHeight());
      host.style.height = `${height}px`;
      editor.layout();
    };
    editor.onDidContentSizeChange(fit);
    fit();
    const model = this.model;
    // The model outlives editors (deactivate/activate): listen to it once.
    if (this.listenedModel !== model) {
      this.listenedModel = model;
      model.onDidChangeContent((ev) => {
        if (this.applyingRemote || this.model !== model) return;
        this.source = model.getValue();
        // The changes of one event are all relative to the text before it.
        const changes = [...ev.changes].sort((a, b) => a.rangeOffset - b.rangeOffset);
        const delta: TextDelta = [];
        let at = 0;
        for (const ch of changes) {
          if (ch.rangeOffset > at) delta.push(ch.rangeOffset - at);
          if (ch.text) delta.push(ch.text);
          if (ch.rangeLength > 0) delta.push(-ch.rangeLength);
          at = ch.rangeOffset + ch.rangeLength;
        }
        this.callbacks.onChange(this.source, normalizeDelta(delta));
      });
    }
    editor.onDidChangeCursorSelection(() => {
      if (editor.hasTextFocus()) this.reportCursor();
    });
    editor.onDidBlurEditorText(() => this.callbacks.onCursor?.(null));
    // Shift+Enter runs the cell, also while the completion list is open (whose own Shift+Enter
    // would accept a suggestion and leave the list over the output, taking the page's clicks):
    // caught before Monaco sees the key, it closes the list and parameter hints, then runs.
    host.addEventListener(
      "keydown",
      (ev) => {
        if (ev.key !== "Enter" || !ev.shiftKey || ev.ctrlKey || ev.metaKey || ev.altKey) return;
        if (ev.isComposing) return;
        ev.preventDefault();
        ev.stopPropagation();
        editor.trigger("run", "hideSuggestWidget", null);
        editor.trigger("run", "closeParameterHints", null);
        this.callbacks.onRun();
      },
      { capture: true },
    );
    editor.addCommand(
      monaco.KeyCode.Escape,
      () => this.callbacks.onEscape(),
      "!suggestWidgetVisible && !findWidgetVisible",
    );
    editor.onDidFocusEditorText(() => {
      startTypeScript();
      this.callbacks.onFocus();
    });
    editor.onMouseMove(() => startTypeScript());
    this.errorDecorations = applyErrorMark(monaco, editor, this.errorMark, null);
    this.remoteCursors.render(this.editor);
    this.staticView?.remove();
    this.staticView = null;
    if (this.wantFocus) {
      this.wantFocus = false;
      // Focus only if the user did nothing else (keys, clicks) while the editor was being made.
      if (interactions === this.focusAskedAt) editor.focus();
    }
  }

  /** Mark the line where the cell's last run failed (null: no mark). */
  setErrorMark(mark: ErrorMark | null): void {
    if (sameMark(mark, this.errorMark)) return;
    this.errorMark = mark;
    const m = monacoIfLoaded();
    if (this.editor && m)
      this.errorDecorations = applyErrorMark(m, this.editor, mark, this.errorDecorations);
  }

  /** Put the cursor at a position (1-based) and focus the editor. */
  revealPosition(line: number, column: number): void {
    if (!this.editor) {
      this.focus();
      void this.activate().then(() => {
        if (this.editor) this.revealPosition(line, column);
      });
      return;
    }
    this.editor.setPosition({ lineNumber: line, column });
    this.editor.revealLineInCenterIfOutsideViewport(line);
    this.editor.focus();
  }

  /** Replace the editor by static code again (the model is kept). */
  deactivate(): void {
    if (!this.editor || this.editor.hasTextFocus()) return;
    this.source = this.getSource();
    this.editor.dispose();
    this.editor = null;
    this.errorDecorations = null;
    this.remoteCursors.detach();
    this.element.querySelector(".monaco-host")?.remove();
    this.showStatic();
  }

  focus(): void {
    if (this.editor) this.editor.focus();
    else {
      this.wantFocus = true;
      this.focusAskedAt = interactions;
      void this.activate();
    }
  }

  hasFocus(): boolean {
    return this.editor?.hasTextFocus() ?? false;
  }

  dispose(): void {
    this.disposed = true;
    this.editor?.dispose();
    this.editor = null;
    this.model?.dispose();
    this.model = null;
  }
}

/** Static code is shown as plain text first and highlighted in idle time (1,000 cells open fast). */
const highlightQueue: Array<{ el: HTMLElement; source: string }> = [];
let highlightScheduled = false;
function highlightLater(el: HTMLElement, source: string): void {
  highlightQueue.push({ el, source });
  if (highlightScheduled) return;
  highlightScheduled = true;
  const idle =
    window.requestIdleCallback ??
    ((fn: (d: IdleDeadline) => void) =>
      window.setTimeout(() => fn({ timeRemaining: () => 8, didTimeout: false }), 16));
  const work = (deadline: IdleDeadline) => {
    while (highlightQueue.length > 0 && deadline.timeRemaining() > 2) {
      const { el: target, source: text } = highlightQueue.shift()!;
      if (target.isConnected && target.textContent === text) target.innerHTML = highlightCode(text);
    }
    if (highlightQueue.length > 0) idle(work, { timeout: 500 });
    else highlightScheduled = false;
  };
  idle(work, { timeout: 500 });
}

const LINE_HEIGHT = 20;
const PADDING = 16;

/**
 * Activates editors of cells near the viewport once scrolling pauses (fast scrolling creates
 * none and costs nothing but a timestamp), and deactivates editors that went far away. The
 * check reads each code area's position once per pause (no IntersectionObserver: with hundreds
 * of targets its per-frame cost showed up in scrolling).
 */
export class LazyEditors {
  private readonly editors = new Set<CellCodeEditor>();
  private timer: number | null = null;

  constructor(
    /** Called after editors were created. */
    private readonly onActivated: () => void = () => undefined,
    private readonly marginPx = 300,
  ) {
    window.addEventListener("scroll", () => this.schedule(150), { passive: true, capture: true });
    window.addEventListener("resize", () => this.schedule(150), { passive: true });
  }

  observe(editor: CellCodeEditor): void {
    this.editors.add(editor);
    // After the notebook painted, when the page is idle (Monaco may still have to load).
    if (this.timer === null) this.schedule(monacoIfLoaded() ? 30 : 400);
  }

  unobserve(editor: CellCodeEditor): void {
    this.editors.delete(editor);
  }

  /** Check again after `delayMs` without scrolling. */
  private schedule(delayMs: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.timer = null;
      this.update();
    }, delayMs);
  }

  private update(): void {
    const top = -this.marginPx;
    const bottom = window.innerHeight + this.marginPx;
    const far = window.innerHeight * 3;
    const created: Array<Promise<void>> = [];
    for (const editor of this.editors) {
      if (!editor.element.isConnected) continue;
      // The cell's own box (a content-visibility container): reading a rect inside a skipped
      // cell would force the layout of its contents.
      const box = editor.element.closest(".cell") ?? editor.element;
      const r = box.getBoundingClientRect();
      if (r.bottom >= top && r.top <= bottom) {
        if (!editor.hasEditor) created.push(editor.activate());
      } else if (editor.hasEditor && (r.bottom < -far || r.top > window.innerHeight + far)) {
        editor.deactivate();
      }
    }
    if (created.length > 0) void Promise.all(created).then(this.onActivated);
  }
}
