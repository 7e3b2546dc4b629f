/**
 * The Monaco bundle (dist/renderer/monaco.js + monaco.css), loaded by renderer/editor.ts the
 * first time a cell needs an editor, so a notebook paints before ~4 MB of editor code parse.
 *
 * Owns: Monaco's worker wiring (editor.worker.js, ts.worker.js as classic workers from our own
 * origin), the TypeScript language defaults for notebook cells (every cell is its own module,
 * ES2022, top-level await) and the extra libraries: the `tsnb` standard library declarations
 * and the declarations of names defined by the notebook's cells (see `setCellDeclarations`).
 */
import * as monaco from "monaco-editor";

declare global {
  interface Window {
    MonacoEnvironment?: monaco.Environment;
  }
}

self.MonacoEnvironment = {
  getWorker(_moduleId: string, label: string): Worker {
    const base = new URL(".", import.meta.url);
    const file =
      label === "typescript" || label === "javascript" ? "ts.worker.js" : "editor.worker.js";
    return new Worker(new URL(file, base), { name: label });
  },
};

const ts = monaco.typescript;
ts.typescriptDefaults.setCompilerOptions({
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.NodeJs,
  // Each cell is a module of its own (no "cannot redeclare" between cells; top-level await ok).
  moduleDetection: 3,
  allowImportingTsExtensions: true,
  noEmit: false,
  declaration: true,
  strict: true,
  allowNonTsExtensions: true,
  esModuleInterop: true,
  skipLibCheck: true,
});
ts.typescriptDefaults.setDiagnosticsOptions({
  noSemanticValidation: false,
  noSyntaxValidation: false,
  // 1375: 'await' at top level only in modules (cells are modules, but keep it quiet);
  // 2307: cannot find module (npm packages the editor does not know about).
  diagnosticCodesToIgnore: [1375, 1378, 2307, 7016],
});
ts.typescriptDefaults.setEagerModelSync(true);

/** Declarations of the notebook standard library, as {relative path: .d.ts text}. */
export function setLibraryDeclarations(files: Record<string, string>): void {
  const libs: Array<{ content: string; filePath: string }> = [];
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
  libs.push({
    content: CONSOLE_AND_NOTEBOOK_GLOBALS,
    filePath: "file:///node_modules/@tsnb/globals.d.ts",
  });
  libDisposables.forEach((d) => d.dispose());
  libDisposables = libs.map((l) => ts.typescriptDefaults.addExtraLib(l.content, l.filePath));
}
let libDisposables: monaco.IDisposable[] = [];

const CONSOLE_AND_NOTEBOOK_GLOBALS = `
declare var process: { env: Record<string, string | undefined>; argv: string[]; cwd(): string; platform: string };
`;

let cellLib: monaco.IDisposable | null = null;
let cellLibText = "";
/** Replace the global declarations of names defined by the notebook's cells. */
export function setCellDeclarations(text: string): void {
  if (text === cellLibText) return;
  cellLibText = text;
  cellLib?.dispose();
  cellLib = ts.typescriptDefaults.addExtraLib(text, "file:///node_modules/@tsnb/cells.d.ts");
}

/** The .d.ts TypeScript emits for a model (forced even with errors), or "" on failure. */
export async function declarationsOf(model: monaco.editor.ITextModel): Promise<string> {
  try {
    const getWorker = await ts.getTypeScriptWorker();
    const worker = await getWorker(model.uri);
    const out = (await worker.getEmitOutput(model.uri.toString(), true, true)) as {
      outputFiles: Array<{ name: string; text: string }>;
    };
    return out.outputFiles.find((f) => f.name.endsWith(".d.ts"))?.text ?? "";
  } catch {
    return "";
  }
}

monaco.editor.defineTheme("tsnb", {
  base: "vs",
  inherit: true,
  rules: [],
  colors: {
    "editor.background": "#f7f8fa",
    "editor.lineHighlightBackground": "#f7f8fa",
    "editorGutter.background": "#f7f8fa",
  },
});

monaco.editor.defineTheme("tsnb-dark", {
  base: "vs-dark",
  inherit: true,
  rules: [],
  colors: {
    "editor.background": "#1e2228",
    "editor.lineHighlightBackground": "#1e2228",
    "editorGutter.background": "#1e2228",
  },
});

