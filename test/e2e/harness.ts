/**
 * Shared set-up of the end-to-end tests: Debian's Chromium driven by playwright-core (one
 * browser for the whole file, fresh user-data-dir), a real server (`startServer`) on a temp
 * folder with port 0 and the real kernel, and helpers that wait on the page the way a user
 * would (visible text, accessible names).
 *
 * When /usr/bin/chromium is missing the tests are skipped with a message, except under CI=true
 * where that is a failure.
 */
import { existsSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startServer, type RunningServer, type ServerOptions } from "../../server/server.ts";

export const CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the e2e tests cannot run here (null when they can). Throws under CI when Chromium is missing. */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  if (process.env["CI"] === "true")
    throw new Error(`${CHROMIUM} is missing: end-to-end tests cannot run in CI`);
  return `${CHROMIUM} is missing: end-to-end tests skipped (install Debian's chromium to run them)`;
}

export interface Harness {
  browser: Browser;
  server: RunningServer;
  root: string;
  /** A fresh browser context (its own cookies) with a page on the app, token exchanged. */
  newPage(): Promise<{ page: Page; context: BrowserContext; errors: string[] }>;
  /** Write a notebook file into the served folder. */
  writeNotebook(name: string, text: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: ServerOptions = {}): Promise<Harness> {
  const tmp = await mkdtemp(join(tmpdir(), "tsnb-e2e-"));
  const root = join(tmp, "root");
  const dataDir = join(tmp, "data");
  await mkdir(root);
  await mkdir(dataDir);
  const server = await startServer({ root, dataDir, port: 0, autosaveMs: 300, ...options });
  // playwright-core gives every launch a fresh, temporary user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const contexts: BrowserContext[] = [];
  const harness: Harness = {
    browser,
    server,
    root,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // tsx compiles the functions passed to page.evaluate with esbuild's keepNames helper.
      await context.addInitScript("globalThis.__name = (f) => f;");
      contexts.push(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => window.__tsnb?.state() === "open");
      return { page, context, errors };
    },
    async writeNotebook(name, text) {
      await writeFile(join(root, name), text);
    },
    async close() {
      const t0 = Date.now();
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      const t1 = Date.now();
      await server.close();
      if (process.env["TSNB_E2E_TIMING"])
        console.log(`# close: browser ${t1 - t0} ms, server ${Date.now() - t1} ms`);
      await rm(tmp, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A `.tsnb` file: a title, one section, and cells (`md:` prefix for Markdown, else TypeScript). */
export function notebookText(title: string, cells: string[]): string {
  const parts = [`# ${title}`, "", "## Cells", ""];
  for (const c of cells) {
    if (c.startsWith("md:")) parts.push(c.slice(3), "");
    else parts.push("```ts", c, "```", "");
  }
  return parts.join("\n");
}

/** Open a notebook by clicking it in the file browser (from the start page). */
export async function openFromBrowser(page: Page, name: string): Promise<void> {
  await page.getByRole("list", { name: "Files" }).getByText(name, { exact: true }).click();
  await page.locator(".notebook .cell").first().waitFor();
}

/** The n-th cell (0-based, document order). */
export function cell(page: Page, n: number) {
  return page.locator(".notebook .cell").nth(n);
}

/** The outputs of the n-th cell (not its source, which may hold the same words). */
export function outputsOf(page: Page, n: number) {
  return cell(page, n).locator(".outputs");
}

/** Replace the source of a code cell by typing into its editor (Monaco). */
export async function typeInto(page: Page, n: number, text: string): Promise<void> {
  const c = cell(page, n);
  await c.locator(".code-area").click();
  await c
    .locator(".monaco-editor textarea, .monaco-editor .native-edit-context")
    .first()
    .waitFor({ state: "attached" });
  await page.waitForFunction(() => document.activeElement?.closest(".monaco-editor") !== null);
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
}

/** The cell ids in document order, as the page's own session data has them. */
export async function cellIds(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const d = window.__tsnb?.data();
    return d ? d.notebook.sections.flatMap((s) => s.cells.map((c) => c.id)) : [];
  });
}

/** A cell that trains a small classifier for 4 epochs with a validation split (a live training chart). */
export const TRAIN = `import { nn, train } from "tsnb";
const x = Array.from({ length: 240 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.7)]);
const y = Int32Array.from(x, ([a, b]) => (a! + b! > 0 ? 1 : 0));
const model = nn.sequential([nn.dense(8, { activation: "relu" }), nn.dense(2)], { seed: 1 });
const history = await train.fit(model, x, y, {
  loss: "categoricalCrossEntropy",
  metrics: ["accuracy"],
  epochs: 4,
  batchSize: 16,
  validationSplit: 0.25,
  seed: 1,
});
history.epochs.length`;
