/**
 * Serving the renderer's built files (`dist/renderer/`, entry `index.html`), and a placeholder
 * page while they have not been built.
 *
 * Invariant: only files inside the static folder are served (no `..`, no symlinks out).
 */
import { createReadStream, existsSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, extname, join, relative, isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";

const MIME: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".ttf": "font/ttf",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

/** The project's root folder (where package.json is), from this module's location in source or in dist/. */
export function packageRoot(): string {
  const here = typeof __filename === "string" ? __filename : fileURLToPath(import.meta.url);
  let dir = dirname(here);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tsnb</title></head>
<body><h1>tsnb</h1><p>The notebook server is running, but the app's page has not been built
(<code>dist/renderer/index.html</code> is missing). Run <code>npm run build</code> or
<code>node scripts/build.js</code>, then reload.</p></body></html>
`;

/** Serve `urlPath` from `dir`; "/" is index.html. Returns false when there is no such file (the caller answers 404). */
export async function serveStatic(
  dir: string,
  urlPath: string,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<boolean> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  if (rel === "/" || rel === "") rel = "/index.html";
  if (rel.includes("\0") || rel.split("/").includes("..")) return false;
  const file = join(dir, rel);
  try {
    const realDir = await realpath(dir);
    const real = await realpath(file);
    const r = relative(realDir, real);
    if (r.startsWith("..") || isAbsolute(r)) return false;
    const st = await stat(real);
    if (!st.isFile()) return false;
    res.writeHead(200, {
      ...headers,
      "Content-Type": MIME[extname(real).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": String(st.size),
    });
    createReadStream(real).pipe(res);
    return true;
  } catch {
    if (rel === "/index.html") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" });
      res.end(PLACEHOLDER);
      return true;
    }
    return false;
  }
}
