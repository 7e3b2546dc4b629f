// Moving a cell with Alt+↓/Alt+↑ across section boundaries, in Chromium against the scripted
// stand-in server: the moved cell stays selected and focused, so the key can be pressed again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Notebook } from "../../core/notebook.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();

const notebook: Notebook = {
  title: "Moves",
  metadata: { version: 1 },
  sections: [
    {
      id: "s1",
      title: "One",
      cells: [
        { type: "code", id: "a", source: "1" },
        { type: "code", id: "b", source: "2" },
      ],
    },
    { id: "s2", title: "Two", cells: [{ type: "code", id: "c", source: "3" }] },
  ],
};

describe("moving cells across sections", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];
  before(async () => {
    ({ server, browser, page, errors } = await openNotebookPage("moves.tsnb", notebook));
    await page.locator('[data-cell-id="a"]').waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const layout = () =>
    server
      .data("s1")
      .notebook.sections.map((s) => s.cells.map((c) => c.id).join(""))
      .join("|");
  const until = async (want: string) => {
    for (let i = 0; i < 100 && layout() !== want; i++) await page.waitForTimeout(30);
    assert.equal(layout(), want);
  };
  const focusedCell = () =>
    page.evaluate(
      () => document.activeElement?.closest(".cell")?.getAttribute("data-cell-id") ?? null,
    );

  test("Alt+↓ pressed repeatedly carries a cell into the next section and on; Alt+↑ brings it back", async () => {
    await page.locator('[data-cell-id="b"]').focus();
    await page.keyboard.press("Alt+ArrowDown");
    await until("a|bc");
    assert.equal(await focusedCell(), "b", "the moved cell keeps the focus");
    await page.keyboard.press("Alt+ArrowDown");
    await until("a|cb");
    await page.keyboard.press("Alt+ArrowUp");
    await until("a|bc");
    await page.keyboard.press("Alt+ArrowUp");
    await until("ab|c");
    assert.equal(await focusedCell(), "b");
    assert.deepEqual(errors, []);
  });
});
