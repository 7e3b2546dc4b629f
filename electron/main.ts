/**
 * The Electron main process: a thin shell over the same server and renderer that `tsnb serve`
 * uses (DESIGN.md §1). It starts the server in-process on 127.0.0.1 with a random token, opens
 * one window on it, adds menus and native dialogs, and opens a `.tsnb` named on the command line.
 *
 * Security (electron/policy.ts holds the decisions, unit-tested): context isolation, sandbox,
 * no Node integration; navigation only within the app's server, `window.open` denied (http/https
 * links go to the system browser after parsing); permissions denied; IPC messages accepted only
 * from the app window's main frame showing the app.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  shell,
  session,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
} from "electron";
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve, basename } from "node:path";
import { startServer, type RunningServer } from "../server/server.ts";
import { IPC, type InvokeChannel, type InvokeChannels, type MenuCommand } from "./ipc.ts";
import {
  externalUrlToOpen,
  isNavigationAllowed,
  isPermissionAllowed,
  isTrustedSender,
  notebookArgument,
  originOf,
  pushRecent,
  windowOptions,
} from "./policy.ts";

let server: RunningServer | null = null;
let win: BrowserWindow | null = null;
let appOrigin = "";

const recentPath = () => join(app.getPath("userData"), "recent.json");

function readRecent(): string[] {
  try {
    const v: unknown = JSON.parse(readFileSync(recentPath(), "utf8"));
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function noteRecent(file: string): void {
  const list = pushRecent(readRecent(), file);
  mkdirSync(dirname(recentPath()), { recursive: true });
  writeFileSync(recentPath(), JSON.stringify(list));
  app.addRecentDocument(file);
  buildMenu();
}

function send(cmd: MenuCommand): void {
  win?.webContents.send(IPC.menuCommand, cmd);
}

async function openFile(file: string): Promise<string> {
  if (!server) throw new Error("the server is not running");
  const sessionId = await server.openFile(resolve(file));
  noteRecent(resolve(file));
  return sessionId;
}

async function openWithDialog(): Promise<string | null> {
  if (!win) return null;
  const r = await dialog.showOpenDialog(win, {
    title: "Open notebook",
    properties: ["openFile"],
    filters: [{ name: "Notebooks", extensions: ["tsnb", "md"] }],
  });
  const file = r.canceled ? undefined : r.filePaths[0];
  return file ? openFile(file) : null;
}

async function saveAsWithDialog(sessionId: string, suggestedName: string): Promise<string | null> {
  if (!win || !server) return null;
  const r = await dialog.showSaveDialog(win, {
    title: "Save notebook as",
    defaultPath: join(server.root, basename(suggestedName || "notebook.tsnb")),
    filters: [{ name: "Notebooks", extensions: ["tsnb"] }],
  });
  if (r.canceled || !r.filePath) return null;
  const file = /\.(tsnb|md)$/i.test(r.filePath) ? r.filePath : `${r.filePath}.tsnb`;
  await server.saveAs(sessionId, file);
  noteRecent(file);
  return file;
}

/** Register an invoke handler that drops calls from anything but the app window's own page. */
function handle<C extends InvokeChannel>(
  channel: C,
  fn: (
    ...args: InvokeChannels[C]["args"]
  ) => Promise<InvokeChannels[C]["result"]> | InvokeChannels[C]["result"],
): void {
  ipcMain.handle(channel, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
    const frame = event.senderFrame;
    const trusted = isTrustedSender(
      {
        webContentsId: event.sender.id,
        frameUrl: frame?.url ?? null,
        isMainFrame: frame !== null && frame === event.sender.mainFrame,
      },
      win?.webContents.id ?? null,
      appOrigin,
    );
    if (!trusted) throw new Error(`IPC ${channel} refused: untrusted sender`);
    if (!args.every((a) => typeof a === "string")) throw new Error(`IPC ${channel}: bad arguments`);
    return fn(...(args as InvokeChannels[C]["args"]));
  });
}

