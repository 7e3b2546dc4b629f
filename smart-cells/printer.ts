/**
 * Generated code as a person would write it: smart cells build a small syntax tree (`Expr`,
 * `Stmt`) and this printer lays it out the way prettier would with the project's settings
 * (width 100, double quotes, trailing commas): a group stays on one line when it fits, else it
 * breaks one element per line; a call whose last argument is an object, array or function
 * "hugs" it. Strings, keys and names are always escaped or checked here, never glued as text,
 * so a field called `it's "x"` cannot break the code. Pure; no Node or DOM.
 *
 * Invariant (tested): prettier leaves every printed chunk unchanged.
 */
import { isIdentifier } from "./schema.ts";

export type Expr =
  | { t: "lit"; value: string | number | boolean | null }
  | { t: "id"; name: string }
  | { t: "obj"; props: ReadonlyArray<readonly [string, Expr]> }
  | { t: "arr"; items: readonly Expr[] }
  | { t: "call"; callee: Expr; args: readonly Expr[] }
  | { t: "member"; object: Expr; prop: string }
  | { t: "await"; expr: Expr }
  | { t: "arrow"; params: readonly string[]; body: Expr; async?: boolean }
  /** An arrow function with a block body (always printed on several lines). */
  | { t: "block-arrow"; params: readonly string[]; body: readonly Stmt[]; async?: boolean }
  | {
      t: "binary";
      op: "===" | "!==" | "+" | "-" | "*" | "/" | "&&" | "||";
      left: Expr;
      right: Expr;
    }
  | { t: "new"; callee: Expr; args: readonly Expr[] };

export type Stmt =
  | { t: "import"; names: readonly string[]; from: string; star?: string }
  | { t: "const"; name: string; init: Expr }
  | { t: "expr"; expr: Expr; /** No `;`: the value is the cell's result. */ result?: boolean }
  | { t: "comment"; text: string }
  /** `if (test) { … }`, always with braces. */
  | { t: "if"; test: Expr; then: readonly Stmt[] }
  | { t: "return"; expr?: Expr }
  | { t: "blank" };

export const PRINT_WIDTH = 100;

// ---- building ----

export const lit = (value: string | number | boolean | null): Expr => ({ t: "lit", value });

/** A name (or dotted path such as `nn.dense`): every part must be an identifier. */
export function id(name: string): Expr {
  const parts = name.split(".");
  for (const p of parts)
    if (!isIdentifier(p)) throw new Error(`not a name: ${JSON.stringify(name)}`);
  let e: Expr = { t: "id", name: parts[0]! };
  for (const p of parts.slice(1)) e = { t: "member", object: e, prop: p };
  return e;
}

export const call = (callee: Expr | string, ...args: Expr[]): Expr => ({
  t: "call",
  callee: typeof callee === "string" ? id(callee) : callee,
  args,
});

export const newExpr = (callee: string, ...args: Expr[]): Expr => ({
  t: "new",
  callee: id(callee),
  args,
});

export const member = (object: Expr, prop: string): Expr => ({ t: "member", object, prop });

export const awaitExpr = (expr: Expr): Expr => ({ t: "await", expr });

export const arrow = (params: string[], body: Expr, async = false): Expr => ({
  t: "arrow",
  params,
  body,
  async,
});

export const arr = (items: Expr[]): Expr => ({ t: "arr", items });

/** `async (params) => { body }`. */
export const blockArrow = (params: string[], body: Stmt[], async = false): Expr => ({
  t: "block-arrow",
  params,
  body,
  async,
});

export const binary = (
  left: Expr,
  op: Extract<Expr, { t: "binary" }>["op"],
  right: Expr,
): Expr => ({ t: "binary", op, left, right });

/** An object literal from entries; entries whose value is undefined are left out. */
export function obj(
  entries: Record<string, Expr | undefined> | Array<[string, Expr | undefined]>,
): Expr {
  const list = Array.isArray(entries) ? entries : Object.entries(entries);
  return { t: "obj", props: list.filter((e): e is [string, Expr] => e[1] !== undefined) };
}

/** A JSON value as an expression. */
export function json(value: unknown): Expr {
  if (value === null || typeof value === "string" || typeof value === "boolean") return lit(value);
  if (typeof value === "number") return lit(value);
  if (Array.isArray(value)) return arr(value.map(json));
  if (typeof value === "object")
    return obj(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, json(v)]));
  throw new Error(`not JSON: ${typeof value}`);
}

