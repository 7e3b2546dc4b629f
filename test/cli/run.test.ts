// `tsnb run` end to end: spawns `node bin/tsnb.js run …` on fixture notebooks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importNotebook } from "../../core/format/index.ts";
import { allCells, isEvaluable } from "../../core/notebook.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const fx = (name: string) => join("test", "fixtures", "cli", name);

function tsnb(...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

test("a notebook whose cells all succeed prints outputs and results in order and exits 0", () => {
  const r = tsnb("run", fx("ok.tsnb"));
  assert.equal(r.status, 0, r.stderr);
  // Piped (not a terminal): exactly what the cells print, then each result as the REPL shows it.
  assert.equal(r.stdout, "sum is 6\n[ 2, 4, 6 ]\n{ x: 1, y: 2 }\n'done'\n");
  assert.equal(r.stderr, "");
});

test("a failing cell stops the run with status 1 and the error at FILE.tsnb:LINE:COL", () => {
  const r = tsnb("run", fx("fails.tsnb"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /test\/fixtures\/cli\/fails\.tsnb:10:20: RangeError: too small: 1/);
  assert.match(r.stderr, /at check \(test\/fixtures\/cli\/fails\.tsnb:10:20\)/);
  assert.match(r.stdout, /first cell ran/);
  assert.doesNotMatch(r.stdout, /third cell ran/);
});

test("--continue-on-error runs the remaining cells and still exits 1", () => {
  const r = tsnb("run", fx("fails.tsnb"), "--continue-on-error");
  assert.equal(r.status, 1);
  assert.match(r.stdout, /third cell ran\n2\n/);
});

test("a file that cannot be read or parsed exits 2 with the reason", () => {
  const broken = tsnb("run", fx("broken.tsnb"));
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /broken\.tsnb:3: .*JSON/);
  const missing = tsnb("run", fx("no-such.tsnb"));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read .*no-such\.tsnb: no such file/);
  const usage = tsnb("run");
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: tsnb run/);
});

test("a kernel that dies ends the run with status 1 and says why", () => {
  const r = tsnb("run", fx("dies.tsnb"));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /about to exit/);
  assert.match(r.stderr, /exited with code 5/);
  assert.doesNotMatch(r.stdout, /never/);
});

test("an uncaught exception in a timer fails its cell (status 1) with the notebook line; the kernel lives", () => {
  const r = tsnb("run", fx("timer-crash.tsnb"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /timer-crash\.tsnb:5:9: Uncaught Error: boom in a timer/);
  assert.doesNotMatch(r.stderr, /crashed/);
});

test("errors of a cell's timers and promises after it finished fail the run; later cells still run", () => {
  const r = tsnb("run", fx("late-errors.tsnb"), "--continue-on-error");
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /late-errors\.tsnb:6:9: Uncaught Error: thrown after the cell finished/);
  assert.match(
    r.stderr,
    /late-errors\.tsnb:11:\d+: Uncaught \(in promise\) Error: nobody handled me/,
  );
  assert.match(r.stdout, /still here 1/);
});

