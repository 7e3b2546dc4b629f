/**
 * Light and dark themes. The page follows the system (`prefers-color-scheme`) until the user
 * picks one with the header's toggle; the choice is kept per browser (localStorage
 * `tsnb-theme`: "light", "dark" or absent for the system's). The resolved theme is
 * `<html data-theme="light|dark">`; the CSS variables in styles.css do the rest, and Monaco's
 * theme follows (`tsnb` / `tsnb-dark`, defined in monaco-entry.ts). The viewer of HTML exports
 * (export-view.ts) follows the system only: it has no toggle, and keeps nothing.
 */
import { button } from "./dom.ts";

export type Theme = "light" | "dark";
const KEY = "tsnb-theme";
const listeners = new Set<(t: Theme) => void>();
const media = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;

/** Set by `initTheme({ systemOnly: true })`: the user's choice is neither read nor kept. */
let systemOnly = false;

function chosen(): Theme | null {
  if (systemOnly) return null;
  const v = localStorage.getItem(KEY);
  return v === "light" || v === "dark" ? v : null;
}

export function currentTheme(): Theme {
  return chosen() ?? (media?.matches ? "dark" : "light");
}

function apply(): void {
  const t = currentTheme();
  if (document.documentElement.dataset["theme"] === t) return;
  document.documentElement.dataset["theme"] = t;
  document.documentElement.style.colorScheme = t;
  for (const l of listeners) l(t);
}

/**
 * Apply the theme now and follow the system's changes. Call once, before the first paint.
 * `systemOnly`: the system's theme alone (an exported file: no stored choice, and no storage is
 * touched, so a file viewed where storage is refused still draws).
 */
export function initTheme(opts: { systemOnly?: boolean } = {}): void {
  systemOnly = opts.systemOnly ?? false;
  apply();
  media?.addEventListener("change", apply);
  // Another window of the app changed it.
  if (!systemOnly)
    window.addEventListener("storage", (ev) => {
      if (ev.key === KEY) apply();
    });
}

export function onThemeChange(listener: (t: Theme) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Pick a theme; choosing the system's own makes the page follow the system again. */
export function setTheme(t: Theme): void {
  const system: Theme = media?.matches ? "dark" : "light";
  if (t === system) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, t);
  apply();
}

/** The header's toggle: a button that switches between light and dark. */
export function themeToggle(): HTMLButtonElement {
  const b = button("Dark theme", () => setTheme(currentTheme() === "dark" ? "light" : "dark"), {
    icon: "◐",
    cls: "ghost theme-toggle",
  });
  const show = (t: Theme) => {
    b.setAttribute("aria-pressed", String(t === "dark"));
    b.title = t === "dark" ? "Switch to the light theme" : "Switch to the dark theme";
  };
  show(currentTheme());
  onThemeChange(show);
  return b;
}

/** Monaco's theme name for the page's theme. */
export function monacoTheme(t: Theme = currentTheme()): string {
  return t === "dark" ? "tsnb-dark" : "tsnb";
}
