/**
 * `.tsnb` (or plain Markdown) text → notebook model.
 *
 * Owns: reading a file into a `Notebook`, with warnings and errors that carry the 1-based line
 * of the file they are about. Two passes: `scanBlocks` cuts the lines into blocks (title,
 * section headings, metadata comments, cell/output fences, runs of Markdown lines), then
 * `assemble` builds sections and cells once the notebook metadata (which decides whether output
 * fences are outputs) is known.
 *
 * Invariants: never throws (anything unexpected becomes an error result); linear time in the
 * size of the input; fresh ids for every section and cell; `cellLines` gives, per code/smart
 * cell id, the file line of the first line of its source.
 */

import {
  FORMAT_VERSION,
  type CodeCell,
  type CodeCellOptions,
  type EvaluableCell,
  type Notebook,
  type NotebookMetadata,
  type PersistedOutput,
  type Section,
  newId,
} from "../notebook.ts";
import {
  COMMENT_PREFIX,
  type FenceOpen,
  type FenceRole,
  MarkdownFenceTracker,
  fenceRole,
  isBlank,
  isFenceClose,
  parseFenceOpen,
  parseMetadataComment,
  parseSectionHeading,
  parseTitleHeading,
} from "./lines.ts";
import { trimFinalNewlines } from "./normalize.ts";
import { DEFAULT_OUTPUT_LIMIT, outputLimitProblem } from "../outputs.ts";
import type { FormatDiagnostic, ImportOptions, ImportResult } from "./types.ts";

/** Thrown inside the importer to stop at the first error; caught in `importNotebook`. */
class FormatError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** Read a notebook from text. Never throws: malformed input gives `{ ok: false, error }`. */
export function importNotebook(text: string, options: ImportOptions = {}): ImportResult {
  try {
    return importOrThrow(text, options);
  } catch (e) {
    if (e instanceof FormatError) return { ok: false, error: { message: e.message, line: e.line } };
    const message = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      error: { message: `internal error while reading the notebook: ${message}`, line: 1 },
    };
  }
}

/** The lines of a text: BOM dropped, CRLF and lone CR read as LF, a final newline ends the last line. */
export function splitLines(text: string): string[] {
  let t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (t.includes("\r")) t = t.replace(/\r\n?/g, "\n");
  if (t === "") return [];
  const lines = t.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** 1-based line of the character at `index` (counting LF, CRLF and lone CR as line ends). */
export function lineOfIndex(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 10) line++;
    else if (ch === 13 && text.charCodeAt(i + 1) !== 10) line++;
  }
  return line;
}

function importOrThrow(text: string, options: ImportOptions): ImportResult {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    return {
      ok: false,
      error: {
        message: "not a text file (it contains a NUL byte); is this really a .tsnb notebook?",
        line: lineOfIndex(text, nul),
      },
    };
  }
  const lines = splitLines(text);
  const warnings: FormatDiagnostic[] = [];
  const blocks = scanBlocks(lines, warnings);
  const result = assemble(lines, blocks, warnings, options);
  return { ok: true, notebook: result.notebook, warnings, cellLines: result.cellLines };
}

// ---------------------------------------------------------------------------------------------
// Pass 1: lines → blocks

/** One structural piece of the file. `line` is 1-based. */
type Block =
  | { kind: "title"; title: string; line: number }
  | { kind: "section"; title: string; line: number }
  | {
      kind: "meta";
      name: "notebook" | "cell" | "smart-cell" | "break";
      value: unknown;
      raw: string;
      line: number;
    }
  | {
      kind: "fence";
      role: FenceRole;
      /** Content lines (between the fences). */
      content: string[];
      /** Opener, content and closer as in the file (to turn the block back into Markdown): lines[start..end). */
      start: number;
      end: number;
      line: number;
    }
  | { kind: "markdown"; lines: string[]; line: number };

