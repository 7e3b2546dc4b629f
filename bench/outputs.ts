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
 *   TSNB_BENCH_TRACE=path: a Chromium trace of each run's streaming, in path.<run>.json;
 *   TSNB_BENCH_LOAD_TRACE=path: a Chromium trace of opening the notebook and the 3 s after;
 *   TSNB_BENCH_PROFILE=file: a V8 CPU profile of the page; TSNB_BENCH_DEBUG=1: the page's console.
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

/** A long animation frame (Chromium's `long-animation-frame` entry), in short. */
interface Loaf {
  /** When it started (ms since recording started) and how long it took. */
  start: number;
  duration: number;
  /** Of which: in scripts (callbacks, event handlers), and style, layout and paint at the end. */
  script: number;
  render: number;
  /** Style and layout forced by scripts (reading layout after changing the DOM). */
  forced: number;
  /** The scripts that ran, longest first: what invoked them, and how long each took. */
  scripts: Array<{ invoker: string; duration: number }>;
}

interface Frames {
  frames: number[];
  long: number[];
  loafs: Loaf[];
}

/**
 * Start recording frame deltas, long tasks and long animation frames in the page (Chromium's
 * `long-animation-frame` entries say where a frame's time went: scripts, with what invoked them,
 * and rendering).
 */
async function startFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    type W = {
      __rec: Frames & { stop: boolean; observers: PerformanceObserver[] };
    };
    const w = window as unknown as W;
    const start = performance.now();
    const rec: W["__rec"] = { frames: [], long: [], loafs: [], stop: false, observers: [] };
    w.__rec = rec;
    let last = start;
    const tick = (t: number) => {
      if (rec.stop) return;
      if (t - last > 50)
        console.log(
          `long frame ${(t - last).toFixed(0)} ms ending at ${(t - start).toFixed(0)} ms`,
        );
      rec.frames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const longTasks = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) rec.long.push(e.duration);
    });
    longTasks.observe({ type: "longtask" });
    const loafs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const f = e as PerformanceEntry & {
          renderStart: number;
          scripts?: Array<{
            invoker: string;
            duration: number;
            forcedStyleAndLayoutDuration: number;
          }>;
        };
        const scripts = f.scripts ?? [];
        rec.loafs.push({
          start: f.startTime - start,
          duration: f.duration,
          script: scripts.reduce((a, s) => a + s.duration, 0),
          render: f.renderStart > 0 ? f.startTime + f.duration - f.renderStart : 0,
          forced: scripts.reduce((a, s) => a + s.forcedStyleAndLayoutDuration, 0),
          scripts: scripts
            .map((s) => ({ invoker: s.invoker, duration: s.duration }))
            .sort((a, b) => b.duration - a.duration),
        });
      }
    });
    loafs.observe({ type: "long-animation-frame" });
    rec.observers = [longTasks, loafs];
  });
}

async function stopFrames(page: Page): Promise<Frames> {
  return page.evaluate(() => {
    const rec = (
      window as unknown as { __rec: Frames & { stop: boolean; observers: PerformanceObserver[] } }
    ).__rec;
    rec.stop = true;
    for (const o of rec.observers) {
      for (const e of o.takeRecords()) if (e.entryType === "longtask") rec.long.push(e.duration);
      o.disconnect();
    }
    return { frames: rec.frames, long: rec.long, loafs: rec.loafs };
  });
}

function frameLine(what: string, r: Frames): string {
  const over = r.frames.filter((x) => x > 50);
  const worst = Math.max(0, ...r.frames);
  return `${what}: ${r.frames.length} frames, ${over.length} over 50 ms (worst ${ms(worst)}), ${r.long.length} long tasks (longest ${ms(Math.max(0, ...r.long))})`;
}

/**
 * The long animation frames of a recording: where their time went. Chromium lists only the
 * scripts over 5 ms of a frame; the rest of it is shorter scripts, tasks between them, and time
 * the page's thread waited for a CPU.
 */