test("library frames are counted, not shown; --verbose shows them; recursion is collapsed", () => {
  const r = tsnb("run", fx("deep.tsnb"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /deep\.tsnb:6:\d+: Error: ENOENT/);
  assert.match(
    r.stderr,
    /at down \(test\/fixtures\/cli\/deep\.tsnb:6:\d+\)\n {4}… the frame above repeated \d+ more times/,
  );
  assert.match(r.stderr, /… \d+ library frames? hidden/);
  assert.doesNotMatch(r.stderr, /node:fs|node:internal/);
  const v = tsnb("run", "--verbose", fx("deep.tsnb"));
  assert.equal(v.status, 1);
  assert.match(v.stderr, /node:fs/);
  assert.doesNotMatch(v.stderr, /hidden/);
});

test("a syntax error prints the line with a caret", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    const file = join(dir, "syntax.tsnb");
    writeFileSync(file, "# S\n\n```ts\nconst ok = 1;\nconst bad: number = ;\n```\n");
    const r = tsnb("run", file);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /syntax\.tsnb:5:21: SyntaxError: .*\n4 \| const ok = 1;\n5 \| const bad: number = ;\n  \| {21}\^\n/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("packages and modules resolve from the notebook's folder; display() prints Markdown", () => {
  const r = tsnb("run", join("test", "fixtures", "kernel", "nbdir", "imports.tsnb"));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\*\*hello, run\*\*\n42\n/);
});

test("--write saves the outputs into the notebook, which reads back with them", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    const file = join(dir, "fails.tsnb");
    copyFileSync(join(root, fx("fails.tsnb")), file);
    const r = tsnb("run", file, "--write", "--continue-on-error");
    assert.equal(r.status, 1);
    const back = importNotebook(readFileSync(file, "utf8"));
    assert.ok(back.ok);
    if (!back.ok) return;
    assert.equal(back.notebook.metadata.persistOutputs, true);
    const outs = allCells(back.notebook)
      .filter(isEvaluable)
      .map((c) => c.outputs);
    assert.deepEqual(outs[0], [{ type: "text", text: "first cell ran" }]);
    assert.match(JSON.stringify(outs[1]), /RangeError: too small: 1/);
    assert.deepEqual(outs[2], [
      { type: "text", text: "third cell ran" },
      { type: "text", text: "2" },
    ]);
    // Running the written notebook again gives the same file (outputs are replaced, not added).
    const before = readFileSync(file, "utf8");
    tsnb("run", file, "--write", "--continue-on-error");
    assert.equal(readFileSync(file, "utf8"), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--write keeps a Vega-Lite chart as its spec", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    const file = join(dir, "chart.tsnb");
    copyFileSync(join(root, fx("chart.tsnb")), file);
    const r = tsnb("run", file, "--write");
    assert.equal(r.status, 0, r.stderr);
    const back = importNotebook(readFileSync(file, "utf8"));
    assert.ok(back.ok);
    if (!back.ok) return;
    const outs = allCells(back.notebook).filter(isEvaluable)[0]!.outputs!;
    assert.equal(outs[0]!.type, "vega-lite");
    assert.deepEqual(
      outs[0]!.type === "vega-lite" && (outs[0]!.spec as { mark: string }).mark,
      "bar",
    );
    assert.deepEqual(outs[1], { type: "text", text: "drawn" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--write saves what the page shows: a display's last state, tables, Markdown, a live chart with its data", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    const file = join(dir, "fidelity.tsnb");
    copyFileSync(join(root, fx("fidelity.tsnb")), file);
    const r = tsnb("run", file, "--write");
    assert.equal(r.status, 0, r.stderr);
    const back = importNotebook(readFileSync(file, "utf8"));
    assert.ok(back.ok);
    if (!back.ok) return;
    const outs = allCells(back.notebook)
      .filter(isEvaluable)
      .map((c) => c.outputs);
    // A display handle updated three times: one block, its last state (Markdown).
    assert.deepEqual(outs[0], [{ type: "markdown", text: "step 3" }]);
    assert.deepEqual(outs[1], [
      {
        type: "table",
        columns: ["name", "n"],
        rows: [
          ["a", 1],
          ["b", 2],
        ],
        totalRows: 2,
      },
    ]);
    assert.deepEqual(outs[2], [{ type: "markdown", text: "**bold** result" }]);
    // The training loop's live chart: saved with the rows pushed to it, not empty axes.
    const chart = outs[3]?.find((o) => o.type === "vega-lite");
    assert.ok(chart && chart.type === "vega-lite", JSON.stringify(outs[3]));
    const rows = (chart.spec as { datasets?: Record<string, unknown[]> }).datasets?.["history"];
    assert.ok(Array.isArray(rows) && rows.length > 0, JSON.stringify(chart.spec));
    assert.match(JSON.stringify(rows[0]), /"metric":"loss"/);
    // Written again: the same file (outputs replaced, the format reads back what it wrote).
    const before = readFileSync(file, "utf8");
    assert.equal(tsnb("run", file, "--write").status, 0);
    assert.equal(
      readFileSync(file, "utf8").replace(/"value": [0-9.e-]+/g, ""),
      before.replace(/"value": [0-9.e-]+/g, ""),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a file that is not a notebook tsnb reads exits 2 and runs nothing; a Jupyter notebook runs, but --write refuses it", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    for (const name of ["notes.txt", "package.json", "README"]) {
      const file = join(dir, name);
      writeFileSync(file, "```ts\nconsole.log('ran')\n```\n");
      const r = tsnb("run", file);
      assert.equal(r.status, 2, name);
      assert.match(r.stderr, /not a notebook tsnb reads \(\.tsnb, \.md or \.ipynb\)/, name);
      assert.doesNotMatch(r.stdout, /ran/, name);
    }
    // Markdown with ts fences opens as a notebook (docs/format.md).
    const mdFile = join(dir, "notes.md");
    writeFileSync(mdFile, "# Notes\n\n```ts\nconsole.log('ran')\n```\n");
    const m = tsnb("run", mdFile);
    assert.equal(m.status, 0, m.stderr);
    assert.match(m.stdout, /ran/);
    // A Jupyter notebook is read through tsnb's .ipynb importer (the same as `tsnb import`).
    const ipynb = join(dir, "x.ipynb");
    const nb = JSON.stringify({
      cells: [
        {
          cell_type: "code",
          source: ["console.log('ran ipynb')"],
          metadata: {},
          outputs: [],
          execution_count: null,
        },
      ],
      metadata: {
        kernelspec: { name: "tsnb", language: "typescript", display_name: "TypeScript (tsnb)" },
      },
      nbformat: 4,
      nbformat_minor: 5,
    });
    writeFileSync(ipynb, nb);
    const j = tsnb("run", ipynb);
    assert.equal(j.status, 0, j.stderr);
    assert.match(j.stdout, /ran ipynb/);
    const w = tsnb("run", ipynb, "--write");
    assert.equal(w.status, 2);
    assert.match(w.stderr, /--write saves \.tsnb and Markdown notebooks only.*tsnb import/);
    assert.equal(readFileSync(ipynb, "utf8"), nb);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--help documents run and its options", () => {
  const r = tsnb("--help");
  assert.equal(r.status, 0);
  for (const s of ["tsnb run FILE.tsnb", "--continue-on-error", "--write", "Exit status"])
    assert.ok(r.stdout.includes(s), s);
});

test("Ctrl+C interrupts the running cell and ends the run with status 1", async () => {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [join(root, "bin", "tsnb.js"), "run", fx("spins.tsnb")], {
    cwd: root,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
    if (stdout.includes("spinning")) setTimeout(() => child.kill("SIGINT"), 100);
  });
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) =>
    child.on("exit", (code) => resolve(code)),
  );
  assert.equal(status, 1);
  assert.match(stderr, /Interrupted/);
  assert.doesNotMatch(stdout, /not reached/);
});

