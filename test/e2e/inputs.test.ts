// End-to-end: inputs and controls in Chromium against a real server and kernel — a slider bound
// to an auto-run chart cell, seen by two windows; a form whose submit renders into a frame.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import {
  cell,
  openFromBrowser,
  outputsOf,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

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

/** Waits until the page's session data has the chart of cell 1 with `n` bars; on a timeout,
 * fails with `what` and the number of bars the page had. */
async function waitForBars(page: Page, n: number, what = "the chart redraws"): Promise<void> {
  try {
    await page.waitForFunction(
      (want) => {
        const d = window.__tsnb!.data()!;
        const id = d.notebook.sections[0]!.cells[1]!.id;
        const f = d.cells[id]!.outputs.find((o) => o.type === "frame");
        const c = f && f.type === "frame" ? f.outputs[0] : undefined;
        return (
          c?.type === "vega-lite" &&
          (c.spec as { data: { values: unknown[] } }).data.values.length === want
        );
      },
      n,
      { timeout: 30_000 },
    );
  } catch {
    assert.equal(await bars(page), n, what);
  }
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

    // Keyboard: focus the slider and press → four times (each press is a change), waiting for
    // the session to have each value (the server's broadcast comes back to this window).
    for (const v of [4, 5, 6, 7]) {
      await slider.focus();
      await a.page.keyboard.press("ArrowRight");
      await a.page.waitForFunction(
        (want) => Object.values(window.__tsnb!.data()!.inputs).some((i) => i.value === want),
        v,
        { timeout: 30_000 },
      );
    }
    await b.page.waitForFunction(
      () =>
        (document.querySelector('input[type="range"]') as HTMLInputElement | null)?.value === "7",
    );
    // Each window gets the re-run's outputs by its own broadcast: wait for both, since the
    // other window's copy may arrive after this one's (or be between a clear and the new frame).
    await waitForBars(a.page, 7);
    await waitForBars(b.page, 7, "the other window sees the redrawn chart too");
    // Screenshots only when asked for: a page of a window in the background may not paint, so
    // a capture can wait for a frame that never comes; each page is brought to the front first.
    if (process.env["TSNB_SHOTS"]) {
      await a.page.bringToFront();
      await a.page.screenshot({
        path: join(process.env["TSNB_SHOTS"], "slider-a.png"),
        fullPage: true,
      });
      await b.page.bringToFront();
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

  test("an uploaded image arrives as a u8 tensor of the asked shape; an uploaded WAV as samples", async () => {
    const nb = [
      "# Uploads",
      "",
      "## Cells",
      "",
      "```ts",
      'import { input, display } from "tsnb";',
      'const photo = input.image("Photo", { size: [32, 48] });',
      'const voice = input.audio("Voice", { sampleRate: 8000 });',
      "display(photo);\ndisplay(voice);",
      "```",
      "",
      '<!-- tsnb:cell {"autoRun":true} -->',
      "```ts",
      "const px = photo.value;",
      "px ? `${px.dtype} [${px.shape}]` : 'no image'",
      "```",
      "",
      '<!-- tsnb:cell {"autoRun":true} -->',
      "```ts",
      "const s = voice.value;",
      "s ? `${s.dtype} [${s.shape}]` : 'no audio'",
      "```",
      "",
    ].join("\n");
    await h.writeNotebook("uploads.tsnb", nb);
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "uploads.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await outputsOf(page, 1).getByText("no image").waitFor();
    await outputsOf(page, 2).getByText("no audio").waitFor();
    // A real PNG (a screenshot of the page), far bigger than 48×32: the page resizes it.
    const png = await page.screenshot();
    await page
      .getByLabel("Photo")
      .setInputFiles({ name: "shot.png", mimeType: "image/png", buffer: png });
    await outputsOf(page, 1).getByText("u8 [32,48,3]").waitFor({ timeout: 30_000 });
    const wav = join(process.cwd(), "data", "speech.wav");
    await page.getByLabel("Voice").setInputFiles(wav);
    const { statSync } = await import("node:fs");
    // 16-bit mono 16 kHz WAV: (bytes - 44) / 2 samples, halved at 8 kHz.
    const n = Math.floor((statSync(wav).size - 44) / 2 / 2);
    await cell(page, 2)
      .getByText(new RegExp(`^'?f32 \\[(${n - 1}|${n}|${n + 1})\\]'?$`))
      .waitFor({ timeout: 30_000 });
    await page.getByText("shot.png: 48×32 RGB").waitFor();
    if (process.env["TSNB_SHOTS"])
      await page.screenshot({
        path: join(process.env["TSNB_SHOTS"], "uploads.png"),
        fullPage: true,
      });
    assert.deepEqual(errors, []);
  });

  test("a digit drawn on the pad with the mouse arrives as an 8×8 image where the stroke was; Clear sets null", async () => {
    const nb = [
      "# Draw",
      "",
      "## Cells",
      "",
      "```ts",
      'import { input, display } from "tsnb";',
      'const digit = input.image("Digit", { size: [8, 8], draw: true });',
      "display(digit);",
      "```",
      "",
      '<!-- tsnb:cell {"autoRun":true} -->',
      "```ts",
      "const px = digit.value;",
      "// ink per column and per row (0 = white, 255 = black), summed over RGB",
      "const ink = px ? (px.toArraySync() as number[][][]).map((row) => row.map((p) => 765 - p[0]! - p[1]! - p[2]!)) : null;",
      "ink ? `${px!.dtype} [${px!.shape}] cols ${ink[0]!.map((_, c) => ink.reduce((a, r) => a + r[c]!, 0) > 200 ? 1 : 0).join('')} rows ${ink.map((r) => r.reduce((a, v) => a + v, 0) > 200 ? 1 : 0).join('')}` : 'no drawing'",
      "```",
      "",
    ].join("\n");
    await h.writeNotebook("draw.tsnb", nb);
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "draw.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await outputsOf(page, 1).getByText("no drawing").waitFor();
    const pad = page.getByRole("img", { name: "Drawing pad for Digit" });
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    const vp = page.viewportSize()!;
    assert.ok(
      box.width >= 100 && box.y >= 0 && box.y + box.height <= vp.height,
      `pad on screen: ${JSON.stringify(box)}`,
    );
    // A vertical stroke down the middle of the pad, top fifth to bottom fifth: a "1".
    const x = box.x + box.width / 2;
    await page.mouse.move(x, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(x, box.y + box.height * (0.2 + 0.06 * i));
    await page.mouse.up();
    // Ink in the two middle columns only, and in the rows the stroke covered, not the top one.
    await cell(page, 1)
      .getByText(
        /u8 \[8,8,3\] cols 000(11|1)0{3,4} rows 0(1{6})0|u8 \[8,8,3\] cols 000(11|1)0{3,4} rows 01{7}/,
      )
      .waitFor({ timeout: 30_000 });
    if (process.env["TSNB_SHOTS"])
      await page.screenshot({ path: join(process.env["TSNB_SHOTS"], "draw.png"), fullPage: true });
    await page.getByRole("button", { name: "Clear" }).click();
    await outputsOf(page, 1).getByText("no drawing").waitFor();
    assert.deepEqual(errors, []);
  });
});