function loafLines(r: Frames): string[] {
  return r.loafs.map((f) => {
    const rest = Math.max(0, f.duration - f.script - f.render);
    const top = f.scripts
      .slice(0, 3)
      .map((s) => `${s.invoker} ${ms(s.duration)}`)
      .join(", ");
    return `    long animation frame at ${ms(f.start)}: ${ms(f.duration)} = scripts over 5 ms ${ms(f.script)} (forced layout ${ms(f.forced)}) + rendering ${ms(f.render)} + the rest ${ms(rest)}${top ? `; ${top}` : ""}`;
  });
}

/**
 * Record a Chromium trace (what the DevTools Performance panel records: tasks, scripts, GC,
 * style, layout, paint, per thread); the function returned ends it and gives the trace's JSON,
 * which chrome://tracing, Perfetto or DevTools open.
 */
async function startTrace(page: Page): Promise<() => Promise<string>> {
  const cdp = await page.context().newCDPSession(page);
  const events: unknown[] = [];
  cdp.on("Tracing.dataCollected", (d) => events.push(...d.value));
  await cdp.send("Tracing.start", {
    transferMode: "ReportEvents",
    traceConfig: {
      includedCategories: [
        "toplevel",
        "devtools.timeline",
        "disabled-by-default-devtools.timeline",
        "disabled-by-default-devtools.timeline.frame",
        "disabled-by-default-devtools.timeline.stack",
        "v8",
        "v8.execute",
        "disabled-by-default-v8.gc",
        "blink.user_timing",
        "__metadata",
      ],
    },
  });
  return async () => {
    const done = new Promise<void>((resolve) =>
      cdp.once("Tracing.tracingComplete", () => resolve()),
    );
    await cdp.send("Tracing.end");
    await done;
    await cdp.detach();
    return JSON.stringify({ traceEvents: events });
  };
}

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * The frames over 50 ms in a trace (from one main-frame start of the page's thread to the next):
 * how long each took, how much CPU time the page's thread had in it, and how much Chromium's
 * other threads had (workers, GC, raster, compositing). A long frame in which the page's thread
 * ran for a few ms waited for a CPU (other processes, or Chromium's own threads, had both cores).
 */
function traceFrameLines(json: string): string[] {
  const events = (JSON.parse(json) as { traceEvents: TraceEvent[] }).traceEvents;
  const thread = (e: TraceEvent) => `${e.pid}:${e.tid}`;
  const names = new Map<string, string>();
  for (const e of events)
    if (e.ph === "M" && e.name === "thread_name") names.set(thread(e), e.args?.name ?? "");
  const counts = new Map<string, number>();
  for (const e of events)
    if (names.get(thread(e)) === "CrRendererMain")
      counts.set(thread(e), (counts.get(thread(e)) ?? 0) + 1);
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!main) return ["no page thread in the trace"];
  const frames = events
    .filter((e) => thread(e) === main && e.name === "BeginMainThreadFrame")
    .map((e) => e.ts)
    .sort((a, b) => a - b);
  const tasks = events.filter(
    (e) =>
      e.ph === "X" &&
      e.dur &&
      (e.name === "ThreadControllerImpl::RunTask" ||
        e.name === "ThreadPool_RunTask" ||
        e.name === "TaskGraphRunner::RunTask"),
  );
  const cpu = (from: number, to: number, mine: boolean) => {
    let sum = 0;
    for (const e of tasks) {
      if ((thread(e) === main) !== mine) continue;
      if (mine && e.name !== "ThreadControllerImpl::RunTask") continue;
      const overlap = Math.min(to, e.ts + e.dur!) - Math.max(from, e.ts);
      if (overlap > 0) sum += (e.tdur ?? 0) * (overlap / e.dur!);
    }
    return sum / 1000;
  };
  const lines: string[] = [];
  let total = 0;
  let over = 0;
  for (let i = 1; i < frames.length; i++) {
    const wall = (frames[i]! - frames[i - 1]!) / 1000;
    total++;
    if (wall <= 50) continue;
    over++;
    lines.push(
      `  traced frame of ${ms(wall)}: the page's thread ran ${ms(cpu(frames[i - 1]!, frames[i]!, true))}, Chromium's other threads ${ms(cpu(frames[i - 1]!, frames[i]!, false))}`,
    );
  }
  return [`trace: ${over} of ${total} frames over 50 ms`, ...lines];
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
    const loadTrace = process.env["TSNB_BENCH_LOAD_TRACE"] ? await startTrace(page) : null;
    await page.getByRole("list", { name: "Files" }).getByText("print.tsnb").click();
    const cells = page.locator(".notebook .cell");
    await cells.nth(1).waitFor();
    // Start the kernel (not part of the measurement).
    await cells.nth(0).getByRole("button", { name: "Run cell" }).click();
    await cells.nth(0).locator(".outputs").getByText("2").waitFor({ timeout: 60_000 });
    if (loadTrace) {
      await page.waitForTimeout(3000);
      await writeFile(process.env["TSNB_BENCH_LOAD_TRACE"]!, await loadTrace());
    }

    const tsnb: number[] = [];
    const refs: number[] = [];
    let streaming: Frames = { frames: [], long: [], loafs: [] };
    /** Per run: frames over 50 ms while streaming, and the worst frame. */
    const perRun: string[] = [];
    /** Per run: CPU time of the page's thread and of the page's renderer process while streaming. */
    const pageCpu: number[] = [];
    const rendererCpu: number[] = [];
    const metricsSession = await context.newCDPSession(page);
    await metricsSession.send("Performance.enable");
    const cpuTimes = async () => {
      const { metrics } = await metricsSession.send("Performance.getMetrics");
      const m = (name: string) => (metrics.find((x) => x.name === name)?.value ?? 0) * 1000;
      return { thread: m("ThreadTime"), process: m("ProcessTime") };
    };
    const lastLine = `line ${LINES - 1}`;
    for (let r = 0; r < RUNS; r++) {
      refs.push(await plainNode());
      await startFrames(page);
      const cdp = process.env["TSNB_BENCH_PROFILE"] ? await context.newCDPSession(page) : null;
      if (cdp) {
        await cdp.send("Profiler.enable");
        await cdp.send("Profiler.start");
      }
      const trace = process.env["TSNB_BENCH_TRACE"] ? await startTrace(page) : null;
      const id = (await cells.nth(1).getAttribute("data-cell-id"))!;
      // The previous run's evaluation: a later run is done only when another one finished (else
      // the page still showing the previous run's last line would count as this run's).
      const seq = await page.evaluate((id) => window.__tsnb?.data()?.cells[id]?.evaluationSeq, id);
      const c0 = await cpuTimes();
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
      const c1 = await cpuTimes();
      pageCpu.push(c1.thread - c0.thread);
      rendererCpu.push(c1.process - c0.process);
      const f = await stopFrames(page);
      if (trace) {
        const json = await trace();
        await writeFile(`${process.env["TSNB_BENCH_TRACE"]}.${r}.json`, json);
        for (const line of traceFrameLines(json)) console.log(`  run ${r + 1}: ${line}`);
      }
      if (cdp) {
        const { profile } = await cdp.send("Profiler.stop");
        await writeFile(process.env["TSNB_BENCH_PROFILE"]!, JSON.stringify(profile));
      }
      if (
        r === 0 ||
        f.frames.filter((x) => x > 50).length > streaming.frames.filter((x) => x > 50).length
      )
        streaming = f;
      perRun.push(
        `${f.frames.filter((x) => x > 50).length} of ${f.frames.length} (worst ${ms(Math.max(0, ...f.frames))})`,
      );
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
    console.log(`  frames over 50 ms while streaming, per run: ${perRun.join(", ")}`);
    console.log(
      `  CPU while streaming: the page's thread median ${ms(median(pageCpu))} (${pageCpu.map(ms).join(", ")}), its renderer process median ${ms(median(rendererCpu))} (${rendererCpu.map(ms).join(", ")})`,
    );
    for (const line of loafLines(streaming)) console.log(line);

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
    for (const line of loafLines(expanding)) console.log(line);
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
