// The renderer's drawing of every output type, in Chromium, fed by a scripted stand-in server
// (test/renderer/fake-server.ts: no kernel needed, so each output is exactly the one under test).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import type { Cell, Notebook } from "../../core/notebook.ts";
import type { Output, OutputUpdate } from "../../core/outputs.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();

function outputsCell(id: string, outputs: Output[]): Cell {
  return { type: "code", id, source: `//outputs ${JSON.stringify(outputs)}` };
}
function updatesCell(id: string, updates: OutputUpdate[]): Cell {
  return { type: "code", id, source: `//updates ${JSON.stringify(updates)}` };
}

const longText = Array.from({ length: 200 }, (_, i) => `line ${i}`).join("\n") + "\n";
const spec = {
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  data: { name: "points" },
  datasets: { points: [{ x: 1, y: 1 }] },
  mark: "point",
  encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
};
const cells: Cell[] = [
  outputsCell("terminal", [
    { type: "terminal", stream: "stdout", text: longText + "\u001b[31mred\u001b[0m plain\n" },
  ]),
  outputsCell("html", [
    {
      type: "html",
      html: "<p id=inside>inside</p><script>document.body.dataset.ran = '1'; parent.document.title = 'escaped';</script><img src=x onerror=\"parent.document.title = 'escaped'\">",
    },
  ]),
  outputsCell("value", [
    {
      type: "value",
      preview: {
        kind: "object",
        label: "Object",
        more: 2,
        entries: [
          { key: "a", value: { kind: "primitive", text: "1", jsType: "number" } },
          {
            key: "nested",
            value: {
              kind: "object",
              label: "Array(2)",
              more: 0,
              entries: [
                { key: "0", value: { kind: "primitive", text: '"deep"', jsType: "string" } },
              ],
            },
          },
        ],
      },
    },
  ]),
  outputsCell("table", [
    {
      type: "table",
      id: "t1",
      columns: ["name", "n"],
      rows: [
        ["a", 1],
        ["b", 2],
      ],
      offset: 0,
      totalRows: 5,
    },
  ]),
  outputsCell("error", [
    {
      type: "error",
      name: "TypeError",
      message: "x is not a function",
      stack: "TypeError: x is not a function\n    at cell:3:5",
      location: { line: 12, column: 5 },
      cell: { cellId: "error", line: 3, column: 5 },
    },
  ]),
  outputsCell("error2", [
    {
      type: "error",
      name: "SyntaxError",
      message: "Unexpected ';'",
      stack: "SyntaxError: Unexpected ';'\n    at f (nb.tsnb:21:21)\n    … 3 library frames hidden",
      fullStack:
        "SyntaxError: Unexpected ';'\n    at lib (node:internal/x:1:1)\n    at f (nb.tsnb:21:21)",
      excerpt: "21 | const bad = ;\n   |             ^",
      location: { line: 21, column: 13 },
      cell: { cellId: "error2", line: 2, column: 13 },
      uncaught: "rejection",
    },
  ]),
  outputsCell("chart", [{ type: "vega-lite", id: "live1", dataset: "points", spec }]),
  updatesCell("push", [
    {
      type: "vega-lite-push",
      id: "live1",
      rows: [
        { x: 2, y: 4 },
        { x: 3, y: 9 },
      ],
    },
  ]),
  outputsCell("misc", [
    {
      type: "image",
      mime: "image/svg+xml",
      data: Buffer.from(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ).toString("base64"),
      alt: "square",
    },
    { type: "tensor", dtype: "f32", shape: [2, 2], text: "[[1, 2],\n [3, 4]]" },
    { type: "progress", id: "p1", fraction: 0.25, label: "training" },
    { type: "markdown", text: "**bold** <img src=x onerror=alert(1)>" },
  ]),
];
const notebook: Notebook = {
  title: "Outputs",
  metadata: { version: 1 },
  sections: [{ id: "s1", title: "All outputs", cells }],
};

