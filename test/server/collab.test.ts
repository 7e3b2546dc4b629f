// Editing one cell together, through the real server: several windows (each a CellTextClient,
// the same client the page uses, over a real WebSocket) type concurrently at random places —
// inserts of unique tokens, deletes and replacements of filler text — with random pauses, so
// their deltas cross on the wire. Every copy must end with the same text as the server, and
// every inserted token must be there exactly once (no typed character lost).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { applyDelta, spliceDelta, type TextDelta } from "../../core/delta.ts";
import { CellTextClient } from "../../core/session/text-client.ts";
import { Client, testServer, type TestServer } from "./helpers.ts";

/** A seeded generator (mulberry32 over a string hash): the same run for the same seed. */
function seeded(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const FILLER = ".".repeat(120);
const NOTEBOOK = `# Together\n\n## One\n\n\`\`\`ts\n${FILLER}\n\`\`\`\n`;

/** A simulated window: its editor text, its text client, and the server's applied ops feeding both. */
class Window {
  text = "";
  tc!: CellTextClient;
  inserted: string[] = [];
  /** Deltas the server had to transform (made before others' changes it had applied). */
  crossed = 0;
  constructor(
    readonly c: Client,
    readonly sessionId: string,
    readonly cellId: string,
  ) {}

  start(): void {
    const data = this.c.copies.get(this.sessionId)!;
    this.text = data.notebook.sections[0]!.cells[0]!.source;
    this.tc = new CellTextClient(data.cells[this.cellId]!.sourceRevision, (delta, revision) =>
      this.c.send({
        type: "apply",
        sessionId: this.sessionId,
        op: { type: "apply-cell-delta", cellId: this.cellId, delta, revision },
      }),
    );
    // Registered after the helper's listener: the copy already has the op applied.
    this.c.ws.on("message", (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === "error") throw new Error(`server refused: ${m.message}`);
      if (m.type !== "applied") return;
      const op = m.op;
      if (
        (op.type !== "apply-cell-delta" && op.type !== "set-cell-source") ||
        op.cellId !== this.cellId
      )
        return;
      const s = this.c.copies.get(this.sessionId)!.cells[this.cellId]!;
      if (op.type === "apply-cell-delta" && op.revision < s.sourceRevision - 1) this.crossed++;
      if (op.type === "apply-cell-delta" && op.clientId === this.c.clientId)
        this.tc.acknowledged(s.sourceRevision);
      else
        this.text = applyDelta(
          this.text,
          this.tc.remote(s.sourceDeltas.at(-1)!.delta, s.sourceRevision),
        );
    });
  }

  edit(rng: () => number, n: number): void {
    const kind = rng();
    let delta: TextDelta;
    if (kind < 0.6 || !this.text.includes(".")) {
      const token = `[${this.c.clientId.slice(0, 4)}:${n}]`;
      this.inserted.push(token);
      delta = spliceDelta(this.safeInsertAt(Math.floor(rng() * (this.text.length + 1))), 0, token);
    } else {
      // delete (or replace) a run of filler only: never someone's typed text
      const dots = [...this.text.matchAll(/\.+/g)];
      const run = dots[Math.floor(rng() * dots.length)]!;
      const len = Math.min(run[0].length, 1 + Math.floor(rng() * 3));
      const at = run.index + Math.floor(rng() * (run[0].length - len + 1));
      const text = kind < 0.8 ? "" : ",";
      delta = spliceDelta(at, len, text);
    }
    this.text = applyDelta(this.text, delta);
    this.tc.local(delta);
  }

  /** Never insert inside a token (it would split someone's "typed word", which is fine but makes the check harder). */
  private safeInsertAt(at: number): number {
    const open = this.text.lastIndexOf("[", at - 1);
    const close = this.text.lastIndexOf("]", at - 1);
    return open > close ? this.text.indexOf("]", at) + 1 : at;
  }
}

