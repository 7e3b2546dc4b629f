/**
 * Other windows' cursors drawn in a Monaco editor (a code cell's or a Markdown cell's): a
 * coloured caret with a flag naming the window, and its selection. Offsets are UTF-16 offsets
 * into the editor's text (renderer/collab.ts has placed them there).
 */
import type * as Monaco from "monaco-editor";
import type { RemoteCursor } from "./collab.ts";
import { h } from "./dom.ts";

export class RemoteCursorLayer {
  private cursors: RemoteCursor[] = [];
  private decorations: Monaco.editor.IEditorDecorationsCollection | null = null;

  constructor(
    /** Where `data-remote-cursors` (the count) and `data-remote-cursor-labels` are set. */
    private readonly element: HTMLElement,
  ) {}

  /** Show these cursors (in `editor`, when it exists). */
  set(cursors: RemoteCursor[], editor: Monaco.editor.ICodeEditor | null): void {
    this.cursors = cursors;
    this.element.dataset["remoteCursors"] = String(cursors.length);
    this.render(editor);
  }

  /** Draw the cursors again (the text changed, or a new editor shows it). */
  render(editor: Monaco.editor.ICodeEditor | null): void {
    const model = editor?.getModel();
    if (!editor || !model) return;
    const len = model.getValueLength();
    const decorations = this.cursors.flatMap((c): Monaco.editor.IModelDeltaDecoration[] => {
      const head = model.getPositionAt(Math.min(c.head, len));
      const anchor = model.getPositionAt(Math.min(c.anchor, len));
      const caret = {
        range: {
          startLineNumber: head.lineNumber,
          startColumn: head.column,
          endLineNumber: head.lineNumber,
          endColumn: head.column,
        },
        options: {
          // On the first line the flag sits lower (above it, the editor would cut it).
          beforeContentClassName: `remote-cursor remote-cursor-${c.color} ${cursorLabelClass(c)}${head.lineNumber === 1 ? " remote-cursor-first" : ""}`,
          // A user's name, not Markdown: escaped so `[x](…)` or `**` show as typed.
          hoverMessage: { value: c.label.replace(/[\\`*_{}[\]()#+\-.!<>|~&]/g, "\\$&") },
          stickiness: 1 as Monaco.editor.TrackedRangeStickiness,
        },
      };
      if (c.anchor === c.head) return [caret];
      const [s, e] = c.anchor < c.head ? [anchor, head] : [head, anchor];
      return [
        caret,
        {
          range: {
            startLineNumber: s.lineNumber,
            startColumn: s.column,
            endLineNumber: e.lineNumber,
            endColumn: e.column,
          },
          options: { className: `remote-selection remote-selection-${c.color}` },
        },
      ];
    });
    if (this.decorations) this.decorations.set(decorations);
    else this.decorations = editor.createDecorationsCollection(decorations);
    // The flag with the window's name, drawn by CSS from the attribute (one per cursor).
    this.element.dataset["remoteCursorLabels"] = this.cursors.map((c) => c.label).join(",");
  }

  /** The editor went away: its decorations went with it. */
  detach(): void {
    this.decorations = null;
  }
}

/** The class whose ::after shows a cursor's flag (one style rule per window, made on first use). */
const labelRules = new Map<string, string>();
let labelSheet: HTMLStyleElement | null = null;
function cursorLabelClass(c: RemoteCursor): string {
  const cls = `rc-${c.clientId.replace(/[^\w-]/g, "_")}`;
  if (labelRules.get(cls) !== c.label) {
    labelRules.set(cls, c.label);
    if (!labelSheet) {
      labelSheet = h("style", { id: "remote-cursor-labels" });
      document.head.append(labelSheet);
    }
    labelSheet.textContent = [...labelRules]
      .map(([k, label]) => `.${k}::after { content: ${cssString(label)}; }`)
      .join("\n");
  }
  return cls;
}

/** `text` as a CSS string: every character that is not a plain letter, digit or space escaped. */
function cssString(text: string): string {
  let out = '"';
  for (const ch of text)
    out += /^[\p{L}\p{N} ]$/u.test(ch) ? ch : `\\${ch.codePointAt(0)!.toString(16)} `;
  return `${out}"`;
}
