// End-to-end: exported HTML files in Chromium with the network cut (every request but the file's
// own is aborted and recorded). The output gallery (test/fixtures/share/gallery.tsnb) exported by
// `tsnb export --html --run` draws every output as the app does; the XSS corpus the app's tests
// use, put into Markdown cells and outputs of an export, executes nothing in the page; HTML
// outputs run in sandboxed frames that reach neither the page nor the network; and Export → HTML
// in the app downloads the notebook as the page shows it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { exportHtml } from "../../core/format/html.ts";
import { importNotebook } from "../../core/format/index.ts";
import { allCells } from "../../core/notebook.ts";
import type { Output } from "../../core/outputs.ts";
import { readViewerAssets } from "../../cli/export.ts";
import { nbformatErrors } from "../core/nbformat-validate.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";
import { MARKDOWN_XSS } from "./xss-payloads.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
/** Set TSNB_SCREENSHOTS=DIR to keep the screenshots of the exported pages. */
const shots = process.env["TSNB_SCREENSHOTS"];

/** Open `file` with every other request aborted; returns the page and the requests refused. */
async function openOffline(
  browser: Browser,
  file: string,
  colorScheme: "light" | "dark" = "light",
): Promise<{ page: Page; refused: string[]; errors: string[]; dialogs: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme });
  const page = await context.newPage();
  const own = pathToFileURL(file).href;
  const refused: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("popup", (p) => dialogs.push(`popup ${p.url()}`));
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url === own) return route.continue();
    refused.push(url);
    return route.abort();
  });
  await page.goto(own);
  await page.waitForSelector("html[data-rendered=true]");
  return { page, refused, errors, dialogs };
}

