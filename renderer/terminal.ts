/**
 * Console text in the page (core/outputs.ts `TerminalOutput`): one console per run of console
 * writes, stdout and stderr in write order with stderr's text tinted, ANSI colours as classes.
 *
 * Owns: `TerminalView`, which draws one terminal output and is updated in place as text streams
 * in. Invariants: an update costs the lines shown plus the lines added, never the whole text
 * (`LineIndex` keeps the line starts across updates); folded text shows its last `FOLD_LINES`
 * lines; expanded text of more than `PLAIN_EXPAND_LINES` lines is virtualized (only the lines
 * in view, plus a margin, are in the DOM), so expanding a million lines is one small render.
 * The browser's find sees only what is drawn, so the virtualized view has its own find bar
 * (`TerminalFind`): it searches all text kept, scrolls to a match and highlights the matches
 * drawn (CSS Custom Highlights, nothing added to the DOM). Text is escaped by ansi_up.
 */
import { AnsiUp } from "ansi_up";
import { droppedMarker, stderrRanges, type TerminalOutput } from "../core/outputs.ts";
import { button, h } from "./dom.ts";

/** Terminal output longer than this many lines is folded to its last lines. */
export const FOLD_LINES = 60;
/** Expanded text of at most this many lines is one plain <pre>; longer text is virtualized (and wraps the same). */
export const PLAIN_EXPAND_LINES = 2000;
/** Height of a line of expanded, virtualized text (px; the CSS sets the same). */
const ROW_PX = 19;
/** Lines drawn above and below the ones in view. */
const OVERSCAN = 60;
/** The tallest the virtualized box's content may be (Chromium's layout limit is about 33M px). */
const MAX_SCROLL_PX = 15_000_000;
/** Matches the find bar counts (beyond: "10,000+"); stepping goes on past them one at a time. */
const MAX_MATCHES = 10_000;

/**
 * The start offsets of the lines of a terminal output's text, kept across updates: the reducer
 * only ever changes the text's last line and what follows it, and drops whole lines from the
 * front (counted in `dropped`), so offsets counted from the start of all text ever written
 * (dropped + offset) stay valid.
 */
export class LineIndex {
  /** Absolute starts (dropped + offset) of lines; lines before `first` were dropped. */
  private starts: number[] = [0];
  private first = 0;
  private dropped = 0;
  private text = "";

  /** Index `text` (of which `dropped` characters were dropped before it). */
  update(text: string, dropped: number): void {
    const prevLast = this.starts[this.starts.length - 1]!; // absolute start of the old last line
    const prevLastOffset = prevLast - this.dropped;
    const at = prevLast - dropped; // where that line starts in the new text
    const sample = Math.min(64, prevLastOffset);
    const continues =
      dropped >= this.dropped &&
      at - sample >= 0 &&
      at <= text.length &&
      text.slice(at - sample, at) === this.text.slice(prevLastOffset - sample, prevLastOffset);
    if (!continues) {
      this.starts = [dropped];
      this.first = 0;
      this.scan(text, 0, dropped);
    } else {
      while (this.first < this.starts.length - 1 && this.starts[this.first + 1]! <= dropped)
        this.first++;
      if (this.starts[this.first]! < dropped) this.starts[this.first] = dropped;
      if (this.first > 4096 && this.first > this.starts.length / 2) {
        this.starts = this.starts.slice(this.first);
        this.first = 0;
      }
      this.scan(text, at, dropped);
    }
    this.text = text;
    this.dropped = dropped;
  }

  private scan(text: string, from: number, dropped: number): void {
    for (let i = text.indexOf("\n", from); i >= 0; i = text.indexOf("\n", i + 1))
      this.starts.push(dropped + i + 1);
  }

  /** Lines of the text (a final "\n" ends the last line, it does not start another). */
  get count(): number {
    const n = this.starts.length - this.first;
    return this.text.endsWith("\n") ? n - 1 : n;
  }

