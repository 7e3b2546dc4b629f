/**
 * TypeScript diagnostics for a notebook's cells, as the page's editor reports them: the same
 * TypeScript (Monaco's services, kernel/ts-services.ts), compiler options, declarations and
 * cross-cell rules (core/cell-types.ts), and a language-service host that behaves as Monaco's
 * TypeScript worker does (file names are `file:///` URIs, the extra libraries are root files,
 * the default library is `lib.esnext.full.d.ts`). Used by `tsnb check` and `tsnb run --check`.
 *
 * How cells see each other: each cell is a module; the names every cell defines are declared
 * globally from the `.d.ts` TypeScript emits for the cell (`exportTopLevel`), so a cell knows
 * the types of what other cells define. Declarations are emitted first with no other cell
 * known, then again with the other cells' declarations known until they stop changing (as the
 * editor's `updateCellDeclarations` does), so a cell's inferred types can use names other cells
 * define, through chains of cells. Each cell is emitted (later passes) and checked with the
 * library ordered for it (`declarationOrderFor`: a name declared twice has the type of the
 * declaration at or before it); cells sharing a library are handled in one program.
 */

import { createHash } from "node:crypto";
import {
  CELL_COMPILER_OPTIONS,
  CELLS_LIB_PATH,
  IGNORED_DIAGNOSTIC_CODES,
  cellDeclarationsLibrary,
  cellExtraLibs,
  declarationOrderFor,
  exportTopLevel,
  type DeclaredCell,
} from "../core/cell-types.ts";
import { loadTypeScript, type LanguageService, type TS, type TsDiagnostic } from "./ts-services.ts";

export interface CellSource {
  id: string;
  source: string;
}

/** One diagnostic, positioned in its cell (1-based line and column, UTF-16 columns). */
export interface CellDiagnostic {
  cellId: string;
  line: number;
  column: number;
  /** TypeScript's code (TS2322 → 2322). */
  code: number;
  severity: "error" | "warning";
  /** The message, with its chained explanations on further lines (indented as tsc does). */
  message: string;
}

let registry: unknown = null;

/** Emission passes at most (the editor's `MAX_DECLARATION_PASSES` in renderer/monaco-entry.ts). */
const MAX_DECLARATION_PASSES = 4;

/** The diagnostics of `cells` (in notebook order), sorted by cell then position. */
export async function checkCells(cells: readonly CellSource[]): Promise<CellDiagnostic[]> {
  const { ts, libFileMap, library, nodeTypes } = await loadTypeScript();
  const host = new WorkerLikeHost(ts, libFileMap);
  for (const lib of cellExtraLibs(library, nodeTypes)) host.setExtraLib(lib.filePath, lib.content);
  // One registry per process: `tsnb check a.tsnb b.tsnb` parses TypeScript's libraries, Node's
  // types and tsnb's once (versions are the texts' hashes, so a file is reused only unchanged).
  registry ??= ts.createDocumentRegistry();
  const ls = ts.createLanguageService(host, registry);

  // Declarations: `file:///decl/N.ts` hold each cell with its top-level declarations exported.
  const declUri = (i: number) => `file:///decl/${i}.ts`;
  const cellUri = (i: number) => `file:///cells/${i}.ts`;
  host.models.clear();
  cells.forEach((c, i) => host.setModel(declUri(i), exportTopLevel(c.source)));
  const emit = (i: number): string =>
    ls.getEmitOutput(declUri(i), true, true).outputFiles.find((f) => f.name.endsWith(".d.ts"))
      ?.text ?? "";
  host.setExtraLib(CELLS_LIB_PATH, cellDeclarationsLibrary([]));
  let declared: DeclaredCell[] = cells.map((c, i) => ({
    source: c.source,
    dts: emit(i),
    position: i,
  }));
  // Again with the other cells known, until the declarations stop changing (at most
  // MAX_DECLARATION_PASSES in all, as the editor).
  for (let pass = 1; pass < MAX_DECLARATION_PASSES; pass++) {
    const next = declared.map((d) => ({ ...d }));
    for (const [lib, indices] of groupByLibrary(declared)) {
      host.setExtraLib(CELLS_LIB_PATH, lib);
      for (const i of indices) next[i]!.dts = emit(i);
    }
    const stable = next.every((d, i) => d.dts === declared[i]!.dts);
    declared = next;
    if (stable) break;
  }

  // Check: `file:///cells/N.ts` hold the cells as written; one program per distinct library.
  host.models.clear();
  cells.forEach((c, i) => host.setModel(cellUri(i), c.source));
  const out: CellDiagnostic[] = [];
  for (const [lib, indices] of groupByLibrary(declared)) {
    host.setExtraLib(CELLS_LIB_PATH, lib);
    for (const i of indices) {
      const file = cellUri(i);
      for (const d of diagnosticsOf(ls, file)) {
        const cellDiagnostic = toCellDiagnostic(ts, cells[i]!, d);
        if (cellDiagnostic) out.push(cellDiagnostic);
      }
    }
  }
  const order = new Map(cells.map((c, i) => [c.id, i]));
  return out.sort(
    (a, b) => order.get(a.cellId)! - order.get(b.cellId)! || a.line - b.line || a.column - b.column,
  );
}

