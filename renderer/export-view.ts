/**
 * The viewer of an exported notebook (core/format/html.ts): the script inlined in a `.html`
 * export, which draws the notebook from the JSON in the file with the app's own renderers —
 * Markdown through markdown-it, KaTeX and DOMPurify (renderer/markdown.ts), code highlighted by
 * highlight.js, outputs through renderer/outputs.ts (ANSI text, tables, tensors, images, errors,
 * the value inspector, Vega-Lite charts drawn by vega-embed with its AST interpreter, so no
 * `eval`), HTML outputs in sandboxed srcdoc frames.
 *
 * There is no kernel: inputs and controls are drawn with the value they had, disabled; a table
 * shows the rows that were saved. The page is light or dark as the system is, following it
 * (renderer/theme.ts). Built by renderer/build.js to dist/renderer/export-view.js
 * (one classic script, no chunks: the file has nowhere to load them from) and export-view.css
 * (fonts as data: URLs).
 */
import "./styles.css";
import {
  EXPORT_DATA_ID,
  FRAME_HEIGHT_SCRIPT,
  type ExportedCell,
  type ExportedNotebook,
} from "../core/format/html.ts";
import { h } from "./dom.ts";
import { highlightCode, renderMarkdown } from "./markdown.ts";
import { renderOutput, useInlineHtmlFrames, type OutputHost } from "./outputs.ts";
import { initTheme } from "./theme.ts";

/** Outputs ask nothing of a kernel here: there is none. */
const host: OutputHost = {
  requestTablePage: () => undefined,
  setInputValue: () => undefined,
  sendControlEvent: () => undefined,
};

function fragment(html: string): DocumentFragment {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

function renderCell(cell: ExportedCell, showCode: boolean): HTMLElement {
  if (cell.type === "markdown")
    return h(
      "div",
      { class: "cell cell-markdown" },
      h("div", { class: "markdown-body rendered" }, fragment(renderMarkdown(cell.source))),
    );
  const box = h("div", { class: "cell cell-code" });
  if (showCode && cell.source.trim() !== "") {
    if (cell.smart) box.append(h("div", { class: "cell-kind" }, `${cell.smart} smart cell`));
    const code = h("code", { class: "hljs language-typescript" });
    code.innerHTML = highlightCode(cell.source, "typescript");
    box.append(h("div", { class: "code-area" }, h("pre", { class: "static-code" }, code)));
  }
  if (cell.outputs.length) {
    const outputs = h("div", { class: "outputs" });
    for (const o of cell.outputs) outputs.append(renderOutput(o, host, cell.id));
    // Inputs and controls show the value they had; with no kernel they cannot change anything.
    for (const el of outputs.querySelectorAll<HTMLInputElement>(
      ".output-input input, .output-input select, .output-input textarea, .output-input button, .output-control input, .output-control select, .output-control textarea, .output-control button",
    ))
      el.disabled = true;
    box.append(outputs);
  }
  return box;
}

function render(data: ExportedNotebook): HTMLElement {
  const root = h(
    "article",
    { class: "notebook exported", "aria-label": "Notebook" },
    h("h1", { class: "nb-title" }, data.title),
  );
  for (const section of data.sections) {
    const el = h("section", { class: section.title ? "section" : "section untitled" });
    if (section.title) el.append(h("h2", { class: "section-title" }, section.title));
    for (const cell of section.cells) el.append(renderCell(cell, data.showCode));
    root.append(el);
  }
  root.append(
    h(
      "footer",
      { class: "export-footer muted" },
      "Exported from tsnb: the notebook and its outputs as they were, with no kernel behind them.",
    ),
  );
  return root;
}

function main(): void {
  const el = document.getElementById(EXPORT_DATA_ID);
  const mount = document.getElementById("tsnb-export-root");
  if (!el || !mount) return;
  let data: ExportedNotebook;
  try {
    data = JSON.parse(el.textContent ?? "") as ExportedNotebook;
  } catch (err) {
    mount.textContent = `This export is damaged: ${String(err)}`;
    return;
  }
  if (data.format !== "tsnb-html-export" || data.version !== 1) {
    mount.textContent = "This export was written by another version of tsnb.";
    return;
  }
  useInlineHtmlFrames(FRAME_HEIGHT_SCRIPT);
  // Light or dark as the system is (as the app does until its toggle is used); charts follow.
  initTheme({ systemOnly: true });
  mount.replaceChildren(render(data));
  document.documentElement.dataset["rendered"] = "true";
}

main();
