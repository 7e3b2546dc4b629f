// A stand-in for the `electron` module, preloaded with `node -r` so the bundled main process
// (dist/electron/main.cjs) can run under plain Node in tests: the real electron package is
// never loaded. It records what main does (window options, URL, IPC handlers, menus), checks the
// IPC sender validation, fetches the window's URL from the in-process server, prints one JSON
// report line on stdout and exits.
"use strict";
const Module = require("node:module");
const { EventEmitter } = require("node:events");
const { mkdtempSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const report = { windowOptions: null, url: null, handlers: [], menu: [], ipc: {}, page: null };
const handlers = new Map();
const userData = mkdtempSync(join(tmpdir(), "tsnb-fake-electron-"));
let nextId = 1;

class WebContents extends EventEmitter {
  constructor() {
    super();
    this.id = nextId++;
    this.mainFrame = { url: "" };
    this.windowOpenHandler = null;
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn;
  }
  send() {}
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    report.windowOptions = options;
    this.webContents = new WebContents();
  }
  async loadURL(url) {
    report.url = url;
    this.webContents.mainFrame.url = url;
    const res = await fetch(url, { redirect: "manual" });
    report.page = { status: res.status, setCookie: Boolean(res.headers.get("set-cookie")) };
    const wc = this.webContents;
    const trusted = { sender: wc, senderFrame: wc.mainFrame };
    const foreignFrame = { sender: wc, senderFrame: { url: "https://evil.example/" } };
    const otherWindow = { sender: { id: 999, mainFrame: { url } }, senderFrame: { url } };
    const call = async (channel, event, ...args) => {
      try {
        return { ok: true, value: await handlers.get(channel)(event, ...args) };
      } catch (e) {
        return { ok: false, error: String(e && e.message) };
      }
    };
    report.ipc.trusted = await call("tsnb:recent-files", trusted);
    report.ipc.foreignFrame = await call("tsnb:recent-files", foreignFrame);
    report.ipc.otherWindow = await call("tsnb:recent-files", otherWindow);
    report.ipc.badArgs = await call("tsnb:open-recent", trusted, { path: "/etc/passwd" });
    const nav = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    wc.emit("will-navigate", nav, "https://example.com/");
    report.navigationAwayPrevented = nav.prevented;
    const navIn = {
      prevented: false,
      preventDefault() {
        this.prevented = true;
      },
    };
    wc.emit("will-navigate", navIn, url);
    report.navigationInAppPrevented = navIn.prevented;
    report.windowOpen = wc.windowOpenHandler({ url: "javascript:alert(1)" });
    process.stdout.write(JSON.stringify(report) + "\n");
    process.exit(0);
  }
  once() {}
  show() {}
  focus() {}
}

const app = new EventEmitter();
Object.assign(app, {
  whenReady: () => Promise.resolve(),
  requestSingleInstanceLock: () => true,
  getPath: () => userData,
  addRecentDocument() {},
  quit() {},
  exit(code) {
    process.exit(code);
  },
});

const fake = {
  app,
  BrowserWindow,
  ipcMain: {
    handle(channel, fn) {
      report.handlers.push(channel);
      handlers.set(channel, fn);
    },
    on() {
      throw new Error("main must not use ipcMain.on (no sender check)");
    },
  },
  Menu: {
    buildFromTemplate(t) {
      report.menu = t
        .filter((m) => m.label)
        .map((m) => ({
          label: m.label,
          items: (m.submenu || []).map((i) => i.label).filter(Boolean),
        }));
      return {};
    },
    setApplicationMenu() {},
  },
  dialog: {
    showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    showSaveDialog: async () => ({ canceled: true }),
    showErrorBox() {},
  },
  shell: { openExternal: async () => undefined },
  session: { defaultSession: { setPermissionRequestHandler() {}, setPermissionCheckHandler() {} } },
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "electron") return "fake-electron";
  return resolve.call(this, request, ...rest);
};
require.cache["fake-electron"] = {
  id: "fake-electron",
  filename: "fake-electron",
  loaded: true,
  exports: fake,
};
