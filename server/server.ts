/**
 * The notebook server: HTTP for the renderer's files, a WebSocket for the app protocol
 * (`core/app-protocol.ts`), and the registry of open sessions. `startServer` is what
 * `tsnb serve`, the Electron main process and the tests use.
 *
 * Invariants: every request passes `checkRequest` (Host, token, and Origin for WebSockets)
 * before anything else; one session per notebook file; renderer paths are confined to the
 * served folder (`resolveInRoot`); closing the server flushes autosaves and stops kernels.
 */
import { listModelFiles } from "./model-files.ts";
import { randomBytes } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import {
  APP_PROTOCOL_VERSION,
  WS_PATH,
  parseClientMessage,
  type ClientMessage,
  type ErrorCode,
  type RecoveredNotebook,
  type ServerMessage,
} from "../core/app-protocol.ts";
import { importNotebookBytes, notebookFileKind, openNotebookBytes } from "../core/format/index.ts";
import type { Output } from "../core/outputs.ts";
import type { ImportedFrom } from "../core/session/data.ts";
import { assertNever, emptyNotebook, type Notebook } from "../core/notebook.ts";
import { RuntimeError, RuntimeStore } from "./runtimes.ts";
import { DEFAULT_SETTINGS, SettingsStore, UnsavedStore, defaultDataDir } from "./app-data.ts";
import type { KernelFactory } from "./kernel-runner.ts";
import {
  ForbiddenPathError,
  displayPath,
  fileErrorReason,
  isNotebookName,
  isOpenableNotebookName,
  listFolder,
  makeParentFolders,
  resolveInRoot,
} from "./paths.ts";
import {
  checkRequest,
  newToken,
  sameOriginLocation,
  securityHeaders,
  tokenCookie,
  type AccessPolicy,
} from "./security.ts";
import { SANDBOX_PAGE, SANDBOX_PATH, sandboxHeaders } from "./sandbox.ts";
import { Session, SessionError, contentHash } from "./session.ts";
import {
  NotRegularFileError,
  OutsideFolderError,
  isInside,
  readRegularFile,
  removeWriteLeftovers,
} from "./files.ts";
import { packageRoot, serveStatic } from "./static.ts";
import { LessonCatalog, LessonError } from "./learn.ts";

export interface ServerOptions {
  /** The served folder: the file browser's root. Default: the current folder. */
  root?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Access token; default a fresh random one. */
  token?: string;
  /** App data folder (unsaved notebooks). Default `defaultDataDir()`. */
  dataDir?: string;
  /** Folder of the renderer's built files. Default `<package>/dist/renderer`. */
  staticDir?: string;
  /** Delay from the last change to the autosave, ms. Default 2000. */
  autosaveMs?: number;
  /** Longest delay from the first unsaved change to the autosave, however long editing goes on, ms. Default 5000. */
  autosaveMaxMs?: number;
  /**
   * Default for the setting "shut down the kernel of a notebook nobody has open after N
   * minutes" (null: never) when the app data folder has no settings yet. Default 30.
   */
  idleShutdownMinutes?: number | null;
  /**
   * A new notebook nobody edited, whose kernel never started, is closed this long after its
   * last window left (ms; default 30,000): "New notebook" clicked and left behind does not pile
   * up in the running sessions. A reload or reconnect within it finds the session.
   */
  pristineCloseMs?: number;
  /** How kernels are made. Default: kernel processes from `kernel/client.ts`. */
  kernelFactory?: KernelFactory;
  /** The user's runtimes (Jupyter servers). Default: `runtimes.json` in the app data folder. */
  runtimes?: RuntimeStore;
  /** Diagnostic log (default: silent). */
  log?: (message: string) => void;
  /** Folder of the shipped lessons and their `learn.json` (the Learn section). Default `<package>/notebooks`. */
  lessonsDir?: string;
}