  /** Offset in the text where line `i` starts (`i === count`: the end of the text). */
  start(i: number): number {
    if (i >= this.count) return this.text.length;
    return this.starts[this.first + i]! - this.dropped;
  }

  /** The line holding text offset `at`. */
  lineOf(at: number): number {
    let lo = 0;
    let hi = Math.max(0, this.count - 1);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.start(mid) <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * Case-insensitive plain-text search over a terminal output's text (what is kept, including what
 * is not drawn). The lower-cased text is made once per text; counting stops at `MAX_MATCHES`.
 */
export class TerminalFind {
  private lower = "";
  private of: string | null = null;

  private haystack(text: string): string {
    if (this.of !== text) {
      this.of = text;
      this.lower = text.toLowerCase();
    }
    return this.lower;
  }

  /** Offsets of the first matches of `query` (at most `MAX_MATCHES`) and whether there are more. */
  matches(text: string, query: string): { at: number[]; more: boolean } {
    const q = query.toLowerCase();
    const at: number[] = [];
    if (q === "") return { at, more: false };
    const hay = this.haystack(text);
    for (let i = hay.indexOf(q); i >= 0; i = hay.indexOf(q, i + q.length)) {
      if (at.length === MAX_MATCHES) return { at, more: true };
      at.push(i);
    }
    return { at, more: false };
  }

  /** The first match at or after `from` (forward) or before it (backward), wrapping around; -1: none. */
  step(text: string, query: string, from: number, forward: boolean): number {
    const q = query.toLowerCase();
    if (q === "") return -1;
    const hay = this.haystack(text);
    if (forward) {
      const i = hay.indexOf(q, from);
      return i >= 0 ? i : hay.indexOf(q);
    }
    const i = from > 0 ? hay.lastIndexOf(q, from - 1) : -1;
    return i >= 0 ? i : hay.lastIndexOf(q);
  }
}

/** HTML of `o.text[from, to)`: ANSI colours as classes, stderr's text in `span.stderr`. */
function terminalHtml(o: TerminalOutput, from: number, to: number): string {
  const ansi = new AnsiUp();
  ansi.use_classes = true;
  if (o.stream === "stderr" || !o.stderr) return ansi.ansi_to_html(o.text.slice(from, to));
  const r = stderrRanges(o);
  let html = "";
  let at = from;
  // Binary search the first range ending after `from`.
  let lo = 0;
  let hi = r.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r[2 * mid + 1]! <= from) lo = mid + 1;
    else hi = mid;
  }
  for (let k = 2 * lo; k < r.length && r[k]! < to; k += 2) {
    const s = Math.max(r[k]!, from);
    const e = Math.min(r[k + 1]!, to);
    if (s > at) html += ansi.ansi_to_html(o.text.slice(at, s));
    html += `<span class="stderr">${ansi.ansi_to_html(o.text.slice(s, e))}</span>`;
    at = e;
  }
  if (at < to) html += ansi.ansi_to_html(o.text.slice(at, to));
  return html;
}

/** The rows of the virtualized view (`TerminalView.layout`). */
interface TerminalRows {
  key: string;
  /** Height of a row in the scroll position (`ROW_PX`, less when there are very many rows). */
  row: number;
  total: number;
  /** The column lines wrap at; 0: they do not wrap. */
  cols: number;
  /** The text's width when it wraps (px, padding included). */
  width: number;
  /** Scroll position of the top of line `i`. */
  lineTop(i: number): number;
  /** The line at scroll position `y`. */
  lineAt(y: number): number;
}

/** The find bars' highlighted ranges, per view (one highlight registry serves the page). */
const findRanges = new Map<TerminalView, { all: Range[]; current: Range[] }>();