test("a result that chooses its own output (display protocol) prints that output, not its internals", () => {
  const r = tsnb("run", fx("display.tsnb"));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\*\*2 layers\*\*, 10 parameters/);
  assert.doesNotMatch(r.stdout, /internal state/);
});

test("a tensor result prints its dtype and shape, then its values", () => {
  const r = tsnb("run", fx("tensor.tsnb"));
  assert.equal(r.status, 0, r.stderr);
  // JS numbers make an f32 tensor whatever their values (as tfjs and onnxruntime's Tensor); adding 1 keeps it.
  assert.equal(r.stdout, "f32[2][2]\n[\n  [2.0, 3.0],\n  [4.0, 5.0]\n]\n");
});

test("several files run in turn, each under a header; a failing one does not stop the next, the status is the worst", () => {
  const r = tsnb("run", fx("fails.tsnb"), fx("ok.tsnb"));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^== test\/fixtures\/cli\/fails\.tsnb\n/);
  assert.match(r.stdout, /first cell ran/);
  assert.match(
    r.stdout,
    /\n== test\/fixtures\/cli\/ok\.tsnb\nsum is 6\n\[ 2, 4, 6 \]\n\{ x: 1, y: 2 \}\n'done'\n$/,
  );
  const missing = tsnb("run", fx("ok.tsnb"), fx("no-such.tsnb"));
  assert.equal(missing.status, 2);
  assert.match(missing.stdout, /'done'\n/);
});

test("inputs take their defaults or --input LABEL=VALUE; a listener does not keep the run going", () => {
  const t0 = Date.now();
  const d = tsnb("run", fx("inputs.tsnb"));
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /^size 3, name nobody$/m);
  const r = tsnb("run", fx("inputs.tsnb"), "--input", "Size=8", "--input=Name=Ada Lovelace");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^size 8, name Ada Lovelace$/m);
  assert.ok(Date.now() - t0 < 50_000, "the interval listener did not hold the runs");
  const bad = tsnb("run", fx("inputs.tsnb"), "--input", "Size=11");
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--input Size=11: "Size" must be at most 10, got 11/);
  const malformed = tsnb("run", fx("inputs.tsnb"), "--input", "Size");
  assert.equal(malformed.status, 2);
  assert.match(malformed.stderr, /--input takes LABEL=VALUE/);
});

