/**
 * Building ONNX graphs: a small builder that names values, adds nodes and initializers, and
 * turns the result into ModelProto bytes.
 *
 * Invariants: value names are unique within a builder; initializers hold little-endian raw data.
 */
import { type DType, onnxType, allocate, coerce, type TypedArray } from "./dtype.ts";
import {
  encodeModel,
  type AttrValue,
  type NodeJson,
  type TensorProtoJson,
  type ValueInfoJson,
} from "./onnx/proto.ts";

/** Raised while lowering when a graph cannot be made batch-polymorphic (jit then stays static). */
export class PolyUnsupported extends Error {}

/**
 * Batch-polymorphic lowering: the trace was made with the batch size `sentinel`; every shape value
 * that is a multiple of it is rewritten in terms of the run-time batch size, read from `input`.
 */
export interface PolyBatch {
  sentinel: number;
  /** A graph input whose dimension 0 is the batch. */
  input: string;
  /** Name of the i64[1] batch size tensor, once emitted. */
  batch?: string;
}

export class GraphBuilder {
  /** Set when lowering a batch-polymorphic graph. */
  poly?: PolyBatch;
  /** Set when lowering an eager single-op graph: `param` vectors become graph inputs. */
  eagerParams = false;
  /**
   * The compiled session's intra-op threads when the caller fixed them (undefined: this machine's
   * cores; Infinity: any, for an exported graph): a lowering may pick kernels by how they scale
   * (ONNX Runtime runs some ops on one thread whatever it is given).
   */
  threads?: number;
  readonly nodes: NodeJson[] = [];
  readonly initializers: TensorProtoJson[] = [];
  readonly inputs: ValueInfoJson[] = [];
  readonly outputs: ValueInfoJson[] = [];
  /** Outputs of nodes that several lowerings share, by a key of their own (e.g. LayerNormalization). */
  readonly memo = new Map<string, string[]>();
  private counter = 0;

  fresh(prefix = "t"): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Adds a node with one output and returns the output's name. */
  add(
    opType: string,
    inputs: string[],
    attrs?: Record<string, AttrValue>,
    output?: string,
  ): string {
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
    return this.initializer(
      "i64",
      [values.length],
      BigInt64Array.from(values.map((v) => BigInt(v))),
    );
  }

  /** True when `v` is a batch-derived size in a polymorphic lowering. */
  isBatchSized(v: number): boolean {
    return this.poly !== undefined && v !== 0 && v % this.poly.sentinel === 0;
  }

  /** A 1-D int64 shape tensor; in a polymorphic lowering, batch-derived entries are computed at run time. */
  shapeInts(values: readonly number[]): string {
    const poly = this.poly;
    if (!poly || !values.some((v) => this.isBatchSized(v))) return this.ints(values);
    if (!poly.batch) poly.batch = this.add("Shape", [poly.input], { start: 0, end: 1 });
    const parts = values.map((v) => {
      if (!this.isBatchSized(v)) return this.ints([v]);
      const k = v / poly.sentinel;
      return k === 1 ? poly.batch! : this.add("Mul", [poly.batch!, this.ints([k])]);
    });
    return this.add("Concat", parts, { axis: 0 });
  }

  /** Slice ends: a batch-derived end means "to the end of the axis". */
  sliceEnds(values: readonly number[]): string {
    return this.ints(values.map((v) => (this.isBatchSized(v) ? 2 ** 62 : v)));
  }

  /** Slice starts: a batch-derived start cannot be expressed. */
  sliceStarts(values: readonly number[]): string {
    if (values.some((v) => this.poly && v >= this.poly.sentinel))
      throw new PolyUnsupported("slice start depends on the batch size");
    return this.ints(values);
  }

  /**
   * An int64 parameter vector of an op (slice starts/ends, pad widths, broadcast shapes). In eager
   * single-op graphs (`eagerParams`) it is a graph input `p_<name>`, so one cached session serves
   * every value; in jit graphs it is a constant (batch-aware in a polymorphic lowering).
   */
  param(
    name: string,
    values: readonly number[],
    kind: "shape" | "starts" | "ends" | "plain",
  ): string {
    if (this.eagerParams) {
      const n = `p_${name}`;
      if (!this.inputs.some((i) => i.name === n)) this.input(n, "i64", [values.length]);
      return n;
    }
    switch (kind) {
      case "shape":
        return this.shapeInts(values);
      case "starts":
        return this.sliceStarts(values);
      case "ends":
        return this.sliceEnds(values);
      case "plain":
        return this.ints(values);
    }
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
    return {
      tensor: { dataType: onnxType(dtype), dims: [1], rawData: new Uint8Array(a.buffer.slice(0)) },
    };
  }

  /**
   * Makes value `x` available as graph output `name`: renames the node that produces it when that
   * is safe (no copy), else adds an Identity. `x` must not be used by nodes added later.
   */
  outputAs(x: string, name: string): void {
    const producer = this.nodes.find((n) => n.outputs.includes(x));
    const isOutputAlready =
      this.outputs.some((o) => o.name === x) ||
      this.nodes.some(
        (n) =>
          n.opType === "Identity" &&
          n.inputs[0] === x &&
          this.outputs.some((o) => o.name === n.outputs[0]),
      );
    if (!producer || isOutputAlready || this.inputs.some((i) => i.name === x)) {
      this.add("Identity", [x], undefined, name);
      return;
    }
    producer.outputs = producer.outputs.map((o) => (o === x ? name : o));
    for (const n of this.nodes) n.inputs = n.inputs.map((v) => (v === x ? name : v));
  }

  cast(x: string, to: DType): string {
    return this.add("Cast", [x], { to: onnxType(to) });
  }

  encode(name = "tsnb"): Uint8Array {
    return encodeModel({
      graph: {
        name,
        nodes: this.nodes,
        inputs: this.inputs,
        outputs: this.outputs,
        initializers: this.initializers,
      },
    });
  }
}
