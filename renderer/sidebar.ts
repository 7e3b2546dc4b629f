/**
 * The notebook's sidebar (Livebook's side panels): an icon rail and one panel at a time —
 * Outline (the title and sections; a click scrolls to it), Files (the served folder; a click
 * opens a notebook), Sessions (every running notebook, its kernel and memory), Bin (deleted
 * cells, restorable), You (the name others see on this window's cursor, and who else is
 * editing). The open panel is remembered per browser (localStorage); the rail collapses the
 * panel when its open tab is clicked again.
 */
import { USER_NAME_MAX, type FileEntry } from "../core/app-protocol.ts";
import type { SessionData } from "../core/session/data.ts";
import { showShortcuts } from "./dialog.ts";
import { button, h, setText } from "./dom.ts";
import type { SessionsView } from "./sessions-view.ts";
import { USER_COLORS, setUserColor, setUserName, userColor, userName } from "./user-profile.ts";

export interface SidebarHost {
  scrollToSection(sectionId: string | null): void;
  listFiles(path: string): Promise<FileEntry[]>;
  openFile(path: string): void;
  restoreCell(cellId: string): void;
  /** The running-sessions view, made by the app. */
  sessionsView: SessionsView;
  /** The other windows with a cursor in this notebook (their flags' names and colours). */
  people(): Array<{ clientId: string; label: string; color: number }>;
}

type PanelName = "outline" | "files" | "sessions" | "bin" | "you";

const PANELS: Array<{ name: PanelName; label: string; icon: string }> = [
  { name: "outline", label: "Outline", icon: "☰" },
  { name: "files", label: "Files", icon: "▤" },
  { name: "sessions", label: "Running sessions", icon: "◉" },
  { name: "bin", label: "Bin", icon: "♻" },
  { name: "you", label: "You", icon: "☺" },
];

const STORAGE_KEY = "tsnb-sidebar";

export class Sidebar {
  readonly element: HTMLElement;
  private readonly panelEl: HTMLElement;
  private readonly tabs = new Map<PanelName, HTMLButtonElement>();
  private readonly binCount: HTMLElement;
  private open: PanelName | null;
  private data: SessionData;
  private filesPath = "";
  private outlineKey = "";
  private binShown: SessionData["bin"] | null = null;
  private binFilter = "";
  private peopleList: HTMLElement | null = null;

  constructor(
    data: SessionData,
    private readonly host: SidebarHost,
  ) {
    this.data = data;
    const saved = localStorage.getItem(STORAGE_KEY);
    this.open =
      saved === "none"
        ? null
        : PANELS.some((p) => p.name === saved)
          ? (saved as PanelName)
          : "outline";
    // In a narrow window the notebook gets the width: the sidebar starts collapsed to its rail
    // (not remembered: a wide window opens it as chosen).
    if (window.matchMedia?.("(max-width: 1100px)").matches) this.open = null;
    this.binCount = h("span", { class: "rail-badge", "aria-hidden": "true" });
    const rail = h("nav", { class: "sidebar-rail", "aria-label": "Side panels" });
    for (const p of PANELS) {
      const b = button(p.label, () => this.toggle(p.name), { icon: p.icon, cls: "rail-btn" });
      b.setAttribute("aria-pressed", "false");
      if (p.name === "bin") b.append(this.binCount);
      // At the rail's foot: the keyboard shortcuts (a dialog, not a panel), then You.
      if (p.name === "you")
        rail.append(
          button("Keyboard shortcuts", () => showShortcuts(), {
            icon: "⌨",
            cls: "rail-btn rail-end",
            title: "Keyboard shortcuts (?)",
          }),
        );
      this.tabs.set(p.name, b);
      rail.append(b);
    }
    this.panelEl = h("div", { class: "sidebar-panel" });
    this.element = h("aside", { class: "sidebar", "aria-label": "Sidebar" }, rail, this.panelEl);
    this.renderPanel(true);
  }

  update(data: SessionData): void {
    this.data = data;
    this.renderPanel(false);
  }

  private toggle(name: PanelName): void {
    this.open = this.open === name ? null : name;
    localStorage.setItem(STORAGE_KEY, this.open ?? "none");
    this.renderPanel(true);
  }

