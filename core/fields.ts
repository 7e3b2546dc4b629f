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
