// End-to-end: the renderer in Debian's Chromium against a real server and kernel. One browser
// and one server are shared by the whole file; each test works on its own notebook file.
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
  typeInto,
  type Harness,
} from "./harness.ts";
import { MARKDOWN_XSS } from "./xss-payloads.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("the app in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  const output = (page: Page, n: number) => cell(page, n).locator(".outputs");

  test("open a notebook from the file browser, edit a cell, run it, see the output", async () => {
    await h.writeNotebook(
      "first.tsnb",
      notebookText("First", ["md:Some *intro*.", "const a = 20;\na + 1"]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "first.tsnb");
    await page.getByRole("heading", { name: "First" }).waitFor();
    assert.equal(await cell(page, 0).locator(".markdown-body em").textContent(), "intro");
    await typeInto(page, 1, 'const a = 20;\nconsole.log("hello from the kernel");\na * 2 + 2');
    await page.keyboard.press("Shift+Enter");
    await output(page, 1).getByText("hello from the kernel").waitFor();
    await output(page, 1).getByText("42", { exact: true }).waitFor();
    await cell(page, 1)
      .locator(".cell-status")
      .getByText(/Done in/)
      .waitFor();
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(h.root, "..", "first.png") });
    await page.close();
  });

  test("insert, move and delete cells", async () => {
    await h.writeNotebook("cells.tsnb", notebookText("Cells", ["1", "2"]));
    const { page } = await h.newPage();
    await openFromBrowser(page, "cells.tsnb");
    const [c1, c2] = await cellIds(page);
    await cell(page, 0).getByRole("button", { name: "Insert code cell" }).click();
    await page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 3,
    );
    const ids = await cellIds(page);
    assert.equal(ids[0], c1);
    assert.equal(ids[2], c2);
    const inserted = ids[1]!;
    await cell(page, 1).getByRole("button", { name: "Move up" }).click();
    await page.waitForFunction(
      (id) => window.__tsnb!.data()!.notebook.sections[0]!.cells[0]!.id === id,
      inserted,
    );
    assert.equal(
      await cell(page, 0).getAttribute("data-cell-id"),
      inserted,
      "the DOM follows the data",
    );
    await cell(page, 0).getByRole("button", { name: "Move down" }).click();
    await page.waitForFunction(
      (id) => window.__tsnb!.data()!.notebook.sections[0]!.cells[1]!.id === id,
      inserted,
    );
    await cell(page, 1).getByRole("button", { name: "Insert Markdown cell" }).click();
    await page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 4,
    );
    assert.equal(await cell(page, 2).getAttribute("data-cell-type"), "markdown");
    await cell(page, 2).locator(".markdown-editor:focus-within").waitFor();
    await page.keyboard.type("## Notes from *the test*");
    await page.keyboard.press("Escape");
    await cell(page, 2).locator("h2").getByText("Notes from").waitFor();
    await cell(page, 1).getByRole("button", { name: "Delete cell" }).click();
    await page.waitForFunction(
      () => window.__tsnb!.data()!.notebook.sections[0]!.cells.length === 3,
    );
    assert.deepEqual(
      (await cellIds(page)).filter((id) => id === inserted),
      [],
    );
    assert.equal(await page.locator(`[data-cell-id="${inserted}"]`).count(), 0);
    await page.close();
  });

  test("run all runs every code cell in order", async () => {
    await h.writeNotebook(
      "all.tsnb",
      notebookText("All", ["const x = 2;", "const y = x * 10;", "`y is ${y}`"]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "all.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await output(page, 2).getByText("y is 20").waitFor();
    for (let i = 0; i < 3; i++)
      await cell(page, i)
        .locator(".cell-status")
        .getByText(/Done in/)
        .waitFor();
    await page.close();
  });

  test("interrupt stops an infinite loop; restart clears the kernel and marks cells stale", async () => {
    await h.writeNotebook(
      "loop.tsnb",
      notebookText("Loop", ["let n = 0;\nwhile (true) { n++; }", "const ok = 'still alive';\nok"]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "loop.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .locator(".cell-status")
      .getByText(/Running/)
      .waitFor();
    // Interrupt once the kernel runs the loop, so that this stops running code (an interrupt
    // while the kernel is still starting is interrupt-startup.test.ts).
    await page.locator(".kernel-status").getByText("Kernel busy").waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "Interrupt" }).click();
    await cell(page, 0)
      .locator(".cell-status")
      .getByText(/Aborted/)
      .waitFor({ timeout: 15_000 });
    await cell(page, 1).getByRole("button", { name: "Run cell" }).click();
    await output(page, 1).getByText("still alive").waitFor({ timeout: 20_000 });
    await page.getByRole("button", { name: "Restart kernel" }).click();
    // A live kernel: the page asks first.
    await page
      .getByRole("dialog", { name: "Restart the kernel?" })
      .getByRole("button", { name: "Restart" })
      .click();
    await cell(page, 1).locator(".badge.stale").waitFor();
    await page.close();
  });

  test("save, reload the page: content and outputs are back, and the file has the edit", async () => {
    await h.writeNotebook("save.tsnb", notebookText("Save me", ["1 + 1"]));
    const { page } = await h.newPage();
    await openFromBrowser(page, "save.tsnb");
    await typeInto(page, 0, "const saved = 'persisted value';\nsaved");
    await page.keyboard.press("Shift+Enter");
    await output(page, 0).getByText("persisted value").waitFor();
    await page.keyboard.press("ControlOrMeta+S");
    await page.waitForFunction(() => window.__tsnb!.data()!.dirty === false);
    const text = await readFile(join(h.root, "save.tsnb"), "utf8");
    assert.match(text, /const saved = 'persisted value';/);
    await page.reload();
    await page.waitForFunction(() => window.__tsnb?.state() === "open");
    await output(page, 0).getByText("persisted value").waitFor();
    // Monaco draws spaces as no-break spaces once it has loaded; the static text has plain ones
    assert.match(
      ((await cell(page, 0).locator(".code-area").textContent()) ?? "").replace(/\u00a0/g, " "),
      /persisted value/,
    );
    await page.close();
  });

  test("two pages on one notebook see each other's edits and outputs", async () => {
    await h.writeNotebook("shared.tsnb", notebookText("Shared", ["'start'"]));
    const a = await h.newPage();
    const b = await h.newPage();
    await openFromBrowser(a.page, "shared.tsnb");
    await openFromBrowser(b.page, "shared.tsnb");
    await typeInto(a.page, 0, "'typed in A'");
    await cell(b.page, 0).locator(".code-area").getByText("typed in A").waitFor();
    await cell(b.page, 0).getByRole("button", { name: "Run cell" }).click();
    await output(a.page, 0).getByText("typed in A").waitFor();
    await output(b.page, 0).getByText("typed in A").waitFor();
    await a.page.close();
    await b.page.close();
  });

  test("a Vega-Lite result draws a chart", async () => {
    const spec = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      data: {
        values: [
          { a: "x", b: 3 },
          { a: "y", b: 5 },
          { a: "z", b: 2 },
        ],
      },
      mark: "bar",
      encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
    };
    await h.writeNotebook(
      "chart.tsnb",
      notebookText("Chart", [
        `import { display } from "tsnb";\ndisplay.vegaLite(${JSON.stringify(spec)});`,
      ]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "chart.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const svg = output(page, 0).locator(".output-vega svg");
    await svg.first().waitFor({ timeout: 20_000 });
    const bars = await output(page, 0).locator(".output-vega .mark-rect path").count();
    assert.equal(bars, 3, "one bar per row");
    await page.close();
  });

  test("an array of records is a paged table; Next page asks the kernel for more rows", async () => {
    await h.writeNotebook(
      "table.tsnb",
      notebookText("Table", ["Array.from({ length: 120 }, (_, i) => ({ i, square: i * i }))"]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "table.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const pager = output(page, 0).locator(".table-pager");
    await pager.getByText(/^1–\d+ of 120 rows$/).waitFor({ timeout: 20_000 });
    const first = Number(/1–(\d+)/.exec((await pager.textContent()) ?? "")?.[1]);
    assert.ok(first > 0 && first < 120);
    await output(page, 0).getByRole("button", { name: "Next page" }).click();
    await pager.getByText(`${first + 1}–${Math.min(120, 2 * first)} of 120 rows`).waitFor();
    await output(page, 0)
      .locator("td.row-index")
      .getByText(String(first), { exact: true })
      .waitFor();
    await page.close();
  });

  test("a new notebook is saved under a name the user gives", async () => {
    const { page } = await h.newPage();
    await page.getByRole("button", { name: "New notebook" }).click();
    await page.locator(".notebook .cell").first().waitFor();
    await typeInto(page, 0, "const fresh = 'new notebook';");
    await page.getByRole("button", { name: "Save" }).click();
    const dialog = page.getByRole("dialog", { name: "Save notebook as" });
    await dialog.getByRole("textbox").fill("made-here.tsnb");
    await dialog.getByRole("button", { name: "OK" }).click();
    await page.locator(".nb-path").getByText("made-here.tsnb").waitFor();
    assert.match(
      await readFile(join(h.root, "made-here.tsnb"), "utf8"),
      /const fresh = 'new notebook';/,
    );
    await page.close();
  });

  test("Markdown XSS payloads execute nothing", async () => {
    const payloads = MARKDOWN_XSS.map((p) => `md:${p}`);
    await h.writeNotebook("xss.tsnb", notebookText("XSS", payloads));
    const { page } = await h.newPage();
    await openFromBrowser(page, "xss.tsnb");
    await page.waitForTimeout(500);
    for (const link of await page.locator(".markdown-body a").all())
      await link.click({ force: true }).catch(() => undefined);
    await page.waitForTimeout(300);
    assert.equal(
      await page.evaluate(() => (window as unknown as { __xss?: string }).__xss),
      undefined,
    );
    const found = await page.evaluate(() => {
      const bad: string[] = [];
      for (const el of document.querySelectorAll(".sections *")) {
        if (/^(SCRIPT|IFRAME|OBJECT|EMBED)$/i.test(el.tagName)) bad.push(el.tagName);
        for (const attr of el.attributes) {
          if (/^on/i.test(attr.name)) bad.push(`${el.tagName} ${attr.name}`);
          if (/href|src|action/i.test(attr.name) && /^\s*javascript:/i.test(attr.value))
            bad.push(`${el.tagName} ${attr.name}=${attr.value}`);
        }
      }
      return bad;
    });
    assert.deepEqual(found, [], "no script elements, handlers or javascript: URLs in the page");
    assert.ok(
      await page.locator(".markdown-body img").count(),
      "the harmless part of the payload (the image) is still shown",
    );
    // (Chromium may log CSP reports for handler attributes while DOMPurify parses the payload in
    // its inert document; nothing runs there, and nothing with a handler reaches the page.)
    await page.close();
  });

  test("SIGKILL of the kernel mid-run: the cell is aborted, the UI recovers", async () => {
    await h.writeNotebook(
      "kill.tsnb",
      notebookText("Kill", [
        "console.log('pid=' + process.pid);\nawait new Promise((r) => setTimeout(r, 60_000));",
        "'after the crash'",
      ]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "kill.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const line = output(page, 0).getByText(/pid=\d+/);
    await line.waitFor({ timeout: 20_000 });
    const pid = Number(/pid=(\d+)/.exec((await line.textContent()) ?? "")?.[1]);
    assert.ok(pid > 0);
    process.kill(pid, "SIGKILL");
    await cell(page, 0)
      .locator(".cell-status")
      .getByText(/Aborted/)
      .waitFor({ timeout: 15_000 });
    await page.locator(".kernel-status").getByText(/dead/i).waitFor();
    await cell(page, 1).getByRole("button", { name: "Run cell" }).click();
    await output(page, 1).getByText("after the crash").waitFor({ timeout: 20_000 });
    await page.close();
  });
});
