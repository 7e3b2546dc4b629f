/**
 * How TypeScript sees a notebook's cells, shared by the page's editor (Monaco, in the browser)
 * and `tsnb check` / `tsnb run --check` (the same TypeScript in Node), so both report the same
 * diagnostics.
 *
 * Owns: the compiler options for cells, the diagnostic codes left out, where the library
 * declarations live in TypeScript's virtual file system (`tsnb`, `tsnb/nx`, Node's types), and
 * turning each cell's emitted `.d.ts` into one global library so a cell knows the names (and
 * types) other cells define — the kernel runs cells in one global scope.
 *
 * Invariants: every cell is a module of its own (no "cannot redeclare" across cells, top-level
 * await allowed); a name declared by several cells takes its type from the last declaration at
 * or before the cell being checked (what that cell sees when run in order); names defined only
 * further down are still known. No Node or DOM imports.
 */

/**
 * Compiler options for cells, as numbers (TypeScript's enum values, the same in Monaco's
 * `monaco.typescript` and in the TypeScript API): ESNext target and modules, Node module
 * resolution, every file a module (moduleDetection 3 = force), strict, no DOM.
 */
export const CELL_COMPILER_OPTIONS = {
  target: 99, // ScriptTarget.ESNext
  module: 99, // ModuleKind.ESNext
  moduleResolution: 2, // ModuleResolutionKind.Node10 ("NodeJs")
  moduleDetection: 3, // ModuleDetectionKind.Force
  allowImportingTsExtensions: true,
  noEmit: false,
  declaration: true,
  strict: true,
  allowNonTsExtensions: true,
  esModuleInterop: true,
  skipLibCheck: true,
  // The kernel is Node, not a browser: ECMAScript's library and Node's types (@types/node, an
  // extra lib), no DOM — a cell's `name` or `status` is not the window's, `document` is not there.
  lib: ["esnext"] as string[],
} as const;

/**
 * Diagnostics not reported for cells: 1375/1378 (top-level `await` needs a module / a newer
 * target — cells are modules run by the kernel), 2307 (cannot find module: npm packages and
 * files the editor does not read) and 7016 (a package without declarations).
 */
export const IGNORED_DIAGNOSTIC_CODES: readonly number[] = [1375, 1378, 2307, 7016];

/** One file of the declarations TypeScript is given besides the cells (Monaco's "extra libs"). */
export interface ExtraLib {
  /** `file:///node_modules/…` (Monaco's URI; TypeScript in Node uses the path after `file://`). */
  filePath: string;
  content: string;
}

/**
 * The extra libraries for cells: the `tsnb` standard library's declarations (`files` from
 * dist/renderer/tsnb-lib.json, `{relative path: .d.ts}`) behind the module names `tsnb` and
 * `tsnb/nx`, and Node's own types (`nodeTypes` from dist/renderer/node-types.json,
 * `{path under node_modules: .d.ts}`: @types/node and undici-types), so `process.stdout`,
 * `Buffer` and `node:fs` are typed as the kernel (Node) has them.
 */
export function cellExtraLibs(
  files: Record<string, string>,
  nodeTypes: Record<string, string> = {},
): ExtraLib[] {
  const libs: ExtraLib[] = [];
  for (const [path, content] of Object.entries(files)) {
    libs.push({ content, filePath: `file:///node_modules/@tsnb/src/${path}` });
  }
  if (files["stdlib/index.d.ts"]) {
    libs.push({
      content: `export * from "../@tsnb/src/stdlib/index.ts";\n`,
      filePath: "file:///node_modules/tsnb/index.d.ts",
    });
  }
  if (files["tensor/index.d.ts"]) {
    libs.push({
      content: `export * from "../@tsnb/src/tensor/index.ts";\n`,
      filePath: "file:///node_modules/tsnb/nx.d.ts",
    });
  }
  for (const [path, content] of Object.entries(nodeTypes)) {
    libs.push({ content, filePath: `file:///node_modules/${path}` });
  }
  // Without Node's types (a build that could not read @types/node), at least `process.env`.
  if (Object.keys(nodeTypes).length === 0) {
    libs.push({
      content:
        "declare var process: { env: Record<string, string | undefined>; argv: string[]; cwd(): string; platform: string };\n",
      filePath: "file:///node_modules/@tsnb/globals.d.ts",
    });
  }
  return libs;
}

/** The URI of the global library of names the cells define (see `cellDeclarationsLibrary`). */
export const CELLS_LIB_PATH = "file:///node_modules/@tsnb/cells.d.ts";

/** Prefix top-level declarations (lines at column 0) with `export` so their types are emitted. */
export function exportTopLevel(source: string): string {
  return source.replace(
    /^(?:(?:async\s+)?function\b|const\b|let\b|var\b|class\b|abstract\s+class\b|type\b|interface\b|enum\b)/gm,
    (m) => `export ${m}`,
  );
}

/** One top-level declaration of a cell's .d.ts, made global, with the name it declares. */
export interface GlobalDecl {
  name: string | null;
  text: string;
  /** An import the declaration needs at the top of the library (namespace imports). */
  moduleImport?: string;
}

/**
 * Turn a module's .d.ts into global declarations: imports kept apart, each top-level statement
 * (a line at column 0 starts one) stripped of `export`/`declare`, with its declared name.
 */
