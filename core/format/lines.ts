/**
 * The line grammar of a `.tsnb` file, shared by the importer and the exporter so that both
 * agree on what is structure and what is Markdown text.
 *
 * Owns: recognising fences (CommonMark rules: 0–3 spaces of indentation, ``` or ~~~ of length
 * ≥ 3, a backtick fence's info string has no backtick, a closer uses the same character, is at
 * least as long and has nothing but blanks after it), the structural lines that only count at
 * column 0 (`# `, `## `, `<!-- tsnb:… -->`, cell and output fences), and the JSON escaping of
 * metadata comments.
 *
 * Invariants: every function here looks at one line at a time and runs in time linear in the
 * line's length (no backtracking regular expressions), so a 50 MB file imports in linear time.
 */

/** The comment prefix of every metadata line. */
export const COMMENT_PREFIX = "<!-- tsnb:";
export const COMMENT_SUFFIX = "-->";

/** Info strings that make a column-0 fence a code cell. */
export const CODE_LANGUAGES: readonly string[] = ["ts", "typescript"];
export const OUTPUT_LANGUAGE = "output";
export const VEGA_LITE_LANGUAGE = "vega-lite";
/** Info strings of the persisted outputs that are not plain text (docs/format.md). */
export const MARKDOWN_OUTPUT_INFO = "output markdown";
export const TABLE_OUTPUT_INFO = "output table";

/** An opening fence: its character, length, indentation and trimmed info string. */
export interface FenceOpen {
  char: "`" | "~";
  length: number;
  indent: number;
  info: string;
}

/** A CommonMark fence opener (indent 0–3), or null. */
export function parseFenceOpen(line: string): FenceOpen | null {
  let indent = 0;
  while (indent < line.length && line.charCodeAt(indent) === 32) indent++;
  if (indent > 3) return null;
  const c = line[indent];
  if (c !== "`" && c !== "~") return null;
  let end = indent;
  while (end < line.length && line[end] === c) end++;
  const length = end - indent;
  if (length < 3) return null;
  const rest = line.slice(end);
  if (c === "`" && rest.includes("`")) return null;
  return { char: c, length, indent, info: rest.trim() };
}

/** True when `line` closes a fence opened by `open`. */
export function isFenceClose(line: string, open: Pick<FenceOpen, "char" | "length">): boolean {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  if (i > 3) return false;
  let n = 0;
  while (i < line.length && line[i] === open.char) {
    i++;
    n++;
  }
  if (n < open.length) return false;
  for (; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch !== 32 && ch !== 9) return false;
  }
  return true;
}

/** What a column-0 fence means, from its info string. */
export type FenceRole = "code" | "output" | "vega-lite" | "markdown-output" | "table-output";

/** The role of a fence at column 0, or null for an ordinary Markdown fence. */
export function fenceRole(open: FenceOpen): FenceRole | null {
  if (open.indent !== 0) return null;
  if (CODE_LANGUAGES.includes(open.info)) return "code";
  if (open.info === OUTPUT_LANGUAGE) return "output";
  if (open.info === VEGA_LITE_LANGUAGE) return "vega-lite";
  if (open.info === MARKDOWN_OUTPUT_INFO) return "markdown-output";
  if (open.info === TABLE_OUTPUT_INFO) return "table-output";
  return null;
}

/** `## Title` / `##` at column 0 → the section title (trimmed), else null. */
export function parseSectionHeading(line: string): string | null {
  return parseAtxHeading(line, 2);
}

/** `# Title` / `#` at column 0 → the notebook title (trimmed), else null. */
export function parseTitleHeading(line: string): string | null {
  return parseAtxHeading(line, 1);
}

function parseAtxHeading(line: string, level: number): string | null {
  for (let i = 0; i < level; i++) if (line[i] !== "#") return null;
  if (line.length === level) return "";
  const next = line[level];
  if (next !== " " && next !== "\t") return null;
  return line.slice(level + 1).trim();
}

