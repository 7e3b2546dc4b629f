/**
 * Turns one cell's TypeScript into the JavaScript the kernel evaluates in V8's REPL mode.
 *
 * Steps: esbuild transpiles (types erased, enums/decorators lowered, imports kept verbatim
 * unless `import type`), then acorn parses the output and the module syntax that a REPL
 * script cannot contain is rewritten in place, keeping every line (and the columns of the
 * surrounding code) where they were so esbuild's source map stays valid:
 *   import d, { a, b as c } from "x"   →  const { default: d, a, b: c } = await tsnb$i("x", 0);
 *   import * as ns from "x"            →  const ns = await tsnb$i("x", 0);
 *   import "x"                         →  await tsnb$i("x", 0);
 * (the second argument is the statement's column, for error positions)
 *   import("x")                        →  tsnb$i("x")            (same length)
 *   import.meta                        →  tsnb$meta__            (same length)
 *   export const x = 1                 →         const x = 1     (keyword blanked)
 * Plain JavaScript that acorn accepts (and that cannot mean something else in TypeScript) skips
 * esbuild: the common "1 + 1" cell then costs no esbuild round trip.
 *
 * Also computes what the kernel reports per evaluation: the top-level names the cell defines,
 * the free names it uses (kernel/scope.ts), and whether the cell has a result (its last
 * statement is an expression statement not terminated by `;`).
 */

import type * as acorn from "acorn";
import { analyzeNames } from "./scope.ts";
import { loadSourceMaps } from "./stack.ts";

/** Global names the rewritten code calls; defined by the kernel (kernel/imports.ts). */
export const IMPORT_FN = "tsnb$i";
export const IMPORT_META = "tsnb$meta__";

export interface CompiledCell {
  /** JavaScript for Runtime.evaluate (without the sourceURL comment). */
  js: string;
  /** esbuild's source map (JSON) from `js` back to the cell source; null when js is the source. */
  map: string | null;
  hasResult: boolean;
  defines: string[];
  uses: string[];
}

