/** Shared helpers for server tests: a temp folder, a server on it, and a WebSocket client that waits for messages. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { APP_PROTOCOL_VERSION, type ServerMessage } from "../../core/app-protocol.ts";
import { applyOperation, type SessionData } from "../../core/session/data.ts";
import type { Operation } from "../../core/session/operations.ts";
import { startServer, type RunningServer, type ServerOptions } from "../../server/server.ts";
import { fakeKernelFactory } from "./fake-kernel.ts";

export async function tempDir(
  prefix = "tsnb-server-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestServer {
  server: RunningServer;
  root: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A server on a fresh temp root with the fake kernel (unless options say otherwise). */
export async function testServer(options: ServerOptions = {}): Promise<TestServer> {
  const t = await tempDir();
  const root = join(t.dir, "root");
  const dataDir = join(t.dir, "data");
  await import("node:fs/promises").then((fs) => Promise.all([fs.mkdir(root), fs.mkdir(dataDir)]));
  const server = await startServer({
    root,
    dataDir,
    autosaveMs: 100,
    kernelFactory: fakeKernelFactory(),
    ...options,
  });
  return {
    server,
    root: server.root,
    dataDir,
    async close() {
      await server.close();
      await t.cleanup();
    },
  };
}

/** A protocol client: connects with the token, says hello, and lets tests await messages. */
export class Client {
  readonly messages: ServerMessage[] = [];
  private waiters: Array<{
    pred: (m: ServerMessage) => boolean;
    resolve: (m: ServerMessage) => void;
  }> = [];
  /** The client's own copy of each joined session, kept the way a renderer keeps it (snapshot + applied ops). */
  readonly copies = new Map<string, SessionData>();
  clientId = "";
  welcome: Extract<ServerMessage, { type: "welcome" }> | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (raw) => {
      const msg = JSON.parse(raw.toString()) as ServerMessage;
      this.messages.push(msg);
      if (msg.type === "joined") this.copies.set(msg.sessionId, msg.snapshot);
      if (msg.type === "applied") {
        const cur = this.copies.get(msg.sessionId);
        if (cur) {
          if (cur.revision + 1 !== msg.revision)
            throw new Error(`revision gap: ${cur.revision} → ${msg.revision}`);
          const r = applyOperation(cur, msg.op);
          if (!r.ok) throw new Error(`client copy refused ${msg.op.type}: ${r.error}`);
          this.copies.set(msg.sessionId, r.data);
        }
      }
      this.waiters = this.waiters.filter((w) => {
        if (w.pred(msg)) {
          w.resolve(msg);
          return false;
        }
        return true;
      });
    });
  }

  static async connect(
    server: Pick<RunningServer, "port" | "token">,
    hello: { clientId?: string; sessionId?: string } = {},
  ): Promise<Client> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, {
      headers: { Authorization: `Bearer ${server.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const c = new Client(ws);
    const welcome = c.next("welcome");
    c.send({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION, ...hello });
    c.welcome = await welcome;
    c.clientId = c.welcome.clientId;
    return c;
  }

  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** The next message (after those already awaited) matching `type` and `pred`; waits up to `timeoutMs`. */
  next<T extends ServerMessage["type"]>(
    type: T,
    pred: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const match = (m: ServerMessage): m is Extract<ServerMessage, { type: T }> =>
      m.type === type && pred(m as Extract<ServerMessage, { type: T }>);
    const found = this.messages.find(match);
    if (found) {
      this.messages.splice(this.messages.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${type}; got ${this.messages.map((m) => (m.type === "applied" ? `applied:${m.op.type}` : m.type)).join(", ")}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        pred: match as (m: ServerMessage) => boolean,
        resolve: (m) => {
          clearTimeout(timer);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m as Extract<ServerMessage, { type: T }>);
        },
      });
    });
  }

  /** Wait for an applied operation of `opType` (optionally matching `pred`). */
  async applied<T extends Operation["type"]>(
    opType: T,
    pred: (op: Extract<Operation, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<{ sessionId: string; revision: number; op: Extract<Operation, { type: T }> }> {
    const m = await this.next(
      "applied",
      (m) => m.op.type === opType && pred(m.op as Extract<Operation, { type: T }>),
      timeoutMs,
    );
    return m as unknown as {
      sessionId: string;
      revision: number;
      op: Extract<Operation, { type: T }>;
    };
  }

  close(): void {
    this.ws.close();
  }
}

/** A server in its own process (test/server/server-child.ts), for crash and hang tests. */
export interface ChildServer {
  port: number;
  token: string;
  root: string;
  dataDir: string;
  pid: number;
  /** Resolves with the exit code and signal once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its standard error so far (the last 8 KB). */
  stderr(): string;
  /** SIGKILL it (if still running) and wait for the exit. */
  kill(): Promise<void>;
}

/** Start test/server/server-child.ts on ROOT (created if missing) with the fake kernel; resolves once it listens. */
export async function spawnServerChild(
  root: string,
  dataDir: string,
  autosaveMs: number,
  extra: string[] = [],
): Promise<ChildServer> {
  const { spawn } = await import("node:child_process");
  const { mkdir } = await import("node:fs/promises");
  const { fileURLToPath } = await import("node:url");
  await mkdir(root, { recursive: true });
  const script = fileURLToPath(new URL("./server-child.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", script, root, dataDir, String(autosaveMs), ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let err = "";
  child.stderr.on("data", (d) => (err = (err + d.toString()).slice(-8192)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => r({ code, signal })),
  );
  const info = await new Promise<{ port: number; token: string; root: string }>(
    (resolve, reject) => {
      let buf = "";
      child.stdout.on("data", (d) => {
        buf += d.toString();
        if (buf.includes("\n")) resolve(JSON.parse(buf.slice(0, buf.indexOf("\n"))));
      });
      void exited.then(() => reject(new Error(`server child exited: ${err}`)));
    },
  );
  return {
    ...info,
    dataDir,
    pid: child.pid!,
    exited,
    stderr: () => err,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