function scanBlocks(lines: string[], warnings: FormatDiagnostic[]): Block[] {
  const blocks: Block[] = [];
  const tracker = new MarkdownFenceTracker();
  let markdown: { kind: "markdown"; lines: string[]; line: number } | null = null;
  let sawTitle = false;
  let sawSection = false;
  let literalNext = false;
  let literalLine = 0;

  const push = (block: Block): void => {
    markdown = null;
    blocks.push(block);
  };
  const markdownLine = (line: string, lineNumber: number): void => {
    if (!markdown) {
      markdown = { kind: "markdown", lines: [], line: lineNumber };
      blocks.push(markdown);
    }
    markdown.lines.push(line);
    tracker.feed(line, lineNumber);
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const lineNumber = i + 1;
    if (tracker.open || literalNext) {
      // `tsnb:literal` escapes the next non-blank line (blank lines may come between, as after prettier).
      if (!tracker.open && isBlank(line)) {
        markdownLine(line, lineNumber);
        continue;
      }
      literalNext = false;
      markdownLine(line, lineNumber);
      continue;
    }
    if (line.startsWith(COMMENT_PREFIX)) {
      const comment = parseMetadataComment(line);
      if (!comment.ok) throw new FormatError(comment.message, lineNumber);
      switch (comment.name) {
        case "literal":
          if (comment.json !== "")
            warnings.push({ message: "ignored JSON after 'tsnb:literal'", line: lineNumber });
          literalNext = true;
          literalLine = lineNumber;
          continue;
        case "notebook":
        case "cell":
        case "smart-cell":
        case "break": {
          let value: unknown = undefined;
          if (comment.json !== "") {
            try {
              value = JSON.parse(comment.json);
            } catch (e) {
              throw new FormatError(
                `invalid JSON in 'tsnb:${comment.name}' comment: ${e instanceof Error ? e.message : String(e)}`,
                lineNumber,
              );
            }
            // What imports must save again: JSON.stringify recurses and fails on absurd nesting.
            try {
              JSON.stringify(value);
            } catch {
              throw new FormatError(
                `JSON in 'tsnb:${comment.name}' comment is nested too deeply`,
                lineNumber,
              );
            }
          }
          push({ kind: "meta", name: comment.name, value, raw: line, line: lineNumber });
          continue;
        }
        default:
          warnings.push({
            message: `unknown metadata comment 'tsnb:${comment.name}' (kept as Markdown text)`,
            line: lineNumber,
          });
          markdownLine(line, lineNumber);
          continue;
      }
    }
    const open = parseFenceOpen(line);
    const role = open ? fenceRole(open) : null;
    if (open && role) {
      const end = findFenceEnd(lines, i, open);
      const content = lines.slice(i + 1, end);
      if (end >= lines.length) {
        warnings.push({
          message: `unclosed ${role === "code" ? "code" : role} block: it runs to the end of the file`,
          line: lineNumber,
        });
      }
      push({
        kind: "fence",
        role,
        content,
        start: i,
        end: Math.min(end + 1, lines.length),
        line: lineNumber,
      });
      i = Math.min(end, lines.length);
      continue;
    }
    const section = parseSectionHeading(line);
    if (section !== null) {
      sawSection = true;
      push({ kind: "section", title: section, line: lineNumber });
      continue;
    }
    if (!sawTitle && !sawSection) {
      const title = parseTitleHeading(line);
      if (title !== null) {
        sawTitle = true;
        push({ kind: "title", title, line: lineNumber });
        continue;
      }
    }
    markdownLine(line, lineNumber);
  }
  if (literalNext) {
    warnings.push({
      message: "'tsnb:literal' at the end of the file escapes nothing",
      line: literalLine,
    });
  }
  if (tracker.open) {
    warnings.push({
      message: "unclosed fenced block in Markdown: it runs to the end of the file",
      line: tracker.openLine,
    });
  }
  return blocks;
}

/** Index of the line that closes the fence opened at `start`, or `lines.length` if none. */
function findFenceEnd(lines: string[], start: number, open: FenceOpen): number {
  for (let j = start + 1; j < lines.length; j++) if (isFenceClose(lines[j]!, open)) return j;
  return lines.length;
}

// ---------------------------------------------------------------------------------------------
// Pass 2: blocks → notebook

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function readNotebookMetadata(
  blocks: Block[],
  warnings: FormatDiagnostic[],
): { metadata: NotebookMetadata; used: Block | null } {
  const first = blocks.find((b) => b.kind === "meta" && b.name === "notebook");
  if (!first || first.kind !== "meta") return { metadata: { version: FORMAT_VERSION }, used: null };
  if (!isObject(first.value)) {
    throw new FormatError("'tsnb:notebook' needs a JSON object, e.g. {\"version\":1}", first.line);
  }
  const metadata: NotebookMetadata = { ...first.value, version: FORMAT_VERSION };
  const version = first.value.version;
  if (version === undefined) {
    metadata.version = FORMAT_VERSION;
  } else if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    warnings.push({
      message: `'version' should be a positive integer, not ${JSON.stringify(version)}`,
      line: first.line,
    });
  } else {
    metadata.version = version;
    if (version > FORMAT_VERSION) {
      warnings.push({
        message: `written by a newer tsnb (format version ${version}; this one reads version ${FORMAT_VERSION}); some settings may be ignored`,
        line: first.line,
      });
    }
  }
  if ("persistOutputs" in metadata && typeof metadata.persistOutputs !== "boolean") {
    warnings.push({ message: "'persistOutputs' should be true or false", line: first.line });
  }
  if ("outputLimit" in metadata) {
    const problem = outputLimitProblem(metadata.outputLimit);
    if (problem)
      warnings.push({
        message: `'outputLimit': ${problem}; the default (${DEFAULT_OUTPUT_LIMIT.toLocaleString("en")}) is used`,
        line: first.line,
      });
  }
  return { metadata, used: first };
}

