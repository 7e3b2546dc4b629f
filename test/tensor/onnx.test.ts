// The ONNX protobuf encoder and the interop surface: onnxruntime tensors in and out, models
// exported from traced functions that load in a plain onnxruntime-node session.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import ort from "onnxruntime-node";
import * as nx from "../../tensor/index.ts";

describe("ONNX encoder", () => {
  it("encodes a model that decodes to the same fields, in its own buffer", () => {
    const bytes = nx.encodeModel({
      graph: {
        name: "g",
        nodes: [
          {
            opType: "Gemm",
            inputs: ["x", "w"],
            outputs: ["y"],
            attrs: { alpha: { float: 0.5 }, transB: 1 },
          },
        ],
        inputs: [{ name: "x", elemType: nx.OnnxDataType.FLOAT, shape: ["batch", 3] }],
        outputs: [{ name: "y", elemType: nx.OnnxDataType.FLOAT, shape: ["batch", 2] }],
        initializers: [
          {
            name: "w",
            dataType: nx.OnnxDataType.FLOAT,
            dims: [2, 3],
            rawData: new Uint8Array(new Float32Array(6).fill(1).buffer),
          },
        ],
      },
      metadata: { author: "test" },
    });
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.byteLength, "not a view into a shared pool");
    const m = nx.decodeModel(bytes) as any;
    assert.equal(m.irVersion, nx.IR_VERSION);
    assert.equal(m.opsetImport[0].version, nx.OPSET);
    assert.ok(nx.IR_VERSION <= 13 && nx.OPSET <= 26);
    assert.equal(m.graph.node[0].opType, "Gemm");
    assert.equal(m.graph.node[0].attribute[0].f, 0.5);
    assert.equal(m.graph.node[0].attribute[1].i, 1);
    assert.equal(m.graph.input[0].type.tensorType.shape.dim[0].dimParam, "batch");
    assert.deepEqual(m.graph.initializer[0].dims, [2, 3]);
    assert.equal(m.metadataProps[0].value, "test");
  });

  it("runs in onnxruntime-node", async () => {
    const b = new nx.GraphBuilder();
    b.input("x", "f32", ["n"]);
    b.add("Mul", ["x", b.scalar("f32", 3)], undefined, "y");
    b.output("y", "f32", ["n"]);
    const s = await ort.InferenceSession.create(b.encode());
    const out = await s.run({ x: new ort.Tensor("float32", new Float32Array([1, 2]), [2]) });
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [3, 6]);
  });
});

describe("interop", () => {
  it("converts to and from onnxruntime tensors without copying", () => {
    const t = nx.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "f32" },
    );
    const o = nx.toOrt(t);
    assert.equal(o.type, "float32");
    assert.deepEqual(o.dims, [2, 2]);
    const back = nx.fromOrt(new ort.Tensor("int64", new BigInt64Array([5n, 6n]), [2]));
    assert.equal(back.dtype, "i64");
    assert.deepEqual(nx.add(back, 1).toArraySync(), [6, 7]);
    assert.throws(
      () => nx.fromOrt(new ort.Tensor("string", ["a"], [1])),
      /fromOrt: onnxruntime type string is not supported/,
    );
  });

  it("exportOnnx writes a standalone model with weights as initializers", async () => {
    const w = nx.random.normal([4, 3], { seed: 5 });
    const b = nx.random.normal([3], { seed: 6 });
    const model = (x: nx.Tensor) => nx.softmax(nx.relu(nx.add(nx.matmul(x, w), b)));
    const x = nx.random.uniform([2, 4], { seed: 7 });
    const bytes = nx.exportOnnx(model, [x], { inputNames: ["pixels"], outputNames: ["probs"] });
    const m = nx.decodeModel(bytes) as any;
    assert.ok(m.graph.initializer.length >= 2);
    const s = await ort.InferenceSession.create(bytes);
    assert.deepEqual(s.inputNames, ["pixels"]);
    assert.deepEqual(s.outputNames, ["probs"]);
    const out = await s.run({ pixels: nx.toOrt(x) });
    const expected = model(x).dataSync() as Float32Array;
    const got = out.probs!.data as Float32Array;
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
    assert.throws(
      () => nx.exportOnnx(() => nx.ones([2]), []),
      /exportOnnx: every output must depend on the inputs/,
    );
  });

  it("exportOnnx with dynamicBatch runs at any batch size", async () => {
    const w = nx.random.normal([4, 3], { seed: 5 });
    const model = (x: nx.Tensor) =>
      nx.logSoftmax(nx.matmul(nx.subtract(x, nx.mean(x, { axis: 0, keepDims: true })), w));
    const bytes = nx.exportOnnx(model, [nx.random.uniform([8, 4], { seed: 1 })], {
      dynamicBatch: true,
    });
    const m = nx.decodeModel(bytes) as any;
    assert.equal(m.graph.input[0].type.tensorType.shape.dim[0].dimParam, "batch");
    const s = await ort.InferenceSession.create(bytes);
    for (const n of [1, 5, 13]) {
      const x = nx.random.uniform([n, 4], { seed: n });
      const out = await s.run({ [s.inputNames[0]!]: nx.toOrt(x) });
      const got = out[s.outputNames[0]!]!;
      assert.deepEqual(got.dims, [n, 3]);
      const expected = model(x).dataSync() as Float32Array;
      (got.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-5));
    }
    assert.throws(
      () =>
        nx.exportOnnx((x: nx.Tensor) => nx.divide(x, x.shape[0]!), [nx.ones([4, 2])], {
          dynamicBatch: true,
        }),
      /exportOnnx: the function bakes the batch size into its computation/,
    );
    assert.throws(
      () =>
        nx.exportOnnx(
          (x: nx.Tensor, y: nx.Tensor) => nx.add(x, y),
          [nx.ones([4, 2]), nx.ones([3, 2])],
          { dynamicBatch: true },
        ),
      /same leading \(batch\) dimension/,
    );
  });
});