export const importStmt = (names: string[], from: string): Stmt => ({ t: "import", names, from });
export const constStmt = (name: string, init: Expr): Stmt => ({ t: "const", name, init });
export const exprStmt = (expr: Expr, result = false): Stmt => ({ t: "expr", expr, result });
export const comment = (text: string): Stmt => ({ t: "comment", text });
export const ifStmt = (test: Expr, then: Stmt[]): Stmt => ({ t: "if", test, then });
export const returnStmt = (expr?: Expr): Stmt => (expr ? { t: "return", expr } : { t: "return" });
export const blank: Stmt = { t: "blank" };

// ---- printing ----

/** The statements of one chunk as source text (no final newline). */
export function printStatements(stmts: readonly Stmt[]): string {
  return stmts.map((s) => printStmt(s, 0)).join("\n");
}

/** Statements of a block at `indent`, each line indented. */
function printBlock(stmts: readonly Stmt[], indent: number): string {
  const pad = " ".repeat(indent);
  return stmts
    .map((s) => printStmt(s, indent))
    .map((text) => (text === "" ? "" : pad + text))
    .join("\n");
}

/** One statement whose first line starts at column `indent` (the caller writes the indentation). */
function printStmt(s: Stmt, indent: number): string {
  switch (s.t) {
    case "blank":
      return "";
    case "comment":
      return s.text
        .split("\n")
        .map((l) => `// ${l}`.trimEnd())
        .join(`\n${" ".repeat(indent)}`);
    case "if": {
      const head = "if (";
      return `${head}${print(s.test, indent, indent + head.length, 3)}) {\n${printBlock(s.then, indent + 2)}\n${" ".repeat(indent)}}`;
    }
    case "return":
      return s.expr ? `return ${print(s.expr, indent, indent + 7, 1)};` : "return;";
    case "import": {
      for (const n of s.names) if (!isIdentifier(n)) throw new Error(`not a name: ${n}`);
      const from = quote(s.from);
      const flat = `import { ${s.names.join(", ")} } from ${from};`;
      if (flat.length <= PRINT_WIDTH) return flat;
      return `import {\n${s.names.map((n) => `  ${n},\n`).join("")}} from ${from};`;
    }
    case "const": {
      if (!isIdentifier(s.name)) throw new Error(`not a name: ${s.name}`);
      const head = `const ${s.name} = `;
      return `${head}${print(s.init, indent, indent + head.length, 1)};`;
    }
    case "expr":
      return print(s.expr, indent, indent, s.result ? 0 : 1) + (s.result ? "" : ";");
  }
}

/** One line, no breaks. */
function flat(e: Expr): string {
  switch (e.t) {
    case "lit":
      return typeof e.value === "string" ? quote(e.value) : String(e.value);
    case "id":
      return e.name;
    case "member":
      return `${flatCallee(e.object)}${memberAccess(e.prop)}`;
    case "await":
      return `await ${flat(e.expr)}`;
    case "arrow":
      return `${e.async ? "async " : ""}(${e.params.join(", ")}) => ${arrowBody(flat(e.body), e.body)}`;
    case "block-arrow":
      // Never flat: a block body is printed on its own lines (see print()).
      return `${e.async ? "async " : ""}(${e.params.join(", ")}) => {\n}`;
    case "binary":
      return `${flatOperand(e.left, e.op)} ${e.op} ${flatOperand(e.right, e.op)}`;
    case "call":
      return `${flatCallee(e.callee)}(${e.args.map(flat).join(", ")})`;
    case "new":
      return `new ${flatCallee(e.callee)}(${e.args.map(flat).join(", ")})`;
    case "arr":
      return `[${e.items.map(flat).join(", ")}]`;
    case "obj":
      return e.props.length === 0
        ? "{}"
        : `{ ${e.props.map(([k, v]) => prop(k, flat(v), v)).join(", ")} }`;
  }
}

function flatCallee(e: Expr): string {
  return e.t === "await" || e.t === "arrow" || e.t === "binary" ? `(${flat(e)})` : flat(e);
}

/** An operand of a binary expression, parenthesised when it is another operator's expression. */
function flatOperand(e: Expr, op: string): string {
  return e.t === "binary" && e.op !== op ? `(${flat(e)})` : flat(e);
}

function arrowBody(text: string, body: Expr): string {
  return body.t === "obj" ? `(${text})` : text;
}

/** Prettier breaks an array of two or more objects (each with more than one key) or arrays. */
function mustBreak(e: Expr): boolean {
  if (e.t !== "arr" || e.items.length < 2) return false;
  return (
    e.items.every((i) => i.t === "obj" && i.props.length > 1) ||
    e.items.every((i) => i.t === "arr" && i.items.length > 1)
  );
}

