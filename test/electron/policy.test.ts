// The desktop shell's security settings and navigation policy (electron/policy.ts), tested from
// plain Node: electron itself is never loaded here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  externalUrlToOpen,
  isNavigationAllowed,
  isPermissionAllowed,
  isTrustedSender,
  notebookArgument,
  pushRecent,
  windowOptions,
} from "../../electron/policy.ts";
import { IPC, isMenuCommand } from "../../electron/ipc.ts";

const APP = "http://127.0.0.1:43210";

test("the window follows Electron's security checklist", () => {
  const o = windowOptions("/app/dist/electron/preload.cjs");
  const w = o.webPreferences!;
  assert.equal(w.contextIsolation, true);
  assert.equal(w.sandbox, true);
  assert.equal(w.nodeIntegration, false);
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webviewTag, false);
  assert.equal(w.webSecurity, true);
  assert.equal(w.allowRunningInsecureContent, false);
  assert.equal(w.preload, "/app/dist/electron/preload.cjs");
});

test("navigation stays within the app's own server", () => {
  assert.equal(isNavigationAllowed(`${APP}/`, APP), true);
  assert.equal(isNavigationAllowed(`${APP}/#session=abc`, APP), true);
  assert.equal(
    isNavigationAllowed("http://127.0.0.1:43211/", APP),
    false,
    "another port is another origin",
  );
  assert.equal(isNavigationAllowed("http://localhost:43210/", APP), false);
  assert.equal(isNavigationAllowed("https://example.com/", APP), false);
  assert.equal(isNavigationAllowed("file:///etc/passwd", APP), false);
  assert.equal(isNavigationAllowed("javascript:alert(1)", APP), false);
  assert.equal(isNavigationAllowed("data:text/html,<script>1</script>", APP), false);
  assert.equal(isNavigationAllowed("not a url", APP), false);
});

test("only parsed http(s) links go to the system browser", () => {
  assert.equal(externalUrlToOpen("https://example.com/a b", APP), "https://example.com/a%20b");
  assert.equal(externalUrlToOpen("http://example.com", APP), "http://example.com/");
  for (const bad of [
    "javascript:alert(1)",
    "file:///etc/passwd",
    "smb://server/share",
    "data:text/html,hi",
    "vbscript:x",
    "mailto:a@b.c",
    "https://user:pw@example.com/",
    "  ",
    `${APP}/other`,
  ]) {
    assert.equal(externalUrlToOpen(bad, APP), null, bad);
  }
});

test("IPC is accepted only from the app window's main frame showing the app", () => {
  const ok = { webContentsId: 7, frameUrl: `${APP}/#session=x`, isMainFrame: true };
  assert.equal(isTrustedSender(ok, 7, APP), true);
  assert.equal(isTrustedSender({ ...ok, webContentsId: 8 }, 7, APP), false, "another window");
  assert.equal(isTrustedSender(ok, null, APP), false, "no window yet");
  assert.equal(
    isTrustedSender({ ...ok, isMainFrame: false }, 7, APP),
    false,
    "a sub-frame (e.g. an HTML output)",
  );
  assert.equal(
    isTrustedSender({ ...ok, frameUrl: "https://evil.example/" }, 7, APP),
    false,
    "navigated away",
  );
  assert.equal(isTrustedSender({ ...ok, frameUrl: null }, 7, APP), false);
});

test("no permission is granted to the page", () => {
  for (const p of ["media", "geolocation", "notifications", "clipboard-read", "openExternal"])
    assert.equal(isPermissionAllowed(p), false);
});

test("a notebook named on the command line is found after Electron's own arguments", () => {
  assert.equal(
    notebookArgument(["electron", "--inspect", "dist/electron/main.cjs", "notes/a.tsnb"]),
    "notes/a.tsnb",
  );
  assert.equal(notebookArgument(["tsnb", "README.md"]), "README.md");
  assert.equal(notebookArgument(["electron", "dist/electron/main.cjs"]), null);
});

test("recent files: newest first, no duplicates, bounded", () => {
  let list: string[] = [];
  for (let i = 0; i < 15; i++) list = pushRecent(list, `/n/${i}.tsnb`);
  assert.equal(list.length, 10);
  assert.equal(list[0], "/n/14.tsnb");
  list = pushRecent(list, "/n/10.tsnb");
  assert.deepEqual(list.slice(0, 2), ["/n/10.tsnb", "/n/14.tsnb"]);
  assert.equal(new Set(list).size, list.length);
});

test("menu commands are validated before they reach the page", () => {
  assert.equal(isMenuCommand({ type: "run-all" }), true);
  assert.equal(isMenuCommand({ type: "open-session", sessionId: "s1" }), true);
  assert.equal(isMenuCommand({ type: "open-session" }), false);
  assert.equal(isMenuCommand({ type: "eval", code: "x" }), false);
  assert.equal(isMenuCommand(null), false);
  assert.equal(
    new Set(Object.values(IPC)).size,
    Object.values(IPC).length,
    "channel names are unique",
  );
});

test("the preload exposes named functions only, and main validates every IPC sender", () => {
  const preload = readFileSync(new URL("../../electron/preload.ts", import.meta.url), "utf8");
  assert.match(preload, /contextBridge\.exposeInMainWorld\("tsnbDesktop", api\)/);
  assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer\s*\)/);
  const main = readFileSync(new URL("../../electron/main.ts", import.meta.url), "utf8");
  const direct = main.match(/ipcMain\.(handle|on)\(/g) ?? [];
  assert.equal(direct.length, 1, "one ipcMain.handle, inside the sender-checking `handle` helper");
  assert.match(main, /setWindowOpenHandler/);
  assert.match(main, /will-navigate/);
});
