/**
 * Field checks shared by the validators of JSON messages from outside (core/app-protocol.ts for
 * renderer messages, core/session/operations.ts for operations): each check returns null when
 * the field is fine, else the problem as a short sentence naming the field. Pure; no Node/DOM.
 */

/** A plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The checks of the fields of one message `v`. */
export function fieldChecks(v: Record<string, unknown>) {
  return {
    str: (k: string) => (typeof v[k] === "string" ? null : `${k} must be a string`),
    optStr: (k: string) =>
      v[k] === undefined || typeof v[k] === "string" ? null : `${k} must be a string`,
    int: (k: string) => (Number.isInteger(v[k]) ? null : `${k} must be an integer`),
    optBool: (k: string) =>
      v[k] === undefined || typeof v[k] === "boolean" ? null : `${k} must be a boolean`,
    /** The first problem of several checks, or null. */
    first: (...checks: Array<string | null>) => checks.find((c) => c !== null) ?? null,
  };
}

/** Bounds of a JSON value from outside (`jsonProblem`). */
export interface JsonBounds {
  /** Deepest nesting of arrays and objects (a scalar is depth 0, `{}` depth 1). */
  maxDepth: number;
  /** Largest size, counted as the characters of its strings and keys plus a few per value. */
  maxSize: number;
}

/** Deepest nesting any message from a renderer may have (the importer refuses absurd nesting too). */
export const MAX_MESSAGE_DEPTH = 64;

/**
 * Null when `value` is plain JSON within `bounds`, else the problem naming `name`. Walks with an
 * explicit stack (never recursion), so a hostile value cannot overflow the call stack here — it
 * is refused before anything else (the reducer, `JSON.stringify`, a save) recurses into it.
 */
export function jsonProblem(value: unknown, name: string, bounds: JsonBounds): string | null {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  let size = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    size += 4;
    if (typeof v === "string") size += v.length;
    else if (v === null || typeof v === "boolean") continue;
    else if (typeof v === "number") {
      if (!Number.isFinite(v)) return `${name} must be JSON (a number is not finite)`;
    } else if (typeof v === "object") {
      if (depth + 1 > bounds.maxDepth)
        return `${name} is nested too deeply (more than ${bounds.maxDepth} levels)`;
      if (Array.isArray(v)) for (const x of v) stack.push({ v: x, depth: depth + 1 });
      else
        for (const [k, x] of Object.entries(v)) {
          size += k.length;
          stack.push({ v: x, depth: depth + 1 });
        }
    } else return `${name} must be JSON (found a ${typeof v})`;
    if (size > bounds.maxSize) return `${name} is too large (over ${bounds.maxSize} characters)`;
  }
  return null;
}
