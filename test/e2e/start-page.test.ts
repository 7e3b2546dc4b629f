// End-to-end: the start page lists the notebooks recovered from the app data folder (an unsaved
// notebook of an earlier run) and the open notebooks, and still does after the user comes back
// from a notebook; clicking a recovered one reopens it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cell, notebookText, openFromBrowser, skipReason, startHarness, type Harness } from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("the start page", { skip: skip ?? false }, () => {
  let h: Harness;
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tsnb-e2e-data-"));
    await mkdir(join(dataDir, "unsaved"));
    await writeFile(join(dataDir, "unsaved", "earlierrun1.tsnb"), notebookText("Left unsaved", ["'recovered cell'"]));
    h = await startHarness({ dataDir });
  });
  after(async () => {
    await h?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("recovered notebooks stay listed (also after leaving a notebook) and reopen on click", async () => {
    await h.writeNotebook("plain.tsnb", notebookText("Plain", ["1"]));
    const { page, errors } = await h.newPage();
    const recovered = page.getByRole("button", { name: "Left unsaved" });
    await recovered.waitFor();
    // The start page also asks for the open sessions; that answer must not drop the list.
    await page.waitForTimeout(500);
    assert.equal(await recovered.count(), 1, "the recovered notebook is still listed");
    await openFromBrowser(page, "plain.tsnb");
    await page.getByRole("button", { name: "Files" }).click();
    await page.getByRole("heading", { name: "Open notebooks" }).waitFor();
    await page.getByRole("button", { name: "Left unsaved" }).click();
    await cell(page, 0).locator(".code-area").getByText("recovered cell").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
