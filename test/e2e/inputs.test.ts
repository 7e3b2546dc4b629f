// End-to-end: inputs and controls in Chromium against a real server and kernel — a slider bound
// to an auto-run chart cell, seen by two windows; a form whose submit renders into a frame.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { cell, openFromBrowser, skipReason, startHarness, type Harness } from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

const NOTEBOOK = [
  "# Inputs",
  "",
  "## Cells",
  "",
  "```ts",
  'import { input, control, frame, listen, md, layout, display } from "tsnb";',
  'const size = input.range("Size", { min: 1, max: 10, default: 3, debounceMs: 50 });',
  "size",
  "```",
  "",
  '<!-- tsnb:cell {"autoRun":true} -->',
  "```ts",
  "const n = size.value;",
  'display.vegaLite({ mark: "bar", data: { values: Array.from({ length: n }, (_, i) => ({ i, v: i * i })) }, encoding: { x: { field: "i", type: "ordinal" }, y: { field: "v", type: "quantitative" } } });',
  "```",
  "",
  "```ts",
  "const out = frame();",
  'const form = control.form({ name: input.text("Name") }, { submit: "Greet" });',
  "listen(form, (e) => out.render(md`Hello **${e.data.name}**`));",
  "layout.grid([form, out], { columns: 2 })",
  "```",
  "",
].join("\n");

/** The number of bars of the chart the page's own session data has for cell 1. */
async function bars(page: Page): Promise<number> {
  return page.evaluate(() => {
    const d = window.__tsnb!.data()!;
    const id = d.notebook.sections[0]!.cells[1]!.id;
    const frame = d.cells[id]!.outputs.find((o) => o.type === "frame");
    const chart = frame && frame.type === "frame" ? frame.outputs[0] : undefined;
    const spec =
      chart && chart.type === "vega-lite" ? (chart.spec as { data: { values: unknown[] } }) : null;
    return spec ? spec.data.values.length : -1;
  });
}

describe("inputs in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("a slider moved in one window: both windows show the value, the bound chart redraws", async () => {
    await h.writeNotebook("inputs.tsnb", NOTEBOOK);
    const a = await h.newPage();
    await openFromBrowser(a.page, "inputs.tsnb");
    await a.page.getByRole("button", { name: "Run all" }).click();
    const slider = a.page.getByRole("slider", { name: "Size" });
    await slider.waitFor();
    await a.page.waitForFunction(
      () => document.querySelectorAll(".output-vega svg, .output-vega canvas").length > 0,
    );
    assert.equal(await bars(a.page), 3);

    const b = await h.newPage();
    await openFromBrowser(b.page, "inputs.tsnb");
    const sliderB = b.page.getByRole("slider", { name: "Size" });
    await sliderB.waitFor();
    assert.equal(await sliderB.inputValue(), "3");

    // Keyboard: focus the slider and press → four times (each press is a change).
    await slider.focus();
    for (let i = 0; i < 4; i++) await a.page.keyboard.press("ArrowRight");
    await b.page.waitForFunction(
      () =>
        (document.querySelector('input[type="range"]') as HTMLInputElement | null)?.value === "7",
    );
    await a.page.waitForFunction(
      () => {
        const d = window.__tsnb!.data()!;
        const id = d.notebook.sections[0]!.cells[1]!.id;
        const f = d.cells[id]!.outputs.find((o) => o.type === "frame");
        const c = f && f.type === "frame" ? f.outputs[0] : undefined;
        return (
          c?.type === "vega-lite" &&
          (c.spec as { data: { values: unknown[] } }).data.values.length === 7
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(await bars(b.page), 7, "the other window sees the redrawn chart too");
    await a.page.screenshot({ path: join(h.root, "..", "slider-a.png"), fullPage: true });
    await b.page.screenshot({ path: join(h.root, "..", "slider-b.png"), fullPage: true });
    if (process.env["TSNB_SHOTS"]) {
      await a.page.screenshot({
        path: join(process.env["TSNB_SHOTS"], "slider-a.png"),
        fullPage: true,
      });
      await b.page.screenshot({
        path: join(process.env["TSNB_SHOTS"], "slider-b.png"),
        fullPage: true,
      });
    }

    // The form: fill in, submit, and the frame shows the greeting in both windows.
    await a.page.getByLabel("Name").fill("Ada");
    await a.page.getByRole("button", { name: "Greet" }).click();
    await a.page.locator(".output-frame").getByText("Hello Ada").waitFor();
    await b.page.locator(".output-frame").getByText("Hello Ada").waitFor();
    if (process.env["TSNB_SHOTS"])
      await b.page.screenshot({
        path: join(process.env["TSNB_SHOTS"], "form-b.png"),
        fullPage: true,
      });
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
  });
});
