/**
 * `tsnb kernel --jupyter CONNECTION_FILE`: the tsnb kernel behind Jupyter's messaging protocol,
 * so JupyterLab, VS Code, nbconvert, jupyter_client and Jupyter servers (Kernel Gateway,
 * Enterprise Gateway) run TypeScript cells with tsnb's semantics.
 *
 * This process is a bridge: it binds the five ZeroMQ channels the connection file names
 * (shell, control, stdin: ROUTER; iopub: PUB; heartbeat: REP echo) and runs the real tsnb kernel
 * as its child through `KernelProcess` — the same evaluation (REPL mode, top-level await, imports,
 * interrupt that keeps state, tsnb/nx) as the app and `tsnb run`.
 *
 * Mapping (docs/jupyter.md):
 * - execute_request → `evaluate`; console → `stream`; display(...) → `display_data`; the last
 *   expression → `execute_result`; a failure → `error` with a traceback located in the cell
 *   ("In [3]:LINE:COL"); outputs updated later → `update_display_data` by display id.
 * - interrupt_request (control) and SIGINT (interrupt_mode "signal") → the kernel's interrupt.
 * - shutdown_request → the child stops, replies, this process exits (a restart is the client
 *   starting a new process, as Jupyter clients do).
 * - complete_request / inspect_request → the TypeScript language service over the cells run so
 *   far (kernel/jupyter-complete.ts); is_complete_request → esbuild's parser.
 * - A comm of target `tsnb.kernel` carries tsnb's own kernel protocol (core/kernel-protocol.ts)
 *   both ways, for a tsnb app or `tsnb run --runtime` using this kernel through a Jupyter server
 *   (kernel/remote.ts): `comm_msg {lines}` from the client are requests written to the kernel as
 *   they are (after validation), every kernel event goes back as `comm_msg {lines}` on iopub,
 *   batched so a chatty cell stays under the servers' iopub message-rate limits, and
 *   `{interrupt: true}` interrupts. The first line is the kernel's `hello`.
 *
 * Invariants: requests on the shell channel are answered in order, each between an iopub
 * `busy` and `idle`; a message with a bad signature is dropped (and logged), never acted on;
 * each socket has one send in flight at a time (zeromq's rule), through `Channel`.
 */

import { readFileSync } from "node:fs";
import { transform } from "esbuild";
import * as zmq from "zeromq";
import {
  parseKernelRequest,
  type KernelEvent,
  type EvaluationFinishedEvent,
} from "../core/kernel-protocol.ts";
import { terminalChunks, type Output } from "../core/outputs.ts";
import { KernelProcess } from "./client.ts";
import { outputToBundle, withPushedRows, VEGA_LITE_MIME } from "./jupyter-mime.ts";
import {
  JUPYTER_PROTOCOL_VERSION,
  Wire,
  WireError,
  codePointToUtf16,
  endpoint,
  parseConnectionFile,
  type ConnectionInfo,
  type Message,
} from "./jupyter-wire.ts";
import { Completer } from "./jupyter-complete.ts";
import { TSNB_COMM_TARGET } from "./remote.ts";

declare const __TSNB_VERSION__: string | undefined;

/** Serialises sends on one socket (zeromq allows one pending send per socket). */
class Channel {
  private tail: Promise<void> = Promise.resolve();
  constructor(readonly socket: zmq.Router | zmq.Publisher | zmq.Reply) {}
  send(frames: Buffer[]): Promise<void> {
    const next = this.tail.then(() => (this.socket as zmq.Router).send(frames));
    this.tail = next.catch(() => {});
    return next;
  }
}

interface LiveChart {
  spec: unknown;
  dataset: string | undefined;
  rows: unknown[];
}

/** How many updatable outputs the bridge remembers (oldest forgotten first). */
const MAX_LIVE = 200;

/** Kernel events are sent to an attached tsnb client at most this often (ms) and this many per message. */
const BATCH_MS = 10;
const BATCH_LINES = 500;

/** A tsnb client attached through the `tsnb.kernel` comm. */
interface Attached {
  commId: string;
  parent: Message;
  off: () => void;
  lines: string[];
  timer: ReturnType<typeof setTimeout> | null;
}