export interface RunningServer {
  /** The URL to open, with the token: `http://127.0.0.1:PORT/?token=…`. */
  url: string;
  /** The URL without the token. */
  baseUrl: string;
  token: string;
  port: number;
  /** Absolute, real path of the served folder. */
  root: string;
  /**
   * Open a notebook file by absolute path (from Electron's open dialog or the command line; it
   * may be outside the served folder) and return its session id.
   */
  openFile(file: string): Promise<string>;
  /** Save a session to an absolute path (Electron's save dialog). */
  saveAs(sessionId: string, file: string): Promise<void>;
  /** Flush autosaves, stop kernels, close every connection. */
  close(): Promise<void>;
}

const STATUS_TEXT = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
} as const;

/** A runtime store's refusal becomes the request's error (code "runtime"), in its own words. */
async function runtimeRequest<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RuntimeError) throw new RequestError("runtime", e.message);
    throw e;
  }
}

class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

function randomId(): string {
  return randomBytes(9).toString("base64url").replace(/[-_]/g, "x");
}

/** Default kernels: the kernel helper's process client, loaded lazily so the server starts without it. */
async function defaultKernelFactory(): Promise<KernelFactory> {
  const { kernelProcessFactory } = await import("./kernel-adapter.ts");
  return kernelProcessFactory;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const root = await realpath(options.root ?? process.cwd());
  if (!(await stat(root)).isDirectory()) throw new Error(`${root} is not a folder`);
  const host = options.host ?? "127.0.0.1";
  const token = options.token ?? newToken();
  const staticDir = options.staticDir ?? join(packageRoot(), "dist", "renderer");
  const dataDir = options.dataDir ?? defaultDataDir();
  const unsaved = new UnsavedStore(dataDir);
  const settingsStore = new SettingsStore(dataDir, {
    ...DEFAULT_SETTINGS,
    ...(options.idleShutdownMinutes !== undefined
      ? { idleShutdownMinutes: options.idleShutdownMinutes }
      : {}),
  });
  let settings = await settingsStore.read();
  const idleShutdownMs = () =>
    settings.idleShutdownMinutes === null ? null : settings.idleShutdownMinutes * 60_000;
  const runtimes = options.runtimes ?? new RuntimeStore(dataDir);
  const autosaveMs = options.autosaveMs ?? 2000;
  const kernelFactory = options.kernelFactory ?? (await defaultKernelFactory());
  const log = options.log ?? (() => undefined);
  const lessons = new LessonCatalog(options.lessonsDir ?? join(packageRoot(), "notebooks"));

  // Leftovers of writes interrupted by a crash: in the served folder and the app data folder.
  for (const dir of [root, unsaved.dir])
    for (const name of await removeWriteLeftovers(dir)) log(`removed leftover temp file ${name}`);

  const sessions = new Map<string, Session>();
  const sockets = new Set<WebSocket>();
  /** Client ids of the connected windows. */
  const liveClients = new Set<string>();
  let policy: AccessPolicy = { token, port: 0 };

  const pristineCloseMs = options.pristineCloseMs ?? 30_000;
  /**
   * A window left `session`. A new notebook left untouched — never saved, never edited, its
   * kernel never started, nobody else in it — is closed `pristineCloseMs` later if it is still
   * so then (nothing is in it to lose; a reload or reconnect within that time finds it).
   */
  const leaveSession = (session: Session, clientId: string): void => {
    session.leave(clientId);
    const pristine = () =>
      sessions.get(session.id) === session &&
      session.clients.size === 0 &&
      session.file === null &&
      session.data.docRevision === 0 &&
      session.data.importedFrom === undefined &&
      session.data.kernel.status === "not-started";
    if (!pristine()) return;
    const timer = setTimeout(() => {
      if (!pristine()) return;
      sessions.delete(session.id);
      void session.close();
    }, pristineCloseMs);
    timer.unref?.();
  };

  const newSession = (
    notebook: Notebook,
    file: string | null,
    fingerprint: string | null,
    unsavedId = randomId(),
    cellLines?: Record<string, number>,
    imported?: { outputs: Record<string, Output[]>; importedFrom: ImportedFrom },
  ): Session => {
    const session = new Session({
      id: randomId(),
      notebook,
      file,
      displayPath: file ? displayPath(root, file) : null,
      fingerprint,
      ...(cellLines ? { cellLines } : {}),
      ...(imported ?? {}),
      unsaved,
      unsavedId,
      kernelFactory,
      defaultCwd: root,
      autosaveMs,
      ...(options.autosaveMaxMs !== undefined ? { autosaveMaxMs: options.autosaveMaxMs } : {}),
      confine: file && !isInside(root, file) ? dirname(file) : root,
      journalDir: join(options.dataDir ?? defaultDataDir(), "journal"),
      log,
    });
    sessions.set(session.id, session);
    session.setIdleShutdown(idleShutdownMs());
    return session;
  };

  const summaries = () => Promise.all([...sessions.values()].map((s) => s.summaryWithMemory()));

  const sessionForFile = (file: string) => [...sessions.values()].find((s) => s.file === file);

  /** Unsaved notebooks in the app data folder that no open session holds. */
  const recoveredNotebooks = async (): Promise<RecoveredNotebook[]> => {
    const open = new Set(
      [...sessions.values()].map((s) => (s.file ? null : s.unsavedIdForRecovery())),
    );
    return (await unsaved.list()).filter((r) => !open.has(r.id));
  };

  const openAbsolute = async (file: string): Promise<Session> => {
    const existing = sessionForFile(file);
    if (existing) return existing;
    void removeWriteLeftovers(dirname(file), basename(file)).then((removed) => {
      if (removed.length > 0) log(`removed leftover temp files: ${removed.join(", ")}`);
    });
    let bytes: Buffer;
    try {
      // Non-blocking and regular files only: a FIFO named .tsnb must not hold a thread (or the server).
      const read = await readRegularFile(file);
      if (!read) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      bytes = read.bytes;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RequestError(
        code === "ENOENT" ? "not-found" : "io",
        e instanceof NotRegularFileError
          ? `cannot open ${displayPath(root, file)}: it is not a regular file`
          : `cannot read ${displayPath(root, file)}: ${code ?? (e as Error).message}`,
      );
    }
    if (notebookFileKind(file) === "ipynb") return openJupyter(file, bytes);
    const r = importNotebookBytes(bytes);
    if (!r.ok)
      throw new RequestError(
        "import-failed",
        `${displayPath(root, file)}:${r.error.line}: ${r.error.message}`,
        r.error.line,
      );
    return (
      sessionForFile(file) ??
      newSession(r.notebook, file, contentHash(bytes), randomId(), r.cellLines)
    );
  };

  /**
   * A Jupyter notebook, read through the importer (its outputs shown) and never written: the
   * session saves to NAME.tsnb beside it, or, when that file exists or is open, has no file
   * yet (Save As). Opening the same .ipynb again joins the session made from it.
   */
  const openJupyter = async (file: string, bytes: Buffer): Promise<Session> => {
    const shown = displayPath(root, file);
    const existing = [...sessions.values()].find((s) => s.data.importedFrom?.file === shown);
    if (existing) return existing;
    const opened = openNotebookBytes(shown, bytes);
    if (!opened.ok) throw new RequestError("import-failed", opened.error);
    const target = file.replace(/\.ipynb$/i, ".tsnb");
    const taken =
      sessionForFile(target) !== undefined ||
      (await stat(target).then(
        () => true,
        () => false,
      ));
    return newSession(opened.notebook, taken ? null : target, null, randomId(), undefined, {
      outputs: opened.outputs,
      importedFrom: { file: shown, warnings: opened.warnings },
    });
  };

  const resolve = async (rel: string): Promise<string> => {
    try {
      return await resolveInRoot(root, rel);
    } catch (e) {
      if (e instanceof ForbiddenPathError) throw new RequestError("forbidden-path", e.message);
      throw e;
    }
  };

  // ---- HTTP ----

  const server: Server = createServer((req, res) => {
    // Nothing a request carries may take the server down: an unexpected failure is a 500 for that request.
    handleHttp(req, res).catch((e: unknown) => {
      log(
        `error serving ${req.method} ${String(req.url).slice(0, 200)}: ${(e as Error).stack ?? String(e)}`,
      );
      if (!res.headersSent)
        res.writeHead(500, { ...securityHeaders(), "Content-Type": "text/plain; charset=utf-8" });
      res.end("Internal error\n");
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers = securityHeaders();
    const access = checkRequest(req, policy, false);
    if (!access.ok) {
      res.writeHead(access.status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
      res.end(`${STATUS_TEXT[access.status]}: ${access.reason}\n`);
      return;
    }
    const url = access.url;
    if (access.tokenInQuery) {
      url.searchParams.delete("token");
      res.writeHead(302, {
        ...headers,
        "Set-Cookie": tokenCookie(policy.port, token),
        Location: sameOriginLocation(url),
      });
      res.end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, Allow: "GET" });
      res.end();
      return;
    }
    if (url.pathname === SANDBOX_PATH) {
      res.writeHead(200, sandboxHeaders(headers));
      res.end(SANDBOX_PAGE);
      return;
    }
    if (url.pathname === "/api/health") {
      res.writeHead(200, { ...headers, "Content-Type": "application/json" });
      res.end(JSON.stringify({ ok: true, protocolVersion: APP_PROTOCOL_VERSION }));
      return;
    }
    const served = await serveStatic(staticDir, url.pathname, res, headers);
    if (served) return;
    // Paths without an extension are the app's own routes: serve its page.
    if (!/\.[a-z0-9]+$/i.test(url.pathname) && (await serveStatic(staticDir, "/", res, headers)))
      return;
    res.writeHead(404, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
    res.end("Not found\n");
  }

  // ---- WebSocket ----

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The socket is ours from here: a client that resets it must not raise an unhandled 'error'.
    socket.on("error", () => undefined);
    const refuse = (status: keyof typeof STATUS_TEXT, reason: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`,
      );
    };
    try {
      const access = checkRequest(req, policy, true);
      if (!access.ok) return refuse(access.status, access.reason);
      if (access.url.pathname !== WS_PATH) return refuse(404, "no such endpoint");
      wss.handleUpgrade(req, socket, head, (ws) => connection(ws));
    } catch (e) {
      log(`error upgrading ${String(req.url).slice(0, 200)}: ${(e as Error).stack ?? String(e)}`);
      refuse(400, "bad WebSocket request");
    }
  });

  function connection(ws: WebSocket): void {
    sockets.add(ws);
    let clientId: string | null = null;
    let joined: Session | null = null;
    let helloDone: Promise<void> = Promise.resolve();
    const sendText = (text: string) => {
      if (ws.readyState !== ws.OPEN) return;
      // A window that cannot keep up is dropped; it reconnects and gets a fresh snapshot.
      if (ws.bufferedAmount > 64 * 1024 * 1024) {
        ws.close(1013, "too slow: reconnect");
        return;
      }
      ws.send(text);
    };
    const send = (msg: ServerMessage) => sendText(JSON.stringify(msg));
    const fail = (code: ErrorCode, message: string, requestId?: string, line?: number) => {
      const msg: ServerMessage = { type: "error", code, message };
      if (requestId !== undefined) msg.requestId = requestId;
      if (line !== undefined) msg.line = line;
      send(msg);
    };
    const joinSession = (session: Session, requestId?: string) => {
      if (joined && joined !== session) leaveSession(joined, clientId!);
      joined = session;
      session.join({ id: clientId!, send: sendText }, requestId);
    };
    const getSession = (sessionId: string): Session => {
      const s = sessions.get(sessionId);
      if (!s) throw new RequestError("unknown-session", `no open session ${sessionId}`);
      return s;
    };

    // Invalid frames (bad UTF-8, oversized, reserved opcodes): ws closes the socket with the right
    // code and reports the error here; without a listener it would be thrown and end the server.
    ws.on("error", (e) => log(`WebSocket error: ${e.message}`));
    ws.on("message", (raw, isBinary) => {
      if (isBinary) return fail("bad-message", "messages are JSON text frames");
      const parsed = parseClientMessage(raw.toString());
      if (!parsed.ok) return fail("bad-message", parsed.error, parsed.requestId);
      const msg = parsed.message;
      if (msg.type !== "hello" && clientId === null) return fail("bad-message", "send hello first");
      const run = () =>
        handle(msg).catch((e: unknown) => {
          const requestId = "requestId" in msg ? msg.requestId : undefined;
          if (e instanceof RequestError) return fail(e.code, e.message, requestId, e.line);
          if (e instanceof SessionError) return fail(e.code, e.message, requestId, e.line);
          log(`error handling ${msg.type}: ${(e as Error).stack ?? String(e)}`);
          // A file system error's message names internal paths (temp files): say it in words.
          const fsError = typeof (e as NodeJS.ErrnoException | null)?.syscall === "string";
          fail(
            "io",
            fsError
              ? `${msg.type} failed: ${fileErrorReason(e)}`
              : ((e as Error).message ?? String(e)),
            requestId,
          );
        });
      // Nothing overtakes the handshake (welcome comes first); after it, requests run concurrently
      // (a slow save or table page must not hold up an interrupt) and operations in arrival order.
      if (msg.type === "hello") helloDone = run();
      else void helloDone.then(run);
    });
    ws.on("close", () => {
      sockets.delete(ws);
      if (clientId) liveClients.delete(clientId);
      if (joined && clientId) leaveSession(joined, clientId);
    });

    async function handle(msg: ClientMessage): Promise<void> {
      switch (msg.type) {
        case "hello": {
          if (msg.protocolVersion !== APP_PROTOCOL_VERSION) {
            fail(
              "protocol-version",
              `server speaks protocol ${APP_PROTOCOL_VERSION}, client ${msg.protocolVersion}: reload the page`,
            );
            ws.close(1002, "protocol version");
            return;
          }
          if (clientId !== null) liveClients.delete(clientId);
          // A window keeps its id across reconnects, unless another live window has it (a duplicated tab).
          const wanted = msg.clientId;
          const usable =
            wanted !== undefined &&
            /^[\w-]{1,64}$/.test(wanted) &&
            !["server", "kernel"].includes(wanted) &&
            !liveClients.has(wanted);
          clientId = usable ? wanted : randomId();
          liveClients.add(clientId);
          const recovered = await recoveredNotebooks();
          send({
            type: "welcome",
            protocolVersion: APP_PROTOCOL_VERSION,
            clientId,
            rootName: basename(root),
            sessions: await summaries(),
            recovered,
          });
          if (msg.sessionId !== undefined && sessions.has(msg.sessionId))
            joinSession(sessions.get(msg.sessionId)!);
          return;
        }
        case "apply": {
          const session = getSession(msg.sessionId);
          if (joined !== session)
            throw new RequestError("not-joined", "join the session before changing it");
          session.applyFromClient(clientId!, msg.op, (error) =>
            fail("invalid-operation", error, msg.requestId),
          );
          return;
        }
        case "cursor": {
          const session = getSession(msg.sessionId);
          if (joined !== session) return;
          session.cursor(clientId!, msg);
          return;
        }
        case "join":
          return joinSession(getSession(msg.sessionId), msg.requestId);
        case "leave":
          if (joined?.id === msg.sessionId) {
            leaveSession(joined, clientId!);
            joined = null;
          }
          return;
        case "open-file": {
          const file = await resolve(msg.path);
          if (!isOpenableNotebookName(file))
            throw new RequestError(
              "forbidden-path",
              "only .tsnb, .md and .ipynb files open as notebooks",
            );
          return joinSession(await openAbsolute(file), msg.requestId);
        }
        case "new-notebook":
          return joinSession(newSession(emptyNotebook(), null, null), msg.requestId);
        case "open-recovered": {
          const existing = [...sessions.values()].find(
            (s) => !s.file && s.unsavedIdForRecovery() === msg.id,
          );
          if (existing) return joinSession(existing, msg.requestId);
          let bytes: Buffer;
          try {
            const read = await readRegularFile(unsaved.pathOf(msg.id));
            if (!read) throw new Error("missing");
            bytes = read.bytes;
          } catch {
            throw new RequestError("not-found", `no recovered notebook ${msg.id}`);
          }
          const r = importNotebookBytes(bytes);
          if (!r.ok)
            throw new RequestError(
              "import-failed",
              `recovered notebook:${r.error.line}: ${r.error.message}`,
              r.error.line,
            );
          return joinSession(newSession(r.notebook, null, null, msg.id), msg.requestId);
        }
        case "discard-recovered": {
          if ([...sessions.values()].some((s) => !s.file && s.unsavedIdForRecovery() === msg.id))
            throw new RequestError("exists", "that notebook is open: close it first");
          try {
            await unsaved.remove(msg.id);
          } catch (e) {
            throw new RequestError("not-found", (e as Error).message);
          }
          return done(msg.requestId);
        }
        case "list-files": {
          let entries;
          try {
            entries = await listFolder(root, msg.path);
          } catch (e) {
            if (e instanceof ForbiddenPathError)
              throw new RequestError("forbidden-path", e.message);
            const code = (e as NodeJS.ErrnoException).code;
            throw new RequestError(
              code === "ENOENT" || code === "ENOTDIR" ? "not-found" : "io",
              `cannot list '${msg.path}': ${code}`,
            );
          }
          return send({
            type: "file-list",
            path: msg.path,
            entries,
            ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
          });
        }
        case "list-sessions":
          return send({
            type: "sessions",
            sessions: await summaries(),
            recovered: await recoveredNotebooks(),
            ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
          });
        case "list-lessons":
          return send({
            type: "lessons",
            lessons: await lessons.list(root),
            ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
          });
        case "open-lesson": {
          let rel: string;
          try {
            rel = await lessons.ensureCopy(root, msg.file);
          } catch (e) {
            if (e instanceof LessonError) throw new RequestError(e.code, e.message);
            if (e instanceof ForbiddenPathError || e instanceof OutsideFolderError)
              throw new RequestError("forbidden-path", e.message);
            const reason = (e as NodeJS.ErrnoException).code
              ? fileErrorReason(e)
              : (e as Error).message;
            throw new RequestError("io", `cannot copy the lesson into learn/: ${reason}`);
          }
          return joinSession(await openAbsolute(await resolve(rel)), msg.requestId);
        }
        case "save":
          await getSession(msg.sessionId).save();
          return done(msg.requestId);
        case "save-as": {
          const session = getSession(msg.sessionId);
          const file = await resolve(msg.path);
          if (!isNotebookName(file))
            throw new RequestError("forbidden-path", "notebooks are saved as .tsnb (or .md) files");
          const other = sessionForFile(file);
          if (other && other !== session)
            throw new RequestError("exists", `${msg.path} is open in another session`);
          if (!msg.overwrite && file !== session.file) {
            const exists = await stat(file).then(
              () => true,
              () => false,
            );
            if (exists) throw new RequestError("exists", `${msg.path} already exists`);
          }
          try {
            await makeParentFolders(root, msg.path);
          } catch (e) {
            if (e instanceof ForbiddenPathError)
              throw new RequestError("forbidden-path", e.message);
            const reason = (e as NodeJS.ErrnoException).code
              ? fileErrorReason(e)
              : (e as Error).message;
            throw new RequestError("io", `cannot create the folder of ${msg.path}: ${reason}`);
          }
          await session.saveAs(file, displayPath(root, file));
          return done(msg.requestId);
        }
        case "resolve-conflict":
          await getSession(msg.sessionId).resolveConflict(msg.choice);
          return done(msg.requestId);
        case "close-session": {
          const session = getSession(msg.sessionId);
          sessions.delete(session.id);
          session.broadcast({ type: "session-closed", sessionId: session.id });
          if (joined === session) joined = null;
          await session.close();
          return done(msg.requestId);
        }
        case "shutdown-kernel": {
          getSession(msg.sessionId).applyServer({
            type: "shutdown-kernel",
            clientId: clientId!,
            at: Date.now(),
          });
          return done(msg.requestId);
        }
        case "get-settings":
          return send({ type: "settings", settings, ...rid(msg.requestId) });
        case "set-settings": {
          const next = { ...settings, ...msg.settings };
          await settingsStore.write(next);
          settings = next;
          for (const s of sessions.values()) s.setIdleShutdown(idleShutdownMs());
          return send({ type: "settings", settings, ...rid(msg.requestId) });
        }
        case "table-page": {
          const session = getSession(msg.sessionId);
          const page = await session.tablePage(msg.tableId, msg.offset, msg.limit, msg.sort);
          return send({
            type: "table-page",
            sessionId: session.id,
            tableId: msg.tableId,
            offset: msg.offset,
            rows: page.rows,
            totalRows: page.totalRows,
            ...(msg.sort ? { sort: msg.sort } : {}),
            ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
          });
        }
        case "list-runtimes":
          return sendRuntimes(msg.requestId);
        case "add-runtime":
          await runtimeRequest(() => runtimes.add(msg.name, msg.url, msg.token));
          return sendRuntimes(msg.requestId);
        case "remove-runtime":
          await runtimeRequest(() => runtimes.remove(msg.id));
          return sendRuntimes(msg.requestId);
        case "set-runtime": {
          const session = getSession(msg.sessionId);
          if (joined !== session)
            throw new RequestError("not-joined", "join the session before changing it");
          if (msg.runtimeId === null) session.setRuntime(null);
          else {
            const found = await runtimeRequest(() => runtimes.get(msg.runtimeId!));
            if (!found) throw new RequestError("runtime", `there is no runtime ${msg.runtimeId}`);
            session.setRuntime(found);
          }
          return done(msg.requestId);
        }
        case "list-models": {
          const session = getSession(msg.sessionId);
          return send({
            type: "models",
            sessionId: session.id,
            files: await listModelFiles(session.workingFolder()),
            ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
          });
        }
        default:
          assertNever(msg, "client message");
      }
    }

    function rid(requestId: string | undefined): { requestId?: string } {
      return requestId !== undefined ? { requestId } : {};
    }

    async function sendRuntimes(requestId: string | undefined): Promise<void> {
      const list = await runtimeRequest(() => runtimes.list());
      send({
        type: "runtimes",
        runtimes: list,
        ...(requestId !== undefined ? { requestId } : {}),
      });
    }

    function done(requestId: string | undefined): void {
      send(requestId !== undefined ? { type: "done", requestId } : { type: "done" });
    }
  }

  // ---- listen ----

  const listen = (port: number) =>
    new Promise<void>((resolveListen, reject) => {
      const onError = (e: Error) => {
        server.off("listening", onListening);
        reject(e);
      };
      const onListening = () => {
        server.off("error", onError);
        resolveListen();
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(port, host);
    });
  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const wildcard = host === "0.0.0.0" || host === "::";
  const bracket = (h: string) => (h.includes(":") ? `[${h}]` : h);
  // Listening on every interface: the machine's own addresses and name are accepted as Host (still not arbitrary names: DNS rebinding).
  const extraHosts = wildcard
    ? [
        hostname(),
        ...Object.values(networkInterfaces()).flatMap((list) =>
          (list ?? []).map((i) => bracket(i.address.split("%")[0]!)),
        ),
      ]
    : ["127.0.0.1", "localhost", "::1"].includes(host)
      ? []
      : [bracket(host)];
  policy = { token, port, extraHosts };
  const urlHost =
    wildcard || host === "::1"
      ? host === "::1"
        ? "[::1]"
        : "127.0.0.1"
      : (policy.extraHosts?.[0] ?? host);
  const baseUrl = `http://${urlHost}:${port}/`;

  let closing: Promise<void> | null = null;
  return {
    url: `${baseUrl}?token=${token}`,
    baseUrl,
    token,
    port,
    root,
    async openFile(file: string) {
      return (await openAbsolute(await realpath(file))).id;
    },
    async saveAs(sessionId: string, file: string) {
      const session = sessions.get(sessionId);
      if (!session) throw new Error(`no open session ${sessionId}`);
      // The desktop's save dialog may choose any folder: the file stays confined to that one.
      const folder = await realpath(dirname(file));
      await session.saveAs(join(folder, basename(file)), displayPath(root, file), folder);
    },
    close() {
      closing ??= (async () => {
        server.close();
        await Promise.all([...sessions.values()].map((s) => s.close()));
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}
