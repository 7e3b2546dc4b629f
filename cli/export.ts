/**
 * `tsnb export FILE --html|--ipynb|--format FMT [-o OUT] [--run] [--no-code]`: a notebook
 * (`.tsnb`, or `.ipynb` read through the importer) written in another format
 * (docs/sharing.md):
 * - `--html` (`--format html`): one self-contained page with the outputs drawn as the app draws
 *   them, readable offline (core/format/html.ts);
 * - `--format md`: Markdown with the outputs, charts as SVG files beside it (cli/export-md.ts);
 * - `--ipynb` (`--format ipynb`): nbformat 4.5 (docs/format.md, "Jupyter notebooks").
 * The outputs are those the file holds, or with `--run` those of a fresh run of the notebook
 * (its console output printed as `tsnb run` prints it; the notebook file is not changed).
 *
 * Exit status: 0 written; 1 `--run` and a cell failed (the file is still written, with the
 * error shown where it happened); 2 bad arguments, the file cannot be read or parsed, or OUT
 * would be the input file itself.
 */

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { allCells, isEvaluable } from "../core/notebook.ts";
import type { Output } from "../core/outputs.ts";
import { exportIpynb } from "../core/format/index.ts";
import { exportHtml, type HtmlExportAssets } from "../core/format/html.ts";
import { outputsFromPersisted } from "../core/session/output-updates.ts";
import { writeFileAtomic } from "../server/atomic-write.ts";
import { packageRoot } from "../server/static.ts";
import { readNotebookFile } from "./notebook-file.ts";

const USAGE =
  "usage: tsnb export FILE.tsnb (--html | --ipynb | --format html|md|ipynb) [-o OUT] [--run] [--no-code]\n";

type Format = "ipynb" | "html" | "md";

const EXTENSIONS: Record<Format, string> = { ipynb: ".ipynb", html: ".html", md: ".md" };

export async function exportCommand(args: string[]): Promise<number> {
  let input: string | null = null;
  let out: string | null = null;
  let format: Format | null = null;
  let runFirst = false;
  let code = true;
  const setFormat = (f: string): string | null => {
    if (f !== "ipynb" && f !== "html" && f !== "md")
      return `unknown format '${f}' (html, md or ipynb)`;
    if (format !== null && format !== f) return `one format at a time (${format} and ${f})`;
    format = f;
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let problem: string | null = null;
    if (a === "-o" || a === "--output") {
      const v = args[++i];
      if (v === undefined) return usage(`${a} needs a file name`);
      out = v;
    } else if (a === "--ipynb") problem = setFormat("ipynb");
    else if (a === "--html") problem = setFormat("html");
    else if (a === "--format" || a.startsWith("--format=")) {
      const v = a === "--format" ? args[++i] : a.slice("--format=".length);
      if (v === undefined) return usage("--format needs html, md or ipynb");
      problem = setFormat(v);
    } else if (a === "--run") runFirst = true;
    else if (a === "--no-code") code = false;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith("-")) problem = `unknown option '${a}'`;
    else if (input === null) input = a;
    else problem = `one notebook at a time (got '${input}' and '${a}')`;
    if (problem) return usage(problem);
  }
  if (input === null) return usage("expected a notebook file");
  if (format === null) return usage("choose a format: --html, --ipynb or --format md");
  const fmt: Format = format;
  if (!code && fmt === "ipynb") return usage("--no-code is for --html and --format md");
  const target = out ?? input.replace(/\.(tsnb|ipynb|md)$/i, "") + EXTENSIONS[fmt];
  if (resolve(target) === resolve(input))
    return usage(`the output ${target} would replace the notebook itself; choose another with -o`);
  const nb = readNotebookFile(input);
  if (!nb.ok) {
    process.stderr.write(`tsnb export: ${nb.error}\n`);
    return 2;
  }
  // (A run prints the file's warnings itself.)
  if (!runFirst) for (const w of nb.warnings) process.stderr.write(`${w} (warning)\n`);

  // The outputs to show: a fresh run's, or what the file holds.
  let status = 0;
  let outputs: Record<string, Output[]> = {};
  if (runFirst) {
    const { runNotebook } = await import("./run.ts");
    const collect = new Map<string, Output[]>();
    status = await runNotebook(
      input,
      {
        continueOnError: true,
        write: false,
        verbose: false,
        collect,
      },
      nb,
    );
    if (status === 2) return 2;
    outputs = Object.fromEntries(collect);
  } else if (nb.kind === "ipynb") outputs = nb.outputs;
  else
    for (const cell of allCells(nb.notebook))
      if (isEvaluable(cell) && cell.outputs) outputs[cell.id] = outputsFromPersisted(cell.outputs);

  let text: string;
  if (fmt === "ipynb") {
    text = exportIpynb(nb.notebook, runFirst || nb.kind === "ipynb" ? { outputs } : {});
  } else if (fmt === "html") {
    const assets = readViewerAssets();
    if (typeof assets === "string") {
      process.stderr.write(`tsnb export: ${assets}\n`);
      return 2;
    }
    text = await exportHtml(nb.notebook, outputs, assets, { code });
  } else {
    const { exportMarkdown } = await import("./export-md.ts");
    const written = await exportMarkdown(nb.notebook, outputs, target, { code });
    if (typeof written === "string") {
      process.stderr.write(`tsnb export: ${written}\n`);
      return 2;
    }
    text = written.markdown;
    for (const f of written.files) process.stderr.write(`wrote ${f}\n`);
  }
  try {
    await writeFileAtomic(target, text);
  } catch (err) {
    process.stderr.write(`tsnb export: cannot write ${target}: ${(err as Error).message}\n`);
    return 2;
  }
  process.stderr.write(`wrote ${target}\n`);
  return status;
}

/** The built viewer (renderer/export-view.ts), or why it is missing. */
export function readViewerAssets(): HtmlExportAssets | string {
  const dir = join(packageRoot(), "dist", "renderer");
  const js = join(dir, "export-view.js");
  const css = join(dir, "export-view.css");
  if (!existsSync(js) || !existsSync(css))
    return `the HTML viewer is not built (${js} is missing): run npm run build`;
  return { script: readFileSync(js, "utf8"), style: readFileSync(css, "utf8") };
}

function usage(message: string): number {
  process.stderr.write(`tsnb export: ${message}\n${USAGE}`);
  return 2;
}
