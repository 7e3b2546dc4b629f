#!/usr/bin/env node
// The `tsnb` command. Runs the bundled CLI from dist/, building it first when dist/ is missing
// (a fresh clone before `npm test`/`npm start` has run the build).
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/cli.mjs");
if (!existsSync(cli) || !existsSync(join(root, "dist/kernel.mjs"))) {
  const res = spawnSync(process.execPath, [join(root, "scripts/build.js")], { stdio: "inherit" });
  if (res.status !== 0) process.exit(2);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