interface Assembled {
  notebook: Notebook;
  cellLines: Record<string, number>;
}

function assemble(
  lines: string[],
  blocks: Block[],
  warnings: FormatDiagnostic[],
  options: ImportOptions,
): Assembled {
  const { metadata, used: notebookMeta } = readNotebookMetadata(blocks, warnings);
  const persist = metadata.persistOutputs === true;
  const known = options.knownSmartCellKinds;
  const cellLines: Record<string, number> = {};
  let title: string | null = null;

  const sections: Section[] = [];
  let current: Section = { id: newId("s"), title: "", cells: [] };
  let implicit = true;
  /** Markdown lines not yet turned into a cell. */
  let pending: string[] = [];
  /** A `tsnb:cell` / `tsnb:smart-cell` comment waiting for its fence. */
  let pendingMeta: Extract<Block, { kind: "meta" }> | null = null;
  /** The code/smart cell that output fences attach to (reset by anything but blank lines). */
  let lastEvaluable: EvaluableCell | null = null;

  const pendingIsBlank = (): boolean => pending.every(isBlank);
  const flushMarkdown = (): void => {
    let start = 0;
    let end = pending.length;
    while (start < end && isBlank(pending[start]!)) start++;
    while (end > start && isBlank(pending[end - 1]!)) end--;
    if (end > start)
      current.cells.push({
        type: "markdown",
        id: newId(),
        source: pending.slice(start, end).join("\n"),
      });
    pending = [];
  };
  const orphanMeta = (): void => {
    if (!pendingMeta) return;
    warnings.push({
      message: `'tsnb:${pendingMeta.name}' is not followed by a \`\`\`ts code block (kept as Markdown text)`,
      line: pendingMeta.line,
    });
    pending.unshift(pendingMeta.raw);
    pendingMeta = null;
  };
  /** Something other than blank lines and output fences: outputs no longer attach. */
  const breakFlow = (): void => {
    orphanMeta();
    lastEvaluable = null;
  };

  for (const block of blocks) {
    switch (block.kind) {
      case "markdown":
        if (!block.lines.every(isBlank)) breakFlow();
        for (const l of block.lines) pending.push(l);
        break;
      case "title":
        breakFlow();
        flushMarkdown();
        title = block.title;
        break;
      case "section":
        breakFlow();
        flushMarkdown();
        if (!implicit || current.cells.length > 0) sections.push(current);
        current = { id: newId("s"), title: block.title, cells: [] };
        implicit = false;
        break;
      case "meta":
        switch (block.name) {
          case "notebook":
            breakFlow();
            if (block !== notebookMeta) {
              warnings.push({
                message: "duplicate 'tsnb:notebook' comment (kept as Markdown text)",
                line: block.line,
              });
              pending.push(block.raw);
            }
            break;
          case "break":
            breakFlow();
            if (block.value !== undefined)
              warnings.push({ message: "ignored JSON after 'tsnb:break'", line: block.line });
            flushMarkdown();
            break;
          case "cell":
            breakFlow();
            flushMarkdown();
            if (block.value !== undefined && !isObject(block.value)) {
              throw new FormatError(
                "'tsnb:cell' needs a JSON object of cell options, e.g. {\"autoRun\":true}",
                block.line,
              );
            }
            pendingMeta = block;
            break;
          case "smart-cell":
            breakFlow();
            flushMarkdown();
            if (!isObject(block.value)) {
              throw new FormatError(
                '\'tsnb:smart-cell\' needs a JSON object {"kind":…,"attrs":{…}}',
                block.line,
              );
            }
            if (typeof block.value.kind !== "string") {
              throw new FormatError("'tsnb:smart-cell' needs a string \"kind\"", block.line);
            }
            if (block.value.attrs !== undefined && !isObject(block.value.attrs)) {
              throw new FormatError(
                "'tsnb:smart-cell' \"attrs\" must be a JSON object",
                block.line,
              );
            }
            pendingMeta = block;
            break;
        }
        break;
      case "fence": {
        if (block.role === "code") {
          const meta = pendingMeta;
          pendingMeta = null;
          flushMarkdown();
          const source = block.content.join("\n");
          let cell: EvaluableCell;
          if (meta && meta.name === "smart-cell" && isObject(meta.value)) {
            const { kind, attrs, options, ...extra } = meta.value;
            for (const key of Object.keys(extra)) {
              warnings.push({
                message: `ignored unknown key '${key}' in 'tsnb:smart-cell'`,
                line: meta.line,
              });
            }
            const smartKind = kind as string;
            if (known && !known.includes(smartKind)) {
              warnings.push({
                message: `unknown smart cell kind '${smartKind}': kept with its attrs and code, read-only until a definition is available`,
                line: meta.line,
              });
            }
            cell = {
              type: "smart",
              id: newId(),
              kind: smartKind,
              attrs: isObject(attrs) ? attrs : {},
              source,
            };
            if (options !== undefined) {
              if (
                !isObject(options) ||
                ("autoRun" in options && typeof options["autoRun"] !== "boolean")
              )
                warnings.push({
                  message:
                    '\'tsnb:smart-cell\' "options" should be an object like {"autoRun":false}; ignored',
                  line: meta.line,
                });
              else if (Object.keys(options).length > 0) cell.options = options as CodeCellOptions;
            }
          } else {
            const code: CodeCell = { type: "code", id: newId(), source };
            if (meta && isObject(meta.value) && Object.keys(meta.value).length > 0) {
              const opts = { ...meta.value } as CodeCellOptions;
              if ("autoRun" in opts && typeof opts.autoRun !== "boolean") {
                warnings.push({ message: "'autoRun' should be true or false", line: meta.line });
              }
              if (opts.autoRun === false) delete opts.autoRun;
              if (Object.keys(opts).length > 0) code.options = opts;
            }
            cell = code;
          }
          current.cells.push(cell);
          cellLines[cell.id] = block.line + 1;
          lastEvaluable = cell;
          break;
        }
        // An output or vega-lite fence: an output of the cell just above, or Markdown.
        const output =
          persist && lastEvaluable && pendingIsBlank() ? readOutput(block, warnings) : null;
        if (output && lastEvaluable) {
          pending = [];
          (lastEvaluable.outputs ??= []).push(output);
        } else {
          breakFlow();
          for (let j = block.start; j < block.end; j++) pending.push(lines[j]!);
        }
        break;
      }
    }
  }
  orphanMeta();
  flushMarkdown();
  if (!implicit || current.cells.length > 0 || sections.length === 0) sections.push(current);
  return {
    notebook: { title: title ?? "Untitled notebook", metadata, sections },
    cellLines,
  };
}

