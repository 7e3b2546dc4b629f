/**
 * The layer Monaco draws its popups in (completion list, hovers, parameter hints): one element
 * at the end of `<body>`, shared by every cell editor (`overflowWidgetsDomNode`).
 *
 * Why: cells are `content-visibility: auto` (off-screen cells are not laid out, which keeps a
 * 1,000-cell notebook fast). That implies `contain: layout paint`, which makes each cell the
 * containing block of its `position: fixed` descendants and clips them to its box, so popups
 * left inside the editor were placed relative to the cell and cut off. Outside every cell, the
 * fixed-position popups are placed against the window, as Monaco computes them.
 *
 * The layer carries the `monaco-editor` class: Monaco's widget styles and theme colours are
 * scoped under it.
 */
import { h } from "./dom.ts";

let layer: HTMLElement | null = null;

export function popupLayer(): HTMLElement {
  if (!layer || !layer.isConnected) {
    layer = h("div", { class: "monaco-editor tsnb-popup-layer" });
    document.body.append(layer);
  }
  return layer;
}
