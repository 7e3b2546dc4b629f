// End-to-end: the start page lists the notebooks recovered from the app data folder (an unsaved
// notebook of an earlier run) and the open notebooks, and still does after the user comes back
// from a notebook; clicking a recovered one reopens it. `tsnb serve FILE.tsnb` (what `npm start --
// FILE.tsnb` runs without Electron) prints a URL that opens that notebook.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("the start page", { skip: skip ?? false }, () => {
  let h: Harness;
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "tsnb-e2e-data-"));
    await mkdir(join(dataDir, "unsaved"));
    await writeFile(
      join(dataDir, "unsaved", "earlierrun1.tsnb"),
      notebookText("Left unsaved", ["'recovered cell'"]),
    );
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
    await page.getByRole("button", { name: "Start page" }).click();
    await page.getByRole("heading", { name: /^Running sessions/ }).waitFor();
    await page.getByRole("button", { name: "Left unsaved" }).click();
    await cell(page, 0).locator(".code-area").getByText("recovered cell").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe("tsnb serve FILE.tsnb", { skip: skip ?? false }, () => {
  test("serves the notebook's folder and the printed URL opens that notebook", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "tsnb-e2e-file-"));
    const file = join(tmp, "my notes.tsnb");
    await writeFile(file, notebookText("Opened directly", ["'from the file'"]));
    const repo = join(fileURLToPath(import.meta.url), "../../..");
    const child = spawn(
      process.execPath,
      [join(repo, "bin/tsnb.js"), "serve", file, "--no-open", "--port", "0"],
      {
        env: { ...process.env, TSNB_DATA_DIR: join(tmp, "data") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise((r) => child.on("exit", r));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      for (let i = 0; i < 200 && !/token=/.test(out); i++)
        await new Promise((r) => setTimeout(r, 50));
      const url = out.split("\n").find((l) => l.includes("token="));
      assert.ok(url, `no URL printed: ${out}`);
      assert.match(out, new RegExp(`serving ${tmp}`));
      const page = await browser.newPage();
      await page.goto(url);
      await page.getByRole("heading", { name: "Opened directly" }).waitFor();
      await cell(page, 0).locator(".code-area").getByText("from the file").waitFor();
      assert.match(
        page.url(),
        /#session=/,
        "a reload comes back to the session, not the open request",
      );
    } finally {
      await browser.close();
      child.kill("SIGINT");
      await exited;
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
