// Builds the renderer (the web page) into dist/renderer/ with esbuild:
//   app.js (+ chunks/)      the page, ESM with code splitting: Monaco, vega-embed and KaTeX are
//                           separate chunks loaded on demand, so a notebook paints before they load
//   editor.worker.js,       Monaco's web workers, classic (iife) scripts created by
//   ts.worker.js            MonacoEnvironment.getWorker in renderer/editor.ts
//   app.css, assets/        styles (ours + Monaco's + KaTeX's) and the fonts they reference
//   index.html              a static page with no inline script (CSP-friendly)
//   export-view.js, .css    the viewer inlined into HTML exports (one script, fonts as data: URLs)
//   tsnb-lib.json           declarations of the notebook standard library for Monaco (optional:
//                           written when tsc can emit them)
//   node-types.json         Node's declarations (@types/node, undici-types) for the editor and
//                           `tsnb check`, so cells know process, Buffer, node:fs…
// Called by scripts/build.js as buildRenderer({ watch }).
import * as esbuild from "esbuild";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  rmSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "dist/renderer");
const monaco = join(root, "node_modules/monaco-editor/esm/vs");

/** @param {{watch?: boolean}} [options] */
export async function buildRenderer({ watch = false } = {}) {
  mkdirSync(out, { recursive: true });
  /** @type {import("esbuild").BuildOptions} */
  const page = {
    entryPoints: { app: join(here, "main.ts"), monaco: join(here, "monaco-entry.ts") },
    outdir: out,
    bundle: true,
    format: "esm",
    splitting: true,
    platform: "browser",
    target: "chrome120",
    minify: true,
    sourcemap: "linked",
    chunkNames: "chunks/[name]-[hash]",
    assetNames: "assets/[name]-[hash]",
    loader: { ".ttf": "file", ".woff": "file", ".woff2": "file", ".svg": "file" },
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  };
  /** @type {import("esbuild").BuildOptions} */
  const workers = {
    entryPoints: {
      "editor.worker": join(monaco, "editor/editor.worker.js"),
      "ts.worker": join(monaco, "languages/features/typescript/ts.worker.js"),
    },
    outdir: out,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "chrome120",
    minify: true,
    logLevel: "warning",
  };
  /**
   * The viewer of HTML exports (renderer/export-view.ts, core/format/html.ts): one classic script
   * and one stylesheet, both inlined into every exported file, so no chunks and fonts as data:
   * URLs (KaTeX's woff2 only: its woff and ttf fallbacks would triple the size and are never
   * fetched by a browser that reads woff2).
   */
  /** @type {import("esbuild").BuildOptions} */
  const exportView = {
    entryPoints: { "export-view": join(here, "export-view.ts") },
    outdir: out,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "chrome120",
    minify: true,
    charset: "utf8",
    legalComments: "none",
    loader: { ".woff2": "dataurl", ".svg": "dataurl" },
    define: { "process.env.NODE_ENV": '"production"' },
    plugins: [
      {
        name: "drop-font-fallbacks",
        setup(build) {
          build.onResolve({ filter: /\.(woff|ttf)$/ }, (args) => ({
            path: args.path,
            namespace: "dropped-font",
          }));
          build.onLoad({ filter: /.*/, namespace: "dropped-font" }, () => ({
            contents: "",
            loader: "dataurl",
          }));
        },
      },
    ],
    logLevel: "warning",
  };
  copyStatic();
  if (!watch && upToDate()) return;
  writeLibDeclarations();
  writeNodeTypes();
  if (watch) {
    await (await esbuild.context(page)).watch();
    await (await esbuild.context(workers)).watch();
    await (await esbuild.context(exportView)).watch();
  } else {
    const [result] = await Promise.all([
      esbuild.build({ ...page, metafile: true }),
      esbuild.build(workers),
      esbuild.build(exportView),
    ]);
    // Remove chunks of earlier builds only after this one is written: a page being loaded
    // meanwhile (tests, another build) never finds its chunks missing.
    const fresh = new Set(Object.keys(result.metafile?.outputs ?? {}).map((f) => join(root, f)));
    const chunks = join(out, "chunks");
    if (existsSync(chunks)) {
      for (const name of readdirSync(chunks)) {
        const p = join(chunks, name);
        if (!fresh.has(p)) rmSync(p, { force: true });
      }
    }
    writeFileSync(join(out, ".stamp"), String(newestSource()));
  }
}

