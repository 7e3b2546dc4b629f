#!/usr/bin/env node
// Builds dist/ from the TypeScript sources with esbuild: the CLI and kernel for Node,
// the renderer for the browser, the Electron main and preload scripts.
// Usage: node scripts/build.js [--watch]. Entries whose source does not exist yet are skipped.
import * as esbuild from "esbuild";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const r = (p) => join(root, p);

/** @type {import("esbuild").BuildOptions[]} */
const targets = [
  {
    entryPoints: { cli: r("cli/main.ts"), kernel: r("kernel/main.ts") },
    outdir: r("dist"),
    platform: "node",
    format: "esm",
    target: "node20",
    bundle: true,
    packages: "external",
    sourcemap: "linked",
    outExtension: { ".js": ".mjs" },
    banner: {
      js: "import { createRequire as __tsnbCreateRequire } from 'node:module'; const require = __tsnbCreateRequire(import.meta.url);",
    },
  },
  // The notebook standard library that cells import: "tsnb" (stdlib/index.ts) and "tsnb/nx"
  // (tensor/index.ts). One build with code splitting, so both share one Tensor class.
  {
    entryPoints: { tsnb: r("stdlib/index.ts"), nx: r("tensor/index.ts") },
    outdir: r("dist/lib"),
    platform: "node",
    format: "esm",
    target: "node20",
    bundle: true,
    splitting: true,
    packages: "external",
    sourcemap: "linked",
    outExtension: { ".js": ".mjs" },
    banner: {
      js: "import { createRequire as __tsnbCreateRequire } from 'node:module'; const require = __tsnbCreateRequire(import.meta.url);",
    },
  },
  {
    entryPoints: { main: r("electron/main.ts") },
    outdir: r("dist/electron"),
    platform: "node",
    format: "cjs",
    target: "node20",
    bundle: true,
    packages: "external",
    external: ["electron"],
    sourcemap: "linked",
    outExtension: { ".js": ".cjs" },
    // server/static.ts finds the package from __filename in CJS and import.meta.url in ESM.
    logOverride: { "empty-import-meta": "silent" },
  },
  {
    entryPoints: { preload: r("electron/preload.ts") },
    outdir: r("dist/electron"),
    platform: "browser",
    format: "cjs",
    bundle: true,
    external: ["electron"],
    outExtension: { ".js": ".cjs" },
  },
];

// The renderer owns its own build (Monaco, workers, CSS, fonts) in renderer/build.js.
async function main() {
  const watch = process.argv.includes("--watch");
  mkdirSync(r("dist"), { recursive: true });
  for (const t of targets) {
    const entries = Object.fromEntries(
      Object.entries(t.entryPoints).filter(([, file]) => existsSync(file)),
    );
    if (Object.keys(entries).length === 0) continue;
    const options = { ...t, entryPoints: entries, logLevel: "warning" };
    if (watch) await (await esbuild.context(options)).watch();
    else await esbuild.build(options);
  }
  const rendererBuild = r("renderer/build.js");
  if (existsSync(rendererBuild)) {
    const { buildRenderer } = await import(rendererBuild);
    await buildRenderer({ watch });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
