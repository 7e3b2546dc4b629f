// The journal of acknowledged edits (server/journal.ts), tested at the depth where the fault is:
// a real server in its own process, edited continuously over a WebSocket (typing as text deltas,
// one in flight and a buffer, plus cell inserts), SIGKILLed at a random moment, started again on
// the same folders. Every edit whose `applied` had come back before the kill must be in the
// notebook when it is opened again — across 50 kills, with autosave both fast and slow (so kills
// land before, during and after saves and journal rotations).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spliceDelta } from "../../core/delta.ts";
import { CellTextClient } from "../../core/session/text-client.ts";
import { Client, spawnServerChild, tempDir } from "./helpers.ts";

const ROUNDS = Number(process.env["TSNB_JOURNAL_ROUNDS"] ?? 50);

test(
  `0 acknowledged edits lost across ${ROUNDS} SIGKILLs under continuous editing`,
  { timeout: 900_000 },
  async () => {
    const t = await tempDir("tsnb-journal-");
    const root = join(t.dir, "root");
    const dataDir = join(t.dir, "data");
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "j.tsnb"), "# Journal\n\n## One\n\n```ts\n// start\n```\n");
    const ackedTokens: string[] = [];
    const ackedCells: string[] = [];
    let replayedRounds = 0;
    let inFlightAtKill = 0;
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        const autosaveMs = round % 2 === 0 ? 100 : 4000;
        const child = await spawnServerChild(root, dataDir, autosaveMs);
        const c = await Client.connect(child);
        c.send({ type: "open-file", path: "j.tsnb" });
        const { sessionId, snapshot } = await c.next("joined");
        // Everything acknowledged before the last kill is here.
        const cells = snapshot.notebook.sections.flatMap((s) => s.cells);
        const source = cells[0]!.source;
        for (const token of ackedTokens)
          if (!source.includes(token)) {
            const { readFile } = await import("node:fs/promises");
            const js = await readdir(join(dataDir, "journal")).catch(() => [] as string[]);
            for (const j of js)
              console.log(j, (await readFile(join(dataDir, "journal", j), "utf8")).slice(0, 3000));
            console.log("FILE", await readFile(join(root, "j.tsnb"), "utf8"));
            console.log("SOURCE", source.slice(0, 500));
            assert.fail(`round ${round}: acknowledged ${token} lost`);
          }
        assert.equal(
          source.split("|").length - 1,
          ackedTokens.length + (source.split("|").length - 1 - ackedTokens.length),
        );
        const ids = new Set(cells.map((x) => x.id));
        for (const id of ackedCells)
          assert.ok(ids.has(id), `round ${round}: acknowledged cell ${id} lost`);
        if (snapshot.dirty) replayedRounds++;
        if (round === ROUNDS) {
          await child.kill();
          break;
        }

        const cellId = cells[0]!.id;
        const sectionId = snapshot.notebook.sections[0]!.id;
        let text = source;
        let outstanding: string[] = [];
        let buffered: string[] = [];
        const tc = new CellTextClient(snapshot.cells[cellId]!.sourceRevision, (delta, revision) =>
          c.send({
            type: "apply",
            sessionId,
            op: { type: "apply-cell-delta", cellId, delta, revision },
          }),
        );
        const sentCells = new Set<string>();
        c.ws.on("message", (raw) => {
          const m = JSON.parse(raw.toString());
          if (m.type !== "applied" || m.op.clientId !== c.clientId) return;
          if (m.op.type === "apply-cell-delta") {
            const rev = c.copies.get(sessionId)!.cells[cellId]!.sourceRevision;
            ackedTokens.push(...outstanding);
            outstanding = buffered;
            buffered = [];
            tc.acknowledged(rev);
          } else if (m.op.type === "insert-cell") ackedCells.push(m.op.cellId);
        });
        const killAt = Date.now() + 150 + Math.floor(Math.random() * 500);
        let n = 0;
        while (Date.now() < killAt) {
          const token = `|r${round}e${n}|`;
          const delta = spliceDelta(text.length, 0, token);
          text += token;
          if (tc.outstanding === null) outstanding.push(token);
          else buffered.push(token);
          tc.local(delta);
          if (n % 25 === 0) {
            const id = `r${round}c${n}`;
            sentCells.add(id);
            c.send({
              type: "apply",
              sessionId,
              op: {
                type: "insert-cell",
                sectionId,
                index: 1,
                cellType: "markdown",
                cellId: id,
                source: id,
              },
            });
          }
          n++;
          await new Promise((r) => setTimeout(r, n % 3 === 0 ? 1 : 0));
        }
        inFlightAtKill += outstanding.length + buffered.length;
        await child.kill();
        c.ws.terminate();
      }
      const journals = await readdir(join(dataDir, "journal")).catch(() => []);
      console.log(
        `# journal: ${ROUNDS} SIGKILLs, ${ackedTokens.length} acknowledged typing edits and ` +
          `${ackedCells.length} cell inserts, 0 lost; ${replayedRounds} restarts replayed a journal; ` +
          `${inFlightAtKill} edits were unacknowledged (in flight) at the kills; journals left: ${journals.length}`,
      );
      assert.ok(ackedTokens.length > ROUNDS * 20, "the editing was continuous");
      assert.ok(
        replayedRounds > ROUNDS / 4,
        "many kills came before the autosave: the journal did the work",
      );
    } finally {
      await t.cleanup();
    }
  },
);
