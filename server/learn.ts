/**
 * The Learn section: the lessons shipped in `<package>/notebooks/` (listed, in order, with a
 * one-line summary each, by `notebooks/learn.json`) and the user's copies of them.
 *
 * Opening a lesson opens a copy in the served folder, `learn/NAME.tsnb`: made from the shipped
 * file the first time, the user's own (with their changes) after that. The originals are never
 * opened for editing, so they stay as shipped.
 *
 * Invariants: a lesson is named only by a file listed in the catalogue (never a path from the
 * renderer); the copy's path goes through `resolveInRoot` (no `..`, no link out of the served
 * folder, checked again at the write by `confinedRealPath`); an existing copy is never replaced.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Lesson } from "../core/app-protocol.ts";
import { importNotebook } from "../core/format/index.ts";
import { writeFileAtomic } from "./atomic-write.ts";
import { confinedRealPath, readRegularFile } from "./files.ts";
import { makeParentFolders, resolveInRoot } from "./paths.ts";

/** The folder, inside the served folder, that holds the user's copies. */
export const LEARN_FOLDER = "learn";

interface CatalogEntry {
  file: string;
  summary: string;
}

export class LessonError extends Error {
  constructor(
    readonly code: "not-found" | "io",
    message: string,
  ) {
    super(message);
  }
}

/** The shipped lessons: `<lessonsDir>/learn.json`, each with the title read from its file. */
export class LessonCatalog {
  private cached: Promise<Array<CatalogEntry & { title: string }>> | null = null;

  constructor(readonly lessonsDir: string) {}

  private entries(): Promise<Array<CatalogEntry & { title: string }>> {
    this.cached ??= (async () => {
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(join(this.lessonsDir, "learn.json"), "utf8"));
      } catch {
        return []; // a build without the lessons has an empty Learn section
      }
      const list = (raw as { lessons?: unknown }).lessons;
      if (!Array.isArray(list)) return [];
      const out: Array<CatalogEntry & { title: string }> = [];
      for (const e of list as Array<Record<string, unknown>>) {
        const file = e["file"];
        const summary = e["summary"];
        if (typeof file !== "string" || typeof summary !== "string") continue;
        if (!/^[\w.-]+\.tsnb$/.test(file)) continue;
        const text = await readFile(join(this.lessonsDir, file), "utf8").catch(() => null);
        if (text === null) continue;
        const parsed = importNotebook(text);
        out.push({ file, summary, title: parsed.ok ? parsed.notebook.title : file });
      }
      return out;
    })().catch((e: unknown) => {
      this.cached = null;
      throw e;
    });
    return this.cached;
  }

  /** The lessons, in order, with the path of the user's copy in `root` when there is one. */
  async list(root: string): Promise<Lesson[]> {
    const out: Lesson[] = [];
    for (const e of await this.entries()) {
      const rel = `${LEARN_FOLDER}/${e.file}`;
      let copy: string | null = null;
      try {
        const abs = await resolveInRoot(root, rel);
        if ((await stat(abs)).isFile()) copy = rel;
      } catch {
        copy = null;
      }
      out.push({ file: e.file, title: e.title, summary: e.summary, copy });
    }
    return out;
  }

  /**
   * The path (relative to `root`) of the user's copy of lesson `file`, made from the shipped
   * file when there is none yet. Refuses names that are not in the catalogue.
   */
  async ensureCopy(root: string, file: string): Promise<string> {
    const entry = (await this.entries()).find((e) => e.file === file);
    if (!entry) throw new LessonError("not-found", `there is no lesson '${file}'`);
    const rel = `${LEARN_FOLDER}/${entry.file}`;
    const target = await resolveInRoot(root, rel); // ForbiddenPathError: the caller reports it
    const exists = await stat(target).then(
      (s) => s.isFile(),
      () => false,
    );
    if (exists) return rel;
    const original = await readRegularFile(join(this.lessonsDir, entry.file));
    if (!original) throw new LessonError("not-found", `the lesson file ${entry.file} is missing`);
    await makeParentFolders(root, rel);
    await writeFileAtomic(target, original.bytes, {
      confine: async (t) => {
        await confinedRealPath(root, t);
      },
    });
    return rel;
  }
}
