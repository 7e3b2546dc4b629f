/**
 * The Monaco bundle (dist/renderer/monaco.js + monaco.css), loaded by renderer/editor.ts the
 * first time a cell needs an editor, so a notebook paints before ~4 MB of editor code parse.
 *
 * Owns: Monaco's worker wiring (editor.worker.js, ts.worker.js as classic workers from our own
 * origin), and giving Monaco's TypeScript what core/cell-types.ts says cells are (every cell its
 * own module, top-level await; the same as `tsnb check`): the extra libraries — the `tsnb`
 * standard library, Node's types — and the declarations of names defined by the notebook's
 * cells (see `setCellDeclarations`).
 */
import * as monaco from "monaco-editor";
import {
  conf as tsConf,
  language as tsTokens,
} from "monaco-editor/languages/definitions/typescript/typescript.js";
import {
  CELL_COMPILER_OPTIONS,
  CELLS_LIB_PATH,
  IGNORED_DIAGNOSTIC_CODES,
  cellDeclarationsLibrary,
  cellExtraLibs,
  exportTopLevel,
  type DeclaredCell,
} from "../core/cell-types.ts";

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
ts.typescriptDefaults.setCompilerOptions({ ...CELL_COMPILER_OPTIONS });
ts.typescriptDefaults.setDiagnosticsOptions({
  noSemanticValidation: false,
  noSyntaxValidation: false,
  diagnosticCodesToIgnore: [...IGNORED_DIAGNOSTIC_CODES],
});
ts.typescriptDefaults.setEagerModelSync(true);

/**
 * The language of cell models until {@link startTypeScript}: TypeScript's highlighting (its
 * Monarch tokens, so the same colours) without its language service. A model in "typescript"
 * starts Monaco's TypeScript worker at once, and its start (compiling TypeScript itself, reading
 * the libraries, checking every cell) took ≈ 1.5 s of CPU in the seconds after a notebook
 * opened, while the user may already be running cells (docs/ui.md).
 */
const QUIET_TYPESCRIPT = "tsnb-typescript";
monaco.languages.register({ id: QUIET_TYPESCRIPT });
monaco.languages.setMonarchTokensProvider(QUIET_TYPESCRIPT, tsTokens);
monaco.languages.setLanguageConfiguration(QUIET_TYPESCRIPT, tsConf);
let typeScriptStarted = false;

/** The language to create a cell's model in: TypeScript once started, its highlighting before. */
export function cellLanguage(): string {
  return typeScriptStarted ? "typescript" : QUIET_TYPESCRIPT;
}

/** Give the cells TypeScript's language service (completion, hovers, diagnostics): once. */
export function startTypeScript(): void {
  if (typeScriptStarted) return;
  typeScriptStarted = true;
  for (const model of monaco.editor.getModels())
    if (model.getLanguageId() === QUIET_TYPESCRIPT)
      monaco.editor.setModelLanguage(model, "typescript");
}

/**
 * Declarations of the notebook standard library, as {relative path: .d.ts text}, and Node's
 * types ({path under node_modules: .d.ts}), as `tsnb check` has them (core/cell-types.ts).
 */
export function setLibraryDeclarations(
  files: Record<string, string>,
  nodeTypes: Record<string, string> = {},
): void {
  libDisposables.forEach((d) => d.dispose());
  libDisposables = cellExtraLibs(files, nodeTypes).map((l) =>
    ts.typescriptDefaults.addExtraLib(l.content, l.filePath),
  );
}
let libDisposables: monaco.IDisposable[] = [];

let cellLib: monaco.IDisposable | null = null;
let cellLibText = "";
/** Replace the global declarations of names defined by the notebook's cells. */
export function setCellDeclarations(text: string): void {
  if (text === cellLibText) return;
  cellLibText = text;
  cellLib?.dispose();
  cellLib = ts.typescriptDefaults.addExtraLib(text, CELLS_LIB_PATH);
}

/**
 * Resolves true once the TypeScript worker has `text` as the cells' library, false when a newer
 * update superseded this one or a minute passed (a loaded machine can take seconds).
 */
async function workerHasLibrary(text: string, current: () => boolean): Promise<boolean> {
  try {
    const getWorker = await ts.getTypeScriptWorker();
    const deadline = Date.now() + 60_000;
    while (current() && Date.now() < deadline) {
      const worker = (await getWorker()) as unknown as {
        getExtraLibs(): Promise<Record<string, { content: string }>>;
      };
      if ((await worker.getExtraLibs())[CELLS_LIB_PATH]?.content === text) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch {
    // a worker without getExtraLibs
  }
  return false;
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

/**
 * Each cell's emitted declarations; `settled` once they were emitted with the other cells'
 * declarations known (the later passes of `updateCellDeclarations`).
 */
const declCache = new Map<string, { source: string; dts: string; settled: boolean }>();
let declRun = 0;
/** Passes at most: a type inferred through a chain of more cells than this stays `any`. */
const MAX_DECLARATION_PASSES = 4;
/**
 * Recompute the declarations of names defined by the given code cells (in document order) and
 * publish them as one global library, so a cell sees the types of what other cells define.
 * As `tsnb check` does (kernel/typecheck.ts): a changed cell is emitted once on its own, then
 * again with the library known, until the library stops changing.
 */
export async function updateCellDeclarations(
  cells: ReadonlyArray<{ id: string; source: string }>,
): Promise<void> {
  const run = ++declRun;
  const current = () => run === declRun;
  const emit = async (cell: { id: string; source: string }) => {
    const uri = monaco.Uri.parse(`file:///decl/${cell.id}.ts`);
    const text = exportTopLevel(cell.source);
    // "plaintext": the worker still sees the file, but Monaco does not validate it on its own.
    const model = monaco.editor.getModel(uri) ?? monaco.editor.createModel(text, "plaintext", uri);
    if (model.getValue() !== text) model.setValue(text);
    return await declarationsOf(model);
  };
  const declared: DeclaredCell[] = [];
  const unsettled: number[] = [];
  for (const cell of cells) {
    let cached = declCache.get(cell.id);
    if (!cached || cached.source !== cell.source) {
      const dts = await emit(cell);
      if (!current()) return;
      cached = { source: cell.source, dts, settled: false };
      declCache.set(cell.id, cached);
    }
    if (!cached.settled) unsettled.push(declared.length);
    declared.push({ source: cached.source, dts: cached.dts });
  }
  let lib = cellDeclarationsLibrary(declared);
  setCellDeclarations(lib);
  for (let pass = 1; pass < MAX_DECLARATION_PASSES && unsettled.length > 0; pass++) {
    // Monaco hands extra libraries to its worker a tick later: emit again once it has them.
    if (!(await workerHasLibrary(lib, current))) return;
    for (const i of unsettled) {
      const dts = await emit(cells[i]!);
      if (!current()) return;
      declared[i] = { source: cells[i]!.source, dts };
    }
    const next = cellDeclarationsLibrary(declared);
    const stable = next === lib;
    lib = next;
    setCellDeclarations(lib);
    if (stable || pass === MAX_DECLARATION_PASSES - 1) {
      for (const i of unsettled)
        declCache.set(cells[i]!.id, {
          source: cells[i]!.source,
          dts: declared[i]!.dts,
          settled: true,
        });
      return;
    }
  }
}

export { monaco };
