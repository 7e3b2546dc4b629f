/**
 * Draws a cell's outputs (core/outputs.ts) into the DOM.
 *
 * Owns: one renderer per output type, including the value inspector, paged tables, vega-embed
 * charts (loaded on demand, live rows pushed into the named dataset), sandboxed HTML frames.
 * Invariants: HTML outputs only ever go into an <iframe sandbox="allow-scripts"> showing the
 * server's sandbox page, which receives the HTML by postMessage (an opaque origin with its own
 * CSP: its scripts run, with no access to the app, its cookie, its server or its WebSocket); Markdown goes through the
 * sanitizer; terminal text is escaped by ansi_up; images are <img> with a data: URL (SVG too,
 * never inlined). The switch over output types is exhaustive.
 */
import { renderErrorOutput, type ErrorPlaceHost } from "./error-output.ts";
import { assertNever } from "../core/notebook.ts";
import { FRAME_DOCTYPE } from "../core/html-frame.ts";
import type {
  Output,
  TerminalOutput,
  ValuePreview,
  TableOutput,
  TableSort,
  VegaLiteOutput,
} from "../core/outputs.ts";
import { button, h } from "./dom.ts";
import { onThemeChange, type Theme } from "./theme.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderControl, renderInputOutput, renderLayout, type InputHost } from "./inputs.ts";
import { TerminalView } from "./terminal.ts";

/** What outputs can ask of the app (more table rows, an input's new value, a control's event). */
export interface OutputHost extends InputHost, ErrorPlaceHost {
  /** Ask the kernel for the page of a table starting at `offset` (in `sort`'s order). */
  requestTablePage(tableId: string, offset: number, limit: number, sort?: TableSort): void;
  /** Every row of a table in `sort`'s order, for "Download CSV" (absent: only the shown rows). */
  fetchTableRows?(tableId: string, totalRows: number, sort?: TableSort): Promise<unknown[][]>;
}

export { FOLD_LINES } from "./terminal.ts";

/** Render a list of outputs into a fresh container element. */
export function renderOutputs(outputs: readonly Output[], host: OutputHost): HTMLElement {
  const box = h("div", { class: "outputs" });
  for (const o of outputs) box.append(renderOutput(o, host));
  return box;
}

/** Draw one output; `ownerCellId` is the cell it belongs to (errors say "this cell"). */
export function renderOutput(output: Output, host: OutputHost, ownerCellId?: string): HTMLElement {
  switch (output.type) {
    case "terminal":
      return renderTerminal(output);
    case "markdown":
      return h(
        "div",
        { class: "output output-markdown markdown-body" },
        htmlFragment(renderMarkdown(output.text)),
      );
    case "html":
      return renderHtml(output.html);
    case "image":
      return h(
        "div",
        { class: "output output-image" },
        h("img", {
          src: `data:${safeMime(output.mime)};base64,${output.data}`,
          alt: output.alt ?? "",
        }),
      );
    case "vega-lite":
      return renderVegaLite(output);
    case "table":
      return renderTable(output, host);
    case "tensor":
      return h(
        "div",
        { class: "output output-tensor" },
        h("div", { class: "tensor-head" }, `Tensor<${output.dtype}>[${output.shape.join("×")}]`),
        h("pre", {}, output.text),
      );
    case "value":
      return h("div", { class: "output output-value" }, renderValue(output.preview, true));
    case "error":
      return renderErrorOutput(output, host, ownerCellId);
    case "frame":
      return h(
        "div",
        { class: "output output-frame", "data-frame": output.id },
        renderOutputs(output.outputs, host),
      );
    case "progress": {
      const bar = h("progress", { max: 1 });
      if (output.fraction !== null) bar.value = output.fraction;
      const pct = output.fraction === null ? "" : ` ${Math.round(output.fraction * 100)}%`;
      return h(
        "div",
        { class: "output output-progress" },
        bar,
        h("span", {}, `${output.label}${pct}`),
      );
    }
    case "input":
      return renderInputOutput(output, host);
    case "control":
      return renderControl(output, host);
    case "layout":
      return renderLayout(output, (outputs) => renderOutputs(outputs, host));
    default:
      return assertNever(output, "output");
  }
}

