/**
 * The README's two lesson pictures (docs/learn-classifier.png, docs/learn-transformer.png): lessons
 * 4 and 8 opened from the Learn section in Chromium, run (lesson 8 with its default 2,000 steps),
 * and the outputs of their training cells photographed. Not a test; run by hand:
 *   node --import tsx test/e2e/learn-readme-shots.ts [FILTER]
 * (FILTER: only the pictures whose file name contains it, e.g. "classifier").
 */
import { join } from "node:path";
import { startHarness } from "./harness.ts";
const h = await startHarness();
const done = () => {
  const d = window.__tsnb?.data();
  const s = d ? Object.values(d.cells).map((c) => c.status.type) : [];
  return s.includes("done") && s.every((x) => x !== "queued" && x !== "running");
};
try {
  for (const [title, file, match] of [
    ["Train a classifier", "docs/learn-classifier.png", "Epoch 15/15"],
    ["A tiny transformer", "docs/learn-transformer.png", "step 2000"],
  ] as const) {
    if (process.argv[2] && !file.includes(process.argv[2])) continue;
    const { page } = await h.newPage();
    await page.setViewportSize({ width: 1100, height: 3000 });
    await page.getByRole("list", { name: "Lessons" }).getByRole("link", { name: title }).click();
    await page.locator(".notebook .cell").first().waitFor();
    await page.getByRole("button", { name: "Run all" }).click();
    await page.waitForFunction(done, undefined, { timeout: 600_000, polling: 500 });
    const outputs = page.locator(".cell .outputs").filter({ hasText: match }).first();
    await outputs.evaluate((el) =>
      window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 300),
    );
    await page.waitForTimeout(2500);
    await outputs.screenshot({ path: join(process.cwd(), file) });
    console.log("wrote", file);
    await page.close();
  }
} finally {
  await h.close();
}
export {};
