/**
 * HTML export (docs/sharing.md): one self-contained `.html` file that shows a notebook with its
 * outputs the way the app draws them, offline, with no server.
 *
 * The file is a small document holding three things inline: the notebook as JSON (a
 * `<script type="application/json">`, never executed), the export viewer (renderer/export-view.ts,
 * built to dist/renderer/export-view.{js,css}: the app's own Markdown, KaTeX, highlighting,
 * output and Vega-Lite renderers) and its styles with fonts as data: URLs. The viewer draws the
 * notebook when the file opens. The CLI (`tsnb export --html`) and the page (Export → HTML) both
 * call `exportHtml`, with the assets read from disk or fetched from the server.
 *
 * Security invariants (DESIGN.md §8):
 * - A Content-Security-Policy in the file allows only the viewer's own script (by its SHA-256)
 *   in the page; no connection, image, font or frame source outside the file (`data:` only), so
 *   no request leaves the file and no notebook-supplied script runs in the page.
 * - Markdown is sanitized by DOMPurify when the viewer renders it, as in the app.
 * - HTML outputs are drawn in `<iframe sandbox="allow-scripts" srcdoc>` frames: an opaque origin
 *   that cannot reach the page. A srcdoc frame inherits the page's policy, so the inline
 *   `<script>`s of HTML outputs are allowed by their hashes (they can only ever run inside the
 *   sandbox: the page itself holds no element that is not the viewer's or sanitized), and
 *   external scripts, event-handler attributes and network requests of HTML outputs stay blocked.
 *
 * Pure: no Node or DOM imports (SHA-256 by the Web Crypto API, present in Node and browsers).
 */

import type { Notebook } from "../notebook.ts";
import { isEvaluable } from "../notebook.ts";
import type { Output } from "../outputs.ts";
import { FRAME_HEIGHT_SCRIPT } from "../html-frame.ts";

/** The viewer's built script and stylesheet (dist/renderer/export-view.js and .css). */
export interface HtmlExportAssets {
  script: string;
  style: string;
}

export interface HtmlExportOptions {
  /** Show code cells' code (default true); `--no-code` shows only Markdown and outputs. */
  code?: boolean;
}

/** What the viewer reads from the file (`<script type="application/json" id="tsnb-export">`). */
export interface ExportedNotebook {
  format: "tsnb-html-export";
  version: 1;
  title: string;
  showCode: boolean;
  sections: ExportedSection[];
}

export interface ExportedSection {
  title: string;
  cells: ExportedCell[];
}

export type ExportedCell =
  | { type: "markdown"; source: string }
  | {
      type: "code";
      /** The cell's id (an error output names the cell it happened in: "this cell" or another). */
      id: string;
      source: string;
      smart?: string;
      outputs: Output[];
    };

/** Id of the JSON data element the viewer reads. */
export const EXPORT_DATA_ID = "tsnb-export";

/**
 * The script every HTML output frame runs after the output's own HTML: it reports the content's
 * height to the page so the frame is as tall as its content (as the app's sandbox page does).
 */
export { FRAME_DOCTYPE, FRAME_HEIGHT_SCRIPT } from "../html-frame.ts";

/** The notebook and its outputs (cell id → outputs) as the viewer reads them. */
export function exportedNotebook(
  notebook: Notebook,
  outputs: Record<string, readonly Output[]>,
  options: HtmlExportOptions = {},
): ExportedNotebook {
  return {
    format: "tsnb-html-export",
    version: 1,
    title: notebook.title,
    showCode: options.code ?? true,
    sections: notebook.sections.map((s) => ({
      title: s.title,
      cells: s.cells.map((c): ExportedCell => {
        if (!isEvaluable(c)) return { type: "markdown", source: c.source };
        const cell: ExportedCell = {
          type: "code",
          id: c.id,
          source: c.source,
          outputs: [...(outputs[c.id] ?? [])],
        };
        if (c.type === "smart") cell.smart = c.kind;
        return cell;
      }),
    })),
  };
}

/** The inline `<script>` bodies of an HTML string (scripts with a `src` have no body to hash). */
export function inlineScripts(html: string): string[] {
  const found: string[] = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (/\bsrc\s*=/i.test(m[1] ?? "")) continue;
    // The HTML parser turns CRLF and CR into LF before the browser hashes a script's text.
    if (m[2]) found.push(m[2].replace(/\r\n?/g, "\n"));
  }
  return found;
}

/** Every HTML output's HTML, including those inside frames and layouts. */
function htmlOutputs(outputs: readonly Output[], into: string[] = []): string[] {
  for (const o of outputs) {
    if (o.type === "html") into.push(o.html);
    else if (o.type === "frame") htmlOutputs(o.outputs, into);
    else if (o.type === "layout") for (const item of o.items) htmlOutputs(item.outputs, into);
  }
  return into;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let binary = "";
  for (const b of new Uint8Array(digest)) binary += String.fromCharCode(b);
  return btoa(binary);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text safe inside a `<script>` or `<style>` element: no `</script`/`</style` can end it early. */
function rawText(text: string, tag: "script" | "style"): string {
  return text.replace(new RegExp(`</(${tag})`, "gi"), "<\\/$1");
}

/** The page's policy: the viewer's script and the HTML outputs' inline scripts, by hash. */
export function exportContentSecurityPolicy(scriptHashes: readonly string[]): string {
  const scripts = [...new Set(scriptHashes)].map((h) => `'sha256-${h}'`).join(" ");
  return [
    "default-src 'none'",
    `script-src ${scripts}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "font-src data:",
    "media-src data:",
    "connect-src 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
    "object-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** The whole `.html` file. */
export async function exportHtml(
  notebook: Notebook,
  outputs: Record<string, readonly Output[]>,
  assets: HtmlExportAssets,
  options: HtmlExportOptions = {},
): Promise<string> {
  const data = exportedNotebook(notebook, outputs, options);
  const script = rawText(assets.script, "script");
  const hashes = [await sha256Base64(script), await sha256Base64(FRAME_HEIGHT_SCRIPT)];
  for (const section of data.sections)
    for (const cell of section.cells)
      if (cell.type === "code")
        for (const html of htmlOutputs(cell.outputs))
          for (const body of inlineScripts(html)) hashes.push(await sha256Base64(body));
  // JSON with every "<" escaped is still JSON and cannot close its element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(exportContentSecurityPolicy(hashes))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tsnb">
<title>${escapeHtml(notebook.title)}</title>
<style>${rawText(assets.style, "style")}</style>
</head>
<body class="tsnb-export">
<noscript><p>This notebook was exported by tsnb; its page is drawn by a script: allow JavaScript to read it.</p></noscript>
<main id="tsnb-export-root"></main>
<script type="application/json" id="${EXPORT_DATA_ID}">${json}</script>
<script>${script}</script>
</body>
</html>
`;
}
