// The Learn notebooks (notebooks/learn.json lists them) run top to bottom through `tsnb run`, the
// real kernel, the way a user runs them: every cell succeeds, nothing is printed as an error, and
// what each lesson teaches shows in its output (a gradient check that passed, an accuracy, the
// speech segments, an input's value reaching the cell that reads it). Each runs from a copy in a
// temporary folder, as the app's Learn section copies it into the user's folder (lesson 7 writes
// its .onnx file next to the notebook).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importNotebook } from "../../core/format/import.ts";
import { exportNotebook } from "../../core/format/export.ts";
import { allCells, isEvaluable } from "../../core/notebook.ts";
import { checkSmartCell } from "../../smart-cells/index.ts";

const root = join(import.meta.dirname, "../..");
const catalog = JSON.parse(readFileSync(join(root, "notebooks", "learn.json"), "utf8")) as {
  lessons: Array<{ file: string; summary: string }>;
};
const work = mkdtempSync(join(tmpdir(), "tsnb-learn-test-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

function run(file: string, ...args: string[]) {
  const dir = mkdtempSync(join(work, "run-"));
  copyFileSync(join(root, "notebooks", file), join(dir, file));
  const r = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), "run", file, ...args], {
    cwd: dir,
    encoding: "utf8",
    // Training on a shared 2-core machine: generous, the runs themselves take seconds.
    timeout: 600_000,
  });
  assert.equal(r.status, 0, `tsnb run ${file} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Error|Uncaught/, r.stderr);
  return { stdout: r.stdout, dir };
}

test("notebooks/learn.json lists every notebook in notebooks/, each a lesson with a title and a summary", () => {
  const files = readdirSync(join(root, "notebooks")).filter((f) => f.endsWith(".tsnb"));
  assert.deepEqual(catalog.lessons.map((l) => l.file).sort(), files.sort());
  for (const l of catalog.lessons) assert.ok(l.summary.length > 20, `${l.file} has a summary`);
});

for (const { file } of catalog.lessons) {
  test(`notebooks/${file} is canonical .tsnb that teaches: prose before code, smart cells match their attrs`, () => {
    const text = readFileSync(join(root, "notebooks", file), "utf8");
    const res = importNotebook(text);
    assert.ok(res.ok, "the notebook parses");
    if (!res.ok) return;
    assert.equal(exportNotebook(res.notebook), text, "the file round-trips byte for byte");
    const cells = allCells(res.notebook);
    assert.ok(cells.filter(isEvaluable).length >= 3, "at least three code cells");
    assert.equal(cells[0]?.type, "markdown", "it opens with prose");
    const prose = cells
      .filter((c) => c.type === "markdown")
      .map((c) => c.source)
      .join("\n");
    assert.ok(prose.split(/\s+/).length > 250, `${file} explains in prose (over 250 words)`);
    for (const c of cells)
      if (c.type === "smart") {
        const check = checkSmartCell(c);
        assert.ok(
          check.ok && check.matches,
          `${file}: the ${c.kind} smart cell's code is what its attrs generate`,
        );
      }
  });
}

test("01-tour: every cell runs; the slider's value reaches the auto-run cell (default, then --input)", () => {
  assert.match(run("01-tour.tsnb").stdout, /\[ 'Mercury', 'Venus' \]/);
  assert.match(
    run("01-tour.tsnb", "--input", "How many planets=3").stdout,
    /\[ 'Mercury', 'Venus', 'Earth' \]/,
  );
});

test("02-tensors: the gradient checked against finite differences in the notebook passes", () => {
  const { stdout } = run("02-tensors.tsnb");
  assert.match(stdout, /gradient check passed: largest difference/);
  assert.match(stdout, /cannot be broadcast together/);
});

test("03-charts: the slider filters the chart's penguins (counted here from vega-datasets' own file)", () => {
  const raw = JSON.parse(
    readFileSync(join(root, "node_modules/vega-datasets/data/penguins.json"), "utf8"),
  ) as Array<Record<string, number | string | null>>;
  const measured = raw.filter(
    (p) =>
      p["Beak Length (mm)"] != null &&
      p["Flipper Length (mm)"] != null &&
      p["Body Mass (g)"] != null,
  );
  const atLeast = (g: number) => measured.filter((p) => (p["Body Mass (g)"] as number) >= g).length;
  assert.match(run("03-charts.tsnb").stdout, new RegExp(`\\n${atLeast(2700)}\\n`));
  const heavy = run("03-charts.tsnb", "--input", "Minimum body mass (g)=5000").stdout;
  assert.match(heavy, new RegExp(`\\n${atLeast(5000)}\\n`));
  assert.ok(atLeast(5000) < atLeast(2700));
});

test("04-classifier: the Training smart cell trains the digits to over 90% test accuracy", () => {
  const { stdout } = run("04-classifier.tsnb");
  const acc = Number(/test accuracy ([\d.]+)%/.exec(stdout)?.[1]);
  assert.ok(acc > 90, `test accuracy ${acc}%`);
  assert.match(stdout, /label \d, predicted \d \([\d.]+% sure\)/);
  assert.match(stdout, /Draw or upload a digit above/);
});

