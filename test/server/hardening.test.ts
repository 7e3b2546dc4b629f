/**
 * Faults found by an attack and fault run against `tsnb serve` (issue 13), each at the depth
 * where it was: a poisoned session, redirects off the server, two Host headers, a FIFO named
 * `.tsnb`, leftover temp files, read-only notebooks, a symlink swapped in after opening, and an
 * autosave that waited for a pause in typing.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmod,
  mkdir,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { importNotebook } from "../../core/format/index.ts";
import { Client, spawnServerChild, tempDir, testServer, type TestServer } from "./helpers.ts";

const NOTEBOOK = "# Hard\n\n## S\n\n```ts\n1 + 1\n```\n";

async function open(t: TestServer, c: Client, name: string, text = NOTEBOOK): Promise<string> {
  await writeFile(join(t.root, name), text);
  c.send({ type: "open-file", path: name, requestId: `open-${name}` });
  return (await c.next("joined", (m) => m.requestId === `open-${name}`)).sessionId;
}

function firstCodeCell(c: Client, sessionId: string): string {
  return c.copies.get(sessionId)!.notebook.sections[0]!.cells.find((x) => x.type === "code")!.id;
}

/** `{"a":{"a":…}}` nested `levels` deep (about 6 bytes a level). */
function nested(levels: number): Record<string, unknown> {
  const text = '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Send raw bytes as one HTTP request; resolve the head of the answer ("" when closed without one). */
function rawHead(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(got.split("\r\n\r\n")[0] ?? ""));
    socket.write(text);
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}

describe("the protocol edge refuses what would poison a session", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer();
  });
  after(async () => {
    await t.close();
  });

  test("options and attrs nested 20,000 levels are refused before applying; the session keeps saving, joining and editing", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await open(t, a, "poison.tsnb");
    const cellId = firstCodeCell(a, sessionId);
    // Sent as text: JSON.stringify itself cannot write such a value (it overflows the stack).
    const deep = '{"a":'.repeat(20_000) + "1" + "}".repeat(20_000);
    a.ws.send(
      `{"type":"apply","sessionId":"${sessionId}","requestId":"p1","op":{"type":"set-cell-options","cellId":"${cellId}","options":${deep}}}`,
    );
    const e1 = await a.next("error", (m) => m.requestId === "p1");
    assert.match(e1.message, /nested too deeply/);
    const sectionId = a.copies.get(sessionId)!.notebook.sections[0]!.id;
    a.ws.send(
      `{"type":"apply","sessionId":"${sessionId}","requestId":"p2","op":{"type":"insert-cell","sectionId":"${sectionId}","index":0,"cellType":"smart","cellId":"smart1","kind":"chart","attrs":${deep}}}`,
    );
    const e2 = await a.next("error", (m) => m.requestId === "p2");
    assert.match(e2.message, /nested too deeply/);
    // Shallower but still absurd (within the message's depth), and oversized options: refused too.
    a.send({
      type: "apply",
      sessionId,
      requestId: "p3",
      op: { type: "set-cell-options", cellId, options: nested(40) },
    });
    assert.match((await a.next("error", (m) => m.requestId === "p3")).message, /options is nested/);
    a.send({
      type: "apply",
      sessionId,
      requestId: "p4",
      op: { type: "set-cell-options", cellId, options: { note: "x".repeat(100_000) } },
    });
    assert.match((await a.next("error", (m) => m.requestId === "p4")).message, /too large/);
    assert.equal(a.copies.get(sessionId)!.revision, 0, "nothing was applied");

    // Everything still works: an edit is applied and autosaved, save answers, a second window joins.
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Still alive" } });
    await a.applied("notebook-saved", () => true, 5000);
    assert.match(await readFile(join(t.root, "poison.tsnb"), "utf8"), /^# Still alive$/m);
    a.send({ type: "save", sessionId, requestId: "s" });
    await a.next("done", (m) => m.requestId === "s");
    const b = await Client.connect(t.server);
    b.send({ type: "join", sessionId, requestId: "j" });
    const joined = await b.next("joined", (m) => m.requestId === "j");
    assert.equal(joined.snapshot.notebook.title, "Still alive");
    a.close();
    b.close();
  });

  test("one failing save never blocks the next", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await open(t, a, "flaky.tsnb");
    // A folder where the file was: the write fails.
    await rm(join(t.root, "flaky.tsnb"));
    await mkdir(join(t.root, "flaky.tsnb"));
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "First" } });
    a.send({ type: "save", sessionId, requestId: "s1" });
    assert.equal((await a.next("error", (m) => m.requestId === "s1")).code, "io");
    await rm(join(t.root, "flaky.tsnb"), { recursive: true });
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Second" } });
    a.send({ type: "save", sessionId, requestId: "s2" });
    await a.next("done", (m) => m.requestId === "s2");
    assert.match(await readFile(join(t.root, "flaky.tsnb"), "utf8"), /^# Second$/m);
    a.close();
  });

  test("autosave under continuous editing: saved at most the bounded window after the first change, not only after a pause", async () => {
    const s = await testServer({ autosaveMs: 400, autosaveMaxMs: 800 });
    try {
      const a = await Client.connect(s.server);
      const sessionId = await open(s, a, "typing.tsnb");
      const start = Date.now();
      let saved = false;
      void a.applied("notebook-saved", () => true, 10_000).then(() => (saved = true));
      // A change every 100 ms for 3 s: never a 400 ms pause.
      for (let i = 0; i < 30 && !saved; i++) {
        a.send({ type: "apply", sessionId, op: { type: "set-title", title: `t${i}` } });
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(saved, "an autosave happened while typing went on");
      assert.ok(Date.now() - start < 3000);
      a.close();
    } finally {
      await s.close();
    }
  });
});

