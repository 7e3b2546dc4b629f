/**
 * Benchmark: big console output (issue 11). A cell prints N lines (default 1,000,000) through the
 * real kernel and server into a Chromium page.
 *   1. throughput: from clicking "Run cell" to the page showing the last line and the cell done;
 *      reference in the same run: plain `node -e` printing the same lines into a pipe that is
 *      read to the end (spawn to exit). Target: at most 1.5× the reference.
 *   2. frames while streaming: requestAnimationFrame deltas in the page while the cell prints,
 *      and long tasks (PerformanceObserver); target: no frame over 50 ms.
 *   3. frames while expanding: clicking "Show … earlier lines", then scrolling the expanded
 *      lines from the bottom to the top; target: no frame over 50 ms.
 * Usage: node --import tsx bench/outputs.ts [--lines N] [--runs N]
 */
import { spawn } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { chromium, type Page } from "playwright-core";
import { startServer } from "../server/server.ts";
import { CHROMIUM, CHROMIUM_ARGS, notebookText } from "../test/e2e/harness.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const LINES = arg("--lines", 1_000_000);
const RUNS = arg("--runs", 3);
const PRINT = `for (let i = 0; i < ${LINES}; i++) console.log("line " + i);`;

const ms = (x: number) => `${x.toFixed(0)} ms`;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Plain node printing the same lines into a pipe that this process reads to the end. */
function plainNode(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["-e", PRINT], { stdio: ["ignore", "pipe", "inherit"] });
    let bytes = 0;
    child.stdout.on("data", (c: Buffer) => (bytes += c.length));
    child.on("error", reject);
    child.on("close", () => {
      if (bytes === 0) reject(new Error("plain node printed nothing"));
      else resolve(performance.now() - t0);
    });
  });
}

/** Start recording frame deltas and long tasks in the page. */
async function startFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__frames = [];
    w.__long = [];
    w.__stop = false;
    let last = performance.now();
    const start = last;
    const tick = (t: number) => {
      if (t - last > 50)
        console.log(
          `long frame ${(t - last).toFixed(0)} ms ending at ${(t - start).toFixed(0)} ms`,
        );
      w.__frames.push(t - last);
      last = t;
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__long.push(e.duration);
    }).observe({ type: "longtask" });
  });
}

async function stopFrames(page: Page): Promise<{ frames: number[]; long: number[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __long: number[]; __stop: boolean };
    w.__stop = true;
    return { frames: w.__frames.slice(), long: w.__long.slice() };
  });
}

function frameLine(what: string, r: { frames: number[]; long: number[] }): string {
  const over = r.frames.filter((x) => x > 50);
  const worst = Math.max(0, ...r.frames);
  return `${what}: ${r.frames.length} frames, ${over.length} over 50 ms (worst ${ms(worst)}), ${r.long.length} long tasks (longest ${ms(Math.max(0, ...r.long))})`;
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), "tsnb-bench-"));
  const root = join(tmp, "root");
  await mkdir(root);
  await writeFile(join(root, "print.tsnb"), notebookText("Print", ["1 + 1", PRINT]));
  const server = await startServer({ root, dataDir: join(tmp, "data"), port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript("globalThis.__name = (f) => f;");
    const page = await context.newPage();
    if (process.env["TSNB_BENCH_DEBUG"])
      page.on("console", (m) => console.log(`  page: ${m.text()}`));
    await page.goto(server.url);
    await page.getByRole("list", { name: "Files" }).getByText("print.tsnb").click();
    const cells = page.locator(".notebook .cell");
    await cells.nth(1).waitFor();
    // Start the kernel (not part of the measurement).
    await cells.nth(0).getByRole("button", { name: "Run cell" }).click();
    await cells.nth(0).locator(".outputs").getByText("2").waitFor({ timeout: 60_000 });

    const tsnb: number[] = [];
    const refs: number[] = [];
    let streaming: { frames: number[]; long: number[] } = { frames: [], long: [] };
    const lastLine = `line ${LINES - 1}`;
    for (let r = 0; r < RUNS; r++) {
      refs.push(await plainNode());
      await startFrames(page);
      const cdp = process.env["TSNB_BENCH_PROFILE"] ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.start");
      }
      const id = (await cells.nth(1).getAttribute("data-cell-id"))!;
      // The previous run's evaluation: a later run is done only when another one finished (else
      // the page still showing the previous run's last line would count as this run's).
      const seq = await page.evaluate((id) => window.__tsnb?.data()?.cells[id]?.evaluationSeq, id);
      const t0 = await page.evaluate(() => performance.now());
      await cells.nth(1).getByRole("button", { name: "Run cell" }).click();
      const t1 = await page.evaluate(
        ({ id, last, seq }) =>
          new Promise<number>((resolve) => {
            const check = () => {
              const s = window.__tsnb?.data()?.cells[id];
              const shown = document
                .querySelectorAll(".notebook .cell")[1]
                ?.querySelector(".outputs")?.textContent;
              if (s?.status.type === "done" && s.evaluationSeq !== seq && shown?.includes(last))
                resolve(performance.now());
              else requestAnimationFrame(check);
            };
            check();
          }),
        { id, last: lastLine, seq: seq ?? null },
      );
      const f = await stopFrames(page);
      if (cdp) {
        const { profile } = await cdp.send("Profiler.stop");
        await writeFile(process.env["TSNB_BENCH_PROFILE"]!, JSON.stringify(profile));
      }
      if (
        r === 0 ||
        f.frames.filter((x) => x > 50).length > streaming.frames.filter((x) => x > 50).length
      )
        streaming = f;
      tsnb.push(t1 - t0);
    }
    const ratio = median(tsnb) / median(refs);
    console.log(
      `print ${LINES.toLocaleString("en")} lines, click to last line shown: median ${ms(median(tsnb))} (${tsnb.map(ms).join(", ")})`,
    );
    console.log(
      `  reference, plain node -e into a pipe: median ${ms(median(refs))} (${refs.map(ms).join(", ")}); ratio ${ratio.toFixed(2)}× (target <= 1.5×)`,
    );
    console.log(`  ${frameLine("while streaming (worst run)", streaming)}`);

    // Expanding the earlier lines, then scrolling through them.
    const more = cells.nth(1).getByRole("button", { name: /Show .* earlier lines/ });
    await startFrames(page);
    const e0 = performance.now();
    await more.click();
    await page.waitForTimeout(500);
    await page.evaluate(async () => {
      const box = document
        .querySelectorAll(".notebook .cell")[1]
        ?.querySelector<HTMLElement>(".terminal-scroll");
      if (!box) return;
      for (let y = box.scrollHeight; y >= 0; y -= Math.max(box.scrollHeight / 60, 400)) {
        box.scrollTop = y;
        await new Promise((r) => requestAnimationFrame(r));
      }
      box.scrollTop = 0;
      await new Promise((r) => requestAnimationFrame(r));
    });
    const expanding = await stopFrames(page);
    const first = await cells.nth(1).locator(".outputs").textContent();
    console.log(
      `  ${frameLine(`expand earlier lines and scroll to the top (${ms(performance.now() - e0)})`, expanding)}`,
    );
    console.log(
      `  first line shown after scrolling up: ${JSON.stringify((first ?? "").slice(0, 60))}`,
    );
  } finally {
    await browser.close();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
