/**
 * Benchmark: a 1,000-cell notebook in Chromium against the real server.
 *   1. open to interactive: from clicking the file in the file browser to every cell in the DOM
 *      and the main thread free again (a frame painted and a task run after it); target < 1.5 s.
 *      Reference in the same run: loading the same notebook as one static HTML page.
 *   2. scrolling: frame times while scrolling from top to bottom (p50/p95, frames over 50 ms).
 *   3. keystroke-to-screen latency in a code cell in the middle of the notebook (Monaco), from
 *      the keydown event to the frame that paints the editor's changed text;
 *      reference: the same in a plain <textarea> on the same page.
 * Usage: node --import tsx bench/open-notebook.ts [--cells N] [--runs N]
 */
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import MarkdownIt from "markdown-it";
import { chromium, type Page } from "playwright-core";
import { startServer, type ServerOptions } from "../server/server.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/e2e/harness.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const CELLS = arg("--cells", 1000);
const RUNS = arg("--runs", 3);

/** A notebook of `n` cells: 10 sections, alternating Markdown and realistic code cells. */
export function bigNotebook(n: number): string {
  const parts = ["# A thousand cells", ""];
  for (let i = 0; i < n; i++) {
    if (i % 100 === 0) parts.push(`## Part ${i / 100 + 1}`, "");
    if (i % 2 === 0) {
      parts.push(
        `Cell ${i}: some *Markdown* with \`code\`, a [link](https://example.com) and a list:`,
        "",
        "- one",
        "- two",
        "",
      );
    } else {
      parts.push(
        "```ts",
        `const values${i} = Array.from({ length: ${i} }, (_, k) => k * 2);`,
        `function mean${i}(xs: number[]): number {`,
        `  return xs.reduce((a, b) => a + b, 0) / xs.length;`,
        `}`,
        `console.log("mean", mean${i}(values${i}));`,
        "```",
        "",
      );
    }
  }
  return parts.join("\n");
}

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = xs.slice().sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN };
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

async function openToInteractive(page: Page, url: string, expectedCells: number): Promise<number> {
  await page.goto(url);
  await page.getByRole("list", { name: "Files" }).getByText("big.tsnb").waitFor();
  const t0 = await page.evaluate(() => performance.now());
  await page.getByRole("list", { name: "Files" }).getByText("big.tsnb").click();
  return page
    .evaluate(async (n) => {
      await new Promise<void>((resolve) => {
        const check = () =>
          document.querySelectorAll(".notebook .cell").length >= n
            ? resolve()
            : requestAnimationFrame(check);
        check();
      });
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return performance.now();
    }, expectedCells)
    .then((t1) => t1 - t0);
}

