// End-to-end: Vega-Lite charts follow the page's theme. A real `train.fit` in the real kernel
// draws its live chart (rows pushed while it trains); in the light theme its axis, legend and
// title text is dark, after the header's toggle it is light on the page's dark background, and
// when the system turns dark the page and the chart follow — each redraw with the same lines
// and points. A chart whose spec sets its own label colour keeps it in the dark theme.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
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

/** A bar chart whose spec sets its own axis label colour and bar colour. */
const OWN_COLOURS = `import { display } from "tsnb";
display.vegaLite({
  title: "Own colours",
  data: { values: [{ k: "a", v: 3 }, { k: "b", v: 5 }, { k: "c", v: 2 }] },
  mark: { type: "bar", color: "#e8590c" },
  encoding: { x: { field: "k", type: "nominal" }, y: { field: "v", type: "quantitative" } },
  config: { axis: { labelColor: "#ff00aa" } },
});
"drawn"`;

/** What the n-th chart on the page draws: its text and guide colours, its lines and points. */
interface ChartLook {
  theme: string;
  background: string | null;
  axisLabels: string[];
  axisTitles: string[];
  legendLabels: string[];
  title: string[];
  grid: string[];
  /** Per line (document order): how many vertices it has. */
  lineVertices: number[];
  points: number;
  bars: string[];
}

async function chartLook(page: Page, n: number): Promise<ChartLook> {
  return page.evaluate((n) => {
    const box = document.querySelectorAll(".cell .output-vega")[n]!;
    const svg = box.querySelector("svg.marks")!;
    const fills = (sel: string, attr = "fill") => [
      ...new Set([...svg.querySelectorAll(sel)].map((e) => e.getAttribute(attr) ?? "")),
    ];
    return {
      theme: (box.querySelector(".vega-target") as HTMLElement).dataset["theme"] ?? "",
      // Vega's SVG renderer draws the chart's background as the svg's background colour.
      background: (svg as SVGElement).style.backgroundColor || null,
      axisLabels: fills(".role-axis-label text"),
      axisTitles: fills(".role-axis-title text"),
      legendLabels: fills(".role-legend-label text"),
      title: fills(".role-title-text text"),
      grid: fills(".role-axis-grid line, .role-axis-grid path", "stroke"),
      lineVertices: [...svg.querySelectorAll(".mark-line path")].map(
        (p) => (p.getAttribute("d") ?? "").match(/[ML]/g)?.length ?? 0,
      ),
      points: svg.querySelectorAll(".mark-symbol path").length,
      bars: fills(".mark-rect path"),
    };
  }, n);
}

/** Relative luminance (0 black … 1 white) of `#rgb`, `#rrggbb` or `rgb(r, g, b)`. */
function luminance(colour: string): number {
  let rgb: number[];
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim());
  if (hex) {
    const h = hex[1]!.length === 3 ? [...hex[1]!].map((c) => c + c).join("") : hex[1]!;
    rgb = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  } else {
    const m = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(colour.trim());
    if (!m) throw new Error(`not a colour: ${colour}`);
    rgb = [m[1], m[2], m[3]].map(Number);
  }
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Every colour in `colours` is light (or dark), and there is at least one. */
function allLight(colours: string[], light: boolean, what: string): void {
  assert.ok(colours.length > 0, `${what}: drawn`);
  for (const c of colours)
    assert.ok(
      light ? luminance(c) > 0.5 : luminance(c) < 0.1,
      `${what}: ${c} should be ${light ? "light" : "dark"}`,
    );
}

/** Wait until the n-th chart is drawn in theme `t` (its redraw done, guides drawn). */
async function waitForChartTheme(page: Page, n: number, t: "light" | "dark"): Promise<void> {
  await page.waitForFunction(
    ([n, t]) => {
      const box = document.querySelectorAll(".cell .output-vega")[n as number];
      const target = box?.querySelector<HTMLElement>(".vega-target");
      return (
        target?.dataset["theme"] === t &&
        (box?.querySelectorAll("svg.marks .role-axis-label text").length ?? 0) > 0
      );
    },
    [n, t] as const,
    { timeout: 20_000 },
  );
  // A fitted chart settles (its width) a frame or two after it is drawn.
  await page.waitForTimeout(400);
}

