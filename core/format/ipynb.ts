/**
 * Jupyter notebooks (nbformat 4, `.ipynb`) in and out (docs/format.md, "Jupyter notebooks").
 *
 * Owns: reading notebooks written by the TypeScript/JavaScript kernels (Deno, tslab,
 * IJavaScript) into the notebook model plus the outputs they hold, and writing a notebook (with
 * its live or persisted outputs) as nbformat 4.5 that nbformat's validator accepts.
 *
 * Invariants: pure, no Node or DOM imports. `importIpynb` never throws: a file that is not JSON
 * or not nbformat 4 is an error naming what is wrong; everything it cannot carry (magics, other
 * languages, raw cells, widgets, attachments it cannot inline, outputs without a form here) is a
 * warning with the 1-based number of the cell in the `.ipynb`, and its text is kept (as a
 * comment or a fenced block), never dropped silently. `importIpynb(exportIpynb(nb))` gives back
 * the cells, sections, title, smart-cell attrs, cell options and text outputs of `nb`.
 */

import {
  FORMAT_VERSION,
  type Cell,
  type CodeCell,
  type Notebook,
  type NotebookMetadata,
  type PersistedOutput,
  type Section,
  assertNever,
  newId,
} from "../notebook.ts";
import {
  appendTerminal,
  droppedMarker,
  terminalChunks,
  type Output,
  type ValuePreview,
} from "../outputs.ts";
import { isRecord } from "../fields.ts";
import { MarkdownFenceTracker, fenceFor, parseSectionHeading, parseTitleHeading } from "./lines.ts";
import { normalizeNotebook, trimFinalNewlines } from "./normalize.ts";

/** Something of the `.ipynb` that tsnb does not carry as it was, at 1-based cell numbers (absent: the whole notebook). */
export interface IpynbWarning {
  message: string;
  cells?: number[];
}

/** Warnings with the same message are one warning listing their cells. */
class Warnings {
  readonly list: IpynbWarning[] = [];
  private byMessage = new Map<string, IpynbWarning>();

  push(w: { message: string; cell?: number }): void {
    const seen = this.byMessage.get(w.message);
    if (seen && w.cell !== undefined) {
      if (!seen.cells!.includes(w.cell)) seen.cells!.push(w.cell);
      return;
    }
    const entry: IpynbWarning =
      w.cell === undefined ? { message: w.message } : { message: w.message, cells: [w.cell] };
    this.list.push(entry);
    if (w.cell !== undefined) this.byMessage.set(w.message, entry);
  }
}

export interface IpynbImportOptions {
  /** Title when the notebook does not start with a `# ` heading (e.g. the file name). */
  title?: string;
}

export type IpynbImportResult =
  | {
      ok: true;
      /** Cells carry their outputs in the form a `.tsnb` saves (text, charts); `persistOutputs` is set when there are any. */
      notebook: Notebook;
      /** Cell id → the outputs as the app shows them (images, HTML, Markdown, JSON, errors, text). */
      outputs: Record<string, Output[]>;
      warnings: IpynbWarning[];
    }
  | {
      ok: false;
      /** What is wrong, with the line and column of the file for JSON syntax errors. */
      error: { message: string; line?: number; column?: number };
    };

/** `FILE.ipynb: cell 3: message`, `FILE.ipynb: cells 3, 5: message` or `FILE.ipynb: message`. */
export function formatIpynbWarning(file: string, w: IpynbWarning): string {
  if (!w.cells || w.cells.length === 0) return `${file}: ${w.message}`;
  return `${file}: cell${w.cells.length > 1 ? "s" : ""} ${w.cells.join(", ")}: ${w.message}`;
}

const JS_LANGUAGES = new Set(["typescript", "javascript", "ts", "js", "tsx", "jsx"]);
const JS_KERNELS = new Set(["deno", "tslab", "jslab", "javascript", "typescript", "nodejs"]);

/** Vega-Lite bundles, newest first; tsnb writes v5 (what JupyterLab renders). */
const VEGA_LITE_MIME = /^application\/vnd\.vegalite\.v\d+\+json$/;
const VEGA_LITE_EXPORT_MIME = "application/vnd.vegalite.v5+json";
const WIDGET_MIME = "application/vnd.jupyter.widget-view+json";
/** A tsnb table's data next to its HTML, so a table comes back from .ipynb as a table. */
const TABLE_MIME = "application/vnd.tsnb.table+json";
const IMAGE_MIMES = ["image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp"];

