/**
 * How the server touches notebook files: reading only regular files (a FIFO, device or folder
 * named `.tsnb` is refused before anything blocks on it), the read-only mode, confinement of a
 * path to a folder at the moment of use, and the clean-up of temp files that interrupted writes
 * left behind.
 *
 * Invariants: every open for reading is non-blocking and no-follow-safe: the file is opened with
 * `O_NONBLOCK` (opening a FIFO never waits for a writer) and checked with `fstat` on the open
 * handle (what is read is what was checked); reads are bounded (`MAX_NOTEBOOK_BYTES`).
 */
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, realpath, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { isAtomicWriteTemp } from "./atomic-write.ts";

/** Largest notebook file read (the importer handles 50 MB files; beyond this it is not a notebook). */
export const MAX_NOTEBOOK_BYTES = 256 * 1024 * 1024;

/** A temp file this much older than now is a leftover, not a write in progress (a write takes well under a second). */
export const TEMP_LEFTOVER_AGE_MS = 60_000;

/** A path that is not a regular file (FIFO, socket, device, folder). */
export class NotRegularFileError extends Error {
  readonly code = "ENOTREG";
}

/** A path that leads outside the folder it must stay in. */
export class OutsideFolderError extends Error {}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isDirectory()) return "a folder";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "not a regular file";
}

/**
 * Open `path` for reading if it is a regular file. Never blocks on a FIFO (`O_NONBLOCK`); the
 * check is made on the open handle, so the file cannot be swapped between check and read.
 * Resolves null when it does not exist.
 */
export async function openRegularFile(
  path: string,
): Promise<{ handle: FileHandle; stats: Stats } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new NotRegularFileError(`${path} is ${kindOf(stats)}, not a regular file`);
    if (stats.size > MAX_NOTEBOOK_BYTES)
      throw new Error(`${path} is too large for a notebook (${stats.size} bytes)`);
    return { handle, stats };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/** All bytes of an open file from its start (whatever its current position). */
export async function readAll(handle: FileHandle, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.max(64 * 1024, size - position + 1));
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    position += bytesRead;
    if (position > MAX_NOTEBOOK_BYTES) throw new Error("the file grew too large to read");
  }
  return Buffer.concat(chunks);
}

/** The bytes of a regular file (see `openRegularFile`), with its stats; null when it does not exist. */
export async function readRegularFile(
  path: string,
): Promise<{ bytes: Buffer; stats: Stats } | null> {
  const opened = await openRegularFile(path);
  if (!opened) return null;
  try {
    return { bytes: await readAll(opened.handle, opened.stats.size), stats: opened.stats };
  } finally {
    await opened.handle.close().catch(() => undefined);
  }
}

/** True when nobody may write the file by its mode bits (`chmod 444`); root ignores them, tsnb does not. */
export function isReadOnlyMode(mode: number): boolean {
  return (mode & 0o222) === 0;
}

export function isInside(folder: string, p: string): boolean {
  const rel = relative(folder, p);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * The real path `path` leads to now (its links followed; for a file not yet created, its nearest
 * existing parent's), checked to be inside `folder` (itself a real path). Throws
 * `OutsideFolderError` otherwise. Called at every read and write, not only when a path arrives:
 * a link swapped in after opening is caught at the next use.
 */
export async function confinedRealPath(folder: string, path: string): Promise<string> {
  let probe = path;
  let tail = "";
  for (;;) {
    try {
      const real = join(await realpath(probe), tail);
      if (!isInside(folder, real))
        throw new OutsideFolderError(
          `${path} leads outside the served folder (to ${real}): refused`,
        );
      return real;
    } catch (e) {
      if (e instanceof OutsideFolderError) throw e;
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      const parent = dirname(probe);
      if (parent === probe) throw e;
      tail = join(basename(probe), tail);
      probe = parent;
    }
  }
}

/**
 * Remove temp files that interrupted `writeFileAtomic` calls left in `dir` (`.NAME.HEX.tmp`),
 * only those older than `TEMP_LEFTOVER_AGE_MS` (a younger one may be a write in progress by
 * another process) and, when `forName` is given, only those of that file. Returns the removed
 * names. Never throws (a folder that cannot be read has nothing to clean).
 */
export async function removeWriteLeftovers(
  dir: string,
  forName?: string,
  now = Date.now(),
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!isAtomicWriteTemp(name)) continue;
    if (forName !== undefined && !name.startsWith(`.${forName}.`)) continue;
    const p = join(dir, name);
    try {
      const st = await lstat(p);
      if (!st.isFile() || now - st.mtimeMs < TEMP_LEFTOVER_AGE_MS) continue;
      await unlink(p);
      removed.push(name);
    } catch {
      continue;
    }
  }
  return removed;
}