/** One terminal output, drawn folded to its last lines, and updated in place as it grows. */
export class TerminalView {
  readonly element: HTMLElement;
  private output: TerminalOutput;
  private readonly index = new LineIndex();
  private expanded = false;
  private readonly marker: HTMLElement;
  private readonly toggle: HTMLButtonElement;
  private readonly pre: HTMLPreElement;
  private scroll: HTMLElement | null = null;
  private spacer: HTMLElement | null = null;
  private scheduled = false;
  /** The find bar of the virtualized view (null until it is first shown). */
  private findBar: HTMLElement | null = null;
  private findInput: HTMLInputElement | null = null;
  private findCount: HTMLElement | null = null;
  private readonly finder = new TerminalFind();
  /** Text offset of the current match, -1: none. */
  private current = -1;
  /** Width of a character of the console's monospace font (px; 0 until measured). */
  private charWidth = 0;
  /** The text's padding left and right (px), measured with `charWidth`. */
  private padX = 0;
  private rows: TerminalRows | null = null;
  /** Text offset of the first line drawn in the virtualized view. */
  private drawnFrom = 0;

  constructor(output: TerminalOutput) {
    this.output = output;
    this.marker = h("div", { class: "terminal-dropped" });
    this.toggle = button("", () => this.setExpanded(!this.expanded), {
      text: true,
      cls: "link",
    });
    this.pre = h("pre", { class: "output output-terminal" });
    this.element = h("div", { class: "terminal-folded" }, this.marker, this.toggle, this.pre);
    this.update(output);
  }

  /** The output changed (more text arrived): redraw what is shown. */
  update(output: TerminalOutput): void {
    this.output = output;
    this.index.update(output.text, output.dropped?.chars ?? 0);
    this.pre.className = `output output-terminal ${output.stream}`;
    const marker = droppedMarker(output).trimEnd();
    this.marker.hidden = marker === "";
    if (this.marker.textContent !== marker) this.marker.textContent = marker;
    this.draw();
  }

  private setExpanded(expanded: boolean): void {
    this.expanded = expanded;
    this.draw();
    if (expanded && this.scroll) this.scroll.scrollTop = this.scroll.scrollHeight;
  }

  private draw(): void {
    const count = this.index.count;
    const o = this.output;
    const folded = count > FOLD_LINES;
    this.toggle.hidden = !folded;
    const label = this.expanded
      ? `Show only the last ${FOLD_LINES} lines`
      : `Show ${(count - FOLD_LINES).toLocaleString("en")} earlier lines`;
    if (folded && this.toggle.getAttribute("aria-label") !== label) {
      this.toggle.setAttribute("aria-label", label);
      this.toggle.title = label;
      this.toggle.querySelector(".btn-text")!.textContent = label;
    }
    if (this.expanded && folded && count > PLAIN_EXPAND_LINES) return this.drawVirtual();
    this.unvirtualize();
    if (this.findBar && !this.findBar.hidden) {
      this.findBar.hidden = true;
      this.highlight();
    }
    const from = !folded || this.expanded ? 0 : this.index.start(count - FOLD_LINES);
    const to = o.text.endsWith("\n") ? o.text.length - 1 : o.text.length;
    this.pre.innerHTML = terminalHtml(o, from, Math.max(from, to));
  }

  private unvirtualize(): void {
    if (!this.scroll) return;
    this.scroll.replaceWith(this.pre);
    this.pre.style.transform = "";
    this.scroll = null;
    this.spacer = null;
  }

  /** Expanded and long: a scroll box as tall as all lines, with only the lines in view drawn. */
  private drawVirtual(): void {
    if (!this.scroll) {
      this.spacer = h("div", { class: "terminal-spacer" });
      this.scroll = h("div", { class: "terminal-scroll", tabindex: "0" }, this.spacer);
      this.pre.replaceWith(this.scroll);
      this.scroll.append(this.pre);
      this.scroll.addEventListener("scroll", () => this.schedule(), { passive: true });
      this.showFindBar();
    }
    const box = this.scroll;
    const count = this.index.count;
    const rows = this.layout();
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW_PX;
    const height = `${Math.ceil(rows.total * rows.row) + ROW_PX}px`;
    if (this.spacer!.style.height !== height) this.spacer!.style.height = height;
    // Following the end, as a terminal does, while the view is at the bottom.
    if (atBottom) box.scrollTop = box.scrollHeight;
    const first = Math.max(0, rows.lineAt(box.scrollTop) - OVERSCAN);
    const last = Math.min(count, rows.lineAt(box.scrollTop + box.clientHeight) + 1 + OVERSCAN);
    const top =
      rows.row === ROW_PX ? rows.lineTop(first) : Math.max(0, box.scrollTop - OVERSCAN * ROW_PX);
    this.pre.style.transform = `translateY(${top}px)`;
    this.pre.classList.toggle("wrapped", rows.cols > 0);
    this.pre.style.width = rows.cols > 0 ? `${rows.width}px` : "";
    const to = last >= count ? this.output.text.length : this.index.start(last) - 1;
    this.drawnFrom = this.index.start(first);
    this.pre.innerHTML = terminalHtml(this.output, this.drawnFrom, Math.max(0, to));
    this.highlight();
  }

