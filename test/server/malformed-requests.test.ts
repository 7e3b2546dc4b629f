/**
 * Odd HTTP request targets, odd WebSocket frames and messages: the server answers each with a
 * clear error (400 / an `error` message / a closed socket) and keeps serving. The server runs in
 * its own process so that a crash (an unhandled rejection or exception) is seen as its exit.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { APP_PROTOCOL_VERSION } from "../../core/app-protocol.ts";
import { CLIENT_OPERATION_TYPES } from "../../core/session/operations.ts";
import { tempDir } from "./helpers.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Send raw bytes as one HTTP request; resolve the status code of the answer (0 when the server closed without one). */
function rawRequest(port: number, text: string | Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let got = "";
    socket.on("data", (d) => (got += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    // Not end(): a half-closed request may be dropped before an asynchronous answer; the server closes (Connection: close).
    socket.write(text);
    setTimeout(() => socket.destroy(), 3000).unref();
  });
}

/** A tiny deterministic PRNG (mulberry32), so a failing fuzz case is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("malformed requests", () => {
  let child: ChildProcess;
  let port = 0;
  let token = "";
  let exited: string | null = null;
  let stderr = "";
  let cleanup: () => Promise<void>;
  const req = (target: string, extra = "") =>
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n${extra}Connection: close\r\n\r\n`;
  const alive = async () => {
    assert.equal(exited, null, `the server process ended (${exited}): ${stderr}`);
    assert.equal(await rawRequest(port, req("/api/health")), 200, "the server still answers");
  };

  before(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const root = join(t.dir, "root");
    await mkdir(root);
    await writeFile(join(root, "a.tsnb"), "# A\n\n```ts\n1 + 1\n```\n");
    child = spawn(
      process.execPath,
      ["--import", "tsx", join(here, "server-child.ts"), root, join(t.dir, "data"), "100"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stderr!.on("data", (d) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on("exit", (code, signal) => (exited = `code ${code}, signal ${signal}`));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = "";
      child.stdout!.on("data", (d) => {
        buf += d.toString();
        if (buf.includes("\n")) resolve(buf.slice(0, buf.indexOf("\n")));
      });
      child.on("exit", () => reject(new Error(`server child exited: ${stderr}`)));
    });
    ({ port, token } = JSON.parse(line) as { port: number; token: string });
  });
  after(async () => {
    child.kill("SIGKILL");
    await cleanup();
  });

  test("odd request targets get 400 and the server keeps serving", async () => {
    for (const target of [
      "//",
      "//evil.com/x",
      "///",
      "http://x/",
      "http://127.0.0.1/api/health",
      "*",
      "?x",
      "%",
      "a/b",
    ]) {
      const status = await rawRequest(port, req(target));
      assert.equal(status, 400, `GET ${target}`);
      await alive();
    }
    // With the token in the query too: an odd target is never redirected (no open redirect to //evil.com).
    assert.equal(await rawRequest(port, req(`//evil.com/?token=${token}`)), 400);
    await alive();
  });

  test("odd but well-formed paths answer 404 or the page, never crash", async () => {
    for (const target of [
      "/%",
      "/%zz",
      "/%00",
      "/%E0%A4%A",
      "/..%2f..%2f",
      "/a//b",
      `/${"x".repeat(7000)}`,
      "/?a=%",
      "/ws/../x",
    ]) {
      const status = await rawRequest(port, req(target));
      assert.ok([200, 404].includes(status), `GET ${target} → ${status}`);
      await alive();
    }
  });

  test("random request targets: every one gets an answer (never a dropped connection), and the server lives on", async () => {
    const rand = prng(7);
    const alphabet = [
      "/",
      "/",
      "%",
      "%2f",
      "%00",
      "%zz",
      "?",
      "#",
      ".",
      "..",
      ":",
      "@",
      "\\",
      "a",
      "ws",
      "api",
      "health",
      "token=",
      "&",
      "=",
      "~",
      "é",
      "\u00ff",
      "sandbox",
      "html-output",
    ];
    for (let i = 0; i < 150; i++) {
      let target = rand() < 0.8 ? "/" : "";
      const n = 1 + Math.floor(rand() * 12);
      for (let k = 0; k < n; k++) target += alphabet[Math.floor(rand() * alphabet.length)];
      const status = await rawRequest(port, req(target));
      assert.ok(
        [200, 302, 400, 401, 403, 404].includes(status),
        `GET ${JSON.stringify(target)} → ${status}`,
      );
    }
    await alive();
  });

  test("a very long URL or header is refused by size (431/414/400), not a crash", async () => {
    const status = await rawRequest(port, req(`/${"a".repeat(70_000)}`));
    assert.ok([400, 414, 431].includes(status), `status ${status}`);
    await alive();
    assert.equal(await rawRequest(port, "GARBAGE\r\n\r\n"), 400);
    await alive();
  });

  test("WebSocket upgrades with odd targets or Origins are refused cleanly", async () => {
    const upgrade = (target: string, origin?: string) =>
      rawRequest(
        port,
        req(
          target,
          `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 1).toString("base64")}\r\n${origin ? `Origin: ${origin}\r\n` : ""}`,
        ).replace("Connection: close", "Connection: Upgrade"),
      );
    assert.equal(await upgrade("//"), 400);
    assert.equal(await upgrade("//evil.com/ws"), 400);
    assert.equal(await upgrade("/ws", "%"), 403);
    assert.equal(await upgrade("/ws", "http://[::1"), 403);
    await alive();
  });

  test("WebSocket: invalid frames close that socket only; garbage and ill-typed messages get an error reply", async () => {
    // Invalid UTF-8 in a text frame: the ws library reports an error on the server socket.
    const bad = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    await new Promise((r) => bad.once("open", r));
    const closed = new Promise<number>((r) => bad.once("close", (code) => r(code)));
    bad.send(Buffer.from([0xff, 0xfe, 0x22]), { binary: false });
    assert.equal(await closed, 1007);
    await alive();

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const replies: Array<{ type: string; code?: string; sessionId?: string }> = [];
    ws.on("message", (d) => replies.push(JSON.parse(d.toString()) as { type: string }));
    await new Promise((r) => ws.once("open", r));
    const waitFor = async (pred: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(pred(), `waited for ${what}; got ${JSON.stringify(replies.slice(-5))}`);
    };
    ws.send(JSON.stringify({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION }));
    await waitFor(() => replies.some((m) => m.type === "welcome"), "welcome");
    ws.send(JSON.stringify({ type: "open-file", path: "a.tsnb" }));
    await waitFor(() => replies.some((m) => m.type === "joined"), "joined");
    const sessionId = replies.find((m) => m.type === "joined")!.sessionId!;

    const rand = prng(20261127);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      NaN,
      "",
      "x",
      "../../etc/passwd",
      "\u0000",
      [],
      {},
      [1, [2]],
      { a: 1 },
      "a".repeat(5000),
    ];
    const types = [
      "hello",
      "apply",
      "join",
      "leave",
      "open-file",
      "new-notebook",
      "open-recovered",
      "discard-recovered",
      "list-files",
      "list-sessions",
      "save",
      "save-as",
      "resolve-conflict",
      "close-session",
      "table-page",
      "nope",
      "__proto__",
      "constructor",
    ];
    // Every operation a window may send, plus server-only and unknown ones.
    const opTypes = [...CLIENT_OPERATION_TYPES, "evaluation-finished", "kernel-status", "toString"];
    const fields = [
      "path",
      "id",
      "sessionId",
      "cellId",
      "sectionId",
      "index",
      "offset",
      "limit",
      "tableId",
      "choice",
      "overwrite",
      "source",
      "title",
      "options",
      "attrs",
      "cellType",
      "kind",
      "inputId",
      "value",
      "persistOutputs",
      "baseRevision",
      "protocolVersion",
      "clientId",
      "requestId",
    ];
    const randomObject = (base: Record<string, unknown>) => {
      const o: Record<string, unknown> = { ...base };
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) o[pick(fields)] = pick([...values, sessionId]);
      return o;
    };
    for (let i = 0; i < 400; i++) {
      const r = rand();
      let text: string;
      if (r < 0.1)
        text = pick(["", "{", "[]", "null", '"x"', "1", '{"type":1}', "\u0000", "{}".repeat(1000)]);
      else if (r < 0.55) text = JSON.stringify(randomObject({ type: pick(types) }));
      else
        text = JSON.stringify({
          type: "apply",
          sessionId: rand() < 0.9 ? sessionId : pick(values),
          op: randomObject({ type: pick(opTypes) }),
          requestId: `r${i}`,
        });
      ws.send(text);
    }
    ws.send(JSON.stringify({ type: "list-sessions", requestId: "final" }));
    await waitFor(() => replies.some((m) => m.type === "sessions"), "the answer after the fuzz");
    assert.ok(
      replies.filter((m) => m.type === "error").length > 50,
      "ill-formed messages are answered with errors",
    );
    assert.ok(
      replies.every((m) => m.type !== "error" || typeof m.code === "string"),
      "every error has a code",
    );
    // "io" is what an unexpected exception in a handler is reported as: none of these inputs should reach one.
    assert.deepEqual(
      replies.filter((m) => m.type === "error" && m.code === "io"),
      [],
      "no internal failures",
    );
    ws.close();
    await alive();
  });
});
