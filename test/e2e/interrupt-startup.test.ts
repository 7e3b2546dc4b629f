// End-to-end: Interrupt pressed right after Run, while the kernel process is still starting,
// stops the cell (it is cancelled before it runs) and the kernel then serves the next cells.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("interrupt while the kernel starts, in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("Run then Interrupt at once: the cell is aborted without waiting for the kernel; the next cell runs", async () => {
    await h.writeNotebook(
      "start.tsnb",
      notebookText("Start", [
        'console.log("loop started");\nwhile (true) {}',
        "const ok = 'still alive';\nok",
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "start.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await page.getByRole("button", { name: "Interrupt" }).click();
    await cell(page, 0)
      .locator(".cell-status")
      .getByText(/Aborted/)
      .waitFor({ timeout: 15_000 });
    await cell(page, 1).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 1).locator(".outputs").getByText("still alive").waitFor({ timeout: 20_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
