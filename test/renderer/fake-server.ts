/**
 * A stand-in for server/ used by the renderer's own tests and by UI development: serves
 * dist/renderer over HTTP and speaks core/app-protocol.ts over a WebSocket with the real reducer,
 * but has no kernel (an evaluation "runs" for `evalMs` and prints its source back) and no files
 * (notebooks are given up front). Binds 127.0.0.1 on a free port.
 *
 * A cell whose source is `//outputs <JSON array of Output>` emits exactly those outputs, and
 * `//updates <JSON array of OutputUpdate>` emits output updates: the renderer's drawing of every
 * output type can be tested without a kernel.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../e2e/harness.ts";
import type { Notebook } from "../../core/notebook.ts";
import { SANDBOX_PAGE, SANDBOX_PATH, sandboxHeaders } from "../../server/sandbox.ts";
import type { Output, OutputUpdate } from "../../core/outputs.ts";
import {
  APP_PROTOCOL_VERSION,
  parseClientMessage,
  type ServerMessage,
} from "../../core/app-protocol.ts";
import { applyOperation, createSessionData, type SessionData } from "../../core/session/data.ts";
import { validateClientOperation, type Operation } from "../../core/session/operations.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".ttf": "font/ttf",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".map": "application/json",
};

export interface FakeServer {
  url: string;
  close(): Promise<void>;
  data(sessionId: string): SessionData;
  /** Cut every WebSocket (the pages reconnect). */
  dropClients(): void;
  /** Apply an operation as the server/kernel would (broadcast to joined pages). */
  apply(sessionId: string, op: Operation): void;
}

