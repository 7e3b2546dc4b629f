/**
 * Building ONNX graphs: a small builder that names values, adds nodes and initializers, and
 * turns the result into ModelProto bytes.
 *
 * Invariants: value names are unique within a builder; initializers hold little-endian raw data.
 */
import { type DType, onnxType, allocate, coerce, type TypedArray } from "./dtype.ts";
import { encodeModel, type AttrValue, type NodeJson, type TensorProtoJson, type ValueInfoJson } from "./onnx/proto.ts";

export class GraphBuilder {
  readonly nodes: NodeJson[] = [];
  readonly initializers: TensorProtoJson[] = [];
  readonly inputs: ValueInfoJson[] = [];
  readonly outputs: ValueInfoJson[] = [];
  private counter = 0;

  fresh(prefix = "t"): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Adds a node with one output and returns the output's name. */
  add(opType: string, inputs: string[], attrs?: Record<string, AttrValue>, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [out], attrs });
    return out;
  }

  input(name: string, dtype: DType, shape: Array<number | string>): string {
    this.inputs.push({ name, elemType: onnxType(dtype), shape });
    return name;
  }

  output(name: string, dtype: DType, shape: Array<number | string>): void {
    this.outputs.push({ name, elemType: onnxType(dtype), shape });
  }

  /** An initializer holding `data` (row-major) with the given dtype and dims. */
  initializer(dtype: DType, dims: number[], data: TypedArray, name?: string): string {
    const n = name ?? this.fresh("c");
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name: n, dataType: onnxType(dtype), dims, rawData: bytes.slice() });
    return n;
  }

  /** A 1-D int64 initializer (shapes, axes, pads, …). */
  ints(values: readonly number[]): string {
    return this.initializer("i64", [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** A scalar initializer of the given dtype. */
  scalar(dtype: DType, value: number | boolean | bigint): string {
    const a = allocate(dtype, 1);
    (a as unknown as Array<number | bigint>)[0] = coerce(dtype, value);
    return this.initializer(dtype, [], a);
  }

  /** A TensorProto value for attributes (e.g. ConstantOfShape's value). */
  static tensorAttr(dtype: DType, value: number | boolean): { tensor: TensorProtoJson } {
    const a = allocate(dtype, 1);
    (a as unknown as Array<number | bigint>)[0] = coerce(dtype, value);
    return { tensor: { dataType: onnxType(dtype), dims: [1], rawData: new Uint8Array(a.buffer.slice(0)) } };
  }

  cast(x: string, to: DType): string {
    return this.add("Cast", [x], { to: onnxType(to) });
  }

  encode(name = "tsnb"): Uint8Array {
    return encodeModel({
      graph: { name, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers },
    });
  }
}
