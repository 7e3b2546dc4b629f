/**
 * The desktop shell's security decisions as pure functions, so they can be unit-tested from
 * plain Node (this module imports electron's *types* only, never electron at run time).
 *
 * Owns: the BrowserWindow options (Electron's security checklist: context isolation, sandbox,
 * no Node integration, no webview, no remote content beyond the app's own server), the
 * navigation policy (in-app navigation only to the server's origin; everything else denied;
 * links opened in the system browser only when they parse as http/https URLs) and the IPC
 * sender check. The page's CSP is not set here: it comes with the server's responses
 * (server/security.ts) and the page's meta tag (renderer/index.html).
 */
import type { BrowserWindowConstructorOptions } from "electron";

/** Options of the app's window. `preload` is the absolute path of dist/electron/preload.cjs. */
export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 900,
    minWidth: 640,
    minHeight: 480,
    show: false,
    backgroundColor: "#ffffff",
    title: "tsnb",
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: true,
      safeDialogs: true,
    },
  };
}

/** The origin ("http://127.0.0.1:PORT") of a URL, or null when it does not parse. */
export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** May the window navigate to `url`? Only within the app's own server (same origin). */
export function isNavigationAllowed(url: string, appOrigin: string): boolean {
  const origin = originOf(url);
  return origin !== null && origin !== "null" && origin === appOrigin;
}

/**
 * What to do with a link the page tries to open in a new window (or navigate away to): the URL
 * to hand to the system browser — only http(s), re-serialised after parsing — or null to drop it.
 * Links to the app itself are dropped too (the app is a single window).
 */
export function externalUrlToOpen(url: string, appOrigin: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  if (parsed.origin === appOrigin) return null;
  if (parsed.username || parsed.password) return null;
  return parsed.href;
}

/**
 * Is an IPC message from a trusted sender? It must come from the app window's own web contents,
 * from its main frame, and that frame must show a page of the app's server.
 */
export function isTrustedSender(
  sender: { webContentsId: number; frameUrl: string | null; isMainFrame: boolean },
  windowWebContentsId: number | null,
  appOrigin: string,
): boolean {
  if (windowWebContentsId === null || sender.webContentsId !== windowWebContentsId) return false;
  if (!sender.isMainFrame || sender.frameUrl === null) return false;
  return isNavigationAllowed(sender.frameUrl, appOrigin);
}

/** Permissions the page may get (none: notebooks need no camera, geolocation, notifications…). */
export function isPermissionAllowed(_permission: string): boolean {
  return false;
}

/** The file a `.tsnb`/`.md` path on the command line names, if any (skipping Electron's own flags). */
export function notebookArgument(argv: readonly string[]): string | null {
  for (const a of argv.slice(1)) {
    if (a.startsWith("-")) continue;
    if (/\.(tsnb|md)$/i.test(a)) return a;
  }
  return null;
}

/** Keep a recent-files list: newest first, no duplicates, at most `max` entries. */
export function pushRecent(list: readonly string[], file: string, max = 10): string[] {
  return [file, ...list.filter((f) => f !== file)].slice(0, max);
}
