/**
 * The editor of a Markdown cell while it is being edited: Monaco with Markdown highlighting
 * (the same font, wrapping and theme as code cells) when Monaco is loaded — it loads in idle
 * time right after a notebook opens — else a plain textarea, so a keystroke right after
 * "Insert Markdown cell" is never lost to loading. The cell renders the Markdown again when the
 * editor is left (blur), on Escape and on Shift+Enter.
 */
import { deltaFromDiff, transformOffset, type TextDelta } from "../core/delta.ts";
import { h } from "./dom.ts";
import { monacoIfLoaded } from "./editor.ts";
import { popupLayer } from "./editor-popups.ts";
import { monacoTheme } from "./theme.ts";
import type { RemoteCursor } from "./collab.ts";
import { RemoteCursorLayer } from "./remote-cursors.ts";

export interface MarkdownSourceEditor {
  readonly element: HTMLElement;
  readonly value: string;
  /**
   * A change from elsewhere (another window): applied as the edit it is (`delta`, else the
   * difference), so the user's caret and selection move with the text; never echoed.
   */
  setValue(source: string, delta?: TextDelta): void;
  /**
   * Show other windows' cursors (offsets into this editor's text). The textarea, used only
   * until Monaco has loaded, shows none.
   */
  setRemoteCursors(cursors: RemoteCursor[]): void;
  focus(): void;
  dispose(): void;
}

export interface MarkdownEditorCallbacks {
  onChange(source: string): void;
  /** Escape or Shift+Enter: render the cell. */
  onFinish(): void;
  /** The editor lost the focus: render the cell. */
  onBlur(): void;
  /** The user's cursor or selection moved (UTF-16 offsets); null: the editor lost focus. */
  onCursor(selection: { anchor: number; head: number } | null): void;
}

const LINE_HEIGHT = 22;
const PADDING = 12;

export function createMarkdownEditor(
  source: string,
  callbacks: MarkdownEditorCallbacks,
): MarkdownSourceEditor {
  const m = monacoIfLoaded();
  return m ? monacoEditor(m, source, callbacks) : textareaEditor(source, callbacks);
}

function textareaEditor(source: string, cb: MarkdownEditorCallbacks): MarkdownSourceEditor {
  const ta = h("textarea", {
    class: "markdown-editor",
    "aria-label": "Markdown source",
    spellcheck: "true",
  });
  ta.value = source;
  const fit = () => {
    ta.style.height = "auto";
    ta.style.height = `${ta.scrollHeight + 2}px`;
  };
  const reportCursor = () => {
    const [a, b] = [ta.selectionStart, ta.selectionEnd];
    cb.onCursor(
      ta.selectionDirection === "backward" ? { anchor: b, head: a } : { anchor: a, head: b },
    );
  };
  ta.addEventListener("input", () => {
    fit();
    cb.onChange(ta.value);
  });
  // selectionchange fires on the document; keyup and mouseup cover moves inside the textarea
  ta.addEventListener("keyup", reportCursor);
  ta.addEventListener("mouseup", reportCursor);
  ta.addEventListener("keydown", (ev) => {
    if ((ev.key === "Enter" && ev.shiftKey) || ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      cb.onFinish();
    }
  });
  ta.addEventListener("blur", () => {
    cb.onCursor(null);
    cb.onBlur();
  });
  queueMicrotask(fit);
  return {
    element: ta,
    get value() {
      return ta.value;
    },
    setValue(v, delta) {
      if (ta.value === v) return;
      const d = delta ?? deltaFromDiff(ta.value, v);
      const [start, end, dir] = [ta.selectionStart, ta.selectionEnd, ta.selectionDirection];
      ta.value = v;
      ta.setSelectionRange(transformOffset(start, d), transformOffset(end, d), dir);
      fit();
    },
    setRemoteCursors: () => {},
    focus: () => {
      fit();
      ta.focus();
    },
    dispose: () => ta.remove(),
  };
}