test("05-training-loop: the hand-written jit loop learns the digits; nx.scan gives the same weights; the three loops are timed", () => {
  const { stdout } = run("05-training-loop.tsnb");
  const acc = Number(/test accuracy ([\d.]+)%/.exec(stdout)?.[1]);
  assert.ok(acc > 90, `test accuracy ${acc}%`);
  const final = Number(/final loss ([\d.]+)/.exec(stdout)?.[1]);
  assert.ok(final < 0.3, `final loss ${final}`);
  const difference = Number(/step-by-step loop's weights: ([\d.e+-]+)/.exec(stdout)?.[1]);
  assert.ok(difference <= 1e-5, `the scanned loop's weights differ by ${difference}`);
  const rates = [...stdout.matchAll(/stepsPerSecond: (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(rates.length, 3, stdout);
  assert.ok(
    rates.every((r) => r > 100),
    `steps/s ${rates.join(", ")}`,
  );
});

test("06-voice-activity: two speech segments in the bundled recording, and in the same file given as the upload", () => {
  const { stdout } = run("06-voice-activity.tsnb");
  assert.equal(
    [...stdout.matchAll(/\{ start: [\d.]+, end: [\d.]+, seconds: [\d.]+ \}/g)].length,
    2,
  );
  const uploaded = run(
    "06-voice-activity.tsnb",
    "--input",
    `A recording=${join(root, "data/speech.wav")}`,
  );
  assert.match(uploaded.stdout, /2 speech segment\(s\) in 12\.4 s/);
});

test("07-export: the exported .onnx is written next to the notebook and reloads with the same predictions", () => {
  const { stdout, dir } = run("07-export.tsnb");
  assert.match(stdout, /predictions identical/);
  assert.ok(existsSync(join(dir, "digits-mlp.onnx")));
  const m = /predicted: (\d), label: (\d)/.exec(stdout);
  assert.ok(m, stdout);
});

test("08-transformer: a few hundred steps (the CI setting) halve the held-out loss; it writes samples; it trains on a text given instead", () => {
  const { stdout } = run("08-transformer.tsnb", "--input", "Training steps=200");
  const start = Number(/loss before training ([\d.]+)/.exec(stdout)?.[1]);
  const vocabulary = Number(/size: (\d+)/.exec(stdout)?.[1]);
  assert.ok(
    Math.abs(start - Math.log(vocabulary)) < 0.1,
    `untrained loss ${start} ≈ log ${vocabulary}`,
  );
  const held = Number(/held-out loss ([\d.]+)/.exec(stdout)?.[1]);
  assert.ok(held < start - 1.2, `held-out loss ${held} after 200 steps (from ${start})`);
  assert.match(stdout, /\*\*step 200\*\*, loss [\d.]+:/);
  assert.match(stdout, /And God said unto Noah, \*\*[^*]{100,}\*\*/);
  // Another text through the file input: the vocabulary is that text's.
  const other = join(root, "docs", "ml.md");
  const own = run(
    "08-transformer.tsnb",
    "--input",
    "Training steps=50",
    "--input",
    `Your own text (optional, .txt)=${other}`,
  ).stdout;
  const chars = new Set(readFileSync(other, "utf8")).size;
  assert.match(own, new RegExp(`size: ${chars},`));
});

/** A lesson's code cells as one module (imports merged per module, then the code in order), the way the kernel's shared scope sees them. */
function asModule(sources: string[]): string {
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  for (const source of sources) {
    // Each cell is its own evaluation: a `;` keeps one cell's last expression from running into the next.
    body.push(
      ";\n" +
        source.replace(
          /^import (type )?(\* as (\w+)|\{([^}]*)\}) from "([^"]+)";\n?/gm,
          (
            _m,
            _type,
            _clause,
            star: string | undefined,
            names: string | undefined,
            from: string,
          ) => {
            const set = imports.get(from) ?? new Set<string>();
            if (star) set.add(`* as ${star}`);
            else for (const n of (names ?? "").split(",")) if (n.trim()) set.add(n.trim());
            imports.set(from, set);
            return "";
          },
        ),
    );
  }
  const head = [...imports].flatMap(([from, names]) => {
    const stars = [...names].filter((n) => n.startsWith("* as "));
    const plain = [...names].filter((n) => !n.startsWith("* as "));
    return [
      ...stars.map((s) => `import ${s} from "${from}";`),
      ...(plain.length ? [`import { ${plain.join(", ")} } from "${from}";`] : []),
    ];
  });
  return [...head, "export {};", ...body].join("\n");
}

test("every lesson type-checks with tsc (strict) against the tsnb types, its cells as the kernel's one scope", () => {
  const dir = mkdtempSync(join(work, "tsc-"));
  const files = catalog.lessons.map(({ file }) => {
    const res = importNotebook(readFileSync(join(root, "notebooks", file), "utf8"));
    assert.ok(res.ok);
    const out = join(dir, file.replace(/\.tsnb$/, ".ts"));
    writeFileSync(
      out,
      asModule(
        allCells(res.notebook)
          .filter(isEvaluable)
          .map((c) => c.source),
      ),
    );
    return out;
  });
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        lib: ["ES2023", "DOM"],
        types: ["node"],
        typeRoots: [join(root, "node_modules", "@types")],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        paths: {
          tsnb: [join(root, "stdlib/index.ts")],
          "tsnb/nx": [join(root, "tensor/index.ts")],
          "onnxruntime-node": [join(root, "node_modules/onnxruntime-node")],
        },
      },
      files,
    }),
  );
  const r = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.json")],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});

test("tsnb check (the page's editor's diagnostics across cells) finds nothing in any lesson", () => {
  const files = catalog.lessons.map((l) => join("notebooks", l.file));
  const r = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), "check", ...files], {
    cwd: root,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `tsnb check:\n${r.stdout}\n${r.stderr}`);
});
