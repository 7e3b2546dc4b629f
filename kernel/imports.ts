/**
 * How a cell's `import` finds modules. Rewritten imports call `tsnb$i(specifier)` (see
 * kernel/compile.ts), which resolves, in order:
 *   - "tsnb" and "tsnb/nx": the notebook standard library bundled next to the kernel
 *     (dist/lib/tsnb.mjs, dist/lib/nx.mjs), loaded on first import;
 *   - Node built-ins ("fs", "node:fs");
 *   - relative and absolute paths, against the notebook's folder (the kernel's cwd); TypeScript
 *     files are bundled with esbuild first;
 *   - `npm:NAME@RANGE/SUBPATH`: installed into the shared npm cache when needed (kernel/npm.ts);
 *   - packages: from the notebook's folder upwards (node_modules); then, when the folder's
 *     package.json lists the package, from the npm cache (installed as for `npm:`); then from the
 *     app's own node_modules (what the kernel itself can import).
 * Modules are cached per resolved URL, like ES modules are.
 */

import { builtinModules, createRequire } from "node:module";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { NpmError, ensurePackage, packageJsonRange, parseNpmSpecifier } from "./npm.ts";

const kernelUrl = import.meta.url;

/** Specifiers of the standard library and their bundle file names next to the kernel. */
const STDLIB: Record<string, string> = { tsnb: "./lib/tsnb.mjs", "tsnb/nx": "./lib/nx.mjs" };

const builtins = new Set(builtinModules);

/** The notebook's folder: where relative specifiers and packages are resolved from. */
export function notebookDir(): string {
  return process.cwd();
}

/** The notebook file of the evaluation that imports (as the request named it), for messages. */
let importingFile: string | undefined;
export function setImportingFile(file: string | undefined): void {
  importingFile = file;
}

/**
 * A cell's `import` / `import()`. A failure is reported where the cell imports: the error's stack
 * is the cell's call site (Node's loader error has no frame of the cell, only its own), and its
 * message names the notebook rather than the kernel bundle, with what to do about it.
 */
export function importModule(specifier: string, column?: number): Promise<unknown> {
  // Captured now, while the cell's code is on the stack.
  let site = new Error().stack ?? "";
  // An import statement: its frame points at the statement's start, not into the rewritten code.
  if (typeof column === "number")
    site = site.replace(/(tsnbcell:\/\/\/\d+:\d+:)\d+/, (_m, pre: string) => `${pre}${column + 1}`);
  return loadModule(specifier).catch((err: unknown) => {
    throw importError(err, specifier, site);
  });
}

function importError(err: unknown, specifier: string, site: string): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const from = importingFile ? join(notebookDir(), basename(importingFile)) : notebookDir();
  let message = err.message;
  const bare = !specifier.startsWith(".") && !isAbsolute(specifier) && !/^[a-z]+:/.test(specifier);
  if (code === "ERR_MODULE_NOT_FOUND" && bare) {
    const name = specifier.startsWith("@")
      ? specifier.split("/").slice(0, 2).join("/")
      : specifier.split("/")[0]!;
    message =
      `Cannot find package '${name}' imported from ${from}. ` +
      `Install it in the notebook's folder: cd ${notebookDir()} && npm install ${name}`;
  } else if (
    (code === "ERR_MODULE_NOT_FOUND" && !bare) ||
    /Could not resolve|ENOENT/.test(err.message)
  ) {
    message = `Cannot find module '${specifier}' imported from ${from}`;
  } else if (/kernel\.mjs/.test(message)) {
    message = message.replace(/\S*kernel\.mjs/g, from);
  }
  const e = new Error(message) as Error & { code?: string; cause?: unknown };
  e.name = err.name;
  if (code) e.code = code;
  e.cause = err;
  // The cell's frames (where it imports) under the loader's own (hidden as library frames).
  const frames = site.split("\n").filter((l) => /^\s+at /.test(l));
  const own = (err.stack ?? "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l) && !l.includes("tsnbcell:///"));
  e.stack = [`${e.name}: ${message}`, ...own, ...frames].join("\n");
  return e;
}

function loadModule(specifier: string): Promise<unknown> {
  if (typeof specifier !== "string")
    return Promise.reject(new TypeError("import specifier must be a string"));
  const std = STDLIB[specifier];
  if (std) return import(new URL(std, kernelUrl).href);
  if (
    specifier.startsWith("node:") ||
    builtins.has(specifier) ||
    builtins.has(specifier.split("/")[0]!)
  ) {
    return import(specifier);
  }
  if (specifier.startsWith("file:") || specifier.startsWith("data:")) return import(specifier);
  if (specifier.startsWith(".") || isAbsolute(specifier)) {
    const path = resolvePath(notebookDir(), specifier);
    if (/\.(m|c)?tsx?$/.test(path)) return importTypeScript(path);
    // JSON without import attributes (esbuild keeps `with { type: "json" }`, the rewrite drops it).
    if (path.endsWith(".json"))
      return Promise.resolve().then(() => ({ default: JSON.parse(readFileSync(path, "utf8")) }));
    return import(pathToFileURL(path).href);
  }
  if (specifier.startsWith("npm:")) return importNpm(specifier);
  const local = resolvePackage(specifier, notebookDir());
  if (local) return import(pathToFileURL(local).href);
  // Listed in the notebook folder's package.json but not installed there: from the npm cache.
  const parsed = parseNpmSpecifier(`npm:${specifier}`);
  if (typeof parsed !== "string") {
    const range = packageJsonRange(notebookDir(), parsed.name);
    if (range !== null && isRegistryRange(range))
      return importNpm(`npm:${parsed.name}@${range}${parsed.subpath}`);
  }
  // The app's packages (resolved relative to the kernel bundle).
  return import(specifier);
}