describe("exported HTML in Chromium, offline", { skip: skip ?? false }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    dir = mkdtempSync(join(tmpdir(), "tsnb-export-e2e-"));
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the output gallery, exported with --run, shows every output with no request leaving the file", async () => {
    copyFileSync(join(root, "test/fixtures/share/gallery.tsnb"), join(dir, "gallery.tsnb"));
    const r = spawnSync(
      process.execPath,
      [join(root, "bin/tsnb.js"), "export", "gallery.tsnb", "--html", "--run"],
      { cwd: dir, encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(r.status, 1, r.stderr); // its last cell throws on purpose
    const { page, refused, errors } = await openOffline(browser, join(dir, "gallery.html"));
    // Charts are drawn by vega-embed after the page; wait for both.
    await page.waitForFunction(
      () => document.querySelectorAll(".output-vega svg.marks").length === 2,
    );
    await page.waitForTimeout(300);

    assert.equal(await page.locator("h1.nb-title").textContent(), "Output gallery");
    assert.equal(await page.locator(".section-title").count(), 3);
    // KaTeX: inline and display math.
    assert.ok((await page.locator(".markdown-body .katex").count()) >= 2);
    assert.equal(await page.locator(".katex-display").count(), 1);
    // Code highlighted, console text with its ANSI colour, stderr apart.
    assert.ok((await page.locator(".static-code .hljs-string").count()) > 3);
    assert.equal(
      await page.locator(".output-terminal [class*=ansi-red]").textContent(),
      "red text",
    );
    assert.match(
      (await page
        .locator(".output-terminal.stderr, .output-terminal .stderr")
        .first()
        .textContent()) ?? "",
      /a warning on stderr/,
    );
    // A table of records, a tensor, the value inspector.
    assert.deepEqual(
      await page.locator(".output-table tbody tr td:nth-child(2)").allTextContents(),
      ["Adelie", "Gentoo", "Chinstrap"],
    );
    assert.match((await page.locator(".tensor-head").textContent()) ?? "", /f32.*2×2/);
    assert.match((await page.locator(".output-value").textContent()) ?? "", /layers/);
    // The image, decoded from the file.
    assert.equal(
      await page.locator(".output-image img").evaluate((i: HTMLImageElement) => i.naturalWidth),
      8,
    );
    // The display updated twice shows its last state.
    assert.equal(await page.locator(".output-frame strong").textContent(), "final state");
    assert.equal(await page.locator(".outputs").getByText("state 1").count(), 0);
    // The bar chart (3 bars) and the live training chart with one point per epoch (a line).
    const bars = page.locator(".output-vega").nth(0).locator('path[aria-roledescription="bar"]');
    assert.equal(await bars.count(), 3);
    // Interactive as in the app: hovering a bar shows its tooltip.
    await bars.nth(1).hover();
    const tooltip = page.locator("#vg-tooltip-element");
    await tooltip.waitFor({ state: "visible" });
    assert.match((await tooltip.textContent()) ?? "", /Gentoo.*46\.5/s);
    assert.ok(await page.locator(".output-vega .role-mark.mark-line path").count());
    // The error names this cell.
    assert.match(
      (await page.locator(".output-error").textContent()) ?? "",
      /RangeError.*deliberately out of range/s,
    );
    assert.match((await page.locator(".output-error").textContent()) ?? "", /this cell/);
    // The HTML output ran its inline script inside its sandboxed frame.
    const frame = page.locator("iframe.output-html");
    assert.equal(await frame.getAttribute("sandbox"), "allow-scripts");
    const inner = page.frameLocator("iframe.output-html");
    await inner.getByText("the output's script ran").waitFor();

    assert.deepEqual(refused, [], "no request left the file");
    assert.deepEqual(errors, []);
    if (shots) await page.screenshot({ path: join(shots, "export-gallery.png"), fullPage: true });
    await page.context().close();
  });

  test("the XSS corpus in an export runs nothing in the page; HTML outputs stay in their sandbox and offline", async () => {
    const payloads = MARKDOWN_XSS.map((p) => `md:${p}`);
    const text = notebookText("XSS </title><script>window.__xss='title'</script>", [
      ...payloads,
      "1",
      "2",
    ]);
    const imported = importNotebook(text);
    assert.ok(imported.ok);
    const nb = imported.notebook;
    const [first, second] = allCells(nb).filter((c) => c.type === "code");
    const probe = `<p id="static">static</p><ul id="results"></ul><img src="https://example.com/pixel.png">
<script>
  const say = (id, text) => { const li = document.createElement("li"); li.id = id; li.textContent = text; document.getElementById("results").append(li); };
  document.getElementById("static").textContent = "probe ran";
  try { say("parent", "parent readable: " + parent.document.title); parent.__xss = "frame"; } catch (e) { say("parent", "parent blocked"); }
  try { say("storage", "storage readable: " + localStorage.length); } catch (e) { say("storage", "storage blocked"); }
  fetch("https://example.com/").then(() => say("fetch", "fetch went out"), () => say("fetch", "fetch blocked"));
  try { top.location.href = "https://example.com/"; say("top", "top navigation attempted"); } catch (e) { say("top", "top blocked"); }
  try { const w = window.open("https://example.com/"); say("popup", w ? "popup opened" : "popup blocked"); } catch (e) { say("popup", "popup blocked"); }
  const s = document.createElement("script"); s.textContent = "window.__injected = 1"; document.body.append(s);
  say("injected", window.__injected ? "injected script ran" : "injected script blocked");
</script><button onclick="parent.__xss='onclick'">b</button>`;
    const outputs: Record<string, Output[]> = {
      [first!.id]: [
        ...MARKDOWN_XSS.map((t): Output => ({ type: "markdown", text: t })),
        {
          type: "terminal",
          stream: "stdout",
          text: "</script><script>window.__xss='terminal'</script>\n",
        },
        { type: "image", mime: "text/html", data: btoa("<script>parent.__xss='img'</script>") },
        {
          type: "table",
          id: "",
          columns: ["<img src=x onerror=\"window.__xss='th'\">"],
          rows: [["<img src=x onerror=\"window.__xss='td'\">"]],
          offset: 0,
          totalRows: 1,
        },
        {
          type: "error",
          name: "<img src=x onerror=\"window.__xss='err'\">",
          message: "<b>m</b>",
          stack: "",
        },
      ],
      [second!.id]: [{ type: "html", html: probe }],
    };
    const assets = readViewerAssets();
    assert.ok(typeof assets !== "string", String(assets));
    const file = join(dir, "xss.html");
    writeFileSync(file, await exportHtml(nb, outputs, assets));

    const { page, refused, dialogs } = await openOffline(browser, file);
    const inner = page.frameLocator("iframe.output-html");
    await inner.locator("#injected").waitFor();
    await inner.locator("#fetch").waitFor();
    for (const link of await page.locator(".markdown-body a").all())
      await link.click({ force: true }).catch(() => undefined);
    await inner.locator("button").click();
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => (window as { __xss?: string }).__xss), undefined);
    assert.deepEqual(dialogs, []);
    const bad = await page.evaluate(() => {
      const found: string[] = [];
      for (const el of document.querySelectorAll("#tsnb-export-root *")) {
        if (/^(SCRIPT|OBJECT|EMBED)$/i.test(el.tagName)) found.push(el.tagName);
        if (el.tagName === "IFRAME" && el.getAttribute("sandbox") !== "allow-scripts")
          found.push("IFRAME without sandbox");
        for (const attr of el.attributes) {
          if (/^on/i.test(attr.name)) found.push(`${el.tagName} ${attr.name}`);
          if (/href|src|action/i.test(attr.name) && /^\s*javascript:/i.test(attr.value))
            found.push(`${el.tagName} ${attr.name}=${attr.value}`);
        }
      }
      return found;
    });
    assert.deepEqual(bad, [], "no script elements, handlers or javascript: URLs in the page");
    assert.equal(await page.title(), "XSS </title><script>window.__xss='title'</script>");
    assert.match(
      (await page.locator(".output-terminal").textContent()) ?? "",
      /<\/script><script>/,
    );
    // The HTML output's own inline script ran, sandboxed: nothing outside it was reachable.
    const results = Object.fromEntries(
      await Promise.all(
        ["parent", "storage", "fetch", "top", "popup", "injected"].map(async (id) => [
          id,
          await inner.locator(`#${id}`).textContent(),
        ]),
      ),
    );
    assert.equal(await inner.locator("#static").textContent(), "probe ran");
    assert.deepEqual(results, {
      parent: "parent blocked",
      storage: "storage blocked",
      fetch: "fetch blocked",
      top: "top blocked",
      popup: "popup blocked",
      injected: "injected script blocked",
    });
    assert.equal(page.url(), pathToFileURL(file).href, "the page was not navigated away");
    assert.deepEqual(
      refused,
      [],
      "no request left the file (the image and fetch were refused by its CSP)",
    );
    await page.context().close();
  });

  test("an export is light or dark as the system is, and follows it; its chart too", async () => {
    const text = notebookText("Dark export", [
      "md:Some **Markdown** with `code`",
      'const answer = 42;\nconsole.log("out"); console.error("err"); answer',
    ]);
    const imported = importNotebook(text);
    assert.ok(imported.ok);
    const nb = imported.notebook;
    const [code] = allCells(nb).filter((c) => c.type === "code");
    const outputs: Record<string, Output[]> = {
      [code!.id]: [
        { type: "terminal", stream: "stdout", text: "out\nerr\n", stderr: [4, 8] },
        {
          type: "vega-lite",
          spec: {
            title: "A chart",
            data: {
              values: [
                { k: "a", v: 3 },
                { k: "b", v: 5 },
              ],
            },
            mark: "bar",
            encoding: {
              x: { field: "k", type: "nominal" },
              y: { field: "v", type: "quantitative" },
            },
          },
        },
        { type: "error", name: "TypeError", message: "x is not a function", stack: "" },
      ],
    };
    const assets = readViewerAssets();
    assert.ok(typeof assets !== "string", String(assets));
    const file = join(dir, "dark.html");
    writeFileSync(file, await exportHtml(nb, outputs, assets));
    const look = (page: Page) =>
      page.evaluate(() => {
        const body = getComputedStyle(document.body);
        const md = getComputedStyle(document.querySelector(".markdown-body")!);
        const code = getComputedStyle(document.querySelector(".static-code code")!);
        return {
          theme: document.documentElement.dataset["theme"],
          background: body.backgroundColor,
          color: md.color,
          code: code.color,
          chart: document.querySelector<HTMLElement>(".output-vega .vega-target")?.dataset["theme"],
        };
      });
    const dark = await openOffline(browser, file, "dark");
    await dark.page.locator(".output-vega svg, .output-vega canvas").first().waitFor();
    assert.deepEqual(await look(dark.page), {
      theme: "dark",
      background: "rgb(22, 25, 29)",
      color: "rgb(221, 225, 230)",
      code: "rgb(212, 212, 212)",
      chart: "dark",
    });
    if (shots) await dark.page.screenshot({ path: join(shots, "export-dark.png"), fullPage: true });
    // The system turns light: the page and its chart follow.
    await dark.page.emulateMedia({ colorScheme: "light" });
    await dark.page.waitForFunction(() => document.documentElement.dataset["theme"] === "light");
    await dark.page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>(".output-vega .vega-target")?.dataset["theme"] ===
        "light",
    );
    assert.equal(
      await dark.page.evaluate(() => getComputedStyle(document.body).backgroundColor),
      "rgb(255, 255, 255)",
    );
    assert.deepEqual(dark.errors, []);
    assert.deepEqual(dark.refused, []);
    await dark.page.context().close();
    const light = await openOffline(browser, file, "light");
    assert.equal((await look(light.page)).theme, "light");
    await light.page.context().close();
  });
});

