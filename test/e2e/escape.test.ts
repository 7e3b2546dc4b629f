// End-to-end (issue 13, "outputs that escape their box"): a notebook file alone is enough to
// try both, so both come from a .tsnb opened in Chromium through the real server.
// - A Vega-Lite chart whose spec carries `usermeta.embedOptions` (actions on, a sourceHeader
//   with a script): the app's embed options win — no "View Source" or editor action, and no
//   action opens a window.
// - A Markdown cell with `position: fixed; inset: 0; z-index: max` (a fake login screen): it
//   stays inside its cell — not fixed, no z-index, the rest of the window still the app's.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openFromBrowser, skipReason, startHarness, type Harness } from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

const SPEC = {
  mark: "bar",
  data: {
    values: [
      { a: "x", b: 3 },
      { a: "y", b: 5 },
    ],
  },
  encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
  usermeta: {
    embedOptions: {
      actions: true,
      sourceHeader: "<script>opener.document.title = 'pwned'</script>",
      editorUrl: "https://evil.example/",
    },
  },
};

const NOTEBOOK = [
  '<!-- tsnb:notebook {"version":1,"persistOutputs":true} -->',
  "# Boxes",
  "",
  "## Cells",
  "",
  '<div id="overlay" style="position: fixed; inset: 0; z-index: 2147483647; background: #c00; color: #fff">Session expired — log in again</div>',
  "",
  '<div id="sticky" style="position: sticky; top: 0; z-index: 99999">sticky</div>',
  "",
  "```ts",
  "chart",
  "```",
  "",
  "```vega-lite",
  JSON.stringify(SPEC, null, 2),
  "```",
  "",
].join("\n");

describe("user content stays in its box", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("a chart's embedOptions do not override the app's: no View Source, no window opened", async () => {
    await h.writeNotebook("boxes.tsnb", NOTEBOOK);
    const { page, context, errors } = await h.newPage();
    const popups: string[] = [];
    context.on("page", (p) => popups.push(p.url()));
    await openFromBrowser(page, "boxes.tsnb");
    const chart = page.locator(".output-vega");
    await chart.locator("svg").first().waitFor();
    // The actions menu holds downloads only.
    await chart.locator("summary").click();
    const actions = (await chart.locator(".vega-actions a").allTextContents()).sort();
    assert.deepEqual(actions, ["Save as PNG", "Save as SVG"]);
    assert.equal(await chart.getByText("View Source").count(), 0);
    assert.equal(await chart.getByText("Open in Vega Editor").count(), 0);
    await page.waitForTimeout(300);
    assert.deepEqual(popups, [], "no window was opened");
    assert.notEqual(await page.title(), "pwned");
    assert.deepEqual(errors, []);
  });

  test("Markdown cannot cover the window: no fixed or sticky positioning, no z-index, the app still answers clicks", async () => {
    const { page } = await h.newPage();
    await openFromBrowser(page, "boxes.tsnb");
    const overlay = page.locator("#overlay");
    await overlay.waitFor();
    const style = await overlay.evaluate((el) => {
      const cs = getComputedStyle(el);
      return { position: cs.position, zIndex: cs.zIndex };
    });
    assert.notEqual(style.position, "fixed");
    assert.equal(style.zIndex, "auto");
    const sticky = await page.locator("#sticky").evaluate((el) => getComputedStyle(el).position);
    assert.notEqual(sticky, "sticky");
    // Its box is inside its cell's box; the window's corners and the header are the app's.
    const [o, c] = await Promise.all([
      overlay.boundingBox(),
      page.locator(".notebook .cell").first().boundingBox(),
    ]);
    assert.ok(o && c);
    assert.ok(o.y >= c.y - 1 && o.y + o.height <= c.y + c.height + 1, "inside its cell");
    const hit = await page.evaluate(() =>
      [
        [5, 5],
        [window.innerWidth - 5, window.innerHeight - 5],
      ].map(([x, y]) => document.elementFromPoint(x!, y!)?.closest("#overlay") !== null),
    );
    assert.deepEqual(hit, [false, false], "the overlay does not reach the window's corners");
    await page.getByRole("button", { name: "Interrupt" }).click(); // the app is still clickable
    // Containment on the Markdown box too, for whatever gets past the sanitizer.
    const contain = await overlay.evaluate(
      (el) => getComputedStyle(el.closest(".markdown-body")!).contain,
    );
    assert.match(contain, /paint/);
  });
});
