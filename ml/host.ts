/**
 * The seam between ml/ and the tensor backend (tsnb/nx): ml/ works on host tensors (dtype, shape,
 * row-major typed array) and converts at its public edges. This is the one adapter ml/ needs on
 * top of `tensor/`; everything else in ml/ is independent of how nx stores tensors.
 *
 * Invariant: `data.length` equals the product of `shape`; i64 data is a BigInt64Array and bool
 * data a Uint8Array of 0/1.
 */

import type ort from "onnxruntime-node";
import { Tensor as NxTensorClass, type Tensor as NxTensor, fromTyped } from "../tensor/tensor.ts";
import type { TypedArray } from "../tensor/dtype.ts";

/** The symbol the kernel calls on a cell's result to get its rich Output. */
export const DISPLAY = Symbol.for("tsnb.display");

/** Typed arrays a host tensor can hold. */
export type HostData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A tensor in JS memory. */
export interface HostTensor {
  dtype: string;
  shape: number[];
  data: HostData;
}

/** True for a plain {dtype, shape, data} host tensor. */
export function isHostTensor(v: unknown): v is HostTensor {
  if (v === null || typeof v !== "object") return false;
  const o = v as Partial<HostTensor>;
  return typeof o.dtype === "string" && Array.isArray(o.shape) && ArrayBuffer.isView(o.data);
}

/** An nx-like tensor: anything with dtype, shape and a way to read its values. */
interface TensorLike {
  dtype: string;
  shape: readonly number[];
  data?: unknown;
  dataSync?: () => HostData;
  toTypedArray?: () => HostData | Promise<HostData>;
  typedArray?: () => HostData | Promise<HostData>;
}

/** Read a tensor-like value into a host tensor, or undefined when it is not tensor-like. */
export async function toHost(v: unknown): Promise<HostTensor | undefined> {
  const sync = toHostSync(v);
  if (sync) return sync;
  const t = v as TensorLike;
  if (t && typeof t === "object" && typeof t.dtype === "string" && Array.isArray(t.shape)) {
    const reader = t.toTypedArray ?? t.typedArray;
    if (typeof reader === "function")
      return { dtype: t.dtype, shape: [...t.shape], data: await reader.call(t) };
  }
  return undefined;
}

/** Synchronous {@link toHost} for host tensors and tensors with dataSync() (tsnb/nx). */
export function toHostSync(v: unknown): HostTensor | undefined {
  if (isHostTensor(v)) return { dtype: v.dtype, shape: [...v.shape], data: v.data };
  if (v === null || typeof v !== "object") return undefined;
  const t = v as TensorLike;
  if (typeof t.dtype !== "string" || !Array.isArray(t.shape)) return undefined;
  if (typeof t.dataSync === "function")
    return { dtype: t.dtype, shape: [...t.shape], data: t.dataSync() };
  if (ArrayBuffer.isView(t.data))
    return { dtype: t.dtype, shape: [...t.shape], data: t.data as HostData };
  return undefined;
}

/** Decode IEEE half floats (ORT hands float16 data over as Uint16Array). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Wrap host data as a tsnb/nx tensor (sharing memory). dtypes nx lacks are widened: i8/i16/u16 →
 * i32, u32/u64 → i64, f16 → f32.
 */
export function fromOrtValue(t: ort.Tensor): NxTensor {
  return ORT_TYPES.has(t.type)
    ? NxTensorClass.fromOrt(t)
    : fromHost({
        dtype: ORT_TO_HOST[t.type] ?? t.type,
        shape: [...t.dims],
        data: t.data as HostData,
      });
}

const ORT_TYPES = new Set(["float32", "float64", "int32", "int64", "uint8", "bool"]);
const ORT_TO_HOST: Record<string, string> = {
  int8: "i8",
  int16: "i16",
  uint16: "u16",
  uint32: "u32",
  uint64: "u64",
  float16: "f16",
};

/** Wrap host data as a tsnb/nx tensor (see {@link fromOrtValue} for the widening of other dtypes). */
export function fromHost(t: HostTensor): NxTensor {
  switch (t.dtype) {
    case "f32":
    case "f64":
    case "i32":
    case "i64":
    case "u8":
    case "bool":
      return fromTyped(t.dtype, t.data as TypedArray, t.shape);
    case "i8":
    case "i16":
    case "u16":
      return fromTyped("i32", Int32Array.from(t.data as ArrayLike<number>), t.shape);
    case "u32":
    case "u64":
      return fromTyped(
        "i64",
        BigInt64Array.from(t.data as ArrayLike<number | bigint>, (v) => BigInt(v)),
        t.shape,
      );
    case "f16":
      return fromTyped("f32", Float32Array.from(t.data as Uint16Array, halfToFloat), t.shape);
    default:
      throw new Error(`tensor: dtype '${t.dtype}' has no tsnb/nx equivalent`);
  }
}

/** The tensor type notebooks see (tsnb/nx). */
export type { NxTensor };