function monacoEditor(
  m: NonNullable<ReturnType<typeof monacoIfLoaded>>,
  source: string,
  cb: MarkdownEditorCallbacks,
): MarkdownSourceEditor {
  const host = h("div", { class: "markdown-editor monaco-markdown code-area" });
  const model = m.editor.createModel(source, "markdown");
  const height = () => `${Math.max(1, model.getLineCount()) * LINE_HEIGHT + PADDING}px`;
  host.style.height = height();
  const editor = m.editor.create(host, {
    model,
    theme: monacoTheme(),
    language: "markdown",
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
    scrollbar: { vertical: "hidden", alwaysConsumeMouseWheel: false, verticalScrollbarSize: 0 },
    fontSize: 14,
    lineHeight: LINE_HEIGHT,
    fontFamily: "'JetBrains Mono', 'Fira Code', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
    padding: { top: PADDING / 2, bottom: PADDING / 2 },
    automaticLayout: true,
    wordWrap: "on",
    quickSuggestions: false,
    wordBasedSuggestions: "off",
    suggestOnTriggerCharacters: false,
    fixedOverflowWidgets: true,
    overflowWidgetsDomNode: popupLayer(),
    stickyScroll: { enabled: false },
    ariaLabel: "Markdown source",
    placeholder: "Markdown — Escape or Shift+Enter renders it",
  });
  let remote = false;
  const cursors = new RemoteCursorLayer(host);
  const reportCursor = () => {
    const sel = editor.getSelection();
    if (!sel) return;
    cb.onCursor({
      anchor: model.getOffsetAt({
        lineNumber: sel.selectionStartLineNumber,
        column: sel.selectionStartColumn,
      }),
      head: model.getOffsetAt(sel.getPosition()),
    });
  };
  model.onDidChangeContent(() => {
    host.style.height = height();
    if (!remote) cb.onChange(model.getValue());
  });
  editor.onDidChangeCursorSelection(() => {
    if (editor.hasTextFocus()) reportCursor();
  });
  // Wrapped lines make the content taller than lines × height: follow Monaco's own measure.
  editor.onDidContentSizeChange((e) => {
    host.style.height = `${e.contentHeight}px`;
  });
  // addAction, not addCommand: an action is this editor's own (commands' keybindings are shared
  // by every editor of the page, and code cells bind Shift+Enter to run).
  editor.addAction({
    id: "tsnb.markdown.render",
    label: "Render the Markdown cell",
    keybindings: [m.KeyMod.Shift | m.KeyCode.Enter, m.KeyCode.Escape],
    run: () => cb.onFinish(),
  });
  editor.onDidBlurEditorWidget(() => {
    cb.onCursor(null);
    cb.onBlur();
  });
  let disposed = false;
  return {
    element: host,
    get value() {
      return model.getValue();
    },
    setValue(v, delta) {
      const before = model.getValue();
      if (before === v) return;
      const edits: Array<{ range: import("monaco-editor").IRange; text: string }> = [];
      let at = 0;
      for (const c of delta ?? deltaFromDiff(before, v)) {
        if (typeof c === "number" && c > 0) {
          at += c;
          continue;
        }
        const length = typeof c === "number" ? -c : 0;
        const start = model.getPositionAt(at);
        const end = model.getPositionAt(at + length);
        edits.push({
          range: {
            startLineNumber: start.lineNumber,
            startColumn: start.column,
            endLineNumber: end.lineNumber,
            endColumn: end.column,
          },
          text: typeof c === "string" ? c : "",
        });
        at += length;
      }
      remote = true;
      try {
        model.pushEditOperations([], edits, () => null);
        if (model.getValue() !== v) model.setValue(v);
      } finally {
        remote = false;
      }
      cursors.render(editor);
      // Text inserted before the caret moves its offset but not its line and column: report it.
      if (editor.hasTextFocus()) reportCursor();
    },
    setRemoteCursors: (list) => cursors.set(list, editor),
    focus: () => {
      editor.focus();
      const last = model.getLineCount();
      editor.setPosition({ lineNumber: last, column: model.getLineMaxColumn(last) });
    },
    dispose: () => {
      if (disposed) return;
      disposed = true;
      editor.dispose();
      model.dispose();
      host.remove();
    },
  };
}
