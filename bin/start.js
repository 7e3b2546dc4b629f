#!/usr/bin/env node
// `npm start`: build what is missing or stale, then launch the desktop app (Electron) when its
// binary is available and there is a display; otherwise fall back to `tsnb serve` (the same
// server and page, in the system browser or at the printed URL) and say why (DESIGN.md §9).
//   npm start [-- FILE.tsnb | DIR] [--browser]     --browser forces the browser mode
// The electron package is never loaded in this process: its availability is probed in a child.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const forceBrowser = args.includes("--browser");
const passArgs = args.filter((a) => a !== "--browser");

/** Run the incremental build (esbuild; the renderer's Monaco bundle is skipped when unchanged). */
function build() {
  const res = spawnSync(process.execPath, [join(root, "scripts/build.js")], {
    stdio: "inherit",
    cwd: root,
  });
  if (res.status !== 0) {
    console.error("tsnb: the build failed (see above)");
    process.exit(res.status ?? 1);
  }
}

/**
 * Where Electron's binary is, or why it cannot be used. `require("electron")` from Node returns
 * the binary's path (or throws when the binary was never downloaded); probed in a child process.
 */
export function probeElectron() {
  const pkg = join(root, "node_modules/electron");
  if (!existsSync(join(pkg, "package.json")))
    return { ok: false, reason: "the electron package is not installed" };
  // Without path.txt, require("electron") would try to download the binary (a network call on
  // every start); report the missing binary instead.
  if (
    !process.env["ELECTRON_OVERRIDE_DIST_PATH"] &&
    (!existsSync(join(pkg, "path.txt")) || !existsSync(join(pkg, "dist")))
  ) {
    return {
      ok: false,
      reason:
        "Electron's binary is not installed (node_modules/electron/dist is missing: electron downloads it on first use, and this machine could not)",
    };
  }
  const probe = spawnSync(
    process.execPath,
    ["-e", "process.stdout.write(String(require('electron')))"],
    {
      cwd: root,
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  if (probe.status !== 0) {
    const why =
      (probe.stderr || "").split("\n").find((l) => l.trim() && !l.startsWith("    at ")) ??
      "cannot be loaded";
    return { ok: false, reason: `the electron package's binary is not installed (${why.trim()})` };
  }
  const bin = probe.stdout.trim();
  if (!bin || !existsSync(bin))
    return {
      ok: false,
      reason: `Electron's binary is missing (${bin || "no path"}): it is downloaded on first use, and this machine could not download it`,
    };
  if (process.platform === "linux" && !process.env["DISPLAY"] && !process.env["WAYLAND_DISPLAY"]) {
    return { ok: false, reason: "there is no display (DISPLAY/WAYLAND_DISPLAY unset)" };
  }
  return { ok: true, bin };
}

function main() {
  build();
  const electron = forceBrowser ? { ok: false, reason: "--browser was given" } : probeElectron();
  if (electron.ok) {
    const child = spawn(electron.bin, [join(root, "dist/electron/main.cjs"), ...passArgs], {
      stdio: "inherit",
      cwd: process.cwd(),
    });
    child.on("exit", (code) => process.exit(code ?? 0));
    return;
  }
  console.log(`tsnb: starting in browser mode, because ${electron.reason}.`);
  console.log("tsnb: the app is the same; open the URL below in Chromium or any modern browser.");
  const child = spawn(process.execPath, [join(root, "bin/tsnb.js"), "serve", ...passArgs], {
    stdio: "inherit",
    cwd: process.cwd(),
  });
  const stop = () => child.kill("SIGINT");
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  child.on("exit", (code) => process.exit(code ?? 0));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