/** Kernel APIs that do not exist in tsnb's kernel: the cell is kept, with a warning. */
const KERNEL_APIS: Array<{ pattern: RegExp; message: string }> = [
  {
    pattern: /\bDeno\.[A-Za-z]/,
    message:
      'the Deno API (Deno.…) is not in Node: use Node\'s modules, and `display` from "tsnb" for Deno.jupyter',
  },
  {
    pattern: /\$\$\.(html|svg|png|jpeg|mime|async|done|sendResult|sendError|display)\b/,
    message: 'IJavaScript\'s $$ object is not in tsnb: use `display` from "tsnb"',
  },
  {
    pattern: /\btslab\.display\b/,
    message: 'tslab.display is not in tsnb: use `display` from "tsnb"',
  },
  {
    pattern: /["'](jsr:|https?:\/\/)[^"']*["']/,
    message:
      "imports from jsr: or a URL cannot be loaded by tsnb's kernel (npm packages and local files can)",
  },
];

// ---------------------------------------------------------------------------------------------
// Import

/** An nbformat 4 notebook → the notebook model, its outputs and warnings. Never throws. */
export function importIpynb(text: string, options: IpynbImportOptions = {}): IpynbImportResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === "") return fail("the file is empty, not a Jupyter notebook");
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return jsonError(body, err as Error);
  }
  if (!isRecord(json)) return fail("not a Jupyter notebook: the JSON is not an object");
  const nbformat = json["nbformat"];
  if (nbformat === undefined) return fail('not a Jupyter notebook: it has no "nbformat" field');
  if (typeof nbformat !== "number")
    return fail(`not a Jupyter notebook: "nbformat" is ${JSON.stringify(nbformat)}, not a number`);
  if (nbformat < 4)
    return fail(
      `this is an nbformat ${nbformat} notebook; tsnb reads nbformat 4 (convert it with \`jupyter nbconvert --to notebook --nbformat 4 FILE.ipynb\`)`,
    );
  if (nbformat > 4)
    return fail(`this is an nbformat ${nbformat} notebook, newer than the nbformat 4 tsnb reads`);
  const cells = json["cells"];
  if (!Array.isArray(cells)) return fail('not a valid nbformat 4 notebook: "cells" is not a list');
  const meta = isRecord(json["metadata"]) ? json["metadata"] : {};

  const warnings = new Warnings();
  const tsnbMeta = isRecord(meta["tsnb"]) ? meta["tsnb"] : null;
  const language = notebookLanguage(meta);
  const otherLanguage = language !== null && !JS_LANGUAGES.has(language) ? language : null;
  if (language === null && !tsnbMeta)
    warnings.push({
      message: "the notebook names no language or kernel: code cells are read as TypeScript",
    });

  const notebook: Notebook = {
    title: options.title ?? "Untitled notebook",
    metadata: readMetadata(tsnbMeta),
    sections: [{ id: newId("s"), title: "", cells: [] }],
  };
  const outputs: Record<string, Output[]> = {};
  let titleSet = false;
  let anyOutputs = false;
  const otherLanguageCells: number[] = [];
  const current = (): Section => notebook.sections[notebook.sections.length - 1]!;

  for (let i = 0; i < cells.length; i++) {
    const n = i + 1;
    const raw = cells[i];
    if (!isRecord(raw)) return fail(`cell ${n} is not an object`);
    const source = joinText(raw["source"]);
    if (source === null) return fail(`cell ${n}: "source" is not text`);
    const cellMeta = isRecord(raw["metadata"]) ? raw["metadata"] : {};
    const cellTsnb = isRecord(cellMeta["tsnb"]) ? cellMeta["tsnb"] : {};
    const type = raw["cell_type"];

    if (type === "markdown") {
      const md = inlineAttachments(source, raw["attachments"], n, warnings);
      if (cellTsnb["section"] === true) {
        const title = parseSectionHeading(md.split("\n")[0] ?? "");
        notebook.sections.push({ id: newId("s"), title: title ?? md.trim(), cells: [] });
        continue;
      }
      if (cellTsnb["title"] === true) {
        notebook.title = parseTitleHeading(md.split("\n")[0] ?? "") ?? md.trim();
        titleSet = true;
        continue;
      }
      // Foreign notebooks: a leading `# ` heading is the title, `## ` headings start sections.
      const parts = tsnbMeta ? [{ heading: null, text: md }] : splitSections(md);
      for (const part of parts) {
        if (part.heading !== null)
          notebook.sections.push({ id: newId("s"), title: part.heading, cells: [] });
        let textPart = part.text;
        if (
          !tsnbMeta &&
          !titleSet &&
          notebook.sections.length === 1 &&
          current().cells.length === 0
        ) {
          const lines = textPart.split("\n");
          const first = lines.findIndex((l) => l.trim() !== "");
          const title = first >= 0 ? parseTitleHeading(lines[first]!) : null;
          if (title !== null) {
            notebook.title = title;
            titleSet = true;
            textPart = lines.slice(first + 1).join("\n");
          }
        }
        if (textPart.trim() !== "")
          current().cells.push({ type: "markdown", id: newId(), source: textPart });
      }
      continue;
    }

    if (type === "raw") {
      const format = typeof cellMeta["format"] === "string" ? cellMeta["format"] : "";
      warnings.push({
        cell: n,
        message:
          "a raw cell (text passed to nbconvert as is) is kept as a fenced block in a Markdown cell",
      });
      if (source.trim() !== "")
        current().cells.push({
          type: "markdown",
          id: newId(),
          source: fenced("raw" + (format ? ` ${format}` : ""), source),
        });
      continue;
    }

    if (type !== "code") {
      warnings.push({
        cell: n,
        message: `a cell of unknown type ${JSON.stringify(type)} is kept as a fenced block in a Markdown cell`,
      });
      current().cells.push({ type: "markdown", id: newId(), source: fenced("", source) });
      continue;
    }

    // A code cell.
    const cellLanguage = vscodeLanguage(cellMeta) ?? otherLanguage;
    if (cellLanguage !== null && !JS_LANGUAGES.has(cellLanguage)) {
      otherLanguageCells.push(n);
      if (source.trim() !== "")
        current().cells.push({
          type: "markdown",
          id: newId(),
          source: fenced(cellLanguage, source),
        });
      continue;
    }
    // A notebook tsnb wrote holds TypeScript as it was: no magics to look for.
    const code = tsnbMeta ? { source, cellMagic: null } : convertMagics(source, n, warnings);
    if (code.cellMagic !== null) {
      current().cells.push({
        type: "markdown",
        id: newId(),
        source: fenced(code.cellMagic, source),
      });
      continue;
    }
    if (!tsnbMeta)
      for (const api of KERNEL_APIS)
        if (api.pattern.test(code.source)) warnings.push({ cell: n, message: api.message });

    const smart = isRecord(cellTsnb["smartCell"]) ? cellTsnb["smartCell"] : null;
    const cell: Cell =
      smart && typeof smart["kind"] === "string"
        ? {
            type: "smart",
            id: newId(),
            kind: smart["kind"],
            attrs: isRecord(smart["attrs"]) ? smart["attrs"] : {},
            source: code.source,
          }
        : { type: "code", id: newId(), source: code.source };
    if (cell.type === "code" && isRecord(cellTsnb["options"]))
      (cell as CodeCell).options = cellTsnb["options"];
    const read = readOutputs(raw["outputs"], n, warnings);
    if (read.live.length > 0) outputs[cell.id] = read.live;
    if (read.persisted.length > 0) {
      cell.outputs = read.persisted;
      anyOutputs = true;
    }
    current().cells.push(cell);
  }

  if (otherLanguageCells.length > 0)
    warnings.push({
      message: `code in ${otherLanguage ?? "another language"} (cell${otherLanguageCells.length > 1 ? "s" : ""} ${otherLanguageCells.join(", ")}) is kept as fenced blocks in Markdown cells: tsnb runs TypeScript and JavaScript`,
    });
  // Outputs in the file are part of it, as in Jupyter: a .tsnb saved from it keeps them too.
  if (anyOutputs) notebook.metadata.persistOutputs = true;
  // A section heading cell at the very start leaves an empty untitled first section: drop it.
  if (
    notebook.sections.length > 1 &&
    notebook.sections[0]!.title === "" &&
    notebook.sections[0]!.cells.length === 0
  )
    notebook.sections.shift();
  return { ok: true, notebook, outputs, warnings: warnings.list };
}