function containsForcedBreak(e: Expr): boolean {
  switch (e.t) {
    case "arr":
      return mustBreak(e) || e.items.some(containsForcedBreak);
    case "obj":
      return e.props.some(([, v]) => containsForcedBreak(v));
    case "call":
    case "new":
      return e.args.some(containsForcedBreak);
    case "member":
      return containsForcedBreak(e.object);
    case "await":
      return containsForcedBreak(e.expr);
    case "arrow":
      return containsForcedBreak(e.body);
    case "block-arrow":
      return true;
    case "binary":
      return containsForcedBreak(e.left) || containsForcedBreak(e.right);
    default:
      return false;
  }
}

/**
 * Print `e` starting at column `col` on a line indented by `indent`, with `tail` characters
 * that must follow it on its last line (`,` or `;`).
 */
function print(e: Expr, indent: number, col: number, tail: number): string {
  const f = flat(e);
  if (!containsForcedBreak(e) && col + f.length + tail <= PRINT_WIDTH && !f.includes("\n"))
    return f;
  const pad = " ".repeat(indent + 2);
  const end = " ".repeat(indent);
  switch (e.t) {
    case "obj":
      if (e.props.length === 0) return "{}";
      return `{\n${e.props
        .map(([k, v]) => {
          if (isShorthand(k, v)) return `${pad}${k},\n`;
          const head = `${key(k)}: `;
          return `${pad}${head}${print(v, indent + 2, indent + 2 + head.length, 1)},\n`;
        })
        .join("")}${end}}`;
    case "arr":
      if (e.items.length === 0) return "[]";
      return `[\n${e.items.map((v) => `${pad}${print(v, indent + 2, indent + 2, 1)},\n`).join("")}${end}]`;
    case "call":
    case "new": {
      const head = `${e.t === "new" ? "new " : ""}${flatCallee(e.callee)}(`;
      const last = e.args[e.args.length - 1];
      const before = e.args.slice(0, -1).map(flat);
      // Prettier hugs the last argument unless the one before it is of the same kind.
      const penultimate = e.args[e.args.length - 2];
      const huggable =
        last &&
        (last.t === "obj" || last.t === "arr" || last.t === "arrow" || last.t === "block-arrow") &&
        penultimate?.t !== last.t;
      if (huggable && !before.some((b) => b.includes("\n"))) {
        const prefix = head + before.map((b) => `${b}, `).join("");
        if (
          col + prefix.length <= PRINT_WIDTH &&
          !before.some((_, i) => containsForcedBreak(e.args[i]!))
        )
          return `${prefix}${print(last, indent, col + prefix.length, tail + 1)})`;
      }
      return `${head}\n${e.args.map((a) => `${pad}${print(a, indent + 2, indent + 2, 1)},\n`).join("")}${end})`;
    }
    case "await":
      return `await ${print(e.expr, indent, col + 6, tail)}`;
    case "arrow": {
      const head = `${e.async ? "async " : ""}(${e.params.join(", ")}) => `;
      if (e.body.t === "obj")
        return `${head}(${print(e.body, indent, col + head.length + 1, tail + 1)})`;
      return `${head}${print(e.body, indent, col + head.length, tail)}`;
    }
    case "block-arrow": {
      const head = `${e.async ? "async " : ""}(${e.params.join(", ")}) => {`;
      return `${head}\n${printBlock(e.body, indent + 2)}\n${end}}`;
    }
    case "member":
      return `${print(e.object, indent, col, 0)}${memberAccess(e.prop)}`;
    default:
      return f;
  }
}

/** `{ model }` for `{ model: model }`, as a person writes it. */
function isShorthand(k: string, v: Expr): boolean {
  return v.t === "id" && v.name === k;
}

function prop(k: string, text: string, v: Expr): string {
  return isShorthand(k, v) ? k : `${key(k)}: ${text}`;
}

function memberAccess(prop: string): string {
  return isIdentifier(prop) ? `.${prop}` : `[${quote(prop)}]`;
}

function key(k: string): string {
  return isIdentifier(k) || /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : quote(k);
}

/** A string literal as prettier writes it: double quotes unless the text has more of them than single ones. */
export function quote(s: string): string {
  const doubles = (s.match(/"/g) ?? []).length;
  const singles = (s.match(/'/g) ?? []).length;
  const q = doubles > singles ? "'" : '"';
  let out = "";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === q) out += `\\${q}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x2028 || c === 0x2029 || c === 0x7f)
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return q + out + q;
}
