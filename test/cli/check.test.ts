// `tsnb check` and `tsnb run --check` end to end: spawns `node bin/tsnb.js …` on notebooks and
// reads the diagnostics it prints as FILE.tsnb:LINE:COL (TypeScript as the editor runs it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const fx = (name: string) => join("test", "fixtures", name);

function tsnb(...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** The `FILE:LINE:COL: error TSnnnn` heads of the diagnostics printed. */
const heads = (stderr: string) =>
  stderr
    .split("\n")
    .map((l) => /^(\S+:\d+:\d+): (error|warning) (TS\d+)/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]} ${m[3]}`);

test("the example notebooks in notebooks/ type-check", () => {
  const files = readdirSync(join(root, "notebooks"))
    .filter((f) => f.endsWith(".tsnb"))
    .map((f) => join("notebooks", f));
  assert.ok(files.length >= 3, "the examples are there");
  const r = tsnb("check", ...files);
  assert.equal(r.stderr, "");
  assert.equal(r.status, 0);
});

test("const n: number = 'a' fails at its line and column, with the line and a caret", () => {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-check-"));
  try {
    const file = join(dir, "n.tsnb");
    writeFileSync(
      file,
      '# N\n\n```ts\nconst ok = 1;\n```\n\nProse.\n\n```ts\nok;\nconst n: number = "a";\n```\n',
    );
    const r = tsnb("check", file);
    assert.equal(r.status, 1);
    assert.deepEqual(heads(r.stderr), [`${file}:11:7 error TS2322`]);
    assert.match(
      r.stderr,
      /TS2322: Type 'string' is not assignable to type 'number'\.\n11 \| const n: number = "a";\n {11}\^\n/,
    );
    assert.match(r.stderr, /Found 1 error in 1 notebook\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cells know each other's names and types, tsnb's and Node's; every error is found", () => {
  const file = fx("cli/type-errors.tsnb");
  const r = tsnb("check", file);
  assert.equal(r.status, 1);
  // Line 13: a string for a number. Line 28: `doubled` is number[] (inferred in another cell
  // from `xs`, itself from another). Nothing else: process.stdout (Node's types), a name defined
  // further down, `name` (a cell's, not the DOM's), tsnb/nx, a redeclaration in another cell,
  // `nx.Tensor` as a type where `nx` was imported by another cell. Line 39: `quadrupled` is
  // number[], inferred from `doubled`, itself inferred from `xs`, each in another cell.
  assert.deepEqual(heads(r.stderr), [
    `${file}:13:7 error TS2322`,
    `${file}:28:9 error TS2339`,
    `${file}:39:12 error TS2339`,
  ]);
  assert.match(r.stderr, /Property 'nope' does not exist on type 'number\[\]'/);
});

test("tsnb run --check exits 1 on a type error before running any cell", () => {
  const r = tsnb("run", "--check", fx("cli/type-errors.tsnb"));
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "", "no cell ran");
  assert.match(r.stderr, /type-errors\.tsnb:13:7: error TS2322/);
  assert.match(r.stderr, /tsnb run: 3 type errors in .*type-errors\.tsnb; nothing was run/);
  // Without --check the same notebook runs (its first cell prints) until the kernel fails.
  const unchecked = tsnb("run", fx("cli/type-errors.tsnb"));
  assert.match(unchecked.stdout, /first cell ran/);
});

test("tsnb run --check runs a notebook that type-checks", () => {
  const r = tsnb("run", "--check", fx("cli/ok.tsnb"));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "sum is 6\n[ 2, 4, 6 ]\n{ x: 1, y: 2 }\n'done'\n");
});

test("notebooks from elsewhere: Deno's type-error example is caught, in cells of an .ipynb", () => {
  // Deno's Jupyter integration notebook shows an excess-property error on purpose (`colour`);
  // its `Deno` namespace is not Node's, so it is unknown here as in the editor.
  const r = tsnb("check", fx("ipynb/deno-integration-excerpt.ipynb"));
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    /deno-integration-excerpt\.ipynb:cell \d+:\d+:\d+: error TS2561: Object literal may only specify known properties, but 'colour' does not exist in type 'SquareConfig'/,
  );
  // tslab's Fibonacci notebook is plain TypeScript: it type-checks.
  const tslab = tsnb("check", fx("ipynb/tslab-fib.ipynb"));
  assert.equal(tslab.stderr, "");
  assert.equal(tslab.status, 0);
});

test("check: a file that is not a notebook, or none given, is exit 2", () => {
  assert.equal(tsnb("check", fx("cli/no-such.tsnb")).status, 2);
  assert.equal(tsnb("check", fx("cli/broken.tsnb")).status, 2);
  const usage = tsnb("check");
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: tsnb check/);
});
