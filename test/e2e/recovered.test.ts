// End-to-end: edits a crash kept in the journal come back, and the page says so. One server
// (the one that "crashed": it never saves, autosave is a minute away) takes the typing; a second
// server on the same folders — as after a restart — opens the notebook in a new window.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJournal } from "../../server/journal.ts";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  typeInto,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

/** Edits in the journals under `dir` (0 while none is written). */
async function journaledEdits(dir: string): Promise<number> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.reduce((n, f) => n + (readJournal(join(dir, f))?.ops.length ?? 0), 0);
}

describe("edits recovered from the journal", { skip: skip ?? false }, () => {
  let dataDir: string;
  let crashed: Harness;
  let again: Harness;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tsnb-e2e-data-"));
    crashed = await startHarness({ dataDir, autosaveMs: 60_000, autosaveMaxMs: 60_000 });
    again = await startHarness({
      dataDir,
      root: crashed.root,
      autosaveMs: 60_000,
      autosaveMaxMs: 60_000,
    });
  });
  after(async () => {
    await again?.close();
    await crashed?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("the reopened notebook has the typing and says it was recovered until dismissed", async () => {
    const text = notebookText("Crash", ["const a = 1;"]);
    await crashed.writeNotebook("crash.tsnb", text);
    const a = await crashed.newPage();
    await openFromBrowser(a.page, "crash.tsnb");
    // A window with nothing recovered shows no notice.
    assert.equal(await a.page.getByText(/were recovered/).count(), 0);
    await typeInto(a.page, 0, "const a = 'typed before the crash';");
    const journal = join(dataDir, "journal");
    const t0 = Date.now();
    while ((await journaledEdits(journal)) === 0) {
      assert.ok(Date.now() - t0 < 20_000, "the typing reached the journal");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await readFile(join(crashed.root, "crash.tsnb"), "utf8"), text, "never saved");

    const b = await again.newPage();
    await openFromBrowser(b.page, "crash.tsnb");
    await cell(b.page, 0).getByText("typed before the crash").waitFor();
    const notice = b.page.getByRole("status").filter({ hasText: /were recovered/ });
    await notice.waitFor();
    assert.match(
      (await notice.textContent()) ?? "",
      /tsnb stopped before saving this notebook: \d+ edits? made in it were recovered\. They are not saved yet: autosave or Save writes them\./,
    );
    const box = await notice.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height < 900, JSON.stringify(box));
    const shots = process.env["TSNB_E2E_SHOTS"];
    if (shots) await b.page.screenshot({ path: join(shots, "recovered.png") });
    // Saving writes what was recovered, and the notice says so.
    // (Ctrl+S with nothing focused, right after opening.)
    await b.page.keyboard.press("ControlOrMeta+S");
    await notice.getByText(/were recovered\. They are saved\./).waitFor();
    assert.match(
      await readFile(join(crashed.root, "crash.tsnb"), "utf8"),
      /typed before the crash/,
    );
    await notice.getByRole("button", { name: "Dismiss" }).click();
    await notice.waitFor({ state: "hidden" });
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
});