async function main(): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), "tsnb-bench-"));
  const root = join(tmp, "root");
  await mkdir(root);
  const text = bigNotebook(CELLS);
  await writeFile(join(root, "big.tsnb"), text);
  const options: ServerOptions = { root, dataDir: join(tmp, "data"), port: 0 };
  if (process.env["TSNB_BENCH_FAKE_KERNEL"])
    options.kernelFactory = (await import("../test/server/fake-kernel.ts")).fakeKernelFactory();
  const server = await startServer(options);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // tsx compiles the functions passed to page.evaluate with esbuild's keepNames helper.
    await context.addInitScript("globalThis.__name = (f) => f;");
    const page = await context.newPage();
    await page.goto(server.url); // token → cookie

    // 1. open to interactive (first run warms the server's import and the browser's caches)
    const opens: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const t = await openToInteractive(page, server.baseUrl, CELLS);
      if (r > 0) opens.push(t);
    }
    const html = `<!doctype html><html><head><meta charset="utf-8"></head><body>${new MarkdownIt().render(text)}</body></html>`;
    const refs: number[] = [];
    for (let r = 0; r < RUNS + 1; r++) {
      const ref = await browser.newPage();
      const t0 = Date.now();
      await ref.setContent(html, { waitUntil: "load" });
      await ref.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      if (r > 0) refs.push(Date.now() - t0);
      await ref.close();
    }
    const open = stats(opens);
    const refOpen = stats(refs);
    console.log(
      `open ${CELLS}-cell notebook to interactive: median ${ms(open.median)} (max ${ms(open.max)}; target < 1500 ms)`,
    );
    console.log(
      `  reference, the same notebook as one static HTML page: median ${ms(refOpen.median)}; ratio ${(open.median / refOpen.median).toFixed(1)}×`,
    );

    // 2. scrolling (reference: the static HTML page, same loop)
    const scrollFrames = (p: Page) =>
      p.evaluate(async () => {
        const times: number[] = [];
        let last = performance.now();
        let done = false;
        const tick = (t: number) => {
          times.push(t - last);
          last = t;
          if (!done) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        const total = document.documentElement.scrollHeight;
        for (let y = 0; y < total; y += 600) {
          window.scrollTo(0, y);
          await new Promise((r) => requestAnimationFrame(r));
        }
        done = true;
        return times;
      });
    const frames = await scrollFrames(page);
    const f = stats(frames);
    console.log(
      `scroll top to bottom: ${frames.length} frames, frame time median ${ms(f.median)}, p95 ${ms(f.p95)}, ${frames.filter((x) => x > 50).length} frames over 50 ms`,
    );
    const refPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await refPage.addInitScript("globalThis.__name = (f) => f;");
    await refPage.setContent(html, { waitUntil: "load" });
    await refPage.evaluate("globalThis.__name = (f) => f;");
    const rf = stats(await scrollFrames(refPage));
    await refPage.close();
    console.log(
      `  reference, the static HTML page: frame time median ${ms(rf.median)}, p95 ${ms(rf.p95)}; ratio of medians ${(f.median / rf.median).toFixed(1)}×`,
    );
    await page.evaluate(() => window.scrollTo(0, 0));

    // 3. keystroke to screen, in a code cell in the middle
    const middle = page.locator(".notebook .cell-code").nth(Math.floor(CELLS / 4));
    await middle.scrollIntoViewIfNeeded();
    await middle.locator(".code-area").click();
    await middle.locator(".monaco-editor").waitFor();
    await page.waitForFunction(() => document.activeElement?.closest(".monaco-editor") !== null);
    await page.keyboard.press("ControlOrMeta+End");
    // In the page: a capture-phase keydown listener notes when the key arrived; the screen
    // update is the frame that first includes the changed DOM: the editor's (Monaco) or the
    // textarea's after its `input`. The time taken is when that frame's rendering runs: a change
    // made in a task (the textarea) waits for the next animation frame; Monaco changes its DOM
    // inside an animation-frame callback, so that frame paints it and the time is when the
    // change was made (a new requestAnimationFrame there would wait for the frame after).
    const install = (selector: string, mode: "mutation" | "input") =>
      page.evaluate(
        ({ selector, mode }) => {
          const w = window as unknown as {
            __lat: number[];
            __down: number | null;
            __inFrame: boolean;
            __loop?: boolean;
          };
          w.__lat = [];
          w.__down = null;
          if (!w.__loop) {
            // Registered a frame ahead, this callback runs before the others of its frame; a
            // message it posts runs once the frame's rendering is done.
            w.__loop = true;
            w.__inFrame = false;
            const loop = () => {
              w.__inFrame = true;
              const ch = new MessageChannel();
              ch.port1.onmessage = () => (w.__inFrame = false);
              ch.port2.postMessage(null);
              requestAnimationFrame(loop);
            };
            requestAnimationFrame(loop);
          }
          const target = document.querySelector(selector)!;
          window.addEventListener("keydown", () => (w.__down = performance.now()), {
            capture: true,
          });
          const painted = () => {
            const down = w.__down;
            if (down === null) return;
            w.__down = null;
            const record = () => w.__lat.push(performance.now() - down);
            if (w.__inFrame) record();
            else requestAnimationFrame(record);
          };
          if (mode === "mutation")
            new MutationObserver(painted).observe(target, {
              subtree: true,
              childList: true,
              characterData: true,
            });
          else target.addEventListener("input", painted);
        },
        { selector, mode },
      );
    const N = 40;
    const eventTiming = (xs: number[]) =>
      `${xs.length} interactions ≥ 16 ms (for ${N} keys), median of those ${ms(stats(xs).median)}`;
    // A cross-check by Chromium's own measure (Event Timing, what INP is made of): each key's
    // interaction from the event to the next frame presented, rounded to 8 ms; Chromium reports
    // none shorter than 16 ms, so the median is over the keys it reported.
    const typeAndCollect = async () => {
      await page.evaluate(() => {
        const w = window as unknown as {
          __slow: Map<number, number>;
          __obs?: PerformanceObserver;
        };
        w.__slow = new Map();
        w.__obs?.disconnect();
        w.__obs = new PerformanceObserver((list) => {
          for (const e of list.getEntries() as PerformanceEventTiming[])
            if (e.interactionId)
              w.__slow.set(
                e.interactionId,
                Math.max(e.duration, w.__slow.get(e.interactionId) ?? 0),
              );
        });
        w.__obs.observe({ type: "event", durationThreshold: 16 } as PerformanceObserverInit);
      });
      for (let i = 0; i < N; i++) {
        await page.keyboard.press("x");
        await page.waitForTimeout(25);
      }
      await page.waitForTimeout(200);
      return page.evaluate(() => {
        const w = window as unknown as { __lat: number[]; __slow: Map<number, number> };
        return { lat: w.__lat.slice(), slow: [...w.__slow.values()] };
      });
    };
    const middleId = await middle.getAttribute("data-cell-id");
    await install(`[data-cell-id="${middleId}"] .monaco-editor .view-lines`, "mutation");
    const { lat: monacoLat, slow: monacoSlow } = await typeAndCollect();
    await page.evaluate(() => {
      const ta = document.createElement("textarea");
      ta.id = "bench-ref";
      ta.style.cssText = "position:fixed;top:10px;left:10px;width:300px;height:60px;z-index:999";
      document.body.append(ta);
      ta.focus();
    });
    await install("#bench-ref", "input");
    const { lat: refLat, slow: refSlow } = await typeAndCollect();
    const m = stats(monacoLat);
    console.log(
      `keystroke to screen in a Monaco cell (${monacoLat.length} keys): median ${ms(m.median)}, p95 ${ms(m.p95)}; Event Timing: ${eventTiming(monacoSlow)}`,
    );
    if (refLat.length) {
      const rl = stats(refLat);
      console.log(
        `  reference, a plain <textarea> on the same page: median ${ms(rl.median)}; ratio ${(m.median / rl.median).toFixed(1)}×; Event Timing: ${eventTiming(refSlow)}`,
      );
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
