// The journal of acknowledged edits, case by case (the SIGKILL run is journal-crash.test.ts):
// a server that stops without saving (as after a crash: a second server opens the same folders
// while the first never wrote) finds the edits in the journal; a save leaves no journal; a file
// changed by another program meanwhile raises the changed-on-disk choice with both sides kept;
// a read-only notebook keeps its edits across a restart; an unsaved notebook is offered back
// with its edits.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startServer, type RunningServer } from "../../server/server.ts";
import { readJournal } from "../../server/journal.ts";
import { fakeKernelFactory } from "./fake-kernel.ts";
import { Client, tempDir } from "./helpers.ts";

const NB = "# J\n\n## One\n\n```ts\nconst a = 1;\n```\n";

async function server(root: string, dataDir: string, autosaveMs = 60_000): Promise<RunningServer> {
  return startServer({
    root,
    dataDir,
    autosaveMs,
    autosaveMaxMs: autosaveMs,
    kernelFactory: fakeKernelFactory(),
  });
}

async function setup() {
  const t = await tempDir("tsnb-journal-");
  const root = join(t.dir, "root");
  const dataDir = join(t.dir, "data");
  await mkdir(root);
  await writeFile(join(root, "j.tsnb"), NB);
  return { ...t, root, dataDir };
}

/** Open j.tsnb, type `text` at the end of the first cell and add a Markdown cell; resolve once both are acknowledged. */
async function edit(s: RunningServer, text: string): Promise<{ c: Client; sessionId: string }> {
  const c = await Client.connect(s);
  c.send({ type: "open-file", path: "j.tsnb" });
  const { sessionId, snapshot } = await c.next("joined");
  const cell = snapshot.notebook.sections[0]!.cells[0]!;
  c.send({
    type: "apply",
    sessionId,
    op: {
      type: "apply-cell-delta",
      cellId: cell.id,
      delta: [cell.source.length, text],
      revision: snapshot.cells[cell.id]!.sourceRevision,
    },
  });
  await c.applied("apply-cell-delta");
  c.send({
    type: "apply",
    sessionId,
    op: {
      type: "insert-cell",
      sectionId: snapshot.notebook.sections[0]!.id,
      index: 1,
      cellType: "markdown",
      cellId: "notes",
      source: `notes ${text}`,
    },
  });
  await c.applied("insert-cell");
  return { c, sessionId };
}

