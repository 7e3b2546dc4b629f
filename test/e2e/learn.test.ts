// End-to-end: the start page's Learn section lists the shipped lessons with a summary each;
// clicking one opens the user's own copy (learn/NAME.tsnb in the served folder), which runs with
// the real kernel (here lesson 4: the Training smart cell's live chart and the test accuracy);
// back on the start page the lesson says "your copy" and the copy is in the file list; the
// shipped file is unchanged. Screenshots go to test-results/learn/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../server/static.ts";
import { skipReason, startHarness, type Harness } from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

const shipped = join(packageRoot(), "notebooks");
const catalog = JSON.parse(readFileSync(join(shipped, "learn.json"), "utf8")) as {
  lessons: Array<{ file: string; summary: string }>;
};
const shots = join(packageRoot(), "test-results", "learn");

describe("the Learn section", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    mkdirSync(shots, { recursive: true });
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("lists the lessons; opening one opens a copy in learn/ that runs; the original stays as shipped", async () => {
    const lesson = catalog.lessons.find((l) => l.file.startsWith("04-"))!;
    const original = readFileSync(join(shipped, lesson.file));
    const { page, errors } = await h.newPage();
    await page.setViewportSize({ width: 1100, height: 900 });
    const list = page.getByRole("list", { name: "Lessons" });
    await list.waitFor();
    assert.equal(await list.getByRole("listitem").count(), catalog.lessons.length);
    for (const l of catalog.lessons) await list.getByText(l.summary, { exact: true }).waitFor();
    await page.screenshot({ path: join(shots, "start-page.png") });

    await list.getByRole("link", { name: "Train a classifier" }).click();
    await page.locator(".notebook .cell").first().waitFor();
    assert.equal(await page.evaluate(() => window.__tsnb?.data()?.path), `learn/${lesson.file}`);
    await page.getByRole("button", { name: "Run all" }).click();
    const result = page.locator(".outputs").getByText(/test accuracy \d+\.\d% \(\d+ of \d+\)/);
    await result.waitFor({ timeout: 120_000 }).catch(async (e: unknown) => {
      await page.screenshot({ path: join(shots, "classifier-failed.png"), fullPage: true });
      throw e;
    });
    // The Training smart cell's live chart drew its lines.
    const chart = page.locator(".cell .output-vega svg").first();
    await chart.waitFor();
    const accuracy = Number(
      /test accuracy ([\d.]+)%/.exec((await result.textContent()) ?? "")?.[1],
    );
    assert.ok(accuracy > 90, `test accuracy ${accuracy}%`);
    await page.screenshot({ path: join(shots, "classifier.png"), fullPage: true });

    await page.getByRole("button", { name: "Start page" }).click();
    await list.waitFor();
    await list.getByRole("link", { name: "Train a classifier (your copy)" }).waitFor();
    await page.getByRole("list", { name: "Files" }).getByText("learn", { exact: true }).click();
    await page
      .getByRole("list", { name: "Files" })
      .getByText(lesson.file, { exact: true })
      .waitFor();
    await page.screenshot({ path: join(shots, "start-page-after.png") });
    assert.deepEqual(readFileSync(join(shipped, lesson.file)), original);
    assert.deepEqual(readFileSync(join(h.root, "learn", lesson.file)).length > 0, true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
