// End-to-end: the notebook page's layout — the sidebar (outline, files), the compact header,
// and the dark theme (follows the system, a toggle that is remembered; Monaco follows too).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
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

describe("layout and looks", { skip: skip ?? false }, () => {
  let h: Harness;
  const shots = () => process.env["TSNB_E2E_SHOTS"] ?? join(h.root, "..");
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("the sidebar's outline lists the sections and scrolls to one; its files panel opens another notebook", async () => {
    const sections = Array.from({ length: 6 }, (_, i) =>
      [
        `## Part ${i + 1}`,
        "",
        ...Array.from({ length: 6 }, (_, j) =>
          ["```ts", `// ${i}.${j}\n${i * 10 + j}`, "```", ""].join("\n"),
        ),
      ].join("\n"),
    );
    await h.writeNotebook(
      "long.tsnb",
      ["# Long notebook", "", "An introduction before the first heading.", "", ...sections].join(
        "\n",
      ),
    );
    await h.writeNotebook("other.tsnb", notebookText("Other notebook", ["1"]));
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "long.tsnb");
    const outline = page.getByRole("list", { name: "Outline" });
    // The cells before the first heading are the introduction (not an "untitled section").
    assert.deepEqual((await outline.getByRole("link").allTextContents()).slice(0, 3), [
      "Long notebook",
      "Introduction",
      "Part 1",
    ]);
    await outline.getByRole("link", { name: "Part 5" }).click();
    await page.waitForFunction(() => {
      const el = [...document.querySelectorAll(".section-title")].find(
        (e) => e.textContent === "Part 5",
      );
      const top = el?.getBoundingClientRect().top ?? -1;
      return top >= 0 && top < 200;
    });
    // The compact header stays one row, above the scrolled content.
    const header = await page.locator(".nb-header").boundingBox();
    assert.ok(header && header.y === 0 && header.height < 60, `header ${JSON.stringify(header)}`);
    await page.screenshot({ path: join(shots(), "layout-outline.png") });
    await page.getByRole("button", { name: "Files", exact: true }).click();
    await page
      .getByRole("list", { name: "Notebooks in the folder" })
      .getByRole("link", { name: "other.tsnb" })
      .click();
    await page.getByRole("heading", { name: "Other notebook" }).waitFor();
    // Collapsing: the open tab clicked again hides the panel (remembered).
    await page.getByRole("button", { name: "Files", exact: true }).click();
    await page.locator(".sidebar.collapsed").waitFor();
    await page.reload();
    await page.locator(".sidebar.collapsed").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("the header keeps the notebook's name readable and every control inside the window, at any width", async () => {
    const name = "a-rather-long-notebook-name.tsnb";
    await h.writeNotebook(name, notebookText("Header", ["1 + 1"]));
    const { page, errors } = await h.newPage();
    for (const width of [1600, 1280, 1000, 800]) {
      await page.setViewportSize({ width, height: 500 });
      await page.goto(h.server.baseUrl);
      await openFromBrowser(page, name);
      const m = await page.evaluate(() => {
        const path = document.querySelector<HTMLElement>(".nb-path")!;
        const header = document.querySelector(".nb-header")!.getBoundingClientRect();
        const outside = [
          ...document.querySelectorAll(
            ".nb-topbar button, .nb-topbar select, .nb-topbar summary, .nb-topbar .kernel-status",
          ),
        ]
          .map((e) => e.getBoundingClientRect())
          .filter(
            (r) => r.width > 0 && (r.right > header.right + 0.5 || r.left < header.left - 0.5),
          ).length;
        const ch = parseFloat(getComputedStyle(path).fontSize) * 0.6;
        return {
          shown: path.clientWidth / ch,
          full: path.scrollWidth,
          width: path.clientWidth,
          title: path.title,
          outside,
        };
      });
      assert.equal(
        m.outside,
        0,
        `${width} px: ${m.outside} header controls drawn outside the header`,
      );
      assert.ok(
        m.shown >= 15 || m.width >= m.full,
        `${width} px: the name shows ${m.shown.toFixed(0)} characters`,
      );
      assert.equal(m.title, name, "the whole name is the path's tooltip");
      // The settings panel opens under its button, inside the window, and Escape closes it.
      await page.getByLabel("Settings", { exact: true }).click();
      const panel = page.getByRole("group", { name: "Notebook settings" });
      await panel.getByLabel("Save outputs").waitFor();
      const box = (await panel.boundingBox())!;
      assert.ok(
        box.x >= 0 && box.x + box.width <= width && box.y >= 0,
        `${width} px: the settings panel at ${JSON.stringify(box)}`,
      );
      if (width === 1000)
        await page.screenshot({ path: join(shots(), "header-settings-1000.png") });
      await page.keyboard.press("Escape");
      await panel.waitFor({ state: "hidden" });
      if (width === 1280) await page.screenshot({ path: join(shots(), "header-1280.png") });
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("in a window under 1,100 px the sidebar starts collapsed to its rail and the header is one row", async () => {
    await h.writeNotebook("narrow.tsnb", notebookText("A narrow window", ["1 + 1"]));
    const { page, errors } = await h.newPage();
    await page.setViewportSize({ width: 1000, height: 800 });
    await openFromBrowser(page, "narrow.tsnb");
    assert.equal(await page.locator(".sidebar-panel").isVisible(), false);
    assert.equal(await page.getByRole("button", { name: "Outline" }).isVisible(), true);
    const header = (await page.locator(".nb-header").boundingBox())!;
    assert.ok(header.height < 60, `one row: ${JSON.stringify(header)}`);
    // Opening a panel still works.
    await page.getByRole("button", { name: "Outline" }).click();
    await page.getByRole("list", { name: "Outline" }).waitFor();
    await page.screenshot({ path: join(shots(), "narrow-1000.png") });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("at 1,000 px with the sidebar's panel opened by hand the header stays one row", async () => {
    const name = "a-rather-long-notebook-name.tsnb";
    await h.writeNotebook(name, notebookText("Header", ["1 + 1"]));
    const { page, errors } = await h.newPage();
    const headerHeight = async () => (await page.locator(".nb-header").boundingBox())!.height;
    // The one-row height: a wide window, the panel closed.
    await page.setViewportSize({ width: 1600, height: 700 });
    await openFromBrowser(page, name);
    const one = await headerHeight();
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.goto(h.server.baseUrl);
    await openFromBrowser(page, name);
    assert.equal(await page.locator(".sidebar-panel").isVisible(), false);
    await page.getByRole("button", { name: "Outline" }).click();
    await page.getByRole("list", { name: "Outline" }).waitFor();
    const open = await headerHeight();
    await page.screenshot({ path: join(shots(), "header-1000-sidebar.png") });
    assert.equal(open, one, "the header with the panel open is as tall as one row");
    // Every control is still there, inside the header, and named.
    const outside = await page.evaluate(() => {
      const header = document.querySelector(".nb-header")!.getBoundingClientRect();
      return [
        ...document.querySelectorAll(
          ".nb-topbar button, .nb-topbar summary, .nb-topbar .kernel-status",
        ),
      ]
        .map((e) => e.getBoundingClientRect())
        .filter((r) => r.width === 0 || r.right > header.right + 0.5 || r.left < header.left - 0.5)
        .length;
    });
    assert.equal(outside, 0);
    for (const label of [
      "Start page",
      "Run all",
      "Interrupt",
      "Restart kernel",
      "Save",
      "Settings",
      "Runtime: Local",
    ])
      assert.equal(
        await page.locator(".nb-topbar").getByLabel(label, { exact: true }).isVisible(),
        true,
        label,
      );
    // The kernel's state shows as its dot; its words are the tooltip.
    assert.equal(await page.locator(".kernel-status").getAttribute("title"), "Kernel not started");
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("dark theme: follows the system, the toggle overrides it and is remembered, Monaco follows", async () => {
    await h.writeNotebook(
      "theme.tsnb",
      notebookText("Theme", ["md:Some **text**", "const x = 1;\nx"]),
    );
    const { page, context, errors } = await h.newPage();
    await page.emulateMedia({ colorScheme: "dark" });
    await openFromBrowser(page, "theme.tsnb");
    const theme = () => page.evaluate(() => document.documentElement.dataset["theme"]);
    assert.equal(await theme(), "dark", "follows the system");
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, "rgb(22, 25, 29)");
    await cell(page, 1).locator(".code-area").click();
    await page.locator(".monaco-editor.vs-dark").first().waitFor();
    await page.screenshot({ path: join(shots(), "theme-dark.png") });
    // The system turns light: the page follows while the user has not chosen.
    await page.emulateMedia({ colorScheme: "light" });
    await page.waitForFunction(() => document.documentElement.dataset["theme"] === "light");
    await page.locator(".monaco-editor.vs").first().waitFor();
    // The user chooses dark: kept over the system's light, also after a reload and in a new page.
    await page.getByRole("button", { name: "Dark theme" }).click();
    assert.equal(await theme(), "dark");
    assert.equal(
      await page.getByRole("button", { name: "Dark theme" }).getAttribute("aria-pressed"),
      "true",
    );
    await page.reload();
    await page.waitForFunction(() => window.__tsnb?.state() === "open");
    assert.equal(await theme(), "dark");
    const second = await context.newPage();
    await second.goto(h.server.baseUrl);
    await second.waitForFunction(() => document.documentElement.dataset["theme"] === "dark");
    await second.close();
    // Back to light.
    await page.getByRole("button", { name: "Dark theme" }).click();
    assert.equal(await theme(), "light");
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("outputs' text is readable in both themes: errors, stderr, values (contrast ≥ 4.5:1)", async () => {
    await h.writeNotebook(
      "contrast.tsnb",
      notebookText("Contrast", [
        'console.error("to stderr");\n({ name: "a", n: 1, ok: true })',
        "const broken: number = 1;\nthrow new Error('boom')",
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "contrast.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await cell(page, 1)
      .locator(".output-error")
      .getByText(/boom/)
      .first()
      .waitFor({ timeout: 60_000 });
    /** WCAG contrast of each element's text colour against the background it is drawn on. */
    const contrasts = () =>
      page.evaluate(() => {
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
        const lum = ([r, g, b]: number[]) => {
          const f = (v: number) => {
            const x = v / 255;
            return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
          };
          return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
        };
        const bgOf = (el: Element | null): number[] => {
          for (let e = el; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c.slice(0, 3);
          }
          return rgb(getComputedStyle(document.body).backgroundColor);
        };
        const out: Record<string, number> = {};
        for (const sel of [
          ".output-error",
          ".output-terminal .stderr, .output-terminal.stderr",
          ".value-string",
          ".value-number",
          ".value-boolean",
          ".value-key",
        ]) {
          const el = document.querySelector(`.notebook ${sel.split(", ").join(", .notebook ")}`);
          if (!el) continue;
          const a = lum(rgb(getComputedStyle(el).color));
          const b = lum(bgOf(el));
          out[sel] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }
        return out;
      });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForFunction((t) => document.documentElement.dataset["theme"] === t, scheme);
      const c = await contrasts();
      assert.equal(Object.keys(c).length, 6, JSON.stringify(c));
      for (const [sel, ratio] of Object.entries(c))
        assert.ok(ratio >= 4.5, `${scheme}: ${sel} has contrast ${ratio.toFixed(2)}`);
      if (scheme === "dark") await page.screenshot({ path: join(shots(), "contrast-dark.png") });
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("Markdown cells are edited in Monaco with Markdown highlighting and rendered when left", async () => {
    await h.writeNotebook("md.tsnb", notebookText("Markdown", ["md:Plain *words*", "1 + 1"]));
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "md.tsnb");
    // Monaco loads in idle time once a notebook opens; a code editor shows it is there.
    await cell(page, 1).locator(".code-area").click();
    await cell(page, 1).locator(".monaco-editor").waitFor();
    await cell(page, 0).locator(".markdown-body").dblclick();
    const editor = cell(page, 0).locator(".monaco-editor");
    await editor.waitFor();
    assert.equal(
      await cell(page, 0).locator(".monaco-markdown").getAttribute("data-mode-id"),
      "markdown",
    );
    await page.waitForFunction(() => document.activeElement?.closest(".monaco-markdown") !== null);
    await page.keyboard.press("ControlOrMeta+End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("## A heading");
    // Highlighting: the heading's tokens are not drawn like the plain line's.
    const classes = await cell(page, 0)
      .locator(".view-line")
      .evaluateAll((lines) =>
        lines.map((l) => [...l.querySelectorAll("span > span")].map((s) => s.className).join(" ")),
      );
    assert.equal(classes.length, 2, `two lines: ${JSON.stringify(classes)}`);
    assert.notEqual(classes[0], classes[1], `tokens differ: ${JSON.stringify(classes)}`);
    await page.screenshot({ path: join(shots(), "markdown-monaco.png") });
    // Left (a click elsewhere): rendered again, the source saved through the session.
    await page.locator(".nb-title").click();
    await cell(page, 0).getByRole("heading", { name: "A heading" }).waitFor();
    assert.equal(await cell(page, 0).locator(".monaco-editor").count(), 0);
    await page.waitForFunction(
      () =>
        window.__tsnb!.data()!.notebook.sections[0]!.cells[0]!.source ===
        "Plain *words*\n## A heading",
    );
    // Escape renders too.
    await cell(page, 0).locator(".markdown-body").dblclick();
    await cell(page, 0).locator(".monaco-editor").waitFor();
    await page.keyboard.press("Escape");
    await cell(page, 0).getByRole("heading", { name: "A heading" }).waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
