// Markdown cells in Chromium against the scripted stand-in server: double-click edits, Shift+Enter
// or Escape renders again, without page errors (removing the focused textarea fires its blur).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Notebook } from "../../core/notebook.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();

const notebook: Notebook = {
  title: "Prose",
  metadata: { version: 1 },
  sections: [{ id: "s1", title: "", cells: [{ type: "markdown", id: "m", source: "Before" }] }],
};

describe("Markdown cells", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  before(async () => {
    ({ server, browser, page, errors } = await openNotebookPage("prose.tsnb", notebook));
    await page.locator('[data-cell-id="m"]').waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const key of ["Shift+Enter", "Escape"]) {
    test(`${key} in the Markdown editor renders the edit once, with no page error`, async () => {
      const cell = page.locator('[data-cell-id="m"]');
      await cell.locator(".markdown-body").dblclick();
      // Monaco (Markdown highlighting) once loaded, a textarea before: typed the same way.
      const editor = cell.locator(".markdown-editor");
      await page.waitForFunction(
        () => document.activeElement?.closest(".markdown-editor, textarea") != null,
      );
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.type(`# Edited with ${key}`);
      await page.keyboard.press(key);
      await cell.getByRole("heading", { name: `Edited with ${key}` }).waitFor();
      assert.equal(await editor.count(), 0, "the editor is gone");
      assert.equal(await cell.locator(".markdown-body").count(), 1, "one rendered view");
      const source = () => server.data("s1").notebook.sections[0]!.cells[0]!.source;
      for (let i = 0; i < 100 && source() !== `# Edited with ${key}`; i++)
        await page.waitForTimeout(30);
      assert.equal(source(), `# Edited with ${key}`);
      assert.deepEqual(errors, []);
    });
  }
});