/** True for a line of nothing but spaces and tabs (CommonMark's blank line). */
export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch !== 32 && ch !== 9) return false;
  }
  return true;
}

/** A parsed `<!-- tsnb:NAME JSON -->` line. */
export type MetadataComment =
  { ok: true; name: string; json: string } | { ok: false; message: string };

/** Parse a line that starts with COMMENT_PREFIX. `json` is "" when the comment carries none. */
export function parseMetadataComment(line: string): MetadataComment {
  const trimmed = line.trimEnd();
  if (
    !trimmed.endsWith(COMMENT_SUFFIX) ||
    trimmed.length < COMMENT_PREFIX.length + COMMENT_SUFFIX.length
  ) {
    return { ok: false, message: "tsnb metadata comment must end with '-->' on the same line" };
  }
  const inner = trimmed.slice(COMMENT_PREFIX.length, trimmed.length - COMMENT_SUFFIX.length);
  let end = 0;
  while (end < inner.length && /[a-z0-9-]/.test(inner[end]!)) end++;
  const name = inner.slice(0, end);
  if (name === "")
    return { ok: false, message: "tsnb metadata comment has no name (expected e.g. 'tsnb:cell')" };
  const rest = inner.slice(end);
  if (rest !== "" && !rest.startsWith(" ")) {
    return {
      ok: false,
      message: `tsnb metadata comment 'tsnb:${name}' must be followed by a space and JSON`,
    };
  }
  return { ok: true, name, json: rest.trim() };
}

/**
 * JSON for a metadata comment: one line, and `--` never appears (so `-->` cannot end the
 * comment early). `--` occurs only inside JSON strings, where `-\u002d` parses back to `--`.
 */
export function commentJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("--", "-\\u002d");
}

/** The metadata comment line `<!-- tsnb:NAME JSON -->` (JSON omitted when undefined). */
export function metadataComment(name: string, value?: unknown): string {
  return value === undefined
    ? `${COMMENT_PREFIX}${name} -->`
    : `${COMMENT_PREFIX}${name} ${commentJson(value)} -->`;
}

/**
 * True when a Markdown line, written at column 0 outside a Markdown fence, would be read back
 * as structure rather than text: the exporter then precedes it with `<!-- tsnb:literal -->`.
 * (`# ` needs no escape: the exporter always writes the title before any Markdown.)
 */
export function isStructuralLine(line: string, persistOutputs: boolean): boolean {
  if (line.startsWith(COMMENT_PREFIX)) return true;
  if (parseSectionHeading(line) !== null) return true;
  const open = parseFenceOpen(line);
  if (open) {
    const role = fenceRole(open);
    if (role === "code") return true;
    if (role !== null && persistOutputs) return true;
  }
  return false;
}

/** Tracks whether a Markdown cell's line is inside one of its own fenced blocks. */
export class MarkdownFenceTracker {
  /** The open Markdown fence, or null outside. */
  open: FenceOpen | null = null;
  /** 1-based line of the open fence's opener (importer's bookkeeping). */
  openLine = 0;

  /** Feed one line of Markdown; returns true when the line was inside a fence (incl. its closer). */
  feed(line: string, lineNumber = 0): boolean {
    if (this.open) {
      if (isFenceClose(line, this.open)) this.open = null;
      return true;
    }
    const open = parseFenceOpen(line);
    if (open) {
      this.open = open;
      this.openLine = lineNumber;
    }
    return false;
  }

  /** The line that closes the currently open fence. */
  closer(): string {
    return this.open ? this.open.char.repeat(this.open.length) : "";
  }
}

/** Longest run of `ch` in `text` (linear). */
export function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ch) {
      run++;
      if (run > best) best = run;
    } else run = 0;
  }
  return best;
}

/** A backtick fence long enough that no line of `content` can close it. */
export function fenceFor(content: string): string {
  return "`".repeat(Math.max(3, longestRun(content, "`") + 1));
}
