// End-to-end: the file browser lists Jupyter notebooks and opens them through the importer
// (their outputs shown, what did not come across listed); saving writes NAME.tsnb beside the
// .ipynb and never the .ipynb; when NAME.tsnb exists already the notebook has no file (Save As).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openFromBrowser, skipReason, startHarness, type Harness } from "./harness.ts";

const fixtures = join(fileURLToPath(import.meta.url), "..", "..", "fixtures", "ipynb");
const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("opening a .ipynb", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await copyFile(join(fixtures, "deno-display.ipynb"), join(h.root, "display.ipynb"));
    await copyFile(join(fixtures, "ijavascript-magics.ipynb"), join(h.root, "magics.ipynb"));
    await h.writeNotebook("magics.tsnb", "# Someone's own notebook\n");
  });
  after(async () => h?.close());

  test("shows its cells, images and warnings; Save writes display.tsnb, never the .ipynb", async () => {
    const original = await readFile(join(h.root, "display.ipynb"), "utf8");
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "display.ipynb");
    const banner = page.locator(".import-banner");
    await banner.getByText("Imported from display.ipynb. Saving writes display.tsnb").waitFor();
    await banner.getByText(/things? did not come across/).click();
    await banner.getByText(/image\/png outputs are shown when opened/).waitFor();
    // The PNG outputs the Deno kernel drew are shown as images.
    await page.locator(".notebook img[src^='data:image/png;base64,iVBOR']").first().waitFor();
    assert.ok((await page.locator(".notebook img[src^='data:image/png']").count()) >= 4);
    await page.getByRole("button", { name: "Save" }).first().click();
    for (let i = 0; i < 200; i++) {
      if (
        await stat(join(h.root, "display.tsnb")).then(
          () => true,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const saved = await readFile(join(h.root, "display.tsnb"), "utf8");
    assert.match(
      saved,
      /^<!-- tsnb:notebook \{"version":1,"persistOutputs":true\} -->\n# display\n/,
    );
    assert.match(saved, /```ts\nawait Deno\.jupyter\.display\(/);
    assert.equal(await readFile(join(h.root, "display.ipynb"), "utf8"), original);
    assert.deepEqual(errors, []);
  });

  test("when NAME.tsnb exists it is left alone: the notebook has no file until Save As", async () => {
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "magics.ipynb");
    await page.locator(".import-banner").getByText("Use Save As to keep it as a .tsnb").waitFor();
    await page.locator(".notebook .cell").getByText("// %echo hi there").first().waitFor();
    await page.locator(".nb-path").getByText("Unsaved notebook").waitFor();
    await page.screenshot({ path: join(h.root, "..", "ipynb-open.png") });
    if (process.env["TSNB_SHOT"]) await page.screenshot({ path: process.env["TSNB_SHOT"] });
    assert.equal(await readFile(join(h.root, "magics.tsnb"), "utf8"), "# Someone's own notebook\n");
    assert.deepEqual(errors, []);
  });
});
