/**
 * Screenshots of every Learn lesson after Run all, in Chromium against the real server and
 * kernel, the way a user opens them (from the start page's Learn section, as their copy). Not a
 * test: run it by hand after changing a lesson and look at the pictures:
 *   node --import tsx test/e2e/learn-screenshots.ts [OUT_DIR] [FILTER]
 * Writes OUT_DIR/NN-name-K.png (default test-results/learn/lessons/): the page scrolled a
 * viewport at a time, from the top.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../server/static.ts";
import { startHarness } from "./harness.ts";

const out = process.argv[2] ?? join(packageRoot(), "test-results", "learn", "lessons");
const filter = process.argv[3] ?? "";
mkdirSync(out, { recursive: true });
const catalog = JSON.parse(
  readFileSync(join(packageRoot(), "notebooks", "learn.json"), "utf8"),
) as { lessons: Array<{ file: string }> };

const h = await startHarness();
try {
  for (const { file } of catalog.lessons.filter((l) => l.file.includes(filter))) {
    const { page, errors } = await h.newPage();
    await page.setViewportSize({ width: 1200, height: 1000 });
    const text = readFileSync(join(packageRoot(), "notebooks", file), "utf8");
    const title = /\n# (.+)\n/.exec(text)![1]!;
    await page.getByRole("list", { name: "Lessons" }).getByRole("link", { name: title }).click();
    await page.locator(".notebook .cell").first().waitFor();
    await page.getByRole("button", { name: "Run all" }).click();
    // Done when no cell is queued or running.
    await page.waitForFunction(
      () => {
        const d = window.__tsnb?.data();
        if (!d) return false;
        const states = Object.values(d.cells).map((c) => c.status.type);
        return states.includes("done") && states.every((s) => s !== "queued" && s !== "running");
      },
      undefined,
      { timeout: 600_000, polling: 500 },
    );
    await page.waitForTimeout(1500);
    const base = file.replace(/\.tsnb$/, "");
    const pageHeight = () => page.evaluate(() => document.documentElement.scrollHeight);
    let k = 0;
    // The page grows as cells come into view (editors and charts are made lazily): measure each time.
    for (let y = 0; y < (await pageHeight()); y += 950, k++) {
      await page.evaluate((top) => window.scrollTo(0, top), y);
      await page.waitForTimeout(400);
      await page.screenshot({ path: join(out, `${base}-${k}.png`) });
    }
    console.log(
      `${file}: ${k} screenshots${errors.length ? `, page errors: ${errors.join("; ")}` : ""}`,
    );
    await page.close();
  }
} finally {
  await h.close();
}