test("--write keeps the notebook's output limit: the oldest console text is dropped behind the marker; a bad limit warns", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-run-"));
  try {
    const file = join(dir, "big.tsnb");
    const cell =
      'for (let i = 0; i < 3000; i++) (i % 2 ? console.error : console.log)("line " + i);';
    const text = (meta: string) =>
      `<!-- tsnb:notebook ${meta} -->\n# Big\n\n\`\`\`ts\n${cell}\n\`\`\`\n`;
    writeFileSync(file, text('{"version":1,"outputLimit":10000}'));
    const r = tsnb("run", file, "--write");
    assert.equal(r.status, 0, r.stderr);
    // The terminal still gets every line, each on its own stream.
    assert.match(r.stdout, /^line 0\nline 2\n/);
    assert.match(r.stderr, /^line 1\nline 3\n/);
    const back = importNotebook(readFileSync(file, "utf8"));
    assert.ok(back.ok);
    if (!back.ok) return;
    const saved = allCells(back.notebook).filter(isEvaluable)[0]!.outputs ?? [];
    assert.equal(saved.length, 1);
    const kept = saved[0]!.type === "text" ? saved[0]!.text : "";
    assert.match(
      kept,
      /^… [\d,]+ earlier characters dropped \(this notebook keeps 10,000 characters of console text per cell: Output limit in the notebook's settings\)\nline \d+\n/,
    );
    assert.ok(kept.endsWith("line 2998\nline 2999"), kept.slice(-30));
    assert.ok(kept.length < 10_200, String(kept.length));
    // The limit is per cell: console text between displays counts together, displays all stay.
    const mixed =
      'import { display, md } from "tsnb";\nfor (let r = 0; r < 20; r++) {\n  for (let i = 0; i < 100; i++) console.log("r" + String(r).padStart(2, "0") + " line " + String(i).padStart(2, "0"));\n  display(md`table ${r}`);\n}';
    writeFileSync(
      file,
      `<!-- tsnb:notebook {"version":1,"outputLimit":10000} -->\n# Big\n\n\`\`\`ts\n${mixed}\n\`\`\`\n`,
    );
    const m = tsnb("run", file, "--write");
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stdout.split("\n").filter((l) => / line /.test(l)).length, 2000);
    const backMixed = importNotebook(readFileSync(file, "utf8"));
    assert.ok(backMixed.ok);
    if (!backMixed.ok) return;
    const savedMixed = allCells(backMixed.notebook).filter(isEvaluable)[0]!.outputs ?? [];
    const texts = savedMixed.filter((o) => o.type === "text").map((o) => o.text);
    const marks = savedMixed.filter((o) => o.type === "markdown").map((o) => o.text);
    assert.deepEqual(
      marks,
      Array.from({ length: 20 }, (_, r) => `table ${r}`),
    );
    // Lines of 12 characters; what was kept and what the one marker counts make all of them.
    const lines = texts.join("\n").split("\n");
    const keptLines = lines.filter((l) => /^r\d\d line \d\d$/.test(l));
    assert.ok(keptLines.length * 12 <= 10_000, String(keptLines.length));
    assert.ok(keptLines.length * 12 > 10_000 - 12, String(keptLines.length));
    assert.equal(keptLines.at(-1), "r19 line 99");
    const markers = lines.filter((l) => l.startsWith("… "));
    assert.equal(markers.length, 1);
    assert.ok(texts[0]!.startsWith(markers[0]!));
    const dropped = Number(
      /^… ([\d,]+) earlier characters dropped/.exec(markers[0]!)![1]!.replace(/,/g, ""),
    );
    assert.equal(dropped + keptLines.length * 12, 2000 * 12);
    // A limit that is not one is a warning that names it, and the default applies.
    writeFileSync(file, text('{"version":1,"outputLimit":"big"}'));
    const bad = tsnb("run", file);
    assert.equal(bad.status, 0);
    assert.match(
      bad.stderr,
      /'outputLimit': the output limit must be a whole number of characters, not "big"; the default \(1,000,000\) is used/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
