/**
 * The seam between ml/ and the tensor backend (tsnb/nx): ml/ works on host tensors (dtype, shape,
 * row-major typed array) and converts at its public edges. This is the one adapter ml/ needs on
 * top of `tensor/`; everything else in ml/ is independent of how nx stores tensors.
 *
 * Invariant: `data.length` equals the product of `shape`; i64 data is a BigInt64Array and bool
 * data a Uint8Array of 0/1.
 */

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
  if (isHostTensor(v)) return { dtype: v.dtype, shape: [...v.shape], data: v.data };
  if (v === null || typeof v !== "object") return undefined;
  const t = v as TensorLike;
  if (typeof t.dtype !== "string" || !Array.isArray(t.shape)) return undefined;
  const reader = t.toTypedArray ?? t.typedArray ?? t.dataSync;
  if (typeof reader === "function") {
    const data = await reader.call(t);
    return { dtype: t.dtype, shape: [...t.shape], data };
  }
  if (ArrayBuffer.isView(t.data)) return { dtype: t.dtype, shape: [...t.shape], data: t.data as HostData };
  return undefined;
}

/** Wrap host data as the tensor type notebooks see. */
export function fromHost(t: HostTensor): HostTensor {
  return new Tensor(t.dtype, t.shape, t.data);
}

function formatValue(v: number | bigint, dtype: string): string {
  if (typeof v === "bigint") return v.toString();
  if (dtype === "f32" || dtype === "f64") return Number.isInteger(v) ? v.toFixed(1) : String(Number(v.toPrecision(6)));
  return String(v);
}

/** A host tensor that displays like Nx's inspect until tsnb/nx provides its own type. */
export class Tensor implements HostTensor {
  constructor(
    readonly dtype: string,
    readonly shape: number[],
    readonly data: HostData,
  ) {}
  /** The values as nested arrays. */
  async toArray(): Promise<unknown> {
    const values = Array.from(this.data as ArrayLike<number | bigint>, (x) => x);
    const nest = (off: number, dim: number): unknown => {
      if (dim === this.shape.length) return values[off];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => nest(off + i * stride, dim + 1));
    };
    return nest(0, 0);
  }
  /** The typed array of values (row-major). */
  toTypedArray(): HostData {
    return this.data;
  }
  /** The single value of a one-element tensor. */
  item(): number | bigint {
    if (this.data.length !== 1) throw new Error(`item: the tensor has ${this.data.length} values, expected 1`);
    return this.data[0]!;
  }
  text(limit = 30): string {
    const n = this.data.length;
    const fmt = (off: number, dim: number, budget: { left: number }): string => {
      if (dim === this.shape.length) {
        budget.left--;
        return formatValue(this.data[off]!, this.dtype);
      }
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const parts: string[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) {
        if (budget.left <= 0) {
          parts.push("...");
          break;
        }
        parts.push(fmt(off + i * stride, dim + 1, budget));
      }
      return "[" + parts.join(", ") + "]";
    };
    return n === 0 ? "[]" : fmt(0, 0, { left: limit });
  }
  [DISPLAY](): { type: "tensor"; dtype: string; shape: number[]; text: string } {
    return { type: "tensor", dtype: this.dtype, shape: [...this.shape], text: this.text() };
  }
  toString(): string {
    return `Tensor<${this.dtype}[${this.shape.join("][")}]>\n${this.text()}`;
  }
}
