/**
 * The sandbox page for HTML outputs (`GET /sandbox/html-output`): a fixed bootstrap page that
 * the renderer frames as `<iframe sandbox="allow-scripts">` and sends the output's HTML to by
 * `postMessage`; the page writes it into itself, so the output's scripts run under the page's
 * OWN permissive CSP rather than the app's.
 *
 * Invariants:
 * - The page is the same for every output and holds no secret (no token, no data). The answer
 *   never sets a cookie.
 * - Its CSP carries `sandbox allow-scripts`: its origin is opaque even when it is opened outside
 *   the app's iframe, so it cannot read the app's DOM, cookie or storage, call the server with
 *   the app's credentials (the server refuses the cookie on requests from another origin, see
 *   `checkRequest`), open popups, or navigate the top window.
 * - Only the app may frame it (`frame-ancestors 'self'`).
 */

import { FRAME_DOCTYPE, FRAME_HEIGHT_SCRIPT } from "../core/html-frame.ts";

/** Path of the sandbox page (the renderer frames this URL; keep renderer/outputs.ts in step). */
export const SANDBOX_PATH = "/sandbox/html-output";

/**
 * The HTML output's own policy: scripts, styles, images, fonts and connections from anywhere
 * (CDN libraries, inline scripts, eval), inside an opaque-origin sandbox that allows scripts only.
 */
export function sandboxContentSecurityPolicy(): string {
  return [
    "sandbox allow-scripts",
    "default-src * data: blob: 'unsafe-inline' 'unsafe-eval'",
    "script-src * data: blob: 'unsafe-inline' 'unsafe-eval'",
    "style-src * data: blob: 'unsafe-inline'",
    "img-src * data: blob:",
    "font-src * data:",
    "connect-src *",
    "form-action 'none'",
    "base-uri *",
    "frame-ancestors 'self'",
  ].join("; ");
}

/** Headers of the sandbox page (the app's, with its own CSP and framing allowed for the app). */
export function sandboxHeaders(appHeaders: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    ...appHeaders,
    "Content-Security-Policy": sandboxContentSecurityPolicy(),
  };
  delete headers["X-Frame-Options"]; // frame-ancestors 'self' says it (X-Frame-Options would forbid the app's frame)
  return { ...headers, "Content-Type": "text/html; charset=utf-8" };
}

/**
 * The bootstrap page. It tells its parent `{type: "tsnb-sandbox-ready"}` (on every load: a frame
 * moved in the DOM reloads), accepts one message from it, `{type: "tsnb-html", html}`,
 * replaces itself with that HTML in standards mode (document.write: scripts run in document
 * order, external ones included) and then reports the content's height to the parent as
 * `{type: "tsnb-html-height", height}`, again whenever it changes (core/html-frame.ts).
 */
export const SANDBOX_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script>
(() => {
  let written = false;
  const onMessage = (e) => {
    if (written || e.source !== parent || !e.data || e.data.type !== "tsnb-html" || typeof e.data.html !== "string") return;
    written = true;
    removeEventListener("message", onMessage);
    document.open();
    document.write(${JSON.stringify(FRAME_DOCTYPE)} + e.data.html);
    document.close();
    ${FRAME_HEIGHT_SCRIPT}
  };
  addEventListener("message", onMessage);
  parent.postMessage({ type: "tsnb-sandbox-ready" }, "*");
})();
</script></head><body></body></html>
`;
