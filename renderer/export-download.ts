/**
 * Export from the page (the notebook's "Export…" menu): the notebook as the page shows it now —
 * its live outputs, frames and live charts in their last state, inputs with the session's
 * values — written as a self-contained HTML file (core/format/html.ts, with the viewer fetched
 * from the server that serves the page) or as a Jupyter notebook (core/format/ipynb.ts), and
 * handed to the browser as a download. The same functions as `tsnb export`, so both give the
 * same file for the same outputs.
 */
import { exportHtml } from "../core/format/html.ts";
import { exportIpynb } from "../core/format/ipynb.ts";
import type { Output } from "../core/outputs.ts";
import type { SessionData } from "../core/session/data.ts";
import { allCells } from "../core/notebook.ts";

export type PageExportFormat = "html" | "html-no-code" | "ipynb";

/** Cell id → outputs, with each input showing the session's value (what every window shows). */
export function sessionOutputs(data: SessionData): Record<string, Output[]> {
  const withValues = (outputs: readonly Output[]): Output[] =>
    outputs.map((o): Output => {
      if (o.type === "input") {
        const state = data.inputs[o.id];
        return state ? { ...o, value: state.value } : o;
      }
      if (o.type === "frame") return { ...o, outputs: withValues(o.outputs) };
      if (o.type === "layout")
        return { ...o, items: o.items.map((i) => ({ ...i, outputs: withValues(i.outputs) })) };
      return o;
    });
  const out: Record<string, Output[]> = {};
  for (const cell of allCells(data.notebook)) {
    const state = data.cells[cell.id];
    if (state && state.outputs.length) out[cell.id] = withValues(state.outputs);
  }
  return out;
}

/** The file name of an export: the notebook's file name (or title) with the format's extension. */
export function exportFileName(data: SessionData, ext: string): string {
  const base =
    data.path
      ?.split("/")
      .pop()
      ?.replace(/\.(tsnb|ipynb|md)$/i, "") ||
    data.notebook.title.replace(/[\\/:*?"<>|]+/g, " ").trim() ||
    "notebook";
  return `${base}${ext}`;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { credentials: "same-origin" });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${res.statusText}`);
  return res.text();
}

/** The export's text and its file name. */
export async function buildPageExport(
  data: SessionData,
  format: PageExportFormat,
): Promise<{ name: string; text: string; mime: string }> {
  const outputs = sessionOutputs(data);
  if (format === "ipynb")
    return {
      name: exportFileName(data, ".ipynb"),
      text: exportIpynb(data.notebook, { outputs }),
      mime: "application/x-ipynb+json",
    };
  const [script, style] = await Promise.all([
    fetchText("/export-view.js"),
    fetchText("/export-view.css"),
  ]);
  const text = await exportHtml(
    data.notebook,
    outputs,
    { script, style },
    {
      code: format === "html",
    },
  );
  return { name: exportFileName(data, ".html"), text, mime: "text/html" };
}

/** Build the export and start its download. */
export async function downloadPageExport(
  data: SessionData,
  format: PageExportFormat,
): Promise<void> {
  const { name, text, mime } = await buildPageExport(data, format);
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
