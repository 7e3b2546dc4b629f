/**
 * Atomic file replacement for saving notebooks (`tsnb run --write`, the server's save and
 * autosave).
 *
 * Owns: `writeFileAtomic`. The data goes to a temporary file in the target's directory, is
 * flushed to disk (fsync), then renamed over the target, and the directory is fsynced so the
 * rename itself survives a power cut. A crash at any moment leaves either the old file or the
 * new one, never a truncated mix.
 *
 * Invariants: the temp file is `.<name>.<random>.tmp` next to the target (same file system, so
 * rename is atomic); it is removed when anything fails; an existing target keeps its permission
 * bits; a symlink target is followed (the file it points to is replaced, the link stays).
 * A process killed between creating and renaming the temp file leaves that temp file behind
 * (it never replaces the target); `isAtomicWriteTemp` recognises such leftovers (the server
 * removes old ones: `removeWriteLeftovers` in server/files.ts). Callers may check the target
 * just before the rename and right after it (`beforeRename`), and confine it to a folder.
 */

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, realpath, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** True for the name of a temp file that `writeFileAtomic` creates (e.g. a leftover after a crash). */
export function isAtomicWriteTemp(name: string): boolean {
  return /^\..+\.[0-9a-f]{12}\.tmp$/.test(name);
}

/** Where the data really goes: the file a symlink points to, or the path itself. */
async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return path;
    throw e;
  }
}

export interface AtomicWriteOptions {
  /**
   * Called when the new content is on disk in the temp file, just before the rename: throw to
   * give up (the temp file is removed, the target untouched). What it returns is called right
   * after the rename (e.g. to check that nobody wrote into the replaced file meanwhile).
   */
  beforeRename?: (target: string) => Promise<(() => Promise<void>) | void>;
  /** A real folder the target must be in after its links are followed (checked again just before the rename). */
  confine?: (target: string) => Promise<void>;
}

/** Replace `path` with `data` atomically (see the module comment). Strings are written as UTF-8. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const target = await resolveTarget(path);
  await options.confine?.(target);
  const dir = dirname(target);
  let mode = 0o666; // umask applies, as for a plain writeFile
  let keepMode = false;
  try {
    const st = await stat(target);
    mode = st.mode & 0o7777;
    keepMode = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle: FileHandle | null = null;
  let afterRename: (() => Promise<void>) | null = null;
  try {
    handle = await open(
      temp,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW,
      mode,
    );
    await handle.writeFile(data);
    if (keepMode) await handle.chmod(mode); // open's mode is filtered by the umask
    await handle.sync();
    await handle.close();
    handle = null;
    await options.confine?.(target);
    afterRename = (await options.beforeRename?.(target)) ?? null;
    await rename(temp, target);
  } catch (e) {
    if (handle) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDirectory(dir);
  await afterRename?.();
}

/**
 * fsync a directory so the rename in it is durable. Best effort: the file is already in place,
 * and some platforms (Windows) cannot open a directory for syncing.
 */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | null = null;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // ignore: see above
  } finally {
    await handle?.close().catch(() => {});
  }
}
