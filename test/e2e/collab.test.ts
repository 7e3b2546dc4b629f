// End-to-end: two Chromium windows type into the same cell at the same time, against a real
// server and kernel. Both must end with one text holding everything both typed (no lost
// character), each window shows the other's cursor, and a cell run right after typing runs the
// text as typed.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
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

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

/** Focus cell n's Monaco editor and put the caret at the end of line `line` (1-based). */
async function caretAt(page: Page, n: number, line: number): Promise<void> {
  const c = cell(page, n);
  await c.locator(".code-area").click();
  await page.waitForFunction(() => document.activeElement?.closest(".monaco-editor") !== null);
  await page.keyboard.press("ControlOrMeta+Home");
  for (let i = 1; i < line; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
}

/** The first cell's source in the page's session copy and in its editor. */
async function texts(page: Page): Promise<{ data: string; editor: string }> {
  return page.evaluate(() => {
    const d = window.__tsnb!.data()!;
    const c = d.notebook.sections[0]!.cells[0]!;
    const lines = [...document.querySelectorAll(".notebook .cell")][0]!.querySelectorAll(
      ".view-line",
    );
    return {
      data: c.source,
      editor: [...lines].map((l) => l.textContent!.replace(/\u00a0/g, " ")).join("\n"),
    };
  });
}

describe("editing together in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("two windows typing in one cell at once both keep every character and see each other's cursor", async () => {
    await h.writeNotebook(
      "together.tsnb",
      notebookText("Together", ["// first line\n// second line", "1 + 1"]),
    );
    const a = await h.newPage();
    const b = await h.newPage();
    await openFromBrowser(a.page, "together.tsnb");
    await openFromBrowser(b.page, "together.tsnb");
    await caretAt(a.page, 0, 1);
    await caretAt(b.page, 0, 2);
    // B's cursor appears in A's editor, at the end of line 2, with its flag.
    await a.page.locator(".notebook .cell").first().locator(".remote-cursor").waitFor();

    const A = " alpha beta gamma delta";
    const B = " one two three four five";
    // Both type at once, a key every 20 ms: their deltas cross on the wire all the time.
    await Promise.all([
      a.page.keyboard.type(A, { delay: 20 }),
      b.page.keyboard.type(B, { delay: 20 }),
    ]);
    const want = `// first line${A}\n// second line${B}`;
    for (const w of [a, b])
      await w.page.waitForFunction(
        (t) => {
          const d = window.__tsnb!.data()!;
          return d.notebook.sections[0]!.cells[0]!.source === t;
        },
        want,
        { timeout: 20_000 },
      );
    for (const w of [a, b]) {
      const t = await texts(w.page);
      assert.equal(t.data, want);
      assert.equal(t.editor, want, "the editor shows the session's text");
    }
    // Each window shows the other's cursor where it typed: at the end of its line.
    const cursorLine = async (p: Page) =>
      p.evaluate(() => {
        const el = document.querySelector(".notebook .cell .remote-cursor");
        return el?.closest(".view-line")?.textContent?.replace(/\u00a0/g, " ") ?? null;
      });
    await a.page.waitForFunction(
      () =>
        document
          .querySelector(".notebook .cell .remote-cursor")
          ?.closest(".view-line")
          ?.textContent?.includes("five") ?? false,
    );
    assert.match((await cursorLine(a.page))!, /second line one two three four five/);
    assert.match((await cursorLine(b.page))!, /first line alpha beta gamma delta/);
    // …exactly after the last character, not a few characters before it.
    const gap = (p: Page) =>
      p.evaluate(() => {
        const el = document.querySelector(".notebook .cell .remote-cursor")!;
        const spans = [...el.closest(".view-line")!.querySelectorAll("span")].filter(
          (s) => s.children.length === 0 && s.textContent && !s.classList.contains("remote-cursor"),
        );
        return Math.abs(
          el.getBoundingClientRect().left - spans.at(-1)!.getBoundingClientRect().right,
        );
      });
    for (const w of [a, b]) {
      await w.page.waitForFunction(() => true);
      assert.ok((await gap(w.page)) < 3, `cursor ${await gap(w.page)} px from the line's end`);
    }
    const label = await b.page.evaluate(() => {
      const el = document.querySelector(".notebook .cell .remote-cursor")!;
      return getComputedStyle(el, "::after").content;
    });
    assert.match(label, /Window /, "the cursor's flag names the window");
    await a.page.screenshot({ path: join(h.root, "..", "together-a.png") });
    if (process.env["TSNB_SHOTS"])
      for (const [name, w] of [
        ["together-a.png", a],
        ["together-b.png", b],
      ] as const)
        await w.page.screenshot({ path: join(process.env["TSNB_SHOTS"], name) });

    // Typed and run at once: the kernel runs the text as typed (the run waits for the typing).
    await caretAt(b.page, 1, 1);
    await b.page.keyboard.press("ControlOrMeta+A");
    await b.page.keyboard.type("const z = 40 + 2;\nz * 10", { delay: 5 });
    await b.page.keyboard.press("Shift+Enter");
    await cell(a.page, 1).locator(".outputs").getByText("420", { exact: true }).waitFor({
      timeout: 60_000,
    });

    // The file gets both windows' text (autosave).
    await a.page.waitForFunction(() => window.__tsnb!.data()!.dirty === false, undefined, {
      timeout: 20_000,
    });
    const file = await readFile(join(h.root, "together.tsnb"), "utf8");
    assert.ok(file.includes(`// first line${A}\n// second line${B}`), file);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
  test("two windows editing one Markdown cell see each other's cursor in its Monaco editor", async () => {
    await h.writeNotebook(
      "together-md.tsnb",
      notebookText("Notes", ["md:First paragraph.\n\nSecond paragraph.", "1 + 1"]),
    );
    const a = await h.newPage();
    const b = await h.newPage();
    for (const w of [a, b]) {
      await openFromBrowser(w.page, "together-md.tsnb");
      // Monaco loads in idle time; a code editor shows it is there, so the Markdown one is Monaco.
      await cell(w.page, 1).locator(".code-area").click();
      await cell(w.page, 1).locator(".monaco-editor").waitFor();
    }
    // Each window opens the Markdown cell's editor and puts its caret at the end of a line.
    const editAt = async (page: Page, line: number) => {
      await cell(page, 0).locator(".markdown-body").dblclick();
      await cell(page, 0).locator(".monaco-markdown .monaco-editor").waitFor();
      await page.waitForFunction(
        () => document.activeElement?.closest(".monaco-markdown") !== null,
      );
      await page.keyboard.press("ControlOrMeta+Home");
      for (let i = 1; i < line; i++) await page.keyboard.press("ArrowDown");
      await page.keyboard.press("End");
    };
    await editAt(a.page, 1);
    await editAt(b.page, 3);
    const A = " Alpha beta.";
    const B = " One two.";
    await Promise.all([
      a.page.keyboard.type(A, { delay: 20 }),
      b.page.keyboard.type(B, { delay: 20 }),
    ]);
    const want = `First paragraph.${A}\n\nSecond paragraph.${B}`;
    for (const w of [a, b])
      await w.page.waitForFunction(
        (t) => window.__tsnb!.data()!.notebook.sections[0]!.cells[0]!.source === t,
        want,
        { timeout: 20_000 },
      );
    // The other window's caret, on the line it typed, inside the Markdown editor's box.
    const cursorAt = (p: Page, text: string) =>
      p.waitForFunction(
        (t) => {
          const el = document.querySelector(".notebook .cell .monaco-markdown .remote-cursor");
          const line = el?.closest(".view-line")?.textContent?.replace(/\u00a0/g, " ") ?? "";
          if (!el || !line.includes(t)) return false;
          const r = el.getBoundingClientRect();
          const box = el.closest(".monaco-markdown")!.getBoundingClientRect();
          return (
            r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom
          );
        },
        text,
        { timeout: 20_000 },
      );
    await cursorAt(a.page, "Second paragraph. One two.");
    await cursorAt(b.page, "First paragraph. Alpha beta.");
    const label = await a.page.evaluate(() => {
      const el = document.querySelector(".notebook .cell .monaco-markdown .remote-cursor")!;
      return getComputedStyle(el, "::after").content;
    });
    assert.match(label, /Window /, "the cursor's flag names the window");
    if (process.env["TSNB_SHOTS"])
      await a.page.screenshot({ path: join(process.env["TSNB_SHOTS"], "together-md-a.png") });
    // Leaving the editor (Escape renders the Markdown) takes the cursor away in the other window.
    await b.page.keyboard.press("Escape");
    await a.page.waitForFunction(
      () => document.querySelector(".notebook .cell .monaco-markdown .remote-cursor") === null,
    );
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
  test("a user's name, set in the You panel, is on their cursor's flag and in the others' You panel", async () => {
    await h.writeNotebook("names.tsnb", notebookText("Names", ["const n = 1;"]));
    const a = await h.newPage();
    const b = await h.newPage();
    for (const w of [a, b]) await openFromBrowser(w.page, "names.tsnb");
    // Window a names its user (a name with quotes and markup, shown as typed).
    const name = 'Ada "A" <b>Lovelace</b>';
    await a.page.getByRole("button", { name: "You" }).click();
    const field = a.page.getByLabel("Your name");
    await field.fill(name);
    await field.press("Enter");
    await caretAt(a.page, 0, 1);
    // Window b sees the flag with the name, and lists it in its You panel.
    const flag = () =>
      b.page.evaluate(() => {
        const el = document.querySelector(".notebook .cell .remote-cursor");
        return el ? getComputedStyle(el, "::after").content : null;
      });
    await b.page.waitForFunction(() => document.querySelector(".notebook .cell .remote-cursor"));
    assert.equal(await flag(), JSON.stringify(name));
    await b.page.getByRole("button", { name: "You" }).click();
    await b.page
      .getByRole("list", { name: "Editing now" })
      .getByText(name, { exact: true })
      .waitFor();
    const box = await b.page.getByRole("list", { name: "Editing now" }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 1280, JSON.stringify(box));
    if (process.env["TSNB_SHOTS"])
      await b.page.screenshot({ path: join(process.env["TSNB_SHOTS"], "names-b.png") });
    // A new name is on the flag once a is back in the cell (leaving the editor for the field
    // took its cursor out of the cell).
    await field.fill("Grace");
    await field.press("Enter");
    await caretAt(a.page, 0, 1);
    await b.page.waitForFunction(() => {
      const el = document.querySelector(".notebook .cell .remote-cursor");
      return el !== null && getComputedStyle(el, "::after").content === '"Grace"';
    });
    await b.page.getByRole("list", { name: "Editing now" }).getByText("Grace").waitFor();
    // The field takes at most 40 characters (what the server accepts).
    await field.fill("x".repeat(41));
    assert.equal((await field.inputValue()).length, 40);
    await field.fill("Grace");
    await field.press("Enter");
    assert.equal(await a.page.evaluate(() => localStorage.getItem("tsnb-user-name")), "Grace");
    // A chosen cursor colour: b draws a's flag and swatch in it (and back to automatic).
    const colorOfFlag = () =>
      b.page.evaluate(() => {
        const el = document.querySelector(".notebook .cell .remote-cursor");
        const swatch = document.querySelector(".people .person-swatch");
        return el && swatch
          ? [
              getComputedStyle(el, "::after").backgroundColor,
              getComputedStyle(swatch).backgroundColor,
            ]
          : null;
      });
    await caretAt(a.page, 0, 1);
    await b.page.waitForFunction(() => document.querySelector(".notebook .cell .remote-cursor"));
    const automatic = await colorOfFlag();
    const pick = automatic![0] === "rgb(47, 158, 68)" ? 3 : 1; // one that differs from automatic
    await a.page.getByRole("radio", { name: `Colour ${pick + 1}` }).check();
    await caretAt(a.page, 0, 1);
    const want = pick === 1 ? "rgb(47, 158, 68)" : "rgb(25, 113, 194)";
    await b.page.waitForFunction(
      (w) =>
        getComputedStyle(document.querySelector(".notebook .cell .remote-cursor")!, "::after")
          .backgroundColor === w,
      want,
    );
    assert.deepEqual(await colorOfFlag(), [want, want]);
    assert.equal(
      await a.page.evaluate(() => localStorage.getItem("tsnb-user-color")),
      String(pick),
    );
    if (process.env["TSNB_SHOTS"])
      await a.page.screenshot({ path: join(process.env["TSNB_SHOTS"], "names-colour-a.png") });
    await a.page.getByRole("radio", { name: "Automatic" }).check();
    await caretAt(a.page, 0, 1);
    await b.page.waitForFunction(
      (w) =>
        getComputedStyle(document.querySelector(".notebook .cell .remote-cursor")!, "::after")
          .backgroundColor === w,
      automatic![0],
    );
    assert.equal(await a.page.evaluate(() => localStorage.getItem("tsnb-user-color")), null);
    // The name lives in the browser, never in the notebook.
    await a.page.waitForFunction(() => window.__tsnb!.data()!.dirty === false);
    assert.doesNotMatch(await readFile(join(h.root, "names.tsnb"), "utf8"), /Grace/);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
});