/** A package.json range the registry answers (not a file:, git or URL dependency). */
function isRegistryRange(range: string): boolean {
  return (
    !/^(file|link|git|git\+[a-z]+|https?|github|npm|workspace):/i.test(range) &&
    !range.includes("/")
  );
}

/** `npm:NAME@RANGE/SUBPATH`: installed into the npm cache when needed (kernel/npm.ts), then imported. */
async function importNpm(specifier: string): Promise<unknown> {
  const spec = parseNpmSpecifier(specifier);
  if (typeof spec === "string") throw new NpmError(spec, "EINVALID");
  const dir = await ensurePackage(spec);
  const entry = resolvePackage(spec.name + spec.subpath, dir);
  if (!entry)
    throw new NpmError(
      `npm:${spec.name}${spec.subpath}: the package has no entry point${spec.subpath ? ` '${spec.subpath}'` : ""}`,
      "ENOENTRY",
    );
  return import(pathToFileURL(entry).href);
}

/** Resolve a bare specifier from `dir` upwards, preferring the package's ESM entry. */
export function resolvePackage(specifier: string, dir: string): string | null {
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
  const subpath = "." + specifier.slice(name.length);
  for (let d = resolvePath(dir); ; d = dirname(d)) {
    const pkgDir = join(d, "node_modules", name);
    const pkgJson = join(pkgDir, "package.json");
    if (existsSync(pkgJson)) {
      const pkg = JSON.parse(readFileSync(pkgJson, "utf8")) as Record<string, unknown>;
      const target = exportTarget(pkg.exports, subpath);
      if (target) return join(pkgDir, target);
      try {
        return createRequire(join(d, "noop.js")).resolve(specifier);
      } catch {
        return null;
      }
    }
    if (dirname(d) === d) return null;
  }
}

const CONDITIONS = ["import", "node", "module", "default", "require"];

function exportTarget(exports: unknown, subpath: string): string | null {
  if (exports === undefined || exports === null) return null;
  if (typeof exports === "string") return subpath === "." ? exports : null;
  if (Array.isArray(exports)) {
    for (const e of exports) {
      const t = exportTarget(e, subpath);
      if (t) return t;
    }
    return null;
  }
  if (typeof exports !== "object") return null;
  const map = exports as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.length && keys.every((k) => !k.startsWith("."))) {
    // Conditions object for ".".
    if (subpath !== ".") return null;
    return pickCondition(map);
  }
  const entry = map[subpath];
  if (entry !== undefined)
    return typeof entry === "string" ? entry : pickCondition(entry as Record<string, unknown>);
  for (const key of keys) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const pre = key.slice(0, star);
    const post = key.slice(star + 1);
    if (subpath.startsWith(pre) && subpath.endsWith(post)) {
      const mid = subpath.slice(pre.length, subpath.length - post.length);
      const t =
        typeof map[key] === "string"
          ? (map[key] as string)
          : pickCondition(map[key] as Record<string, unknown>);
      return t ? t.replace("*", mid) : null;
    }
  }
  return null;
}

function pickCondition(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = pickCondition(v);
      if (t) return t;
    }
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const map = value as Record<string, unknown>;
  for (const c of CONDITIONS) if (map[c] !== undefined) return pickCondition(map[c]);
  return null;
}

let tsOutDir: string | null = null;
const tsCache = new Map<string, Promise<unknown>>();

/** Bundle a local TypeScript module with esbuild (its packages stay external) and import it. */
function importTypeScript(path: string): Promise<unknown> {
  let p = tsCache.get(path);
  if (!p) {
    p = (async () => {
      const esbuild = await import("esbuild");
      const out = await esbuild.build({
        entryPoints: [path],
        bundle: true,
        format: "esm",
        platform: "node",
        target: "node20",
        packages: "external",
        write: false,
        sourcemap: "inline",
        logLevel: "silent",
        absWorkingDir: dirname(path),
      });
      tsOutDir ??= mkdtempSync(join(tmpdir(), "tsnb-ts-"));
      // Next to the source would resolve its packages right, but must not litter the notebook
      // folder: externals are resolved from the temp file, so rewrite them to absolute URLs.
      let code = out.outputFiles[0]!.text;
      code = code.replace(
        /(from\s*|import\s*\(?\s*)(["'])([^"'./][^"']*)\2/g,
        (m, pre: string, q: string, spec: string) => {
          if (spec.startsWith("node:") || builtins.has(spec.split("/")[0]!)) return m;
          const resolved = resolvePackage(spec, dirname(path));
          return resolved ? `${pre}${q}${pathToFileURL(resolved).href}${q}` : m;
        },
      );
      const file = join(tsOutDir, `${tsCache.size}-${Date.now()}.mjs`);
      writeFileSync(file, code);
      return import(pathToFileURL(file).href);
    })();
    tsCache.set(path, p);
  }
  return p;
}

/** `import.meta` inside a cell: the notebook folder stands in for the module's location. */
export function importMeta(file: string | undefined): {
  url: string;
  dirname: string;
  filename: string;
} {
  // `file` may be a display path relative to another folder (tsnb run's argument): the notebook
  // is in the kernel's cwd in any case.
  const filename = file
    ? isAbsolute(file)
      ? file
      : join(notebookDir(), basename(file))
    : join(notebookDir(), "notebook.tsnb");
  return { url: pathToFileURL(filename).href, dirname: dirname(filename), filename };
}

/** CommonJS `require` for cells (and TypeScript's `import x = require("y")`), from the notebook's folder. */
export function notebookRequire(): NodeJS.Require {
  return createRequire(join(notebookDir(), "notebook.cjs"));
}
