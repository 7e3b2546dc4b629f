/**
 * The start page: a file browser rooted at the served folder (folders and notebooks, with
 * breadcrumbs), the notebooks already open in this server, notebooks recovered from the app data
 * folder, and "New notebook". It only lists what the server returns; every path it shows is
 * relative to the served folder, and the server refuses anything outside it.
 */
import type { FileEntry, RecoveredNotebook, SessionSummary } from "../core/app-protocol.ts";
import { button, h } from "./dom.ts";
import type { SessionsView } from "./sessions-view.ts";

export interface FileBrowserHost {
  listFiles(path: string): Promise<FileEntry[]>;
  openFile(path: string): void;
  newNotebook(): void;
  joinSession(sessionId: string): void;
  openRecovered(id: string): void;
}

export class FileBrowser {
  readonly element: HTMLElement;
  private readonly listEl: HTMLElement;
  private readonly crumbsEl: HTMLElement;
  private readonly sessionsEl: HTMLElement;
  private readonly errorEl: HTMLElement;
  /** Where the start page's Learn section goes (filled by renderer/learn.ts). */
  readonly learnSlot: HTMLElement;
  private path = "";

  constructor(
    private readonly host: FileBrowserHost,
    rootName: string,
    /** The running-sessions view (with kernel status, memory, shut down, close). */
    private readonly sessionsView?: SessionsView,
  ) {
    this.crumbsEl = h("nav", { class: "crumbs", "aria-label": "Folder" });
    this.listEl = h("ul", { class: "file-list", role: "list", "aria-label": "Files" });
    this.sessionsEl = h("div", { class: "open-sessions" });
    this.errorEl = h("div", { class: "error-banner", role: "alert", hidden: true });
    this.learnSlot = h("div", { class: "learn-slot" });
    this.element = h(
      "main",
      { class: "file-browser", "aria-label": "File browser" },
      h(
        "div",
        { class: "fb-head" },
        h(
          "div",
          { class: "brand" },
          h("span", { class: "logo", "aria-hidden": "true" }, "◆"),
          " tsnb",
        ),
        h("span", { class: "spacer" }),
        button("New notebook", () => host.newNotebook(), { icon: "+", text: true, cls: "primary" }),
      ),
      this.sessionsView?.element,
      this.sessionsEl,
      this.learnSlot,
      h("h2", { class: "fb-title" }, "Notebooks in ", h("span", { class: "root-name" }, rootName)),
      this.crumbsEl,
      this.errorEl,
      this.listEl,
    );
  }

  setSessions(sessions: SessionSummary[], recovered: RecoveredNotebook[]): void {
    this.sessionsView?.render(sessions);
    this.sessionsEl.replaceChildren(
      ...(this.sessionsView
        ? []
        : linkList(
            "Open notebooks",
            sessions.map((s) => ({
              title: s.title,
              detail: `${s.path ?? "unsaved"}${s.dirty ? " · unsaved changes" : ""}`,
              open: () => this.host.joinSession(s.sessionId),
            })),
          )),
      ...linkList(
        "Recovered unsaved notebooks",
        recovered.map((r) => ({
          title: r.title,
          detail: `recovered, saved ${new Date(r.savedAt).toLocaleString()}`,
          open: () => this.host.openRecovered(r.id),
        })),
      ),
    );
  }

  async show(path: string): Promise<void> {
    this.path = path;
    this.renderCrumbs();
    let entries: FileEntry[];
    try {
      entries = await this.host.listFiles(path);
      this.errorEl.hidden = true;
    } catch (err) {
      this.errorEl.hidden = false;
      this.errorEl.textContent = `Cannot list ${path || "the folder"}: ${(err as Error).message}`;
      return;
    }
    this.listEl.replaceChildren();
    const sorted = entries
      .filter((e) => e.kind !== "file")
      .sort((a, b) =>
        a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "directory" ? -1 : 1,
      );
    if (sorted.length === 0)
      this.listEl.append(h("li", { class: "muted empty" }, "No notebooks here yet."));
    for (const e of sorted) {
      const isDir = e.kind === "directory";
      const link = h(
        "a",
        { href: "#", class: `file-entry kind-${e.kind}` },
        icon(isDir ? "folder" : "notebook"),
        h("span", { class: "file-name" }, e.name),
      );
      link.addEventListener("click", (ev) => {
        ev.preventDefault();
        if (isDir) void this.show(e.path);
        else this.host.openFile(e.path);
      });
      const meta = isDir ? "" : `${new Date(e.mtimeMs).toLocaleString()} · ${formatSize(e.size)}`;
      this.listEl.append(h("li", {}, link, h("span", { class: "file-meta muted" }, meta)));
    }
  }

  private renderCrumbs(): void {
    this.crumbsEl.replaceChildren();
    const parts = this.path ? this.path.split("/") : [];
    const root = h("a", { href: "#" }, "/");
    root.addEventListener("click", (ev) => {
      ev.preventDefault();
      void this.show("");
    });
    this.crumbsEl.append(root);
    parts.forEach((p, i) => {
      const target = parts.slice(0, i + 1).join("/");
      const a = h("a", { href: "#" }, p);
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        void this.show(target);
      });
      this.crumbsEl.append(h("span", { class: "sep" }, " / "), a);
    });
  }
}

const ICONS = {
  folder:
    "M2 4.5A1.5 1.5 0 0 1 3.5 3h3l1.5 1.5h4.5A1.5 1.5 0 0 1 14 6v5.5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 11.5z",
  notebook: "M4 2h6.5L13 4.5V14H4zM10 2v3h3M6 8h5M6 10.5h5",
};

/** A small outline icon (inline SVG: no icon font, nothing fetched). */
function icon(kind: keyof typeof ICONS): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", `file-icon icon-${kind}`);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[kind]);
  svg.append(path);
  return svg;
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A heading and a list of link-buttons with a muted detail each; nothing when `items` is empty. */
function linkList(
  title: string,
  items: Array<{ title: string; detail: string; open: () => void }>,
): HTMLElement[] {
  if (items.length === 0) return [];
  const ul = h("ul", { class: "session-list" });
  for (const item of items) {
    ul.append(
      h(
        "li",
        {},
        button(item.title, item.open, { text: true, cls: "link" }),
        h("span", { class: "muted" }, ` ${item.detail}`),
      ),
    );
  }
  return [h("h2", { class: "fb-title" }, title), ul];
}
