/**
 * The server's access rules (DESIGN.md §8): the access token, the cookie it is exchanged for,
 * the `Host` check against DNS rebinding, the `Origin` check for WebSockets, and the security
 * headers of every response.
 *
 * Invariants: every HTTP request and WebSocket upgrade goes through `checkRequest` before
 * anything else; a request with a wrong Host is refused even with a valid token; tokens are
 * compared in constant time.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** A fresh random access token (192 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** The cookie carrying the token. Cookies ignore ports, so the name includes it: two servers on one machine don't clash. */
export function cookieName(port: number): string {
  return `tsnb-token-${port}`;
}

export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

export interface AccessPolicy {
  token: string;
  port: number;
  /** Extra host names the server answers to (e.g. the `--host` it was bound to); loopback names are always allowed. */
  extraHosts?: string[];
}

/** The `Host` header values the server accepts: loopback names with its port. */
export function allowedHosts(policy: AccessPolicy): Set<string> {
  const names = ["localhost", "127.0.0.1", "[::1]", ...(policy.extraHosts ?? [])];
  return new Set(names.map((n) => `${n.toLowerCase()}:${policy.port}`));
}

/** Longest request target accepted (Node itself refuses request heads over 16 KB with 431). */
export const MAX_TARGET_LENGTH = 8192;

/**
 * The request target as a URL, or null when it is not a plain path: only origin-form targets
 * (`/path?query`) are served; `//host/x`, absolute-form `http://x/`, `*` and over-long targets
 * are not (a `//` path would also turn a redirect into one to another host).
 */
export function parseRequestTarget(target: string | undefined): URL | null {
  if (target === undefined || target.length > MAX_TARGET_LENGTH) return null;
  if (!target.startsWith("/") || target.startsWith("//")) return null;
  try {
    const url = new URL(`http://x${target}`);
    // The URL parser reads `\` as `/` and resolves `.`, `%2e` and `..` segments, so `/\evil`,
    // `/.//evil`, `/%2e//evil` and `/a/..//evil` all come out as the path `//evil`, which a
    // redirect would turn into another host: refused, whatever the spelling.
    if (url.host !== "x" || url.pathname.startsWith("//") || url.pathname.includes("\\"))
      return null;
    return url;
  } catch {
    return null;
  }
}

/**
 * A redirect target on this server for a parsed request URL: always a path starting with exactly
 * one `/` (never `//host` nor `/\host`, which browsers follow to another host).
 */
export function sameOriginLocation(url: URL): string {
  const path = `/${url.pathname.replace(/^[/\\]+/, "")}`;
  return path + url.search;
}

/** How many times a header occurs in a request (Node keeps only the first `Host`). */
function headerCount(req: IncomingMessage, name: string): number {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    if (req.rawHeaders[i]!.toLowerCase() === name) n++;
  return n;
}

export type AccessDecision =
  | { ok: true; via: "cookie" | "header" | "query"; tokenInQuery: boolean; url: URL }
  | { ok: false; status: 400 | 401 | 403; reason: string };

/**
 * Decide whether a request may proceed. `websocket` adds the Origin check. The token may come
 * from the cookie, an `Authorization: Bearer` header (non-browser clients) or `?token=` (the
 * URL printed by `tsnb serve`; an HTTP page request with it is redirected to drop it).
 */
export function checkRequest(
  req: IncomingMessage,
  policy: AccessPolicy,
  websocket: boolean,
): AccessDecision {
  const hosts = allowedHosts(policy);
  // Two Host headers: proxies and servers may each read a different one (RFC 9112 says 400).
  if (headerCount(req, "host") > 1)
    return { ok: false, status: 400, reason: "more than one Host header" };
  const host = (req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host))
    return { ok: false, status: 403, reason: `Host '${host}' is not this server` };
  if (websocket) {
    const origin = req.headers.origin;
    // Browsers always send Origin on WebSockets; a client without one is not a web page.
    if (origin !== undefined) {
      let originHost: string;
      try {
        const u = new URL(origin);
        if (u.protocol !== "http:") throw new Error("scheme");
        originHost = u.host.toLowerCase();
      } catch {
        return { ok: false, status: 403, reason: `Origin '${origin}' is not this server` };
      }
      if (!hosts.has(originHost))
        return { ok: false, status: 403, reason: `Origin '${origin}' is not this server` };
    }
  }
  const url = parseRequestTarget(req.url);
  if (!url)
    return {
      ok: false,
      status: 400,
      reason: "the request target must be a path starting with a single /",
    };
  const fromQuery = url.searchParams.get("token");
  if (fromQuery !== null) {
    if (tokensEqual(fromQuery, policy.token))
      return { ok: true, via: "query", tokenInQuery: true, url };
    return { ok: false, status: 401, reason: "wrong token" };
  }
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) {
    if (tokensEqual(auth.slice(7).trim(), policy.token))
      return { ok: true, via: "header", tokenInQuery: false, url };
    return { ok: false, status: 401, reason: "wrong token" };
  }
  const cookie = parseCookies(req.headers.cookie).get(cookieName(policy.port));
  if (cookie !== undefined && tokensEqual(cookie, policy.token)) {
    // The cookie is the browser's: it proves only that the request came from this browser, so it
    // counts only for the app's own requests (and navigations typed by the user). A request made
    // by another origin — another localhost port (same site), or an HTML output's sandboxed
    // opaque-origin frame (Origin: null) — carries the cookie too and is refused.
    const site = req.headers["sec-fetch-site"];
    if (
      (site !== undefined && site !== "same-origin" && site !== "none") ||
      req.headers.origin === "null"
    )
      return {
        ok: false,
        status: 403,
        reason: "the cookie is not accepted on requests from another origin",
      };
    return { ok: true, via: "cookie", tokenInQuery: false, url };
  }
  return {
    ok: false,
    status: 401,
    reason: "missing or wrong token: open the URL that tsnb serve printed",
  };
}

/**
 * Content-Security-Policy of the app's pages. Scripts only from the server itself, no eval (vega
 * runs with its expression interpreter). Inline styles for Monaco and KaTeX. Workers from blob:
 * (Monaco). Frames only from the server: HTML outputs are shown in its sandbox page
 * (server/sandbox.ts), which has a policy of its own. Nobody may frame the app.
 */
export function contentSecurityPolicy(): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "frame-src 'self'",
    "child-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Headers sent with every response. */
export function securityHeaders(): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}