describe("the journal of acknowledged edits", () => {
  test("edits acknowledged but never saved come back when the notebook is opened after a crash", async () => {
    const t = await setup();
    const crashed = await server(t.root, t.dataDir);
    const again = await server(t.root, t.dataDir);
    try {
      await edit(crashed, "\nconst b = 2;");
      assert.equal(await readFile(join(t.root, "j.tsnb"), "utf8"), NB, "not saved yet");
      assert.equal((await readdir(join(t.dataDir, "journal"))).length, 1);
      const c = await Client.connect(again);
      c.send({ type: "open-file", path: "j.tsnb" });
      const { sessionId, snapshot } = await c.next("joined");
      const cells = snapshot.notebook.sections[0]!.cells;
      assert.equal(cells[0]!.source, "const a = 1;\nconst b = 2;");
      assert.equal(cells[1]!.source, "notes \nconst b = 2;");
      assert.equal(snapshot.dirty, true, "recovered edits are unsaved changes");
      assert.equal(snapshot.diskConflict, null);
      // …and a save writes them, after which no journal is left.
      c.send({ type: "save", sessionId });
      await c.next("done");
      assert.match(await readFile(join(t.root, "j.tsnb"), "utf8"), /const b = 2;/);
      const left = await readdir(join(t.dataDir, "journal"));
      for (const f of left)
        assert.deepEqual(
          readJournal(join(t.dataDir, "journal", f))?.ops ?? [],
          [],
          "no edit left to replay",
        );
    } finally {
      await again.close();
      await crashed.close().catch(() => undefined);
      await t.cleanup();
    }
  });

  test("a file another program changed before the reopen: the recovered edits and the choice, neither side lost", async () => {
    const t = await setup();
    const crashed = await server(t.root, t.dataDir);
    const again = await server(t.root, t.dataDir);
    try {
      await edit(crashed, " // mine");
      const theirs = NB.replace("const a = 1;", "const a = 100; // theirs");
      await writeFile(join(t.root, "j.tsnb"), theirs);
      const c = await Client.connect(again);
      c.send({ type: "open-file", path: "j.tsnb" });
      const { sessionId, snapshot } = await c.next("joined");
      assert.equal(snapshot.notebook.sections[0]!.cells[0]!.source, "const a = 1; // mine");
      assert.ok(snapshot.diskConflict, "the changed-on-disk choice is raised");
      assert.equal(
        await readFile(join(t.root, "j.tsnb"), "utf8"),
        theirs,
        "theirs is not overwritten",
      );
      c.send({ type: "resolve-conflict", sessionId, choice: "keep-mine" });
      await c.next("done");
      assert.match(await readFile(join(t.root, "j.tsnb"), "utf8"), /const a = 1; \/\/ mine/);
    } finally {
      await again.close();
      await crashed.close().catch(() => undefined);
      await t.cleanup();
    }
  });

  test("a read-only notebook keeps its edits across a restart (in the journal), and Save As writes them", async () => {
    const t = await setup();
    await chmod(join(t.root, "j.tsnb"), 0o444);
    const first = await server(t.root, t.dataDir, 50);
    try {
      const { c } = await edit(first, " // kept");
      await c.next("error", (m) => m.code === "read-only");
      await first.close();
      const again = await server(t.root, t.dataDir);
      try {
        const d = await Client.connect(again);
        d.send({ type: "open-file", path: "j.tsnb" });
        const { sessionId, snapshot } = await d.next("joined");
        assert.equal(snapshot.notebook.sections[0]!.cells[0]!.source, "const a = 1; // kept");
        d.send({ type: "save-as", sessionId, path: "copy.tsnb" });
        await d.next("done");
        assert.match(await readFile(join(t.root, "copy.tsnb"), "utf8"), /\/\/ kept/);
        assert.equal(await readFile(join(t.root, "j.tsnb"), "utf8"), NB);
      } finally {
        await again.close();
      }
    } finally {
      await t.cleanup();
    }
  });

  test("an unsaved notebook is offered back after a crash with every acknowledged edit", async () => {
    const t = await setup();
    const crashed = await server(t.root, t.dataDir);
    const again = await server(t.root, t.dataDir);
    try {
      const c = await Client.connect(crashed);
      c.send({ type: "new-notebook" });
      const { sessionId, snapshot } = await c.next("joined");
      const sectionId = snapshot.notebook.sections[0]!.id;
      c.send({ type: "apply", sessionId, op: { type: "set-title", title: "Draft" } });
      for (let i = 0; i < 5; i++)
        c.send({
          type: "apply",
          sessionId,
          op: {
            type: "insert-cell",
            sectionId,
            index: i,
            cellType: "code",
            cellId: `k${i}`,
            source: `${i}`,
          },
        });
      for (let i = 0; i < 5; i++) await c.applied("insert-cell");
      const d = await Client.connect(again);
      const draft = d.welcome!.recovered.find((r) => r.title === "Draft");
      assert.ok(draft, "offered for recovery");
      d.send({ type: "open-recovered", id: draft.id });
      const joined = await d.next("joined");
      const sources = joined.snapshot.notebook.sections[0]!.cells.map((x) => x.source);
      assert.deepEqual(sources.slice(0, 5), ["0", "1", "2", "3", "4"]);
    } finally {
      await again.close();
      await crashed.close().catch(() => undefined);
      await t.cleanup();
    }
  });
});