function fail(message: string): IpynbImportResult {
  return { ok: false, error: { message } };
}

/** A JSON syntax error with the line and column of the file, when the engine gives a position. */
function jsonError(text: string, err: Error): IpynbImportResult {
  const m = /position (\d+)/.exec(err.message);
  const lc = /line (\d+) column (\d+)/.exec(err.message);
  let line: number | undefined;
  let column: number | undefined;
  if (lc) {
    line = Number(lc[1]);
    column = Number(lc[2]);
  } else if (m || /end of JSON input/.test(err.message)) {
    const pos = m ? Number(m[1]) : text.length;
    const before = text.slice(0, pos);
    line = before.split("\n").length;
    column = pos - before.lastIndexOf("\n");
  }
  const detail = err.message
    .replace(/\s*\(line \d+ column \d+\)/, "")
    .replace(/ in JSON at position \d+.*$/, "");
  return {
    ok: false,
    error: {
      message: `not a Jupyter notebook: the JSON does not parse${line !== undefined ? ` at line ${line}, column ${column}` : ""} (${detail})`,
      ...(line !== undefined ? { line, column } : {}),
    },
  };
}

/** The notebook's language, lower case: `kernelspec.language`, else `language_info.name`, else from the kernel name. */
function notebookLanguage(meta: Record<string, unknown>): string | null {
  const spec = isRecord(meta["kernelspec"]) ? meta["kernelspec"] : {};
  const info = isRecord(meta["language_info"]) ? meta["language_info"] : {};
  for (const v of [spec["language"], info["name"]])
    if (typeof v === "string" && v.trim() !== "") return v.trim().toLowerCase();
  if (typeof spec["name"] === "string") {
    const name = spec["name"].toLowerCase();
    if (JS_KERNELS.has(name)) return "typescript";
    return name;
  }
  return null;
}

