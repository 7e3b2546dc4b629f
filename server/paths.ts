/**
 * The served folder: turning a path a renderer sends into a file inside it, and listing it.
 *
 * Invariants: a path from a renderer is relative and "/"-separated; `resolveInRoot` never
 * returns a path outside the root — absolute paths, `..` segments, NUL bytes, backslashes and
 * symbolic links that lead outside (checked on the real path of the file, or of its nearest
 * existing parent for a file about to be created) are refused.
 */
import { mkdir, realpath, readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { FileEntry } from "../core/app-protocol.ts";

export class ForbiddenPathError extends Error {}

/** Extensions shown as notebooks in the file browser and accepted by open/save-as. */
export const NOTEBOOK_EXTENSIONS = [".tsnb", ".md"];

export function isNotebookName(name: string): boolean {
  const lower = name.toLowerCase();
  return NOTEBOOK_EXTENSIONS.some((e) => lower.endsWith(e));
}

function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The absolute path of `relPath` inside `root` (itself a real, absolute path). Throws
 * `ForbiddenPathError` when the path is malformed or leads outside the root.
 */
export async function resolveInRoot(root: string, relPath: string): Promise<string> {
  if (relPath.includes("\0")) throw new ForbiddenPathError("path contains a NUL byte");
  if (relPath.includes("\\")) throw new ForbiddenPathError("use '/' in paths");
  if (relPath.startsWith("/") || isAbsolute(relPath) || /^[a-zA-Z]:/.test(relPath))
    throw new ForbiddenPathError("absolute paths are not allowed");
  const parts = relPath.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw new ForbiddenPathError("'..' is not allowed in paths");
  const abs = join(root, ...parts);
  // Follow symbolic links of the file or of its nearest existing parent.
  let probe = abs;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!isInside(root, real))
        throw new ForbiddenPathError("the path leads outside the served folder");
      break;
    } catch (e) {
      if (e instanceof ForbiddenPathError) throw e;
      // Missing, or a part of it is a file: what counts is the nearest existing parent.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
      const parent = join(probe, "..");
      if (parent === probe || !isInside(root, parent)) break;
      probe = parent;
    }
  }
  return abs;
}

/**
 * Create the missing folders of `relPath`'s parent inside `root` (Save As into a new folder),
 * one level at a time; each level's real path must stay inside the root (a symbolic link met on
 * the way cannot lead the new folders outside). Throws `ForbiddenPathError` for a path that
 * leads outside, and an `Error` naming the part that is a file rather than a folder.
 */
export async function makeParentFolders(root: string, relPath: string): Promise<void> {
  await resolveInRoot(root, relPath); // the same refusals as every other path
  const parts = relPath.split("/").filter((p) => p !== "" && p !== ".");
  parts.pop();
  let dir = root;
  for (const [i, part] of parts.entries()) {
    dir = join(dir, part);
    try {
      await mkdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const real = await realpath(dir);
    if (!isInside(root, real))
      throw new ForbiddenPathError("the path leads outside the served folder");
    if (!(await stat(real)).isDirectory())
      throw new Error(`'${parts.slice(0, i + 1).join("/")}' is a file, not a folder`);
  }
}

/**
 * What went wrong with a file operation, in words, for messages shown to the user: never the
 * internal temp file's path that Node's message carries (`ENOENT … .x.tsnb.1a2b3c.tmp`).
 */
export function fileErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "its folder does not exist";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder";
    case "EISDIR":
      return "it is a folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "the disk is full";
    case "EDQUOT":
      return "the disk quota is exceeded";
    case "EROFS":
      return "the file system is read-only";
    case "ENAMETOOLONG":
      return "the name is too long";
    default:
      return code ? `the system refused (${code})` : "an unexpected error";
  }
}

/** The display path of an absolute path: relative ("/"-separated) inside the root, else absolute. */
export function displayPath(root: string, abs: string): string {
  return isInside(root, abs) ? relative(root, abs).split(sep).join("/") : abs;
}

/** List a folder of the root: folders first, then notebooks and other files, by name; dot files hidden. */
export async function listFolder(root: string, relPath: string): Promise<FileEntry[]> {
  const abs = await resolveInRoot(root, relPath);
  const names = await readdir(abs);
  const entries: FileEntry[] = [];
  for (const name of names) {
    if (name.startsWith(".") || name === "node_modules") continue;
    const child = join(abs, name);
    let st;
    try {
      const real = await realpath(child);
      if (!isInside(root, real)) continue;
      st = await stat(real);
    } catch {
      continue;
    }
    const kind: FileEntry["kind"] = st.isDirectory()
      ? "directory"
      : isNotebookName(name)
        ? "notebook"
        : "file";
    entries.push({
      name,
      path: displayPath(root, child),
      kind,
      size: st.size,
      mtimeMs: Math.round(st.mtimeMs),
    });
  }
  const rank = (k: FileEntry["kind"]) => (k === "directory" ? 0 : k === "notebook" ? 1 : 2);
  entries.sort((a, b) => rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name));
  return entries;
}
