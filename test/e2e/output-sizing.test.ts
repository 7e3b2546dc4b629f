// End-to-end: outputs sized to the cell. The training chart (a real `train.fit` in the real
// kernel, its live chart pushed while it trains) has one panel for the loss and one for the
// accuracy, train and validation overlaid, axis titles and an unclipped legend, and is as wide
// as the cell's output at two window widths; an HTML output whose content grows and shrinks
// after load keeps its sandboxed frame exactly as tall as the content, with no inner scrollbar.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  TRAIN,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

/** What the drawn chart shows, with every text's box and the boxes it must stay inside. */
interface ChartLayout {
  output: { left: number; right: number; width: number };
  svg: { left: number; right: number; top: number; bottom: number; width: number };
  axisTitles: string[];
  legendLabels: string[];
  /** Texts (axis titles, legend labels and title) whose box is not inside the chart's. */
  outside: string[];
  /** Panels: the plot backgrounds (Vega-Lite's view rectangles), left to right. */
  panels: Array<{ left: number; right: number; width: number }>;
}

async function chartLayout(page: Page): Promise<ChartLayout> {
  return page.evaluate(() => {
    const box = document.querySelector(".cell .output-vega")!;
    const svg = box.querySelector("svg.marks")!;
    const r = (e: Element) => e.getBoundingClientRect();
    const s = r(svg);
    const o = r(box);
    const texts = (sel: string) => [...svg.querySelectorAll(`${sel} text`)];
    const outside = [...texts(".role-axis-title"), ...texts(".role-legend")]
      .filter((t) => {
        const b = r(t);
        return (
          b.left < s.left - 0.5 ||
          b.right > s.right + 0.5 ||
          b.top < s.top - 0.5 ||
          b.bottom > s.bottom + 0.5
        );
      })
      .map((t) => t.textContent ?? "");
    // Vega-Lite names each concatenated view's group concat_<i>_group.
    const panels = [...svg.querySelectorAll("g.mark-group.role-scope")]
      .filter((g) => [...g.classList].some((c) => /^concat_\d+_group$/.test(c)))
      .map((g) => r(g.querySelector(":scope > g > path.background")!))
      .map((b) => ({ left: b.left, right: b.right, width: b.width }))
      .sort((a, b) => a.left - b.left);
    return {
      output: { left: o.left, right: o.right, width: o.width },
      svg: { left: s.left, right: s.right, top: s.top, bottom: s.bottom, width: s.width },
      axisTitles: texts(".role-axis-title").map((t) => t.textContent ?? ""),
      legendLabels: texts(".role-legend-label").map((t) => t.textContent ?? ""),
      outside,
      panels,
    };
  });
}

/** Wait until the chart spans its output box (within 3 px) and is at rest. */
async function waitForFittedChart(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const box = document.querySelector(".cell .output-vega");
      const svg = box?.querySelector("svg.marks");
      if (!box || !svg) return false;
      const w = svg.getBoundingClientRect().width;
      return Math.abs(w - box.getBoundingClientRect().width) <= 3;
    },
    undefined,
    { timeout: 20_000 },
  );
  await page.waitForTimeout(300);
}

/**
 * An HTML output whose script adds a line every 60 ms up to 25 lines (taller than 750 px), then,
 * 2.5 s later, removes all but three; `data-lines` and `data-done` on its body say where it is.
 */
const GROWING_HTML = `<div id="log" style="font: 14px sans-serif"><p>first line</p></div>
<script>
  let n = 1;
  const log = document.getElementById("log");
  const t = setInterval(() => {
    n++;
    const p = document.createElement("p");
    p.textContent = "line " + n;
    log.append(p);
    document.body.dataset.lines = String(n);
    if (n < 25) return;
    clearInterval(t);
    setTimeout(() => {
      while (log.children.length > 3) log.lastElementChild.remove();
      document.body.dataset.lines = "3";
      document.body.dataset.done = "shrunk";
    }, 2500);
  }, 60);
</script>`;

