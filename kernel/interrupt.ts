/**
 * The interrupt watchdog: a worker thread that reads interrupt requests from fd 4 (the main
 * thread cannot read anything while user code blocks it) and stops the running evaluation.
 *
 * Handshake over shared memory, so unrelated JavaScript is not terminated when the main thread
 * is merely idle:
 *   1. the watchdog posts `interrupt` to the main thread and waits up to GRACE_MS for an ack;
 *   2. a main thread that is free acks at once (the cell, if any, is awaiting: the kernel stops
 *      waiting for it and reports it interrupted);
 *   3. no ack means JavaScript is running and will not yield: the watchdog sends
 *      `Runtime.terminateExecution` through its own inspector session connected to the main
 *      thread. In a cell's synchronous part (inside Runtime.evaluate) the inspector contains the
 *      termination; in a Node callback (a loop after an `await`, a timer) Node survives it as
 *      long as async_hooks are off (kernel/context.ts does not use them). The cell fails as
 *      interrupted and every binding of earlier cells survives.
 *   4. If async_hooks are on (a library enabled AsyncLocalStorage) and the code is in a
 *      callback, terminating would abort Node on an assertion, so the watchdog reports a
 *      `crash` with `interrupted: true` and kills the process: the parent reports it dead.
 * It also flushes console output that waits while the main thread is blocked (a long
 * synchronous cell): after two batching intervals it runs the kernel's flush through its
 * inspector session, which executes it in the middle of the blocking code.
 *
 * Slots of `shared`: RUNNING = seq of the running evaluation (0 when none), ACK = last token
 * the main thread acknowledged, SYNC = seq while a cell's script runs synchronously, HOOKS = 1
 * when Node async_hooks are enabled (updated at each evaluation's start and end), PENDING = 1
 * while output waits to be sent.
 */

import { Worker } from "node:worker_threads";

export const SLOT_RUNNING = 0;
export const SLOT_ACK = 1;
/** seq of the evaluation while its script runs synchronously inside Runtime.evaluate, else 0. */
export const SLOT_SYNC = 2;
/** 1 when Node async_hooks are enabled (then terminating inside a Node callback aborts Node). */
export const SLOT_HOOKS = 3;
/** 1 while the main thread has output waiting to be sent. */
export const SLOT_PENDING = 4;
/** The kernel's output batching interval (ms). */
export const FLUSH_MS = 50;
/** How long the main thread has to acknowledge an interrupt before its JavaScript is terminated. */
export const GRACE_MS = 150;
const INTERRUPT_FD = 4;
const EVENTS_FD = 3;

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const inspector = require("node:inspector");
const fs = require("node:fs");
const shared = new Int32Array(workerData.shared);
const session = new inspector.Session();
session.connectToMainThread();
let token = 0;
function interrupt() {
  const runningSeq = Atomics.load(shared, ${SLOT_RUNNING});
  const t = ++token;
  parentPort.postMessage({ type: "interrupt", token: t, seq: runningSeq });
  const deadline = Date.now() + ${GRACE_MS};
  for (;;) {
    const acked = Atomics.load(shared, ${SLOT_ACK});
    if (acked >= t) return;
    const left = deadline - Date.now();
    if (left <= 0) break;
    Atomics.wait(shared, ${SLOT_ACK}, acked, left);
  }
  if (process.env.TSNB_KERNEL_DEBUG) fs.writeSync(2, "watchdog: no ack, running=" + runningSeq + " sync=" + Atomics.load(shared, ${SLOT_SYNC}) + "\\n");
  const inEvaluate = runningSeq !== 0 && Atomics.load(shared, ${SLOT_SYNC}) === runningSeq;
  if (inEvaluate || Atomics.load(shared, ${SLOT_HOOKS}) === 0) {
    // Inside Runtime.evaluate the inspector contains the termination; in a Node callback, Node
    // survives it as long as async_hooks are off: either way the kernel lives on.
    session.post("Runtime.terminateExecution", () => {});
    parentPort.postMessage({ type: "terminated", seq: runningSeq });
    return;
  }
  // JavaScript that will not yield in a callback while async_hooks are on (some library uses
  // AsyncLocalStorage): terminating it would abort Node, so the kernel exits, saying why.
  const message = "Interrupted: code that would not yield was running in a callback (after an await, or in a timer) while Node async_hooks were enabled, where it cannot be stopped safely; the kernel exited and its state is lost";
  try {
    fs.writeSync(${EVENTS_FD}, JSON.stringify({ type: "crash", message, stack: message, interrupted: true }) + "\\n");
  } catch {}
  process.kill(process.pid, "SIGKILL");
}
// Output that has waited two ticks means the main thread is blocked (its flush timer would have
// run): have it flushed from inside the blocking code (see tsnb.flushFromWatchdog in main.ts).
let pendingTicks = 0;
setInterval(() => {
  if (Atomics.load(shared, ${SLOT_PENDING}) !== 1) {
    pendingTicks = 0;
    return;
  }
  if (++pendingTicks < 2) return;
  pendingTicks = 0;
  session.post("Runtime.evaluate", { expression: 'globalThis[Symbol.for("tsnb.flushFromWatchdog")]?.()', silent: true }, () => {});
}, ${FLUSH_MS});
let stream;
try {
  // A socket (epoll), not fs.createReadStream: a blocking read in the thread pool would keep
  // process.exit() waiting for this thread.
  stream = new (require("node:net").Socket)({ fd: ${INTERRUPT_FD}, readable: true, writable: false });
} catch (e) {
  stream = null;
}
if (stream) {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("error", () => {});
  // The parent is gone (its end of the pipe closed): end the kernel even if a cell spins forever
  // on the main thread, which would otherwise never see stdin close.
  stream.on("end", () => process.kill(process.pid, "SIGKILL"));
  stream.on("data", (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg;
      try { msg = JSON.parse(line); } catch { continue; }
      if (msg && msg.type === "interrupt") interrupt();
    }
  });
}
`;

export interface Watchdog {
  shared: Int32Array;
}

export function startInterruptWatchdog(handlers: {
  onInterrupt(runningSeq: number): void;
  onTerminated(runningSeq: number): void;
}): Watchdog {
  const sab = new SharedArrayBuffer(20);
  const shared = new Int32Array(sab);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared: sab } });
  worker.unref();
  worker.on(
    "message",
    (
      m: { type: "interrupt"; token: number; seq: number } | { type: "terminated"; seq: number },
    ) => {
      if (m.type === "interrupt") {
        Atomics.store(shared, SLOT_ACK, m.token);
        Atomics.notify(shared, SLOT_ACK);
        handlers.onInterrupt(m.seq);
      } else {
        handlers.onTerminated(m.seq);
      }
    },
  );
  worker.on("error", (err) => process.stderr.write(`interrupt watchdog failed: ${String(err)}\n`));
  return { shared };
}