describe("collaborative editing through the server", () => {
  let t: TestServer;
  before(async () => {
    t = await testServer({ autosaveMs: 50 });
  });
  after(async () => {
    await t.close();
  });

  for (const seed of ["one", "two", "three"]) {
    test(`4 windows typing at once into one cell converge and keep every insert (seed ${seed})`, async () => {
      const file = `together-${seed}.tsnb`;
      await writeFile(join(t.root, file), NOTEBOOK);
      const clients = await Promise.all([0, 1, 2, 3].map(() => Client.connect(t.server)));
      clients[0]!.send({ type: "open-file", path: file });
      const { sessionId, snapshot } = await clients[0]!.next("joined");
      for (const c of clients.slice(1)) {
        c.send({ type: "join", sessionId });
        await c.next("joined");
      }
      const cellId = snapshot.notebook.sections[0]!.cells[0]!.id;
      const windows = clients.map((c) => new Window(c, sessionId, cellId));
      for (const w of windows) w.start();

      const EDITS = 60;
      await Promise.all(
        windows.map(async (w, wi) => {
          const own = seeded(`${seed}-${wi}`);
          for (let n = 0; n < EDITS; n++) {
            // bursts (several edits in one tick, buffered) and pauses (deltas crossing on the wire)
            if (own() < 0.7) await new Promise((r) => setTimeout(r, Math.floor(own() * 12)));
            w.edit(own, n);
          }
        }),
      );
      // Wait until every window has nothing in flight and all have seen the same revision.
      const deadline = Date.now() + 15000;
      for (;;) {
        const revs = windows.map((w) => w.tc.revision);
        if (windows.every((w) => w.tc.synced) && revs.every((r) => r === revs[0])) break;
        if (Date.now() > deadline) throw new Error(`not converged: ${JSON.stringify(revs)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const late = await Client.connect(t.server);
      late.send({ type: "join", sessionId });
      const server = (await late.next("joined")).snapshot.notebook.sections[0]!.cells[0]!.source;
      for (const w of windows) assert.equal(w.text, server, "every window shows the server's text");
      const all = windows.flatMap((w) => w.inserted);
      for (const token of all)
        assert.equal(server.split(token).length - 1, 1, `${token} is in the text exactly once`);
      // And nothing else: the text is the tokens, the filler left and the commas that replaced some.
      assert.match(server.replace(/\[[^\]]*\]/g, ""), /^[.,]*$/);
      assert.ok(all.length > 100, `${all.length} tokens typed`);
      // The run really had edits crossing: the server transformed many of them.
      assert.ok(windows[0]!.crossed > 20, `${windows[0]!.crossed} deltas transformed`);
      for (const c of [...clients, late]) c.close();
    });
  }
  test("cursors carry the user's name and colour to the other windows and to windows that join later; a bad name or colour is refused", async () => {
    await writeFile(join(t.root, "names.tsnb"), NOTEBOOK);
    const [a, b] = await Promise.all([Client.connect(t.server), Client.connect(t.server)]);
    a.send({ type: "open-file", path: "names.tsnb" });
    const { sessionId, snapshot } = await a.next("joined");
    b.send({ type: "join", sessionId });
    await b.next("joined");
    const cellId = snapshot.notebook.sections[0]!.cells[0]!.id;
    const cursor = { type: "cursor", sessionId, cellId, anchor: 3, head: 5, revision: 0 };
    a.send({ ...cursor, name: "Ada Lovelace" });
    const seen = await b.next("cursor");
    assert.equal(seen.clientId, a.clientId);
    assert.equal(seen.name, "Ada Lovelace");
    assert.deepEqual([seen.anchor, seen.head], [3, 5]);
    // A window joining later gets the cursor, name and all.
    const c = await Client.connect(t.server);
    c.send({ type: "join", sessionId });
    await c.next("joined");
    assert.equal((await c.next("cursor")).name, "Ada Lovelace");
    // Control characters, an empty name, a long one, a non-string: refused, nothing forwarded.
    for (const name of ["a\u202eb", "x\ny", "  ", "n".repeat(41), 7]) {
      a.send({ ...cursor, name });
      const err = await a.next("error");
      assert.equal(err.code, "bad-message");
      assert.match(err.message, /name must/);
    }
    // A chosen cursor colour travels with it: an index into the page's 8 colours, nothing else.
    a.send({ ...cursor, head: 2, color: 5 });
    assert.equal((await b.next("cursor")).color, 5);
    for (const color of [8, -1, 1.5, "red", "#ff0000"]) {
      a.send({ ...cursor, color });
      const err = await a.next("error");
      assert.equal(err.code, "bad-message");
      assert.match(err.message, /color must be an integer from 0 to 7/);
    }
    a.send({ ...cursor, head: 4 });
    const next = await b.next("cursor");
    assert.equal(next.head, 4, "the refused cursors were not forwarded");
    assert.equal(next.name, undefined, "without a name the flag names the window");
    assert.equal(next.color, undefined, "without a colour the page picks one from the window");
    for (const w of [a, b, c]) w.ws.close();
  });
});