export class JupyterKernel {
  private readonly wire: Wire;
  private shell!: Channel;
  private control!: Channel;
  private stdin!: Channel;
  private iopub!: Channel;
  private hb!: zmq.Reply;
  private executionCount = 0;
  /** Shell requests are handled one at a time, in order. */
  private shellQueue: Promise<void> = Promise.resolve();
  private readonly charts = new Map<string, LiveChart>();
  private readonly frames = new Map<string, Output[]>();
  private readonly completer = new Completer();
  private stopped: ((status: number) => void) | null = null;
  private dead = false;
  private attached: Attached | null = null;
  /** A shutdown was asked for (it may arrive while the tsnb kernel is still starting). */
  private shuttingDown = false;
  /** Resolves with the exit status when the kernel has shut down. */
  readonly done: Promise<number>;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly kernel: KernelProcess,
    private readonly log: (line: string) => void = (l) =>
      process.stderr.write(`tsnb kernel: ${l}\n`),
  ) {
    this.wire = new Wire(info);
    this.done = new Promise((resolve) => (this.stopped = resolve));
  }

  async start(): Promise<void> {
    const shell = new zmq.Router({ linger: 0 });
    const control = new zmq.Router({ linger: 0 });
    const stdin = new zmq.Router({ linger: 0 });
    const iopub = new zmq.Publisher({ linger: 0 });
    this.hb = new zmq.Reply({ linger: 0 });
    await Promise.all([
      shell.bind(endpoint(this.info, this.info.shell_port)),
      control.bind(endpoint(this.info, this.info.control_port)),
      stdin.bind(endpoint(this.info, this.info.stdin_port)),
      iopub.bind(endpoint(this.info, this.info.iopub_port)),
      this.hb.bind(endpoint(this.info, this.info.hb_port)),
    ]);
    this.shell = new Channel(shell);
    this.control = new Channel(control);
    this.stdin = new Channel(stdin);
    this.iopub = new Channel(iopub);
    void this.heartbeat();
    void this.listen(shell, (m) => {
      this.shellQueue = this.shellQueue
        .then(() => this.handle(m, this.shell))
        .catch((err) => {
          this.log(`shell request failed: ${(err as Error).stack ?? err}`);
        });
    });
    // Control requests (interrupt, shutdown) are handled at once, beside a running execution.
    void this.listen(control, (m) => void this.handle(m, this.control));
    void this.listen(stdin, () => {});
    // A dead tsnb kernel ends this process too, once the running request is answered, so the
    // Jupyter client sees a dead kernel and restarts it (its own "kernel died" path).
    this.kernel.onDeath((death) => {
      this.log(`the tsnb kernel died: ${death.message}`);
      this.dead = true;
      this.shellQueue = this.shellQueue.then(() => this.stop(1));
    });
    try {
      await this.kernel.start();
    } catch (err) {
      // Shut down before the tsnb kernel was ready (a client that gave up, a fast restart).
      if (this.shuttingDown) return;
      throw err;
    }
    await this.publish("status", { execution_state: "starting" }, null);
    await this.publish("status", { execution_state: "idle" }, null);
  }

  /** SIGINT in interrupt_mode "signal": stop the running cell, keep the state. */
  interrupt(): void {
    this.kernel.interrupt();
  }

  async stop(status = 0): Promise<void> {
    this.shuttingDown = true;
    if (this.attached) await this.flush(this.attached);
    if (!this.dead) await this.kernel.stop();
    for (const ch of [this.shell, this.control, this.stdin, this.iopub]) ch?.socket.close();
    this.hb?.close();
    this.stopped?.(status);
  }

  private async heartbeat(): Promise<void> {
    try {
      for await (const frames of this.hb) await this.hb.send(frames);
    } catch {
      // closed
    }
  }

  private async listen(socket: zmq.Router, onMessage: (m: Message) => void): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: Message;
        try {
          msg = this.wire.parse(frames as Buffer[]);
        } catch (err) {
          if (err instanceof WireError) {
            this.log(`dropped a message: ${err.message}`);
            continue;
          }
          throw err;
        }
        onMessage(msg);
      }
    } catch (err) {
      if (!(err as { code?: string }).code?.startsWith("E")) this.log(String(err));
    }
  }

  private publish(
    type: string,
    content: Record<string, unknown>,
    parent: Message | null,
  ): Promise<void> {
    return this.iopub.send(
      this.wire.frames(type, content, parent, [Buffer.from(`kernel.${type}`)]),
    );
  }

  private reply(
    channel: Channel,
    parent: Message,
    type: string,
    content: Record<string, unknown>,
  ): Promise<void> {
    return channel.send(this.wire.frames(type, content, parent));
  }

  private async handle(msg: Message, channel: Channel): Promise<void> {
    const type = msg.header.msg_type;
    await this.publish("status", { execution_state: "busy" }, msg);
    try {
      switch (type) {
        case "kernel_info_request":
          await this.reply(channel, msg, "kernel_info_reply", kernelInfo());
          break;
        case "execute_request":
          await this.execute(msg, channel);
          break;
        case "is_complete_request":
          await this.reply(
            channel,
            msg,
            "is_complete_reply",
            await isComplete(String(msg.content["code"] ?? "")),
          );
          break;
        case "complete_request":
          await this.reply(channel, msg, "complete_reply", await this.complete(msg));
          break;
        case "inspect_request":
          await this.reply(channel, msg, "inspect_reply", await this.inspect(msg));
          break;
        case "history_request":
          await this.reply(channel, msg, "history_reply", { status: "ok", history: [] });
          break;
        case "comm_info_request":
          await this.reply(channel, msg, "comm_info_reply", {
            status: "ok",
            comms: this.attached
              ? { [this.attached.commId]: { target_name: TSNB_COMM_TARGET } }
              : {},
          });
          break;
        case "comm_open":
          await this.commOpen(msg);
          break;
        case "comm_msg":
          this.commMsg(msg);
          break;
        case "comm_close":
          if (this.attached?.commId === msg.content["comm_id"]) this.detach();
          break;
        case "interrupt_request":
          this.kernel.interrupt();
          await this.reply(channel, msg, "interrupt_reply", { status: "ok" });
          break;
        case "shutdown_request": {
          const restart = msg.content["restart"] === true;
          this.shuttingDown = true;
          await this.kernel.stop();
          await this.reply(channel, msg, "shutdown_reply", { status: "ok", restart });
          await this.publish("status", { execution_state: "idle" }, msg);
          // Give the reply a moment to leave before the sockets close.
          setTimeout(() => void this.stop(), 50);
          return;
        }
        default:
          // Unknown requests (comm_open from widgets, debug_request…) get no reply, as ipykernel
          // does for messages it does not implement; the log says what was ignored.
          this.log(`ignored ${type}`);
      }
    } finally {
      if (type !== "shutdown_request")
        await this.publish("status", { execution_state: "idle" }, msg);
    }
  }

  private async execute(msg: Message, channel: Channel): Promise<void> {
    const code = String(msg.content["code"] ?? "");
    const silent = msg.content["silent"] === true;
    const storeHistory = !silent && msg.content["store_history"] !== false;
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await this.publish("execute_input", { code, execution_count: count }, msg);
    const pending: Promise<void>[] = [];
    const onEvent = (e: KernelEvent) => {
      if (!silent) pending.push(this.forward(e, msg));
    };
    const fin = await this.kernel.evaluate(
      { evalId: msg.header.msg_id, cellId: `In[${count}]`, code, file: `In [${count}]`, line: 1 },
      onEvent,
    );
    await Promise.all(pending);
    if (fin.status === "ok") this.completer.ran(code);
    if (fin.status === "ok") {
      if (fin.result && !silent) {
        const b = outputToBundle(fin.result);
        if (fin.resultText && fin.result.type === "value") b.data["text/plain"] = fin.resultText;
        await this.publish(
          "execute_result",
          { execution_count: count, data: b.data, metadata: b.metadata },
          msg,
        );
      }
      await this.reply(channel, msg, "execute_reply", {
        status: "ok",
        execution_count: count,
        user_expressions: {},
        payload: [],
      });
      return;
    }
    const error = errorContent(fin);
    if (!silent) await this.publish("error", error, msg);
    await this.reply(channel, msg, "execute_reply", {
      status: "error",
      execution_count: count,
      ...error,
    });
  }

  /** A tsnb client attaches: from now on every kernel event goes to it. */
  private async commOpen(msg: Message): Promise<void> {
    const commId = String(msg.content["comm_id"] ?? "");
    if (msg.content["target_name"] !== TSNB_COMM_TARGET || !commId) {
      // Not ours (widgets): close it at once, as ipykernel does for an unknown target.
      await this.publish("comm_close", { comm_id: commId, data: {} }, msg);
      return;
    }
    if (this.attached) {
      const old = this.attached;
      this.detach();
      await this.publish("comm_close", { comm_id: old.commId, data: {} }, msg);
    }
    const info = this.kernel.info ?? (await this.kernel.start());
    const a: Attached = { commId, parent: msg, off: () => {}, lines: [], timer: null };
    this.attached = a;
    this.queueLine(a, JSON.stringify(info));
    a.off = this.kernel.onEvent((e) => this.queueLine(a, JSON.stringify(e)));
  }

  private commMsg(msg: Message): void {
    const a = this.attached;
    if (!a || msg.content["comm_id"] !== a.commId) return;
    const data = (msg.content["data"] ?? {}) as { lines?: unknown; interrupt?: unknown };
    if (data.interrupt === true) this.kernel.interrupt();
    if (!Array.isArray(data.lines)) return;
    for (const line of data.lines) {
      try {
        this.kernel.send(parseKernelRequest(String(line)));
      } catch (err) {
        this.queueLine(
          a,
          JSON.stringify({ type: "protocol-error", message: (err as Error).message }),
        );
      }
    }
  }

  private queueLine(a: Attached, line: string): void {
    a.lines.push(line);
    if (a.lines.length >= BATCH_LINES) this.flush(a);
    else a.timer ??= setTimeout(() => this.flush(a), BATCH_MS);
  }

  private flush(a: Attached): Promise<void> {
    if (a.timer) clearTimeout(a.timer);
    a.timer = null;
    if (a.lines.length === 0) return Promise.resolve();
    const lines = a.lines;
    a.lines = [];
    return this.publish("comm_msg", { comm_id: a.commId, data: { lines } }, a.parent).catch((err) =>
      this.log(`comm_msg: ${(err as Error).message}`),
    );
  }

  private detach(): void {
    const a = this.attached;
    if (!a) return;
    void this.flush(a);
    a.off();
    this.attached = null;
  }

  /** One kernel event of a running (or finished) evaluation → iopub. */
  private async forward(e: KernelEvent, parent: Message): Promise<void> {
    if (e.type === "output") {
      const o = e.output;
      if (o.type === "terminal") {
        // One console here, one `stream` message per run of a stream in Jupyter's protocol.
        for (const c of terminalChunks(o))
          if (c.text !== "") await this.publish("stream", { name: c.stream, text: c.text }, parent);
        return;
      }
      if (o.type === "error") {
        await this.publish(
          "error",
          { ename: o.name, evalue: o.message, traceback: o.stack.split("\n") },
          parent,
        );
        return;
      }
      if (o.type === "vega-lite" && o.id)
        this.remember(this.charts, o.id, { spec: o.spec, dataset: o.dataset, rows: [] });
      if (o.type === "frame") this.remember(this.frames, o.id, o.outputs.slice());
      const b = outputToBundle(o);
      await this.publish(
        "display_data",
        {
          data: b.data,
          metadata: b.metadata,
          transient: b.displayId ? { display_id: b.displayId } : {},
        },
        parent,
      );
      return;
    }
    if (e.type !== "output-update") return;
    const u = e.update;
    let bundle: ReturnType<typeof outputToBundle> | null = null;
    switch (u.type) {
      case "vega-lite-push": {
        const chart = this.charts.get(u.id);
        if (!chart) return;
        chart.rows.push(...u.rows);
        if (u.window && chart.rows.length > u.window)
          chart.rows.splice(0, chart.rows.length - u.window);
        bundle = {
          data: {
            [VEGA_LITE_MIME]: withPushedRows(chart.spec, chart.dataset, chart.rows),
            "text/plain": "[vega-lite chart]",
          },
          metadata: {},
          displayId: u.id,
        };
        break;
      }
      case "frame-replace":
      case "frame-append": {
        const outputs =
          u.type === "frame-replace"
            ? u.outputs.slice()
            : [...(this.frames.get(u.id) ?? []), ...u.outputs];
        this.remember(this.frames, u.id, outputs);
        bundle = outputToBundle({ type: "frame", id: u.id, outputs });
        break;
      }
      case "progress-set":
        bundle = outputToBundle({
          type: "progress",
          id: u.id,
          fraction: u.fraction,
          label: u.label,
        });
        break;
      case "table-page":
      case "input-value":
        return;
    }
    await this.publish(
      "update_display_data",
      { data: bundle.data, metadata: bundle.metadata, transient: { display_id: u.id } },
      parent,
    );
  }

  private remember<T>(map: Map<string, T>, id: string, value: T): void {
    map.delete(id);
    map.set(id, value);
    if (map.size > MAX_LIVE) map.delete(map.keys().next().value as string);
  }

  private async complete(msg: Message): Promise<Record<string, unknown>> {
    const code = String(msg.content["code"] ?? "");
    const cursor = codePointToUtf16(code, Number(msg.content["cursor_pos"] ?? code.length));
    const r = await this.completer.complete(code, cursor);
    return {
      status: "ok",
      matches: r.matches,
      cursor_start: [...code.slice(0, r.start)].length,
      cursor_end: [...code.slice(0, r.end)].length,
      metadata: {},
    };
  }

  private async inspect(msg: Message): Promise<Record<string, unknown>> {
    const code = String(msg.content["code"] ?? "");
    const cursor = codePointToUtf16(code, Number(msg.content["cursor_pos"] ?? code.length));
    const text = await this.completer.inspect(code, cursor);
    return text
      ? {
          status: "ok",
          found: true,
          data: { "text/plain": text, "text/markdown": "```ts\n" + text + "\n```" },
          metadata: {},
        }
      : { status: "ok", found: false, data: {}, metadata: {} };
  }
}

