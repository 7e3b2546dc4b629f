/**
 * The TypeScript the editor uses, in Node: the language services Monaco ships (TypeScript 5.9;
 * the project's own `tsc` is TypeScript 7, which has no JavaScript language-service API), its
 * default libraries, and the declarations the editor is given (dist/renderer/tsnb-lib.json for
 * `tsnb`/`tsnb/nx`, dist/renderer/node-types.json for Node's globals and modules), read from
 * the same files the page fetches. Used by `tsnb check` (kernel/typecheck.ts) and the Jupyter
 * kernel's completion (kernel/jupyter-complete.ts).
 *
 * The services are about 10 MB of JavaScript: loaded on first use, once.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The part of TypeScript's API used here (the module ships without declarations). */
export interface DisplayPart {
  text: string;
}
export interface TsDiagnostic {
  file?: { fileName: string; text: string };
  start?: number;
  length?: number;
  code: number;
  /** 0 warning, 1 error, 2 suggestion, 3 message. */
  category: number;
  messageText: string | object;
}
export interface LanguageService {
  getCompletionsAtPosition(
    file: string,
    pos: number,
    options: object,
  ): { entries: { name: string; sortText: string }[] } | undefined;
  getQuickInfoAtPosition(
    file: string,
    pos: number,
  ): { displayParts?: DisplayPart[]; documentation?: DisplayPart[] } | undefined;
  getSyntacticDiagnostics(file: string): TsDiagnostic[];
  getSemanticDiagnostics(file: string): TsDiagnostic[];
  getCompilerOptionsDiagnostics(): TsDiagnostic[];
  getEmitOutput(
    file: string,
    emitOnlyDts?: boolean,
    forceDtsEmit?: boolean,
  ): { outputFiles: { name: string; text: string }[] };
}
export interface TS {
  createLanguageService(host: object, registry: unknown): LanguageService;
  createDocumentRegistry(): unknown;
  displayPartsToString(parts: DisplayPart[] | undefined): string;
  flattenDiagnosticMessageText(text: string | object | undefined, newLine: string): string;
  getLineAndCharacterOfPosition(
    file: { text: string },
    pos: number,
  ): { line: number; character: number };
  ScriptSnapshot: { fromString(text: string): unknown };
  ScriptTarget: { ESNext: number };
  ModuleKind: { ESNext: number };
  ModuleResolutionKind: { Bundler: number };
  ModuleDetectionKind: { Force: number };
  version: string;
}

const SERVICES = "monaco-editor/languages/features/typescript/lib/typescriptServices.js";
const LIBS = "monaco-editor/languages/features/typescript/lib/lib.js";

export interface TypeScriptKit {
  ts: TS;
  /** TypeScript's default libraries by file name (`lib.esnext.full.d.ts`, …). */
  libFileMap: Record<string, string>;
  /** `tsnb`'s declarations, {relative path: .d.ts} (dist/renderer/tsnb-lib.json). */
  library: Record<string, string>;
  /** Node's declarations, {path under node_modules: .d.ts} (dist/renderer/node-types.json). */
  nodeTypes: Record<string, string>;
}

let kit: Promise<TypeScriptKit> | null = null;
/** Load TypeScript and the declarations (once). */
export function loadTypeScript(): Promise<TypeScriptKit> {
  kit ??= (async () => {
    const ts = ((await import(SERVICES)) as { typescript: TS }).typescript;
    const { libFileMap } = (await import(LIBS)) as { libFileMap: Record<string, string> };
    return {
      ts,
      libFileMap,
      library: rendererJson("tsnb-lib.json"),
      nodeTypes: rendererJson("node-types.json"),
    };
  })();
  return kit;
}

/** A JSON file the renderer build writes (beside this bundle in dist/, or dist/ from source). */
function rendererJson(name: string): Record<string, string> {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, "renderer", name), join(here, "..", "dist", "renderer", name)]) {
    if (existsSync(p)) return JSON.parse(readFileSync(p, "utf8")) as Record<string, string>;
  }
  return {};
}
