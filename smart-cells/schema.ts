/**
 * A small schema language for smart-cell attrs read from a file or sent by a window: the shape
 * as data, and `validate` that checks a JSON value against it, fills defaults for missing keys
 * and says what is wrong and where (`layers[1].mark: must be one of point, line, …; got "pie"`).
 *
 * Strings that become code (binding names) use `identifier: true`, so attrs can never smuggle
 * code into the generated source. Pure; no Node or DOM.
 */
import { isRecord } from "../core/fields.ts";

export type Schema =
  | {
      type: "string";
      /** Allowed values. */
      enum?: readonly string[];
      /** Must be a JavaScript identifier (it is written into code as a name). */
      identifier?: boolean;
      nullable?: boolean;
      maxLength?: number;
      default?: string | null;
    }
  | {
      type: "number";
      integer?: boolean;
      min?: number;
      max?: number;
      nullable?: boolean;
      default?: number | null;
    }
  | { type: "boolean"; default?: boolean }
  | { type: "object"; fields: Readonly<Record<string, Schema>> }
  | { type: "array"; items: Schema; min?: number; max?: number; default?: readonly unknown[] }
  | { type: "literal"; value: string | number | boolean };

export type Validated = { ok: true; value: unknown } | { ok: false; error: string };

/** Check `value` against `schema`; missing keys take their default (or null when nullable). */
export function validate(schema: Schema, value: unknown, path = "attrs"): Validated {
  const fail = (msg: string): Validated => ({ ok: false, error: `${path}: ${msg}` });
  switch (schema.type) {
    case "literal":
      return value === schema.value
        ? { ok: true, value }
        : fail(`must be ${JSON.stringify(schema.value)}; got ${show(value)}`);
    case "string": {
      if (value === null && schema.nullable) return { ok: true, value: null };
      if (typeof value !== "string")
        return fail(`must be a string${schema.nullable ? " or null" : ""}; got ${show(value)}`);
      if (schema.enum && !schema.enum.includes(value))
        return fail(`must be one of ${schema.enum.join(", ")}; got ${show(value)}`);
      if (schema.identifier && !isIdentifier(value))
        return fail(`must be a variable name (letters, digits, _ and $); got ${show(value)}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        return fail(`must be at most ${schema.maxLength} characters`);
      return { ok: true, value };
    }
    case "number": {
      if (value === null && schema.nullable) return { ok: true, value: null };
      if (typeof value !== "number" || !Number.isFinite(value))
        return fail(`must be a number${schema.nullable ? " or null" : ""}; got ${show(value)}`);
      if (schema.integer && !Number.isInteger(value)) return fail(`must be a whole number`);
      if (schema.min !== undefined && value < schema.min) return fail(`must be ≥ ${schema.min}`);
      if (schema.max !== undefined && value > schema.max) return fail(`must be ≤ ${schema.max}`);
      return { ok: true, value };
    }
    case "boolean":
      return typeof value === "boolean"
        ? { ok: true, value }
        : fail(`must be true or false; got ${show(value)}`);
    case "array": {
      if (!Array.isArray(value)) return fail(`must be a list; got ${show(value)}`);
      if (schema.min !== undefined && value.length < schema.min)
        return fail(`must have at least ${schema.min} item${schema.min === 1 ? "" : "s"}`);
      if (schema.max !== undefined && value.length > schema.max)
        return fail(`must have at most ${schema.max} items`);
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const r = validate(schema.items, value[i], `${path}[${i}]`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    case "object": {
      if (!isRecord(value)) return fail(`must be an object; got ${show(value)}`);
      for (const key of Object.keys(value))
        if (!(key in schema.fields)) return fail(`unknown key '${key}'`);
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(schema.fields)) {
        let v = value[key];
        if (v === undefined) {
          const d = defaultOf(field);
          if (d === undefined) return { ok: false, error: `${path}.${key}: missing` };
          v = d;
        }
        const r = validate(field, v, `${path}.${key}`);
        if (!r.ok) return r;
        out[key] = r.value;
      }
      return { ok: true, value: out };
    }
  }
}

/** The value a missing key takes, or undefined when the key is required. */
function defaultOf(schema: Schema): unknown {
  switch (schema.type) {
    case "string":
    case "number":
      return schema.default !== undefined ? schema.default : schema.nullable ? null : undefined;
    case "boolean":
      return schema.default;
    case "array":
      return schema.default ? schema.default.slice() : undefined;
    case "object": {
      // An object whose every field has a default may be omitted.
      const out: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(schema.fields)) {
        const d = defaultOf(f);
        if (d === undefined) return undefined;
        out[k] = d;
      }
      return out;
    }
    case "literal":
      return undefined;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** True when `name` can be written into code as a variable name. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED.has(name);
}

const RESERVED = new Set(
  "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await".split(
    " ",
  ),
);

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}