/** The (first) HTML frame's height, its content's, and whether anything scrolls inside it. */
async function measureFrame(page: Page) {
  const outer = await page
    .locator("iframe.output-html")
    .evaluate((f) => f.getBoundingClientRect().height);
  const inner = await page
    .frameLocator("iframe.output-html")
    .locator("html")
    .evaluate((root) => ({
      content: root.getBoundingClientRect().height,
      scrollHeight: root.scrollHeight,
      clientHeight: root.clientHeight,
      scrollWidth: root.scrollWidth,
      clientWidth: root.clientWidth,
      lines: Number(document.body.dataset["lines"] ?? "1"),
      done: document.body.dataset["done"] ?? "",
    }));
  return { outer, ...inner };
}
type FrameMeasure = Awaited<ReturnType<typeof measureFrame>>;

/** The frame is its content's height plus its 1px borders, and nothing scrolls inside. */
function frameFits(m: FrameMeasure): boolean {
  return (
    Math.abs(m.outer - 2 - m.content) <= 1 &&
    m.scrollHeight <= m.clientHeight &&
    m.scrollWidth <= m.clientWidth
  );
}

/** Measure the frame until `until` holds (or 5 s passed); the last measure. */
async function frameWhen(page: Page, until: (m: FrameMeasure) => boolean): Promise<FrameMeasure> {
  let m = await measureFrame(page);
  for (let i = 0; i < 100 && !until(m); i++) {
    await page.waitForTimeout(50);
    m = await measureFrame(page);
  }
  return m;
}

