/**
 * The running-sessions view (Livebook's "Running sessions", JupyterLab's "Running" panel): every
 * notebook open on this server with its kernel's status and memory, who has it open, when an
 * idle kernel will be shut down; Open, Shut down kernel, Close. And the setting "shut down the
 * kernel of a notebook nobody has open after …".
 *
 * Shown on the start page and in the notebook's sidebar. It polls `list-sessions` while it is in
 * the document (memory changes without any operation), and only shows what the server returns.
 */
import type { ServerSettings, SessionSummary } from "../core/app-protocol.ts";
import { confirmDialog } from "./dialog.ts";
import { button, h } from "./dom.ts";

export interface SessionsHost {
  listSessions(): Promise<SessionSummary[]>;
  open(sessionId: string): void;
  shutdownKernel(sessionId: string): Promise<void>;
  close(sessionId: string): Promise<void>;
  getSettings(): Promise<ServerSettings>;
  setSettings(settings: Partial<ServerSettings>): Promise<ServerSettings>;
  /** The session shown in this window (marked "this notebook"), if any. */
  currentSessionId(): string | null;
}

/** Choices of the idle timeout, in minutes (null: never). */
const IDLE_CHOICES: Array<{ label: string; minutes: number | null }> = [
  { label: "5 minutes", minutes: 5 },
  { label: "15 minutes", minutes: 15 },
  { label: "30 minutes", minutes: 30 },
  { label: "1 hour", minutes: 60 },
  { label: "2 hours", minutes: 120 },
  { label: "8 hours", minutes: 480 },
  { label: "1 day", minutes: 1440 },
  { label: "never", minutes: null },
];

const POLL_MS = 3000;

const KERNEL_TEXT: Record<SessionSummary["kernel"], string> = {
  "not-started": "no kernel",
  starting: "starting",
  idle: "idle",
  busy: "busy",
  dead: "dead",
};

export class SessionsView {
  readonly element: HTMLElement;
  private readonly listEl: HTMLElement;
  private readonly totalEl: HTMLElement;
  private readonly idleSelect: HTMLSelectElement;
  private timer: number | null = null;
  private sessions: SessionSummary[] = [];

  constructor(
    private readonly host: SessionsHost,
    private readonly opts: { compact?: boolean } = {},
  ) {
    this.listEl = h("ul", { class: "sessions-list", "aria-label": "Running sessions" });
    this.totalEl = h("span", { class: "sessions-total muted" });
    this.idleSelect = h("select", {
      class: "idle-select",
      "aria-label": "Shut down kernels of notebooks nobody has open after",
    });
    for (const c of IDLE_CHOICES)
      this.idleSelect.append(h("option", { value: String(c.minutes ?? "never") }, c.label));
    this.idleSelect.addEventListener("change", () => {
      const v = this.idleSelect.value;
      void this.host
        .setSettings({ idleShutdownMinutes: v === "never" ? null : Number(v) })
        .then((s) => this.showSettings(s))
        .then(() => this.refresh());
    });
    this.element = h(
      "section",
      { class: `sessions-view${opts.compact ? " compact" : ""}`, "aria-label": "Running sessions" },
      h("h2", { class: "fb-title" }, "Running sessions ", this.totalEl),
      this.listEl,
      h(
        "label",
        { class: "idle-setting muted" },
        h("span", {}, "Shut down the kernel of a notebook nobody has open after "),
        this.idleSelect,
      ),
    );
    void this.host
      .getSettings()
      .then((s) => this.showSettings(s))
      .catch(() => undefined);
  }

  private showSettings(s: ServerSettings): void {
    const v = String(s.idleShutdownMinutes ?? "never");
    if (![...this.idleSelect.options].some((o) => o.value === v)) {
      // A value set elsewhere (another window, the settings file): shown as it is.
      this.idleSelect.append(h("option", { value: v }, `${s.idleShutdownMinutes} minutes`));
    }
    this.idleSelect.value = v;
  }

