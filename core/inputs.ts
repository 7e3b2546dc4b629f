/**
 * Inputs and controls as data (what Kino.Input and Kino.Control are to Livebook): the spec of
 * each kind, the JSON value each kind carries over the wire, and the one validator of values
 * and control events that the server applies before anything changes (docs/inputs.md).
 *
 * Invariants: specs and values are plain JSON; `validateInputValue(spec, v)` accepts exactly
 * the values the kernel and the page may rely on for that kind (type, range, option, size) and
 * otherwise says what is wrong; binary values (file, image, audio) are base64 text whose
 * decoded size is at most `MAX_INPUT_BYTES`. No Node or DOM imports.
 */
import { isRecord } from "./fields.ts";

/** Largest decoded size of a file, image (raw RGB) or audio (WAV) value: 10 MiB. */
export const MAX_INPUT_BYTES = 10 * 1024 * 1024;
/** Longest text of a text, textarea or password input. */
export const MAX_TEXT_CHARS = 1_000_000;

/** An input control living in the kernel; a cell reads its current value (`x.value`). */
export type InputSpec =
  | { kind: "text"; label: string; default: string }
  | { kind: "textarea"; label: string; default: string; monospace?: boolean }
  | { kind: "password"; label: string; default: string }
  | {
      kind: "number";
      label: string;
      default: number | null;
      min?: number;
      max?: number;
      step?: number;
    }
  | {
      kind: "range";
      label: string;
      default: number;
      min: number;
      max: number;
      step: number;
      /** The page sends the value at most once per this many ms while the slider moves. */
      debounceMs: number;
    }
  | {
      kind: "select";
      label: string;
      default: string;
      options: Array<{ value: string; label: string }>;
    }
  | { kind: "checkbox"; label: string; default: boolean }
  /** Colour as "#rrggbb". */
  | { kind: "color"; label: string; default: string }
  /** Date as "YYYY-MM-DD", or null. */
  | { kind: "date"; label: string; default: string | null; min?: string; max?: string }
  /** `accept`: file extensions (".csv") or MIME types ("image/*"), as an <input type=file>. */
  | { kind: "file"; label: string; default: null; accept?: string[] }
  /**
   * `size` [height, width]: the page resizes the picked image to it (else keeps its size).
   * `draw`: the page also shows a pad to draw the image with the mouse, pen or a finger.
   */
  | { kind: "image"; label: string; default: null; size?: [number, number]; draw?: boolean }
  /** The samples are resampled to `sampleRate` (mono). */
  | { kind: "audio"; label: string; default: null; sampleRate: number };

export type InputKind = InputSpec["kind"];

/** A picked file as it crosses the wire. */
export interface FileValue {
  name: string;
  /** MIME type reported by the page ("" when unknown). */
  type: string;
  /** Bytes, base64. */
  data: string;
}
/** An image as it crosses the wire: RGB bytes row by row (height × width × 3), base64. */
export interface ImageValue {
  height: number;
  width: number;
  data: string;
  name?: string;
}
/** Audio as it crosses the wire: a WAV file, base64 (uploaded as is, or recorded in the page). */
export interface AudioValue {
  wav: string;
  name?: string;
}

/** The value each kind holds on the wire (what `set-input-value` carries). */
export type InputValue = string | number | boolean | null | FileValue | ImageValue | AudioValue;

/** A control produces events rather than holding a value (Kino.Control). */
export type ControlSpec =
  | { kind: "button"; label: string }
  /** A form's fields are drawn by each window for itself; `submit` (a button label) sends them. */
  | {
      kind: "form";
      fields: Record<string, InputSpec>;
      /** Label of the submit button; null: no button (then `reportChanges` should be on). */
      submit: string | null;
      /** Send a `change` event whenever a field changes. */
      reportChanges: boolean;
    }
  /** Key presses while the user has switched keyboard capture on (a toggle in the page). */
  | { kind: "keyboard"; label: string; events: Array<"keydown" | "keyup"> };

/** An event a window sends for a control (the server adds `origin`, the sending window). */
export type ControlEvent =
  | { type: "click" }
  | { type: "submit"; data: Record<string, InputValue> }
  | { type: "change"; data: Record<string, InputValue> }
  | { type: "keydown" | "keyup"; key: string };

