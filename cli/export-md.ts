/**
 * `tsnb export FILE --format md`: the notebook as plain Markdown with its outputs, for a README
 * or a blog post (docs/sharing.md). Code cells become `ts` fences, console text, values, tensors
 * and errors `text` fences, tables GitHub tables, Markdown outputs Markdown; charts are drawn to
 * SVG files by Vega in Node and images written as files, both in a folder beside the Markdown
 * (`NAME_files/`, as nbconvert does) and linked with relative paths.
 *
 * HTML outputs are not inlined (a README renderer would strip or, worse, run them): they become an
 * `html` fence. Inputs and controls are named in one line with their value.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import type { Notebook } from "../core/notebook.ts";
import { isEvaluable } from "../core/notebook.ts";
import { terminalText, type Output } from "../core/outputs.ts";
import { errorSummary } from "../core/session/output-updates.ts";
import { outputToText } from "./run.ts";

export interface MarkdownExportOptions {
  code?: boolean;
}

/** ANSI escape sequences (colours, cursor moves), removed from console text. */
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** A fence long enough not to be closed by backticks inside `text`. */
function fence(text: string, info: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${info}\n${text.replace(/\n+$/, "")}\n${ticks}`;
}

function tableCell(v: unknown): string {
  const text =
    v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

/** Vega-Lite spec → SVG text, drawn headless by Vega (text widths estimated, no canvas). */
export async function vegaLiteToSvg(spec: unknown): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const IMAGE_EXT: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/svg+xml": "svg",
};

/**
 * The Markdown text and the files written beside it (charts, images), or an error message.
 * `target` is where the Markdown goes: the files folder is `<target without .md>_files/`.
 */
export async function exportMarkdown(
  notebook: Notebook,
  outputs: Record<string, readonly Output[]>,
  target: string,
  options: MarkdownExportOptions = {},
): Promise<{ markdown: string; files: string[] } | string> {
  const code = options.code ?? true;
  const filesDir = join(
    dirname(target),
    basename(target).replace(/\.(md|markdown)$/i, "") + "_files",
  );
  const files: string[] = [];
  let n = 0;
  const writeAsset = async (ext: string, data: string | Uint8Array): Promise<string> => {
    await mkdir(filesDir, { recursive: true });
    const file = join(filesDir, `output-${++n}.${ext}`);
    await writeFile(file, data);
    files.push(file);
    return relative(dirname(target), file).split("\\").join("/");
  };

  const render = async (o: Output): Promise<string | null> => {
    switch (o.type) {
      case "terminal":
        return o.text.trim() === "" ? null : fence(terminalText(o).replace(ANSI, ""), "text");
      case "markdown":
        return o.text;
      case "html":
        return fence(o.html, "html");
      case "image": {
        const ext = IMAGE_EXT[o.mime.toLowerCase()];
        if (!ext) return `*(an image of type ${o.mime})*`;
        const path = await writeAsset(ext, Buffer.from(o.data, "base64"));
        return `![${o.alt ?? "image"}](${path})`;
      }
      case "vega-lite": {
        try {
          const path = await writeAsset("svg", await vegaLiteToSvg(o.spec));
          const title = isTitled(o.spec) ? o.spec.title : "chart";
          return `![${title}](${path})`;
        } catch (err) {
          return fence(`[the chart could not be drawn: ${(err as Error).message}]`, "text");
        }
      }
      case "table": {
        if (o.columns.length === 0) return null;
        const lines = [
          `| ${o.columns.map(tableCell).join(" | ")} |`,
          `| ${o.columns.map(() => "---").join(" | ")} |`,
          ...o.rows.map((r) => `| ${o.columns.map((_, i) => tableCell(r[i])).join(" | ")} |`),
        ];
        const more = o.totalRows - o.rows.length;
        if (more > 0) lines.push("", `*(${more} more rows)*`);
        return lines.join("\n");
      }
      case "error":
        return fence([errorSummary(o), ...o.stack.split("\n").slice(1)].join("\n"), "text");
      case "frame":
      case "layout": {
        const inner = o.type === "frame" ? o.outputs : o.items.flatMap((i) => i.outputs);
        const parts: string[] = [];
        for (const x of inner) {
          const r = await render(x);
          if (r) parts.push(r);
        }
        return parts.length ? parts.join("\n\n") : null;
      }
      case "tensor":
      case "value":
      case "progress":
      case "input":
      case "control": {
        const text = outputToText(o);
        return text ? fence(text, "text") : null;
      }
    }
  };

  const parts: string[] = [`# ${notebook.title}`];
  try {
    for (const section of notebook.sections) {
      if (section.title) parts.push(`## ${section.title}`);
      for (const cell of section.cells) {
        if (!isEvaluable(cell)) {
          if (cell.source.trim()) parts.push(cell.source.trim());
          continue;
        }
        if (code && cell.source.trim()) parts.push(fence(cell.source, "ts"));
        for (const o of outputs[cell.id] ?? []) {
          const r = await render(o);
          if (r) parts.push(r);
        }
      }
    }
  } catch (err) {
    return `cannot write the files beside ${target}: ${(err as Error).message}`;
  }
  return { markdown: parts.join("\n\n") + "\n", files };
}

function isTitled(spec: unknown): spec is { title: string } {
  return (
    typeof spec === "object" &&
    spec !== null &&
    typeof (spec as { title?: unknown }).title === "string"
  );
}
