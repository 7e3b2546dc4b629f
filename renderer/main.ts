/**
 * The renderer's entry point: connects to the server, shows the file browser or the open
 * notebook, and keeps the window's copy of the session data.
 *
 * Owns: the window's `SessionData` copy. It changes only by `joined` snapshots and by applying
 * `applied` operations, in order, with the same reducer as the server (`applyOperation`); a gap
 * in revisions or a refused op triggers a resynchronising `join`. The URL hash (#session=ID)
 * names the open session so a reload or reconnect comes back to it; `#open=PATH` (relative to
 * the served folder) opens that notebook on arrival.
 * Also: the desktop bridge (electron/preload.ts) when present — native dialogs and menu commands.
 */
import type { FileEntry, ServerMessage } from "../core/app-protocol.ts";
import { applyOperation, type SessionData } from "../core/session/data.ts";
import { applyOutputUpdate } from "../core/session/output-updates.ts";
import type { ClientOperationInput } from "../core/session/operations.ts";
import type { DesktopApi, MenuCommand } from "../electron/ipc.ts";
import { Connection, type ConnectionState } from "./connection.ts";
import { button, h } from "./dom.ts";
import { askText, confirmDialog } from "./dialog.ts";
import { FileBrowser } from "./file-browser.ts";
import { SessionsView, type SessionsHost } from "./sessions-view.ts";
import { LearnSection } from "./learn.ts";
import { NotebookView } from "./notebook-view.ts";
import { userColor, userName } from "./user-profile.ts";
import { initTheme } from "./theme.ts";
import "./styles.css";

initTheme();

declare global {
  interface Window {
    /** Present in the desktop app (electron/preload.ts). */
    tsnbDesktop?: DesktopApi;
    /** For tests and benchmarks: the window's session data and connection state. */
    __tsnb?: { data(): SessionData | null; state(): ConnectionState; clientId(): string | null };
  }
}

class App {
  private readonly conn: Connection;
  private readonly root: HTMLElement;
  private readonly toastEl: HTMLElement;
  private readonly connEl: HTMLElement;
  private data: SessionData | null = null;
  private sessionId: string | null = null;
  private view: NotebookView | null = null;
  private browser: FileBrowser | null = null;
  private state: ConnectionState = "connecting";

