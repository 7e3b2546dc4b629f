// The running-sessions requests over real WebSocket clients: summaries with the kernel's
// status, shutdown-kernel, the idle timeout (a kernel nobody has open is shut down; an open or
// busy one is kept) and the settings that hold it (validated, kept in the app data folder).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Client, testServer, type TestServer } from "./helpers.ts";
import { fakeKernelFactory, type FakeKernelLog } from "./fake-kernel.ts";

const NOTEBOOK = "# Admin\n\n## S\n\n```ts\nout hello\ndefine x\n```\n\n```ts\nwait 400\n```\n";

describe("running sessions over WebSocket", () => {
  let t: TestServer;
  const log: FakeKernelLog = { started: 0, evaluations: [], interrupts: 0, restarts: 0, stops: 0 };
  before(async () => {
    // 0.01 min = 600 ms.
    t = await testServer({
      kernelFactory: fakeKernelFactory(log),
      idleShutdownMinutes: 0.01,
      pristineCloseMs: 300,
    });
  });
  after(async () => {
    await t.close();
  });

  const open = async (c: Client, name: string) => {
    await writeFile(join(t.root, name), NOTEBOOK);
    c.send({ type: "open-file", path: name, requestId: "o" });
    return (await c.next("joined")).sessionId;
  };
  const firstCell = (c: Client, id: string) => c.copies.get(id)!.notebook.sections[0]!.cells[0]!.id;
  const summary = async (c: Client, sessionId: string) => {
    c.send({ type: "list-sessions", requestId: "l" });
    const r = await c.next("sessions", (m) => m.requestId === "l");
    return r.sessions.find((s) => s.sessionId === sessionId);
  };

  test("list-sessions says each kernel's status; shutdown-kernel stops it without joining", async () => {
    const a = await Client.connect(t.server);
    const id = await open(a, "a.tsnb");
    a.send({
      type: "apply",
      sessionId: id,
      op: { type: "evaluate-cell", cellId: firstCell(a, id) },
    });
    await a.next("applied", (m) => m.op.type === "evaluation-finished");
    const s = await summary(a, id);
    assert.equal(s?.kernel, "idle");
    assert.equal(s?.clients, 1);
    assert.equal(s?.idleShutdownAt, null, "someone has it open");
    const admin = await Client.connect(t.server);
    const stops = log.stops;
    admin.send({ type: "shutdown-kernel", sessionId: id, requestId: "s" });
    await admin.next("done", (m) => m.requestId === "s");
    const op = await a.next("applied", (m) => m.op.type === "shutdown-kernel");
    assert.equal(op.op.clientId, admin.clientId, "the op names who shut it down");
    assert.equal(log.stops, stops + 1);
    assert.equal((await summary(admin, id))?.kernel, "not-started");
    admin.send({ type: "shutdown-kernel", sessionId: "nope", requestId: "x" });
    assert.equal((await admin.next("error", (m) => m.requestId === "x")).code, "unknown-session");
    a.ws.close();
    admin.ws.close();
  });

  test("the kernel of a notebook nobody has open is shut down after the timeout, not while open or busy", async () => {
    const a = await Client.connect(t.server);
    const id = await open(a, "b.tsnb");
    a.send({
      type: "apply",
      sessionId: id,
      op: { type: "evaluate-cell", cellId: firstCell(a, id) },
    });
    await a.next("applied", (m) => m.op.type === "evaluation-finished");
    await new Promise((r) => setTimeout(r, 900));
    const watcher = await Client.connect(t.server);
    assert.equal((await summary(watcher, id))?.kernel, "idle", "kept while a window has it open");
    // Leave it running a 400 ms cell: the timer fires while it is busy and waits for it.
    const cells = a.copies.get(id)!.notebook.sections[0]!.cells;
    a.send({ type: "apply", sessionId: id, op: { type: "evaluate-cell", cellId: cells[1]!.id } });
    await a.next("applied", (m) => m.op.type === "evaluation-started");
    const left = Date.now();
    a.ws.close();
    await new Promise((r) => setTimeout(r, 100));
    const s = await summary(watcher, id);
    assert.equal(s?.clients, 0);
    assert.ok(s?.idleShutdownAt && s.idleShutdownAt > Date.now(), "the shutdown is due");
    watcher.send({ type: "join", sessionId: id });
    await watcher.next("joined");
    watcher.send({ type: "leave", sessionId: id });
    // Poll until the kernel is shut down.
    let status = "";
    while (Date.now() - left < 4000) {
      status = (await summary(watcher, id))?.kernel ?? "";
      if (status === "not-started") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, "not-started");
    assert.ok(Date.now() - left >= 600, "not before the timeout");
    watcher.send({ type: "join", sessionId: id, requestId: "j" });
    const snap = (await watcher.next("joined", (m) => m.requestId === "j")).snapshot;
    assert.match(snap.kernel.reason ?? "", /^shut down after 1 s with no window open$/);
    assert.equal(
      snap.cells[cells[1]!.id]?.status.type,
      "done",
      "the busy cell was allowed to finish",
    );
    watcher.ws.close();
  });

  test("a new notebook left untouched is closed after its window leaves; an edited one stays", async () => {
    const a = await Client.connect(t.server);
    a.send({ type: "new-notebook", requestId: "n1" });
    const untouched = (await a.next("joined")).sessionId;
    a.send({ type: "new-notebook", requestId: "n2" }); // leaves the first for the second
    const edited = (await a.next("joined")).sessionId;
    a.send({
      type: "apply",
      sessionId: edited,
      op: { type: "set-title", title: "Kept" },
    });
    await a.next("applied");
    // A reload within the delay finds it still there.
    assert.ok(await summary(a, untouched), "listed right after the window left");
    a.send({ type: "join", sessionId: untouched });
    await a.next("joined");
    a.send({ type: "leave", sessionId: untouched });
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await summary(a, untouched), undefined, "the untouched one is closed");
    assert.ok(await summary(a, edited), "the edited one stays (its window left too)");
    a.close();
  });

  test("settings: validated, written to the app data folder, applied to open sessions", async () => {
    const c = await Client.connect(t.server);
    c.send({ type: "get-settings", requestId: "g" });
    assert.deepEqual((await c.next("settings", (m) => m.requestId === "g")).settings, {
      idleShutdownMinutes: 0.01,
    });
    for (const bad of [
      { idleShutdownMinutes: 0 },
      { idleShutdownMinutes: -5 },
      { idleShutdownMinutes: "5" },
      { idleShutdownMinutes: 1e9 },
      { other: 1 },
    ]) {
      c.send({ type: "set-settings", settings: bad, requestId: "b" });
      assert.equal((await c.next("error", (m) => m.requestId === "b")).code, "bad-message");
    }
    c.send({ type: "set-settings", settings: { idleShutdownMinutes: null }, requestId: "n" });
    assert.deepEqual((await c.next("settings", (m) => m.requestId === "n")).settings, {
      idleShutdownMinutes: null,
    });
    assert.deepEqual(JSON.parse(await readFile(join(t.dataDir, "settings.json"), "utf8")), {
      idleShutdownMinutes: null,
    });
    // Never: a notebook left alone keeps its kernel.
    const id = await open(c, "c.tsnb");
    c.send({
      type: "apply",
      sessionId: id,
      op: { type: "evaluate-cell", cellId: firstCell(c, id) },
    });
    await c.next("applied", (m) => m.op.type === "evaluation-finished");
    c.send({ type: "leave", sessionId: id });
    await new Promise((r) => setTimeout(r, 900));
    const s = await summary(c, id);
    assert.equal(s?.kernel, "idle");
    assert.equal(s?.idleShutdownAt, null);
    c.ws.close();
  });
});