/** The value an input starts with. */
export function defaultValue(spec: InputSpec): InputValue {
  return spec.default;
}

/** The decoded size of base64 text (without decoding it). */
export function base64Bytes(text: string): number {
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - pad;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function checkBase64(text: unknown, what: string): string | null {
  if (typeof text !== "string") return `${what} must be base64 text`;
  if (text.length % 4 !== 0 || !BASE64.test(text)) return `${what} is not valid base64`;
  const n = base64Bytes(text);
  if (n > MAX_INPUT_BYTES)
    return `${what} is ${mib(n)}, more than the limit of ${mib(MAX_INPUT_BYTES)}`;
  return null;
}

function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Check a value for an input; returns null when it is acceptable, else what is wrong, e.g.
 * `"Size" must be at most 10, got 12`. Range values must also lie on a step.
 */
export function validateInputValue(spec: InputSpec, value: unknown): string | null {
  const name = JSON.stringify(spec.label);
  switch (spec.kind) {
    case "text":
    case "textarea":
    case "password":
      if (typeof value !== "string") return `${name} takes text, got ${describe(value)}`;
      if (value.length > MAX_TEXT_CHARS)
        return `${name} takes at most ${MAX_TEXT_CHARS} characters, got ${value.length}`;
      return null;
    case "number":
      if (value === null) return null;
      if (typeof value !== "number" || !Number.isFinite(value))
        return `${name} takes a finite number, got ${describe(value)}`;
      return checkBounds(name, spec, value);
    case "range": {
      if (typeof value !== "number" || !Number.isFinite(value))
        return `${name} takes a number, got ${describe(value)}`;
      const bounds = checkBounds(name, spec, value);
      if (bounds) return bounds;
      const steps = (value - spec.min) / spec.step;
      if (Math.abs(steps - Math.round(steps)) > 1e-6)
        return `${name} moves in steps of ${spec.step} from ${spec.min}, got ${value}`;
      return null;
    }
    case "select":
      if (typeof value !== "string")
        return `${name} takes one of its options, got ${describe(value)}`;
      if (!spec.options.some((o) => o.value === value))
        return `${name} has no option ${JSON.stringify(value)} (options: ${spec.options.map((o) => JSON.stringify(o.value)).join(", ")})`;
      return null;
    case "checkbox":
      return typeof value === "boolean"
        ? null
        : `${name} takes true or false, got ${describe(value)}`;
    case "color":
      return typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value)
        ? null
        : `${name} takes a colour like "#ff8800", got ${describe(value)}`;
    case "date":
      if (value === null) return null;
      if (typeof value !== "string" || !isDate(value))
        return `${name} takes a date like "2024-05-31", got ${describe(value)}`;
      if (spec.min !== undefined && value < spec.min)
        return `${name} must be on or after ${spec.min}, got ${value}`;
      if (spec.max !== undefined && value > spec.max)
        return `${name} must be on or before ${spec.max}, got ${value}`;
      return null;
    case "file": {
      if (value === null) return null;
      if (!isRecord(value))
        return `${name} takes a file {name, type, data}, got ${describe(value)}`;
      if (typeof value["name"] !== "string") return `${name}: the file name must be text`;
      if (typeof value["type"] !== "string") return `${name}: the file type must be text`;
      return checkBase64(value["data"], `${name}: the file`);
    }
    case "image": {
      if (value === null) return null;
      if (!isRecord(value))
        return `${name} takes an image {height, width, data}, got ${describe(value)}`;
      const h = value["height"];
      const w = value["width"];
      if (!Number.isInteger(h) || !Number.isInteger(w) || (h as number) < 1 || (w as number) < 1)
        return `${name}: height and width must be positive integers`;
      if (spec.size && (h !== spec.size[0] || w !== spec.size[1]))
        return `${name} takes images of ${spec.size[0]}×${spec.size[1]}, got ${String(h)}×${String(w)}`;
      const bad = checkBase64(value["data"], `${name}: the image`);
      if (bad) return bad;
      const n = base64Bytes(value["data"] as string);
      if (n !== (h as number) * (w as number) * 3)
        return `${name}: ${String(h)}×${String(w)} RGB needs ${(h as number) * (w as number) * 3} bytes, got ${n}`;
      return null;
    }
    case "audio": {
      if (value === null) return null;
      if (!isRecord(value)) return `${name} takes audio {wav}, got ${describe(value)}`;
      const bad = checkBase64(value["wav"], `${name}: the recording`);
      if (bad) return bad;
      // "RIFF" base64-encodes to "UklGR".
      if (!(value["wav"] as string).startsWith("UklGR"))
        return `${name}: the recording is not a WAV file (RIFF/WAVE)`;
      return null;
    }
  }
}