describe("redirects and Host headers", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer();
  });
  after(async () => {
    await t.close();
  });
  const req = (target: string, extra = "") =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${t.server.port}\r\n${extra}Connection: close\r\n\r\n`;

  test("the token exchange redirects only to a path of this server, never to //host", async () => {
    const token = t.server.token;
    for (const target of [
      `/\\evil.example/?token=${token}`,
      `/.//evil.example/?token=${token}`,
      `/%2e//evil.example/?token=${token}`,
      `/a/..//evil.example/?token=${token}`,
      `/\\\\evil.example/?token=${token}`,
      `/./\\evil.example/?token=${token}`,
    ]) {
      const head = await rawHead(t.server.port, req(target));
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const location = /\r\nLocation: ([^\r]*)/i.exec(head)?.[1];
      if (status === 302) {
        assert.ok(location !== undefined, target);
        assert.match(location, /^\/(?![/\\])/, `${target} → Location ${location}`);
        assert.equal(new URL(location, "http://127.0.0.1/").host, "127.0.0.1", target);
      } else assert.equal(status, 400, `${target} → ${status}`);
    }
    // The ordinary exchange still works.
    const ok = await rawHead(t.server.port, req(`/?token=${token}&x=1`));
    assert.match(ok, /^HTTP\/1\.1 302/);
    assert.match(ok, /\r\nLocation: \/\?x=1/i);
  });

  test("a request with two Host headers is refused", async () => {
    const auth = `Authorization: Bearer ${t.server.token}\r\n`;
    const one = await rawHead(t.server.port, req("/api/health", auth));
    assert.match(one, /^HTTP\/1\.1 200/);
    for (const second of [`127.0.0.1:${t.server.port}`, "evil.example"]) {
      const head = await rawHead(t.server.port, req("/api/health", `${auth}Host: ${second}\r\n`));
      assert.match(head, /^HTTP\/1\.1 400/, second);
    }
  });
});

