/**
 * Takes the README's screenshot (docs/screenshot.png): the sidebar's outline, a table and a
 * chart smart cell (its form and its chart) — a small notebook run end to end in
 * Chromium against the real server and kernel. Not a test; run it by hand after UI changes:
 *   node --import tsx test/e2e/screenshot.ts [out.png]
 */
import { join } from "node:path";
import { cell, openFromBrowser, startHarness } from "./harness.ts";

const out =
  process.argv[2] ?? join(new URL("../..", import.meta.url).pathname, "docs/screenshot.png");

const fence = (code: string) => ["```ts", code, "```", ""].join("\n");
const text = [
  "# Palmer penguins",
  "",
  "A first look at the penguins of the Palmer archipelago: how body mass $m$ grows with",
  "flipper length $\\ell$, per species.",
  "",
  "## Load the data",
  "",
  fence(
    'import { datasets } from "tsnb";\nconst penguins = await datasets.penguins();\nconsole.log(`${penguins.length} penguins, ${new Set(penguins.map((p) => p.species)).size} species`);\npenguins.slice(0, 3)',
  ),
  "## Plot",
  "",
  '<!-- tsnb:smart-cell {"kind":"chart","attrs":{"version":1,"title":"Beak and flipper length","width":420,"height":260,"layers":[{"data":"penguins","mark":"point","x":{"field":"beak_length_mm","type":"quantitative","aggregate":null,"bin":false,"scale":null},"y":{"field":"flipper_length_mm","type":"quantitative","aggregate":null,"bin":false,"scale":null},"theta":{"field":null,"type":null,"aggregate":null,"bin":false,"scale":null},"color":{"field":"species","type":"nominal","aggregate":null,"bin":false,"scale":null},"size":{"field":null,"type":null,"aggregate":null,"bin":false,"scale":null}}]}} -->\n```ts\nimport { display } from "tsnb";\n\ndisplay.vegaLite({\n  $schema: "https://vega.github.io/schema/vega-lite/v6.json",\n  title: "Beak and flipper length",\n  width: 420,\n  height: 260,\n  data: { values: penguins },\n  mark: "point",\n  encoding: {\n    x: { field: "beak_length_mm", type: "quantitative" },\n    y: { field: "flipper_length_mm", type: "quantitative" },\n    color: { field: "species", type: "nominal" },\n  },\n});\n```',
  "",
].join("\n");

const h = await startHarness();
try {
  await h.writeNotebook("penguins.tsnb", text);
  const { page } = await h.newPage();
  await page.setViewportSize({ width: 1280, height: 1560 });
  await openFromBrowser(page, "penguins.tsnb");
  await page.getByRole("button", { name: "Run all" }).click();
  await cell(page, 2)
    .locator(".output-vega svg")
    .first()
    .waitFor({ timeout: 60_000 })
    .catch(async (e: unknown) => {
      await page.screenshot({ path: `${out}.failed.png` });
      throw e;
    });
  await cell(page, 2)
    .locator(".cell-status")
    .getByText(/Done in/)
    .waitFor({ timeout: 60_000 });
  await cell(page, 1).locator(".code-area").click();
  await page
    .waitForFunction(() => document.querySelectorAll(".squiggly-error").length === 0, undefined, {
      timeout: 15_000,
    })
    .catch(() => console.log("(the editor still shows errors)"));
  await page.waitForTimeout(500);
  await page.mouse.move(5, 600);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await h.close();
}
