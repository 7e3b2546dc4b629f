#!/usr/bin/env node
// `npm run bench [-- NAME…]`: build dist/, then run the benchmarks in bench/ one after another
// (never in parallel: they measure the machine). Each prints its own table of absolutes and
// ratios against a reference measured in the same run. NAME filters by file name:
//   npm run bench -- tensor ml
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filters = process.argv.slice(2);
const build = spawnSync(process.execPath, [join(root, "scripts/build.js")], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

const benches = readdirSync(join(root, "bench"))
  .filter((f) => f.endsWith(".ts"))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n=== bench/${file}`);
  const res = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(root, "bench", file)],
    {
      stdio: "inherit",
      cwd: root,
    },
  );
  if (res.status !== 0) {
    failed++;
    console.error(`bench/${file} exited with ${res.status ?? res.signal}`);
  }
}
process.exit(failed ? 1 : 0);
