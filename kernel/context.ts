/**
 * Which evaluation is running code right now: the kernel's own async context, used to attribute
 * console output and display() to the cell whose code (or whose timers and promises) produced it.
 *
 * Why not AsyncLocalStorage: in Node 20 it enables async_hooks, and with async_hooks enabled
 * `Runtime.terminateExecution` inside a Node callback (a loop after an `await`, in a timer)
 * aborts the process on an assertion. With V8 promise hooks and wrapped timer functions instead,
 * an interrupt can stop such a loop and the kernel lives on (kernel/interrupt.ts).
 *
 * Propagation: promises carry the context of the code that created them (so every `await`
 * continuation resumes in its cell's context); setTimeout, setInterval, setImmediate,
 * queueMicrotask and process.nextTick callbacks run in the context that scheduled them (timer
 * callbacks from a microtask queued by the timer, see `wrap`). Other
 * callbacks (event emitters, streams, native add-ons) have no context: the kernel attributes
 * their output to the latest evaluation.
 */

import { promiseHooks } from "node:v8";

export interface EvalContext {
  evalId: string;
  cellId: string;
}

const CTX = Symbol("tsnb.context");
let current: EvalContext | null = null;
const saved: Array<EvalContext | null> = [];

/** The context of the running code, or null (kernel code, unattributed callbacks). */
export function currentContext(): EvalContext | null {
  return current;
}

/** Run `fn` with `ctx` as the current context (null: none). */
export function runInContext<T>(ctx: EvalContext | null, fn: () => T): T {
  const prev = current;
  current = ctx;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Forget any context left set by code that was terminated mid-callback (no `after` ran). */
export function resetContext(): void {
  current = null;
  saved.length = 0;
}

type Carrier = { [CTX]?: EvalContext | null };

/** The context of the promise (the code that created it), for an unhandled rejection. */
export function contextOfPromise(promise: unknown): EvalContext | null {
  return (promise as Carrier | null)?.[CTX] ?? null;
}

/** The last exception that escaped a wrapped callback, with the callback's context. */
let lastThrown: { err: unknown; ctx: EvalContext } | null = null;

/** The context of the callback that threw `err` (for an uncaught exception), if it was wrapped. */
export function contextOfThrown(err: unknown): EvalContext | null {
  const t = lastThrown;
  lastThrown = null;
  return t && t.err === err ? t.ctx : null;
}

/** Run a scheduled callback in its context, noting the context if it throws. */
function callIn<T>(ctx: EvalContext, fn: () => T): T {
  return runInContext(ctx, () => {
    try {
      return fn();
    } catch (err) {
      lastThrown = { err, ctx };
      throw err;
    }
  });
}

let installed = false;

/** Install the promise hooks and timer wrappers (once, at kernel start). */
export function installContextTracking(): void {
  if (installed) return;
  installed = true;
  promiseHooks.createHook({
    init(promise) {
      if (current) (promise as Carrier)[CTX] = current;
    },
    before(promise) {
      saved.push(current);
      const ctx = (promise as Carrier)[CTX];
      if (ctx) current = ctx;
    },
    after() {
      current = saved.length ? saved.pop()! : null;
    },
  });

  const microtask = queueMicrotask;
  const wrap = <F extends (...args: any[]) => unknown>(fn: F, defer: boolean): F => {
    const ctx = current;
    if (typeof fn !== "function" || (!ctx && !defer)) return fn;
    if (!defer) {
      return function (this: unknown, ...args: unknown[]) {
        return callIn(ctx!, () => fn.apply(this, args));
      } as F;
    }
    // Timer callbacks run in a microtask right after Node's timer bookkeeping: Node pushes an
    // async id around the callback itself, and a termination (interrupt) there would leave that
    // stack corrupted, which Node treats as fatal. Order and timing within the tick are kept.
    return function (this: unknown, ...args: unknown[]) {
      if (ctx) microtask(() => callIn(ctx, () => void fn.apply(this, args)));
      else microtask(() => runInContext(null, () => void fn.apply(this, args)));
    } as F;
  };
  const g = globalThis as unknown as Record<string, (...args: any[]) => unknown>;
  for (const name of ["setTimeout", "setInterval", "setImmediate", "queueMicrotask"]) {
    const original = g[name]!;
    const defer = name !== "queueMicrotask";
    const patched = function (
      this: unknown,
      callback: (...a: unknown[]) => unknown,
      ...rest: unknown[]
    ) {
      return original.call(this, wrap(callback, defer), ...rest);
    };
    // Keep util.promisify(setTimeout) and friends working.
    for (const sym of Object.getOwnPropertySymbols(original)) {
      (patched as unknown as Record<symbol, unknown>)[sym] = (
        original as unknown as Record<symbol, unknown>
      )[sym];
    }
    g[name] = patched;
  }
  const nextTick = process.nextTick;
  process.nextTick = function (callback: (...a: any[]) => void, ...rest: any[]) {
    return nextTick.call(process, wrap(callback, false), ...rest);
  } as typeof process.nextTick;
}

let asyncHookFields: Uint32Array | null | undefined;
let kTotals = 5;

/**
 * Whether some code enabled Node async_hooks (an AsyncLocalStorage of a library, say): then a
 * termination inside a Node callback would abort the process, and the watchdog must not try.
 */
export function asyncHooksEnabled(): boolean {
  if (asyncHookFields === undefined) {
    const p = process as unknown as { binding(name: string): unknown; noDeprecation?: boolean };
    const quiet = p.noDeprecation;
    try {
      p.noDeprecation = true;
      const b = p.binding("async_wrap") as {
        async_hook_fields?: Uint32Array;
        constants?: { kTotals?: number };
      };
      asyncHookFields = b.async_hook_fields ?? null;
      kTotals = b.constants?.kTotals ?? 5;
    } catch {
      asyncHookFields = null;
    } finally {
      p.noDeprecation = quiet;
    }
  }
  // Unknown: assume enabled (the safe answer).
  return asyncHookFields ? (asyncHookFields[kTotals] ?? 1) > 0 : true;
}