/** The cells' indices by the declarations library each sees (`declarationOrderFor`). */
function groupByLibrary(declared: readonly DeclaredCell[]): Map<string, number[]> {
  const byLibrary = new Map<string, number[]>();
  declared.forEach((_, i) => {
    const lib = cellDeclarationsLibrary(declarationOrderFor(declared, i));
    byLibrary.set(lib, [...(byLibrary.get(lib) ?? []), i]);
  });
  return byLibrary;
}

/**
 * What Monaco marks in an editor (languageFeatures.js `_doValidate`): syntactic and semantic
 * diagnostics, less the ignored codes (its suggestion diagnostics are hints, left out here).
 */
function diagnosticsOf(ls: LanguageService, file: string): TsDiagnostic[] {
  const all = [...ls.getSyntacticDiagnostics(file), ...ls.getSemanticDiagnostics(file)];
  return all.filter((d) => !IGNORED_DIAGNOSTIC_CODES.includes(d.code));
}

function toCellDiagnostic(ts: TS, cell: CellSource, d: TsDiagnostic): CellDiagnostic | null {
  // Suggestions and messages are hints, not diagnostics (Monaco shows them faintly).
  if (d.category !== 0 && d.category !== 1) return null;
  const pos =
    d.file && d.start !== undefined
      ? ts.getLineAndCharacterOfPosition(d.file, d.start)
      : { line: 0, character: 0 };
  return {
    cellId: cell.id,
    line: pos.line + 1,
    column: pos.character + 1,
    code: d.code,
    severity: d.category === 1 ? "error" : "warning",
    message: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  };
}

/**
 * A language-service host that answers as Monaco's TypeScript worker (monaco-editor's
 * tsWorker.js): models and extra libraries by URI, TypeScript's libraries by name.
 */
class WorkerLikeHost {
  /** The editor's models: URI → text (version bumps when the set or a text changes). */
  readonly models = new Map<string, string>();
  readonly extraLibs = new Map<string, string>();
  /** Script versions: a hash of the text, so a shared document registry never mixes texts. */
  private readonly versions = new Map<string, string>();

  constructor(
    private readonly ts: TS,
    private readonly libFileMap: Record<string, string>,
  ) {}

  setExtraLib(uri: string, text: string): void {
    if (this.extraLibs.get(uri) === text && this.versions.has(uri)) return;
    this.extraLibs.set(uri, text);
    this.versions.set(uri, hash(text));
  }

  setModel(uri: string, text: string): void {
    this.models.set(uri, text);
    this.versions.set(uri, hash(text));
  }

  getCompilationSettings() {
    return { ...CELL_COMPILER_OPTIONS };
  }
  getScriptFileNames(): string[] {
    return [...this.models.keys(), ...this.extraLibs.keys()];
  }
  getScriptVersion(file: string): string {
    return this.versions.get(file) ?? "1";
  }
  private text(file: string): string | undefined {
    return (
      this.models.get(file) ??
      this.libFileMap[file] ??
      this.libFileMap[`lib.${file}.d.ts`] ??
      this.extraLibs.get(file)
    );
  }
  getScriptSnapshot(file: string) {
    const t = this.text(file);
    return t === undefined ? undefined : this.ts.ScriptSnapshot.fromString(t);
  }
  getCurrentDirectory() {
    return "";
  }
  getDefaultLibFileName() {
    return "lib.esnext.full.d.ts";
  }
  readFile(file: string) {
    return this.text(file);
  }
  fileExists(file: string) {
    return this.text(file) !== undefined;
  }
}

function hash(text: string): string {
  return createHash("sha1").update(text).digest("base64");
}
