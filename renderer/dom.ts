/**
 * Tiny DOM helpers for the renderer: element creation with attributes and children, and
 * formatting helpers shared by the views. No framework: views build elements once and patch
 * them when the session data they show changes.
 */

export type Child = Node | string | null | undefined | false;

/** Create an element: `h("button", { class: "x", "aria-label": "Run cell" }, "Run")`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | null | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/**
 * Set an element's text when it differs: setting the same text still replaces the element's
 * text node, which makes the page lay itself out again (views that redraw on every message,
 * such as the header while a cell streams output, would do that each time).
 */
export function setText(el: Node, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** A button with a visible icon/label and an accessible name. */
export function button(
  label: string,
  onClick: (ev: MouseEvent) => void,
  opts: { icon?: string; title?: string; cls?: string; text?: boolean } = {},
): HTMLButtonElement {
  const b = h("button", {
    type: "button",
    class: `btn ${opts.cls ?? ""}`.trim(),
    "aria-label": label,
    title: opts.title ?? label,
  });
  if (opts.icon) b.append(h("span", { class: "icon", "aria-hidden": "true" }, opts.icon));
  if (opts.text) b.append(h("span", { class: "btn-text" }, label));
  b.addEventListener("click", (ev) => {
    ev.stopPropagation();
    onClick(ev);
  });
  return b;
}

/** "850 ms", "2.4 s", "1 min 5 s" */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const min = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${min} min ${s} s`;
}
