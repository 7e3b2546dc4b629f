/**
 * Markdown to safe HTML for Markdown cells and Markdown outputs: markdown-it (raw HTML allowed,
 * then sanitized), `$…$` / `$$…$$` math rendered by KaTeX, fenced code highlighted by
 * highlight.js, and everything passed through DOMPurify last.
 *
 * Invariant: what `renderMarkdown` returns never positions itself over the app (no fixed or
 * sticky positioning, no z-index in style attributes) and never runs script: DOMPurify removes <script>, event
 * handler attributes, `javascript:` URLs and forms; links get `target=_blank rel=noopener`.
 * Also exports `highlightCode` (static TypeScript highlighting for cells without an editor).
 */
import MarkdownIt, { type StateBlock, type StateInline } from "markdown-it";
import DOMPurify from "dompurify";
import katex from "katex";
import hljs from "highlight.js/lib/core";
import typescript from "highlight.js/lib/languages/typescript";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import bash from "highlight.js/lib/languages/bash";
import python from "highlight.js/lib/languages/python";
import css from "highlight.js/lib/languages/css";
import xml from "highlight.js/lib/languages/xml";
import markdownLang from "highlight.js/lib/languages/markdown";

hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("json", json);
hljs.registerLanguage("bash", bash);
hljs.registerLanguage("python", python);
hljs.registerLanguage("css", css);
hljs.registerLanguage("xml", xml);
hljs.registerLanguage("markdown", markdownLang);
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["sh", "shell", "console"], { languageName: "bash" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Highlighted HTML (hljs spans) of code in a language; escaped plain text when unknown. */
export function highlightCode(code: string, lang = "typescript"): string {
  const language = hljs.getLanguage(lang) ? lang : null;
  if (!language) return escapeHtml(code);
  try {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  } catch {
    return escapeHtml(code);
  }
}

function renderMath(tex: string, displayMode: boolean): string {
  try {
    return katex.renderToString(tex, {
      displayMode,
      throwOnError: false,
      output: "htmlAndMathml",
      trust: false,
    });
  } catch (err) {
    return `<code class="math-error">${escapeHtml(String(err))}</code>`;
  }
}

/** `$…$` inline math: not `$ ` at the start or ` $` at the end, so prices like "$5 and $6" stay text. */
function mathInline(state: StateInline, silent: boolean): boolean {
  const src = state.src;
  const start = state.pos;
  if (src[start] !== "$" || src[start + 1] === "$") return false;
  if (src[start + 1] === " " || src[start + 1] === undefined) return false;
  let end = start + 1;
  while ((end = src.indexOf("$", end)) !== -1) {
    if (src[end - 1] !== "\\") break;
    end++;
  }
  if (end === -1 || src[end - 1] === " " || end === start + 1) return false;
  if (/\d/.test(src[end + 1] ?? "")) return false;
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = src.slice(start + 1, end);
  }
  state.pos = end + 1;
  return true;
}

/** `$$` on a line of its own (or `$$ … $$` on one line) opens display math. */
function mathBlock(
  state: StateBlock,
  startLine: number,
  endLine: number,
  silent: boolean,
): boolean {
  const lineStart = state.bMarks[startLine]! + state.tShift[startLine]!;
  const lineEnd = state.eMarks[startLine]!;
  const first = state.src.slice(lineStart, lineEnd).trim();
  if (!first.startsWith("$$")) return false;
  if (silent) return true;
  let content = "";
  let line = startLine;
  const rest = first.slice(2);
  if (rest.trim().endsWith("$$") && rest.trim().length >= 2) {
    content = rest.trim().slice(0, -2);
  } else {
    const lines: string[] = [rest];
    let closed = false;
    while (++line < endLine) {
      const s = state.src.slice(state.bMarks[line]! + state.tShift[line]!, state.eMarks[line]!);
      if (s.trim().endsWith("$$")) {
        lines.push(s.trim().slice(0, -2));
        closed = true;
        break;
      }
      lines.push(s);
    }
    if (!closed) return false;
    content = lines.join("\n");
  }
  state.line = line + 1;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = content;
  token.map = [startLine, state.line];
  return true;
}

const md = new MarkdownIt({
  html: true,
  linkify: true,
  typographer: false,
  highlight: (code, lang) =>
    `<pre class="hljs"><code>${highlightCode(code, lang || "plaintext")}</code></pre>`,
});
md.inline.ruler.after("escape", "math_inline", mathInline);
md.block.ruler.after("blockquote", "math_block", mathBlock, {
  alt: ["paragraph", "reference", "blockquote", "list"],
});
md.renderer.rules["math_inline"] = (tokens, idx) => renderMath(tokens[idx]!.content, false);
md.renderer.rules["math_block"] = (tokens, idx) =>
  `<div class="math-display">${renderMath(tokens[idx]!.content, true)}</div>\n`;

let hooked = false;
function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A" && node.getAttribute("href")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
      if (node.hasAttribute("style")) keepInBox(node as HTMLElement);
    });
  }
  return DOMPurify;
}

/**
 * User content stays inside its cell: no fixed or sticky positioning (a fake login screen over
 * the whole window), no z-index (above the app's own controls). The CSS containment of
 * `.markdown-body` (styles.css) holds what gets past this.
 */
function keepInBox(el: HTMLElement): void {
  const style = el.style;
  if (/fixed|sticky/i.test(style.position)) style.removeProperty("position");
  style.removeProperty("z-index");
  if (el.getAttribute("style")?.trim() === "") el.removeAttribute("style");
}

/** Sanitized HTML of a Markdown text (math, highlighted code, no script of any kind). */
export function renderMarkdown(text: string): string {
  const html = md.render(text);
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true, svg: true, mathMl: true },
    FORBID_TAGS: [
      "style",
      "form",
      "input",
      "button",
      "textarea",
      "select",
      "iframe",
      "object",
      "embed",
    ],
    ADD_ATTR: ["target"],
  });
}