  /** Start polling (call when shown). */
  start(): void {
    if (this.timer !== null) return;
    void this.refresh();
    this.timer = window.setInterval(() => {
      if (!this.element.isConnected) return this.stop();
      if (!document.hidden) void this.refresh();
    }, POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  async refresh(): Promise<void> {
    try {
      this.render(await this.host.listSessions());
    } catch {
      // disconnected: the next poll tries again
    }
  }

  /** Show a list the app already has (the welcome's, the start page's). */
  render(sessions: SessionSummary[]): void {
    this.sessions = sessions;
    this.element.hidden = sessions.length === 0 && !this.opts.compact;
    const total = sessions.reduce((n, s) => n + (s.memoryBytes ?? 0), 0);
    const live = sessions.filter((s) => s.memoryBytes !== null).length;
    this.totalEl.textContent =
      sessions.length === 0
        ? ""
        : `${sessions.length} open · ${live} kernel${live === 1 ? "" : "s"}${total > 0 ? ` · ${formatBytes(total)}` : ""}`;
    if (sessions.length === 0) {
      this.listEl.replaceChildren(h("li", { class: "muted empty" }, "No notebook is open."));
      return;
    }
    const current = this.host.currentSessionId();
    this.listEl.replaceChildren(...sessions.map((s) => this.row(s, s.sessionId === current)));
  }

  private row(s: SessionSummary, current: boolean): HTMLElement {
    const live = s.kernel === "idle" || s.kernel === "busy" || s.kernel === "starting";
    const details: string[] = [s.path ?? "unsaved"];
    if (s.dirty) details.push("unsaved changes");
    details.push(
      current
        ? "this window"
        : s.clients === 0
          ? "no window open"
          : `${s.clients} window${s.clients === 1 ? "" : "s"}`,
    );
    if (s.idleShutdownAt !== null && live)
      details.push(`kernel stops ${relativeTime(s.idleShutdownAt - Date.now())}`);
    const title = button(s.title || "Untitled notebook", () => this.host.open(s.sessionId), {
      text: true,
      cls: "link session-open",
      title: current ? "This notebook" : `Open ${s.title}`,
    });
    const kernel = h(
      "span",
      {
        class: "session-kernel",
        "data-status": s.kernel,
        title: `Kernel: ${KERNEL_TEXT[s.kernel]}`,
      },
      h("span", { class: "dot", "aria-hidden": "true" }),
      KERNEL_TEXT[s.kernel],
      s.memoryBytes !== null
        ? h("span", { class: "session-memory" }, ` · ${formatBytes(s.memoryBytes)}`)
        : null,
    );
    const shutdown = button(
      "Shut down kernel",
      () => {
        void (async () => {
          if (
            s.kernel === "busy" &&
            !(await confirmDialog(
              `“${s.title}” is running a cell. Shut its kernel down? Its variables are lost.`,
              "Shut down",
              { title: "Shut down the kernel?", danger: true },
            ))
          )
            return;
          await this.host.shutdownKernel(s.sessionId).catch(() => undefined);
          await this.refresh();
        })();
      },
      { icon: "⊘", title: `Shut down the kernel of ${s.title} (frees its memory)`, cls: "ghost" },
    );
    shutdown.disabled = !live;
    const close = button(
      "Close notebook",
      () => {
        void (async () => {
          const others = s.clients - (current ? 1 : 0);
          const warn =
            others > 0 ? ` ${others} other window${others === 1 ? " has" : "s have"} it open.` : "";
          const saved = s.path
            ? " Its changes are saved first."
            : " It stays in “Recovered unsaved notebooks”.";
          if (
            !(await confirmDialog(
              `Close “${s.title}” and stop its kernel?${saved}${warn}`,
              "Close",
              { title: "Close the notebook?" },
            ))
          )
            return;
          await this.host.close(s.sessionId).catch(() => undefined);
          await this.refresh();
        })();
      },
      { icon: "✕", title: `Close ${s.title} (stops its kernel)`, cls: "ghost" },
    );
    return h(
      "li",
      { class: `session-row${current ? " current" : ""}`, "data-session-id": s.sessionId },
      h(
        "div",
        { class: "session-main" },
        title,
        h("span", { class: "session-detail muted" }, details.join(" · ")),
      ),
      kernel,
      h("span", { class: "session-buttons" }, shutdown, close),
    );
  }

  get list(): readonly SessionSummary[] {
    return this.sessions;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 * 1024 * 1024) return `${Math.round(n / 1024 / 1024)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

function relativeTime(ms: number): string {
  if (ms <= 0) return "now";
  const s = Math.round(ms / 1000);
  if (s < 60) return `in ${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  return `in ${Math.round(m / 6) / 10} h`;
}