describe("outputs sized to the cell", { skip: skip ?? false }, () => {
  let h: Harness;
  const shots = () => process.env["TSNB_E2E_SHOTS"] ?? join(h.root, "..");
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("the live training chart: a loss panel and an accuracy panel, train and validation overlaid, titled axes, the legend whole, as wide as the cell at two window widths", async () => {
    await h.writeNotebook("train-chart.tsnb", notebookText("Training chart", [TRAIN]));
    const { page, errors } = await h.newPage();
    await page.setViewportSize({ width: 1300, height: 900 });
    await openFromBrowser(page, "train-chart.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor({ timeout: 120_000 });
    await page.locator(".cell .output-vega svg.marks").waitFor();
    // The last epoch's validation accuracy is drawn (the pushes reached the chart).
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".cell .output-vega .role-legend-label text")].some(
        (t) => t.textContent === "validation",
      ),
    );
    for (const width of [1300, 820]) {
      await page.setViewportSize({ width, height: 900 });
      await waitForFittedChart(page);
      const c = await chartLayout(page);
      const where = `window ${width}px: ${JSON.stringify(c)}`;
      assert.ok(
        Math.abs(c.svg.width - c.output.width) <= 3,
        `chart as wide as the output, ${where}`,
      );
      assert.ok(c.svg.left >= c.output.left - 1 && c.svg.right <= c.output.right + 1, where);
      assert.deepEqual(c.outside, [], `every title and legend text inside the chart, ${where}`);
      assert.deepEqual(
        [...c.axisTitles].sort(),
        ["accuracy", "loss", "step", "step"],
        `x titled "step" in both panels, y titled by the quantity, ${where}`,
      );
      assert.deepEqual(c.legendLabels, ["train", "validation"], `the legend unabridged, ${where}`);
      assert.equal(c.panels.length, 2, `two panels, ${where}`);
      const [a, b] = c.panels as [ChartLayout["panels"][0], ChartLayout["panels"][0]];
      assert.ok(a.right < b.left, `side by side, ${where}`);
      assert.ok(Math.abs(a.width - b.width) <= 1, `equal panels, ${where}`);
      // Each panel draws both series: the legend's colours are on lines and points in each.
      await page.screenshot({
        path: join(shots(), `training-chart-${width}.png`),
        fullPage: false,
      });
    }
    // Both splits are drawn in both panels: in each, lines of two colours (the live loss of
    // training is a line without points; per-epoch values have points too).
    const colours = await page.evaluate(() =>
      [...document.querySelectorAll(".cell .output-vega svg.marks g.mark-group.role-scope")]
        .filter((g) => [...g.classList].some((c) => /^concat_\d+_group$/.test(c)))
        .map((g) => {
          const distinct = (sel: string, attr: string) =>
            new Set([...g.querySelectorAll(sel)].map((p) => p.getAttribute(attr))).size;
          return [distinct(".mark-line path", "stroke"), distinct(".mark-symbol path", "fill")];
        }),
    );
    assert.deepEqual(
      colours,
      [
        [2, 1],
        [2, 2],
      ],
      "per panel: distinct colours of lines, of points",
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("an HTML output that grows and shrinks after load: its frame follows the content's height, with no scrollbar inside", async () => {
    const code = `import { html } from "tsnb";\nhtml(${JSON.stringify(GROWING_HTML)})`;
    await h.writeNotebook("grow.tsnb", notebookText("Growing HTML", [code]));
    const { page, errors } = await h.newPage();
    await page.setViewportSize({ width: 1100, height: 900 });
    await openFromBrowser(page, "grow.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const frameEl = page.locator("iframe.output-html");
    await page
      .frameLocator("iframe.output-html")
      .getByText("first line")
      .waitFor({ timeout: 20_000 });
    // While it grows the frame follows (a tick is 60 ms; the height message comes within a frame).
    const grown = await frameWhen(page, (m) => m.lines >= 25 && frameFits(m));
    assert.ok(grown.lines >= 25, JSON.stringify(grown));
    assert.ok(
      frameFits(grown),
      `grown: frame = content + its border, no inner scroll ${JSON.stringify(grown)}`,
    );
    assert.ok(
      grown.outer > 25 * 30,
      `25 paragraphs are taller than 750px: ${JSON.stringify(grown)}`,
    );
    await page.screenshot({ path: join(shots(), "html-frame-grown.png"), fullPage: true });
    // Then it shrinks back to three lines, and the frame with it.
    const shrunk = await frameWhen(page, (m) => m.done === "shrunk" && frameFits(m));
    assert.equal(shrunk.done, "shrunk");
    assert.ok(frameFits(shrunk), `shrunk: ${JSON.stringify(shrunk)}`);
    assert.ok(shrunk.outer < 200, `three lines: ${JSON.stringify(shrunk)}`);
    await page.screenshot({ path: join(shots(), "html-frame-shrunk.png") });
    // The frame is still the sandbox: an opaque origin with scripts only.
    assert.equal(await frameEl.getAttribute("sandbox"), "allow-scripts");
    assert.deepEqual(errors, []);
    await page.close();
  });
  test("the HTML export draws them the same: the chart as wide as its output, the frame as tall as its growing content", async () => {
    const code = `import { html } from "tsnb";\nhtml(${JSON.stringify(GROWING_HTML)})`;
    await h.writeNotebook("shown.tsnb", notebookText("Shown", [TRAIN, code]));
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "shown.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor({ timeout: 120_000 });
    await cell(page, 1)
      .getByText(/Done in/)
      .waitFor({ timeout: 20_000 });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page
        .getByRole("combobox", { name: "Export the notebook with its outputs" })
        .selectOption("html"),
    ]);
    const file = join(h.root, "shown.html");
    await download.saveAs(file);
    assert.deepEqual(errors, []);
    await page.close();
    const context = await h.browser.newContext({ viewport: { width: 1000, height: 900 } });
    await context.addInitScript("globalThis.__name = (f) => f;"); // tsx's helper in evaluated functions
    const exported = await context.newPage();
    const pageErrors: string[] = [];
    exported.on("pageerror", (e) => pageErrors.push(e.message));
    await exported.goto(pathToFileURL(file).href);
    await exported.waitForSelector("html[data-rendered=true]");
    await waitForFittedChart(exported);
    const c = await chartLayout(exported);
    assert.ok(Math.abs(c.svg.width - c.output.width) <= 3, JSON.stringify(c));
    assert.equal(c.panels.length, 2, JSON.stringify(c));
    assert.deepEqual(c.legendLabels, ["train", "validation"]);
    assert.deepEqual(c.outside, []);
    // The frame's script runs again in the file (allowed by its hash) and the frame follows it.
    await exported.locator("iframe.output-html").scrollIntoViewIfNeeded();
    const grown = await frameWhen(exported, (m) => m.lines >= 25 && frameFits(m));
    assert.ok(grown.lines >= 25 && frameFits(grown), JSON.stringify(grown));
    const shrunk = await frameWhen(exported, (m) => m.done === "shrunk" && frameFits(m));
    assert.ok(shrunk.done === "shrunk" && frameFits(shrunk), JSON.stringify(shrunk));
    await exported.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await exported.screenshot({ path: join(shots(), "export-sized.png") });
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
