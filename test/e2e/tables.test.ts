// End-to-end: a table output in Chromium with the real kernel — numeric headers aligned with
// their numbers, paging, sorting the whole table by a column (the kernel sorts), CSV download
// of every row in the shown order. The data: the penguins of vega-datasets (tsnb's datasets).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";
import { tableCsv } from "../../renderer/outputs.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

describe("tables", { skip: skip ?? false }, () => {
  let h: Harness;
  const shots = () => process.env["TSNB_E2E_SHOTS"] ?? join(h.root, "..");
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("numeric headers right-aligned, paging, sort by a column across pages, CSV of every row", async () => {
    await h.writeNotebook(
      "penguins.tsnb",
      notebookText("Tables", [
        'import { datasets } from "tsnb";\nconst penguins = await datasets.penguins();\npenguins.map((p) => ({ species: p.species, island: p.island, body_mass_g: p.body_mass_g }))',
      ]),
    );
    const { page, errors } = await h.newPage();
    await openFromBrowser(page, "penguins.tsnb");
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const table = cell(page, 0).locator(".output-table");
    await table.waitFor({ timeout: 60_000 });
    const total = Number(/of (\d+) rows/.exec(await table.locator(".table-range").innerText())![1]);
    assert.ok(total > 300, `all penguins: ${total}`);
    // The numeric column's header is aligned as its numbers are.
    const mass = table.locator("th", { hasText: "body_mass_g" });
    assert.equal(await mass.evaluate((e) => getComputedStyle(e).textAlign), "right");
    assert.equal(
      await table
        .locator("th", { hasText: "species" })
        .evaluate((e) => getComputedStyle(e).textAlign),
      "left",
    );
    // Paging: Next, Last, First.
    await table.getByRole("button", { name: "Next page" }).click();
    await table.getByText(/page 2 of/).waitFor();
    await table.getByRole("button", { name: "Last page" }).click();
    await table.getByRole("button", { name: "Next page" }).and(page.locator(":disabled")).waitFor();
    await table.getByRole("button", { name: "First page" }).click();
    await table.getByText(/page 1 of/).waitFor();
    // Sort by body mass, descending: the heaviest penguin of the whole table comes first.
    const masses = async () =>
      (
        await table
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => r.children[3]!.textContent ?? ""))
      )
        .filter((s) => s !== "" && s !== "null")
        .map(Number);
    await mass.getByRole("button").click();
    await page.waitForFunction(() => document.querySelector("th[aria-sort='ascending']") !== null);
    await mass.getByRole("button").click();
    await page.waitForFunction(() => document.querySelector("th[aria-sort='descending']") !== null);
    const first = await masses();
    assert.deepEqual(
      first,
      [...first].sort((a, b) => b - a),
      "descending on the page",
    );
    assert.equal(first[0], 6300, "the heaviest of all the penguins (6300 g) is first");
    await table.getByRole("button", { name: "Next page" }).click();
    await table.getByText(/page 2 of/).waitFor();
    const second = await masses();
    assert.ok(second[0]! <= first[first.length - 1]!, "page 2 continues the order");
    assert.equal(await mass.getAttribute("aria-sort"), "descending", "paging keeps the sort");
    await page.screenshot({ path: join(shots(), "table-sorted.png") });
    // CSV: every row, in the shown order.
    const download = page.waitForEvent("download");
    await table.getByRole("button", { name: "Download CSV" }).click();
    const file = await (await download).path();
    const csv = await readFile(file, "utf8");
    const lines = csv.trimEnd().split("\r\n");
    assert.equal(lines[0], "species,island,body_mass_g");
    assert.equal(lines.length, total + 1, "a line per penguin and the header");
    assert.match(lines[1]!, /,6300$/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("CSV quoting and formula-looking text", () => {
    assert.equal(
      tableCsv(
        ["a", "b"],
        [
          ["x,y", 'say "hi"'],
          ["=1+1", -3],
          [null, "line\nbreak"],
        ],
      ),
      'a,b\r\n"x,y","say ""hi"""\r\n\'=1+1,-3\r\n,"line\nbreak"\r\n',
    );
  });
});
