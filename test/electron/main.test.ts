// The bundled Electron main process (dist/electron/main.cjs) run under plain Node with a
// stand-in `electron` module (fake-electron.cjs, preloaded with -r): it starts the server
// in-process, opens the notebook named on the command line in a hardened window, registers
// sender-checked IPC handlers and the menus. The real electron package is never loaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const mainCjs = join(root, "dist/electron/main.cjs");

test("the desktop main process opens a notebook from the command line in a hardened window", () => {
  assert.ok(existsSync(mainCjs), "dist/electron/main.cjs is built (npm test builds it)");
  const dir = mkdtempSync(join(tmpdir(), "tsnb-electron-"));
  try {
    writeFileSync(join(dir, "hello.tsnb"), "# Hello\n\n```ts\n1 + 1\n```\n");
    const res = spawnSync(
      process.execPath,
      ["-r", join(root, "test/electron/fake-electron.cjs"), mainCjs, "hello.tsnb"],
      {
        cwd: dir,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, TSNB_DATA_DIR: join(dir, "data"), XDG_DATA_HOME: join(dir, "xdg") },
      },
    );
    assert.equal(res.status, 0, res.stderr);
    const report = JSON.parse(res.stdout.trim().split("\n").pop()!);
    const web = report.windowOptions.webPreferences;
    assert.equal(web.contextIsolation, true);
    assert.equal(web.sandbox, true);
    assert.equal(web.nodeIntegration, false);
    assert.match(web.preload, /dist\/electron\/preload\.cjs$/);
    assert.match(
      report.url,
      /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+#session=\w+/,
      "the window opens the served notebook's session",
    );
    assert.deepEqual(
      report.page,
      { status: 302, setCookie: true },
      "the in-process server accepts the window's token",
    );
    assert.deepEqual(report.handlers.sort(), [
      "tsnb:open-dialog",
      "tsnb:open-recent",
      "tsnb:recent-files",
      "tsnb:save-as-dialog",
    ]);
    assert.deepEqual(
      report.ipc.trusted,
      { ok: true, value: [join(dir, "hello.tsnb")] },
      "the opened file is a recent file",
    );
    assert.equal(report.ipc.foreignFrame.ok, false);
    assert.equal(report.ipc.otherWindow.ok, false);
    assert.equal(report.ipc.badArgs.ok, false);
    assert.equal(report.navigationAwayPrevented, true);
    assert.equal(report.navigationInAppPrevented, false);
    assert.deepEqual(report.windowOpen, { action: "deny" });
    const labels = Object.fromEntries(
      report.menu.map((m: { label: string; items: string[] }) => [m.label, m.items]),
    );
    assert.deepEqual(labels["File"], ["New", "Open…", "Open Recent", "Save", "Save As…"]);
    assert.deepEqual(labels["Notebook"], ["Run All", "Interrupt", "Restart Kernel"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