/** VS Code's per-cell language (`metadata.vscode.languageId`), lower case. */
function vscodeLanguage(meta: Record<string, unknown>): string | null {
  const vscode = isRecord(meta["vscode"]) ? meta["vscode"] : null;
  const id = vscode?.["languageId"];
  return typeof id === "string" ? id.toLowerCase() : null;
}

function readMetadata(tsnbMeta: Record<string, unknown> | null): NotebookMetadata {
  const saved = isRecord(tsnbMeta?.["metadata"])
    ? (tsnbMeta["metadata"] as Record<string, unknown>)
    : {};
  return { ...saved, version: FORMAT_VERSION };
}

/** nbformat's multiline string: a string or a list of strings (each with its own "\n"). */
function joinText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join("");
  return null;
}

/** A Markdown fenced block holding `content` (a fence longer than any backtick run in it). */
function fenced(info: string, content: string): string {
  const fence = fenceFor(content);
  return `${fence}${info}\n${content.replace(/\n$/, "")}\n${fence}`;
}

/** Markdown split at `## ` headings outside fenced blocks: the text before the first heading has heading null. */
function splitSections(md: string): Array<{ heading: string | null; text: string }> {
  const parts: Array<{ heading: string | null; text: string[] }> = [{ heading: null, text: [] }];
  const tracker = new MarkdownFenceTracker();
  for (const line of md.split("\n")) {
    const inFence = tracker.feed(line);
    const heading = inFence || tracker.open ? null : parseSectionHeading(line);
    if (heading !== null) parts.push({ heading, text: [] });
    else parts[parts.length - 1]!.text.push(line);
  }
  return parts
    .map((p) => ({ heading: p.heading, text: p.text.join("\n") }))
    .filter((p) => p.heading !== null || p.text.trim() !== "");
}

/** `![x](attachment:name.png)` → a `data:` URL of the attachment, so the image stays in the notebook. */
function inlineAttachments(
  md: string,
  attachments: unknown,
  n: number,
  warnings: Warnings,
): string {
  if (!isRecord(attachments) || Object.keys(attachments).length === 0) return md;
  const used = new Set<string>();
  const out = md.replace(/attachment:([^\s)"']+)/g, (whole, name: string) => {
    const bundle = attachments[name] ?? attachments[decodeURIComponent(name)];
    if (!isRecord(bundle)) return whole;
    const mime = Object.keys(bundle).find((k) => k.startsWith("image/"));
    const data = mime ? bundleText(bundle, mime) : null;
    if (!mime || data === null) return whole;
    used.add(name);
    // SVG attachments may be stored as text; the rest is base64.
    const b64 = data.trimStart().startsWith("<") ? utf8ToBase64(data) : data.replace(/\s+/g, "");
    return `data:${mime};base64,${b64}`;
  });
  const unused = Object.keys(attachments).filter((k) => !used.has(k));
  if (unused.length > 0)
    warnings.push({
      cell: n,
      message: `attachment${unused.length > 1 ? "s" : ""} ${unused.join(", ")} not referenced as an image and not kept`,
    });
  return out;
}

/**
 * IPython-style magics, which no TypeScript kernel here runs: a cell magic (`%%html` on the
 * first line) makes the cell a fenced block of that language; line magics (`%name …`) and shell
 * lines (`!cmd …`) become comments. Each gives a warning.
 */