/** Prefix top-level declarations (lines at column 0) with `export` so their types are emitted. */
export function exportTopLevel(source: string): string {
  return source.replace(
    /^(?:(?:async\s+)?function\b|const\b|let\b|var\b|class\b|abstract\s+class\b|type\b|interface\b|enum\b)/gm,
    (m) => `export ${m}`,
  );
}

/** One top-level declaration of a cell's .d.ts, made global, with the name it declares. */
interface GlobalDecl {
  name: string | null;
  text: string;
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
 * Values are typed with `typeof import("m")…`; `import type` names become type aliases.
 */
export function importDeclarations(source: string): GlobalDecl[] {
  const decls: GlobalDecl[] = [];
  const re = /^import\s+(type\s+)?([\s\S]*?)\s+from\s+(["'])([^"'\n]+)\3/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const typeOnly = Boolean(m[1]);
    const clause = m[2]!.trim();
    const mod = JSON.stringify(m[4]!);
    const add = (local: string, member: string | null, isType: boolean) => {
      if (!/^[A-Za-z_$][\w$]*$/.test(local)) return;
      const ref = member === null ? `import(${mod})` : `import(${mod})[${JSON.stringify(member)}]`;
      decls.push({
        name: local,
        text: isType ? `type ${local} = ${ref};` : `const ${local}: typeof ${ref};`,
      });
    };
    const ns = /^\*\s+as\s+([\w$]+)$/.exec(clause);
    if (ns) {
      add(ns[1]!, null, false);
      continue;
    }
    const named = /\{([\s\S]*)\}/.exec(clause);
    const def = clause
      .replace(/\{[\s\S]*\}/, "")
      .replace(/,/g, " ")
      .trim();
    const defNs = /^([\w$]+)?\s*(?:\*\s+as\s+([\w$]+))?$/.exec(def);
    if (defNs?.[1]) add(defNs[1], "default", typeOnly);
    if (defNs?.[2]) add(defNs[2], null, false);
    for (const spec of named?.[1]!.split(",") ?? []) {
      const t = /^\s*(type\s+)?([\w$]+)(?:\s+as\s+([\w$]+))?\s*$/.exec(spec);
      if (t) add(t[3] ?? t[2]!, t[2]!, typeOnly || Boolean(t[1]));
    }
  }
  return decls;
}

const declCache = new Map<string, { source: string; dts: string }>();
let declRun = 0;
/**
 * Recompute the declarations of names defined by the given code cells (in document order) and
 * publish them as one global library, so a cell sees the types of what other cells define.
 */
export async function updateCellDeclarations(
  cells: ReadonlyArray<{ id: string; source: string }>,
): Promise<void> {
  const run = ++declRun;
  const imports = new Set<string>();
  const decls: GlobalDecl[] = [];
  for (const cell of cells) {
    let cached = declCache.get(cell.id);
    if (!cached || cached.source !== cell.source) {
      const uri = monaco.Uri.parse(`file:///decl/${cell.id}.ts`);
      const text = exportTopLevel(cell.source);
      // "plaintext": the worker still sees the file, but Monaco does not validate it on its own.
      const model =
        monaco.editor.getModel(uri) ?? monaco.editor.createModel(text, "plaintext", uri);
      if (model.getValue() !== text) model.setValue(text);
      cached = { source: cell.source, dts: await declarationsOf(model) };
      if (run !== declRun) return;
      declCache.set(cell.id, cached);
    }
    const g = globalizeDeclarations(cached.dts);
    g.imports.forEach((i) => imports.add(i));
    g.decls.unshift(...importDeclarations(cell.source));
    // A name declared again by a later cell replaces the earlier declaration (the kernel's
    // semantics: re-running a cell redefines its names). Function overloads stay together.
    const names = new Set(g.decls.map((d) => d.name).filter((n): n is string => n !== null));
    for (let i = decls.length - 1; i >= 0; i--) {
      const n = decls[i]!.name;
      if (n !== null && names.has(n)) decls.splice(i, 1);
    }
    decls.push(...g.decls);
  }
  const body = decls.map((d) => d.text);
  setCellDeclarations(
    `${[...imports].join("\n")}\nexport {};\ndeclare global {\n${body.join("\n")}\n}\n`,
  );
}

export { monaco };
