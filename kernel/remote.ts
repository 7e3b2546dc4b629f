/**
 * A tsnb kernel on a Jupyter server (Jupyter Server, Kernel Gateway, Enterprise Gateway): the
 * notebook stays here, its cells run there. `jupyterChild(runtime)` is a `KernelOptions.spawn`
 * for `KernelProcess`, so the server's sessions and `tsnb run` drive a remote kernel exactly as a
 * local one — same requests, same events, same reducer.
 *
 *   const kernel = new KernelProcess({ spawn: jupyterChild(parseRuntime(url)) });
 *
 * How: `POST {base}api/kernels {name: "tsnb"}` starts the tsnb kernelspec there (`tsnb kernelspec
 * install` on that machine), the kernel's WebSocket (`api/kernels/ID/channels`, JSON messages)
 * carries Jupyter messages, and a comm of target `tsnb.kernel` (kernel/jupyter.ts) carries tsnb's
 * own protocol lines both ways. Interrupt is a comm message; stop is `DELETE api/kernels/ID`.
 *
 * Invariants: the token is sent only in the Authorization header, never in a URL this code
 * builds, and never appears in a message (`Runtime.display` has none). A lost WebSocket is
 * reported through `log` and reconnected with the same session id, so the server replays what
 * it buffered meanwhile; lines written while disconnected wait in order. When the kernel is
 * gone (the server says dead, or it no longer lists the kernel), the child exits with a
 * `failure` sentence that becomes the kernel's death message.
 */

import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { PassThrough, Writable } from "node:stream";
import WebSocket from "ws";
import type { KernelChild, KernelOptions } from "./client.ts";

/** The comm target of tsnb's own protocol on a Jupyter kernel (kernel/jupyter.ts serves it). */
export const TSNB_COMM_TARGET = "tsnb.kernel";

/** A Jupyter server to run kernels on. */
export interface Runtime {
  /** The server's base URL, ending in "/" (e.g. "http://gpu-box:8888/"). */
  url: string;
  /** Its token; sent as `Authorization: token …`. */
  token: string | null;
  /** The kernelspec to start. Default "tsnb". */
  kernelName: string;
  /** The URL without its token, for messages. */
  display: string;
}

/** Jupyter's own UI paths, dropped from a pasted URL ("http://h:8888/lab?token=…"). */
const UI_PATH = /\/(lab|tree|notebooks|edit|voila|doc)(\/.*)?$/;

/**
 * A runtime from what a user pastes: the URL Jupyter prints (`http://127.0.0.1:8888/lab?token=T`)
 * or a base URL with the token in TSNB_RUNTIME_TOKEN or JUPYTER_TOKEN.
 */
