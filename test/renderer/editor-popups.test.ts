// Monaco's popups (completion list, parameter hints, hover) in Chromium: drawn inside the
// viewport and next to the cursor, in the first cell, in a cell scrolled to mid-page and in a
// 40-line cell. Cells are `content-visibility: auto` containers, which trap fixed-position
// descendants; the popups must not be inside them.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Notebook } from "../../core/notebook.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();
const SHOTS = process.env["TSNB_SHOTS"];

const long = Array.from({ length: 40 }, (_, i) => `const v${i} = ${i};`).join("\n");
const notebook: Notebook = {
  title: "Popups",
  metadata: { version: 1 },
  sections: [
    {
      id: "s1",
      title: "",
      cells: [
        { type: "code", id: "first", source: "const point = { x: 1, y: 2 };" },
        ...Array.from({ length: 30 }, (_, i) => ({
          type: "markdown" as const,
          id: `m${i}`,
          source: `Paragraph ${i} of filler text, so that the notebook is taller than the window.`,
        })),
        { type: "code", id: "middle", source: "const q = 1;" },
        ...Array.from({ length: 10 }, (_, i) => ({
          type: "markdown" as const,
          id: `n${i}`,
          source: `More filler ${i}.`,
        })),
        { type: "code", id: "long", source: long },
        ...Array.from({ length: 10 }, (_, i) => ({
          type: "markdown" as const,
          id: `z${i}`,
          source: `Trailing filler ${i}.`,
        })),
      ],
    },
  ],
};

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

describe("Monaco popups are drawn next to the cursor", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    ({ server, browser, page } = await openNotebookPage("popups.tsnb", notebook));
    await page.locator('[data-cell-id="first"] .monaco-editor').waitFor({ timeout: 30_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Focus the cell's editor with the cursor at the end of its text. */
  async function editAtEnd(cellId: string, place: "center" | "end"): Promise<void> {
    const cell = page.locator(`[data-cell-id="${cellId}"]`);
    await cell.evaluate((el, block) => el.scrollIntoView({ block }), place);
    await cell.locator(".monaco-editor .view-lines").waitFor({ timeout: 30_000 });
    await cell.locator(".monaco-editor .view-lines").click();
    await page.keyboard.press("ControlOrMeta+End");
    if (place === "end") {
      // The cursor's line in the middle of the window.
      await page.evaluate(() => window.scrollBy(0, window.innerHeight / 2 - 100));
    }
  }

  async function cursorBox(cellId: string): Promise<Box> {
    const box = await page
      .locator(`[data-cell-id="${cellId}"] .monaco-editor .cursors-layer .cursor`)
      .first()
      .boundingBox();
    assert.ok(box, "the cursor is drawn");
    return box;
  }

  async function assertNextTo(popup: string, cellId: string, what: string): Promise<void> {
    const widget = page.locator(popup).locator("visible=true").first();
    await widget.waitFor({ state: "visible", timeout: 30_000 });
    // Let Monaco place it (it lays out on the next frame).
    await page.waitForTimeout(200);
    const box = await widget.boundingBox();
    const cursor = await cursorBox(cellId);
    const view = page.viewportSize()!;
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/popup-${cellId}-${what}.png` });
    assert.ok(box, `${what} has a box`);
    const where = `${what} at ${JSON.stringify(box)}, cursor ${JSON.stringify(cursor)}`;
    assert.ok(box.y >= 0 && box.y + box.height <= view.height, `inside the window: ${where}`);
    assert.ok(box.x >= 0 && box.x + box.width <= view.width, `inside the window: ${where}`);
    // Above or below the cursor's line, touching it (Monaco leaves a few pixels).
    const gapBelow = box.y - (cursor.y + cursor.height);
    const gapAbove = cursor.y - (box.y + box.height);
    assert.ok(
      (gapBelow >= -4 && gapBelow <= 30) || (gapAbove >= -4 && gapAbove <= 30),
      `next to the cursor's line: ${where}`,
    );
    assert.ok(Math.abs(box.x - cursor.x) < 120, `starts near the cursor's column: ${where}`);
  }

  for (const [cellId, place] of [
    ["first", "center"],
    ["middle", "center"],
    ["long", "end"],
  ] as const) {
    test(`completion list and parameter hints in cell "${cellId}"`, async () => {
      await editAtEnd(cellId, place);
      await page.keyboard.insertText("\nMath.");
      await page.keyboard.press("Control+Space");
      await page
        .locator(".suggest-widget .monaco-list-row")
        .locator("visible=true")
        .first()
        .waitFor({ timeout: 30_000 });
      await assertNextTo(".suggest-widget", cellId, "completion list");
      await page.keyboard.press("Escape");
      await page.keyboard.insertText("max(");
      await page.keyboard.press("ControlOrMeta+Shift+Space");
      await assertNextTo(".parameter-hints-widget", cellId, "parameter hints");
      await page.keyboard.press("Escape");
    });
  }

  test("Shift+Enter with the completion list open runs the cell and closes the list", async () => {
    await editAtEnd("middle", "center");
    await page.keyboard.insertText("\nMath.");
    await page.keyboard.press("Control+Space");
    const list = page.locator(".suggest-widget .monaco-list-row").locator("visible=true");
    await list.first().waitFor({ timeout: 30_000 });
    const before = server.data("s1").cells["middle"]!.evaluationSeq;
    await page.keyboard.press("Shift+Enter");
    await page.locator(".suggest-widget").locator("visible=true").waitFor({ state: "hidden" });
    assert.equal(await list.count(), 0, "no completion row is left on the page");
    // …and the cell ran.
    const t0 = Date.now();
    while (server.data("s1").cells["middle"]!.evaluationSeq === before) {
      assert.ok(Date.now() - t0 < 10_000, "the cell ran");
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test("hover over a name shows its type next to it", async () => {
    await editAtEnd("first", "center");
    const word = page.locator('[data-cell-id="first"] .view-line').first().getByText("point");
    await word.hover();
    const hover = page.locator(".monaco-hover:not(.hidden)").filter({ hasText: "point" });
    await hover.first().waitFor({ state: "visible", timeout: 30_000 });
    await page.waitForTimeout(200);
    const box = (await hover.first().boundingBox())!;
    const w = (await word.boundingBox())!;
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/popup-hover.png` });
    const where = `hover at ${JSON.stringify(box)}, word ${JSON.stringify(w)}`;
    assert.ok(box.y >= 0 && box.y + box.height <= page.viewportSize()!.height, where);
    const gap = Math.min(Math.abs(box.y - (w.y + w.height)), Math.abs(w.y - (box.y + box.height)));
    assert.ok(gap <= 30, `next to the word: ${where}`);
  });
});
