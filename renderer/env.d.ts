// Module declarations for what esbuild bundles that TypeScript does not know.
declare module "*.css";

/** Monaco's TypeScript highlighting (Monarch tokens and language configuration), shipped untyped. */
declare module "monaco-editor/languages/definitions/typescript/typescript.js" {
  import type { languages } from "monaco-editor";
  export const conf: languages.LanguageConfiguration;
  export const language: languages.IMonarchLanguage;
}
