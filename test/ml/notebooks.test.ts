// The example notebooks in notebooks/ are canonical .tsnb and run top to bottom through `tsnb run`
// (the real kernel, the way a user runs them): every cell succeeds, no error is printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importNotebook } from "../../core/format/import.ts";
import { exportNotebook } from "../../core/format/export.ts";
import { allCells, isEvaluable } from "../../core/notebook.ts";

const root = join(import.meta.dirname, "../..");

for (const name of ["digits", "penguins", "voice-activity"]) {
  test(`notebooks/${name}.tsnb runs through tsnb run`, () => {
    const file = join("notebooks", `${name}.tsnb`);
    const text = readFileSync(join(root, file), "utf8");
    const res = importNotebook(text);
    assert.ok(res.ok, "the notebook parses");
    if (!res.ok) return;
    assert.equal(
      exportNotebook(res.notebook),
      text,
      "the file is canonical .tsnb (round-trips byte for byte)",
    );
    const cells = allCells(res.notebook).filter(isEvaluable);
    assert.ok(cells.length >= 3, "cells.length >= 3");
    const run = spawnSync(process.execPath, [join(root, "bin", "tsnb.js"), "run", file], {
      cwd: root,
      encoding: "utf8",
      // Training on a shared 2-core machine: generous, the run itself is far shorter.
      timeout: 600_000,
    });
    assert.equal(run.status, 0, `tsnb run ${file} failed:\n${run.stderr}`);
    assert.doesNotMatch(run.stderr, /Error|Uncaught/, run.stderr);
  });
}
