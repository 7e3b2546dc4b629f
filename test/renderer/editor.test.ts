// Code cells in Monaco, in Chromium: TypeScript diagnostics and completion from Monaco's worker,
// knowing the names (and types) that earlier cells define; the editor loads lazily.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Notebook } from "../../core/notebook.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();

const notebook: Notebook = {
  title: "Types",
  metadata: { version: 1 },
  sections: [
    {
      id: "s1",
      title: "",
      cells: [
        {
          type: "code",
          id: "def",
          source:
            "const answer = { n: 42, label: 'life' };\nfunction twice(x: number): number {\n  return 2 * x;\n}",
        },
        { type: "code", id: "good", source: "twice(answer.n)" },
        { type: "code", id: "bad", source: "answer.missing + twice('no')" },
        { type: "code", id: "redeclare", source: "const answer = 1;\nanswer" },
        {
          type: "code",
          id: "lib",
          source: 'import { display, md } from "tsnb";\ndisplay(md`# hi`).update(1);',
        },
        {
          type: "code",
          id: "libbad",
          source: 'import { display } from "tsnb";\ndisplay.noSuchThing(1);',
        },
        // Imports of earlier cells are bindings of the kernel's global scope: later cells use
        // them without importing again, with their types.
        { type: "code", id: "importuse", source: "display.markdown('ok');\nnsAlias.md" },
        { type: "code", id: "importbad", source: "display.notThere(2);" },
        { type: "code", id: "importns", source: 'import * as nsAlias from "tsnb";' },
      ],
    },
  ],
};

describe("code cells in Monaco", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    ({ server, browser, page } = await openNotebookPage("types.tsnb", notebook));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  const squiggles = (id: string) => page.locator(`[data-cell-id="${id}"] .squiggly-error`);

  test("cells start as highlighted static code and become Monaco editors", async () => {
    await page
      .locator('[data-cell-id="def"] .static-code .hljs-keyword')
      .first()
      .waitFor({ state: "attached" });
    await page.locator('[data-cell-id="def"] .monaco-editor').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('[data-cell-id="def"] .static-code').count(), 0);
  });

  test("diagnostics know the types of names defined by earlier cells", async () => {
    await page.locator('[data-cell-id="bad"] .monaco-editor .view-lines').click();
    // answer.missing and twice('no') are both errors
    await page.waitForFunction(
      () => document.querySelectorAll('[data-cell-id="bad"] .squiggly-error').length >= 2,
      undefined,
      { timeout: 30_000 },
    );
    // Editing "good": the names before it are declared with their types, and none after it.
    await page.locator('[data-cell-id="good"] .monaco-editor .view-lines').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-cell-id="good"] .squiggly-error').length === 0,
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(
      await squiggles("redeclare").count(),
      0,
      "each cell is its own module: redeclaring is fine",
    );
    assert.equal(await squiggles("def").count(), 0);
  });

  test("the tsnb standard library's declarations are known to the editor", async () => {
    await page.locator('[data-cell-id="libbad"]').scrollIntoViewIfNeeded();
    await squiggles("libbad").first().waitFor({ timeout: 30_000 });
    assert.equal(
      await squiggles("lib").count(),
      0,
      "display, md and DisplayHandle.update type-check",
    );
  });

  test("names imported by earlier cells are known, with their types, to later cells", async () => {
    await page.locator('[data-cell-id="importbad"]').scrollIntoViewIfNeeded();
    await page.locator('[data-cell-id="importbad"] .monaco-editor .view-lines').click();
    await squiggles("importbad").first().waitFor({ timeout: 30_000 });
    await page.locator('[data-cell-id="importuse"] .monaco-editor .view-lines').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-cell-id="importuse"] .squiggly-error').length === 0,
      undefined,
      { timeout: 30_000 },
    );
  });

  test("completion lists the members of a value from an earlier cell", async () => {
    await page.locator('[data-cell-id="good"] .monaco-editor .view-lines').click();
    await page.keyboard.press("ControlOrMeta+End");
    await page.keyboard.insertText("\nanswer.");
    await page.keyboard.press("Control+Space");
    const widget = page.locator(".suggest-widget .monaco-list-row");
    await widget.first().waitFor({ timeout: 20_000 });
    const labels = await widget.allTextContents();
    assert.ok(
      labels.some((l) => l.includes("label")),
      `suggestions: ${labels.join(", ")}`,
    );
    await page.keyboard.press("Escape");
  });

  test("typing is sent to the server as the cell's source", async () => {
    const source = () => server.data("s1").notebook.sections[0]!.cells[1]!.source;
    for (let i = 0; i < 100 && !source().includes("\nanswer."); i++) await page.waitForTimeout(30);
    assert.match(source(), /twice\(answer\.n\)\nanswer\./);
  });
});