describe("Export from the page", { skip: skip ?? false }, () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), "tsnb-export-page-"));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("Export → HTML downloads the notebook as the page shows it; Export → Jupyter writes valid nbformat", async () => {
    await h.writeNotebook(
      "shown.tsnb",
      notebookText("Shown", [
        "md:Math in the page: $a^2 + b^2 = c^2$",
        'import { display, md } from "tsnb";\nconst d = display.markdown("first");\nawait d.update(md`*last of the page*`);\ndisplay.vegaLite({ data: { values: [{ x: 1, y: 2 }, { x: 2, y: 5 }] }, mark: "line", encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } } });\n"done"',
      ]),
    );
    const { page } = await h.newPage();
    await openFromBrowser(page, "shown.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await cell(page, 1).locator(".output-vega svg.marks").waitFor({ timeout: 30_000 });
    await cell(page, 1).locator(".output-frame em").waitFor();

    const menu = page.getByRole("combobox", { name: "Export the notebook with its outputs" });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      menu.selectOption("html"),
    ]);
    assert.equal(download.suggestedFilename(), "shown.html");
    const file = join(dir, "shown.html");
    await download.saveAs(file);
    const { page: view, refused, errors } = await openOffline(h.browser, file);
    await view.locator(".output-vega svg.marks").waitFor();
    assert.equal(await view.locator(".output-frame em").textContent(), "last of the page");
    assert.equal(await view.locator(".outputs").getByText("first").count(), 0);
    assert.ok(await view.locator(".katex").count());
    assert.match((await view.locator(".static-code").textContent()) ?? "", /display\.markdown/);
    assert.deepEqual(refused, []);
    assert.deepEqual(errors, []);
    if (shots) await view.screenshot({ path: join(shots, "export-from-page.png"), fullPage: true });
    await view.context().close();

    const [nbDownload] = await Promise.all([
      page.waitForEvent("download"),
      menu.selectOption("ipynb"),
    ]);
    assert.equal(nbDownload.suggestedFilename(), "shown.ipynb");
    const ipynb = join(dir, "shown.ipynb");
    await nbDownload.saveAs(ipynb);
    assert.deepEqual(nbformatErrors([ipynb]), {});
    const json = JSON.parse(readFileSync(ipynb, "utf8")) as {
      cells: Array<{ cell_type: string; outputs?: Array<{ data?: Record<string, unknown> }> }>;
    };
    const mimes = json.cells.flatMap((c) =>
      (c.outputs ?? []).flatMap((o) => Object.keys(o.data ?? {})),
    );
    assert.ok(mimes.includes("text/markdown"));
    assert.ok(mimes.some((m) => m.startsWith("application/vnd.vegalite")));
    await page.close();
  });
});
