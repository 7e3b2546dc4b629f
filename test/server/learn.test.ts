// The Learn section's server side: `list-lessons` lists the shipped lessons (notebooks/learn.json)
// with their titles; `open-lesson` opens the user's copy in learn/ of the served folder, made
// from the shipped file once and never replaced; the originals are never opened or changed.
// Lesson names come only from the catalogue; the copy is confined to the served folder; a
// connection without the token gets nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import WebSocket from "ws";
import { packageRoot } from "../../server/static.ts";
import { Client, tempDir, testServer } from "./helpers.ts";

const shipped = join(packageRoot(), "notebooks");
const catalog = JSON.parse(readFileSync(join(shipped, "learn.json"), "utf8")) as {
  lessons: Array<{ file: string; summary: string }>;
};

test("list-lessons gives every lesson of notebooks/learn.json in order, with its notebook's title and summary", async () => {
  const t = await testServer();
  try {
    const c = await Client.connect(t.server);
    c.send({ type: "list-lessons", requestId: "l" });
    const { lessons } = await c.next("lessons", (m) => m.requestId === "l");
    assert.deepEqual(
      lessons.map((l) => l.file),
      catalog.lessons.map((l) => l.file),
    );
    assert.equal(lessons[0]!.title, "A tour of tsnb");
    for (const l of lessons) {
      const text = readFileSync(join(shipped, l.file), "utf8");
      assert.ok(text.includes(`\n# ${l.title}\n`), `${l.file}'s title is its # heading`);
      assert.equal(l.summary, catalog.lessons.find((x) => x.file === l.file)!.summary);
      assert.equal(l.copy, null);
    }
    c.ws.close();
  } finally {
    await t.close();
  }
});

test("open-lesson opens a copy in learn/ (the original untouched); the second time it reopens the user's copy with their changes", async () => {
  const t = await testServer();
  const file = catalog.lessons[1]!.file;
  const original = readFileSync(join(shipped, file));
  try {
    const c = await Client.connect(t.server);
    c.send({ type: "open-lesson", file, requestId: "o" });
    const joined = await c.next("joined", (m) => m.requestId === "o");
    assert.equal(joined.snapshot.path, `learn/${file}`);
    const copyPath = join(t.root, "learn", file);
    assert.deepEqual(readFileSync(copyPath), original, "the copy is the shipped file");
    assert.equal(joined.snapshot.notebook.title, "Tensors with tsnb/nx");

    // The user changes their copy (as a save would); opening the lesson again keeps it.
    c.send({ type: "close-session", sessionId: joined.sessionId, requestId: "x" });
    await c.next("done", (m) => m.requestId === "x");
    const mine = original.toString("utf8").replace("# Tensors with tsnb/nx", "# My tensor notes");
    await writeFile(copyPath, mine);
    c.send({ type: "list-lessons", requestId: "l" });
    const listed = await c.next("lessons", (m) => m.requestId === "l");
    assert.equal(listed.lessons.find((l) => l.file === file)!.copy, `learn/${file}`);
    c.send({ type: "open-lesson", file, requestId: "o2" });
    const again = await c.next("joined", (m) => m.requestId === "o2");
    assert.equal(again.snapshot.notebook.title, "My tensor notes");
    assert.equal(await readFile(copyPath, "utf8"), mine, "an existing copy is never replaced");
    assert.deepEqual(
      readFileSync(join(shipped, file)),
      original,
      "the shipped lesson is unchanged",
    );
    c.ws.close();
  } finally {
    await t.close();
  }
});

test("open-lesson takes only names from the catalogue: paths, other files and unknown names are refused, nothing is written", async () => {
  const t = await testServer();
  try {
    const c = await Client.connect(t.server);
    for (const [i, file] of [
      "../package.json",
      "learn.json",
      "../README.md",
      "/etc/passwd",
      "nope.tsnb",
      `learn/${catalog.lessons[0]!.file}`,
    ].entries()) {
      c.send({ type: "open-lesson", file, requestId: `r${i}` });
      const err = await c.next("error", (m) => m.requestId === `r${i}`);
      assert.equal(err.code, "not-found", `${file}: ${err.message}`);
    }
    c.send({ type: "open-lesson", requestId: "bad" });
    assert.equal((await c.next("error", (m) => m.requestId === "bad")).code, "bad-message");
    assert.equal(existsSync(join(t.root, "learn")), false);
    c.ws.close();
  } finally {
    await t.close();
  }
});

test("the copy stays in the served folder: learn/ as a link to another folder is refused and nothing is written there", async () => {
  const outside = await tempDir("tsnb-learn-outside-");
  const t = await testServer();
  try {
    await symlink(outside.dir, join(t.root, "learn"));
    const c = await Client.connect(t.server);
    c.send({ type: "open-lesson", file: catalog.lessons[0]!.file, requestId: "o" });
    const err = await c.next("error", (m) => m.requestId === "o");
    assert.equal(err.code, "forbidden-path", err.message);
    assert.deepEqual(readdirSync(outside.dir), []);
    c.ws.close();
  } finally {
    await t.close();
    await outside.cleanup();
  }
});

test("learn/ being a file is an error that says so; a connection without the token is refused before any lesson is listed", async () => {
  const t = await testServer();
  try {
    await writeFile(join(t.root, "learn"), "not a folder");
    const c = await Client.connect(t.server);
    c.send({ type: "open-lesson", file: catalog.lessons[0]!.file, requestId: "o" });
    const err = await c.next("error", (m) => m.requestId === "o");
    assert.match(err.message, /learn/);
    c.ws.close();

    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => undefined);
    });
    assert.equal(status, 401);
  } finally {
    await t.close();
  }
});

test("a served folder inside which learn/ exists already as a folder gets the copy there", async () => {
  const t = await testServer();
  try {
    await mkdir(join(t.root, "learn"));
    await writeFile(join(t.root, "learn", "mine.tsnb"), "# Mine\n");
    const c = await Client.connect(t.server);
    const file = catalog.lessons[0]!.file;
    c.send({ type: "open-lesson", file, requestId: "o" });
    await c.next("joined", (m) => m.requestId === "o");
    assert.deepEqual(readdirSync(join(t.root, "learn")).sort(), [file, "mine.tsnb"].sort());
    c.ws.close();
  } finally {
    await t.close();
  }
});