/** An `output table` fence: a JSON header line, then one JSON array per row (docs/format.md). */
function readTable(
  block: Extract<Block, { kind: "fence" }>,
  warnings: FormatDiagnostic[],
): PersistedOutput | null {
  const fail = (why: string, offset: number) => {
    warnings.push({ message: `${why} (kept as Markdown text)`, line: block.line + offset });
    return null;
  };
  const [head, ...rest] = block.content;
  // an empty block (e.g. unclosed at the end of the file) is reported at its fence
  if (head === undefined) return fail("an output table block needs its JSON header line", 0);
  let header: unknown;
  try {
    header = JSON.parse(head ?? "");
  } catch {
    return fail("the first line of an output table block must be its JSON header", 1);
  }
  const h = header as { columns?: unknown; offset?: unknown; totalRows?: unknown } | null;
  const count = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
  if (
    !h ||
    typeof h !== "object" ||
    !Array.isArray(h.columns) ||
    !h.columns.every((c) => typeof c === "string") ||
    !count(h.totalRows) ||
    (h.offset !== undefined && !count(h.offset))
  )
    return fail(
      'an output table header needs "columns" (strings) and "totalRows" (a count; "offset" optional)',
      1,
    );
  const rows: unknown[][] = [];
  for (const [i, line] of rest.entries()) {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      return fail("each row of an output table block must be a JSON array on one line", i + 2);
    }
    if (!Array.isArray(row))
      return fail("each row of an output table block must be a JSON array on one line", i + 2);
    rows.push(row);
  }
  const table: PersistedOutput = {
    type: "table",
    columns: h.columns as string[],
    rows,
    totalRows: h.totalRows as number,
  };
  if (h.offset) table.offset = h.offset as number;
  return table;
}

function readOutput(
  block: Extract<Block, { kind: "fence" }>,
  warnings: FormatDiagnostic[],
): PersistedOutput | null {
  const text = block.content.join("\n");
  if (block.role === "output") return { type: "text", text: trimFinalNewlines(text) };
  if (block.role === "markdown-output") return { type: "markdown", text: trimFinalNewlines(text) };
  if (block.role === "table-output") return readTable(block, warnings);
  try {
    const spec: unknown = JSON.parse(text);
    JSON.stringify(spec); // throws (RangeError) when nested too deeply to be saved again
    return { type: "vega-lite", spec };
  } catch (e) {
    warnings.push({
      message: `invalid JSON in vega-lite block (kept as Markdown text): ${e instanceof Error ? e.message : String(e)}`,
      line: block.line,
    });
    return null;
  }
}
