/**
 * Errors in place: an error output says where it happened inside a cell ("line 3, column 9 of
 * this cell", or of another cell when a function defined there threw), and the failing line is
 * marked in that cell's editor (a Monaco marker, hovered for the message, and a line highlight).
 * The notebook file's line (`location`) is what `tsnb run` prints; the page never shows it:
 * editors number their lines from the cell's start, and an unsaved notebook has no file.
 *
 * Owns: `renderErrorOutput`, `errorMarks` (which cell shows which error line), and
 * `applyErrorMark` (the marker and decoration in one editor).
 */
import type { ErrorOutput } from "../core/outputs.ts";
import type { CellSessionState } from "../core/session/data.ts";
import { h } from "./dom.ts";
type Monaco = typeof import("monaco-editor");
type IStandaloneCodeEditor = import("monaco-editor").editor.IStandaloneCodeEditor;
type IEditorDecorationsCollection = import("monaco-editor").editor.IEditorDecorationsCollection;

/** What an error output needs from the notebook to name another cell and go to it. */
export interface ErrorPlaceHost {
  /** A short human name for a cell ("code cell 2 in “Load the data”"), null when unknown. */
  describeCell?(cellId: string): string | null;
  /** Select the cell and put its editor's cursor on `line`. */
  revealCell?(cellId: string, line: number, column: number): void;
}

/** The line to mark in a cell's editor. */
export interface ErrorMark {
  line: number;
  column: number;
  message: string;
}

export function renderErrorOutput(
  output: ErrorOutput,
  host: ErrorPlaceHost,
  ownerCellId?: string,
): HTMLElement {
  // "Uncaught": thrown by a timer or handler the cell started, or a promise nobody handled.
  const uncaught =
    output.uncaught === "rejection"
      ? "Uncaught (in promise) "
      : output.uncaught === "exception"
        ? "Uncaught "
        : "";
  const box = h(
    "div",
    { class: `output output-error${output.interrupted ? " interrupted" : ""}`, role: "alert" },
    h(
      "div",
      { class: "error-head" },
      uncaught,
      h("strong", {}, output.name),
      `: ${output.message}`,
    ),
  );
  const at = output.cell;
  if (at) {
    const here = at.cellId === ownerCellId;
    const name = here ? "this cell" : (host.describeCell?.(at.cellId) ?? "another cell");
    const text = `line ${at.line}, column ${at.column} of ${name}`;
    const place = h("div", { class: "error-location" }, "at ");
    if (host.revealCell) {
      const link = h(
        "button",
        { type: "button", class: "error-goto", title: "Go to the line" },
        text,
      );
      link.addEventListener("click", () => host.revealCell?.(at.cellId, at.line, at.column));
      place.append(link);
    } else place.append(text);
    box.append(place);
  }
  if (output.excerpt)
    box.append(h("pre", { class: "error-excerpt" }, cellExcerpt(output.excerpt, output)));
  if (output.stack && output.stack.trim() && !output.interrupted) {
    box.append(h("details", {}, h("summary", {}, "Stack trace"), h("pre", {}, output.stack)));
  }
  // The frames of tsnb, packages and Node left out of the stack above, one click away.
  if (output.fullStack && !output.interrupted) {
    box.append(
      h(
        "details",
        { class: "error-full-stack" },
        h("summary", {}, "Full stack trace"),
        h("pre", {}, output.fullStack),
      ),
    );
  }
  return box;
}

/**
 * The kernel's excerpt ("21 | const bad = ;" then a caret line) numbers the notebook file's
 * lines (what `tsnb run` prints); the page numbers them from the cell's start, as its editors do.
 */
export function cellExcerpt(excerpt: string, output: ErrorOutput): string {
  if (!output.cell || !output.location) return excerpt;
  const shift = output.location.line - output.cell.line;
  const rows = excerpt.split("\n").map((row) => /^\s*(\d*) \| (.*)$/.exec(row));
  if (rows.some((r) => !r)) return excerpt;
  const numbers = rows.map((r) => (r![1] ? String(Number(r![1]) - shift) : ""));
  const width = Math.max(...numbers.map((n) => n.length));
  return rows.map((r, i) => `${numbers[i]!.padStart(width)} | ${r![2]}`).join("\n");
}

/**
 * The error line each cell should show: from the error outputs of every cell (an error thrown in
 * a function of an earlier cell marks that cell's line too). The cell's own error wins.
 */
export function errorMarks(
  cells: Readonly<Record<string, CellSessionState>>,
): Map<string, ErrorMark> {
  const marks = new Map<string, ErrorMark>();
  for (const [ownerId, state] of Object.entries(cells)) {
    for (const o of state.outputs) {
      if (o.type !== "error" || !o.cell || o.interrupted) continue;
      if (marks.has(o.cell.cellId) && o.cell.cellId !== ownerId) continue;
      marks.set(o.cell.cellId, {
        line: o.cell.line,
        column: o.cell.column,
        message: `${o.name}: ${o.message}`,
      });
    }
  }
  return marks;
}

export function sameMark(a: ErrorMark | null, b: ErrorMark | null): boolean {
  return (
    a === b || (!!a && !!b && a.line === b.line && a.column === b.column && a.message === b.message)
  );
}

/** Show `mark` in `editor` (replacing the previous one); returns the decorations to keep. */
export function applyErrorMark(
  monaco: Monaco,
  editor: IStandaloneCodeEditor,
  mark: ErrorMark | null,
  decorations: IEditorDecorationsCollection | null,
): IEditorDecorationsCollection | null {
  const model = editor.getModel();
  if (!model) return decorations;
  decorations?.clear();
  if (!mark || mark.line > model.getLineCount()) {
    monaco.editor.setModelMarkers(model, "tsnb-run", []);
    return null;
  }
  const line = mark.line;
  const end = model.getLineMaxColumn(line);
  const start = Math.min(Math.max(1, mark.column), end);
  monaco.editor.setModelMarkers(model, "tsnb-run", [
    {
      severity: monaco.MarkerSeverity.Error,
      message: mark.message,
      source: "run",
      startLineNumber: line,
      startColumn: start === end ? 1 : start,
      endLineNumber: line,
      endColumn: end,
    },
  ]);
  return editor.createDecorationsCollection([
    {
      range: new monaco.Range(line, 1, line, end),
      options: {
        isWholeLine: true,
        className: "tsnb-error-line",
        linesDecorationsClassName: "tsnb-error-gutter",
        stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
      },
    },
  ]);
}
