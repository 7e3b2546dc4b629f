// `tsnb export --html` and `--format md` end to end: spawns `node bin/tsnb.js export …` on the
// output gallery (test/fixtures/share/gallery.tsnb, run with --run through the real kernel), on a
// notebook with saved outputs and on a real Deno notebook, and reads the files written. What the
// page shows in Chromium is test/e2e/export.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ExportedCell, ExportedNotebook } from "../../core/format/html.ts";
import { inlineScripts } from "../../core/format/html.ts";
import type { Output } from "../../core/outputs.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const fixture = (...p: string[]) => join(root, "test", "fixtures", ...p);

function tsnb(cwd: string, ...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), ...args], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-export-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The parts of an exported page: its CSP, the viewer script and the notebook data. */
function readExport(file: string) {
  const html = readFileSync(file, "utf8");
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(csp, "the page carries a Content-Security-Policy");
  const json = /<script type="application\/json" id="tsnb-export">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(json, "the notebook is in a JSON script element");
  const data = JSON.parse(json[1]!) as ExportedNotebook;
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  return { html, csp: csp.replace(/&#39;/g, "'"), data, scripts };
}

const sha = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

function codeCells(data: ExportedNotebook): Extract<ExportedCell, { type: "code" }>[] {
  return data.sections.flatMap((s) =>
    s.cells.filter((c): c is Extract<ExportedCell, { type: "code" }> => c.type === "code"),
  );
}

function flat(outputs: readonly Output[]): Output[] {
  return outputs.flatMap((o) => (o.type === "frame" ? [o, ...flat(o.outputs)] : [o]));
}

test("tsnb export --html --run: one file with every output of a fresh run, locked down by its CSP", () => {
  withDir((dir) => {
    copyFileSync(fixture("share", "gallery.tsnb"), join(dir, "gallery.tsnb"));
    const before = readFileSync(join(dir, "gallery.tsnb"), "utf8");
    const r = tsnb(dir, "export", "gallery.tsnb", "--html", "--run");
    // The last cell throws on purpose: the run fails (1), the page is still written.
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /gallery\.tsnb:\d+:\d+: RangeError: deliberately out of range/);
    assert.match(r.stderr, /^wrote gallery\.html$/m);
    assert.equal(
      readFileSync(join(dir, "gallery.tsnb"), "utf8"),
      before,
      "the notebook is untouched",
    );

    const { csp, data, scripts, html } = readExport(join(dir, "gallery.html"));
    assert.equal(data.title, "Output gallery");
    assert.equal(data.showCode, true);
    // Only the viewer's script (by hash) runs in the page; nothing may be fetched from outside.
    assert.equal(scripts.length, 1, "one executable script: the viewer");
    assert.ok(csp.includes(sha(scripts[0]!)), "the viewer's hash is in script-src");
    assert.doesNotMatch(csp, /unsafe-inline'[^;]*script|script-src[^;]*unsafe/);
    for (const d of [
      "default-src 'none'",
      "connect-src 'none'",
      "img-src data:",
      "base-uri 'none'",
    ])
      assert.ok(csp.includes(d), d);
    assert.doesNotMatch(html, /<(link|img|iframe)\b[^>]*\b(src|href)="https?:/i);

    const cells = codeCells(data);
    const all = cells.flatMap((c) => flat(c.outputs));
    const types = new Set(all.map((o) => o.type));
    for (const t of ["terminal", "table", "tensor", "value", "image", "vega-lite", "html", "error"])
      assert.ok(types.has(t as Output["type"]), `an output of type ${t}`);
    // The display updated twice shows its last state only.
    const frames = all.filter((o) => o.type === "frame");
    const markdown = frames.flatMap((f) => (f.type === "frame" ? f.outputs : []));
    assert.ok(markdown.some((o) => o.type === "markdown" && o.text === "**final state**"));
    assert.ok(!markdown.some((o) => o.type === "markdown" && /state [12]/.test(o.text)));
    // The live training chart holds the rows pushed to it: one loss per epoch.
    const live = all.find((o) => o.type === "vega-lite" && o.id !== undefined);
    assert.ok(live && live.type === "vega-lite");
    const rows = (live.spec as { datasets?: Record<string, unknown[]> }).datasets?.[
      live.dataset ?? "data"
    ];
    assert.equal(rows?.filter((r) => (r as { metric?: string }).metric === "loss").length, 6);
    // The HTML output's inline script is allowed by its hash (it runs only in its sandbox).
    const htmlOut = all.find((o) => o.type === "html");
    assert.ok(htmlOut && htmlOut.type === "html");
    const [body] = inlineScripts(htmlOut.html);
    assert.ok(body && csp.includes(sha(body)));
  });
});

test("--no-code leaves the code out; without --run the outputs saved in the file are shown", () => {
  withDir((dir) => {
    copyFileSync(fixture("format", "outputs.tsnb"), join(dir, "saved.tsnb"));
    const r = tsnb(dir, "export", "saved.tsnb", "--format", "html", "--no-code", "-o", "page.html");
    assert.equal(r.status, 0, r.stderr);
    const { data } = readExport(join(dir, "page.html"));
    assert.equal(data.showCode, false);
    const outputs = codeCells(data).flatMap((c) => c.outputs);
    assert.ok(outputs.length > 0, "the saved outputs are in the page");
    assert.ok(outputs.some((o) => o.type === "terminal"));
  });
});

test("a real Deno notebook (.ipynb) exports to HTML with its Vega-Lite outputs", () => {
  withDir((dir) => {
    copyFileSync(fixture("ipynb", "deno-vegalite.ipynb"), join(dir, "vl.ipynb"));
    const r = tsnb(dir, "export", "vl.ipynb", "--html");
    assert.equal(r.status, 0, r.stderr);
    const { data } = readExport(join(dir, "vl.html"));
    const charts = codeCells(data).flatMap((c) => c.outputs.filter((o) => o.type === "vega-lite"));
    assert.ok(charts.length >= 1, "the notebook's charts came across");
  });
});

test("tsnb export --format md: Markdown with outputs, charts and images as files beside it", () => {
  withDir((dir) => {
    copyFileSync(fixture("share", "gallery.tsnb"), join(dir, "gallery.tsnb"));
    const r = tsnb(dir, "export", "gallery.tsnb", "--format", "md", "--run", "-o", "README.md");
    assert.equal(r.status, 1, r.stderr);
    const md = readFileSync(join(dir, "README.md"), "utf8");
    assert.match(md, /^# Output gallery\n/);
    assert.match(md, /```ts\nconsole\.log\(/);
    assert.match(
      md,
      /```text\nred text and plain\na warning on stderr\n```/,
      "console text without its ANSI codes, both streams in one block in write order",
    );
    assert.match(md, /\| species \| beak \|\n\| --- \| --- \|\n\| Adelie \| 39\.1 \|/);
    assert.match(md, /\*\*final state\*\*/);
    assert.doesNotMatch(md, /^state [12]$/m);
    assert.match(md, /RangeError: deliberately out of range/);
    const links = [...md.matchAll(/!\[([^\]]*)\]\(([^)]+)\)/g)].map((m) => m[2]!);
    assert.equal(links.length, 3, "an image and two charts");
    for (const link of links) {
      assert.match(link, /^README_files\/output-\d+\.(png|svg)$/);
      assert.ok(existsSync(join(dir, link)), link);
    }
    const bar = readFileSync(join(dir, links[1]!), "utf8");
    assert.match(bar, /^<svg /);
    // Three bars, each labelled with its data (Vega's SVG renderer).
    const bars = [
      ...bar.matchAll(
        /aria-label="species: (\w+); beak: ([\d.]+)"[^>]*aria-roledescription="bar"/g,
      ),
    ];
    assert.deepEqual(bars.map((m) => `${m[1]} ${m[2]}`).sort(), [
      "Adelie 39.1",
      "Chinstrap 49.3",
      "Gentoo 46.5",
    ]);
    assert.match(bar, /Beak length/);
    assert.match(md, /```html\n<p id="static">/, "HTML output as code, not inlined");

    const noCode = tsnb(dir, "export", "gallery.tsnb", "--format=md", "--no-code", "-o", "b.md");
    assert.equal(noCode.status, 0, noCode.stderr);
    assert.doesNotMatch(readFileSync(join(dir, "b.md"), "utf8"), /```ts/);
  });
});

test("tsnb export refuses unknown formats and conflicting options (exit 2)", () => {
  withDir((dir) => {
    copyFileSync(fixture("share", "gallery.tsnb"), join(dir, "g.tsnb"));
    for (const args of [["--format", "pdf"], ["--html", "--ipynb"], ["--ipynb", "--no-code"], []]) {
      const r = tsnb(dir, "export", "g.tsnb", ...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^tsnb export: .+\nusage: tsnb export/);
    }
    assert.equal(tsnb(dir, "export", "g.tsnb", "--html", "-o", "g.tsnb").status, 2);
  });
});
