// End-to-end: an `npm:` import in the app. Running the cell installs the package from the real
// registry with a progress line in the cell, the result shows, and the version resolved is
// recorded in the notebook file (the reducer's `evaluation-finished`, then autosave).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cell,
  notebookText,
  openFromBrowser,
  outputsOf,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("npm: imports in the page", { skip: skip ?? false }, () => {
  let h: Harness;
  let cache: string;
  let savedCache: string | undefined;
  before(async () => {
    cache = mkdtempSync(join(tmpdir(), "tsnb-npm-e2e-"));
    savedCache = process.env["TSNB_NPM_CACHE"];
    // The server's kernels inherit the environment.
    process.env["TSNB_NPM_CACHE"] = cache;
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
    if (savedCache === undefined) delete process.env["TSNB_NPM_CACHE"];
    else process.env["TSNB_NPM_CACHE"] = savedCache;
    rmSync(cache, { recursive: true, force: true });
  });

  test("running the cell installs the package with progress in the cell and records its version in the file", async () => {
    await h.writeNotebook(
      "deps.tsnb",
      notebookText("Deps", ['import isOdd from "npm:is-odd@^3";\n`odd: ${isOdd(5)}`']),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "deps.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await outputsOf(page, 0).getByText("odd: true").waitFor({ timeout: 90_000 });
    const progress = cell(page, 0).locator(".output-progress");
    assert.match(
      (await progress.textContent()) ?? "",
      /Installed npm:is-odd@3\.0\.1 \(2 packages, [\d.]+ s\) 100%/,
    );
    // Autosave writes the recorded version into the notebook's metadata.
    const file = join(h.root, "deps.tsnb");
    let text = "";
    for (let i = 0; i < 50 && !text.includes('"dependencies"'); i++) {
      await page.waitForTimeout(200);
      text = readFileSync(file, "utf8");
    }
    assert.match(
      text,
      /^<!-- tsnb:notebook \{"version":1,"dependencies":\{"is-odd":"3\.0\.1"\}\} -->\n/,
    );
    assert.deepEqual(errors, []);
    const shots = process.env["TSNB_SCREENSHOTS"];
    if (shots) await cell(page, 0).screenshot({ path: join(shots, "npm-cell.png") });
    await page.close();
  });
});
