// Issue 13, "a change by another program during an autosave is overwritten silently": a 3 MB
// notebook is edited so an autosave starts, and another program writes the file at a random
// moment around it (before, during, after the write). The other program's content must be what
// the file holds afterwards (never overwritten by the autosave), and the session must raise the
// changed-on-disk choice (its own edits kept in memory and in the journal). 30 rounds each for a
// program that writes the file in place and one that replaces it by a rename (as editors do).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportNotebook } from "../../core/format/index.ts";
import type { Notebook } from "../../core/notebook.ts";
import { Client, testServer } from "./helpers.ts";

function big(title: string): string {
  const nb: Notebook = {
    title,
    metadata: { version: 1 },
    sections: [
      {
        id: "s",
        title: "Data",
        cells: Array.from({ length: 3000 }, (_, i) => ({
          type: "code" as const,
          id: `c${i}`,
          source: `// cell ${i}\nconst v${i} = ${"[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]".repeat(31)};`,
        })),
      },
    ],
  };
  return exportNotebook(nb);
}

for (const how of ["in place", "by rename"] as const) {
  test(
    `another program writing a 3 MB notebook ${how} during autosaves: never overwritten, the choice raised`,
    { timeout: 600_000 },
    async () => {
      const t = await testServer({ autosaveMs: 10, autosaveMaxMs: 10 });
      const ROUNDS = 30;
      const outcome = { savedBefore: 0, refusedAtWrite: 0, conflicts: 0 };
      try {
        const original = big("Ours");
        assert.ok(original.length > 3_000_000, `${original.length} bytes`);
        const c = await Client.connect(t.server);
        for (let round = 0; round < ROUNDS; round++) {
          const name = `race-${how.replace(" ", "-")}-${round}.tsnb`;
          const file = join(t.root, name);
          await writeFile(file, original);
          c.send({ type: "open-file", path: name });
          const { sessionId } = await c.next("joined");
          let saved = false;
          const onMsg = (raw: Buffer) => {
            const m = JSON.parse(raw.toString());
            if (m.type === "applied" && m.sessionId === sessionId && m.op.type === "notebook-saved")
              saved = true;
          };
          c.ws.on("message", onMsg);
          c.send({ type: "apply", sessionId, op: { type: "set-title", title: `edited ${round}` } });
          const theirs = big(`Theirs ${round}`);
          // The autosave starts ~10 ms after the edit and takes tens to hundreds of ms for 3 MB here: land anywhere in it.
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 500)));
          const savedBeforeTheirs = saved;
          if (how === "in place") await writeFile(file, theirs);
          else {
            await writeFile(`${file}.other-editor~`, theirs);
            await rename(`${file}.other-editor~`, file);
          }
          // Settle: the watcher or the write's own check raises the choice.
          for (let i = 0; i < 250; i++) {
            if (c.copies.get(sessionId)?.diskConflict) break;
            await new Promise((r) => setTimeout(r, 20));
          }
          await new Promise((r) => setTimeout(r, 100));
          c.ws.off("message", onMsg);
          const onDisk = await readFile(file, "utf8");
          assert.equal(onDisk, theirs, `round ${round}: the other program's file was overwritten`);
          const data = c.copies.get(sessionId)!;
          assert.ok(data.diskConflict, `round ${round}: the changed-on-disk choice is raised`);
          assert.equal(data.notebook.title, `edited ${round}`, "our edit is kept");
          outcome.conflicts++;
          if (savedBeforeTheirs) outcome.savedBefore++;
          else if (!saved) outcome.refusedAtWrite++;
          c.send({ type: "close-session", sessionId });
          await c.next("done");
        }
        console.log(
          `# disk race (${how}): ${ROUNDS} rounds, 0 overwritten, ${outcome.conflicts} choices raised; ` +
            `our save had finished before theirs in ${outcome.savedBefore}, ours was not written in ${outcome.refusedAtWrite}`,
        );
        c.close();
      } finally {
        await t.close();
      }
    },
  );
}