  constructor() {
    this.root = h("div", { class: "app" });
    this.toastEl = h("div", { class: "toasts", "aria-live": "assertive" });
    this.connEl = h("div", { class: "conn-banner", hidden: true, role: "status" });
    document.body.append(this.connEl, this.root, this.toastEl);
    this.conn = new Connection(
      (m) => this.onMessage(m),
      (s) => this.onConnState(s),
    );
    const fromHash = /session=([^&]+)/.exec(location.hash)?.[1];
    if (fromHash) this.conn.sessionId = decodeURIComponent(fromHash);
    window.__tsnb = {
      data: () => this.data,
      state: () => this.state,
      clientId: () => this.conn.clientId,
    };
    // Ctrl/Cmd+S never opens the browser's "save page"; with the focus outside the notebook
    // (the header, nothing focused) it still saves the open notebook, as the notebook's own
    // shortcut does inside it (which marks the event handled).
    window.addEventListener("keydown", (ev) => {
      if (!((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === "s")) return;
      if (!ev.defaultPrevented && !ev.shiftKey) this.view?.save();
      ev.preventDefault();
    });
    window.tsnbDesktop?.onMenuCommand((cmd) => this.onMenu(cmd));
    this.conn.connect();
  }

  private onConnState(s: ConnectionState): void {
    this.state = s;
    document.body.dataset["connection"] = s;
    this.connEl.hidden = s === "open";
    this.connEl.textContent =
      s === "closed" ? "Disconnected from the server — reconnecting…" : "Connecting…";
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case "welcome":
        if (!this.conn.sessionId) {
          this.showBrowser(m.rootName);
          this.browser?.setSessions(m.sessions, m.recovered);
          // `#open=PATH` (the URL `tsnb serve FILE.tsnb` prints): open that notebook once.
          const toOpen = /(?:^#|&)open=([^&]+)/.exec(location.hash)?.[1];
          if (toOpen) {
            history.replaceState(null, "", location.pathname + location.search);
            void this.conn
              .request({ type: "open-file", path: decodeURIComponent(toOpen) })
              .catch((e: Error) => this.toast(e.message, "error"));
          }
        }
        this.rootName = m.rootName;
        break;
      case "joined":
        this.sessionId = m.sessionId;
        this.conn.sessionId = m.sessionId;
        history.replaceState(null, "", `#session=${encodeURIComponent(m.sessionId)}`);
        this.data = m.snapshot;
        // A rejoin (resynchronising, reconnecting) keeps the view: typing not yet acknowledged
        // is rebased on the snapshot and sent again (renderer/collab.ts).
        if (this.view && this.viewSession === m.sessionId) this.view.update(this.data, null);
        else this.showNotebook();
        break;
      case "applied": {
        if (m.sessionId !== this.sessionId || !this.data) return;
        if (m.revision !== this.data.revision + 1) return this.resync();
        const r = applyOperation(this.data, m.op);
        if (!r.ok) return this.resync();
        this.data = r.data;
        if (this.data.revision !== m.revision) this.data = { ...this.data, revision: m.revision };
        this.view?.update(this.data, m.op);
        break;
      }
      case "table-page": {
        // A page asked with a requestId is for "Download CSV", not to be shown.
        if (m.sessionId !== this.sessionId || !this.data || m.requestId !== undefined) return;
        const cells = { ...this.data.cells };
        for (const [id, s] of Object.entries(cells)) {
          const r = applyOutputUpdate(s.outputs, {
            type: "table-page",
            id: m.tableId,
            offset: m.offset,
            rows: m.rows,
            ...(m.sort ? { sort: m.sort } : {}),
          });
          if (r.found) cells[id] = { ...s, outputs: r.outputs };
        }
        this.data = { ...this.data, cells };
        this.view?.update(this.data, null);
        break;
      }
      case "session-closed":
        if (m.sessionId === this.sessionId) this.leaveToBrowser();
        break;
      case "error":
        if (m.code === "unknown-session" && this.conn.sessionId) {
          this.conn.sessionId = null;
          history.replaceState(null, "", location.pathname + location.search);
          this.leaveToBrowser();
        }
        // Typing the server could not place (made on a revision it no longer remembers): join
        // again; the snapshot tells what arrived and the rest is sent again, rebased.
        if (m.code === "invalid-operation" && /: join again$/.test(m.message)) {
          this.resync();
          break;
        }
        if (m.requestId === undefined || m.code === "invalid-operation")
          this.toast(m.message, "error");
        break;
      case "cursor":
        if (m.sessionId === this.sessionId) this.view?.remoteCursor(m);
        break;
      case "file-list":
      case "sessions":
      case "settings":
      case "runtimes":
      case "models":
      case "lessons":
      case "done":
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  private rootName = "";
  /** The session the notebook view shows. */
  private viewSession: string | null = null;

  /** What the running-sessions views (start page, sidebar) ask of the server. */
  readonly sessionsHost: SessionsHost = {
    listSessions: async () => {
      const r = await this.conn.request({ type: "list-sessions" });
      return r.type === "sessions" ? r.sessions : [];
    },
    open: (sessionId) => {
      if (sessionId === this.sessionId) return;
      void this.conn
        .request({ type: "join", sessionId })
        .catch((e: Error) => this.toast(e.message, "error"));
    },
    shutdownKernel: async (sessionId) => {
      await this.conn
        .request({ type: "shutdown-kernel", sessionId })
        .catch((e: Error) => this.toast(e.message, "error"));
    },
    close: async (sessionId) => {
      await this.conn
        .request({ type: "close-session", sessionId })
        .catch((e: Error) => this.toast(e.message, "error"));
    },
    getSettings: async () => {
      const r = await this.conn.request({ type: "get-settings" });
      if (r.type !== "settings") throw new Error("no settings");
      return r.settings;
    },
    setSettings: async (settings) => {
      const r = await this.conn.request({ type: "set-settings", settings });
      if (r.type !== "settings") throw new Error("no settings");
      return r.settings;
    },
    currentSessionId: () => this.sessionId,
  };

  private resync(): void {
    if (this.sessionId) this.conn.send({ type: "join", sessionId: this.sessionId });
  }

  private showBrowser(rootName: string): void {
    this.view?.dispose();
    this.view = null;
    const sessionsView = new SessionsView(this.sessionsHost);
    this.browser = new FileBrowser(
      {
        listFiles: async (path) => {
          const r = await this.conn.request({ type: "list-files", path });
          return r.type === "file-list" ? r.entries : ([] as FileEntry[]);
        },
        openFile: (path) =>
          void this.conn
            .request({ type: "open-file", path })
            .catch((e: Error) => this.toast(e.message, "error")),
        newNotebook: () => this.newNotebook(),
        joinSession: (sessionId) =>
          void this.conn
            .request({ type: "join", sessionId })
            .catch((e: Error) => this.toast(e.message, "error")),
        openRecovered: (id) =>
          void this.conn
            .request({ type: "open-recovered", id })
            .catch((e: Error) => this.toast(e.message, "error")),
      },
      rootName,
      sessionsView,
    );
    const learn = new LearnSection({
      listLessons: async () => {
        const r = await this.conn.request({ type: "list-lessons" });
        return r.type === "lessons" ? r.lessons : [];
      },
      openLesson: (file) =>
        void this.conn
          .request({ type: "open-lesson", file })
          .catch((e: Error) => this.toast(e.message, "error")),
    });
    this.browser.learnSlot.replaceChildren(learn.element);
    void learn.load();
    this.root.replaceChildren(this.browser.element);
    sessionsView.start();
    document.title = "tsnb";
    void this.browser.show("");
    void this.conn
      .request({ type: "list-sessions" })
      .then((r) => {
        if (r.type === "sessions") this.browser?.setSessions(r.sessions, r.recovered);
      })
      .catch(() => undefined);
  }

  private leaveToBrowser(): void {
    if (this.sessionId) this.conn.send({ type: "leave", sessionId: this.sessionId });
    this.sessionId = null;
    this.conn.sessionId = null;
    this.data = null;
    history.replaceState(null, "", location.pathname + location.search);
    this.showBrowser(this.rootName);
  }

  private newNotebook(): void {
    void this.conn
      .request({ type: "new-notebook" })
      .catch((e: Error) => this.toast(e.message, "error"));
  }

  private showNotebook(): void {
    if (!this.data) return;
    this.browser = null;
    this.view?.dispose();
    this.viewSession = this.sessionId;
    this.view = new NotebookView(this.data, {
      send: (op) => this.send(op),
      save: () => this.save(),
      requestTablePage: (tableId, offset, limit, sort) => {
        if (this.sessionId)
          this.conn.send({
            type: "table-page",
            sessionId: this.sessionId,
            tableId,
            offset,
            limit,
            ...(sort ? { sort } : {}),
          });
      },
      fetchTablePage: async (tableId, offset, limit, sort) => {
        if (!this.sessionId) return [];
        const r = await this.conn.request({
          type: "table-page",
          sessionId: this.sessionId,
          tableId,
          offset,
          limit,
          ...(sort ? { sort } : {}),
        });
        return r.type === "table-page" ? r.rows : [];
      },
      showFiles: () => this.leaveToBrowser(),
      sessionsView: new SessionsView(this.sessionsHost, { compact: true }),
      listFiles: async (path) => {
        const r = await this.conn.request({ type: "list-files", path });
        return r.type === "file-list" ? r.entries : ([] as FileEntry[]);
      },
      openFile: (path) =>
        void this.conn
          .request({ type: "open-file", path })
          .catch((e: Error) => this.toast(e.message, "error")),
      listModels: async () => {
        if (!this.sessionId) return [];
        const r = await this.conn.request({ type: "list-models", sessionId: this.sessionId });
        return r.type === "models" ? r.files : [];
      },
      clientId: () => this.conn.clientId ?? "",
      sendCursor: (cellId, anchor, head, revision) => {
        const name = userName();
        const color = userColor();
        if (this.sessionId)
          this.conn.send({
            type: "cursor",
            sessionId: this.sessionId,
            cellId,
            anchor,
            head,
            revision,
            ...(name !== null ? { name } : {}),
            ...(color !== null ? { color } : {}),
          });
      },
      resolveConflict: (choice) => {
        if (this.sessionId)
          void this.conn
            .request({ type: "resolve-conflict", sessionId: this.sessionId, choice })
            .catch((e: Error) => this.toast(e.message, "error"));
      },
      runtimes: {
        request: (msg) => this.conn.request(msg),
        sessionId: () => this.sessionId,
      },
    });
    this.root.replaceChildren(this.view.element);
  }

  /** Run `fn` once the typing of this window has been sent (now when there is none). */
  private afterTyping(fn: () => void): void {
    if (this.view) this.view.flush(undefined, fn);
    else fn();
  }

  private send(op: ClientOperationInput): void {
    if (!this.sessionId) return;
    this.conn.send({
      type: "apply",
      sessionId: this.sessionId,
      op: op as unknown as Record<string, unknown>,
    });
  }

  private async save(): Promise<void> {
    if (!this.sessionId) return;
    if (!this.data?.path) return this.saveAs();
    try {
      await this.conn.request({ type: "save", sessionId: this.sessionId });
      this.toast("Saved", "info");
    } catch (err) {
      if ((err as { code?: string }).code === "no-path") return this.saveAs();
      this.toast(`Save failed: ${(err as Error).message}`, "error");
    }
  }

  private async saveAs(): Promise<void> {
    if (!this.sessionId || !this.data) return;
    const suggested = this.data.path ?? `${slug(this.data.notebook.title)}.tsnb`;
    if (window.tsnbDesktop) {
      try {
        const saved = await window.tsnbDesktop.saveAsDialog(
          this.sessionId,
          suggested.split("/").pop() ?? suggested,
        );
        if (saved) this.toast(`Saved as ${saved}`, "info");
      } catch (err) {
        this.toast(`Save failed: ${(err as Error).message}`, "error");
      }
      return;
    }
    let path = await askText("Save notebook as", "Path (relative to the served folder)", suggested);
    if (!path) return;
    if (!/\.(tsnb|md)$/.test(path)) path += ".tsnb";
    try {
      await this.conn.request({ type: "save-as", sessionId: this.sessionId, path });
      this.toast(`Saved as ${path}`, "info");
    } catch (err) {
      if ((err as { code?: string }).code === "exists") {
        if (await confirmDialog(`${path} exists. Replace it?`, "Replace")) {
          await this.conn
            .request({ type: "save-as", sessionId: this.sessionId, path, overwrite: true })
            .catch((e: Error) => this.toast(e.message, "error"));
        }
        return;
      }
      this.toast(`Save failed: ${(err as Error).message}`, "error");
    }
  }

  private async onMenu(cmd: MenuCommand): Promise<void> {
    switch (cmd.type) {
      case "new":
        return this.newNotebook();
      case "open-session":
        return void this.conn
          .request({ type: "join", sessionId: cmd.sessionId })
          .catch((e: Error) => this.toast(e.message, "error"));
      case "save":
        return this.afterTyping(() => void this.save());
      case "save-as":
        return this.afterTyping(() => void this.saveAs());
      case "run-all":
        return this.afterTyping(() => this.send({ type: "evaluate-all" }));
      case "interrupt":
        return this.send({ type: "interrupt" });
      case "restart-kernel":
        return this.view?.restartKernel();
      default: {
        const never: never = cmd;
        void never;
      }
    }
  }

  toast(text: string, kind: "info" | "error"): void {
    const t = h(
      "div",
      { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" },
      text,
    );
    this.toastEl.append(t);
    window.setTimeout(() => t.remove(), kind === "error" ? 6000 : 2000);
  }
}

function slug(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "notebook"
  );
}

new App();
