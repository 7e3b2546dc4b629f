/**
 * Compiled graphs of ml/ (training steps, evaluation, prediction) as synchronous ONNX Runtime
 * sessions from the tensor backend (tensor/runtime.ts): no promise and no setImmediate hop per
 * step, which matters for small models where a step takes a fraction of a millisecond.
 *
 * Invariant: one session per (graph bytes, threads, execution providers) for the life of the process; creating and
 * releasing ORT sessions leaks native memory, so they are never released.
 */
import { createHash } from "node:crypto";
import { createSession, explainProviders, type Session } from "../tensor/runtime.ts";

const cache = new Map<string, Session>();

/** The cached synchronous session of a graph. */
export function compiledSession(
  bytes: Uint8Array,
  threads = 1,
  executionProviders?: readonly string[],
): Session {
  const key =
    createHash("sha1").update(bytes).digest("hex") +
    `:${threads}:${executionProviders?.join(",") ?? ""}`;
  let s = cache.get(key);
  if (!s) {
    try {
      s = createSession(bytes, { threads, graphOptimizationLevel: "all", executionProviders });
    } catch (e) {
      const provider = executionProviders && explainProviders(executionProviders, e);
      if (provider) throw new Error(`train: ${provider}`, { cause: e });
      throw new Error(
        `ml: ONNX Runtime rejected a compiled graph (a bug in tsnb's ml/ compiler, please report it): ${String((e as Error).message ?? e).split("\n")[0]}`,
      );
    }
    cache.set(key, s);
  }
  return s;
}

/** Number of compiled sessions (tests check that steps reuse one session). */
export function compiledSessionCount(): number {
  return cache.size;
}

export type { Session };