function kernelInfo(): Record<string, unknown> {
  const version = typeof __TSNB_VERSION__ === "string" ? __TSNB_VERSION__ : "0.1.0";
  return {
    status: "ok",
    protocol_version: JUPYTER_PROTOCOL_VERSION,
    implementation: "tsnb",
    implementation_version: version,
    language_info: {
      name: "typescript",
      version: "5.9",
      mimetype: "text/typescript",
      file_extension: ".ts",
      pygments_lexer: "typescript",
      codemirror_mode: { name: "javascript", typescript: true },
    },
    banner: `tsnb ${version}: TypeScript with tsnb/nx on ONNX Runtime (Node ${process.version})`,
    help_links: [],
  };
}

function errorContent(fin: EvaluationFinishedEvent): {
  ename: string;
  evalue: string;
  traceback: string[];
} {
  const e = fin.error;
  if (!e) return { ename: "Error", evalue: `evaluation ${fin.status}`, traceback: [] };
  return {
    ename: e.name,
    evalue: e.message,
    traceback: e.stack ? e.stack.split("\n") : [`${e.name}: ${e.message}`],
  };
}

/** is_complete_request: esbuild's TypeScript parser says whether more input is needed. */
export async function isComplete(code: string): Promise<{ status: string; indent?: string }> {
  if (code.trim() === "") return { status: "complete" };
  try {
    await transform(code, { loader: "ts", format: "esm", logLevel: "silent" });
    return { status: "complete" };
  } catch (err) {
    const errors = (err as { errors?: { text: string }[] }).errors ?? [];
    if (errors.some((e) => /end of file|Unterminated/i.test(e.text))) {
      const last = code.split("\n").pop() ?? "";
      const indent = (/^\s*/.exec(last)?.[0] ?? "") + (/[{([]\s*$/.test(last) ? "  " : "");
      return { status: "incomplete", indent };
    }
    return { status: "invalid" };
  }
}

/**
 * Jupyter's launchers set JPY_PARENT_PID to the process that owns the kernel (the server, the
 * notebook client). When it is gone without shutting the kernel down (killed, crashed), stop, as
 * ipykernel's ParentPoller does, instead of running on as an orphan holding memory and a GPU.
 */
function watchParent(k: JupyterKernel): void {
  const ppid = Number(process.env["JPY_PARENT_PID"]);
  if (!Number.isInteger(ppid) || ppid <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(ppid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EPERM") return; // alive, another user's
      clearInterval(timer);
      process.stderr.write(`tsnb kernel: parent process ${ppid} is gone; shutting down\n`);
      void k.stop();
    }
  }, 1000);
  timer.unref();
}

/** The command: read the connection file, bind, run until shutdown. Returns the exit status. */
export async function runJupyterKernel(connectionFile: string): Promise<number> {
  let info: ConnectionInfo;
  try {
    info = parseConnectionFile(readFileSync(connectionFile, "utf8"), connectionFile);
  } catch (err) {
    process.stderr.write(`tsnb kernel: ${(err as Error).message}\n`);
    return 2;
  }
  const k = new JupyterKernel(info, new KernelProcess({ cwd: process.cwd() }));
  process.on("SIGINT", () => k.interrupt());
  process.on("SIGTERM", () => void k.stop());
  watchParent(k);
  try {
    await k.start();
  } catch (err) {
    process.stderr.write(`tsnb kernel: cannot start: ${(err as Error).message}\n`);
    await k.stop().catch(() => {});
    return 1;
  }
  return k.done;
}
