import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, readdir, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importNotebook } from "../../core/format/index.ts";
import { Client, testServer, type TestServer } from "./helpers.ts";
import { startServer } from "../../server/server.ts";
import WebSocket from "ws";
import { fakeKernelFactory } from "./fake-kernel.ts";

const NOTEBOOK = `# Demo

## Start

\`\`\`ts
out hello
define x
result done
\`\`\`

\`\`\`ts
use x
out second
\`\`\`
`;

function codeCellIds(c: Client, sessionId: string): string[] {
  const d = c.copies.get(sessionId)!;
  return d.notebook.sections
    .flatMap((s) => s.cells)
    .filter((x) => x.type === "code")
    .map((x) => x.id);
}

async function openDemo(t: TestServer, c: Client, name = "demo.tsnb"): Promise<string> {
  await writeFile(join(t.root, name), NOTEBOOK);
  c.send({ type: "open-file", path: name, requestId: "o" });
  return (await c.next("joined")).sessionId;
}

describe("server sessions over WebSocket", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer();
  });
  after(async () => {
    await t.close();
  });

  test("two windows on one notebook see each other's edits and outputs, in the same order", async () => {
    const a = await Client.connect(t.server);
    const b = await Client.connect(t.server);
    const sessionId = await openDemo(t, a);
    b.send({ type: "open-file", path: "demo.tsnb" });
    assert.equal((await b.next("joined")).sessionId, sessionId, "one session per file");

    const [first] = codeCellIds(a, sessionId);
    a.send({
      type: "apply",
      sessionId,
      op: { type: "set-cell-source", cellId: first, source: "out edited\ndefine x" },
    });
    const seen = await b.applied("set-cell-source");
    assert.equal(seen.op.clientId, a.clientId);
    b.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: first } });
    await a.applied("evaluation-finished");
    await b.applied("evaluation-finished");
    for (const c of [a, b]) {
      const cell = c.copies.get(sessionId)!.cells[first!]!;
      assert.deepEqual(cell.outputs, [{ type: "terminal", stream: "stdout", text: "edited\n" }]);
      assert.equal(cell.status.type, "done");
    }
    assert.deepEqual(a.copies.get(sessionId), b.copies.get(sessionId));
    a.close();
    b.close();
  });

  test("concurrent edits from two windows are put in one order that every copy agrees on", async () => {
    const a = await Client.connect(t.server);
    const b = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "race.tsnb");
    b.send({ type: "join", sessionId });
    await b.next("joined");
    const sectionId = a.copies.get(sessionId)!.notebook.sections[0]!.id;
    const [first] = codeCellIds(a, sessionId);
    for (let i = 0; i < 40; i++) {
      a.send({
        type: "apply",
        sessionId,
        op: { type: "set-cell-source", cellId: first, source: `a${i}` },
      });
      b.send({
        type: "apply",
        sessionId,
        op: { type: "set-cell-source", cellId: first, source: `b${i}` },
      });
      b.send({
        type: "apply",
        sessionId,
        op: { type: "insert-cell", sectionId, index: 0, cellType: "markdown", cellId: `bm${i}` },
      });
      a.send({
        type: "apply",
        sessionId,
        op: { type: "move-cell", cellId: first, offset: i % 2 ? 1 : -1 },
      });
    }
    const fresh = await Client.connect(t.server);
    // A window joining after all 160 operations were applied sees the same state as the two that applied them.
    await a.next("applied", (m) => m.revision >= 160);
    await b.next("applied", (m) => m.revision >= 160);
    fresh.send({ type: "join", sessionId });
    const { snapshot } = await fresh.next("joined");
    assert.equal(snapshot.revision, 160);
    assert.deepEqual(a.copies.get(sessionId), snapshot);
    assert.deepEqual(b.copies.get(sessionId), snapshot);
    const source = snapshot.notebook.sections
      .flatMap((s) => s.cells)
      .find((c) => c.id === first)!.source;
    assert.match(source, /^[ab]39$/, "the last writer wins");
    for (const c of [a, b, fresh]) c.close();
  });

  test("requests sent right after hello are answered after the welcome", async () => {
    await writeFile(join(t.root, "eager.tsnb"), NOTEBOOK);
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws`, {
      headers: { Authorization: `Bearer ${t.server.token}` },
    });
    const types: string[] = [];
    ws.on("message", (d) => types.push(JSON.parse(d.toString()).type));
    await new Promise((r) => ws.once("open", r));
    ws.send(JSON.stringify({ type: "hello", protocolVersion: 1 }));
    ws.send(JSON.stringify({ type: "open-file", path: "eager.tsnb" }));
    for (let i = 0; i < 100 && types.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(types.slice(0, 2), ["welcome", "joined"]);
    ws.close();
  });

  test("a window that reconnects gets the outputs produced while it was away", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "away.tsnb");
    const clientId = a.clientId;
    a.close();
    const other = await Client.connect(t.server);
    other.send({ type: "join", sessionId });
    await other.next("joined");
    other.send({ type: "apply", sessionId, op: { type: "evaluate-all" } });
    await other.applied(
      "evaluation-finished",
      (op) => op.cellId === codeCellIds(other, sessionId)[1],
    );
    const back = await Client.connect(t.server, { clientId, sessionId });
    assert.equal(back.clientId, clientId, "the window keeps its id");
    const joined = await back.next("joined");
    const [c1, c2] = codeCellIds(back, sessionId);
    assert.deepEqual(joined.snapshot.cells[c1!]!.outputs[0], {
      type: "terminal",
      stream: "stdout",
      text: "hello\n",
    });
    assert.deepEqual(joined.snapshot.cells[c2!]!.outputs[0], {
      type: "terminal",
      stream: "stdout",
      text: "second\n",
    });
    back.close();
    other.close();
  });

  test("a duplicated window asking for a live window's id gets its own id, so both keep receiving", async () => {
    const a = await Client.connect(t.server);
    const dup = await Client.connect(t.server, { clientId: a.clientId });
    assert.notEqual(dup.clientId, a.clientId);
    const sessionId = await openDemo(t, a, "dup.tsnb");
    dup.send({ type: "join", sessionId });
    await dup.next("joined");
    dup.send({ type: "apply", sessionId, op: { type: "set-title", title: "Both see it" } });
    await a.applied("set-title");
    await dup.applied("set-title");
    a.close();
    dup.close();
  });

  test("an invalid operation is refused to its sender only and changes nothing", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "invalid.tsnb");
    a.send({
      type: "apply",
      sessionId,
      op: { type: "delete-cell", cellId: "no-such-cell" },
      requestId: "r9",
    });
    const err = await a.next("error");
    assert.equal(err.code, "invalid-operation");
    assert.equal(err.requestId, "r9");
    a.send({ type: "apply", sessionId, op: { type: "evaluation-finished", cellId: "x" } });
    assert.match((await a.next("error")).message, /cannot be sent by a client/);
    assert.equal(a.messages.filter((m) => m.type === "applied").length, 0);
    a.close();
  });

  test("evaluations carry the cell's line in the file; errors stop the queue", async () => {
    const a = await Client.connect(t.server);
    await writeFile(
      join(t.root, "fail.tsnb"),
      "# F\n\n```ts\nthrow boom\n```\n\n```ts\nout never\n```\n",
    );
    a.send({ type: "open-file", path: "fail.tsnb" });
    const { sessionId } = await a.next("joined");
    a.send({ type: "apply", sessionId, op: { type: "evaluate-all" } });
    const fin = await a.applied("evaluation-finished");
    assert.equal(fin.op.status, "error");
    assert.match(JSON.stringify(fin.op.result), /fail\.tsnb:4:1/);
    const [, second] = codeCellIds(a, sessionId);
    assert.equal(a.copies.get(sessionId)!.cells[second!]!.status.type, "aborted");
    a.close();
  });

  test("interrupt stops a hanging cell", async () => {
    const a = await Client.connect(t.server);
    await writeFile(join(t.root, "hang.tsnb"), "# H\n\n```ts\nhang\n```\n");
    a.send({ type: "open-file", path: "hang.tsnb" });
    const { sessionId } = await a.next("joined");
    const [cell] = codeCellIds(a, sessionId);
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: cell } });
    await a.applied("evaluation-started");
    a.send({ type: "apply", sessionId, op: { type: "interrupt" } });
    const fin = await a.applied("evaluation-finished");
    assert.equal(fin.op.status, "interrupted");
    assert.deepEqual(a.copies.get(sessionId)!.cells[cell!]!.status, {
      type: "aborted",
      reason: "interrupted",
    });
    a.close();
  });

  test("a dead kernel aborts the running cell, keeps the notebook, and the next evaluation starts a new kernel", async () => {
    const a = await Client.connect(t.server);
    await writeFile(join(t.root, "die.tsnb"), "# D\n\n```ts\nout before\n```\n\n```ts\ndie\n```\n");
    a.send({ type: "open-file", path: "die.tsnb" });
    const { sessionId } = await a.next("joined");
    const [c1, c2] = codeCellIds(a, sessionId);
    a.send({ type: "apply", sessionId, op: { type: "evaluate-all" } });
    await a.applied("kernel-status", (op) => op.status === "dead");
    const d = a.copies.get(sessionId)!;
    assert.equal(d.cells[c2!]!.status.type, "aborted");
    assert.deepEqual(d.cells[c1!]!.outputs, [
      { type: "terminal", stream: "stdout", text: "before\n" },
    ]);
    a.send({ type: "apply", sessionId, op: { type: "evaluate-cell", cellId: c1 } });
    await a.applied("kernel-status", (op) => op.status === "starting");
    await a.applied("evaluation-finished");
    a.close();
  });

  test("table pages are fetched from the kernel for the asking window", async () => {
    const a = await Client.connect(t.server);
    await writeFile(join(t.root, "table.tsnb"), "# T\n\n```ts\ntable t1\n```\n");
    a.send({ type: "open-file", path: "table.tsnb" });
    const { sessionId } = await a.next("joined");
    a.send({
      type: "table-page",
      sessionId,
      tableId: "t1",
      offset: 0,
      limit: 3,
      requestId: "early",
    });
    assert.equal((await a.next("error")).code, "kernel", "no kernel yet");
    a.send({ type: "apply", sessionId, op: { type: "evaluate-all" } });
    await a.applied("evaluation-finished");
    a.send({ type: "table-page", sessionId, tableId: "t1", offset: 10, limit: 3, requestId: "p" });
    const page = await a.next("table-page");
    assert.deepEqual(page.rows, [[10], [11], [12]]);
    assert.equal(page.totalRows, 100);
    a.send({ type: "table-page", sessionId, tableId: "nope", offset: 0, limit: 3, requestId: "x" });
    assert.equal((await a.next("error")).code, "kernel");
    a.close();
  });
});

describe("server files", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer();
  });
  after(async () => {
    await t.close();
  });

  test("the file browser lists folders first, then notebooks; paths outside the root are refused", async () => {
    await mkdir(join(t.root, "sub"));
    await writeFile(join(t.root, "b.tsnb"), NOTEBOOK);
    await writeFile(join(t.root, "notes.txt"), "x");
    const a = await Client.connect(t.server);
    a.send({ type: "list-files", path: "" });
    const list = await a.next("file-list");
    assert.deepEqual(
      list.entries.map((e) => [e.name, e.kind]),
      [
        ["sub", "directory"],
        ["b.tsnb", "notebook"],
        ["notes.txt", "file"],
      ],
    );
    for (const path of ["..", "../etc", "/etc", "sub/../../x"]) {
      a.send({ type: "list-files", path });
      assert.equal((await a.next("error")).code, "forbidden-path", path);
    }
    a.send({ type: "open-file", path: "../outside.tsnb" });
    assert.equal((await a.next("error")).code, "forbidden-path");
    a.close();
  });

  test("save writes the edited notebook atomically and it reads back", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "save.tsnb");
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Saved title" } });
    await a.applied("set-title");
    a.send({ type: "save", sessionId, requestId: "s" });
    await a.next("done");
    const saved = await a.applied("notebook-saved");
    assert.equal(saved.op.path, "save.tsnb");
    assert.equal(a.copies.get(sessionId)!.dirty, false);
    const r = importNotebook(await readFile(join(t.root, "save.tsnb"), "utf8"));
    assert.ok(r.ok);
    assert.equal(r.notebook.title, "Saved title");
    assert.equal(r.notebook.sections[0]!.cells.length, 2);
    a.close();
  });

  test("autosave writes a notebook with a path shortly after the last change", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "auto.tsnb");
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Autosaved" } });
    await a.applied("notebook-saved", () => true, 3000);
    assert.match(await readFile(join(t.root, "auto.tsnb"), "utf8"), /^# Autosaved$/m);
    a.close();
  });

  test("a failing autosave is told to the windows", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "unwritable.tsnb");
    // Another program puts a folder where the file was: the write fails (tests run as root, so permissions would not).
    await rm(join(t.root, "unwritable.tsnb"));
    await mkdir(join(t.root, "unwritable.tsnb"));
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Cannot save" } });
    const err = await a.next("error", () => true, 3000);
    assert.equal(err.code, "io");
    assert.match(err.message, /Autosave failed/);
    assert.equal(a.copies.get(sessionId)!.dirty, true);
    a.close();
  });

  test("a file changed by another program is not overwritten: the user chooses reload or keep mine", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "conflict.tsnb");
    const external = NOTEBOOK.replace("# Demo", "# Edited elsewhere");
    await writeFile(join(t.root, "conflict.tsnb"), external);
    await a.applied("file-changed-on-disk", () => true, 3000);
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Mine" } });
    await a.applied("set-title");
    await new Promise((r) => setTimeout(r, 300)); // longer than the autosave delay
    assert.equal(
      await readFile(join(t.root, "conflict.tsnb"), "utf8"),
      external,
      "autosave must not overwrite",
    );
    a.send({ type: "save", sessionId, requestId: "s" });
    assert.equal((await a.next("error")).requestId, "s");

    a.send({ type: "resolve-conflict", sessionId, choice: "reload", requestId: "r" });
    await a.next("done");
    await a.applied("notebook-replaced");
    assert.equal(a.copies.get(sessionId)!.notebook.title, "Edited elsewhere");
    assert.equal(a.copies.get(sessionId)!.diskConflict, null);

    await writeFile(join(t.root, "conflict.tsnb"), NOTEBOOK.replace("# Demo", "# Third"));
    await a.applied("file-changed-on-disk", () => true, 3000);
    a.send({ type: "resolve-conflict", sessionId, choice: "keep-mine", requestId: "k" });
    await a.next("done");
    assert.match(await readFile(join(t.root, "conflict.tsnb"), "utf8"), /^# Edited elsewhere$/m);
    a.close();
  });

  test("a file that fails to import is reported with its line and left untouched", async () => {
    const broken = "# B\n\n<!-- tsnb:notebook {not json} -->\n\n```ts\nx\n```\n";
    await writeFile(join(t.root, "broken.tsnb"), broken);
    const a = await Client.connect(t.server);
    a.send({ type: "open-file", path: "broken.tsnb", requestId: "b" });
    const err = await a.next("error");
    assert.equal(err.code, "import-failed");
    assert.equal(typeof err.line, "number");
    assert.match(err.message, new RegExp(`broken\\.tsnb:${err.line}:`));
    assert.equal(await readFile(join(t.root, "broken.tsnb"), "utf8"), broken);
    a.close();
  });

  test("save as refuses to replace an existing file unless asked, and refuses paths outside the root", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "orig.tsnb");
    await writeFile(join(t.root, "taken.tsnb"), NOTEBOOK);
    a.send({ type: "save-as", sessionId, path: "taken.tsnb" });
    assert.equal((await a.next("error")).code, "exists");
    a.send({ type: "save-as", sessionId, path: "../escape.tsnb" });
    assert.equal((await a.next("error")).code, "forbidden-path");
    a.send({ type: "save-as", sessionId, path: "copy.tsnb" });
    await a.next("done");
    assert.equal((await a.applied("set-path")).op.path, "copy.tsnb");
    assert.ok((await readFile(join(t.root, "copy.tsnb"), "utf8")).includes("# Demo"));
    a.close();
  });

  test("save as into a new folder creates it (inside the root only) and never names temp files", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await openDemo(t, a, "tofolder.tsnb");
    a.send({ type: "save-as", sessionId, path: "new/deeper/my-first.tsnb" });
    await a.next("done");
    assert.equal((await a.applied("set-path")).op.path, "new/deeper/my-first.tsnb");
    assert.match(await readFile(join(t.root, "new/deeper/my-first.tsnb"), "utf8"), /# Demo/);
    // A folder path through a symbolic link that leads out of the root is refused, and nothing
    // is created outside.
    const outside = await mkdtemp(join(tmpdir(), "tsnb-outside-"));
    await symlink(outside, join(t.root, "out-link"));
    a.send({ type: "save-as", sessionId, path: "out-link/sub/x.tsnb" });
    assert.equal((await a.next("error")).code, "forbidden-path");
    assert.deepEqual(await readdir(outside), []);
    // A part of the path that is a file: a clear message, no internal path.
    await writeFile(join(t.root, "plain-file"), "x");
    a.send({ type: "save-as", sessionId, path: "plain-file/x.tsnb" });
    const err = await a.next("error");
    assert.match(err.message, /'plain-file' is a file, not a folder/);
    assert.doesNotMatch(err.message, /\.tmp|\/tmp\//);
    await rm(outside, { recursive: true });
    // The notebook's folder removed behind its back: Save says so in words.
    await rm(join(t.root, "new"), { recursive: true });
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Changed" } });
    await a.applied("set-title");
    a.send({ type: "save", sessionId });
    const gone = await a.next("error");
    assert.equal(
      gone.message,
      "could not write new/deeper/my-first.tsnb: its folder does not exist",
    );
    a.close();
  });
});

describe("unsaved notebooks", () => {
  test("a new notebook is autosaved to the app data folder, recovered after a restart, and moved by save as", async () => {
    const t = await testServer();
    try {
      const a = await Client.connect(t.server);
      a.send({ type: "new-notebook" });
      const { sessionId, snapshot } = await a.next("joined");
      assert.equal(snapshot.path, null);
      a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Draft" } });
      await a.applied("set-title");
      const unsavedDir = join(t.dataDir, "unsaved");
      let files: string[] = [];
      for (let i = 0; i < 50 && files.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        // Only the renamed file counts: the atomic write's temp file shows up first.
        files = (await readdir(unsavedDir).catch(() => [] as string[])).filter((f) =>
          f.endsWith(".tsnb"),
        );
      }
      assert.equal(files.length, 1);
      a.close();

      // A second server on the same data folder (as after a crash) offers it back.
      const again = await startServer({
        root: t.root,
        dataDir: t.dataDir,
        kernelFactory: fakeKernelFactory(),
      });
      try {
        const b = await Client.connect(again);
        const draft = b.welcome!.recovered.find((r) => r.title === "Draft");
        assert.ok(draft, "the draft is offered for recovery");
        b.send({ type: "open-recovered", id: draft.id });
        const joined = await b.next("joined");
        assert.equal(joined.snapshot.notebook.title, "Draft");
        b.send({ type: "save-as", sessionId: joined.sessionId, path: "draft.tsnb" });
        await b.next("done");
        assert.deepEqual(await readdir(unsavedDir), [], "the app data copy is removed once saved");

        // Another draft, discarded by the user instead of reopened.
        b.send({ type: "new-notebook" });
        const other = await b.next("joined");
        b.send({
          type: "apply",
          sessionId: other.sessionId,
          op: { type: "set-title", title: "Scrap" },
        });
        // Again only the renamed file counts, not the atomic write's temp file.
        const drafts = async () => (await readdir(unsavedDir)).filter((f) => f.endsWith(".tsnb"));
        for (let i = 0; i < 50 && (await drafts()).length === 0; i++)
          await new Promise((r) => setTimeout(r, 50));
        const [scrap] = await drafts();
        const scrapId = scrap!.replace(/\.tsnb$/, "");
        b.send({ type: "discard-recovered", id: scrapId });
        assert.equal(
          (await b.next("error")).code,
          "exists",
          "an open notebook cannot be discarded",
        );
        b.send({ type: "close-session", sessionId: other.sessionId });
        await b.next("done");
        assert.deepEqual(await readdir(unsavedDir), [scrap], "closing keeps the draft recoverable");
        b.send({ type: "discard-recovered", id: scrapId });
        await b.next("done");
        assert.deepEqual(await readdir(unsavedDir), []);
        b.send({ type: "discard-recovered", id: "../../etc" });
        assert.equal((await b.next("error")).code, "not-found");
        b.close();
      } finally {
        await again.close();
      }
    } finally {
      await t.close();
    }
  });
});
