// The example notebooks in notebooks/ parse as .tsnb and their code runs top to bottom (cells
// concatenated into one module, "tsnb" mapped to the library sources (stdlib/index.ts), the way
// `tsnb run` runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { importNotebook } from "../../core/format/import.ts";
import { exportNotebook } from "../../core/format/export.ts";

const root = join(import.meta.dirname, "../..");

function codeCells(text: string): string[] {
  const res = importNotebook(text) as unknown as {
    notebook?: { sections: Array<{ cells: Array<{ type: string; source: string }> }> };
  };
  assert.ok(res.notebook, "the notebook parses");
  assert.equal(
    exportNotebook(res.notebook as never),
    text,
    "the file is canonical .tsnb (round-trips byte for byte)",
  );
  return res.notebook.sections
    .flatMap((s) => s.cells)
    .filter((c) => c.type === "code")
    .map((c) => c.source);
}

for (const name of ["digits", "penguins", "voice-activity"]) {
  test(`notebooks/${name}.tsnb runs`, () => {
    const text = readFileSync(join(root, "notebooks", `${name}.tsnb`), "utf8");
    const cells = codeCells(text);
    assert.ok(cells.length >= 3, "cells.length >= 3");
    const lib = pathToFileURL(join(root, "stdlib/index.ts")).href;
    const nx = pathToFileURL(join(root, "tensor/index.ts")).href;
    const src = cells
      .join("\n;\n")
      .replace(/from "tsnb"/g, `from ${JSON.stringify(lib)}`)
      .replace(/from "tsnb\/nx"/g, `from ${JSON.stringify(nx)}`);
    const dir = mkdtempSync(join(tmpdir(), "tsnb-nb-"));
    try {
      const file = join(dir, "nb.mts");
      writeFileSync(file, src + '\nconsole.log("NOTEBOOK OK");\n');
      const res = spawnSync(process.execPath, ["--import", "tsx", file], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(res.status, 0, res.stderr);
      assert.match(res.stdout, /NOTEBOOK OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