describe("charts follow the page's theme", { skip: skip ?? false }, () => {
  let h: Harness;
  const shots = () => process.env["TSNB_E2E_SHOTS"] ?? join(h.root, "..");
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("the live training chart: dark text in light, light text on the dark background after the toggle and when the system turns dark, the same lines and points after each redraw", async () => {
    await h.writeNotebook("train-theme.tsnb", notebookText("Training chart theme", [TRAIN]));
    const { page, errors } = await h.newPage();
    // Vega's warnings (a live chart starts with no rows: "Infinite extent" per scale) stay out
    // of the browser's console.
    const warnings: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "warning" && /extent|vega/i.test(m.text())) warnings.push(m.text());
    });
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.emulateMedia({ colorScheme: "light" });
    await openFromBrowser(page, "train-theme.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor({ timeout: 120_000 });
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".cell .output-vega .role-legend-label text")].some(
        (t) => t.textContent === "validation",
      ),
    );
    await waitForChartTheme(page, 0, "light");
    const light = await chartLook(page, 0);
    const where = (l: ChartLook) => JSON.stringify(l);
    allLight(light.axisLabels, false, `light: axis labels ${where(light)}`);
    allLight(light.axisTitles, false, `light: axis titles ${where(light)}`);
    allLight(light.legendLabels, false, `light: legend labels ${where(light)}`);
    // The chart starts with no rows: every line and point drawn was pushed while it trained
    // (the loss every few steps, per-epoch values with a point each).
    assert.ok(light.points >= 8, `light: points drawn ${where(light)}`);
    assert.ok(
      light.lineVertices.length >= 4 && light.lineVertices.every((v) => v >= 4),
      `light: lines through the pushed rows ${where(light)}`,
    );
    await page.screenshot({ path: join(shots(), "chart-theme-light.png") });

    // The user picks the dark theme: the chart is drawn again, light on dark, same data.
    await page.getByRole("button", { name: "Dark theme" }).click();
    await waitForChartTheme(page, 0, "dark");
    const dark = await chartLook(page, 0);
    allLight(dark.axisLabels, true, `dark: axis labels ${where(dark)}`);
    allLight(dark.axisTitles, true, `dark: axis titles ${where(dark)}`);
    allLight(dark.legendLabels, true, `dark: legend labels ${where(dark)}`);
    assert.ok(dark.background !== null, `dark: a background is drawn ${where(dark)}`);
    assert.ok(luminance(dark.background!) < 0.05, `dark: the background is dark ${where(dark)}`);
    const pageBg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.ok(
      Math.abs(luminance(dark.background!) - luminance(pageBg)) < 0.005,
      `dark: the chart's background is the page's (${pageBg}) ${where(dark)}`,
    );
    assert.deepEqual(dark.lineVertices, light.lineVertices, "dark: the same lines");
    assert.equal(dark.points, light.points, "dark: the same points");
    await page.screenshot({ path: join(shots(), "chart-theme-dark.png") });
    await cell(page, 0)
      .locator(".output-vega")
      .screenshot({ path: join(shots(), "chart-theme-dark-chart.png") });

    // Back to light (the system's, so the page follows the system again), then the system
    // turns dark: the chart follows it.
    await page.getByRole("button", { name: "Dark theme" }).click();
    await waitForChartTheme(page, 0, "light");
    const again = await chartLook(page, 0);
    allLight(again.axisLabels, false, `light again: axis labels ${where(again)}`);
    assert.deepEqual(again.lineVertices, light.lineVertices, "light again: the same lines");
    assert.equal(again.points, light.points, "light again: the same points");
    await page.emulateMedia({ colorScheme: "dark" });
    await waitForChartTheme(page, 0, "dark");
    const system = await chartLook(page, 0);
    allLight(system.axisLabels, true, `system dark: axis labels ${where(system)}`);
    assert.deepEqual(system.lineVertices, light.lineVertices, "system dark: the same lines");
    assert.equal(system.points, light.points, "system dark: the same points");
    assert.deepEqual(warnings, []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("toggling the theme while a training chart streams loses no pushed row", async () => {
    // TRAIN's small model for 80 epochs, each followed by a 200 ms pause: the chart streams for
    // 16 s however fast or loaded the machine, time for several toggles even when each click
    // takes a second (training on more data instead took over two minutes on a loaded CI
    // machine, and 150 epochs of 60 ms left time for only two toggles there).
    const epochs = 80;
    const code = `import { nn, train } from "tsnb";
const x = Array.from({ length: 240 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.7)]);
const y = Int32Array.from(x, ([a, b]) => (a! + b! > 0 ? 1 : 0));
const model = nn.sequential([nn.dense(8, { activation: "relu" }), nn.dense(2)], { seed: 1 });
const trainer = train.trainer(model, {
  loss: "categoricalCrossEntropy",
  metrics: ["accuracy"],
  seed: 1,
});
trainer.on("epochCompleted", () => new Promise<void>((r) => setTimeout(r, 200)));
const history = await trainer.fit(x, y, { epochs: ${epochs}, batchSize: 16, validationSplit: 0.25 });
history.epochs.length`;
    await h.writeNotebook("train-toggle.tsnb", notebookText("Toggle while training", [code]));
    const { page, context, errors } = await h.newPage();
    await page.emulateMedia({ colorScheme: "light" });
    await openFromBrowser(page, "train-toggle.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    // Toggle back and forth while the epochs arrive (each toggle redraws the chart); count the
    // toggles made with the chart drawn and the training not done.
    const toggle = page.getByRole("button", { name: "Dark theme" });
    let toggles = 0;
    const done = cell(page, 0).getByText(/Done in/);
    while (toggles < 8 && !(await done.isVisible())) {
      const drawn = (await page.locator(".cell .output-vega svg.marks").count()) > 0;
      await toggle.click();
      if (drawn) toggles++;
      await page.waitForTimeout(80);
    }
    await done.waitFor({ timeout: 120_000 });
    console.log(`# ${toggles} toggles while the chart streamed`);
    const theme = await page.evaluate(() => document.documentElement.dataset["theme"]!);
    await waitForChartTheme(page, 0, theme as "light" | "dark");
    await page.waitForTimeout(500);
    const drawn = await chartLook(page, 0);
    // A window opened now draws the chart from the session's output (every row pushed).
    const fresh = await context.newPage();
    await fresh.goto(h.server.url);
    await fresh.waitForFunction(() => window.__tsnb?.state() === "open");
    await openFromBrowser(fresh, "train-toggle.tsnb");
    await waitForChartTheme(fresh, 0, theme as "light" | "dark");
    await fresh.waitForTimeout(500);
    const reference = await chartLook(fresh, 0);
    const where = `after ${toggles} toggles: ${JSON.stringify(drawn)} vs ${JSON.stringify(reference)}`;
    assert.ok(toggles >= 3, `toggled while training: ${where}`);
    // Per epoch: a point for validation loss, accuracy and validation accuracy; plus the legend's.
    assert.equal(drawn.points, 3 * epochs + 2, `every epoch's points: ${where}`);
    assert.equal(reference.points, drawn.points, where);
    assert.deepEqual(drawn.lineVertices, reference.lineVertices, `the same lines: ${where}`);
    assert.deepEqual(errors, []);
    await fresh.close();
    await page.close();
  });

  test("a chart's own colours (a label colour in its config, a bar colour) are kept in the dark theme", async () => {
    await h.writeNotebook("own-colours.tsnb", notebookText("Own colours", [OWN_COLOURS]));
    const { page, errors } = await h.newPage();
    await page.emulateMedia({ colorScheme: "dark" });
    await openFromBrowser(page, "own-colours.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0).locator(".output-vega svg.marks").waitFor({ timeout: 30_000 });
    await waitForChartTheme(page, 0, "dark");
    const dark = await chartLook(page, 0);
    const where = JSON.stringify(dark);
    assert.deepEqual(dark.axisLabels, ["#ff00aa"], `its label colour wins: ${where}`);
    assert.deepEqual(dark.bars, ["#e8590c"], `its bar colour wins: ${where}`);
    // What it did not set follows the theme: titles light, the grid visible on the dark
    // background but quieter than the text.
    allLight(dark.axisTitles, true, `axis titles: ${where}`);
    allLight(dark.title, true, `title: ${where}`);
    assert.ok(dark.background && luminance(dark.background) < 0.05, `background: ${where}`);
    assert.ok(dark.grid.length > 0, `a grid: ${where}`);
    for (const g of dark.grid) {
      const l = luminance(g);
      assert.ok(l > luminance(dark.background!) && l < 0.5, `grid ${g}: ${where}`);
    }
    await cell(page, 0)
      .locator(".output-vega")
      .screenshot({ path: join(shots(), "chart-theme-own-colours-dark.png") });
    // And in light: the same own colours, the rest dark.
    await page.getByRole("button", { name: "Dark theme" }).click();
    await waitForChartTheme(page, 0, "light");
    const light = await chartLook(page, 0);
    assert.deepEqual(light.axisLabels, ["#ff00aa"], JSON.stringify(light));
    assert.deepEqual(light.bars, ["#e8590c"], JSON.stringify(light));
    allLight(light.axisTitles, false, `light axis titles: ${JSON.stringify(light)}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
