// The editor and `tsnb check` report the same TypeScript diagnostics: a notebook opened in the
// page (Chromium, Monaco's worker) has, per cell, the markers kernel/typecheck.ts computes in
// Node — including none under `process.stdout` (Node's types) and names from other cells.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { importNotebook } from "../../core/format/index.ts";
import { allCells, isEvaluable, type Notebook } from "../../core/notebook.ts";
import { checkCells } from "../../kernel/typecheck.ts";
import { skipReason } from "../e2e/harness.ts";
import { openNotebookPage, type FakeServer } from "./fake-server.ts";

const skip = skipReason();
const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

function fixture(): Notebook {
  const text = readFileSync(join(root, "test/fixtures/cli/type-errors.tsnb"), "utf8");
  const r = importNotebook(text);
  if (!r.ok) throw new Error("fixture does not parse");
  return r.notebook;
}

describe("the editor's diagnostics are tsnb check's", { skip: skip ?? false }, () => {
  let server: FakeServer;
  let browser: Browser;
  let page: Page;
  const notebook = fixture();
  const cells = allCells(notebook)
    .filter(isEvaluable)
    .map((c) => ({ id: c.id, source: c.source }));
  before(async () => {
    ({ server, browser, page } = await openNotebookPage("type-errors.tsnb", notebook));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("every cell's markers are the diagnostics tsnb check reports for it", async () => {
    const expected = (await checkCells(cells))
      .map((d) => `${d.cellId}:${d.line}:${d.column} TS${d.code}`)
      .sort();
    assert.equal(expected.length, 3, `check found: ${expected.join(", ")}`);
    for (const c of cells) {
      await page.locator(`[data-cell-id="${c.id}"] .monaco-editor`).waitFor({ timeout: 30_000 });
    }
    // Markers settle once the cells' declarations are known (debounced, then two emits).
    const markers = () =>
      page.evaluate(async () => {
        const url = new URL("monaco.js", document.baseURI).href;
        const m = (await import(url)) as {
          monaco: {
            editor: {
              getModelMarkers(f: object): Array<{
                resource: { path: string };
                startLineNumber: number;
                startColumn: number;
                code?: string | { value: string };
                severity: number;
              }>;
            };
          };
        };
        return m.monaco.editor
          .getModelMarkers({})
          .filter((k) => k.resource.path.startsWith("/cells/") && k.severity >= 4)
          .map((k) => {
            const id = k.resource.path.slice("/cells/".length).replace(/\.ts$/, "");
            const code = typeof k.code === "object" ? k.code.value : k.code;
            return `${id}:${k.startLineNumber}:${k.startColumn} TS${code}`;
          })
          .sort();
      });
    const deadline = Date.now() + 120_000;
    let seen: string[] = [];
    let stableSince = 0;
    for (;;) {
      const now = await markers();
      if (JSON.stringify(now) !== JSON.stringify(seen)) {
        seen = now;
        stableSince = Date.now();
      }
      if (JSON.stringify(seen) === JSON.stringify(expected) && Date.now() - stableSince > 3_000)
        break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(seen, expected);
    await page.screenshot({ path: join(tmpdir(), "tsnb-editor-check.png"), fullPage: true });
  });
});
