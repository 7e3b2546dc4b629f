// Keyboard shortcuts of the notebook view, in Chromium against the scripted stand-in server:
// every cell action has a key as well as a button.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Notebook } from "../../core/notebook.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();

const notebook: Notebook = {
  title: "Keys",
  metadata: { version: 1 },
  sections: [
    {
      id: "s1",
      title: "",
      cells: [
        { type: "code", id: "a", source: "1" },
        { type: "code", id: "b", source: "2" },
      ],
    },
  ],
};

describe("keyboard shortcuts", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    ({ server, browser, page } = await openNotebookPage("keys.tsnb", notebook));
    await page.locator('[data-cell-id="a"]').waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  const ids = () => server.data("s1").notebook.sections[0]!.cells.map((c) => c.id);
  const types = () => server.data("s1").notebook.sections[0]!.cells.map((c) => c.type);
  const until = async (pred: () => boolean) => {
    // Up to 10 s: a loaded machine is slow, and a wait that gives up early tests the machine.
    for (let i = 0; i < 330 && !pred(); i++) await page.waitForTimeout(30);
    assert.ok(pred());
  };
  /** Select a cell in command mode (the cell focused, not its editor). */
  const select = async (id: string) => {
    await page.locator(`[data-cell-id="${id}"]`).focus();
  };

  test("Shift+Enter runs the selected cell", async () => {
    await select("a");
    await page.keyboard.press("Shift+Enter");
    await page
      .locator('[data-cell-id="a"] .cell-status')
      .getByText(/Done in/)
      .waitFor();
  });

  test("B and M insert a code and a Markdown cell below", async () => {
    await select("a");
    await page.keyboard.press("b");
    await until(() => ids().length === 3);
    assert.deepEqual(types(), ["code", "code", "code"]);
    assert.equal(ids()[0], "a");
    await page.keyboard.press("Escape");
    await select("a");
    await page.keyboard.press("m");
    await until(() => ids().length === 4);
    assert.equal(types()[1], "markdown");
    await page.keyboard.press("Escape");
  });

  test("Alt+↓ / Alt+↑ move the selected cell", async () => {
    await select("a");
    await page.keyboard.press("Alt+ArrowDown");
    await until(() => ids()[1] === "a");
    await page.keyboard.press("Alt+ArrowUp");
    await until(() => ids()[0] === "a");
  });

  test("D D deletes the selected cell (one D does nothing)", async () => {
    const before = ids().length;
    await select("b");
    await page.keyboard.press("d");
    await page.waitForTimeout(100);
    assert.equal(ids().length, before);
    await page.keyboard.press("d");
    await until(() => !ids().includes("b"));
  });

  test("? or the rail's Keyboard shortcuts button lists the shortcuts; Escape closes the list", async () => {
    await select("a");
    await page.keyboard.press("?");
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await dialog.waitFor();
    const rows = await dialog.locator("tr").allTextContents();
    for (const keys of ["Shift+Enter", "D D", "Alt+↑ / Alt+↓", "I I", "0 0", "Ctrl/Cmd+S"])
      assert.ok(
        rows.some((r) => r.startsWith(keys)),
        `${keys} in ${JSON.stringify(rows)}`,
      );
    const box = (await dialog.boundingBox())!;
    const view = page.viewportSize()!;
    assert.ok(box.y >= 0 && box.y + box.height <= view.height, JSON.stringify(box));
    if (process.env["TSNB_SHOTS"])
      await page.screenshot({ path: `${process.env["TSNB_SHOTS"]}/shortcuts.png` });
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Keyboard shortcuts" }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });
  });

  test("Ctrl+S saves, Ctrl+Shift+Enter runs all", async () => {
    await select("a");
    await page.keyboard.press("Control+s");
    await page
      .locator(".toast")
      .getByText(/Saved|Save/)
      .first()
      .waitFor();
    await page.keyboard.press("Control+Shift+Enter");
    await until(() => {
      const d = server.data("s1");
      return d.notebook.sections[0]!.cells.filter((c) => c.type === "code").every(
        (c) => d.cells[c.id]!.status.type === "done",
      );
    });
  });
});

describe("reconnecting", { skip: skip ?? false }, () => {
  test("a page that lost its connection comes back to its notebook with what happened meanwhile", async () => {
    const { server, browser, page } = await openNotebookPage("keys.tsnb", notebook);
    try {
      await page.locator('[data-cell-id="a"]').waitFor();
      await page.evaluate(() => {
        const seen: string[] = ((window as unknown as { __states: string[] }).__states = []);
        new MutationObserver(() => seen.push(document.body.dataset["connection"] ?? "")).observe(
          document.body,
          { attributes: true },
        );
      });
      // Cut the connection; while the page is away, another client's change and an output arrive.
      server.dropClients();
      server.apply("s1", {
        type: "set-title",
        title: "Renamed meanwhile",
        clientId: "other",
        at: Date.now(),
      });
      server.apply("s1", {
        type: "output-appended",
        cellId: "b",
        output: { type: "terminal", stream: "stdout", text: "printed meanwhile\n" },
        clientId: "kernel",
        at: Date.now(),
      });
      await page.locator(".nb-title").getByText("Renamed meanwhile").waitFor();
      await page.locator('[data-cell-id="b"] .outputs').getByText("printed meanwhile").waitFor();
      const states = await page.evaluate(
        () => (window as unknown as { __states: string[] }).__states,
      );
      assert.ok(states.includes("closed"), `the page saw the connection drop: ${states.join(",")}`);
      assert.equal(states[states.length - 1], "open");
      assert.equal(await page.locator(".conn-banner").isHidden(), true);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe("sections and notebook settings", { skip: skip ?? false }, () => {
  test("add a section, rename it, delete it; toggle saving outputs", async () => {
    const { server, browser, page } = await openNotebookPage("keys.tsnb", notebook);
    try {
      await page.locator('[data-cell-id="a"]').waitFor();
      const sections = () => server.data("s1").notebook.sections;
      await page.getByRole("button", { name: "Add section" }).click();
      await page.locator(".section").nth(1).waitFor();
      assert.equal(sections().length, 2);
      const title = page.locator(".section").nth(1).locator(".section-title");
      await title.click();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.type("Results");
      await page.keyboard.press("Enter");
      await page.waitForFunction(
        () => window.__tsnb?.data()?.notebook.sections[1]?.title === "Results",
      );
      await page.locator(".section").nth(1).getByRole("button", { name: "Add code cell" }).click();
      await page.waitForFunction(
        () => window.__tsnb?.data()?.notebook.sections[1]?.cells.length === 1,
      );
      await page.keyboard.press("Escape");
      await page.locator(".section").nth(1).locator(".section-title").hover();
      await page.locator(".section").nth(1).getByRole("button", { name: "Delete section" }).click();
      await page.waitForFunction(() => window.__tsnb?.data()?.notebook.sections.length === 1);
      assert.equal(await page.locator(".section").count(), 1);
      await page.getByLabel("Settings", { exact: true }).click();
      await page.getByLabel("Save outputs").check();
      await page.waitForFunction(
        () => window.__tsnb?.data()?.notebook.metadata.persistOutputs === true,
      );
      assert.equal(server.data("s1").notebook.metadata.persistOutputs, true);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