export async function startFakeServer(
  root: string,
  notebooks: Record<string, Notebook>,
  opts: { evalMs?: number } = {},
): Promise<FakeServer> {
  const dist = join(root, "dist/renderer");
  const sessions = new Map<string, { data: SessionData; clients: Set<WebSocket> }>();
  let n = 0;
  for (const [path, nb] of Object.entries(notebooks))
    sessions.set(`s${++n}`, { data: createSessionData(nb, path), clients: new Set() });
  const pathToSession = (p: string) => [...sessions].find(([, s]) => s.data.path === p)?.[0];

  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    // HTML outputs are framed from the real server's sandbox page.
    if (url.pathname === SANDBOX_PATH)
      return void res.writeHead(200, sandboxHeaders({})).end(SANDBOX_PAGE);
    const rel =
      url.pathname === "/"
        ? "index.html"
        : normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, "");
    if (rel.includes("..")) return void res.writeHead(403).end();
    try {
      const body = await readFile(join(dist, rel));
      res
        .writeHead(200, { "content-type": TYPES[extname(rel)] ?? "application/octet-stream" })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ server: http, path: "/ws" });
  let clientCounter = 0;

  function apply(sessionId: string, op: Operation): void {
    const s = sessions.get(sessionId)!;
    const r = applyOperation(s.data, op);
    if (!r.ok) return;
    s.data = r.data;
    const msg: ServerMessage = { type: "applied", sessionId, op, revision: s.data.revision };
    for (const c of s.clients) c.send(JSON.stringify(msg));
    for (const a of r.actions) {
      if (a.type === "start-evaluation") {
        setTimeout(() => {
          apply(sessionId, {
            type: "evaluation-started",
            cellId: a.cellId,
            evaluationId: a.evaluationId,
            clientId: "kernel",
            at: Date.now(),
          });
          const scripted = /^\/\/(outputs|updates) (.*)$/s.exec(a.code);
          if (scripted?.[1] === "outputs") {
            for (const output of JSON.parse(scripted[2]!) as Output[])
              apply(sessionId, {
                type: "output-appended",
                cellId: a.cellId,
                output,
                clientId: "kernel",
                at: Date.now(),
              });
          } else if (scripted?.[1] === "updates") {
            for (const update of JSON.parse(scripted[2]!) as OutputUpdate[])
              apply(sessionId, {
                type: "output-updated",
                update,
                clientId: "kernel",
                at: Date.now(),
              });
          } else {
            apply(sessionId, {
              type: "output-appended",
              cellId: a.cellId,
              output: { type: "terminal", stream: "stdout", text: `ran: ${a.code}\n` },
              clientId: "kernel",
              at: Date.now(),
            });
          }
          setTimeout(() => {
            apply(sessionId, {
              type: "evaluation-finished",
              cellId: a.cellId,
              evaluationId: a.evaluationId,
              status: "ok",
              result: a.code.startsWith("//")
                ? null
                : {
                    type: "value",
                    preview: { kind: "primitive", text: String(a.code.length), jsType: "number" },
                  },
              defines: [],
              uses: [],
              durationMs: opts.evalMs ?? 5,
              clientId: "kernel",
              at: Date.now(),
            });
          }, opts.evalMs ?? 5);
        }, 1);
      }
    }
  }

  wss.on("connection", (ws) => {
    const clientId = `client${++clientCounter}`;
    const send = (m: ServerMessage) => ws.send(JSON.stringify(m));
    const join = (sessionId: string, requestId?: string) => {
      const s = sessions.get(sessionId);
      if (!s)
        return send({
          type: "error",
          code: "unknown-session",
          message: "no such session",
          ...(requestId ? { requestId } : {}),
        });
      for (const other of sessions.values()) other.clients.delete(ws);
      s.clients.add(ws);
      send({ type: "joined", sessionId, snapshot: s.data, ...(requestId ? { requestId } : {}) });
    };
    ws.on("close", () => {
      for (const s of sessions.values()) s.clients.delete(ws);
    });
    ws.on("message", (raw) => {
      const parsed = parseClientMessage(String(raw));
      if (!parsed.ok) return send({ type: "error", code: "bad-message", message: parsed.error });
      const m = parsed.message;
      const rid = "requestId" in m && m.requestId ? { requestId: m.requestId } : {};
      switch (m.type) {
        case "hello":
          send({
            type: "welcome",
            protocolVersion: APP_PROTOCOL_VERSION,
            clientId: m.clientId ?? clientId,
            rootName: "fake",
            sessions: [],
            recovered: [],
          });
          if (m.sessionId) join(m.sessionId);
          return;
        case "join":
          return join(m.sessionId, m.requestId);
        case "open-file": {
          const id = pathToSession(m.path);
          if (!id) return send({ type: "error", code: "not-found", message: "not found", ...rid });
          return join(id, m.requestId);
        }
        case "list-files":
          return send({
            type: "file-list",
            path: m.path,
            entries: [...sessions.values()].map((s) => ({
              name: s.data.path!,
              path: s.data.path!,
              kind: "notebook" as const,
              size: 1,
              mtimeMs: 0,
            })),
            ...rid,
          });
        case "apply": {
          const v = validateClientOperation(m.op, clientId, Date.now());
          if (!v.ok)
            return send({ type: "error", code: "invalid-operation", message: v.error, ...rid });
          return apply(m.sessionId, v.op);
        }
        case "save":
          return send({ type: "done", ...rid });
        default:
          return send({
            type: "error",
            code: "bad-message",
            message: `fake server: ${m.type} unsupported`,
            ...rid,
          });
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const addr = http.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    data: (id) => sessions.get(id)!.data,
    dropClients: () => {
      for (const c of wss.clients) c.terminate();
    },
    apply,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

/** A fake server holding one notebook, and Debian's Chromium with that notebook opened from the file list. */
export interface NotebookPage {
  server: FakeServer;
  browser: Browser;
  page: Page;
  /** Uncaught errors of the page, in order. */
  errors: string[];
}

export async function openNotebookPage(
  file: string,
  notebook: Notebook,
  opts: { evalMs?: number } = {},
): Promise<NotebookPage> {
  const server = await startFakeServer(
    new URL("../..", import.meta.url).pathname,
    { [file]: notebook },
    opts,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.getByText(file).click();
  return { server, browser, page, errors };
}