describe("output rendering in Chromium", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    ({ server, browser, page } = await openNotebookPage("outputs.tsnb", notebook));
    await page.getByRole("button", { name: "Run all" }).click();
    await page.locator('[data-cell-id="misc"] .output-progress').waitFor();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  const out = (id: string) => page.locator(`[data-cell-id="${id}"] .outputs`);

  test("console text: ANSI colours become classes, long output is folded to its last lines", async () => {
    const red = out("terminal").locator(".ansi-red-fg");
    assert.equal((await red.textContent())?.trim(), "red");
    const shown = (await out("terminal").locator("pre").textContent()) ?? "";
    assert.match(shown, /line 199/);
    assert.doesNotMatch(shown, /line 10\n/);
    await out("terminal")
      .getByRole("button", { name: /Show \d+ earlier lines/ })
      .click();
    assert.match((await out("terminal").locator("pre").textContent()) ?? "", /line 10\n/);
  });

  test("HTML is shown only inside a sandboxed, opaque-origin iframe: its scripts run there but cannot reach the app", async () => {
    const frame = out("html").locator("iframe");
    assert.equal(await frame.getAttribute("sandbox"), "allow-scripts");
    const inner = page.frameLocator(`[data-cell-id="html"] iframe`);
    await inner.locator("#inside").waitFor();
    // The server's sandbox page has its own CSP: the output's inline script runs, inside the frame.
    await inner.locator("body[data-ran]").waitFor();
    await page.waitForTimeout(200);
    assert.equal(await page.title(), "Outputs — tsnb");
    const origin = await page
      .frames()
      .find((f) => f.url().includes("/sandbox/html-output"))
      ?.evaluate(() => window.origin);
    assert.equal(origin, "null");
  });

  test("values are an expandable inspector", async () => {
    const root = out("value").locator("details").first();
    assert.equal(await root.getAttribute("open"), "", "the top level starts expanded");
    const nested = out("value").locator("details details");
    assert.equal(await nested.getAttribute("open"), null);
    await nested.locator("summary").click();
    await out("value").getByText('"deep"').waitFor();
    await out("value").getByText("… 2 more").waitFor();
  });

  test("tables show one page with a pager", async () => {
    assert.equal(await out("table").locator("tbody tr").count(), 2);
    await out("table").getByText("1–2 of 5 rows").waitFor();
    assert.equal(
      await out("table").getByRole("button", { name: "Previous page" }).isDisabled(),
      true,
    );
    assert.equal(await out("table").getByRole("button", { name: "Next page" }).isDisabled(), false);
  });

  test("errors show name, message and location", async () => {
    await out("error").getByText("TypeError", { exact: true }).waitFor();
    assert.equal(
      await out("error").locator(".error-head").textContent(),
      "TypeError: x is not a function",
    );
    // The line inside the cell (editors number lines from the cell's start), not the file's.
    await out("error").getByText("at line 3, column 5 of this cell").waitFor();
    assert.equal(await out("error").locator(".error-full-stack").count(), 0);
  });

  test("an error shows its excerpt with the caret, says Uncaught, and keeps the full stack a click away", async () => {
    const box = out("error2");
    assert.equal(
      await box.locator(".error-head").textContent(),
      "Uncaught (in promise) SyntaxError: Unexpected ';'",
    );
    // Numbered from the cell's start (the file's line 21 is the cell's line 2).
    assert.equal(
      await box.locator(".error-excerpt").textContent(),
      "2 | const bad = ;\n  |             ^",
    );
    const full = box.locator(".error-full-stack pre");
    assert.equal(await full.isVisible(), false);
    await box.getByText("Full stack trace").click();
    await full.waitFor({ state: "visible" });
    assert.match((await full.textContent()) ?? "", /node:internal\/x/);
  });

  test("a Vega-Lite chart is drawn and pushed rows appear in it", async () => {
    const points = out("chart").locator(".mark-symbol path");
    await points.first().waitFor();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-cell-id="chart"] .mark-symbol path').length === 3,
    );
    assert.equal(await points.count(), 3);
  });

  test("images, tensors, progress and Markdown outputs", async () => {
    const img = out("misc").getByRole("img", { name: "square" });
    assert.match((await img.getAttribute("src")) ?? "", /^data:image\/svg\+xml;base64,/);
    await out("misc").getByText("Tensor<f32>[2×2]").waitFor();
    assert.equal(
      await out("misc")
        .locator("progress")
        .evaluate((p) => (p as HTMLProgressElement).value),
      0.25,
    );
    await out("misc").locator(".output-markdown strong").getByText("bold").waitFor();
    assert.equal(await out("misc").locator(".output-markdown [onerror]").count(), 0);
  });
});
