/**
 * Text formatting of tensor values the way Nx inspects tensors: nested brackets, one row per
 * line for rank ≥ 2, long axes elided with "..." (first and last 3 items once a tensor has more
 * than 1000 elements).
 *
 * Invariants: pure functions of (dtype, shape, values); floats always show a decimal point or an
 * exponent (1.0, 2.5e-7), NaN/Infinity print as NaN, Inf, -Inf; f32 values print their shortest
 * round-trip f32 form.
 */
import type { DType, TypedArray } from "./dtype.ts";

const THRESHOLD = 1000;
const EDGE = 3;

function shortestF32(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/** One element as text. */
export function formatValue(dtype: DType, v: number | bigint): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (dtype !== "f32" && dtype !== "f64") return String(v);
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Inf";
  if (v === -Infinity) return "-Inf";
  let s = dtype === "f32" ? shortestF32(v) : String(v);
  if (Object.is(v, -0)) s = "-0";
  if (!/[.eE]/.test(s)) s += ".0";
  return s;
}

/** Nested, elided text of the values, e.g. "[\n  [1, 2],\n  [3, 4]\n]" (scalars: just the value). */
export function formatValues(dtype: DType, shape: readonly number[], data: TypedArray): string {
  const size = shape.reduce((a, b) => a * b, 1);
  const elide = size > THRESHOLD;
  const strides: number[] = new Array<number>(shape.length);
  let st = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = st;
    st *= shape[i]!;
  }
  const indices = (n: number): Array<number | null> => {
    if (!elide || n <= 2 * EDGE) return Array.from({ length: n }, (_, i) => i);
    return [
      ...Array.from({ length: EDGE }, (_, i) => i),
      null,
      ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i),
    ];
  };
  const rec = (axis: number, offset: number, indent: string): string => {
    if (axis === shape.length) return formatValue(dtype, data[offset]!);
    const n = shape[axis]!;
    const idx = indices(n);
    if (axis === shape.length - 1) {
      return (
        "[" +
        idx
          .map((i) => (i === null ? "..." : rec(axis + 1, offset + i * strides[axis]!, indent)))
          .join(", ") +
        "]"
      );
    }
    if (n === 0) return "[]";
    const inner = indent + "  ";
    const rows = idx.map(
      (i) => inner + (i === null ? "..." : rec(axis + 1, offset + i * strides[axis]!, inner)),
    );
    return "[\n" + rows.join(",\n") + "\n" + indent + "]";
  };
  return rec(0, 0, "");
}

/** "f32[2][3]" */
export function formatType(dtype: DType, shape: readonly number[]): string {
  return dtype + shape.map((d) => `[${d}]`).join("");
}

/** Nx-style inspect text: "Tensor<\n  f32[2]\n  [1.0, 2.0]\n>". */
export function formatTensor(dtype: DType, shape: readonly number[], data: TypedArray): string {
  const values = formatValues(dtype, shape, data).split("\n").join("\n  ");
  return `Tensor<\n  ${formatType(dtype, shape)}\n  ${values}\n>`;
}
