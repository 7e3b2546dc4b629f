// End-to-end, in Chromium against the real server and kernel: the page as a daily tool (issue 11):
// Save As into a new folder.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { skipReason, startHarness, type Harness } from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);
const SHOTS = process.env["TSNB_SHOTS"];

describe("the page as a daily tool", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("Save As into a new folder creates the folder; a bad path says why in words", async () => {
    await writeFile(join(h.root, "plain-file"), "not a folder");
    const { page, errors } = await h.newPage();
    await page.getByRole("button", { name: "New notebook" }).click();
    await page.locator(".notebook").waitFor();
    const saveAs = async (path: string) => {
      await page.getByRole("button", { name: "Save", exact: true }).click();
      const input = page.getByRole("dialog", { name: "Save notebook as" }).getByRole("textbox");
      await input.fill(path);
      await input.press("Enter");
    };
    // A part of the path is a file: the message says so, with no internal (temp) path.
    await saveAs("plain-file/first.tsnb");
    const failed = page.locator(".toast").filter({ hasText: "Save failed" });
    await failed.waitFor();
    const text = (await failed.textContent()) ?? "";
    assert.match(text, /'plain-file' is a file, not a folder/);
    assert.doesNotMatch(text, /\.tmp|ENOENT|\/tmp\//);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/save-as-error.png` });
    await saveAs("my-notes/first.tsnb");
    await page.locator(".toast").filter({ hasText: "Saved as my-notes/first.tsnb" }).waitFor();
    assert.match(await readFile(join(h.root, "my-notes/first.tsnb"), "utf8"), /^# /m);
    await page.getByText("my-notes/first.tsnb").first().waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/save-as-folder.png` });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
