/**
 * The ONNX ModelProto encoder/decoder: the subset of onnx.proto that tsnb writes (ModelProto,
 * GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto, TypeProto, OperatorSetIdProto),
 * as a protobufjs JSON descriptor, plus small builders.
 *
 * Invariants: `encodeModel` returns a Uint8Array that owns its bytes (protobufjs'
 * `encode().finish()` may return a view into a shared pool; we copy). IR version and opset
 * stay within what onnxruntime-node 1.30 accepts (IR ≤ 13, opset ≤ 26).
 */
import protobuf from "protobufjs";

/** ONNX TensorProto.DataType codes for the dtypes tsnb uses. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** AttributeProto.AttributeType codes. */
export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** IR version written by tsnb (ONNX 1.15+: opset 20's Gelu). */
export const IR_VERSION = 9;
/** Default opset of the ai.onnx domain written by tsnb. */
export const OPSET = 18;
/**
 * Ops newer than OPSET: a model using one declares the opset that has it (and only then, since
 * ONNX Runtime resolves some kernels differently at newer opsets: Relu on int64 has none at 19+).
 */
const NEWER_OPS: Record<string, number> = { Gelu: 20 };

/** The opset a graph needs: OPSET, or newer when a node (or a subgraph's) is a newer op. */
function opsetOf(g: GraphJson): number {
  let v = OPSET;
  for (const n of g.nodes) {
    v = Math.max(v, NEWER_OPS[n.opType] ?? OPSET);
    for (const a of Object.values(n.attrs ?? {}))
      if (typeof a === "object" && a !== null && "graph" in a) v = Math.max(v, opsetOf(a.graph));
  }
  return v;
}

const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            refAttrName: { type: "string", id: 21 },
            docString: { type: "string", id: 13 },
            type: { type: "int32", id: 20 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            t: { type: "TensorProto", id: 5 },
            g: { type: "GraphProto", id: 6 },
            floats: { rule: "repeated", type: "float", id: 7 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            strings: { rule: "repeated", type: "bytes", id: 9 },
            tensors: { rule: "repeated", type: "TensorProto", id: 10 },
            graphs: { rule: "repeated", type: "GraphProto", id: 11 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: "string", id: 1 },
            type: { type: "TypeProto", id: 2 },
            docString: { type: "string", id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            domain: { type: "string", id: 7 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
            docString: { type: "string", id: 6 },
          },
        },
        StringStringEntryProto: {
          fields: { key: { type: "string", id: 1 }, value: { type: "string", id: 2 } },
        },
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
            producerName: { type: "string", id: 2 },
            producerVersion: { type: "string", id: 3 },
            domain: { type: "string", id: 4 },
            modelVersion: { type: "int64", id: 5 },
            docString: { type: "string", id: 6 },
            graph: { type: "GraphProto", id: 7 },
            metadataProps: { rule: "repeated", type: "StringStringEntryProto", id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            docString: { type: "string", id: 10 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
            valueInfo: { rule: "repeated", type: "ValueInfoProto", id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            floatData: { rule: "repeated", type: "float", id: 4, options: { packed: true } },
            int32Data: { rule: "repeated", type: "int32", id: 5, options: { packed: true } },
            stringData: { rule: "repeated", type: "bytes", id: 6 },
            int64Data: { rule: "repeated", type: "int64", id: 7, options: { packed: true } },
            name: { type: "string", id: 8 },
            docString: { type: "string", id: 12 },
            rawData: { type: "bytes", id: 9 },
            doubleData: { rule: "repeated", type: "double", id: 10, options: { packed: true } },
            uint64Data: { rule: "repeated", type: "uint64", id: 11, options: { packed: true } },
            dataLocation: { type: "int32", id: 14 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: {
                dimValue: { type: "int64", id: 1 },
                dimParam: { type: "string", id: 2 },
                denotation: { type: "string", id: 3 },
              },
            },
          },
        },
        TypeProto: {
          fields: {
            tensorType: { type: "Tensor", id: 1 },
            denotation: { type: "string", id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: "int32", id: 1 },
                shape: { type: "TensorShapeProto", id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const ModelProtoType = root.lookupType("onnx.ModelProto");

/** An attribute value: numbers are INT when integral unless wrapped with `{float: x}`. */
export type AttrValue =
  | number
  | { float: number }
  | string
  | number[]
  | { floats: number[] }
  | { tensor: TensorProtoJson }
  | { graph: GraphJson };

/** A TensorProto: raw little-endian bytes of the values, row-major. */
export interface TensorProtoJson {
  name?: string;
  dataType: number;
  dims: number[];
  rawData: Uint8Array;
}

/** One ONNX node. */
export interface NodeJson {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  name?: string;
  domain?: string;
}

/** A graph input/output: a dimension is a number, or a string naming a symbolic dimension. */
export interface ValueInfoJson {
  name: string;
  elemType: number;
  shape: Array<number | string>;
}

export interface GraphJson {
  name: string;
  nodes: NodeJson[];
  inputs: ValueInfoJson[];
  outputs: ValueInfoJson[];
  initializers?: TensorProtoJson[];
}

export interface ModelJson {
  graph: GraphJson;
  opset?: number;
  irVersion?: number;
  producerName?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function attrToProto(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return { name, type: AttrType.INT, i: v };
    return { name, type: AttrType.FLOAT, f: v };
  }
  if (typeof v === "string") return { name, type: AttrType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttrType.INTS, ints: v };
  if ("float" in v) return { name, type: AttrType.FLOAT, f: v.float };
  if ("floats" in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  if ("tensor" in v) return { name, type: AttrType.TENSOR, t: tensorToProto(v.tensor) };
  return { name, type: AttrType.GRAPH, g: graphToProto(v.graph) };
}

function tensorToProto(t: TensorProtoJson): Record<string, unknown> {
  return { name: t.name ?? "", dataType: t.dataType, dims: t.dims, rawData: t.rawData };
}

function valueInfoToProto(v: ValueInfoJson): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType,
        shape: {
          dim: v.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}

function graphToProto(g: GraphJson): Record<string, unknown> {
  return {
    name: g.name,
    node: g.nodes.map((n, i) => ({
      input: n.inputs,
      output: n.outputs,
      name: n.name ?? `n${i}`,
      opType: n.opType,
      domain: n.domain ?? "",
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attrToProto(k, v)),
    })),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    initializer: (g.initializers ?? []).map(tensorToProto),
  };
}

/** Encodes a model as ONNX protobuf bytes (a fresh Uint8Array, not a pool view). */
export function encodeModel(m: ModelJson): Uint8Array {
  const msg = ModelProtoType.fromObject({
    irVersion: m.irVersion ?? IR_VERSION,
    opsetImport: [{ domain: "", version: m.opset ?? opsetOf(m.graph) }],
    producerName: m.producerName ?? "tsnb",
    producerVersion: "0.1.0",
    docString: m.docString ?? "",
    graph: graphToProto(m.graph),
    metadataProps: Object.entries(m.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  const view = ModelProtoType.encode(msg).finish();
  return new Uint8Array(view); // copy: finish() can return a view into a shared buffer pool
}

/** Decodes ONNX protobuf bytes into a plain object (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const msg = ModelProtoType.decode(bytes);
  return ModelProtoType.toObject(msg, {
    longs: Number,
    bytes: Uint8Array as unknown as typeof String,
    defaults: false,
  }) as Record<string, unknown>;
}