  private renderPanel(force: boolean): void {
    const n = this.data.bin.length;
    setText(this.binCount, n > 0 ? String(n) : "");
    this.tabs.get("bin")!.setAttribute("aria-label", n > 0 ? `Bin (${n})` : "Bin");
    for (const [name, b] of this.tabs) b.setAttribute("aria-pressed", String(name === this.open));
    this.element.classList.toggle("collapsed", this.open === null);
    if (this.open !== "sessions") this.host.sessionsView.stop();
    switch (this.open) {
      case null:
        this.panelEl.replaceChildren();
        return;
      case "outline":
        return this.renderOutline(force);
      case "files":
        if (force) void this.renderFiles(this.filesPath);
        return;
      case "sessions":
        if (force) {
          this.panel("Running sessions", this.host.sessionsView.element);
          this.host.sessionsView.start();
        }
        return;
      case "bin":
        return this.renderBin(force);
      case "you":
        if (force) this.renderYou();
        return;
    }
  }

  /** Others' cursors came, moved or left: the You panel's list follows. */
  refreshPeople(): void {
    if (this.open !== "you" || !this.peopleList) return;
    const people = this.host.people();
    const key = JSON.stringify(people);
    if (this.peopleList.dataset["key"] === key) return;
    this.peopleList.dataset["key"] = key;
    this.peopleList.replaceChildren(
      ...people.map((p) =>
        h(
          "li",
          { class: "person" },
          h("span", { class: `person-swatch remote-cursor-${p.color}`, "aria-hidden": "true" }),
          p.label,
        ),
      ),
    );
    if (people.length === 0)
      this.peopleList.append(
        h("li", { class: "muted" }, "Nobody else has a cursor in this notebook now."),
      );
  }

