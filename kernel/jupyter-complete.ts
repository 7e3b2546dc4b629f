/**
 * Completion and inspection for Jupyter clients (`complete_request`, `inspect_request`) from the
 * TypeScript language service — the same TypeScript (the build Monaco ships) and the same `tsnb`
 * library declarations (dist/renderer/tsnb-lib.json) and Node types as the app's editor
 * (kernel/ts-services.ts).
 *
 * The cells run so far (those that succeeded) are kept in order; a request's code is appended to
 * them in one virtual module beside the notebook's folder, so names defined by earlier cells,
 * `tsnb`/`tsnb/nx` and packages in the folder's node_modules complete. Redeclarations across cells
 * only produce diagnostics, which completion ignores.
 *
 * The language service (about 10 MB of JavaScript) loads on the first request, not at start-up.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTypeScript, type LanguageService, type TS } from "./ts-services.ts";

/** Bound on the history kept for completion (characters; oldest cells dropped first). */
const MAX_HISTORY = 400_000;
const LIB_ROOT = "/__tsnb_lib__/";

export interface Completions {
  matches: string[];
  /** UTF-16 offsets in the request's code of the text the match replaces. */
  start: number;
  end: number;
}

export class Completer {
  private history: string[] = [];
  private service: Promise<{
    ts: TS;
    ls: LanguageService;
    setCell: (text: string) => void;
    file: string;
  }> | null = null;

  constructor(private readonly cwd = process.cwd()) {}

  /** Record a cell that ran successfully (its names are known to later completions). */
  ran(code: string): void {
    this.history.push(code);
    let total = this.history.reduce((n, c) => n + c.length, 0);
    while (total > MAX_HISTORY && this.history.length > 1) total -= this.history.shift()!.length;
  }

  async complete(code: string, cursor: number): Promise<Completions> {
    const { ls, setCell, file } = await this.load();
    let start = cursor;
    while (start > 0 && /[\w$]/.test(code[start - 1]!)) start--;
    const prefix = code.slice(start, cursor).toLowerCase();
    const { text, offset } = this.compose(code);
    setCell(text);
    const info = ls.getCompletionsAtPosition(file, offset + cursor, {
      includeCompletionsWithInsertText: true,
    });
    const entries = (info?.entries ?? [])
      .filter((e) => e.name.toLowerCase().startsWith(prefix))
      .sort((a, b) =>
        a.sortText === b.sortText ? a.name.localeCompare(b.name) : a.sortText < b.sortText ? -1 : 1,
      );
    return { matches: entries.slice(0, 500).map((e) => e.name), start, end: cursor };
  }

  /** Type and documentation of the name at (or just before) the cursor, or "" when none. */
  async inspect(code: string, cursor: number): Promise<string> {
    const { ts, ls, setCell, file } = await this.load();
    const { text, offset } = this.compose(code);
    setCell(text);
    for (const at of [cursor, cursor - 1]) {
      if (at < 0) continue;
      const q = ls.getQuickInfoAtPosition(file, offset + at);
      if (q) {
        const sig = ts.displayPartsToString(q.displayParts);
        const doc = ts.displayPartsToString(q.documentation);
        return doc ? `${sig}\n\n${doc}` : sig;
      }
    }
    return "";
  }

  private compose(code: string): { text: string; offset: number } {
    const before = this.history.length ? this.history.join("\n;\n") + "\n;\n" : "";
    return { text: before + code, offset: before.length };
  }

  private load() {
    this.service ??= (async () => {
      const { ts, libFileMap, library, nodeTypes } = await loadTypeScript();
      const virtual = new Map<string, string>();
      for (const [name, text] of Object.entries(libFileMap)) virtual.set(LIB_ROOT + name, text);
      for (const [name, text] of Object.entries(library))
        virtual.set(LIB_ROOT + "tsnb/" + name, text);
      // Node's globals (process, Buffer…) as the editor has them: root files of the program.
      const nodeFiles: string[] = [];
      for (const [name, text] of Object.entries(nodeTypes)) {
        virtual.set(LIB_ROOT + "node_modules/" + name, text);
        nodeFiles.push(LIB_ROOT + "node_modules/" + name);
      }
      const file = join(this.cwd, "__tsnb_jupyter_cell__.ts");
      let cell = "";
      let version = 0;
      const options = {
        target: ts.ScriptTarget.ESNext,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        moduleDetection: ts.ModuleDetectionKind.Force,
        allowImportingTsExtensions: true,
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        skipLibCheck: true,
        lib: ["lib.esnext.full.d.ts"],
        types: [],
        baseUrl: this.cwd,
        paths: {
          tsnb: [LIB_ROOT + "tsnb/stdlib/index.d.ts"],
          "tsnb/nx": [LIB_ROOT + "tsnb/tensor/index.d.ts"],
        },
      };
      const read = (p: string): string | undefined =>
        p === file
          ? cell
          : (virtual.get(p) ?? (existsSync(p) ? readFileSync(p, "utf8") : undefined));
      const host = {
        getCompilationSettings: () => options,
        getScriptFileNames: () => [file, ...nodeFiles],
        getScriptVersion: (p: string) => (p === file ? String(version) : "1"),
        getScriptSnapshot: (p: string) => {
          const t = read(p);
          return t === undefined ? undefined : ts.ScriptSnapshot.fromString(t);
        },
        getCurrentDirectory: () => this.cwd,
        getDefaultLibFileName: () => LIB_ROOT + "lib.esnext.full.d.ts",
        fileExists: (p: string) => p === file || virtual.has(p) || existsSync(p),
        readFile: read,
        directoryExists: (p: string) => p.startsWith(LIB_ROOT) || existsSync(p),
        getDirectories: () => [],
      };
      const ls = ts.createLanguageService(host as never, ts.createDocumentRegistry());
      return {
        ts,
        ls,
        file,
        setCell: (text: string) => {
          if (text !== cell) {
            cell = text;
            version++;
          }
        },
      };
    })();
    return this.service;
  }
}