function copyStatic() {
  copyFileSync(join(here, "index.html"), join(out, "index.html"));
  copyFileSync(join(here, "favicon.svg"), join(out, "favicon.svg"));
}

/** Newest mtime of the renderer's own sources and of what it bundles (core/, smart-cells/, …). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(ts|css|js|html|svg)$/.test(name)) newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const d of ["renderer", "core", "smart-cells", "stdlib", "tensor"]) walk(join(root, d));
  return Math.floor(newest);
}

/** The Monaco bundle takes ~10 s to build: skip it when nothing it depends on changed. */
function upToDate() {
  const stamp = join(out, ".stamp");
  if (
    !existsSync(stamp) ||
    !existsSync(join(out, "app.js")) ||
    !existsSync(join(out, "export-view.js")) ||
    !existsSync(join(out, "ts.worker.js")) ||
    !existsSync(join(out, "node-types.json"))
  )
    return false;
  return readFileSync(stamp, "utf8") === String(newestSource());
}

/**
 * Node's declarations as {path under node_modules: .d.ts text}: @types/node (without the
 * typesVersions folders for TypeScript before 5.7: the editor's TypeScript is newer) and
 * undici-types, which it imports. `{}` when @types/node is not installed.
 */
function writeNodeTypes() {
  /** @type {Record<string, string>} */
  const files = {};
  const walk = (dir, rel) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const r = `${rel}/${name}`;
      if (statSync(p).isDirectory()) {
        if (!/^ts\d/.test(name)) walk(p, r);
      } else if (name.endsWith(".d.ts")) files[r] = readFileSync(p, "utf8");
    }
  };
  for (const pkg of ["@types/node", "undici-types"]) {
    const dir = join(root, "node_modules", pkg);
    if (existsSync(dir)) walk(dir, pkg);
  }
  writeFileSync(join(out, "node-types.json"), JSON.stringify(files));
}

/**
 * Declarations of the notebook standard library ("tsnb", "tsnb/nx") for the editor, emitted by
 * tsc into a temp folder and written as {path: text} to tsnb-lib.json. Best effort: when the
 * library is missing or tsc fails, the editor simply knows nothing about it.
 */
function writeLibDeclarations() {
  const target = join(out, "tsnb-lib.json");
  const entries = [join(root, "stdlib/index.ts"), join(root, "tensor/index.ts")].filter(existsSync);
  if (entries.length === 0) {
    writeFileSync(target, "{}");
    return;
  }
  const tmp = join(root, "dist/.tsnb-lib-dts");
  rmSync(tmp, { recursive: true, force: true });
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const res = spawnSync(
    process.execPath,
    [
      tsc,
      "--declaration",
      "--emitDeclarationOnly",
      "--skipLibCheck",
      "--noCheck",
      "--ignoreConfig",
      "--target",
      "ES2022",
      "--module",
      "ESNext",
      "--moduleResolution",
      "Bundler",
      "--allowImportingTsExtensions",
      "--types",
      "node",
      "--rootDir",
      root,
      "--outDir",
      tmp,
      ...entries,
    ],
    { cwd: root, encoding: "utf8" },
  );
  /** @type {Record<string, string>} */
  const files = {};
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".d.ts"))
        files[relative(tmp, p).split("\\").join("/")] = readFileSync(p, "utf8");
    }
  };
  walk(tmp);
  rmSync(tmp, { recursive: true, force: true });
  if (Object.keys(files).length === 0 && res.status !== 0) {
    console.warn(
      "renderer: no declarations for the tsnb library (tsc failed); the editor will not know its types",
    );
  }
  writeFileSync(target, JSON.stringify(files));
}
