/**
 * What an HTML output's sandboxed frame runs after the output's HTML so the app can size the
 * frame to its content (the server's sandbox page, server/sandbox.ts, and the HTML export's
 * srcdoc frames, core/format/html.ts, both use it; renderer/outputs.ts listens).
 *
 * Invariants:
 * - The frame only ever posts `{type: "tsnb-html-height", height}` to its parent; the parent
 *   accepts it only from that frame's window and clamps it, so an output can size its own frame
 *   and nothing else.
 * - The output is laid out in standards mode (`FRAME_DOCTYPE` before it), where the root
 *   element is as tall as its content: the height reported is the content's, never the
 *   frame's, so it shrinks as well as grows and cannot feed back on itself. A horizontal
 *   scrollbar's thickness is added so it does not bring a vertical one.
 * - It reports now, on load, and whenever the root element's size changes (ResizeObserver:
 *   content added or removed, images and fonts loaded, text re-wrapped by a narrower frame).
 */

/** Put before the output's HTML: standards mode (a second doctype in the HTML is ignored). */
export const FRAME_DOCTYPE = "<!doctype html>";

/** The script body (an expression statement), the same text everywhere: the export allows it by its hash. */
export const FRAME_HEIGHT_SCRIPT = `(() => {
  let last = -1;
  const report = () => {
    const root = document.documentElement;
    if (!root) return;
    const height = Math.ceil(root.getBoundingClientRect().height + Math.max(0, innerHeight - root.clientHeight));
    if (height === last) return;
    last = height;
    parent.postMessage({ type: "tsnb-html-height", height }, "*");
  };
  report();
  addEventListener("load", report);
  if (typeof ResizeObserver === "function") new ResizeObserver(report).observe(document.documentElement);
})();`;