  /**
   * Where each line of the virtualized view sits. Lines wrap as in the plain view: at the
   * column the box's width holds (the text is monospace: a line of n characters takes
   * ceil(n / cols) rows of `ROW_PX`, and the CSS breaks at every character, spaces included, so
   * the browser wraps where this counts). When the rows would be taller than the box may be,
   * rows shrink in the scroll position and lines do not wrap.
   */
  private layout(): TerminalRows {
    const box = this.scroll!;
    const count = this.index.count;
    if (this.charWidth === 0) {
      const style = getComputedStyle(this.pre);
      this.padX = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const ctx = document.createElement("canvas").getContext("2d");
      if (ctx) {
        ctx.font = style.font;
        this.charWidth = ctx.measureText("0".repeat(100)).width / 100;
      }
    }
    const pad = this.padX;
    const inner = box.clientWidth - pad;
    const cols = this.charWidth > 0 ? Math.max(20, Math.floor((inner - 0.5) / this.charWidth)) : 0;
    const key = `${count}:${cols}:${this.index.start(0)}:${this.output.text.length}`;
    if (this.rows?.key === key) return this.rows;
    let starts: Int32Array | null = null;
    if (cols > 0) {
      const endsLine = this.output.text.endsWith("\n");
      starts = new Int32Array(count + 1);
      let total = 0;
      for (let i = 0; i < count; i++) {
        starts[i] = total;
        const len =
          this.index.start(i + 1) - this.index.start(i) - (i + 1 < count || endsLine ? 1 : 0);
        total += Math.max(1, Math.ceil(len / cols));
      }
      starts[count] = total;
      if (total * ROW_PX > MAX_SCROLL_PX) starts = null;
    }
    const total = starts ? starts[count]! : count;
    const row = Math.min(ROW_PX, MAX_SCROLL_PX / Math.max(1, total));
    const rows: TerminalRows = {
      key,
      row,
      total,
      cols: starts ? cols : 0,
      width: cols * this.charWidth + pad + 0.5,
      lineTop: (i) => (starts ? starts[Math.min(i, count)]! : i) * row,
      lineAt: (y) => {
        const r = Math.max(0, Math.floor(y / row));
        if (!starts) return Math.min(r, Math.max(0, count - 1));
        let lo = 0;
        let hi = Math.max(0, count - 1);
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (starts[mid]! <= r) lo = mid;
          else hi = mid - 1;
        }
        return lo;
      },
    };
    this.rows = rows;
    return rows;
  }

  private showFindBar(): void {
    if (!this.findBar) {
      const input = h("input", {
        type: "search",
        class: "terminal-find-input",
        placeholder: "Find in this output",
        "aria-label": "Find in this output",
      });
      const count = h("span", { class: "terminal-find-count", "aria-live": "polite" });
      const prev = button("Previous match", () => this.findNext(false), { icon: "↑" });
      const next = button("Next match", () => this.findNext(true), { icon: "↓" });
      input.addEventListener("input", () => {
        this.current = -1;
        this.findNext(true);
      });
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          // Not the notebook's Shift+Enter (run the cell).
          ev.preventDefault();
          ev.stopPropagation();
          this.findNext(!ev.shiftKey);
        } else if (ev.key === "Escape" && input.value !== "") {
          ev.preventDefault();
          ev.stopPropagation();
          input.value = "";
          this.current = -1;
          this.findNext(true);
        }
      });
      this.findInput = input;
      this.findCount = count;
      this.findBar = h(
        "div",
        { class: "terminal-find", role: "search", "aria-label": "Find in this output" },
        input,
        prev,
        next,
        count,
      );
      this.toggle.after(this.findBar);
    }
    this.findBar.hidden = false;
  }

  /** Move to the next (or previous) match of the find bar's text and scroll it into view. */
  private findNext(forward: boolean): void {
    const query = this.findInput?.value ?? "";
    const text = this.output.text;
    const from = this.current < 0 ? this.topOffset() : this.current + (forward ? 1 : 0);
    this.current = this.finder.step(text, query, from, forward);
    const { at, more } = this.finder.matches(text, query);
    if (this.findCount) {
      const n = at.length;
      const which = this.current < 0 ? -1 : at.indexOf(this.current);
      this.findCount.textContent =
        query === ""
          ? ""
          : n === 0
            ? "No matches"
            : `${which >= 0 ? `${(which + 1).toLocaleString("en")} of ` : ""}${n.toLocaleString("en")}${more ? "+" : ""} match${n === 1 && !more ? "" : "es"}`;
    }
    const box = this.scroll;
    if (box && this.current >= 0) {
      const rows = this.layout();
      const line = this.index.lineOf(this.current);
      const top = rows.lineTop(line);
      const row = rows.row;
      if (top < box.scrollTop || top + row > box.scrollTop + box.clientHeight)
        box.scrollTop = Math.max(0, top - box.clientHeight / 2);
      this.drawVirtual();
    } else this.highlight();
  }

  /** Text offset of the first line in view. */
  private topOffset(): number {
    const box = this.scroll;
    if (!box) return 0;
    return this.index.start(this.layout().lineAt(box.scrollTop));
  }

  /** Highlight the find bar's matches among the lines drawn; the current one stands out. */
  private highlight(): void {
    const registry = (globalThis.CSS as { highlights?: Map<string, unknown> } | undefined)
      ?.highlights;
    const Highlight = (globalThis as { Highlight?: new (...r: Range[]) => unknown }).Highlight;
    if (!registry || !Highlight) return;
    const query = (this.findInput?.value ?? "").toLowerCase();
    if (query === "" && !findRanges.has(this)) return; // nothing to draw or to take away
    const all: Range[] = [];
    const current: Range[] = [];
    if (query !== "" && this.scroll) {
      // Which drawn match is the current one: count matches in the raw text from the first drawn line.
      const drawnFrom = this.drawnFrom;
      // (Only the drawn part is lower-cased: this runs at every redraw, also while text streams.)
      let nth = -1;
      const drawnLength = this.pre.textContent?.length ?? 0;
      if (this.current >= drawnFrom && this.current - drawnFrom <= drawnLength + 4096) {
        const before = this.output.text.slice(drawnFrom, this.current).toLowerCase();
        nth = 0;
        for (let i = before.indexOf(query); i >= 0; i = before.indexOf(query, i + query.length))
          nth++;
      }
      const walker = document.createTreeWalker(this.pre, NodeFilter.SHOW_TEXT);
      let k = 0;
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = (n.nodeValue ?? "").toLowerCase();
        for (let i = t.indexOf(query); i >= 0; i = t.indexOf(query, i + query.length)) {
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + query.length);
          (k === nth ? current : all).push(r);
          k++;
        }
      }
    }
    if (all.length + current.length > 0) findRanges.set(this, { all, current });
    else findRanges.delete(this);
    const views = [...findRanges.values()];
    registry.set("tsnb-find", new Highlight(...views.flatMap((v) => v.all)));
    registry.set("tsnb-find-current", new Highlight(...views.flatMap((v) => v.current)));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (this.scroll) this.drawVirtual();
    });
  }
}