export function globalizeDeclarations(dts: string): { imports: string[]; decls: GlobalDecl[] } {
  const imports: string[] = [];
  const decls: GlobalDecl[] = [];
  for (const line of dts.split("\n")) {
    if (/^import\b/.test(line)) imports.push(line);
    else if (/^export\s*\{\s*\};?\s*$/.test(line)) continue;
    else if (/^\S/.test(line) && !/^[}\])]/.test(line)) {
      const text = line.replace(/^export\s+(declare\s+)?/, "").replace(/^declare\s+/, "");
      const m =
        /^(?:abstract\s+)?(?:const|let|var|function|class|interface|type|enum|namespace)\s+([A-Za-z_$][\w$]*)/.exec(
          text,
        );
      decls.push({ name: m?.[1] ?? null, text });
    } else if (decls.length > 0) {
      decls[decls.length - 1]!.text += `\n${line}`;
    }
  }
  return { imports, decls };
}

/**
 * Global declarations for the names a cell imports (`import { nn } from "tsnb"` makes `nn` a
 * binding of the kernel's global scope, so later cells use it without importing it again).
 * Each is an import alias of the module, imported under a private name at the top of the
 * library, so the name means what the import meant: a value, a type, a namespace of types
 * (`nx.tensor(…)` and `x: nx.Tensor`), or several (`Tensor` as a class and as a type).
 */
export function importDeclarations(source: string): GlobalDecl[] {
  const decls: GlobalDecl[] = [];
  const re = /^import\s+(?:type\s+)?([\s\S]*?)\s+from\s+(["'])([^"'\n]+)\2/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const clause = m[1]!.trim();
    const mod = JSON.stringify(m[3]!);
    const alias = `__tsnb_m_${moduleAliasSuffix(m[3]!)}`;
    const moduleImport = `import * as ${alias} from ${mod};`;
    const add = (local: string, member: string | null) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(local)) return;
      const target = member === null ? alias : `${alias}.${member}`;
      decls.push({ name: local, text: `export import ${local} = ${target};`, moduleImport });
    };
    const ns = /^\*\s+as\s+([\w$]+)$/.exec(clause);
    if (ns) {
      add(ns[1]!, null);
      continue;
    }
    const named = /\{([\s\S]*)\}/.exec(clause);
    const def = clause
      .replace(/\{[\s\S]*\}/, "")
      .replace(/,/g, " ")
      .trim();
    const defNs = /^([\w$]+)?\s*(?:\*\s+as\s+([\w$]+))?$/.exec(def);
    if (defNs?.[1]) add(defNs[1], "default");
    if (defNs?.[2]) add(defNs[2], null);
    for (const spec of named?.[1]!.split(",") ?? []) {
      const t = /^\s*(?:type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(spec);
      if (t) add(t[2] ?? t[1]!, t[1]!);
    }
  }
  return decls;
}

/** An identifier-safe, stable suffix for a module specifier (`tsnb/nx` → `tsnb_nx_<hash>`). */
function moduleAliasSuffix(specifier: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < specifier.length; i++) h = Math.imul(h ^ specifier.charCodeAt(i), 0x01000193);
  return `${specifier.replace(/[^\w$]/g, "_").slice(0, 40)}_${(h >>> 0).toString(36)}`;
}

/** A cell as the declarations library needs it: its source and the .d.ts TypeScript emitted. */
export interface DeclaredCell {
  source: string;
  /** The .d.ts of `exportTopLevel(source)` (emitted even with errors), or "". */
  dts: string;
  /** The cell's place in the notebook (orders the library's text; default: the order given). */
  position?: number;
}

/**
 * The global library declaring the names the given cells define (and import), later cells'
 * declarations replacing earlier ones of the same name (re-running a cell redefines its names;
 * function overloads stay together).
 */
export function cellDeclarationsLibrary(cells: readonly DeclaredCell[]): string {
  const imports = new Set<string>();
  const decls: Array<GlobalDecl & { position: number }> = [];
  cells.forEach((cell, order) => {
    const position = cell.position ?? order;
    const g = globalizeDeclarations(cell.dts);
    g.imports.forEach((i) => imports.add(i));
    g.decls.unshift(...importDeclarations(cell.source));
    const names = new Set(g.decls.map((d) => d.name).filter((n): n is string => n !== null));
    for (let i = decls.length - 1; i >= 0; i--) {
      const n = decls[i]!.name;
      if (n !== null && names.has(n)) decls.splice(i, 1);
    }
    decls.push(...g.decls.map((d) => ({ ...d, position })));
  });
  // In the cells' positions (a stable sort keeps a cell's own order): the same declarations
  // given in another order make the same text, so cells that see the same names share it.
  decls.sort((a, b) => a.position - b.position);
  const body = decls.map((d) => d.text);
  for (const d of decls) if (d.moduleImport) imports.add(d.moduleImport);
  return `${[...imports].sort().join("\n")}\nexport {};\ndeclare global {\n${body.join("\n")}\n}\n`;
}

/**
 * The order in which to give `cellDeclarationsLibrary` the cells for the one at `index`: the
 * cells after it first, then those up to and including it, so the declarations at or before it
 * win and names defined only further down are still known.
 */
export function declarationOrderFor<T>(cells: readonly T[], index: number): T[] {
  return [...cells.slice(index + 1), ...cells.slice(0, index + 1)];
}