  private renderYou(): void {
    const field = h("input", {
      type: "text",
      class: "user-name",
      maxlength: String(USER_NAME_MAX),
      placeholder: "Window (no name)",
      autocomplete: "nickname",
      value: userName() ?? "",
    });
    const label = h("label", { class: "user-name-label" }, "Your name", field);
    const hint = h(
      "p",
      { class: "muted side-hint" },
      "Shown on your cursor to the others editing the notebook with you. Kept in this browser, never in the notebook.",
    );
    const commit = () => {
      const problem = setUserName(field.value);
      field.setCustomValidity(problem ? `The ${problem}` : "");
      if (problem) field.reportValidity();
    };
    field.addEventListener("change", commit);
    field.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") commit();
    });
    this.peopleList = h("ul", { class: "people", "aria-label": "Editing now" });
    this.panel(
      "You",
      label,
      this.colorChooser(),
      hint,
      h("h3", { class: "panel-subtitle" }, "Editing now"),
      this.peopleList,
    );
    this.refreshPeople();
  }

  /** Radio buttons for the cursor colour: automatic, or one of the page's cursor colours. */
  private colorChooser(): HTMLElement {
    const chosen = userColor();
    const option = (value: number | null) => {
      const input = h("input", {
        type: "radio",
        name: "user-color",
        class: "user-color-input",
        value: value === null ? "auto" : String(value),
        "aria-label": value === null ? "Automatic" : `Colour ${value + 1}`,
      });
      input.checked = value === chosen;
      input.addEventListener("change", () => {
        if (input.checked) setUserColor(value);
      });
      return h(
        "label",
        {
          class: `user-color${value === null ? " user-color-auto" : ` remote-cursor-${value}`}`,
          title: value === null ? "Automatic: each window gets its own" : `Colour ${value + 1}`,
        },
        input,
        value === null ? "Auto" : null,
      );
    };
    return h(
      "fieldset",
      { class: "user-colors" },
      h("legend", {}, "Your cursor colour"),
      ...Array.from({ length: USER_COLORS }, (_, i) => option(i)),
      option(null),
    );
  }

  private panel(title: string, ...body: Array<Node | null>): void {
    this.panelEl.replaceChildren(
      h("h2", { class: "panel-title" }, title),
      ...body.filter((b) => b !== null),
    );
  }

  private renderOutline(force: boolean): void {
    const nb = this.data.notebook;
    const key = JSON.stringify([nb.title, nb.sections.map((s) => [s.id, s.title, s.cells.length])]);
    if (!force && key === this.outlineKey) return;
    this.outlineKey = key;
    // Cells before the notebook's first heading are its introduction, not a section left
    // untitled; a later section without a title is one.
    const item = (label: string, id: string | null, cls: string, count?: number, first = false) => {
      const shown = label || (first ? "Introduction" : "Untitled section");
      const a = h(
        "a",
        { href: "#", class: `outline-item ${cls}${label ? "" : " untitled"}` },
        shown,
      );
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        this.host.scrollToSection(id);
      });
      return h(
        "li",
        {},
        a,
        count !== undefined ? h("span", { class: "muted outline-count" }, String(count)) : null,
      );
    };
    this.panel(
      "Outline",
      h(
        "ul",
        { class: "outline", "aria-label": "Outline" },
        item(nb.title, null, "outline-title"),
        ...nb.sections.map((s, i) =>
          item(s.title, s.id, "outline-section", s.cells.length, i === 0),
        ),
      ),
    );
  }

  private async renderFiles(path: string): Promise<void> {
    this.filesPath = path;
    let entries: FileEntry[];
    try {
      entries = await this.host.listFiles(path);
    } catch (e) {
      this.panel("Files", h("p", { class: "muted" }, (e as Error).message));
      return;
    }
    if (this.open !== "files") return;
    const list = h("ul", { class: "side-files", "aria-label": "Notebooks in the folder" });
    if (path !== "") {
      const up = h("a", { href: "#", class: "side-file kind-up" }, "↑ ..");
      up.addEventListener("click", (ev) => {
        ev.preventDefault();
        void this.renderFiles(path.split("/").slice(0, -1).join("/"));
      });
      list.append(h("li", {}, up));
    }
    const shown = entries
      .filter((e) => e.kind !== "file")
      .sort((a, b) =>
        a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === "directory" ? -1 : 1,
      );
    for (const e of shown) {
      const isDir = e.kind === "directory";
      const a = h(
        "a",
        {
          href: "#",
          class: `side-file kind-${e.kind}${e.path === this.data.path ? " current" : ""}`,
          title: e.path,
        },
        `${isDir ? "▸ " : ""}${e.name}`,
      );
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        if (isDir) void this.renderFiles(e.path);
        else if (e.path !== this.data.path) this.host.openFile(e.path);
      });
      list.append(h("li", {}, a));
    }
    if (shown.length === 0) list.append(h("li", { class: "muted" }, "No notebooks here."));
    this.panel("Files", h("div", { class: "muted side-path" }, `/${path}`), list);
  }

  private renderBin(force: boolean): void {
    if (!force && this.binShown === this.data.bin) return;
    this.binShown = this.data.bin;
    const search = h("input", {
      type: "search",
      class: "bin-search",
      placeholder: "Search deleted cells",
      "aria-label": "Search deleted cells",
      value: this.binFilter,
    });
    const list = h("ul", { class: "bin-list", "aria-label": "Deleted cells" });
    const fill = () => {
      const q = this.binFilter.toLowerCase();
      const entries = this.data.bin.filter((e) => e.cell.source.toLowerCase().includes(q));
      list.replaceChildren(
        ...entries.map((e) => {
          const kind =
            e.cell.type === "markdown"
              ? "Markdown"
              : e.cell.type === "smart"
                ? "Smart cell"
                : "Code";
          const preview = e.cell.source.split("\n").slice(0, 8).join("\n");
          return h(
            "li",
            { class: "bin-entry", "data-cell-id": e.cell.id },
            h(
              "div",
              { class: "bin-meta muted" },
              `${kind} · ${e.sectionTitle || "untitled section"} · ${timeAgo(e.deletedAt)}`,
            ),
            h("pre", { class: "bin-source" }, preview),
            h(
              "div",
              { class: "bin-buttons" },
              button("Restore", () => this.host.restoreCell(e.cell.id), { text: true, icon: "↶" }),
              button(
                "Copy source",
                () => void navigator.clipboard?.writeText(e.cell.source).catch(() => undefined),
                { text: true },
              ),
            ),
          );
        }),
      );
      if (entries.length === 0)
        list.append(
          h(
            "li",
            { class: "muted" },
            this.data.bin.length === 0
              ? "Deleted cells are kept here until the notebook is closed."
              : "No deleted cell matches.",
          ),
        );
    };
    search.addEventListener("input", () => {
      this.binFilter = search.value;
      fill();
    });
    fill();
    const hadFocus =
      this.panelEl.contains(document.activeElement) &&
      document.activeElement?.classList.contains("bin-search");
    this.panel("Bin", this.data.bin.length > 0 ? search : null, list);
    if (hadFocus) search.focus();
  }
}

function timeAgo(at: number): string {
  const s = Math.round((Date.now() - at) / 1000);
  if (s < 60) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  return new Date(at).toLocaleTimeString();
}