function buildMenu(): void {
  const isMac = process.platform === "darwin";
  const recent = readRecent();
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: "appMenu" as const }] : []),
    {
      label: "File",
      submenu: [
        { label: "New", accelerator: "CmdOrCtrl+N", click: () => send({ type: "new" }) },
        {
          label: "Open…",
          accelerator: "CmdOrCtrl+O",
          click: () =>
            void openWithDialog().then(
              (sessionId) => sessionId && send({ type: "open-session", sessionId }),
              showError,
            ),
        },
        {
          label: "Open Recent",
          submenu:
            recent.length === 0
              ? [{ label: "No recent notebooks", enabled: false }]
              : recent.map((file) => ({
                  label: file,
                  click: () =>
                    void openFile(file).then(
                      (sessionId) => send({ type: "open-session", sessionId }),
                      showError,
                    ),
                })),
        },
        { type: "separator" },
        { label: "Save", accelerator: "CmdOrCtrl+S", click: () => send({ type: "save" }) },
        {
          label: "Save As…",
          accelerator: "CmdOrCtrl+Shift+S",
          click: () => send({ type: "save-as" }),
        },
        { type: "separator" },
        isMac ? { role: "close" } : { role: "quit" },
      ],
    },
    { role: "editMenu" },
    {
      label: "Notebook",
      submenu: [
        {
          label: "Run All",
          accelerator: "CmdOrCtrl+Shift+Enter",
          click: () => send({ type: "run-all" }),
        },
        { label: "Interrupt", click: () => send({ type: "interrupt" }) },
        { label: "Restart Kernel", click: () => send({ type: "restart-kernel" }) },
      ],
    },
    { role: "viewMenu" },
    { role: "windowMenu" },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function showError(err: unknown): void {
  dialog.showErrorBox("tsnb", err instanceof Error ? err.message : String(err));
}

async function createWindow(sessionId: string | null): Promise<void> {
  if (!server) return;
  win = new BrowserWindow(windowOptions(join(__dirname, "preload.cjs")));
  const contents = win.webContents;
  contents.setWindowOpenHandler(({ url }) => {
    const external = externalUrlToOpen(url, appOrigin);
    if (external) void shell.openExternal(external);
    return { action: "deny" };
  });
  contents.on("will-navigate", (event, url) => {
    if (isNavigationAllowed(url, appOrigin)) return;
    event.preventDefault();
    const external = externalUrlToOpen(url, appOrigin);
    if (external) void shell.openExternal(external);
  });
  contents.on("will-redirect", (event, url) => {
    if (!isNavigationAllowed(url, appOrigin)) event.preventDefault();
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
  win.once("ready-to-show", () => win?.show());
  win.on("closed", () => {
    win = null;
  });
  const url = sessionId ? `${server.url}#session=${encodeURIComponent(sessionId)}` : server.url;
  await win.loadURL(url);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) =>
    callback(isPermissionAllowed(permission)),
  );
  session.defaultSession.setPermissionCheckHandler((_wc, permission) =>
    isPermissionAllowed(permission),
  );
  const fileArg = notebookArgument(process.argv);
  // A folder on the command line (`npm start -- DIR`) is served like `tsnb serve DIR`.
  const dirArg = process.argv
    .slice(2)
    .find((a) => !a.startsWith("-") && existsSync(a) && statSync(a).isDirectory());
  const root =
    process.env["TSNB_ROOT"] ??
    (dirArg ? resolve(dirArg) : fileArg ? dirname(resolve(fileArg)) : process.cwd());
  server = await startServer({ root, port: 0 });
  appOrigin = originOf(server.url) ?? "";
  handle(IPC.saveAsDialog, (sessionId, name) => saveAsWithDialog(sessionId, name));
  handle(IPC.openDialog, () => openWithDialog());
  handle(IPC.recentFiles, () => readRecent());
  handle(IPC.openRecent, (file) => openFile(file));
  buildMenu();
  const sessionId = fileArg
    ? await openFile(fileArg).catch((e: unknown) => (showError(e), null))
    : null;
  await createWindow(sessionId);
  app.on("second-instance", (_e, argv) => {
    const file = notebookArgument(argv);
    if (file)
      void openFile(file).then((id) => send({ type: "open-session", sessionId: id }), showError);
    win?.focus();
  });
  app.on("activate", () => {
    if (!win) void createWindow(null);
  });
  app.on("window-all-closed", () => {
    if (process.platform !== "darwin") app.quit();
  });
  let closing = false;
  app.on("before-quit", (event) => {
    if (closing || !server) return;
    event.preventDefault();
    closing = true;
    void server.close().finally(() => app.quit());
  });
}

main().catch((err: unknown) => {
  console.error(err);
  app.exit(1);
});
