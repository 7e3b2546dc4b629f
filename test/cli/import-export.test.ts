// `tsnb import` and `tsnb export --ipynb` end to end: spawns `node bin/tsnb.js …` on real Jupyter
// notebooks (test/fixtures/ipynb) and checks the files written with nbformat's validator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { importNotebook } from "../../core/format/index.ts";
import { allCells } from "../../core/notebook.ts";
import { nbformatErrors } from "../core/nbformat-validate.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const fixture = (name: string) => join(root, "test", "fixtures", "ipynb", name);

function tsnb(cwd: string, ...args: string[]) {
  const res = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), ...args], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-import-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("tsnb import writes NB.tsnb beside the notebook, prints warnings with cell numbers, keeps an existing file", () => {
  withDir((dir) => {
    copyFileSync(fixture("ijavascript-magics.ipynb"), join(dir, "magics.ipynb"));
    const r = tsnb(dir, "import", "magics.ipynb");
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^magics\.ipynb: cell 3: `%echo hi there`: magic and shell lines are not run by tsnb; kept as comments \(warning\)$/m,
    );
    assert.match(r.stderr, /wrote magics\.tsnb \(\d+ cells, 4 warnings\)/);
    const text = readFileSync(join(dir, "magics.tsnb"), "utf8");
    const nb = importNotebook(text);
    assert.ok(nb.ok);
    assert.equal(nb.notebook.title, "Demos of IJavascriptEX %magic and other commands");
    assert.ok(
      allCells(nb.notebook).some((c) => c.type === "code" && c.source === "// %echo hi there"),
    );
    assert.match(text, /```output\nhi there\n```/);
    // The .ipynb is untouched; a second import does not replace the .tsnb.
    assert.equal(
      readFileSync(join(dir, "magics.ipynb"), "utf8"),
      readFileSync(fixture("ijavascript-magics.ipynb"), "utf8"),
    );
    writeFileSync(join(dir, "magics.tsnb"), "my edits\n");
    const again = tsnb(dir, "import", "magics.ipynb");
    assert.equal(again.status, 2);
    assert.match(again.stderr, /magics\.tsnb exists; choose another with -o, or --force/);
    assert.equal(readFileSync(join(dir, "magics.tsnb"), "utf8"), "my edits\n");
    assert.equal(tsnb(dir, "import", "magics.ipynb", "--force").status, 0);
    assert.equal(tsnb(dir, "import", "magics.ipynb", "-o", "other.tsnb").status, 0);
    assert.ok(existsSync(join(dir, "other.tsnb")));
  });
});

test("tsnb import refuses what is not an nbformat 4 notebook, with the reason, and writes nothing", () => {
  withDir((dir) => {
    copyFileSync(fixture("ijavascript-nbformat3.ipynb"), join(dir, "old.ipynb"));
    const r = tsnb(dir, "import", "old.ipynb");
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /tsnb import: cannot parse old\.ipynb: this is an nbformat 3 notebook; tsnb reads nbformat 4/,
    );
    assert.ok(!existsSync(join(dir, "old.tsnb")));
    writeFileSync(join(dir, "broken.ipynb"), '{\n "cells": [\n');
    const broken = tsnb(dir, "import", "broken.ipynb");
    assert.equal(broken.status, 2);
    assert.match(
      broken.stderr,
      /cannot parse broken\.ipynb:\d+:\d+: not a Jupyter notebook: the JSON does not parse/,
    );
    assert.equal(tsnb(dir, "import", "missing.ipynb").status, 2);
    assert.match(tsnb(dir, "import", "x.tsnb").stderr, /x\.tsnb is not a \.ipynb file/);
  });
});

test("tsnb export --ipynb writes nbformat 4 that nbformat validates; the round trip through tsnb import keeps cells and text outputs", () => {
  withDir((dir) => {
    copyFileSync(
      join(root, "test", "fixtures", "format", "outputs.tsnb"),
      join(dir, "outputs.tsnb"),
    );
    copyFileSync(join(root, "notebooks", "03-charts.tsnb"), join(dir, "penguins.tsnb"));
    copyFileSync(fixture("deno-display.ipynb"), join(dir, "display.ipynb"));
    for (const name of ["outputs.tsnb", "penguins.tsnb"]) {
      const r = tsnb(dir, "export", name, "--ipynb");
      assert.equal(r.status, 0, r.stderr);
    }
    // A .ipynb goes through the importer; its outputs (images, JSON) are written back.
    const fromIpynb = tsnb(dir, "export", "display.ipynb", "--ipynb", "-o", "display-again.ipynb");
    assert.equal(fromIpynb.status, 0, fromIpynb.stderr);
    assert.match(
      fromIpynb.stderr,
      /display\.ipynb: cells 5, 6, 7, 8: image\/png outputs are shown/,
    );
    const files = ["outputs.ipynb", "penguins.ipynb", "display-again.ipynb"].map((f) =>
      join(dir, f),
    );
    assert.deepEqual(nbformatErrors(files), {});
    assert.match(
      readFileSync(join(dir, "display-again.ipynb"), "utf8"),
      /"image\/png": "iVBORw0KGgo/,
    );
    // .tsnb → .ipynb → .tsnb
    for (const name of ["outputs", "penguins"]) {
      const r = tsnb(dir, "import", `${name}.ipynb`, "-o", `${name}-back.tsnb`);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /\(warning\)/);
      const original = readFileSync(join(dir, `${name}.tsnb`), "utf8");
      assert.equal(readFileSync(join(dir, `${name}-back.tsnb`), "utf8"), original);
    }
    assert.match(readFileSync(join(dir, "outputs-back.tsnb"), "utf8"), /```output\n/);
    // Never over the notebook itself.
    const self = tsnb(dir, "export", "display.ipynb", "--ipynb");
    assert.equal(self.status, 2);
    assert.match(self.stderr, /would replace the notebook itself/);
    assert.match(
      tsnb(dir, "export", "outputs.tsnb").stderr,
      /choose a format: --html, --ipynb or --format md/,
    );
  });
});