describe("files", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer();
  });
  after(async () => {
    await t.close();
  });

  test("temp files of interrupted writes are removed when the notebook is opened and when the server starts", async () => {
    const a = await Client.connect(t.server);
    await writeFile(join(t.root, "tmp.tsnb"), NOTEBOOK);
    const old = new Date(Date.now() - 3600_000);
    const leftovers = [".tmp.tsnb.0123456789ab.tmp", ".tmp.tsnb.ba9876543210.tmp"];
    for (const name of leftovers) {
      await writeFile(join(t.root, name), "half a notebook");
      await utimes(join(t.root, name), old, old);
    }
    // A young one may be another writer's write in progress: kept. Other dot files: kept.
    await writeFile(join(t.root, ".tmp.tsnb.ffffffffffff.tmp"), "in progress");
    await writeFile(join(t.root, ".keep.tmp"), "not ours");
    a.send({ type: "open-file", path: "tmp.tsnb", requestId: "o" });
    await a.next("joined");
    const names = await readdir(t.root);
    for (const name of leftovers) assert.ok(!names.includes(name), `${name} removed on open`);
    assert.ok(names.includes(".tmp.tsnb.ffffffffffff.tmp"));
    assert.ok(names.includes(".keep.tmp"));
    a.close();

    // At start: leftovers in the served folder and in the app data folder.
    const dir = await tempDir();
    try {
      const root = join(dir.dir, "root");
      const data = join(dir.dir, "data");
      await mkdir(root);
      await mkdir(join(data, "unsaved"), { recursive: true });
      const files = [
        join(root, ".x.tsnb.00000000aaaa.tmp"),
        join(data, "unsaved", ".u.tsnb.00000000bbbb.tmp"),
      ];
      for (const f of files) {
        await writeFile(f, "x".repeat(1000));
        await utimes(f, old, old);
      }
      const s = await testServer({ root, dataDir: data });
      try {
        for (const f of files)
          await assert.rejects(stat(f), { code: "ENOENT" }, `${f} removed at start`);
      } finally {
        await s.server.close();
      }
    } finally {
      await dir.cleanup();
    }
  });

  test("a read-only notebook is never overwritten: autosave and save refuse, say so, and Save As works", async () => {
    const a = await Client.connect(t.server);
    const sessionId = await open(t, a, "ro.tsnb");
    await chmod(join(t.root, "ro.tsnb"), 0o444);
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Mine" } });
    const told = await a.next("error", (m) => m.requestId === undefined, 5000);
    assert.equal(told.code, "read-only");
    assert.match(told.message, /read-only/);
    assert.match(told.message, /Save As/);
    a.send({ type: "save", sessionId, requestId: "s" });
    const refused = await a.next("error", (m) => m.requestId === "s");
    assert.equal(refused.code, "read-only");
    assert.equal(
      await readFile(join(t.root, "ro.tsnb"), "utf8"),
      NOTEBOOK,
      "the file is untouched",
    );
    assert.equal((await stat(join(t.root, "ro.tsnb"))).mode & 0o777, 0o444);
    a.send({ type: "save-as", sessionId, path: "ro-copy.tsnb", requestId: "sa" });
    await a.next("done", (m) => m.requestId === "sa");
    assert.match(await readFile(join(t.root, "ro-copy.tsnb"), "utf8"), /^# Mine$/m);
    a.close();
  });

  test("a symlink swapped in after opening cannot make a write escape the served folder", async () => {
    const outside = join(t.root, "..", "outside");
    await mkdir(outside, { recursive: true });
    const target = join(outside, "target.tsnb");
    const a = await Client.connect(t.server);
    const sessionId = await open(t, a, "e.tsnb");

    // Same content outside: no change is seen on disk, so autosave would write through the link.
    await writeFile(target, NOTEBOOK);
    await rm(join(t.root, "e.tsnb"));
    await symlink("../outside/target.tsnb", join(t.root, "e.tsnb"));
    a.send({ type: "apply", sessionId, op: { type: "set-title", title: "Escaped" } });
    const told = await a.next("error", (m) => m.requestId === undefined, 5000);
    assert.equal(told.code, "forbidden-path");
    assert.match(told.message, /outside the served folder/);
    a.send({ type: "save", sessionId, requestId: "s" });
    assert.equal((await a.next("error", (m) => m.requestId === "s")).code, "forbidden-path");

    // A conflict pending (another program wrote the file), then the link is swapped in: choosing
    // "keep mine" must not write outside either.
    await rm(join(t.root, "e.tsnb"));
    await writeFile(join(t.root, "e.tsnb"), NOTEBOOK.replace("# Hard", "# Elsewhere"));
    await a.applied("file-changed-on-disk", () => true, 5000);
    await writeFile(target, NOTEBOOK.replace("# Hard", "# Outside"));
    await rm(join(t.root, "e.tsnb"));
    await symlink("../outside/target.tsnb", join(t.root, "e.tsnb"));
    a.send({ type: "resolve-conflict", sessionId, choice: "keep-mine", requestId: "k" });
    assert.equal((await a.next("error", (m) => m.requestId === "k")).code, "forbidden-path");
    a.send({ type: "resolve-conflict", sessionId, choice: "reload", requestId: "r" });
    assert.equal(
      (await a.next("error", (m) => m.requestId === "r")).code,
      "forbidden-path",
      "nor read from outside",
    );
    assert.equal(await readFile(target, "utf8"), NOTEBOOK.replace("# Hard", "# Outside"));
    assert.deepEqual(
      (await readdir(outside)).sort(),
      ["target.tsnb"],
      "no temp file was made outside either",
    );
    // Save As inside the folder keeps the edit.
    a.send({ type: "save-as", sessionId, path: "e-saved.tsnb", requestId: "sa" });
    await a.next("done", (m) => m.requestId === "sa");
    assert.match(await readFile(join(t.root, "e-saved.tsnb"), "utf8"), /^# Escaped$/m);
    a.close();
  });
});

test("FIFOs (and other non-regular files) named .tsnb are refused at once, and the server keeps serving everyone", async () => {
  const dir = await tempDir();
  const child = await spawnServerChild(join(dir.dir, "root"), join(dir.dir, "data"), 100);
  try {
    for (let i = 0; i < 6; i++) execFileSync("mkfifo", [join(child.root, `fifo${i}.tsnb`)]);
    await writeFile(join(child.root, "ok.tsnb"), NOTEBOOK);
    const a = await Client.connect(child);
    for (let i = 0; i < 6; i++) {
      a.send({ type: "open-file", path: `fifo${i}.tsnb`, requestId: `f${i}` });
      const e = await a.next("error", (m) => m.requestId === `f${i}`, 5000);
      assert.match(e.message, /not a regular file/);
    }
    // Another window still gets its notebook, its file list and the static page.
    const b = await Client.connect(child);
    b.send({ type: "open-file", path: "ok.tsnb", requestId: "ok" });
    const joined = await b.next("joined", (m) => m.requestId === "ok", 5000);
    assert.equal(importNotebook(NOTEBOOK).ok && joined.snapshot.notebook.title, "Hard");
    b.send({ type: "list-files", path: "", requestId: "l" });
    assert.ok((await b.next("file-list", (m) => m.requestId === "l", 5000)).entries.length >= 7);
    const health = await fetch(`http://127.0.0.1:${child.port}/api/health`, {
      headers: { Authorization: `Bearer ${child.token}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(health.status, 200);
    a.close();
    b.close();
  } finally {
    await child.kill();
    await dir.cleanup();
  }
});