function safeMime(mime: string): string {
  return /^image\/[a-z0-9.+-]+$/i.test(mime) ? mime : "application/octet-stream";
}

function htmlFragment(html: string): DocumentFragment {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

/** Console text (renderer/terminal.ts): folded to its last lines, updated in place as it grows. */
export function renderTerminal(output: TerminalOutput): HTMLElement {
  const view = new TerminalView(output);
  terminalViews.set(view.element, view);
  return view.element;
}

const terminalViews = new WeakMap<HTMLElement, TerminalView>();

/**
 * Show `output` in an element drawn for an earlier state of the same output, when that can be
 * done in place (console text that grew); false when the element must be drawn anew.
 */
export function updateOutputElement(el: HTMLElement, output: Output): boolean {
  const view = terminalViews.get(el);
  if (!view || output.type !== "terminal") return false;
  view.update(output);
  return true;
}

/** The server's sandbox page for HTML outputs (server/sandbox.ts SANDBOX_PATH). */
const SANDBOX_PATH = "/sandbox/html-output";
/** Tallest an HTML output frame grows to by itself (it scrolls inside beyond; the user may resize it). */
export const MAX_HTML_HEIGHT = 2000;
/** The frame's 1px border above and below (styles.css .output-html, box-sizing: border-box). */
const HTML_FRAME_BORDER = 2;
let sandboxListening = false;

/**
 * Messages from sandbox frames: `tsnb-sandbox-ready` → send the frame its HTML;
 * `tsnb-html-height` → size the frame. Anything else, or from another window, is ignored. The
 * frame is an opaque origin, so the HTML is posted with target "*" — only to that frame's window.
 */
function listenToSandboxes(): void {
  if (sandboxListening) return;
  sandboxListening = true;
  window.addEventListener("message", (e: MessageEvent) => {
    const source = e.source as Window | null;
    const entry = source ? findFrame(source) : null;
    if (!entry || !source) return;
    const data = e.data as { type?: unknown; height?: unknown } | null;
    if (data?.type === "tsnb-sandbox-ready")
      source.postMessage({ type: "tsnb-html", html: entry.html }, "*");
    else if (
      data?.type === "tsnb-html-height" &&
      typeof data.height === "number" &&
      Number.isFinite(data.height)
    )
      entry.frame.style.height = `${Math.min(Math.max(Math.ceil(data.height), 0) + HTML_FRAME_BORDER, MAX_HTML_HEIGHT)}px`;
  });
}

/** The output frame whose window sent a message, with its HTML. */
function findFrame(source: Window): { frame: HTMLIFrameElement; html: string } | null {
  for (const frame of document.querySelectorAll<HTMLIFrameElement>("iframe.output-html")) {
    if (frame.contentWindow !== source) continue;
    const html = htmlOf.get(frame);
    return html === undefined ? null : { frame, html };
  }
  return null;
}

/** The HTML each output frame shows, sent when its sandbox page says it is ready. */
const htmlOf = new WeakMap<HTMLIFrameElement, string>();

/**
 * HTML output in the server's sandbox page, framed with sandbox="allow-scripts": an opaque
 * origin with its own CSP, so the output's scripts run, but cannot reach the app's DOM, cookie,
 * storage, server API or WebSocket, open popups or navigate the app.
 */
function renderHtml(html: string): HTMLElement {
  listenToSandboxes();
  if (inlineFrameScript !== null) return renderInlineHtml(html, inlineFrameScript);
  const frame = h("iframe", {
    class: "output output-html",
    sandbox: "allow-scripts",
    referrerpolicy: "no-referrer",
    title: "HTML output",
    loading: "lazy",
  });
  htmlOf.set(frame, html);
  frame.src = SANDBOX_PATH;
  return frame;
}

/** Set by the HTML export's viewer: HTML outputs go into srcdoc frames (there is no server). */
let inlineFrameScript: string | null = null;

/**
 * Draw HTML outputs without the server's sandbox page (the exported file has none): each in an
 * `<iframe sandbox="allow-scripts" srcdoc>`, an opaque origin, in standards mode and followed
 * by `heightScript`, which reports the content's height as the sandbox page does. The srcdoc frame inherits the file's CSP.
 */
export function useInlineHtmlFrames(heightScript: string): void {
  inlineFrameScript = heightScript;
}

function renderInlineHtml(html: string, heightScript: string): HTMLElement {
  const frame = h("iframe", {
    class: "output output-html",
    sandbox: "allow-scripts",
    referrerpolicy: "no-referrer",
    title: "HTML output",
  });
  htmlOf.set(frame, html);
  frame.srcdoc = `${FRAME_DOCTYPE}${html}<script>${heightScript}</script>`;
  return frame;
}

/** Expandable inspector: objects are <details>, expanded at the top level. */
export function renderValue(v: ValuePreview, open = false): HTMLElement {
  if (v.kind === "primitive") return h("span", { class: `value value-${v.jsType}` }, v.text);
  const det = h("details", { class: "value-object" });
  if (open) det.open = true;
  det.append(h("summary", {}, h("span", { class: "value-label" }, v.label)));
  const list = h("div", { class: "value-entries" });
  for (const e of v.entries) {
    list.append(
      h(
        "div",
        { class: "value-entry" },
        h("span", { class: "value-key" }, `${e.key}: `),
        renderValue(e.value),
      ),
    );
  }
  if (v.more > 0) list.append(h("div", { class: "value-more" }, `… ${v.more} more`));
  det.append(list);
  return det;
}

function cellText(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * One page of a table: numeric columns right-aligned (their headers too), a header button per
 * column that sorts the whole table (the kernel sorts, then pages: ascending → descending →
 * as given), First / Previous / Next / Last, and "Download CSV" of every row in the shown order.
 */
function renderTable(t: TableOutput, host: OutputHost): HTMLElement {
  const pageSize = Math.max(t.rows.length, 1);
  const live = t.id !== "" && t.totalRows > 0;
  const box = h("div", { class: "output output-table" });
  if (t.name) box.append(h("div", { class: "table-name" }, t.name));
  const numeric = t.columns.map((_, c) => {
    let seen = false;
    for (const row of t.rows) {
      const v = row[c];
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") return false;
      seen = true;
    }
    return seen;
  });
  const table = h("table", {});
  const head = h("tr", {}, h("th", { class: "row-index", scope: "col" }, "#"));
  t.columns.forEach((c, i) => {
    const sorted = t.sort?.column === c ? (t.sort.descending ? "descending" : "ascending") : null;
    const th = h("th", {
      class: numeric[i] ? "num" : "",
      scope: "col",
      "aria-sort": sorted ?? "none",
    });
    if (live) {
      const next: TableSort | undefined =
        sorted === null
          ? { column: c, descending: false }
          : sorted === "ascending"
            ? { column: c, descending: true }
            : undefined;
      const b = h(
        "button",
        {
          type: "button",
          class: "th-sort",
          title: next
            ? `Sort by ${c}${next.descending ? ", descending" : ""}`
            : "Back to the original order",
        },
        h("span", {}, c),
        h(
          "span",
          { class: "sort-mark", "aria-hidden": "true" },
          sorted === "ascending" ? "▲" : sorted === "descending" ? "▼" : "",
        ),
      );
      b.addEventListener("click", () => host.requestTablePage(t.id, 0, pageSize, next));
      th.append(b);
    } else th.append(c);
    head.append(th);
  });
  table.append(h("thead", {}, head));
  const body = h("tbody", {});
  t.rows.forEach((row, i) => {
    const tr = h("tr", {}, h("td", { class: "row-index" }, String(t.offset + i)));
    for (let c = 0; c < t.columns.length; c++) {
      const v = row[c];
      tr.append(
        h(
          "td",
          { class: typeof v === "number" ? "num" : v === null || v === undefined ? "null" : "" },
          cellText(v),
        ),
      );
    }
    body.append(tr);
  });
  table.append(body);
  box.append(h("div", { class: "table-scroll" }, table));
  const last = Math.min(t.offset + t.rows.length, t.totalRows);
  const pages = Math.max(1, Math.ceil(t.totalRows / pageSize));
  const page = Math.floor(t.offset / pageSize) + 1;
  const pager = h(
    "div",
    { class: "table-pager", role: "group", "aria-label": "Table pages" },
    h(
      "span",
      { class: "table-range" },
      `${t.totalRows === 0 ? 0 : t.offset + 1}–${last} of ${t.totalRows} rows`,
    ),
  );
  if (t.totalRows > t.rows.length && t.id !== "") {
    const go = (offset: number) => host.requestTablePage(t.id, offset, pageSize, t.sort);
    const lastOffset = (pages - 1) * pageSize;
    const nav = (label: string, text: string, offset: number, disabled: boolean) => {
      const b = h(
        "button",
        { type: "button", class: "btn pager-btn", "aria-label": label, title: label },
        text,
      );
      b.addEventListener("click", () => go(offset));
      b.disabled = disabled;
      return b;
    };
    pager.append(
      nav("First page", "« First", 0, t.offset === 0),
      nav("Previous page", "‹ Previous", Math.max(0, t.offset - pageSize), t.offset === 0),
      h("span", { class: "table-page-no" }, `page ${page} of ${pages}`),
      nav("Next page", "Next ›", t.offset + pageSize, last >= t.totalRows),
      nav("Last page", "Last »", lastOffset, last >= t.totalRows),
    );
  }
  pager.append(
    h("span", { class: "spacer" }),
    button("Download CSV", () => void downloadTableCsv(t, host), {
      text: true,
      icon: "⤓",
      cls: "pager-btn",
      title: `Download all ${t.totalRows} rows as CSV${t.sort ? " (in the shown order)" : ""}`,
    }),
  );
  box.append(pager);
  return box;
}

/**
 * A table as CSV (RFC 4180: fields with a comma, quote or line break quoted, quotes doubled;
 * CRLF between records). Text that a spreadsheet would run as a formula (starting with = + - @,
 * a tab or a carriage return) gets a leading apostrophe (OWASP's advice on CSV injection);
 * numbers are written as they are.
 */
export function tableCsv(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const field = (v: unknown, isHeader = false): string => {
    let s =
      v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    if ((typeof v === "string" || isHeader) && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [columns.map((c) => field(c, true)).join(",")];
  for (const row of rows) lines.push(columns.map((_, i) => field(row[i])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** Every row (asked of the kernel page by page when it has the table), saved as NAME.csv. */
async function downloadTableCsv(t: TableOutput, host: OutputHost): Promise<void> {
  let rows: unknown[][] = t.rows;
  if (t.id !== "" && t.totalRows > t.rows.length && host.fetchTableRows) {
    try {
      rows = await host.fetchTableRows(t.id, t.totalRows, t.sort);
    } catch {
      return;
    }
  }
  const blob = new Blob([tableCsv(t.columns, rows)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = h("a", {
    href: url,
    download: `${(t.name ?? "table").replace(/[^\w.-]+/g, "_") || "table"}.csv`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface LiveChart {
  /** The drawn view (null until the first draw is done; pushed rows wait in `queued`). */
  view: ChartView | null;
  dataset: string;
  /** A changeset (vega's), so that rows added and removed go in one pulse. */
  changeset: () => ChangeSet;
  /**
   * Rows pushed and not yet in the view. They go in at the start of the next run (its
   * `prerun`), all in one changeset: vega keeps only the last of two changes made to a dataset
   * before a run, so a change made while a run is in flight would drop the one before it.
   */
  queued: unknown[];
  /** Replace the dataset's rows by `queued` (a redraw restoring the rows drawn before). */
  replace: boolean;
  /** The last `window` asked: at most this many rows are kept. */
  window?: number;
  /** Rows were pushed: a redraw (new theme) keeps the drawn rows, not the spec's. */
  pushed: boolean;
  /** Re-fit a chart that fills its container (its axis labels may have widened with new rows). */
  refit?: () => void;
}
interface ChangeSet {
  insert(rows: unknown[]): ChangeSet;
  remove(pred: unknown): ChangeSet;
}
interface ChartView {
  change(name: string, changes: ChangeSet): unknown;
  run(): unknown;
  runAsync(encode?: string, prerun?: () => void): Promise<unknown>;
  finalize(): void;
  data(name: string): unknown[];
  signal(name: string): unknown;
  signal(name: string, value: unknown): unknown;
  /** Re-run the autosize layout on the next run (the drawn size follows changed panel sizes). */
  resize(): unknown;
}
/**
 * Charts by output id so `vega-lite-push` updates can feed them rows: the output element drawn
 * last for an id owns it from the moment it is made, so rows pushed while it loads wait for it
 * (and none go to an element it replaced).
 */
const liveCharts = new Map<string, LiveChart>();

/**
 * The spec as vega-embed may see it: without `usermeta.embedOptions`, which vega-embed merges
 * over the app's own options (a chart in a notebook file could turn "View Source" back on, with
 * a `sourceHeader` of its choosing, in a popup in the app's origin). The app's options win.
 */
export function withoutEmbedOptions(spec: unknown): unknown {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) return spec;
  const usermeta = (spec as { usermeta?: unknown }).usermeta;
  if (typeof usermeta !== "object" || usermeta === null || !("embedOptions" in usermeta))
    return spec;
  const { embedOptions: _dropped, ...rest } = usermeta as Record<string, unknown>;
  return { ...(spec as object), usermeta: rest };
}

/**
 * The app's vega-embed options: downloads only, no action that opens a window; Vega logs errors
 * only (a live chart starts with no rows, and each scale's "Infinite extent" warning filled the
 * browser's console).
 */
export const EMBED_OPTIONS = {
  actions: { export: true, source: false, compiled: false, editor: false },
  logLevel: 1, // vega.Error
  ast: true,
  renderer: "svg",
  defaultStyle: true,
} as const;

/** The page's resolved theme (`<html data-theme>`, set by renderer/theme.ts, also in the export viewer). */
function pageTheme(): Theme {
  return document.documentElement.dataset["theme"] === "dark" ? "dark" : "light";
}

/**
 * vega-embed's options for a chart in theme `t`. Light: Vega's defaults. Dark: vega-themes'
 * "dark" theme (light guide text, ticks and domain) with the page's own colours over it — the
 * background is the page's (`--bg`, so a downloaded PNG looks as drawn), text `--fg`, ticks and
 * domain `--muted`, grid and view outline `--border-strong`. Vega-Lite merges the spec's own
 * `config` over this one, and colours set on marks, encodings or axes win over any config, so
 * a chart's explicit colours are kept.
 */
export function chartThemeOptions(t: Theme): { theme?: "dark"; config?: Record<string, unknown> } {
  if (t === "light") return {};
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const bg = v("--bg", "#16191d");
  const fg = v("--fg", "#dde1e6");
  const muted = v("--muted", "#8b95a1");
  const line = v("--border-strong", "#3a414b");
  return {
    theme: "dark",
    config: {
      background: bg,
      view: { stroke: line },
      title: { color: fg, subtitleColor: muted },
      style: { "guide-label": { fill: fg }, "guide-title": { fill: fg } },
      axis: { domainColor: muted, tickColor: muted, gridColor: line },
      text: { color: fg },
    },
  };
}

/** Redraw functions of the charts drawn, called when the page's theme changes. */
const themedCharts = new Map<HTMLElement, (t: Theme) => void>();
onThemeChange((t) => {
  for (const [box, redraw] of [...themedCharts]) {
    // A chart no longer on the page is not redrawn (nor kept).
    if (box.isConnected) redraw(t);
    else themedCharts.delete(box);
  }
});

/**
 * A Vega-Lite chart drawn by vega-embed (loaded on first use, AST interpreter: no eval), in the
 * page's theme. When the theme changes it is drawn again from its spec in the new theme; a
 * live chart keeps the rows it was drawing (pushed ones included) and its output id.
 */
function renderVegaLite(o: VegaLiteOutput): HTMLElement {
  const box = h("div", { class: "output output-vega", "data-output-id": o.id ?? null });
  const target = h("div", { class: "vega-target" });
  box.append(target);
  const panels = containerPanels(o.spec);
  if (panels > 0) target.classList.add("vega-fit-panels");
  const live: LiveChart = {
    view: null,
    dataset: o.dataset ?? "data",
    changeset: () => {
      throw new Error("chart not drawn");
    },
    queued: [],
    replace: false,
    pushed: false,
  };
  if (o.id) liveCharts.set(o.id, live);
  let stopFit: (() => void) | undefined;
  const draw = async (theme: Theme) => {
    const { default: embed, vega } = await import("vega-embed");
    target.dataset["theme"] = theme;
    const result = await embed(target, withoutEmbedOptions(o.spec) as never, {
      ...EMBED_OPTIONS,
      actions: { ...EMBED_OPTIONS.actions },
      ...chartThemeOptions(theme),
    });
    const view = result.view as unknown as ChartView;
    // From here to the end nothing awaits, so no pushed row falls between the two views.
    const previous = live.view;
    if (previous) {
      stopFit?.();
      if (live.pushed) {
        // The rows the old view draws and those queued for it, as plain objects (vega's
        // tuple ids are symbol keys, left behind).
        const plain = (r: unknown) =>
          typeof r === "object" && r !== null ? Object.fromEntries(Object.entries(r)) : r;
        live.queued = [...previous.data(live.dataset), ...live.queued].map(plain);
        live.replace = true;
      }
      previous.finalize();
    }
    live.view = view;
    live.changeset = () => vega.changeset() as unknown as ChangeSet;
    const fit =
      panels > 0 ? fitPanelsToContainer(box, target, view, panels, result.vgSpec) : undefined;
    live.refit = fit?.refit;
    stopFit = fit?.stop;
    if (live.replace || live.queued.length > 0) runLiveChart(live);
  };
  // Draws run one after another (a theme change while the first draw loads waits for it).
  let drawing = draw(pageTheme());
  const fail = (err: unknown) => {
    themedCharts.delete(box);
    if (o.id && liveCharts.get(o.id) === live) liveCharts.delete(o.id);
    target.replaceWith(h("div", { class: "output output-error" }, `Chart error: ${String(err)}`));
  };
  drawing.catch(fail);
  themedCharts.set(box, (t) => {
    drawing = drawing.then(() => (target.dataset["theme"] === t ? undefined : draw(t)));
    drawing.catch(fail);
  });
  return box;
}

/**
 * How many panels side by side a composite chart that asks to fill its container has
 * (`usermeta.tsnb.width = "container"` on an hconcat, vconcat or concat), else 0. Vega-Lite's own
 * `width: "container"` works for single and layered views only; those need nothing from us.
 */
export function containerPanels(spec: unknown): number {
  if (typeof spec !== "object" || spec === null) return 0;
  const s = spec as Record<string, unknown>;
  const tsnb = (s["usermeta"] as { tsnb?: { width?: unknown } } | undefined)?.tsnb;
  if (tsnb?.width !== "container") return 0;
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  if (count(s["hconcat"]) > 0) return count(s["hconcat"]);
  if (count(s["vconcat"]) > 0) return 1;
  const n = count(s["concat"]);
  const columns = typeof s["columns"] === "number" && s["columns"] > 0 ? s["columns"] : n;
  return Math.min(n, columns);
}

/** Narrowest a fitted panel gets (its axes stay readable; the chart then scrolls sideways). */
const MIN_PANEL_WIDTH = 80;

/**
 * Keep a composite chart as wide as its output box: the panels' width signals (Vega-Lite names
 * them `childWidth`, or `<view>_width` per panel) are set so that the drawn chart — panels plus
 * axes, legend and spacing, measured after each draw — fills the box. Runs now, when the box
 * resizes (window, sidebar) and when asked (after rows are pushed). Returns the re-fit function
 * and one that stops following the box (the chart is drawn anew).
 */
function fitPanelsToContainer(
  box: HTMLElement,
  target: HTMLElement,
  view: ChartView,
  panels: number,
  vgSpec: unknown,
): { refit: () => void; stop: () => void } {
  const signals = ((vgSpec as { signals?: unknown[] }).signals ?? [])
    .map((sg) => sg as { name?: unknown; value?: unknown; update?: unknown; on?: unknown })
    .filter(
      (sg) =>
        typeof sg.name === "string" &&
        (sg.name === "childWidth" || sg.name.endsWith("_width")) &&
        typeof sg.value === "number" &&
        sg.update === undefined &&
        sg.on === undefined,
    )
    .map((sg) => sg.name as string);
  if (signals.length === 0) return { refit: () => undefined, stop: () => undefined };
  // Vega sizes the drawing to its content (autosize "pad") once, and again only when asked.
  const relayout = async () => {
    view.resize();
    await view.runAsync();
  };
  let running = false;
  let again = false;
  const fit = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await relayout();
      for (let i = 0; i < 4; i++) {
        const avail = target.clientWidth;
        const svg = target.querySelector("svg.marks");
        const drawn = svg ? Number(svg.getAttribute("width")) : NaN;
        const current = Number(view.signal(signals[0]!));
        if (!(avail > 0) || !Number.isFinite(drawn) || !Number.isFinite(current)) return;
        const overhead = drawn - panels * current;
        const next = Math.max(MIN_PANEL_WIDTH, Math.floor((avail - overhead) / panels));
        if (next === current) return;
        for (const name of signals) view.signal(name, next);
        await relayout();
      }
    } finally {
      running = false;
      if (again) {
        again = false;
        void fit();
      }
    }
  };
  let frame = 0;
  const schedule = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      void fit();
    });
  };
  const observer = new ResizeObserver(schedule);
  observer.observe(box);
  schedule();
  return {
    refit: schedule,
    stop: () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
      frame = 0;
    },
  };
}

/**
 * Push rows into a live chart (vega-lite-push); returns false when no output element for the
 * id is on the page. Rows for a chart still loading go in once it is drawn.
 */
export function pushChartRows(id: string, rows: unknown[], windowSize?: number): boolean {
  const chart = liveCharts.get(id);
  if (!chart) return false;
  chart.queued.push(...rows);
  if (windowSize !== undefined) chart.window = windowSize;
  chart.pushed = true;
  if (chart.view) runLiveChart(chart);
  return true;
}

/** Run a live chart's view with its queued rows put in first (in one changeset). */
function runLiveChart(chart: LiveChart): void {
  const view = chart.view;
  if (!view) return;
  const prerun = () => {
    // A run asked of a view since replaced (a redraw took its queued rows over).
    if (chart.view !== view) return;
    if (chart.queued.length === 0 && !chart.replace) return;
    const rows = chart.queued;
    chart.queued = [];
    const current = chart.replace ? [] : view.data(chart.dataset);
    const changes = chart.changeset();
    if (chart.replace) changes.remove(() => true);
    chart.replace = false;
    const excess = chart.window === undefined ? 0 : current.length + rows.length - chart.window;
    if (excess > 0) {
      const old = new Set(current.slice(0, excess));
      changes.remove((d: unknown) => old.has(d));
    }
    changes.insert(excess > current.length ? rows.slice(excess - current.length) : rows);
    view.change(chart.dataset, changes);
  };
  void view.runAsync(undefined, prerun).then(() => chart.refit?.());
}
