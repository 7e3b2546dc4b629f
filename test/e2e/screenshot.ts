/**
 * Takes the README's screenshot (docs/screenshot.png): a small notebook run end to end in
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
  fence(
    'import { display } from "tsnb";\ndisplay.vegaLite({\n  data: { values: penguins.filter((p) => p.body_mass_g) },\n  mark: { type: "point", filled: true, opacity: 0.7 },\n  encoding: {\n    x: { field: "flipper_length_mm", type: "quantitative", scale: { zero: false } },\n    y: { field: "body_mass_g", type: "quantitative", scale: { zero: false } },\n    color: { field: "species", type: "nominal" },\n  },\n  width: 560, height: 220,\n});',
  ),
].join("\n");

const h = await startHarness();
try {
  await h.writeNotebook("penguins.tsnb", text);
  const { page } = await h.newPage();
  await page.setViewportSize({ width: 1280, height: 1320 });
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
