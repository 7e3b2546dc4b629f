/**
 * The renderer's side of the app protocol (core/app-protocol.ts): one WebSocket to the server,
 * the `hello`/`welcome` handshake, requests answered by `requestId`, and reconnection with
 * backoff (a reconnecting window asks for its old client id and session, and gets a fresh
 * snapshot, including outputs produced while it was away).
 *
 * Invariant: messages are delivered to `onMessage` in arrival order; nothing here interprets
 * session data.
 */
import {
  APP_PROTOCOL_VERSION,
  WS_PATH,
  type ClientMessage,
  type ServerMessage,
} from "../core/app-protocol.ts";

type Pending = { resolve: (m: ServerMessage) => void; reject: (e: Error) => void };

export type ConnectionState = "connecting" | "open" | "closed";

export class Connection {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private nextRequest = 1;
  private retry = 0;
  private queue: string[] = [];
  clientId: string | null = null;
  /** The session to rejoin on (re)connect. */
  sessionId: string | null = null;

  constructor(
    private readonly onMessage: (m: ServerMessage) => void,
    private readonly onState: (s: ConnectionState) => void,
  ) {}

  connect(): void {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${WS_PATH}`);
    this.ws = ws;
    this.onState("connecting");
    ws.addEventListener("open", () => {
      this.retry = 0;
      const hello: ClientMessage = { type: "hello", protocolVersion: APP_PROTOCOL_VERSION };
      if (this.clientId) hello.clientId = this.clientId;
      if (this.sessionId) hello.sessionId = this.sessionId;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener("message", (ev) => {
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      if (msg.type === "welcome") {
        this.clientId = msg.clientId;
        this.onState("open");
        for (const q of this.queue) ws.send(q);
        this.queue = [];
      }
      const rid = "requestId" in msg ? msg.requestId : undefined;
      if (rid !== undefined) {
        const p = this.pending.get(rid);
        if (p) {
          this.pending.delete(rid);
          if (msg.type === "error")
            p.reject(Object.assign(new Error(msg.message), { code: msg.code, line: msg.line }));
          else p.resolve(msg);
        }
      }
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onState("closed");
      for (const p of this.pending.values()) p.reject(new Error("connection lost"));
      this.pending.clear();
      const delay = Math.min(5000, 200 * 2 ** this.retry++);
      window.setTimeout(() => this.connect(), delay);
    });
  }

  /** Send a message (queued until the handshake is done). */
  send(msg: ClientMessage): void {
    const text = JSON.stringify(msg);
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.clientId) this.ws.send(text);
    else this.queue.push(text);
  }

  /** Send a request and wait for the message that echoes its requestId (or an error). */
  request<T extends ServerMessage = ServerMessage>(msg: ClientMessage): Promise<T> {
    const requestId = `r${this.nextRequest++}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (m: ServerMessage) => void, reject });
      this.send({ ...msg, requestId } as ClientMessage);
    });
  }
}
