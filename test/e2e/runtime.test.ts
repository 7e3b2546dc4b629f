// End-to-end, in Chromium against the real server: the runtime picker (issue 16). A user adds a
// Jupyter server (a real one, started on loopback with the tsnb kernelspec) from the header,
// chooses it, and the notebook's cells run in that server's process tree — for every window on
// the notebook; a wrong token is refused in the dialog; the token never reaches the page or the
// notebook file and is kept owner-only in the app data folder; switching back runs locally.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";
import { installKernelspec, startJupyterServer, type Server } from "../jupyter/jupyter-server.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);
const SHOTS = process.env["TSNB_SHOTS"];
const TOKEN = "picker-token-5d1c0e9a77b2";

describe("the runtime picker", { skip: skip ?? false }, () => {
  let h: Harness;
  let jupyter: Server;
  let dir: string;
  before(async () => {
    const k = installKernelspec("tsnb-e2e-runtime-");
    dir = k.dir;
    jupyter = await startJupyterServer(k.env, dir, TOKEN);
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
    jupyter?.proc.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const where = (page: Page) => cell(page, 0).locator(".outputs");

  /** Run the cell; resolves when its output says `expected`. */
  async function runWhere(page: Page, expected: string): Promise<void> {
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await where(page).getByText(expected, { exact: true }).waitFor({ timeout: 60_000 });
  }

  test("add a Jupyter server, choose it: cells run there, in every window; back to local", async () => {
    await h.writeNotebook(
      "remote.tsnb",
      notebookText("Remote", [
        'console.log("parent " + (process.env["JPY_PARENT_PID"] ?? "none"));',
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "remote.tsnb");
    const picker = page.getByRole("button", { name: "Runtime: Local" });
    await picker.waitFor();

    // A wrong token: the dialog says so, nothing is added.
    await picker.click();
    const dialog = page.getByRole("dialog", { name: "Runtime" });
    await dialog.getByText("Add a Jupyter server").click();
    await dialog.getByRole("textbox", { name: "Name" }).fill("loopback");
    await dialog.getByRole("textbox", { name: "Server URL" }).fill(jupyter.url);
    await dialog.getByLabel("Token").fill("not-the-token");
    await dialog.getByRole("button", { name: "Add server" }).click();
    await dialog
      .getByRole("alert")
      .getByText(/refused the token \(403\)/)
      .waitFor();
    assert.equal(await dialog.getByRole("radio").count(), 1);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/runtime-refused.png` });

    // The URL as Jupyter prints it, token included.
    await dialog.getByLabel("Token").fill("");
    await dialog
      .getByRole("textbox", { name: "Server URL" })
      .fill(`${jupyter.url}lab?token=${TOKEN}`);
    await dialog.getByRole("button", { name: "Add server" }).click();
    const radio = dialog.getByRole("radio", { name: "loopback" });
    await radio.waitFor();
    assert.ok(await radio.isChecked(), "the added server is chosen");
    await dialog.getByText(jupyter.url).waitFor();
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/runtime-dialog.png` });
    // The dialog is inside the window (not drawn off-screen).
    const box = (await dialog.boundingBox())!;
    assert.ok(box.y >= 0 && box.y + box.height <= 900 && box.x >= 0 && box.x + box.width <= 1280);
    await dialog.getByRole("button", { name: "Use" }).click();
    await page.getByRole("button", { name: "Runtime: loopback" }).waitFor();

    await runWhere(page, `parent ${jupyter.proc.pid}`);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/runtime-remote.png` });

    // Another window on the notebook sees the choice.
    const other = await h.newPage();
    await openFromBrowser(other.page, "remote.tsnb");
    await other.page.getByRole("button", { name: "Runtime: loopback" }).waitFor();

    // The token is nowhere on the page, nor in the notebook; the user's runtimes file keeps it,
    // readable by the user only.
    for (const p of [page, other.page]) assert.ok(!(await p.content()).includes(TOKEN));
    await page.keyboard.press("Control+s");
    await page.waitForTimeout(500);
    const saved = await readFile(join(h.root, "remote.tsnb"), "utf8");
    assert.ok(!saved.includes(TOKEN) && !saved.includes(String(jupyter.port)), saved);
    const store = join(h.root, "..", "data", "runtimes.json");
    assert.ok((await readFile(store, "utf8")).includes(TOKEN));
    assert.equal((await stat(store)).mode & 0o777, 0o600);

    // Back to this machine.
    await page.getByRole("button", { name: "Runtime: loopback" }).click();
    await dialog.getByRole("radio", { name: "This machine" }).check();
    await dialog.getByRole("button", { name: "Use" }).click();
    await page.getByRole("button", { name: "Runtime: Local" }).waitFor();
    await runWhere(page, "parent none");
    assert.deepEqual(errors, []);
    assert.deepEqual(other.errors, []);
  });
});
