/**
 * `tsnb run FILE.tsnb... [--check] [--continue-on-error] [--write]`: evaluate every code cell (and smart
 * cell's code) top to bottom in a fresh kernel, printing each cell's console output as it
 * streams and its result the way Node's REPL shows it. Several files run in turn, each in its
 * own kernel under a `== FILE` line; the exit status is then the worst of theirs.
 *
 * Output: console text as it streams (each stream's text to its own stream), then the result; in a terminal a
 * header line names each cell and its line in the file.
 *
 * Exit status: 0 all cells succeeded; 1 a cell failed (the run stops there unless
 * --continue-on-error), was interrupted, or the kernel died; 2 the file cannot be read or
 * parsed (or the kernel cannot start). `--check` type-checks first (cli/check.ts): a type error
 * is exit 1 before any cell runs. Errors are printed with their location as
 * `FILE.tsnb:LINE:COL`. `--write` saves the outputs into the notebook (persisted outputs) with an
 * atomic write, so a crash mid-write never leaves a truncated file. Ctrl+C interrupts the running
 * cell and ends the run (a second Ctrl+C kills the kernel).
 *
 * `--runtime URL` runs the cells on a kernel of a Jupyter server (kernel/remote.ts) instead of a
 * local child process; the file is read and written here.
 */

import { dirname, resolve } from "node:path";
import { exportNotebook } from "../core/format/index.ts";
import {
  allCells,
  assertNever,
  isEvaluable,
  notebookDependencies,
  withDependencies,
  type EvaluableCell,
  type PersistedOutput,
} from "../core/notebook.ts";
import {
  appendTerminal,
  outputLimitOf,
  terminalChunks,
  terminalText,
  type ErrorOutput,
  type InputValue,
  type Output,
  type OutputUpdate,
  type ValuePreview,
} from "../core/outputs.ts";
import {
  applyOutputUpdate,
  errorSummary,
  outputsToPersisted,
} from "../core/session/output-updates.ts";
import type { EvaluationFinishedEvent, KernelEvent } from "../core/kernel-protocol.ts";
import { KernelProcess } from "../kernel/client.ts";
import { jupyterChild, parseRuntime, type Runtime } from "../kernel/remote.ts";
import { writeFileAtomic } from "../server/atomic-write.ts";
import { checkNotebook } from "./check.ts";
import { readNotebookFile } from "./notebook-file.ts";

const USAGE =
  "usage: tsnb run FILE.tsnb... [--check] [--continue-on-error] [--write] [--verbose] [--input LABEL=VALUE]...\n" +
  "                [--runtime JUPYTER_URL [--runtime-kernel NAME]] [--allow-scripts NAME,...]\n";

export interface RunOptions {
  /** Type-check the notebook first (`tsnb check`); a type error fails it before any cell runs. */
  check?: boolean;
  continueOnError: boolean;
  write: boolean;
  /** Print errors with every stack frame (tsnb's, packages', Node's), not only the notebook's. */
  verbose: boolean;
  /** `--input LABEL=VALUE`: the value of the inputs with that label (else they take their defaults). */
  inputs?: Record<string, string>;
  /**
   * Filled with each cell's outputs as the page would hold them at the end of the run (results
   * as rich outputs, displays in their last state): what `tsnb export --html --run` draws.
   */
  collect?: Map<string, Output[]>;
  /** `--runtime URL`: run on a kernel of this Jupyter server, not a local process. */
  runtime?: Runtime;
}

