// Shared checks for smart-cell tests: generated code is what prettier writes (with the
// project's settings), so it reads as a person would have written it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

export const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const config = JSON.parse(readFileSync(join(root, ".prettierrc.json"), "utf8")) as prettier.Options;

export async function assertPrettierStable(source: string): Promise<void> {
  let formatted = await prettier.format(source, { ...config, parser: "typescript" });
  // A cell's last expression without `;` is its result (as in Jupyter); prettier would add one.
  if (!source.endsWith(";") && !source.endsWith("}")) formatted = formatted.replace(/;\n$/, "\n");
  assert.equal(source + "\n", formatted, "prettier would format the generated code differently");
}