export function parseRuntime(
  text: string,
  options: { kernelName?: string; env?: NodeJS.ProcessEnv } = {},
): Runtime {
  const env = options.env ?? process.env;
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new Error(
      `'${redact(text)}' is not a runtime URL: give the Jupyter server's URL, e.g. http://127.0.0.1:8888/?token=…`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new Error(`a runtime URL is http: or https:, not ${u.protocol} ('${redact(text)}')`);
  if (u.username || u.password)
    throw new Error(
      `a runtime URL carries no user name or password ('${u.host}'): use ?token=… or TSNB_RUNTIME_TOKEN`,
    );
  const token =
    u.searchParams.get("token") || env["TSNB_RUNTIME_TOKEN"] || env["JUPYTER_TOKEN"] || null;
  let path = u.pathname.replace(UI_PATH, "");
  if (!path.endsWith("/")) path += "/";
  const url = `${u.protocol}//${u.host}${path}`;
  return { url, token, kernelName: options.kernelName ?? "tsnb", display: url };
}

/** Text with any `token=…` blanked, for error messages about what the user typed. */
function redact(text: string): string {
  return text.replace(/token=[^&#\s]*/gi, "token=…");
}

/** How `tsnb run` and the server's sessions get a kernel on `runtime`. */
export function jupyterChild(
  runtime: Runtime,
  log: (line: string) => void = () => {},
): (options: KernelOptions) => KernelChild {
  return () => new RemoteKernel(runtime, log);
}

interface JupyterMessage {
  header: { msg_id: string; msg_type: string; session?: string };
  parent_header: unknown;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  channel: string;
  buffers?: unknown[];
}

/** Delays between reconnection attempts (ms); after the last, the kernel is reported lost. */
const RECONNECT_MS = [250, 500, 1000, 2000, 4000, 8000];

class RemoteKernel extends EventEmitter implements KernelChild {
  readonly requests: Writable;
  readonly events = new PassThrough();
  readonly interrupts: Writable;
  readonly output = [new PassThrough()];
  /** Why it ended, when that was not the kernel's own doing. */
  failure: string | null = null;
  /** The kernel's id on the server, once started. */
  kernelId: string | null = null;

  private ws: WebSocket | null = null;
  private readonly session = randomUUID();
  private readonly commId = randomUUID();
  private outbox: string[] = [];
  private pendingLines: string[] = [];
  private partial = "";
  private ended = false;
  private connected = false;

  constructor(
    private readonly runtime: Runtime,
    private readonly log: (line: string) => void,
  ) {
    super();
    this.requests = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.takeRequests(chunk.toString("utf8"));
        done();
      },
    });
    this.interrupts = new Writable({
      write: (_chunk, _enc, done) => {
        this.sendComm({ interrupt: true });
        done();
      },
    });
    void this.begin();
  }

  private headers(): Record<string, string> {
    return this.runtime.token ? { Authorization: `token ${this.runtime.token}` } : {};
  }

  private async api(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(this.runtime.url + path, {
        method,
        headers: { ...this.headers(), ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach the Jupyter server at ${this.runtime.display}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
  }

  private async begin(): Promise<void> {
    try {
      const res = await this.api("POST", "api/kernels", { name: this.runtime.kernelName });
      if (!res.ok) throw new Error(await this.refusal(res));
      const body = (await res.json()) as { id?: unknown };
      if (typeof body.id !== "string") throw new Error("the Jupyter server gave no kernel id");
      this.kernelId = body.id;
      await this.open();
    } catch (err) {
      if (this.ended) return;
      this.ended = true;
      this.emit("error", err as Error);
    }
  }

  /** What a refused request means, in the user's terms. */
  private async refusal(res: Response): Promise<string> {
    const text = await res.text().catch(() => "");
    let message = text;
    try {
      message = String((JSON.parse(text) as { message?: unknown }).message ?? text);
    } catch {
      // not JSON
    }
    const at = `the Jupyter server at ${this.runtime.display}`;
    if (res.status === 401 || res.status === 403)
      return `${at} refused the token (${res.status}${this.runtime.token ? "" : "; no token was given: add ?token=… to the URL or set TSNB_RUNTIME_TOKEN"})`;
    // Servers word a missing kernelspec differently (Jupyter Server 1.x answers a bare 500):
    // ask which kernels it has.
    const specs = await this.kernelspecs();
    if (specs && !specs.includes(this.runtime.kernelName))
      return `${at} has no kernel named '${this.runtime.kernelName}' (it has: ${specs.join(", ") || "none"}): run \`tsnb kernelspec install\` on that machine`;
    return `${at} answered ${res.status} ${res.statusText}${message ? `: ${message.slice(0, 300)}` : ""}`;
  }

  /** The kernelspec names the server offers, or null when it does not say. */
  private async kernelspecs(): Promise<string[] | null> {
    try {
      const res = await this.api("GET", "api/kernelspecs");
      if (!res.ok) return null;
      const body = (await res.json()) as { kernelspecs?: Record<string, unknown> };
      return body.kernelspecs ? Object.keys(body.kernelspecs).sort() : null;
    } catch {
      return null;
    }
  }

  /** Open (or reopen) the kernel's WebSocket; resolves when open. */
  private open(): Promise<void> {
    const base = this.runtime.url.replace(/^http/, "ws");
    const url = `${base}api/kernels/${this.kernelId}/channels?session_id=${this.session}`;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers: this.headers(), maxPayload: 256 * 1024 * 1024 });
      this.ws = ws;
      let opened = false;
      ws.on("open", () => {
        opened = true;
        const first = !this.connected;
        this.connected = true;
        if (first) {
          ws.send(
            this.message("comm_open", {
              comm_id: this.commId,
              target_name: TSNB_COMM_TARGET,
              data: {},
            }),
          );
        }
        const out = this.outbox;
        this.outbox = [];
        for (const m of out) ws.send(m);
        resolve();
      });
      ws.on("message", (data) => this.receive(String(data)));
      ws.on("unexpected-response", (_req, res) => {
        reject(
          new Error(
            `the Jupyter server at ${this.runtime.display} refused the kernel's WebSocket (${res.statusCode})`,
          ),
        );
        ws.terminate();
      });
      ws.on("error", (err) => {
        if (!opened) reject(new Error(`cannot open the kernel's WebSocket: ${err.message}`));
      });
      ws.on("close", () => {
        if (this.ws === ws) this.ws = null;
        if (opened && !this.ended) void this.reconnect();
      });
    });
  }

  private async reconnect(): Promise<void> {
    this.log(`lost the connection to ${this.runtime.display}; reconnecting`);
    for (const delay of RECONNECT_MS) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.ended) return;
      try {
        const res = await this.api("GET", `api/kernels/${this.kernelId}`);
        if (res.status === 404) {
          this.exit(`the kernel is gone from the Jupyter server at ${this.runtime.display}`);
          return;
        }
        if (!res.ok) continue;
        await this.open();
        this.log(`reconnected to ${this.runtime.display}`);
        return;
      } catch {
        // try again
      }
    }
    this.exit(`lost the connection to the Jupyter server at ${this.runtime.display}`);
  }

  private receive(text: string): void {
    let msg: JupyterMessage;
    try {
      msg = JSON.parse(text) as JupyterMessage;
    } catch {
      return; // binary frames of other protocols: not ours
    }
    if (msg.channel !== "iopub") return;
    const c = msg.content ?? {};
    switch (msg.header?.msg_type) {
      case "comm_msg": {
        if (c["comm_id"] !== this.commId) return;
        const lines = (c["data"] as { lines?: unknown } | undefined)?.lines;
        if (Array.isArray(lines)) for (const line of lines) this.events.write(`${line}\n`);
        return;
      }
      case "comm_close":
        if (c["comm_id"] === this.commId)
          this.exit("another tsnb client attached to this kernel and took it over");
        return;
      case "status":
        if (c["execution_state"] === "dead" || c["execution_state"] === "restarting")
          this.exit(
            `the kernel on ${this.runtime.display} died (the server says '${String(c["execution_state"])}')`,
          );
        return;
    }
  }

  private message(type: string, content: Record<string, unknown>): string {
    return JSON.stringify({
      header: {
        msg_id: randomUUID(),
        msg_type: type,
        username: "tsnb",
        session: this.session,
        date: new Date().toISOString(),
        version: "5.3",
      },
      parent_header: {},
      metadata: {},
      content,
      channel: "shell",
      buffers: [],
    });
  }

  private sendComm(data: Record<string, unknown>): void {
    if (this.ended) return;
    const m = this.message("comm_msg", { comm_id: this.commId, data });
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(m);
    else this.outbox.push(m);
  }

  /** Request lines from `KernelProcess`; a shutdown ends the kernel on the server. */
  private takeRequests(text: string): void {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line) continue;
      if (/^\{"type":"shutdown"/.test(line)) {
        void this.shutdown();
        continue;
      }
      this.pendingLines.push(line);
    }
    if (this.pendingLines.length > 0) {
      const lines = this.pendingLines;
      this.pendingLines = [];
      this.sendComm({ lines });
    }
  }

  private async shutdown(): Promise<void> {
    if (this.ended) return;
    await this.deleteKernel();
    this.exit(null);
  }

  private async deleteKernel(): Promise<void> {
    if (!this.kernelId) return;
    try {
      await this.api("DELETE", `api/kernels/${this.kernelId}`);
    } catch {
      // the server is gone; nothing more to stop
    }
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.ended) return;
    void this.deleteKernel();
    this.exit(null, signal);
  }

  private exit(failure: string | null, signal: NodeJS.Signals | null = null): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = failure;
    if (failure) this.output[0]!.write(`${failure}\n`);
    this.ws?.close();
    this.emit("exit", failure ? 1 : 0, signal);
  }
}
