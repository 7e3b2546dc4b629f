// Typing survives a dropped connection: the page's own SourceSync (renderer/collab.ts, no DOM)
// over a real WebSocket. When the window joins again, the snapshot's sourceDeltas tell whether
// its delta in flight arrived (an entry with its client id: acknowledged, not sent twice) or not
// (sent again, rebased past what others typed meanwhile).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyDelta } from "../../core/delta.ts";
import { MAX_SOURCE_DELTAS, type SessionData } from "../../core/session/data.ts";
import { SourceSync } from "../../renderer/collab.ts";
import { Client, testServer } from "./helpers.ts";

const NB = "# R\n\n## One\n\n```ts\nabc\n```\n";

async function setup(name: string) {
  const t = await testServer();
  await writeFile(join(t.root, name), NB);
  const a = await Client.connect(t.server);
  const b = await Client.connect(t.server);
  a.send({ type: "open-file", path: name });
  const { sessionId, snapshot } = await a.next("joined");
  b.send({ type: "join", sessionId });
  await b.next("joined");
  const cellId = snapshot.notebook.sections[0]!.cells[0]!.id;
  const state = { online: true, deaf: false, editor: "abc" };
  const sync = new SourceSync(
    {
      clientId: () => a.clientId,
      sendOp: (op) => {
        if (state.online) a.send({ type: "apply", sessionId, op });
      },
      sendCursor: () => undefined,
    },
    (_id, delta, text) => {
      if (delta) assert.equal(applyDelta(state.editor, delta), text);
      state.editor = text;
    },
    () => undefined,
  );
  sync.catchUp(snapshot, null);
  a.ws.on("message", (raw) => {
    const m = JSON.parse(raw.toString());
    if (state.deaf) return;
    const copy = a.copies.get(sessionId) as SessionData;
    if (m.type === "joined") sync.catchUp(copy, null);
    if (m.type === "applied") sync.catchUp(copy, m.op);
  });
  const type = (text: string) => {
    state.editor = state.editor + text;
    sync.local(cellId, state.editor);
  };
  const bTypes = async (text: string) => {
    const d = b.copies.get(sessionId)!;
    b.send({
      type: "apply",
      sessionId,
      op: {
        type: "apply-cell-delta",
        cellId,
        delta: [text],
        revision: d.cells[cellId]!.sourceRevision,
      },
    });
    await b.applied("apply-cell-delta", (op) => op.clientId === b.clientId);
  };
  const serverText = async () => {
    const c = await Client.connect(t.server);
    c.send({ type: "join", sessionId });
    const s = (await c.next("joined")).snapshot.notebook.sections[0]!.cells[0]!.source;
    c.close();
    return s;
  };
  const settle = async (want: string) => {
    for (let i = 0; i < 200 && (state.editor !== want || (await serverText()) !== want); i++)
      await new Promise((r) => setTimeout(r, 20));
  };
  return { t, a, b, sessionId, state, sync, type, bTypes, serverText, settle };
}

/** Run `body` on a fresh setup, closing its clients and server after it. */
async function withSetup(
  name: string,
  body: (s: Awaited<ReturnType<typeof setup>>) => Promise<void>,
): Promise<void> {
  const s = await setup(name);
  try {
    await body(s);
  } finally {
    s.a.close();
    s.b.close();
    await s.t.close();
  }
}

test("typing that never reached the server is sent again after the rejoin, rebased", () =>
  withSetup("lost.tsnb", async (s) => {
    s.state.online = false; // the connection drops: what the window sends is lost
    s.type(" typed offline");
    await s.bTypes(">> "); // meanwhile another window types at the start
    s.state.online = true;
    s.a.send({ type: "join", sessionId: s.sessionId });
    const want = ">> abc typed offline";
    await s.settle(want);
    assert.equal(await s.serverText(), want);
    assert.equal(s.state.editor, want);
  }));

test("typing that arrived but whose acknowledgement was lost is not applied twice", () =>
  withSetup("acked.tsnb", async (s) => {
    s.state.deaf = true; // the window hears nothing: the acknowledgement is lost
    s.type(" once");
    await s.b.applied("apply-cell-delta", (op) => op.clientId === s.a.clientId);
    await s.bTypes("## ");
    s.state.deaf = false;
    s.a.send({ type: "join", sessionId: s.sessionId });
    const want = "## abc once";
    await s.settle(want);
    assert.equal(await s.serverText(), want);
    assert.equal(s.state.editor, want);
  }));

// Further behind than the cell's kept deltas reach (MAX_SOURCE_DELTAS): the window was offline
// while another typed 300 changes. Its typing is rebased on the session's text as a whole.
const MANY = MAX_SOURCE_DELTAS + 44;

test("typing offline while another window made more changes than the cell keeps is rebased, not lost", () =>
  withSetup("far-lost.tsnb", async (s) => {
    s.state.online = false; // nothing sent, nothing heard: the connection is gone
    s.state.deaf = true;
    s.type(" typed offline");
    s.type(" and more");
    for (let i = 0; i < MANY; i++) await s.bTypes("x");
    s.state.online = true;
    s.state.deaf = false;
    s.a.send({ type: "join", sessionId: s.sessionId });
    const want = `${"x".repeat(MANY)}abc typed offline and more`;
    await s.settle(want);
    assert.equal(await s.serverText(), want);
    assert.equal(s.state.editor, want);
  }));

test("far behind with the delta in flight applied: only the typing after it is rebased (nothing twice)", () =>
  withSetup("far-acked.tsnb", async (s) => {
    s.state.deaf = true; // the acknowledgement is lost…
    s.type(" once");
    await s.b.applied("apply-cell-delta", (op) => op.clientId === s.a.clientId);
    s.state.online = false; // …and then the connection: the typing after it is not sent
    s.type(" twice");
    for (let i = 0; i < MANY; i++) await s.bTypes("y");
    s.state.deaf = false;
    s.state.online = true;
    s.a.send({ type: "join", sessionId: s.sessionId });
    const want = `${"y".repeat(MANY)}abc once twice`;
    await s.settle(want);
    assert.equal(await s.serverText(), want);
    assert.equal(s.state.editor, want);
  }));
