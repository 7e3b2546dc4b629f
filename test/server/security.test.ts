import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import WebSocket from "ws";
import { cookieName } from "../../server/security.ts";
import { testServer, type TestServer } from "./helpers.ts";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { Host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Try a WebSocket; resolves "open" or the HTTP status of the refusal. */
function tryWs(
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<"open" | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on("error", () => resolve(-1));
  });
}

describe("server security", () => {
  let t: TestServer;
  let port: number;
  let cookie: string;
  before(async () => {
    t = await testServer();
    port = t.server.port;
    cookie = `${cookieName(port)}=${t.server.token}`;
  });
  after(async () => {
    await t.close();
  });

  test("the printed URL binds to loopback and carries the token", () => {
    assert.match(
      t.server.url,
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[A-Za-z0-9_-]{32}$`),
    );
  });

  test("HTTP without a token is refused; a wrong token is refused", async () => {
    assert.equal((await get(port, "/")).status, 401);
    assert.equal((await get(port, "/index.html")).status, 401);
    assert.equal((await get(port, "/?token=wrong")).status, 401);
    assert.equal((await get(port, "/", { Cookie: `${cookieName(port)}=wrong` })).status, 401);
  });

  test("the token in the URL is exchanged for an HttpOnly SameSite=Strict cookie and removed from the URL", async () => {
    const r = await get(port, `/?token=${t.server.token}&x=1`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, "/?x=1");
    const setCookie = String(r.headers["set-cookie"]);
    assert.match(setCookie, new RegExp(`^${cookieName(port)}=${t.server.token};`));
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const page = await get(port, "/", { Cookie: cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
  });

  test("responses carry the security headers", async () => {
    const r = await get(port, "/", { Cookie: cookie });
    assert.match(String(r.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.match(String(r.headers["content-security-policy"]), /script-src 'self'/);
    assert.doesNotMatch(
      String(r.headers["content-security-policy"]),
      /unsafe-eval/,
      "the page needs no eval (vega's interpreter)",
    );
    assert.match(
      String(r.headers["content-security-policy"]),
      /frame-src 'self'(;|$)/,
      "frames only from the server (the HTML output sandbox)",
    );
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["x-frame-options"], "DENY");
    assert.equal(
      (await get(port, "/", {})).headers["x-content-type-options"],
      "nosniff",
      "refusals too",
    );
  });

  test("a request whose Host is not the server's is refused even with the token (DNS rebinding)", async () => {
    for (const host of [
      `evil.example:${port}`,
      `127.0.0.1:1`,
      "localhost",
      `127.0.0.1.evil.example:${port}`,
    ]) {
      const r = await get(port, "/", { Host: host, Cookie: cookie });
      assert.equal(r.status, 403, host);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`])
      assert.equal((await get(port, "/", { Host: host, Cookie: cookie })).status, 200, host);
    assert.equal(await tryWs(port, "/ws", { Host: `evil.example:${port}`, Cookie: cookie }), 403);
  });

  test("a WebSocket without the token is refused", async () => {
    assert.equal(await tryWs(port, "/ws", {}), 401);
    assert.equal(await tryWs(port, "/ws", { Cookie: `${cookieName(port)}=nope` }), 401);
    assert.equal(await tryWs(port, "/ws?token=nope", {}), 401);
  });

  test("a WebSocket from a foreign Origin is refused even with the cookie; the app's own origin is accepted", async () => {
    for (const origin of [
      "http://evil.example",
      `http://evil.example:${port}`,
      "null",
      `https://127.0.0.1:${port}`,
      `file://`,
    ]) {
      assert.equal(await tryWs(port, "/ws", { Cookie: cookie, Origin: origin }), 403, origin);
    }
    assert.equal(
      await tryWs(port, "/ws", { Cookie: cookie, Origin: `http://127.0.0.1:${port}` }),
      "open",
    );
    assert.equal(
      await tryWs(port, "/ws", { Cookie: cookie, Origin: `http://localhost:${port}` }),
      "open",
    );
    assert.equal(await tryWs(port, `/ws?token=${t.server.token}`, {}), "open");
    assert.equal(await tryWs(port, "/elsewhere", { Cookie: cookie }), 404);
  });

  test("the cookie counts only for the app's own requests: another origin (another port, a sandboxed frame) is refused", async () => {
    assert.equal(
      (await get(port, "/api/health", { Cookie: cookie, "Sec-Fetch-Site": "same-origin" })).status,
      200,
    );
    assert.equal(
      (await get(port, "/", { Cookie: cookie, "Sec-Fetch-Site": "none" })).status,
      200,
      "a typed URL",
    );
    for (const site of ["same-site", "cross-site"])
      assert.equal(
        (await get(port, "/api/health", { Cookie: cookie, "Sec-Fetch-Site": site })).status,
        403,
        site,
      );
    assert.equal(
      (await get(port, "/api/health", { Cookie: cookie, Origin: "null" })).status,
      403,
      "Origin: null (opaque origin)",
    );
    assert.equal(
      (
        await get(port, "/api/health", {
          Authorization: `Bearer ${t.server.token}`,
          "Sec-Fetch-Site": "cross-site",
        })
      ).status,
      200,
      "an explicit token is not ambient",
    );
  });

  test("the HTML output sandbox page: its own sandboxing CSP, framable by the app only, no secret, no cookie set", async () => {
    assert.equal(
      (await get(port, "/sandbox/html-output")).status,
      401,
      "the token is required like everywhere",
    );
    const r = await get(port, "/sandbox/html-output", {
      Cookie: cookie,
      "Sec-Fetch-Site": "same-origin",
    });
    assert.equal(r.status, 200);
    const csp = String(r.headers["content-security-policy"]);
    assert.match(csp, /^sandbox allow-scripts;/);
    assert.doesNotMatch(csp, /allow-same-origin|allow-top-navigation|allow-popups|allow-forms/);
    assert.match(csp, /frame-ancestors 'self'/);
    assert.equal(r.headers["x-frame-options"], undefined, "frame-ancestors 'self' instead of DENY");
    assert.equal(r.headers["set-cookie"], undefined);
    assert.match(String(r.headers["content-type"]), /^text\/html/);
    assert.ok(!r.body.includes(t.server.token), "the page holds no token");
    assert.match(r.body, /tsnb-sandbox-ready/);
    assert.equal(
      (await get(port, "/sandbox/html-output", { Cookie: cookie, "Sec-Fetch-Site": "cross-site" }))
        .status,
      403,
      "not from another origin (an output navigating its frame)",
    );
  });

  test("static files cannot be read outside the renderer folder", async () => {
    for (const p of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json"]) {
      const r = await get(port, p, { Cookie: cookie });
      assert.notEqual(r.status, 200, p);
      assert.ok(!r.body.includes('"name": "tsnb"'), p);
    }
  });
});

test("listening on every interface accepts the machine's own addresses as Host, and still refuses other names", async () => {
  const { networkInterfaces } = await import("node:os");
  const t = await testServer({ host: "0.0.0.0" });
  try {
    const port = t.server.port;
    const cookie = `${cookieName(port)}=${t.server.token}`;
    const own = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .find((i) => i.family === "IPv4")!.address;
    assert.equal((await get(port, "/", { Host: `${own}:${port}`, Cookie: cookie })).status, 200);
    assert.equal(
      (await get(port, "/", { Host: `attacker.example:${port}`, Cookie: cookie })).status,
      403,
    );
    assert.equal(
      (await get(port, "/", { Host: `${own}:${port}` })).status,
      401,
      "the token is still required",
    );
  } finally {
    await t.close();
  }
});
