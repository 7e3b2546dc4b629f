// End-to-end: smart cells in Chromium against a real server and kernel. Insert a chart from the
// page, fill its form by labelled fields, see the chart; a second window sees the attr changes;
// the file holds the attrs and the generated code; reload restores the form; convert to code;
// a file with broken attrs opens with a warning and keeps its code.
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

describe("smart cells in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("insert a chart, fill its form, run it; a second window follows; save; reload restores it", async () => {
    await h.writeNotebook(
      "chart.tsnb",
      notebookText("Chart", [
        'import { datasets } from "tsnb";\nconst penguins = await datasets.penguins();\nconst other = [{ a: 1, b: "x" }];',
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "chart.tsnb");
    // Run the data cell so the binding scan knows `penguins`.
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor();
    await cell(page, 0).getByRole("combobox", { name: "Insert smart cell" }).selectOption("chart");
    const smart = cell(page, 1);
    await smart.getByText("Smart cell · Chart").waitFor();
    const data = smart.getByRole("combobox", { name: "Layer 1: Data" });
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Layer 1: Data" && s.value === "penguins",
      ),
    );
    assert.equal(await data.inputValue(), "penguins", "the first data binding is the first choice");
    await smart
      .getByRole("combobox", { name: "Layer 1: X field" })
      .selectOption("flipper_length_mm");
    await smart.getByRole("combobox", { name: "Layer 1: Y field" }).selectOption("body_mass_g");
    await smart.getByRole("combobox", { name: "Layer 1: Color field" }).selectOption("species");
    await smart.getByRole("textbox", { name: "Title" }).fill("Penguins");
    await smart.getByRole("textbox", { name: "Title" }).press("Enter");
    // The second window sees the attrs change.
    const second = await h.newPage();
    await openFromBrowser(second.page, "chart.tsnb");
    const smart2 = cell(second.page, 1);
    await second.page.waitForFunction(() =>
      [...document.querySelectorAll("input")].some(
        (s) => s.getAttribute("aria-label") === "Title" && s.value === "Penguins",
      ),
    );
    assert.equal(
      await smart2.getByRole("combobox", { name: "Layer 1: Color field" }).inputValue(),
      "species",
    );
    // The chart was drawn as its fields were picked (the kernel is up, reevaluate automatically
    // is on): no Run needed, though the cell had never run.
    await smart.locator(".outputs canvas, .outputs svg").first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => {
      const d = window.__tsnb?.data();
      const c = d?.notebook.sections[0]?.cells[1];
      return c && d.cells[c.id]?.evaluatedSource?.includes('"Penguins"');
    });
    // Run runs it too.
    await smart.getByRole("button", { name: "Run cell" }).click();
    await smart.locator(".outputs canvas, .outputs svg").first().waitFor();
    // Reevaluate automatically (on by default for the chart): a change re-runs it.
    assert.equal(
      await smart.getByRole("checkbox", { name: "Reevaluate automatically" }).isChecked(),
      true,
    );
    await smart.getByRole("combobox", { name: "Layer 1: Mark" }).selectOption("bar");
    await page.waitForFunction(() => {
      const d = window.__tsnb?.data();
      const c = d?.notebook.sections[0]?.cells[1];
      return c && d.cells[c.id]?.evaluatedSource?.includes('mark: "bar"');
    });
    await smart.getByRole("combobox", { name: "Layer 1: Mark" }).selectOption("point");
    await smart.getByRole("button", { name: "Show code" }).click();
    const code = smart.getByLabel("Generated code");
    await code.waitFor();
    assert.match(await code.innerText(), /display\.vegaLite\(\{/);
    await shot(page, "chart-form");
    // Save: the file holds the attrs and the generated code.
    await page.keyboard.press("ControlOrMeta+S");
    await page.waitForFunction(() => window.__tsnb?.data()?.dirty === false);
    const file = await readFile(join(h.root, "chart.tsnb"), "utf8");
    assert.match(
      file,
      /<!-- tsnb:smart-cell \{"kind":"chart","attrs":\{"version":1,"title":"Penguins"/,
    );
    assert.match(file, /color: \{ field: "species", type: "nominal" \}/);
    // Reload: the form is restored from the file.
    await page.reload();
    await page.waitForFunction(() => window.__tsnb?.state() === "open");
    await openFromBrowser(page, "chart.tsnb").catch(() => undefined);
    const again = cell(page, 1);
    await again.getByText("Smart cell · Chart").waitFor();
    assert.equal(
      await again.getByRole("combobox", { name: "Layer 1: X field" }).inputValue(),
      "flipper_length_mm",
    );
    assert.equal(await again.getByRole("textbox", { name: "Title" }).inputValue(), "Penguins");
    assert.deepEqual(errors, []);
    assert.deepEqual(second.errors, []);
  });

  test("a chart of a 2-D tensor: its columns named in the form, drawn; re-running the data re-runs the chart", async () => {
    await h.writeNotebook(
      "tensor-chart.tsnb",
      notebookText("Tensor chart", [
        'import * as nx from "tsnb/nx";\nconst points = nx.random.normal([200, 2], { seed: 3 });',
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "tensor-chart.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await cell(page, 0)
      .getByText(/Done in/)
      .waitFor();
    await cell(page, 0).getByRole("combobox", { name: "Insert smart cell" }).selectOption("chart");
    const smart = cell(page, 1);
    await smart.getByText("Smart cell · Chart").waitFor();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Layer 1: Data" && s.value === "points",
      ),
    );
    assert.match(
      await smart
        .getByRole("combobox", { name: "Layer 1: Data" })
        .locator("option:checked")
        .innerText(),
      /points \(tensor f32 \[200, 2\]\)/,
    );
    const names = smart.getByRole("textbox", { name: "Layer 1: Column names" });
    assert.equal(await names.inputValue(), "c0, c1");
    await names.fill("height, weight");
    await names.press("Enter");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("select")].some(
        (s) => s.getAttribute("aria-label") === "Layer 1: X field" && s.value === "height",
      ),
    );
    await smart.getByRole("button", { name: "Run cell" }).click();
    await smart.locator(".outputs canvas, .outputs svg").first().waitFor();
    await shot(page, "chart-tensor");
    // The data cell runs again: the chart (reevaluate automatically by default) follows.
    const runs = () =>
      page.evaluate(() => {
        const d = window.__tsnb?.data();
        const c = d?.notebook.sections[0]?.cells[1];
        return c ? (d?.cells[c.id]?.evaluationSeq ?? 0) : 0;
      });
    const before = await runs();
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    await page.waitForFunction((seq) => {
      const d = window.__tsnb?.data();
      const c = d?.notebook.sections[0]?.cells[1];
      return (
        c && (d?.cells[c.id]?.evaluationSeq ?? 0) > seq && d?.cells[c.id]?.status.type === "done"
      );
    }, before);
    assert.deepEqual(errors, []);
  });

  test("convert to code asks first, then leaves an ordinary code cell with the code", async () => {
    await h.writeNotebook(
      "convert.tsnb",
      [
        "# Convert",
        "",
        '<!-- tsnb:smart-cell {"kind":"chart","attrs":{"data":"rows","x":"a","y":"b"}} -->',
        "```ts",
        'import { display } from "tsnb";',
        "",
        "display.vegaLite({",
        '  $schema: "https://vega.github.io/schema/vega-lite/v6.json",',
        "  data: { values: rows },",
        '  mark: "point",',
        '  encoding: { x: { field: "a" }, y: { field: "b" } },',
        "});",
        "```",
        "",
      ].join("\n"),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "convert.tsnb");
    const smart = cell(page, 0);
    await smart.getByText("Smart cell · Chart").waitFor();
    assert.equal(
      await smart.getByRole("alert").isHidden(),
      true,
      "the shorthand attrs generate the saved code",
    );
    await smart.getByRole("button", { name: "Convert to code" }).click();
    await smart
      .getByRole("group", { name: "Confirm convert to code" })
      .getByRole("button", { name: "Convert" })
      .click();
    await page.locator('.cell[data-cell-type="code"]').first().waitFor();
    assert.equal(await page.locator(".cell-smart").count(), 0);
    await page
      .locator(".cell-code .code-area")
      .first()
      .getByText("display.vegaLite")
      .first()
      .waitFor();
    assert.deepEqual(errors, []);
  });

  test("broken attrs and an unknown kind open read-only with a warning, code kept; hand-edited code is offered both ways", async () => {
    const fence = (code: string) => ["```ts", code, "```", ""];
    await h.writeNotebook(
      "broken.tsnb",
      [
        "# Broken",
        "",
        '<!-- tsnb:smart-cell {"kind":"chart","attrs":{"version":1,"layers":[{"data":"rows","mark":"pie"}]}} -->',
        ...fence("console.log('kept 1')"),
        '<!-- tsnb:smart-cell {"kind":"mystery","attrs":{"a":1}} -->',
        ...fence("console.log('kept 2')"),
        '<!-- tsnb:smart-cell {"kind":"chart","attrs":{"data":"rows","x":"a","y":"b"}} -->',
        ...fence("console.log('edited by hand')"),
      ].join("\n"),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "broken.tsnb");
    const [bad, unknown, edited] = [cell(page, 0), cell(page, 1), cell(page, 2)];
    await bad
      .getByRole("alert")
      .getByText(/layers\[0\]\.mark: must be one of point, line/)
      .waitFor();
    assert.match(await bad.getByLabel("Generated code").innerText(), /kept 1/);
    assert.equal(await bad.getByRole("combobox").count(), 1, "no form: only the insert menu");
    await unknown
      .getByRole("alert")
      .getByText(/Unknown smart cell kind 'mystery'/)
      .waitFor();
    assert.match(await unknown.getByLabel("Generated code").innerText(), /kept 2/);
    await edited
      .getByRole("alert")
      .getByText(/differs from what this form generates/)
      .waitFor();
    assert.equal(
      await edited.getByRole("combobox", { name: "Layer 1: X field" }).isDisabled(),
      true,
    );
    await shot(page, "broken");
    // Running keeps working: the saved code is what runs.
    await unknown.getByRole("button", { name: "Run cell" }).click();
    await unknown.getByText("kept 2").last().waitFor();
    // Keep the form: the code is regenerated from the attrs.
    await edited.getByRole("alert").getByRole("button", { name: "Keep the form" }).click();
    await edited.getByRole("alert").waitFor({ state: "hidden" });
    assert.equal(
      await edited.getByRole("combobox", { name: "Layer 1: X field" }).isDisabled(),
      false,
    );
    await page.keyboard.press("ControlOrMeta+S");
    await page.waitForFunction(() => window.__tsnb?.data()?.dirty === false);
    const file = await readFile(join(h.root, "broken.tsnb"), "utf8");
    assert.match(file, /"mark":"pie"/, "broken attrs are saved as they were");
    assert.match(file, /kept 1[\s\S]*kind":"mystery","attrs":\{"a":1\}[\s\S]*kept 2/);
    assert.match(file, /display\.vegaLite/);
    assert.deepEqual(errors, []);
  });
  test("insert a training cell, set epochs by its label, run: the live chart and final metrics", async () => {
    await h.writeNotebook("train.tsnb", notebookText("Train", ["md:Training"]));
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "train.tsnb");
    await page.getByRole("combobox", { name: "Add smart cell" }).first().selectOption("train");
    const smart = page.locator(".cell-smart").first();
    await smart.getByText("Smart cell · Training").waitFor();
    assert.equal(
      await smart.getByRole("checkbox", { name: "Reevaluate automatically" }).isChecked(),
      false,
    );
    await smart.getByRole("spinbutton", { name: "Epochs" }).fill("4");
    await smart.getByRole("spinbutton", { name: "Epochs" }).press("Enter");
    await page.waitForFunction(() =>
      JSON.stringify(window.__tsnb?.data()?.notebook).includes("epochs: 4"),
    );
    await smart.getByRole("spinbutton", { name: "Dense layer 1: Units" }).fill("8");
    await smart.getByRole("spinbutton", { name: "Dense layer 1: Units" }).press("Enter");
    await page.waitForFunction(() =>
      JSON.stringify(window.__tsnb?.data()?.notebook).includes("nn.dense(8"),
    );
    await smart.getByRole("button", { name: "Run cell" }).click();
    await smart.getByText(/Done in/).waitFor({ timeout: 120_000 });
    await smart.locator(".outputs canvas, .outputs svg").first().waitFor();
    await smart
      .locator(".outputs")
      .getByText(/val_loss/)
      .first()
      .waitFor();
    await shot(page, "train");
    assert.deepEqual(errors, []);
  });
});
