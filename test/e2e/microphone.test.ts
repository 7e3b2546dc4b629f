// Recording from the microphone in Chromium: input.audio's Record button, with Chromium's fake
// capture device playing data/speech.wav (--use-file-for-fake-audio-capture) and its fake
// permission prompt accepting; Stop encodes what was heard as 16-bit WAV, the kernel decodes and
// resamples it, and an auto-run cell reads samples at the input's rate: about as many as the
// recording lasted, and not silence.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { startServer, type RunningServer } from "../../server/server.ts";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  cell,
  openFromBrowser,
  outputsOf,
  skipReason,
} from "./harness.ts";

const skip = skipReason();

const NOTEBOOK = [
  "# Microphone",
  "",
  "## Cells",
  "",
  "```ts",
  'import { input } from "tsnb";',
  'const voice = input.audio("Voice", { sampleRate: 16000 });',
  "voice",
  "```",
  "",
  '<!-- tsnb:cell {"autoRun":true} -->',
  "```ts",
  "const s = voice.value;",
  "let energy = 0;",
  "for (const x of (s?.dataSync() ?? []) as Float32Array) energy += x * x;",
  "s ? `${s.dtype} [${s.shape}] rms ${Math.sqrt(energy / s.size).toFixed(4)}` : 'no audio'",
  "```",
  "",
].join("\n");

describe("recording from the microphone", { skip: skip ?? false }, () => {
  let tmp: string;
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), "tsnb-mic-"));
    const root = join(tmp, "root");
    await mkdir(root);
    await mkdir(join(tmp, "data"));
    await writeFile(join(root, "mic.tsnb"), NOTEBOOK);
    server = await startServer({ root, dataDir: join(tmp, "data"), port: 0, autosaveMs: 300 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        `--use-file-for-fake-audio-capture=${join(process.cwd(), "data", "speech.wav")}`,
        "--autoplay-policy=no-user-gesture-required",
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test("Record, then Stop: the kernel gets the samples heard, at the input's rate", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript("globalThis.__name = (f) => f;");
    await context.grantPermissions(["microphone"], { origin: server.url.replace(/\/[^/]*$/, "") });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => window.__tsnb?.state() === "open");
    await openFromBrowser(page, "mic.tsnb");
    await page.getByRole("button", { name: "Run all" }).click();
    await outputsOf(page, 1).getByText("no audio").waitFor({ timeout: 60_000 });

    const record = cell(page, 0).getByRole("button", { name: "Record" });
    await record.click();
    const stop = cell(page, 0).getByRole("button", { name: "Stop" });
    await stop.waitFor({ timeout: 20_000 });
    assert.equal(await stop.getAttribute("aria-pressed"), "true");
    await cell(page, 0).getByText("recording…").waitFor();
    const t0 = Date.now();
    await page.waitForTimeout(1500);
    await stop.click();
    const seconds = (Date.now() - t0) / 1000;
    const result = cell(page, 1).getByText(/^'?f32 \[\d+\] rms [\d.]+'?$/);
    await result.waitFor({ timeout: 60_000 });
    const text = (await result.textContent())!;
    const m = /f32 \[(\d+)\] rms ([\d.]+)/.exec(text)!;
    const n = Number(m[1]);
    const rms = Number(m[2]);
    // About as long as the recording ran (audio callbacks start a little after the click), at
    // 16 kHz whatever rate the page's audio context had.
    assert.ok(n > 0.5 * 16000 && n < (seconds + 1) * 16000, `${n} samples for ${seconds} s`);
    assert.ok(rms > 0.001, `the fake microphone played speech, rms ${rms}`);
    console.log(`# recorded ${seconds.toFixed(2)} s: ${n} samples at 16 kHz, rms ${rms}`);
    await cell(page, 0).getByText("recording.wav").waitFor();
    await page.screenshot({ path: join(tmpdir(), "tsnb-microphone.png"), fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
  });
});