/** The `run` subcommand; returns the exit status. */
export async function run(args: string[]): Promise<number> {
  const files: string[] = [];
  const options: RunOptions = { continueOnError: false, write: false, verbose: false };
  const inputs: Record<string, string> = {};
  let runtimeUrl: string | undefined;
  let runtimeKernel: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const valued = (name: string): string | null | undefined => {
      if (a === name) return args[++i] ?? null;
      if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
      return undefined;
    };
    const runtime = valued("--runtime");
    const runtimeKernelName = runtime === undefined ? valued("--runtime-kernel") : undefined;
    if (runtime === null || runtimeKernelName === null) {
      process.stderr.write(`tsnb run: ${a} takes a value\n${USAGE}`);
      return 2;
    }
    if (runtime !== undefined) runtimeUrl = runtime;
    else if (runtimeKernelName !== undefined) runtimeKernel = runtimeKernelName;
    else if (a === "--input" || a.startsWith("--input=")) {
      const spec = a === "--input" ? args[++i] : a.slice("--input=".length);
      const eq = spec?.indexOf("=") ?? -1;
      if (spec === undefined || eq <= 0) {
        process.stderr.write(`tsnb run: --input takes LABEL=VALUE, got '${spec ?? ""}'\n${USAGE}`);
        return 2;
      }
      inputs[spec.slice(0, eq)] = spec.slice(eq + 1);
      options.inputs = inputs;
    } else if (a === "--continue-on-error") options.continueOnError = true;
    else if (a === "--write") options.write = true;
    else if (a === "--check") options.check = true;
    else if (a === "--allow-scripts" || a.startsWith("--allow-scripts=")) {
      const names = a === "--allow-scripts" ? args[++i] : a.slice("--allow-scripts=".length);
      if (!names) {
        process.stderr.write(`tsnb run: --allow-scripts takes package names (a,b or *)\n${USAGE}`);
        return 2;
      }
      // The kernel inherits the environment: kernel/npm.ts reads the list there.
      const before = process.env["TSNB_NPM_ALLOW_SCRIPTS"];
      process.env["TSNB_NPM_ALLOW_SCRIPTS"] = before ? `${before},${names}` : names;
    } else if (a === "--verbose") options.verbose = true;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(USAGE);
      return 0;
    } else if (a.startsWith("-")) {
      process.stderr.write(`tsnb run: unknown option '${a}'\n${USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    process.stderr.write(`tsnb run: expected a notebook file\n${USAGE}`);
    return 2;
  }
  if (runtimeKernel !== undefined && runtimeUrl === undefined) {
    process.stderr.write(`tsnb run: --runtime-kernel goes with --runtime\n${USAGE}`);
    return 2;
  }
  if (runtimeUrl !== undefined) {
    try {
      options.runtime = parseRuntime(runtimeUrl, { kernelName: runtimeKernel });
    } catch (err) {
      process.stderr.write(`tsnb run: ${(err as Error).message}\n`);
      return 2;
    }
  }
  if (files.length === 1) return runNotebook(files[0]!, options);
  // Several files (`tsnb run notebooks/*.tsnb`): each in turn in a fresh kernel, under a header
  // line; a failing notebook does not stop the next, Ctrl+C stops them all. The status is the
  // worst of them.
  let status = 0;
  let stopped = false;
  const onSigint = () => (stopped = true);
  process.on("SIGINT", onSigint);
  try {
    for (const [i, file] of files.entries()) {
      if (stopped) break;
      process.stdout.write(`${i > 0 ? "\n" : ""}== ${file}\n`);
      status = Math.max(status, await runNotebook(file, options));
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  return status;
}

/** Run `file` (already read as `opened` when given: `collect` is then keyed by its cell ids). */
export async function runNotebook(
  file: string,
  options: RunOptions,
  // .tsnb and Markdown, or .ipynb through its importer; any other file is not a notebook (exit 2).
  opened = readNotebookFile(file),
): Promise<number> {
  // `tsnb run … | head`: a closed pipe ends the output, not the process with a stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  if (!opened.ok) {
    process.stderr.write(`tsnb run: ${opened.error}\n`);
    return 2;
  }
  if (options.write && opened.kind !== "tsnb") {
    process.stderr.write(
      `tsnb run: --write saves .tsnb and Markdown notebooks only; ${file} is not one (convert it first: tsnb import ${file})\n`,
    );
    return 2;
  }
  const { notebook, cellLines } = opened;
  for (const w of opened.warnings) process.stderr.write(`${w} (warning)\n`);
  if (options.check) {
    const checked = await checkNotebook(file, "tsnb run");
    if (checked === null) return 2;
    if (checked.errors > 0) {
      process.stderr.write(
        `tsnb run: ${checked.errors} type error${checked.errors === 1 ? "" : "s"} in ${file}; nothing was run\n`,
      );
      return 1;
    }
  }

  const kernel = new KernelProcess({
    cwd: dirname(resolve(file)),
    spawn: options.runtime
      ? jupyterChild(options.runtime, (line) => process.stderr.write(`tsnb run: ${line}\n`))
      : undefined,
  });
  try {
    await kernel.start();
  } catch (err) {
    process.stderr.write(`tsnb run: cannot start the kernel: ${(err as Error).message}\n`);
    return 2;
  }
  if (options.inputs) kernel.setInputOverrides(options.inputs);

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write("\ntsnb run: interrupting (Ctrl+C again to kill the kernel)\n");
      kernel.interrupt();
    } else kernel.kill();
  };
  process.on("SIGINT", onSigint);

  const cells = allCells(notebook).filter(isEvaluable);
  // Collectors stay attached after their cell finished: its timers may still print or fail.
  const outputsByCell = new Map<string, Collector>();
  /** npm versions resolved in this run that the notebook did not record. */
  const newlyResolved: Record<string, string> = {};
  let failed = false;
  const report: ErrorReport = { file, verbose: options.verbose };
  try {
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      if (cell.source.trim() === "") continue;
      const line = cellLines[cell.id] ?? 1;
      // In a terminal each cell gets a dim header; piped output is only what the cells print.
      if (process.stdout.isTTY)
        process.stdout.write(`\x1b[2m── cell ${i + 1} · ${file}:${line} ──\x1b[0m\n`);
      const persisted = new Collector(outputLimitOf(notebook.metadata));
      outputsByCell.set(cell.id, persisted);
      const dependencies = notebookDependencies(notebook.metadata);
      const fin = await kernel.evaluate(
        {
          evalId: `run-${i + 1}`,
          cellId: cell.id,
          code: cell.source,
          file,
          line,
          ...(Object.keys(dependencies).length ? { dependencies } : {}),
        },
        (event) => printEvent(event, persisted, report),
      );
      if (fin.dependencies) {
        notebook.metadata = withDependencies(notebook.metadata, fin.dependencies);
        Object.assign(newlyResolved, fin.dependencies);
      }
      printFinished(fin, report, persisted);
      if (fin.status !== "ok") {
        failed = true;
        if (fin.status === "aborted") {
          process.stderr.write(`tsnb run: ${kernel.death?.message ?? "the kernel stopped"}\n`);
          if (kernel.death?.stderr) process.stderr.write(kernel.death.stderr.trimEnd() + "\n");
          break;
        }
        if (fin.status === "interrupted" || interrupts > 0 || !options.continueOnError) {
          break;
        }
      }
    }
  } finally {
    process.off("SIGINT", onSigint);
    await kernel.stop();
  }
  // An error of a cell's timer, callback or unhandled promise (reported after the cell finished).
  if ([...outputsByCell.values()].some((c) => c.failedLate)) failed = true;
  if (options.collect)
    for (const [cellId, c] of outputsByCell) options.collect.set(cellId, c.liveOutputs());

  const resolvedList = Object.entries(newlyResolved).map(([n, v]) => `npm:${n}@${v}`);
  if (resolvedList.length && !options.write && opened.kind === "tsnb")
    process.stderr.write(
      `tsnb run: resolved ${resolvedList.join(", ")}; not recorded in ${file} (run with --write, or open it in the app, to record the versions)\n`,
    );
  if (options.write) {
    for (const cell of cells) setOutputs(cell, outputsByCell.get(cell.id)?.outputs());
    notebook.metadata.persistOutputs = true;
    try {
      await writeFileAtomic(file, exportNotebook(notebook));
    } catch (err) {
      process.stderr.write(`tsnb run: cannot write ${file}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return failed ? 1 : 0;
}

function setOutputs(cell: EvaluableCell, outputs: PersistedOutput[] | undefined): void {
  if (outputs && outputs.length) cell.outputs = outputs;
  else delete cell.outputs;
}

/**
 * A cell's outputs as the page holds them (console text merged with `\r` collapsed, display
 * frames replaced by their updates, pushed chart rows in the chart's spec: the reducer's own
 * functions), saved with `outputsToPersisted`, as the server saves them.
 */
class Collector {
  /** An error output arrived for the cell (a background error: the run fails). */
  failedLate = false;
  private live: Output[] = [];
  /** The same outputs with results as the page shows them (a value's inspector tree). */
  private rich: Output[] = [];

  /** `limit`: the notebook's output limit (console text kept per cell). */
  constructor(private readonly limit: number) {}

  add(output: Output, rich: Output = output): void {
    // Both streams go into one text block, in order, as a terminal shows them.
    this.live =
      output.type === "terminal"
        ? appendTerminal(this.live, output, this.limit)
        : [...this.live, output];
    this.rich =
      rich.type === "terminal" ? appendTerminal(this.rich, rich, this.limit) : [...this.rich, rich];
  }

  update(update: OutputUpdate): void {
    this.live = applyOutputUpdate(this.live, update).outputs;
    this.rich = applyOutputUpdate(this.rich, update).outputs;
  }

  /** The cell's result; a value as the REPL prints it (`resultText`), not its inspector tree. */
  result(result: Output, resultText: string | undefined): void {
    if (result.type === "value" && resultText !== undefined)
      this.add(
        { type: "value", preview: { kind: "primitive", text: resultText, jsType: "object" } },
        result,
      );
    else this.add(result);
  }

  liveOutputs(): Output[] {
    return this.rich;
  }

  outputs(): PersistedOutput[] {
    return outputsToPersisted(this.live);
  }
}

function printEvent(event: KernelEvent, persisted: Collector, report: ErrorReport): void {
  if (event.type === "output") {
    const o = event.output;
    if (o.type === "terminal") for (const c of terminalChunks(o)) process[c.stream].write(c.text);
    else if (o.type === "error") {
      // A background error of the cell (its timer threw, its promise was not handled).
      printError(o, report);
      persisted.failedLate = true;
      persisted.add(o);
      return;
    } else {
      const text = outputToText(o);
      if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
    }
    persisted.add(o);
  } else if (event.type === "output-update") {
    // A terminal shows each new state of a display as it comes; the file keeps the last one.
    if (event.update.type === "frame-replace" || event.update.type === "frame-append") {
      for (const o of event.update.outputs) {
        const text = outputToText(o);
        if (text) process.stdout.write(text.endsWith("\n") ? text : text + "\n");
      }
    }
    persisted.update(event.update);
  }
}

function printFinished(
  fin: EvaluationFinishedEvent,
  report: ErrorReport,
  persisted: Collector,
): void {
  if (fin.status === "ok") {
    if (!fin.result) return;
    const text =
      fin.result.type === "value" || fin.result.type === "table"
        ? (fin.resultText ?? outputToText(fin.result))
        : outputToText(fin.result);
    process.stdout.write(text + "\n");
    persisted.result(fin.result, fin.resultText);
    return;
  }
  if (fin.status === "aborted") return;
  const e = fin.error;
  if (!e) return;
  printError(e, report);
  persisted.add(e);
}

interface ErrorReport {
  /** The notebook as named on the command line (positions print as FILE:LINE:COL). */
  file: string;
  verbose: boolean;
}

/**
 * An error on stderr: `FILE:LINE:COL: Name: message`, the lines with a caret for a syntax error,
 * then the notebook's frames (every frame with --verbose).
 */
function printError(e: ErrorOutput, report: ErrorReport): void {
  const where = e.location ? `${report.file}:${e.location.line}:${e.location.column}: ` : "";
  // The saved output has no position (positions move as outputs are written into the file).
  const out = [`${where}${errorSummary(e)}`];
  if (e.excerpt) out.push(e.excerpt);
  const stack = report.verbose && e.fullStack ? e.fullStack : e.stack;
  const lines = stack.split("\n");
  // The frames (and the notes about hidden or repeated ones) follow the message's lines.
  const first = lines.findIndex((l) => /^\s+(at |… )/.test(l));
  if (first >= 0) out.push(...lines.slice(first));
  process.stderr.write(out.join("\n") + "\n");
}

/** A plain-text rendering of an output, for terminals and persisted `output` fences. */
export function outputToText(o: Output): string {
  switch (o.type) {
    case "terminal":
      return terminalText(o);
    case "markdown":
      return o.text;
    case "html":
      return `[html] ${o.html.length > 200 ? o.html.slice(0, 200) + "…" : o.html}`;
    case "image":
      return `[image ${o.mime}${o.alt ? `: ${o.alt}` : ""}]`;
    case "vega-lite":
      return "[vega-lite chart]";
    case "table": {
      const head = o.columns.join("\t");
      const rows = o.rows.map((r) => r.map((c) => (c === null ? "" : String(c))).join("\t"));
      const more =
        o.totalRows > o.offset + o.rows.length
          ? [`… ${o.totalRows - o.rows.length} more rows`]
          : [];
      return [head, ...rows, ...more].join("\n");
    }
    case "tensor":
      // As Nx inspects a tensor: dtype and shape, then the values.
      return `${o.dtype}${o.shape.map((d) => `[${d}]`).join("")}\n${o.text}`;
    case "value":
      return previewText(o.preview);
    case "error":
      return `${o.name}: ${o.message}`;
    case "frame":
      return o.outputs.map(outputToText).filter(Boolean).join("\n");
    case "progress":
      return `${o.label} ${o.fraction === null ? "…" : `${Math.round(o.fraction * 100)}%`}`;
    case "input":
      return `[input ${o.input.kind} ${JSON.stringify(o.input.label)}: ${inputValueText(o.value)}]`;
    case "control":
      return o.control.kind === "form"
        ? `[form: ${Object.keys(o.control.fields).join(", ")}]`
        : `[${o.control.kind} ${JSON.stringify(o.control.label)}]`;
    case "layout":
      return o.items
        .map((item) => {
          const text = item.outputs.map(outputToText).filter(Boolean).join("\n");
          return item.title !== undefined ? `== ${item.title}\n${text}` : text;
        })
        .filter(Boolean)
        .join("\n");
    default:
      return assertNever(o, "output");
  }
}

/** An input's value in one line (binary values by their name and size). */
function inputValueText(v: InputValue): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if ("wav" in v) return `audio ${v.name ?? ""}`.trim();
  if ("height" in v) return `image ${v.height}×${v.width}`;
  return `file ${v.name}`;
}

function previewText(p: ValuePreview): string {
  if (p.kind === "primitive") return p.text;
  const inner = p.entries.map((e) => `${e.key}: ${previewText(e.value)}`);
  if (p.more) inner.push(`… ${p.more} more`);
  return `${p.label} { ${inner.join(", ")} }`;
}