function convertMagics(
  source: string,
  n: number,
  warnings: Warnings,
): { source: string; cellMagic: string | null } {
  const lines = source.split("\n");
  const first = lines.find((l) => l.trim() !== "") ?? "";
  const cell = /^%%([A-Za-z][\w-]*)/.exec(first);
  if (cell) {
    warnings.push({
      cell: n,
      message: `the cell magic %%${cell[1]} is not run by tsnb: the cell is kept as a fenced block in a Markdown cell`,
    });
    return { source, cellMagic: cell[1]! };
  }
  const magics: string[] = [];
  const out = lines.map((line) => {
    if (/^%[A-Za-z]/.test(line) || isShellLine(line)) {
      magics.push(line.trim());
      return `// ${line}`;
    }
    return line;
  });
  if (magics.length > 0)
    warnings.push({
      cell: n,
      message: `${magics.map((m) => `\`${m.length > 40 ? m.slice(0, 40) + "…" : m}\``).join(", ")}: magic and shell lines are not run by tsnb; kept as comments`,
    });
  return { source: out.join("\n"), cellMagic: null };
}

/** `!ls -la` / `! npm install x` at column 0, not JavaScript's `!x && y()`. */
function isShellLine(line: string): boolean {
  if (!/^!\s*[A-Za-z][\w.-]*(\s|$)/.test(line)) return false;
  return !/[()=;{}]|&&|\|\|/.test(line);
}

/** A cell's outputs: as the app shows them, and as a `.tsnb` can save them. */
function readOutputs(
  value: unknown,
  n: number,
  warnings: Warnings,
): { live: Output[]; persisted: PersistedOutput[] } {
  const live: Output[] = [];
  const persisted: PersistedOutput[] = [];
  if (!Array.isArray(value)) return { live, persisted };
  const unsaved = new Set<string>();
  let afterStream = false;
  for (const o of value) {
    if (!isRecord(o)) continue;
    const type = o["output_type"];
    if (type === "stream") {
      // Consecutive stream outputs (stdout and stderr) are one console, as the app shows it.
      const text = joinText(o["text"]) ?? "";
      const chunk = {
        type: "terminal",
        stream: o["name"] === "stderr" ? "stderr" : "stdout",
        text,
      } as const;
      if (afterStream) live.splice(0, live.length, ...appendTerminal(live, chunk, Infinity));
      else live.push(chunk);
      // Saved text blocks stay one per stream output (a .tsnb's blocks round-trip through it).
      if (text !== "") persisted.push({ type: "text", text: trimFinalNewlines(text) });
      afterStream = true;
      continue;
    }
    afterStream = false;
    if (type === "error") {
      const name = typeof o["ename"] === "string" ? o["ename"] : "Error";
      const message = typeof o["evalue"] === "string" ? o["evalue"] : "";
      const traceback = Array.isArray(o["traceback"])
        ? o["traceback"].filter((t) => typeof t === "string")
        : [];
      live.push({ type: "error", name, message, stack: traceback.join("\n") });
      persisted.push({ type: "text", text: `${name}: ${message}` });
    } else if (type === "execute_result" || type === "display_data") {
      const data = isRecord(o["data"]) ? o["data"] : {};
      const picked = pickMime(data, n, warnings);
      if (picked) {
        live.push(picked.output);
        if (picked.persisted) persisted.push(picked.persisted);
        else unsaved.add(picked.mime);
      }
    } else if (type === "update_display_data") {
      // Not a stored output in nbformat 4; ignore quietly if some tool wrote it.
    } else {
      warnings.push({
        cell: n,
        message: `an output of unknown type ${JSON.stringify(type)} is not kept`,
      });
    }
  }
  if (unsaved.size > 0)
    warnings.push({
      cell: n,
      message: `${[...unsaved].join(", ")} outputs are shown when opened, but a saved .tsnb keeps only text and charts (their text/plain, if any)`,
    });
  return { live, persisted };
}

/**
 * The representation of a mime bundle that the app shows (JupyterLab's order: Vega-Lite, HTML,
 * Markdown, LaTeX, images, JSON, plain text), and what a `.tsnb` saves of it (the chart, else the
 * bundle's plain text).
 */
/** One mime type's data of a bundle as text (nbformat's multiline strings), or null when absent. */
function bundleText(data: Record<string, unknown>, mime: string): string | null {
  return data[mime] === undefined ? null : joinText(data[mime]);
}

function pickMime(
  data: Record<string, unknown>,
  n: number,
  warnings: Warnings,
): { mime: string; output: Output; persisted: PersistedOutput | null } | null {
  const plainText = bundleText(data, "text/plain");
  const plain: PersistedOutput | null =
    plainText !== null && plainText !== ""
      ? { type: "text", text: trimFinalNewlines(plainText) }
      : null;
  const mimes = Object.keys(data);
  if (mimes.includes(WIDGET_MIME))
    warnings.push({
      cell: n,
      message:
        'a Jupyter widget: its state is not carried (tsnb has its own inputs, `import { input } from "tsnb"`)',
    });
  const table = data[TABLE_MIME];
  if (
    isRecord(table) &&
    Array.isArray(table["columns"]) &&
    table["columns"].every((c) => typeof c === "string") &&
    Array.isArray(table["rows"]) &&
    table["rows"].every(Array.isArray) &&
    typeof table["totalRows"] === "number" &&
    (table["offset"] === undefined || typeof table["offset"] === "number")
  ) {
    const columns = table["columns"] as string[];
    const rows = table["rows"] as unknown[][];
    const offset = (table["offset"] as number | undefined) ?? 0;
    const totalRows = table["totalRows"] as number;
    const persisted: PersistedOutput = { type: "table", columns, rows, totalRows };
    if (offset) persisted.offset = offset;
    return {
      mime: TABLE_MIME,
      output: { type: "table", id: "", columns, rows, offset, totalRows },
      persisted,
    };
  }
  const vl = mimes.find((m) => VEGA_LITE_MIME.test(m));
  if (vl && data[vl] !== undefined) {
    const spec = data[vl];
    return {
      mime: vl,
      output: { type: "vega-lite", spec },
      persisted: { type: "vega-lite", spec },
    };
  }
  const html = bundleText(data, "text/html");
  if (html !== null) return { mime: "text/html", output: { type: "html", html }, persisted: plain };
  const md = bundleText(data, "text/markdown");
  if (md !== null)
    return {
      mime: "text/markdown",
      output: { type: "markdown", text: md },
      persisted: { type: "markdown", text: trimFinalNewlines(md) },
    };
  const latex = bundleText(data, "text/latex");
  if (latex !== null)
    return {
      mime: "text/latex",
      output: { type: "markdown", text: latex },
      persisted: plain ?? { type: "text", text: trimFinalNewlines(latex) },
    };
  for (const mime of IMAGE_MIMES) {
    const img = bundleText(data, mime);
    if (img === null) continue;
    const b64 = mime === "image/svg+xml" ? utf8ToBase64(img) : img.replace(/\s+/g, "");
    const alt = plainText ?? undefined;
    return {
      mime,
      output: { type: "image", mime, data: b64, ...(alt ? { alt } : {}) },
      persisted: plain,
    };
  }
  const jsonMime = mimes.find(
    (m) => m === "application/json" || (m.endsWith("+json") && m !== WIDGET_MIME),
  );
  if (jsonMime) {
    const value = data[jsonMime];
    if (jsonMime !== "application/json" && !plain)
      warnings.push({
        cell: n,
        message: `${jsonMime} is shown as JSON (tsnb has no renderer for it)`,
      });
    return {
      mime: jsonMime,
      output: { type: "value", preview: jsonPreview(value, 0) },
      persisted: plain ?? { type: "text", text: JSON.stringify(value, null, 2) },
    };
  }
  if (plainText !== null)
    return {
      mime: "text/plain",
      output: { type: "terminal", stream: "stdout", text: plainText },
      persisted: plain,
    };
  const other = mimes.filter((m) => m !== WIDGET_MIME);
  if (other.length > 0)
    warnings.push({
      cell: n,
      message: `an output of type ${other.join(", ")} cannot be shown by tsnb and is not kept`,
    });
  return null;
}

const PREVIEW_DEPTH = 3;
const PREVIEW_ENTRIES = 100;

/** JSON as the app's value inspector shows it (bounded like the kernel's previews). */
function jsonPreview(value: unknown, depth: number): ValuePreview {
  if (value === null || typeof value !== "object") {
    const jsType = value === null ? "null" : typeof value;
    return { kind: "primitive", text: JSON.stringify(value) ?? String(value), jsType };
  }
  const isArray = Array.isArray(value);
  const all: Array<[string, unknown]> = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const label = isArray ? `Array(${all.length})` : "Object";
  if (depth >= PREVIEW_DEPTH) return { kind: "object", label, entries: [], more: all.length };
  return {
    kind: "object",
    label,
    entries: all
      .slice(0, PREVIEW_ENTRIES)
      .map(([key, v]) => ({ key, value: jsonPreview(v, depth + 1) })),
    more: Math.max(0, all.length - PREVIEW_ENTRIES),
  };
}

// ---------------------------------------------------------------------------------------------
// Export

export interface IpynbExportOptions {
  /** Cell id → live outputs (from a session or a run) to write; without it, the cells' persisted outputs. */
  outputs?: Record<string, readonly Output[]>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The notebook as nbformat 4.5 JSON text (one-space indent and a final newline, as Jupyter
 * writes it). The title and section headings are Markdown cells marked in their metadata, smart
 * cells and cell options are kept in `metadata.tsnb`, so importing the file gives the notebook back.
 */
export function exportIpynb(input: Notebook, options: IpynbExportOptions = {}): string {
  // What a save writes (one-line titles, no empty Markdown cells…), ids kept for `outputs`.
  const notebook = normalizeNotebook(input);
  const cells: Json[] = [];
  const ids = new Set<string>();
  const cellId = (id: string): string => {
    let base = id.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 60) || "cell";
    let candidate = base;
    for (let k = 2; ids.has(candidate); k++) candidate = `${base}-${k}`;
    ids.add(candidate);
    return candidate;
  };
  cells.push(markdownCell(cellId("title"), `# ${notebook.title}`, { tsnb: { title: true } }));
  notebook.sections.forEach((section, index) => {
    if (
      index > 0 ||
      section.title !== "" ||
      (section.cells.length === 0 && notebook.sections.length > 1)
    )
      cells.push(
        markdownCell(cellId(section.id), section.title === "" ? "##" : `## ${section.title}`, {
          tsnb: { section: true },
        }),
      );
    for (const cell of section.cells) {
      switch (cell.type) {
        case "markdown":
          cells.push(markdownCell(cellId(cell.id), cell.source, {}));
          break;
        case "code":
        case "smart": {
          const tsnb: Record<string, Json> = {};
          if (cell.type === "smart")
            tsnb["smartCell"] = { kind: cell.kind, attrs: cell.attrs as Json };
          else if (cell.options && Object.keys(cell.options).length > 0)
            tsnb["options"] = cell.options as Json;
          const live = options.outputs?.[cell.id];
          cells.push({
            cell_type: "code",
            execution_count: null,
            id: cellId(cell.id),
            metadata: Object.keys(tsnb).length > 0 ? { tsnb } : {},
            outputs: live ? live.flatMap(liveToIpynb) : (cell.outputs ?? []).map(persistedToIpynb),
            source: sourceLines(cell.source),
          });
          break;
        }
        default:
          assertNever(cell, "cell");
      }
    }
  });
  const { version: _v, ...settings } = notebook.metadata;
  const nb: Json = {
    cells,
    metadata: {
      // tsnb's own kernel in Jupyter (`tsnb kernelspec install`, cli/kernel.ts).
      kernelspec: { display_name: "TypeScript (tsnb)", language: "typescript", name: "tsnb" },
      language_info: {
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        name: "typescript",
        pygments_lexer: "typescript",
      },
      tsnb: { version: FORMAT_VERSION, metadata: jsonValue(settings) },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return JSON.stringify(nb, null, 1) + "\n";
}

function jsonValue(v: unknown): Json {
  const text = JSON.stringify(v);
  return text === undefined ? null : (JSON.parse(text) as Json);
}

function markdownCell(id: string, source: string, metadata: Record<string, Json>): Json {
  return { cell_type: "markdown", id, metadata, source: sourceLines(source) };
}

/** nbformat's multiline form: lines that keep their "\n", the last one without. */
function sourceLines(text: string): string[] {
  if (text === "") return [];
  const parts = text.split("\n");
  return parts.map((p, i) => (i < parts.length - 1 ? p + "\n" : p)).filter((p) => p !== "");
}

function stream(name: "stdout" | "stderr", text: string): Json {
  return { name, output_type: "stream", text: sourceLines(text) };
}

function display(data: Record<string, Json>): Json {
  return { data, metadata: {}, output_type: "display_data" };
}

function persistedToIpynb(o: PersistedOutput): Json {
  switch (o.type) {
    case "text":
      return stream("stdout", o.text + "\n");
    case "vega-lite":
      return display({
        [VEGA_LITE_EXPORT_MIME]: jsonValue(o.spec),
        "text/plain": "<VegaLite chart>",
      });
    case "markdown":
      return liveToIpynb({ type: "markdown", text: o.text })[0]!;
    case "table":
      return liveToIpynb({
        type: "table",
        id: "",
        columns: o.columns,
        rows: o.rows,
        offset: o.offset ?? 0,
        totalRows: o.totalRows,
      })[0]!;
    default:
      return assertNever(o, "persisted output");
  }
}

/** A live output as nbformat outputs (a frame gives those of its outputs). */
function liveToIpynb(o: Output): Json[] {
  switch (o.type) {
    case "terminal": {
      // One console in the app, one `stream` output per run of a stream in nbformat.
      const marker = droppedMarker(o);
      return [
        ...(marker ? [stream("stdout", marker)] : []),
        ...terminalChunks(o)
          .filter((c) => c.text !== "")
          .map((c) => stream(c.stream, c.text)),
      ];
    }
    case "markdown":
      return [display({ "text/markdown": sourceLines(o.text), "text/plain": sourceLines(o.text) })];
    case "html":
      return [display({ "text/html": sourceLines(o.html) })];
    case "image": {
      const data: Record<string, Json> =
        o.mime === "image/svg+xml"
          ? { "image/svg+xml": sourceLines(base64ToUtf8(o.data)) }
          : { [o.mime]: o.data };
      if (o.alt) data["text/plain"] = o.alt;
      return [display(data)];
    }
    case "vega-lite":
      return [
        display({ [VEGA_LITE_EXPORT_MIME]: jsonValue(o.spec), "text/plain": "<VegaLite chart>" }),
      ];
    case "table":
      return [
        display({
          [TABLE_MIME]: jsonValue({
            columns: o.columns,
            rows: o.rows,
            offset: o.offset,
            totalRows: o.totalRows,
          }),
          "text/html": tableHtml(o.columns, o.rows, o.totalRows - o.rows.length),
          "text/plain": sourceLines(tableText(o.columns, o.rows)),
        }),
      ];
    case "tensor":
      return [
        display({
          "text/plain": sourceLines(
            `${o.dtype}${o.shape.map((d) => `[${d}]`).join("")}\n${o.text}`,
          ),
        }),
      ];
    case "value":
      return [display({ "text/plain": sourceLines(previewText(o.preview)) })];
    case "error":
      return [
        {
          ename: o.name,
          evalue: o.message,
          output_type: "error",
          traceback: (o.stack || `${o.name}: ${o.message}`).split("\n"),
        },
      ];
    case "frame":
      return o.outputs.flatMap(liveToIpynb);
    case "progress":
      return [
        display({
          "text/plain": `${o.label} ${o.fraction === null ? "…" : `${Math.round(o.fraction * 100)}%`}`,
        }),
      ];
    case "input":
      return [display({ "text/plain": `[input ${o.input.kind}: ${o.input.label}]` })];
    case "control":
      return [
        display({
          "text/plain":
            o.control.kind === "form"
              ? `[form: ${Object.keys(o.control.fields).join(", ")}]`
              : `[${o.control.kind}: ${o.control.label}]`,
        }),
      ];
    case "layout":
      return o.items.flatMap((item) => item.outputs.flatMap(liveToIpynb));
    default:
      return assertNever(o, "output");
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cellText(v: unknown): string {
  return v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
}

function tableHtml(columns: string[], rows: unknown[][], more: number): string[] {
  const head = `<tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr>`;
  const body = rows.map(
    (r) => `<tr>${r.map((c) => `<td>${escapeHtml(cellText(c))}</td>`).join("")}</tr>`,
  );
  const tail = more > 0 ? [`<p>… ${more} more rows</p>`] : [];
  return sourceLines(
    ["<table>", `<thead>${head}</thead>`, "<tbody>", ...body, "</tbody>", "</table>", ...tail].join(
      "\n",
    ),
  );
}

function tableText(columns: string[], rows: unknown[][]): string {
  return [columns.join("\t"), ...rows.map((r) => r.map(cellText).join("\t"))].join("\n");
}

function previewText(p: ValuePreview): string {
  if (p.kind === "primitive") return p.text;
  const inner = p.entries.map((e) => `${e.key}: ${previewText(e.value)}`);
  if (p.more) inner.push(`… ${p.more} more`);
  return `${p.label} { ${inner.join(", ")} }`;
}

// ---------------------------------------------------------------------------------------------
// Base64 of UTF-8 text (SVG is text in nbformat, base64 in the app's image outputs).

function utf8ToBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function base64ToUtf8(b64: string): string {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