function checkBounds(
  name: string,
  spec: { min?: number; max?: number },
  value: number,
): string | null {
  if (spec.min !== undefined && value < spec.min)
    return `${name} must be at least ${spec.min}, got ${value}`;
  if (spec.max !== undefined && value > spec.max)
    return `${name} must be at most ${spec.max}, got ${value}`;
  return null;
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "string")
    return v.length > 40 ? `text of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : typeof v;
}

/** Check an event a window sent for a control; null when fine, else what is wrong. */
export function validateControlEvent(spec: ControlSpec, event: unknown): string | null {
  if (!isRecord(event)) return "a control event must be an object";
  const t = event["type"];
  switch (spec.kind) {
    case "button":
      return t === "click" ? null : `a button sends "click" events, got ${describe(t)}`;
    case "keyboard":
      if (t !== "keydown" && t !== "keyup")
        return `the keyboard control sends "keydown"/"keyup" events, got ${describe(t)}`;
      if (!spec.events.includes(t)) return `this keyboard control does not listen to ${t}`;
      if (typeof event["key"] !== "string" || event["key"].length > 32)
        return "a key event needs its key (text of at most 32 characters)";
      return null;
    case "form": {
      if (t !== "submit" && t !== "change")
        return `a form sends "submit" or "change" events, got ${describe(t)}`;
      if (t === "submit" && spec.submit === null) return "this form has no submit button";
      if (t === "change" && !spec.reportChanges) return "this form does not report changes";
      const data = event["data"];
      if (!isRecord(data)) return "a form event needs data: {field: value}";
      for (const k of Object.keys(data))
        if (!(k in spec.fields)) return `the form has no field ${JSON.stringify(k)}`;
      for (const [k, field] of Object.entries(spec.fields)) {
        if (!(k in data)) return `the form event lacks field ${JSON.stringify(k)}`;
        const bad = validateInputValue(field, data[k]);
        if (bad) return bad;
      }
      return null;
    }
  }
}

/** Check the shape of an input spec (the kernel's outputs are checked at the boundary too). */
export function checkInputSpec(v: unknown): string | null {
  if (!isRecord(v)) return "input spec must be an object";
  if (typeof v["label"] !== "string") return "input spec: label must be text";
  const kinds: InputKind[] = [
    "text",
    "textarea",
    "password",
    "number",
    "range",
    "select",
    "checkbox",
    "color",
    "date",
    "file",
    "image",
    "audio",
  ];
  if (!kinds.includes(v["kind"] as InputKind))
    return `input spec: unknown kind ${JSON.stringify(v["kind"])}`;
  if (v["kind"] === "select" && !Array.isArray(v["options"]))
    return "input spec: a select needs options";
  if (v["kind"] === "image" && v["draw"] !== undefined && typeof v["draw"] !== "boolean")
    return "input spec: an image's draw must be true or false";
  return null;
}

/** Check the shape of a control spec. */
export function checkControlSpec(v: unknown): string | null {
  if (!isRecord(v)) return "control spec must be an object";
  switch (v["kind"]) {
    case "button":
    case "keyboard":
      return typeof v["label"] === "string" ? null : "control spec: label must be text";
    case "form": {
      if (!isRecord(v["fields"])) return "control spec: a form needs fields";
      for (const f of Object.values(v["fields"])) {
        const bad = checkInputSpec(f);
        if (bad) return bad;
      }
      return null;
    }
    default:
      return `control spec: unknown kind ${JSON.stringify(v["kind"])}`;
  }
}
