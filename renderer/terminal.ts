/**
 * Console text in the page (core/outputs.ts `TerminalOutput`): one console per run of console
 * writes, stdout and stderr in write order with stderr's text tinted, ANSI colours as classes.
 *
 * Owns: `TerminalView`, which draws one terminal output and is updated in place as text streams
 * in. Invariants: an update costs the lines shown plus the lines added, never the whole text
 * (`LineIndex` keeps the line starts across updates); folded text shows its last `FOLD_LINES`
 * lines; expanded text of more than `PLAIN_EXPAND_LINES` lines is virtualized (only the lines
 * in view, plus a margin, are in the DOM), so expanding a million lines is one small render.
 * Text is escaped by ansi_up.
 */
import { AnsiUp } from "ansi_up";
import { droppedMarker, stderrRanges, type TerminalOutput } from "../core/outputs.ts";
import { button, h } from "./dom.ts";

/** Terminal output longer than this many lines is folded to its last lines. */
export const FOLD_LINES = 60;
/** Expanded text of at most this many lines is one plain <pre>; longer text is virtualized. */
export const PLAIN_EXPAND_LINES = 2000;
/** Height of a line of expanded, virtualized text (px; the CSS sets the same). */
const ROW_PX = 19;
/** Lines drawn above and below the ones in view. */
const OVERSCAN = 60;
/** The tallest the virtualized box's content may be (Chromium's layout limit is about 33M px). */
const MAX_SCROLL_PX = 15_000_000;

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
    }
    const box = this.scroll;
    const count = this.index.count;
    const row = Math.min(ROW_PX, MAX_SCROLL_PX / count);
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - ROW_PX;
    const height = `${Math.ceil(count * row) + ROW_PX}px`;
    if (this.spacer!.style.height !== height) this.spacer!.style.height = height;
    // Following the end, as a terminal does, while the view is at the bottom.
    if (atBottom) box.scrollTop = box.scrollHeight;
    const first = Math.max(0, Math.floor(box.scrollTop / row) - OVERSCAN);
    const last = Math.min(count, Math.ceil((box.scrollTop + box.clientHeight) / row) + OVERSCAN);
    const top = row === ROW_PX ? first * ROW_PX : Math.max(0, box.scrollTop - OVERSCAN * ROW_PX);
    this.pre.style.transform = `translateY(${top}px)`;
    const to = last >= count ? this.output.text.length : this.index.start(last) - 1;
    this.pre.innerHTML = terminalHtml(this.output, this.index.start(first), Math.max(0, to));
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
