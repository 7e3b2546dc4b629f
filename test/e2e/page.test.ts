// End-to-end, in Chromium against the real server and kernel: the page as a daily tool (issue 11):
// Save As into a new folder; errors in place.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
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

  /** The top of the error-line highlight and of the n-th (1-based) line in a cell's editor. */
  async function markedLine(page: Page, n: number, line: number) {
    const editor = cell(page, n).locator(".monaco-editor").first();
    await editor.locator(".tsnb-error-line").waitFor({ state: "attached", timeout: 30_000 });
    return editor.evaluate((el, line) => {
      const mark = el.querySelector(".tsnb-error-line")!.getBoundingClientRect();
      const lines = [...el.querySelectorAll(".view-line")].map((l) => l.getBoundingClientRect());
      lines.sort((a, b) => a.top - b.top);
      return { mark: Math.round(mark.top), line: Math.round(lines[line - 1]!.top) };
    }, line);
  }

  test("an error says its line in the cell and marks it in the editor, also in another cell", async () => {
    await h.writeNotebook(
      "errors.tsnb",
      notebookText("Errors", [
        "md:Some text first, so the file's lines differ from the cells'.",
        "// helpers\nfunction failLater(): never {\n  throw new Error('from the helper');\n}",
        "const a = 1;\nconst b = 2;\nnull!.x",
        "const c = 3;\nfailLater();",
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "errors.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    const place = cell(page, 2).locator(".error-location");
    await place.waitFor({ timeout: 60_000 });
    assert.equal(await place.textContent(), "at line 3, column 7 of this cell");
    const m = await markedLine(page, 2, 3);
    assert.equal(m.mark, m.line, "the third line is marked");
    // The cell after it: its error is in the helper cell, which marks its own line 3.
    await cell(page, 3).locator(".cell-toolbar").getByRole("button", { name: "Run cell" }).click();
    const other = cell(page, 3).locator(".error-location");
    await other.waitFor({ timeout: 60_000 });
    assert.equal(await other.textContent(), "at line 3, column 9 of code cell 1 in “Cells”");
    const hm = await markedLine(page, 1, 3);
    assert.equal(hm.mark, hm.line);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/errors-in-place.png` });
    // Going there puts the cursor on that line of the helper cell.
    await other.getByRole("button").click();
    await page.waitForFunction(
      () => document.activeElement?.closest("[data-cell-id] .monaco-editor") !== null,
    );
    // Running the failing cell again after fixing it removes the mark.
    await typeInto(page, 2, "const a = 1;\nconst b = 2;\na + b");
    // (the Run button: Shift+Enter while the completion list is open accepts a completion)
    await cell(page, 2).locator(".cell-toolbar").getByRole("button", { name: "Run cell" }).click();
    await cell(page, 2)
      .locator(".outputs")
      .getByText("3", { exact: true })
      .waitFor({ timeout: 60_000 });
    assert.equal(await cell(page, 2).locator(".tsnb-error-line").count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("an unsaved notebook's errors say the cell's line too", async () => {
    const { page, errors } = await h.newPage();
    await page.getByRole("button", { name: "New notebook" }).click();
    await page.locator(".notebook .cell").first().waitFor();
    await typeInto(page, 0, "const x = 1;\nthrow new TypeError('bad x');");
    await page.keyboard.press("Shift+Enter");
    const place = cell(page, 0).locator(".error-location");
    await place.waitFor({ timeout: 60_000 });
    assert.equal(await place.textContent(), "at line 2, column 7 of this cell");
    assert.doesNotMatch(await cell(page, 0).locator(".outputs").innerText(), /notebook file/);
    const m = await markedLine(page, 0, 2);
    assert.equal(m.mark, m.line);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/errors-unsaved.png` });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
