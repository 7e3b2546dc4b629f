/**
 * The append-only journal of a session's acknowledged edits, so that an edit a window saw
 * applied survives a crash of the server (SIGKILL, out of memory, power cut after the next
 * sync) even before the autosave wrote it.
 *
 * Owns: `<data>/journal/<key>.jsonl` — a header line `{"v":1,"file","fileHash","base"}` (the
 * notebook the entries apply to, as JSON with its cell ids — the ids the entries name, which a
 * `.tsnb` file does not keep — and the hash of the notebook's file when it held that notebook), then one line per document-changing operation a window made, as applied (a text delta
 * as transformed by the reducer), then `{"saving": HASH}` markers written just before a save
 * renames its file into place.
 *
 * Invariants:
 * - An entry is written (`writeSync`, one `write(2)` into the page cache) before the operation
 *   is broadcast: every acknowledged edit is in the journal when its window learns of it. A
 *   process crash cannot lose it; the file is also `fdatasync`ed within `SYNC_MS` (header and
 *   entries) for power loss.
 * - After a successful save of the document at `docRevision` D the journal is rewritten
 *   (atomically) on the saved notebook with only the entries after D (possibly none: the next
 *   edit then only appends). A journal without entries is removed when the session closes and
 *   ignored when a notebook is opened.
 * - Replay (`readJournal`) tolerates a torn last line (a crash in the middle of a write).
 */
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Operation } from "../core/session/operations.ts";
import type { Notebook } from "../core/notebook.ts";

/** Longest time an appended entry waits for `fdatasync`. */
export const SYNC_MS = 1000;

export interface JournalHeader {
  v: 1;
  /** The notebook file (absolute), or null for an unsaved notebook. */
  file: string | null;
  /** SHA-256 of the file's content when it held `base` (null: unknown / no file). */
  fileHash: string | null;
  /** The notebook the entries apply to (with its cell and section ids). */
  base: Notebook;
}

export interface JournalContent {
  header: JournalHeader;
  ops: Operation[];
  /** Hashes of contents a save was about to give the file (it may have, before the crash). */
  saving: string[];
}

/** The journal file's name for a notebook file or an unsaved notebook. */
export function journalKey(file: string | null, unsavedId: string): string {
  if (file === null) return `unsaved-${unsavedId}`;
  return createHash("sha256").update(file).digest("hex").slice(0, 32);
}

/** Read a journal; null when there is none (or its header is unreadable). */
export function readJournal(path: string): JournalContent | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  const lines = text.split("\n");
  let header: JournalHeader;
  try {
    header = JSON.parse(lines[0] ?? "") as JournalHeader;
    if (header.v !== 1 || typeof header.base !== "object" || header.base === null) return null;
  } catch {
    return null;
  }
  const ops: Operation[] = [];
  const saving: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      break; // a torn last line
    }
    if (entry && typeof entry === "object" && "saving" in entry)
      saving.push(String((entry as { saving: unknown }).saving));
    else if (entry && typeof entry === "object" && "type" in entry) ops.push(entry as Operation);
  }
  return { header, ops, saving };
}

export class Journal {
  private fd: number | null = null;
  private path: string;
  /** Entries since the base, with the document revision each one made. */
  private entries: Array<{ line: string; docRevision: number }> = [];
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dir: string,
    key: string,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.path = join(dir, `${key}.jsonl`);
  }

  get file(): string {
    return this.path;
  }

  /** Whether a journal is being written (there are edits the notebook's file lacks). */
  get started(): boolean {
    return this.fd !== null;
  }

  /** Start a journal on `header` (replacing any), with entries already applied (a recovery). */
  start(header: JournalHeader, entries: Array<{ op: Operation; docRevision: number }> = []): void {
    this.entries = entries.map((e) => ({ line: JSON.stringify(e.op), docRevision: e.docRevision }));
    this.rewrite(header);
  }

  /**
   * Write the journal whole (header + `entries`) and append to it from then on. Synchronous, so
   * no operation can arrive in between; a crash leaves the old journal or this one (rename).
   */
  private rewrite(header: JournalHeader): void {
    this.closeFd();
    mkdirSync(this.dir, { recursive: true });
    const text = [JSON.stringify(header), ...this.entries.map((e) => e.line), ""].join("\n");
    const tmp = `${this.path}.new`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, "a", 0o600);
    // Synced with the next entries, within SYNC_MS (a 3 MB header's fdatasync would hold the
    // event loop for tens of ms; a process crash needs none).
    this.scheduleSync();
  }

  /** Record an acknowledged operation (`docRevision`: the document revision it made). */
  append(op: Operation, docRevision: number): void {
    if (this.fd === null) throw new Error("journal not started");
    const line = JSON.stringify(op);
    writeSync(this.fd, line + "\n");
    this.entries.push({ line, docRevision });
    this.scheduleSync();
  }

  /** A save is about to give the file content with this hash. */
  markSaving(hash: string): void {
    if (this.fd === null) return;
    writeSync(this.fd, JSON.stringify({ saving: hash }) + "\n");
  }

  /**
   * The document at `docRevision` was saved as `base` (the file now has `fileHash`): keep only
   * later entries, on that base; none left: remove the journal. `key`: the journal moves (Save As).
   */
  saved(header: Omit<JournalHeader, "v">, docRevision: number, key?: string): void {
    const later = this.entries.filter((e) => e.docRevision > docRevision);
    const oldPath = this.path;
    if (key !== undefined) this.path = join(this.dir, `${key}.jsonl`);
    this.entries = later;
    // Rewritten even with no entries left: the next edit then only appends (no notebook-sized
    // write on a keystroke). A journal without entries is removed on close and ignored on open.
    this.rewrite({ v: 1, ...header });
    if (oldPath !== this.path) rmSync(oldPath, { force: true });
  }

  /** Forget the journal (the document was replaced by the file's content). */
  discard(): void {
    this.closeFd();
    this.entries = [];
    rmSync(this.path, { force: true });
  }

  /** Close the file, keeping it when it has entries (edits the notebook's file lacks stay recoverable). */
  close(): void {
    this.closeFd();
    if (this.entries.length === 0) rmSync(this.path, { force: true });
  }

  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.fd === null) return;
      try {
        fdatasyncSync(this.fd);
      } catch (e) {
        this.log(`journal sync failed: ${String(e)}`);
      }
    }, SYNC_MS);
    this.syncTimer.unref();
  }

  private closeFd(): void {
    if (this.syncTimer) {
      clearTimeout(this.syncTimer);
      this.syncTimer = null;
    }
    if (this.fd === null) return;
    try {
      fdatasyncSync(this.fd);
    } catch {
      // closing anyway
    }
    closeSync(this.fd);
    this.fd = null;
  }
}
