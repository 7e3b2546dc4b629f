/**
 * Element types (dtypes) of tsnb tensors, their storage, and the promotion rules.
 *
 * Invariants: every dtype maps to exactly one ONNX data type, one onnxruntime type name and one
 * typed-array class (bool is stored as Uint8Array 0/1, i64 as BigInt64Array). Promotion is a
 * total order bool < u8 < i32 < i64 < f32 < f64: the result of mixing two dtypes is the larger
 * one, so an integer mixed with a float gives that float (Nx/JAX style, not NumPy's f64).
 */
import { OnnxDataType } from "./onnx/proto.ts";

/** The element types a tensor can have. */
export type DType = "f32" | "f64" | "i32" | "i64" | "u8" | "bool";

export const DTYPES: readonly DType[] = ["bool", "u8", "i32", "i64", "f32", "f64"];

/** The typed array holding a tensor's elements. */
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** onnxruntime's tensor type names. */
export type OrtTypeName = "float32" | "float64" | "int32" | "int64" | "uint8" | "bool";

const RANK: Record<DType, number> = { bool: 0, u8: 1, i32: 2, i64: 3, f32: 4, f64: 5 };

export function isDType(x: unknown): x is DType {
  return typeof x === "string" && x in RANK;
}

export function isFloat(d: DType): boolean {
  return d === "f32" || d === "f64";
}

export function isInt(d: DType): boolean {
  return d === "u8" || d === "i32" || d === "i64";
}

/** The dtype two operands are converted to before a binary op (the larger in bool<u8<i32<i64<f32<f64). */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype an arithmetic op computes in: like `promote`, but bool operands count as i32. */
export function arithmeticType(a: DType, b: DType): DType {
  const p = promote(a, b);
  return p === "bool" ? "i32" : p;
}

/** The float dtype a float-only function (exp, divide, mean, …) gives for an input dtype. */
export function floatType(d: DType): DType {
  return isFloat(d) ? d : "f32";
}

export function onnxType(d: DType): number {
  switch (d) {
    case "f32":
      return OnnxDataType.FLOAT;
    case "f64":
      return OnnxDataType.DOUBLE;
    case "i32":
      return OnnxDataType.INT32;
    case "i64":
      return OnnxDataType.INT64;
    case "u8":
      return OnnxDataType.UINT8;
    case "bool":
      return OnnxDataType.BOOL;
  }
}

export function ortTypeName(d: DType): OrtTypeName {
  switch (d) {
    case "f32":
      return "float32";
    case "f64":
      return "float64";
    case "i32":
      return "int32";
    case "i64":
      return "int64";
    case "u8":
      return "uint8";
    case "bool":
      return "bool";
  }
}

/** The tsnb dtype of an onnxruntime type name, or undefined for types tsnb does not handle. */
export function fromOrtTypeName(t: string): DType | undefined {
  switch (t) {
    case "float32":
      return "f32";
    case "float64":
      return "f64";
    case "int32":
      return "i32";
    case "int64":
      return "i64";
    case "uint8":
      return "u8";
    case "bool":
      return "bool";
    default:
      return undefined;
  }
}

/** A new zero-filled typed array for `n` elements of dtype `d`. */
export function allocate(d: DType, n: number): TypedArray {
  switch (d) {
    case "f32":
      return new Float32Array(n);
    case "f64":
      return new Float64Array(n);
    case "i32":
      return new Int32Array(n);
    case "i64":
      return new BigInt64Array(n);
    case "u8":
    case "bool":
      return new Uint8Array(n);
  }
}

/** Converts a JS number (or boolean/bigint) to what dtype `d` stores: truncation for ints, 0/1 for bool. */
export function coerce(d: DType, v: number | boolean | bigint): number | bigint {
  switch (d) {
    case "f32":
    case "f64":
      return Number(v);
    case "i64":
      if (typeof v === "bigint") return BigInt.asIntN(64, v);
      return BigInt(Math.trunc(Number(v)) || 0);
    case "i32":
      return Number(typeof v === "bigint" ? BigInt.asIntN(32, v) : Math.trunc(Number(v)) | 0);
    case "u8":
      return Number(typeof v === "bigint" ? BigInt.asUintN(8, v) : Math.trunc(Number(v)) & 255);
    case "bool":
      return v ? 1 : 0;
  }
}

/** The dtype a typed array holds by default (Uint8Array is u8). */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | undefined {
  // by tag, not instanceof: typed arrays made in another vm realm (a notebook cell) must work too
  switch (Object.prototype.toString.call(a)) {
    case "[object Float32Array]":
      return "f32";
    case "[object Float64Array]":
      return "f64";
    case "[object Int32Array]":
      return "i32";
    case "[object BigInt64Array]":
      return "i64";
    case "[object Uint8Array]":
      return "u8";
    default:
      return undefined;
  }
}

/** Bytes per element. */
export function itemSize(d: DType): number {
  switch (d) {
    case "f64":
    case "i64":
      return 8;
    case "f32":
    case "i32":
      return 4;
    case "u8":
    case "bool":
      return 1;
  }
}
