// End-to-end: running sessions, kernel shutdown (by hand and after the idle timeout), restart
// confirmation and the bin of deleted cells — the page in Chromium, the real server and kernel.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  cell,
  cellIds,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

const output = (page: Page, n: number) => cell(page, n).locator(".outputs");

/** Run cell n and wait for that run to finish (a cell that ran before already says "Done in"). */
async function runCell(page: Page, n: number): Promise<void> {
  const id = await cell(page, n).getAttribute("data-cell-id");
  const seq = await page.evaluate((id) => window.__tsnb!.data()!.cells[id!]!.evaluationSeq, id);
  await cell(page, n).getByRole("button", { name: "Run cell" }).click();
  await page.waitForFunction(
    ({ id, seq }) => {
      const s = window.__tsnb!.data()!.cells[id!]!;
      return s.evaluationSeq !== seq && (s.status.type === "done" || s.status.type === "error");
    },
    { id, seq },
    { timeout: 60_000 },
  );
  await cell(page, n)
    .locator(".cell-status")
    .getByText(/Done in|Error after/)
    .waitFor();
}

const kernelStatus = (page: Page) => page.evaluate(() => window.__tsnb!.data()!.kernel);

/** A process id is alive (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("running sessions, shutdown, restart confirmation, bin", { skip: skip ?? false }, () => {
  let h: Harness;
  /** Where screenshots go: $TSNB_E2E_SHOTS to keep them, else the test's temp folder. */
  const shots = () => process.env["TSNB_E2E_SHOTS"] ?? join(h.root, "..");
  before(async () => {
    // The idle timeout's default for this server: 0.1 min = 6 s (the user picks minutes).
    h = await startHarness({ idleShutdownMinutes: 0.1 });
  });
  after(async () => {
    await h?.close();
  });

  test("the start page lists each notebook's kernel and memory; Shut down kernel and Close work", async () => {
    await h.writeNotebook(
      "one.tsnb",
      notebookText("Notebook one", ["const big = new Float64Array(4e6).fill(1);\nprocess.pid"]),
    );
    await h.writeNotebook("two.tsnb", notebookText("Notebook two", ["process.pid"]));
    const a = await h.newPage();
    await openFromBrowser(a.page, "one.tsnb");
    await runCell(a.page, 0);
    const pidOne = Number(await output(a.page, 0).locator(".output-value").innerText());
    assert.ok(pidOne > 0 && alive(pidOne), "the kernel of one.tsnb runs");
    const b = await h.newPage();
    await openFromBrowser(b.page, "two.tsnb");
    await runCell(b.page, 0);

    const home = await h.newPage();
    const sessions = home.page.getByRole("list", { name: "Running sessions" });
    const rowOne = sessions.locator(".session-row", { hasText: "Notebook one" });
    const rowTwo = sessions.locator(".session-row", { hasText: "Notebook two" });
    await rowOne.getByText(/idle · \d+ MB/).waitFor();
    await rowTwo.getByText(/idle · \d+ MB/).waitFor();
    const mb = Number(/(\d+) MB/.exec(await rowOne.locator(".session-kernel").innerText())![1]);
    assert.ok(mb >= 40, `one.tsnb's kernel holds a 32 MB array: ${mb} MB shown`);
    assert.match(await rowOne.innerText(), /one\.tsnb · 1 window/);
    await home.page
      .getByRole("heading", { name: /Running sessions 2 open · 2 kernels · \d+ MB/ })
      .waitFor();
    await home.page.screenshot({ path: join(shots(), "sessions-start.png") });

    // Shut down the kernel of one.tsnb: its process ends, the notebook stays open.
    await rowOne.getByRole("button", { name: "Shut down kernel" }).click();
    await rowOne.getByText("no kernel").waitFor();
    await a.page.locator(".kernel-status", { hasText: "Kernel not started" }).waitFor();
    for (let i = 0; i < 50 && alive(pidOne); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pidOne), false, "the kernel process is gone");
    assert.equal((await kernelStatus(a.page)).reason, "the kernel was shut down");
    assert.equal(
      await cell(a.page, 0).getAttribute("data-validity"),
      "stale",
      "its cells are stale: the variables are gone",
    );
    // The next run starts a fresh kernel.
    await runCell(a.page, 0);
    assert.notEqual(Number(await output(a.page, 0).locator(".output-value").innerText()), pidOne);

    // Close two.tsnb (after a confirmation): gone from the list, its window goes to the start page.
    await rowTwo.getByRole("button", { name: "Close notebook" }).click();
    const dialog = home.page.getByRole("dialog", { name: "Close the notebook?" });
    await dialog.getByText(/1 other window has it open/).waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await rowTwo.waitFor({ state: "detached" });
    await b.page.getByRole("list", { name: "Files" }).waitFor();
    assert.deepEqual([...a.errors, ...b.errors, ...home.errors], []);
    await Promise.all([a.page.close(), b.page.close(), home.page.close()]);
  });

  test("the kernel of a notebook nobody has open is shut down after the timeout; the timeout is a setting", async () => {
    await h.writeNotebook("idle.tsnb", notebookText("Idle notebook", ["process.pid"]));
    const a = await h.newPage();
    await openFromBrowser(a.page, "idle.tsnb");
    await runCell(a.page, 0);
    const pid = Number(await output(a.page, 0).locator(".output-value").innerText());
    // Open, the kernel is kept however long it is idle.
    await a.page.waitForTimeout(7000);
    assert.ok(alive(pid), "a notebook someone has open keeps its kernel");
    const home = await h.newPage();
    const row = home.page
      .getByRole("list", { name: "Running sessions" })
      .locator(".session-row", { hasText: "Idle notebook" });
    await row.getByText("1 window").waitFor();
    await a.page.close();
    await row.getByText(/no window open · kernel stops in \d s/).waitFor();
    await row.getByText("no kernel").waitFor({ timeout: 10_000 });
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false, "the idle kernel's process ended");

    // Reopened: the notebook says why its kernel is gone.
    await row.getByRole("button", { name: "Idle notebook" }).click();
    await home.page.locator(".kernel-status", { hasText: "Kernel not started" }).waitFor();
    assert.match(
      (await kernelStatus(home.page)).reason ?? "",
      /^shut down after 6 s with no window open$/,
    );
    await home.page.getByRole("button", { name: "Start page" }).click();

    // The user sets the timeout; it is kept in the app data folder and shown after a reload.
    const select = home.page.getByRole("combobox", {
      name: "Shut down kernels of notebooks nobody has open after",
    });
    await select.selectOption({ label: "never" });
    await home.page.waitForFunction(async () => true);
    const settingsFile = join(h.root, "..", "data", "settings.json");
    for (let i = 0; i < 50; i++) {
      const text = await readFile(settingsFile, "utf8").catch(() => "");
      if (text.includes("null")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(JSON.parse(await readFile(settingsFile, "utf8")), {
      idleShutdownMinutes: null,
    });
    await select.selectOption({ label: "2 hours" });
    await home.page.reload();
    await home.page.waitForFunction(() => window.__tsnb?.state() === "open");
    await home.page.waitForFunction(
      () => (document.querySelector(".idle-select") as HTMLSelectElement | null)?.value === "120",
    );
    assert.deepEqual(home.errors, []);
    await home.page.close();
  });

  test("restarting a live kernel asks first; Cancel keeps the variables, Restart drops them", async () => {
    await h.writeNotebook(
      "restart.tsnb",
      notebookText("Restart", ["const kept = 41;\nkept + 1", "kept"]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "restart.tsnb");
    // No kernel yet: nothing to lose, no question.
    await page.getByRole("button", { name: "Restart kernel" }).click();
    await page.waitForTimeout(300);
    assert.equal(await page.getByRole("dialog").count(), 0);
    await runCell(page, 0);
    await page.getByRole("button", { name: "Restart kernel" }).click();
    const dialog = page.getByRole("dialog", { name: "Restart the kernel?" });
    await dialog.getByText(/Every variable the notebook defined is lost/).waitFor();
    await page.screenshot({ path: join(shots(), "restart-confirm.png") });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await runCell(page, 1);
    await output(page, 1).getByText("41", { exact: true }).waitFor();
    // The 0 0 shortcut asks too; Escape cancels.
    await cell(page, 1).click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("Escape");
    await page.keyboard.press("0");
    await page.keyboard.press("0");
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.equal((await kernelStatus(page)).status, "idle");
    // Confirmed: a fresh kernel, the variable is gone.
    await page.getByRole("button", { name: "Restart kernel" }).click();
    await dialog.getByRole("button", { name: "Restart" }).click();
    await page.waitForFunction(
      () =>
        window.__tsnb!.data()!.cells &&
        document.querySelector(".cell[data-validity='stale']") !== null,
    );
    await runCell(page, 1);
    await output(page, 1)
      .locator(".error-head")
      .getByText(/kept is not defined/)
      .waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("deleted cells go to the bin and are restored in place, in every window", async () => {
    await h.writeNotebook(
      "bin.tsnb",
      notebookText("Bin", ["const first = 1;", "md:A *Markdown* note", "const third = 3;"]),
    );
    const a = await h.newPage();
    await openFromBrowser(a.page, "bin.tsnb");
    const b = await h.newPage();
    await openFromBrowser(b.page, "bin.tsnb");
    const before = await cellIds(a.page);
    await cell(a.page, 2).getByRole("button", { name: "Delete cell" }).click();
    await cell(a.page, 0).getByRole("button", { name: "Delete cell" }).click();
    await a.page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 1,
    );
    await a.page.getByRole("button", { name: "Bin (2)" }).click();
    const entries = a.page.getByRole("list", { name: "Deleted cells" }).locator(".bin-entry");
    assert.equal(await entries.count(), 2);
    assert.match(await entries.nth(0).innerText(), /const first = 1;/, "newest first");
    assert.match(await entries.nth(1).innerText(), /const third = 3;/);
    // Search narrows the list.
    await a.page.getByRole("searchbox", { name: "Search deleted cells" }).fill("third");
    assert.equal(await entries.count(), 1);
    await a.page.screenshot({ path: join(shots(), "bin.png") });
    await entries.nth(0).getByRole("button", { name: "Restore" }).click();
    await a.page.getByRole("searchbox", { name: "Search deleted cells" }).fill("");
    await a.page
      .getByRole("list", { name: "Deleted cells" })
      .locator(".bin-entry")
      .first()
      .getByRole("button", { name: "Restore" })
      .click();
    await a.page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 3,
    );
    assert.deepEqual(await cellIds(a.page), before, "same ids, same places");
    await b.page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 3,
    );
    assert.deepEqual(await cellIds(b.page), before, "the other window too");
    await cell(b.page, 0).locator(".code-area").getByText("const first = 1;").waitFor();
    await a.page.getByRole("button", { name: "Bin", exact: true }).waitFor();
    // The restored notebook is saved as it was.
    await a.page.getByRole("button", { name: "Save" }).click();
    await a.page.locator(".save-state", { hasText: "Saved" }).waitFor();
    // "Saved" can still be the state of the autosave before the restores: wait for the file.
    let saved = "";
    for (let i = 0; i < 100; i++) {
      saved = await readFile(join(h.root, "bin.tsnb"), "utf8");
      if (saved.includes("const first") && saved.includes("const third")) break;
      await a.page.waitForTimeout(100);
    }
    assert.ok(
      saved.indexOf("const first") < saved.indexOf("Markdown") &&
        saved.indexOf("Markdown") < saved.indexOf("const third"),
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
    await Promise.all([a.page.close(), b.page.close()]);
  });
});