/** A compile error at a position in the cell source (1-based line, 0-based column). */
export class CellSyntaxError extends Error {
  override name = "SyntaxError";
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

type Esbuild = typeof import("esbuild");
let esbuildPromise: Promise<Esbuild> | null = null;

/** Load esbuild and start its service (the kernel calls this right after `hello`). */
export function warmUpEsbuild(): Promise<Esbuild> {
  esbuildPromise ??= import("esbuild").then(async (esbuild) => {
    await esbuild.transform("", { loader: "ts" });
    return esbuild;
  });
  return esbuildPromise;
}

const PARSE_OPTIONS: acorn.Options = {
  ecmaVersion: "latest",
  sourceType: "script",
  allowImportExportEverywhere: true,
  allowAwaitOutsideFunction: true,
  allowReturnOutsideFunction: false,
  allowHashBang: true,
};

type Acorn = typeof import("acorn");
let acornModule: Acorn | null = null;

/** acorn and the source-map reader load on the first cell, not at kernel start. */
async function loadParsers(): Promise<Acorn> {
  if (!acornModule) {
    const [a] = await Promise.all([import("acorn"), loadSourceMaps()]);
    acornModule = a;
  }
  return acornModule;
}

function tryParse(acorn: Acorn, code: string): acorn.Program | null {
  try {
    return acorn.parse(code, PARSE_OPTIONS);
  } catch {
    return null;
  }
}

/**
 * How to declare top-level names that an earlier cell bound with another kind of declaration.
 * V8 lets REPL scripts redeclare let/const/class freely, but a lexical declaration cannot
 * replace a `var`/`function` binding (a global object property) nor the reverse. The kernel
 * learns of a clash from V8's "has already been declared" (raised before anything runs) and
 * compiles the cell again with the clashing names declared the way the existing binding was:
 * "var" (const/let → var, class X → var X = class X) or "let" (var → let,
 * function f → let f = function f: such a function is then not hoisted within its cell), or
 * "const" where V8 refuses a `let` over an earlier `const`.
 */
export type Redeclare = Record<string, "var" | "let" | "const">;

export async function compileCell(
  source: string,
  sourcefile = "cell.ts",
  redeclare: Redeclare = {},
): Promise<CompiledCell> {
  const acorn = acornModule ?? (await loadParsers());
  // Fast path: valid JavaScript whose meaning TypeScript would not change. `f<T>(x)` parses as JS
  // comparisons but is a generic call in TS, hence the `>(` guard; `using` needs lowering.
  let js = source;
  let map: string | null = null;
  let ast = /[>]\s*[(`]|\busing\b|@/.test(source) ? null : tryParse(acorn, source);
  if (!ast) {
    const esbuild = await warmUpEsbuild();
    try {
      const out = await esbuild.transform(source, {
        loader: "ts",
        sourcemap: "external",
        sourcefile,
        target: "node20",
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
        logLevel: "silent",
      });
      js = out.code;
      map = out.map;
    } catch (err) {
      const first = (
        err as {
          errors?: Array<{ text: string; location?: { line: number; column: number } | null }>;
        }
      ).errors?.[0];
      if (first)
        throw new CellSyntaxError(
          first.text,
          first.location?.line ?? 1,
          first.location?.column ?? 0,
        );
      throw err;
    }
    try {
      ast = acorn.parse(js, PARSE_OPTIONS);
    } catch (err) {
      const e = err as Error & { loc?: { line: number; column: number } };
      throw new CellSyntaxError(
        e.message.replace(/ \(\d+:\d+\)$/, ""),
        e.loc?.line ?? 1,
        e.loc?.column ?? 0,
      );
    }
  }
  const { defines, uses } = analyzeNames(ast);
  const inSource = (name: string) =>
    new RegExp(`(^|[^\\w$])${name.replace(/\$/g, "\\$")}($|[^\\w$])`).test(source);
  const last = ast.body[ast.body.length - 1];
  return {
    js: rewriteModuleSyntax(js, ast, redeclare),
    map,
    hasResult: !!last && last.type === "ExpressionStatement" && !endsWithSemicolon(source),
    // esbuild's helpers (__defProp, _init, …) are not the user's names.
    defines: defines.filter(inSource),
    uses: uses.filter((n) => n !== IMPORT_FN && n !== IMPORT_META && inSource(n)),
  };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function rewriteModuleSyntax(js: string, ast: acorn.Program, redeclare: Redeclare = {}): string {
  const edits: Edit[] = [];
  const declaredOnce = countTopLevelNames(ast);
  const keepLines = (start: number, end: number, text: string) => {
    const newlines = js.slice(start, end).split("\n").length - 1;
    edits.push({ start, end, text: text + "\n".repeat(newlines) });
  };
  const blank = (start: number, end: number) => {
    edits.push({ start, end, text: js.slice(start, end).replace(/[^\n]/g, " ") });
  };
  for (const node of ast.body) {
    if (node.type === "ImportDeclaration") {
      const src = JSON.stringify(node.source.value);
      // The statement's column goes along, so a failing import is reported where it starts.
      const call = `await ${IMPORT_FN}(${src}, ${node.start - (js.lastIndexOf("\n", node.start - 1) + 1)})`;
      const props: string[] = [];
      let ns: string | null = null;
      for (const s of node.specifiers) {
        if (s.type === "ImportNamespaceSpecifier") ns = s.local.name;
        else if (s.type === "ImportDefaultSpecifier") props.push(`default: ${s.local.name}`);
        else {
          const imported =
            s.imported.type === "Identifier" ? s.imported.name : JSON.stringify(s.imported.value);
          props.push(imported === s.local.name ? imported : `${imported}: ${s.local.name}`);
        }
      }
      const kind = node.specifiers.some((sp) => redeclare[sp.local.name] === "var")
        ? "var"
        : "const";
      let text: string;
      if (ns !== null)
        text =
          `${kind} ${ns} = ${call};` +
          (props.length ? ` ${kind} { ${props.join(", ")} } = ${ns};` : "");
      else if (props.length) text = `${kind} { ${props.join(", ")} } = ${call};`;
      else text = `${call};`;
      keepLines(node.start, node.end, text);
    }
    const decl =
      node.type === "ExportNamedDeclaration" || node.type === "ExportDefaultDeclaration"
        ? node.declaration
        : node;
    if (decl) redeclareEdits(decl as acorn.Node, redeclare, declaredOnce, edits);
    if (node.type === "ImportDeclaration") {
      // handled above
    } else if (node.type === "ExportNamedDeclaration") {
      if (node.declaration) blank(node.start, node.declaration.start);
      else blank(node.start, node.end);
    } else if (node.type === "ExportDefaultDeclaration") {
      blank(node.start, node.declaration.start);
    } else if (node.type === "ExportAllDeclaration") {
      blank(node.start, node.end);
    }
  }
  // import("x") and import.meta anywhere (same-length replacements keep columns).
  const visit = (n: unknown): void => {
    if (!n || typeof n !== "object") return;
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    const node = n as acorn.Node & Record<string, unknown>;
    if (node.type === "ImportExpression")
      edits.push({ start: node.start, end: node.start + 6, text: IMPORT_FN });
    else if (node.type === "MetaProperty" && js.slice(node.start, node.end) === "import.meta") {
      edits.push({ start: node.start, end: node.end, text: IMPORT_META });
    }
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end" || key === "loc" || key === "range")
        continue;
      const v = node[key];
      if (v && typeof v === "object") visit(v);
    }
  };
  if (/\bimport\b/.test(js)) visit(ast.body.filter((s) => s.type !== "ImportDeclaration"));
  edits.sort((a, b) => b.start - a.start);
  let out = js;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function countTopLevelNames(ast: acorn.Program): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (n: string) => counts.set(n, (counts.get(n) ?? 0) + 1);
  for (const node of ast.body) {
    const d = (
      node.type === "ExportNamedDeclaration" ? node.declaration : node
    ) as acorn.Node | null;
    if (!d) continue;
    if (d.type === "VariableDeclaration") {
      for (const v of (d as acorn.VariableDeclaration).declarations)
        if (v.id.type === "Identifier") add(v.id.name);
    } else if (
      (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") &&
      (d as acorn.FunctionDeclaration).id
    ) {
      add((d as acorn.FunctionDeclaration).id!.name);
    }
  }
  return counts;
}

/** Edits that re-declare clashing top-level names (see Redeclare) and give re-run enums a fresh object. */
function redeclareEdits(
  d: acorn.Node,
  redeclare: Redeclare,
  counts: Map<string, number>,
  edits: Edit[],
): void {
  if (d.type === "VariableDeclaration") {
    const v = d as acorn.VariableDeclaration;
    const names = v.declarations.flatMap((x) => (x.id.type === "Identifier" ? [x.id.name] : []));
    const target = names.map((n) => redeclare[n]).find((t) => t !== undefined);
    if (target && v.kind !== target)
      edits.push({ start: v.start, end: v.start + v.kind.length, text: target });
    // esbuild's enum: `var E = ((E2) => {…})(E || {})` merges into an E from an earlier run;
    // a re-run cell should define the enum afresh (unless the cell itself declares E twice).
    const only = v.declarations[0];
    if (
      v.kind === "var" &&
      v.declarations.length === 1 &&
      only &&
      only.id.type === "Identifier" &&
      counts.get(only.id.name) === 1
    ) {
      const init = only.init;
      if (init && init.type === "CallExpression" && init.arguments.length === 1) {
        const arg = init.arguments[0]!;
        if (
          arg.type === "LogicalExpression" &&
          arg.operator === "||" &&
          arg.left.type === "Identifier" &&
          arg.left.name === only.id.name &&
          arg.right.type === "ObjectExpression" &&
          arg.right.properties.length === 0
        ) {
          edits.push({ start: arg.start, end: arg.end, text: "{}" });
        }
      }
    }
    return;
  }
  if (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") {
    const f = d as acorn.FunctionDeclaration | acorn.ClassDeclaration;
    if (!f.id) return;
    const target = redeclare[f.id.name];
    if (!target || (d.type === "FunctionDeclaration" && target === "var")) return;
    edits.push({ start: f.start, end: f.start, text: `${target} ${f.id.name} = ` });
    edits.push({ start: f.end, end: f.end, text: ";" });
  }
}

/**
 * Whether the source's last statement ends with `;` (ignoring trailing whitespace and comments):
 * like Jupyter's trailing `;`, it hides the cell's result.
 */
export function endsWithSemicolon(source: string): boolean {
  let s = source.trimEnd();
  for (;;) {
    if (s.endsWith("*/")) {
      const open = s.lastIndexOf("/*", s.length - 2);
      if (open < 0) break;
      s = s.slice(0, open).trimEnd();
      continue;
    }
    const nl = s.lastIndexOf("\n");
    const lastLine = s.slice(nl + 1);
    const comment = lineCommentStart(lastLine);
    if (comment >= 0) {
      s = (s.slice(0, nl + 1) + lastLine.slice(0, comment)).trimEnd();
      continue;
    }
    break;
  }
  return s.endsWith(";");
}

/** Index of a `//` comment in one line that is outside string/template quotes, or -1. */
function lineCommentStart(line: string): number {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "/" && line[i + 1] === "/") return i;
  }
  return -1;
}
