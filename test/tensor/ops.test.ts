// Every tsnb/nx op against a plain-JS reference: broadcasting edge cases, empty and scalar
// tensors, each accepted dtype, promotion rules and error messages.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import * as nx from "../../tensor/index.ts";
import { type Ref, close, flat, mapN, randRef, reduceRef, rng } from "./ref.ts";
import { assertLikeNumpy, numpy } from "./numpy.ts";

const ALL: nx.DType[] = ["f32", "f64", "i32", "i64", "u8", "bool"];
const NUMERIC: nx.DType[] = ["f32", "f64", "i32", "i64", "u8"];

function T(r: Ref, dtype: nx.DType): nx.Tensor {
  return nx.tensor(r.data, { dtype, shape: r.shape });
}

/** An i32 tensor from JS numbers (plain number data is f32). */
const i32 = (data: nx.NestedArray): nx.Tensor => nx.tensor(data, { dtype: "i32" });

function values(t: nx.Tensor): number[] {
  return flat(t.toArraySync());
}

/** Reference data suited to a dtype (non-negative small ints for u8, 0/1 for bool). */
function dataFor(shape: number[], dtype: nx.DType, r: () => number): Ref {
  if (dtype === "bool") return randRef(shape, r, 0, 2, true);
  if (dtype === "u8") return randRef(shape, r, 0, 9, true);
  if (dtype === "i32" || dtype === "i64") return randRef(shape, r, -6, 7, true);
  return randRef(shape, r, -3, 3);
}

/** Rounds a reference result to what a dtype stores. */
function store(dtype: nx.DType, v: number): number {
  switch (dtype) {
    case "f32":
      return Math.fround(v);
    case "i32":
    case "i64":
      return Math.trunc(v);
    case "u8":
      return Math.trunc(v) & 255;
    case "bool":
      return v ? 1 : 0;
    default:
      return v;
  }
}

const SHAPE_PAIRS: Array<[number[], number[]]> = [
  [[], []],
  [[3], []],
  [[], [3]],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [
    [4, 1, 3],
    [2, 1],
  ],
  [[0, 3], [3]],
  [
    [2, 0],
    [1, 1],
  ],
  [[1], [5]],
];

describe("creation", () => {
  it("infers dtypes from JS data and keeps typed arrays' dtypes", () => {
    // JS numbers are doubles: plain number data is f32 whatever its values (as tfjs and
    // onnxruntime's `new Tensor([1, 2, 3])`); integer dtypes come from {dtype}, typed arrays, bigints
    assert.equal(nx.tensor([1, 2, 3]).dtype, "f32");
    assert.equal(nx.tensor(3).dtype, "f32");
    assert.equal(
      nx.tensor([
        [1, 2],
        [3, 4],
      ]).dtype,
      "f32",
    );
    assert.equal(nx.tensor([1, 2.5]).dtype, "f32");
    assert.equal(nx.tensor([1, 2, 3], { dtype: "i32" }).dtype, "i32");
    assert.equal(nx.tensor(new Int32Array([1, 2])).dtype, "i32");
    assert.equal(nx.tensor([1n, 2]).dtype, "i64");
    assert.equal(nx.tensor([true, false]).dtype, "bool");
    assert.equal(nx.tensor([1n, 2n]).dtype, "i64");
    assert.equal(nx.tensor(new Float64Array([1, 2])).dtype, "f64");
    assert.equal(nx.tensor(new Uint8Array([1, 2])).dtype, "u8");
    assert.equal(nx.tensor(new BigInt64Array([1n])).dtype, "i64");
    assert.equal(nx.tensor(new Int32Array(4), { shape: [2, 2] }).shape.join(), "2,2");
    assert.equal(nx.tensor(3.5).shape.length, 0);
    assert.deepEqual(
      nx
        .tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: "f64" },
        )
        .toArraySync(),
      [
        [1, 2],
        [3, 4],
      ],
    );
    assert.deepEqual(nx.tensor([1.7, -1.7], { dtype: "i32" }).toArraySync(), [1, -1]);
    assert.deepEqual(nx.tensor([[]]).shape, [1, 0]);
    assert.deepEqual(
      nx.tensor([nx.tensor([1, 2]), nx.tensor([3, 4])], { dtype: "f64" }).toArraySync(),
      [
        [1, 2],
        [3, 4],
      ],
    );
  });

  it("accepts arrays and typed arrays made in another vm realm", () => {
    const other = runInNewContext(
      "({ f: new Float64Array([1.5, 2]), a: [[1, 2], [3, 4]], u: new Uint8Array([7]) })",
    ) as { f: Float64Array; a: number[][]; u: Uint8Array };
    assert.equal(nx.tensor(other.f).dtype, "f64");
    assert.deepEqual(nx.tensor(other.f).toArraySync(), [1.5, 2]);
    assert.deepEqual(nx.tensor(other.a).shape, [2, 2]);
    assert.equal(nx.tensor(other.u).dtype, "u8");
  });

  it("round-trips every dtype through toArray, item and dataSync", async () => {
    for (const d of ALL) {
      const src =
        d === "bool"
          ? [
              [true, false],
              [false, true],
            ]
          : [
              [1, 0],
              [2, 3],
            ];
      const t = nx.tensor(src, { dtype: d });
      assert.deepEqual(await t.toArray(), src, d);
      assert.equal(t.dataSync().length, 4);
      assert.equal(t.dtype, d);
    }
    assert.equal(nx.tensor(7, { dtype: "i64" }).item(), 7);
    assert.equal(nx.tensor(true).item(), true);
    assert.ok(nx.tensor(2 ** 40, { dtype: "i64" }).dataSync() instanceof BigInt64Array);
    assert.equal(nx.tensor(2 ** 40, { dtype: "i64" }).item(), 2 ** 40);
    assert.throws(
      () => nx.tensor([1, 2]).item(),
      /item: expected a tensor with one element, got shape \[2\]/,
    );
  });

  it("rejects ragged arrays, bad shapes and unknown dtypes", () => {
    assert.throws(() => nx.tensor([[1, 2], [3]]), /tensor: ragged nested array/);
    assert.throws(
      () => nx.tensor([1, "a" as unknown as number]),
      /tensor: expected numbers or booleans/,
    );
    assert.throws(() => nx.zeros([2, -1]), /zeros|full/);
    assert.throws(() => nx.tensor([1], { dtype: "f16" as nx.DType }), /unknown dtype f16/);
    assert.throws(
      () => nx.tensor(new Float32Array(3), { shape: [2, 2] }),
      /shape \[2,2\] needs 4 values, got 3/,
    );
  });

  it("zeros, ones, full, arange, linspace, eye", () => {
    assert.deepEqual(nx.zeros([2, 2]).toArraySync(), [
      [0, 0],
      [0, 0],
    ]);
    assert.equal(nx.zeros([2]).dtype, "f32");
    assert.deepEqual(nx.ones([3], { dtype: "i64" }).toArraySync(), [1, 1, 1]);
    assert.deepEqual(nx.full([2], 7).toArraySync(), [7, 7]);
    assert.equal(nx.full([2], 7).dtype, "f32");
    assert.equal(nx.full([2], 7, { dtype: "i32" }).dtype, "i32");
    assert.equal(nx.full([2], 0.5).dtype, "f32");
    assert.deepEqual(nx.arange(5).toArraySync(), [0, 1, 2, 3, 4]);
    assert.deepEqual(nx.arange(2, 10, 3).toArraySync(), [2, 5, 8]);
    assert.deepEqual(nx.arange(5, 0, -2).toArraySync(), [5, 3, 1]);
    close(values(nx.arange(0, 1, 0.25)), [0, 0.25, 0.5, 0.75], 0, "arange float");
    assert.equal(nx.arange(0, 1, 0.25).dtype, "f32");
    assert.deepEqual(nx.arange(0).shape, [0]);
    close(values(nx.linspace(0, 1, 5)), [0, 0.25, 0.5, 0.75, 1], 1e-7, "linspace");
    close(
      values(nx.linspace(0, 1, 4, { endpoint: false })),
      [0, 0.25, 0.5, 0.75],
      1e-7,
      "linspace no endpoint",
    );
    assert.deepEqual(nx.eye(2, { m: 3 }).toArraySync(), [
      [1, 0, 0],
      [0, 1, 0],
    ]);
    assert.deepEqual(nx.zerosLike(nx.tensor([1, 2])).toArraySync(), [0, 0]);
    assert.deepEqual(nx.onesLike(nx.tensor([true])).toArraySync(), [true]);
    assert.throws(() => nx.arange(0, 5, 0), /arange: step must be a non-zero/);
  });

  it("seeded random reproduces and has the right moments", () => {
    const a = nx.random.uniform([1000], { seed: 42 });
    const b = nx.random.uniform([1000], { seed: 42 });
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(
      nx.random.uniform([10], { seed: 1 }).dataSync(),
      nx.random.uniform([10], { seed: 2 }).dataSync(),
    );
    nx.random.seed(7);
    const c1 = nx.random.normal([4]).dataSync();
    const c2 = nx.random.normal([4]).dataSync();
    nx.random.seed(7);
    assert.deepEqual(nx.random.normal([4]).dataSync(), c1);
    assert.deepEqual(nx.random.normal([4]).dataSync(), c2);
    const u = Array.from(
      nx.random.uniform([20000], { seed: 3, min: 2, max: 4 }).dataSync() as Float32Array,
    );
    assert.ok(u.every((v) => v >= 2 && v < 4));
    assert.ok(Math.abs(u.reduce((x, y) => x + y) / u.length - 3) < 0.02);
    const n = Array.from(
      nx.random
        .normal([20000], { seed: 3, mean: 1, std: 2, dtype: "f64" })
        .dataSync() as Float64Array,
    );
    const m = n.reduce((x, y) => x + y) / n.length;
    const sd = Math.sqrt(n.reduce((x, y) => x + (y - m) ** 2, 0) / n.length);
    assert.ok(Math.abs(m - 1) < 0.05 && Math.abs(sd - 2) < 0.05, `${m} ${sd}`);
    const perm = Array.from(nx.random.permutation(10, { seed: 1 }).dataSync() as Int32Array).sort(
      (x, y) => x - y,
    );
    assert.deepEqual(perm, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // recorded values pin the generator: the same seed gives the same numbers in every run, on
    // every machine and in every later version (a notebook re-run must not change its data)
    assert.deepEqual(
      Array.from(nx.random.uniform([3], { seed: 0, dtype: "f64" }).dataSync() as Float64Array),
      [0.7601112322325665, 0.9388886293035562, 0.9055714151572977],
    );
    assert.deepEqual(
      Array.from(nx.random.normal([2], { seed: 123 }).dataSync() as Float32Array),
      [0.02916220761835575, 1.3889837265014648],
    );
  });
});

interface BinCase {
  name: string;
  fn: (a: nx.Tensor, b: nx.Tensor) => nx.Tensor;
  ref: (a: number, b: number) => number;
  dtypes: nx.DType[];
  out?: (d: nx.DType) => nx.DType;
  /** Avoid b = 0 etc. */
  safeB?: boolean;
  positiveA?: boolean;
}

const floorMod = (a: number, b: number): number => (b === 0 ? 0 : a - b * Math.floor(a / b));
const boolOut = (): nx.DType => "bool";

const BINARY: BinCase[] = [
  { name: "add", fn: nx.add, ref: (a, b) => a + b, dtypes: NUMERIC },
  { name: "subtract", fn: nx.subtract, ref: (a, b) => a - b, dtypes: ["f32", "f64", "i32", "i64"] },
  { name: "multiply", fn: nx.multiply, ref: (a, b) => a * b, dtypes: NUMERIC },
  {
    name: "divide",
    fn: nx.divide,
    ref: (a, b) => a / b,
    dtypes: NUMERIC,
    out: (d) => (d === "f64" ? "f64" : "f32"),
    safeB: true,
  },
  { name: "pow", fn: nx.pow, ref: (a, b) => a ** b, dtypes: ["f32", "f64"], positiveA: true },
  { name: "maximum", fn: nx.maximum, ref: Math.max, dtypes: ALL },
  { name: "minimum", fn: nx.minimum, ref: Math.min, dtypes: ALL },
  {
    name: "remainder",
    fn: nx.remainder,
    ref: floorMod,
    dtypes: ["f32", "f64", "i32", "i64"],
    safeB: true,
  },
  {
    name: "floorDivide",
    fn: nx.floorDivide,
    ref: (a, b) => Math.floor(a / b),
    dtypes: ["f32", "f64", "i32", "i64"],
    safeB: true,
  },
  { name: "equal", fn: nx.equal, ref: (a, b) => +(a === b), dtypes: ALL, out: boolOut },
  { name: "notEqual", fn: nx.notEqual, ref: (a, b) => +(a !== b), dtypes: ALL, out: boolOut },
  { name: "less", fn: nx.less, ref: (a, b) => +(a < b), dtypes: ALL, out: boolOut },
  { name: "lessEqual", fn: nx.lessEqual, ref: (a, b) => +(a <= b), dtypes: ALL, out: boolOut },
  { name: "greater", fn: nx.greater, ref: (a, b) => +(a > b), dtypes: ALL, out: boolOut },
  {
    name: "greaterEqual",
    fn: nx.greaterEqual,
    ref: (a, b) => +(a >= b),
    dtypes: ALL,
    out: boolOut,
  },
  {
    name: "logicalAnd",
    fn: nx.logicalAnd,
    ref: (a, b) => +(!!a && !!b),
    dtypes: ALL,
    out: boolOut,
  },
  { name: "logicalOr", fn: nx.logicalOr, ref: (a, b) => +(!!a || !!b), dtypes: ALL, out: boolOut },
  {
    name: "logicalXor",
    fn: nx.logicalXor,
    ref: (a, b) => +(!!a !== !!b),
    dtypes: ALL,
    out: boolOut,
  },
];

describe("element-wise binary ops with broadcasting", () => {
  for (const c of BINARY) {
    it(`${c.name} on ${c.dtypes.join(", ")}`, () => {
      const r = rng(c.name.length * 7919);
      for (const d of c.dtypes) {
        for (const [sa, sb] of SHAPE_PAIRS) {
          let A = dataFor(sa, d, r);
          let B = dataFor(sb, d, r);
          if (c.positiveA) A = { ...A, data: A.data.map((v) => Math.abs(v) + 0.1) };
          if (c.safeB)
            B = {
              ...B,
              data: B.data.map((v) => (v === 0 ? 1 : d === "u8" || d === "bool" ? v : v)),
            };
          const ta = T(A, d);
          const tb = T(B, d);
          const out = c.fn(ta, tb);
          const od = c.out
            ? c.out(d)
            : d === "bool" && !["maximum", "minimum"].includes(c.name)
              ? "i32"
              : d;
          const Ac = { ...A, data: Array.from(ta.dataSync(), Number) };
          const Bc = { ...B, data: Array.from(tb.dataSync(), Number) };
          const expected = mapN((x, y) => store(od, c.ref(x, y)), Ac, Bc);
          const msg = `${c.name} ${d} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`;
          assert.equal(out.dtype, od, msg);
          assert.deepEqual(out.shape, expected.shape, msg);
          close(values(out), expected.data, d === "f32" || od === "f32" ? 1e-6 : 1e-12, msg);
        }
      }
    });
  }

  it("reports shapes and dtypes when broadcasting fails", () => {
    assert.throws(() => nx.add(nx.zeros([2, 3]), nx.zeros([2])), {
      name: "TensorError",
      message: "add: shapes [2,3] and [2] cannot be broadcast together (f32, f32)",
    });
    assert.throws(
      () => nx.where(nx.zeros([2], { dtype: "bool" }), nx.zeros([3]), 1),
      /where: shapes \[2\] and \[3\] and \[\] cannot be broadcast/,
    );
  });

  it("integer semantics: u8 wraps, integer division and remainder follow NumPy, x // 0 and x % 0 give 0", () => {
    assert.deepEqual(
      nx.add(nx.tensor([250], { dtype: "u8" }), nx.tensor([10], { dtype: "u8" })).toArraySync(),
      [4],
    );
    assert.deepEqual(
      nx.floorDivide(i32([7, -7, 7, -7]), i32([2, 2, -2, -2])).toArraySync(),
      [3, -4, -4, 3],
    );
    assert.deepEqual(
      nx.remainder(i32([7, -7, 7, -7]), i32([2, 2, -2, -2])).toArraySync(),
      [1, 1, -1, -1],
    );
    assert.deepEqual(nx.floorDivide(i32([5]), 0).toArraySync(), [0]);
    assert.deepEqual(nx.remainder(i32([5]), 0).toArraySync(), [0]);
    close(
      values(nx.remainder(nx.tensor([-7.5, 7.5], { dtype: "f64" }), 2)),
      [0.5, 1.5],
      0,
      "float mod",
    );
    assert.deepEqual(nx.divide(i32([1, 3]), i32([2, 2])).toArraySync(), [0.5, 1.5]);
    assert.deepEqual(nx.pow(i32([2, 3]), 2).toArraySync(), [4, 9]);
    assert.deepEqual(
      nx.quotient(i32([7, -7, 7, 5]), i32([2, 2, -2, 0])).toArraySync(),
      [3, -3, -3, 0],
    );
    assert.throws(
      () => nx.quotient(nx.tensor([1.5]), 2),
      /quotient: integer tensors only, got f32\[1\] and f32\[\]/,
    );
    assert.deepEqual(nx.transpose(nx.zeros([1, 2, 3]), { axes: [2, 0, 1] }).shape, [3, 1, 2]);
    assert.equal(nx.pow(i32([2, 3]), 2).dtype, "i32");
  });
});

describe("dtype promotion", () => {
  it("promotes along bool < u8 < i32 < i64 < f32 < f64", () => {
    const order: nx.DType[] = ["bool", "u8", "i32", "i64", "f32", "f64"];
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const a = nx.ones([1], { dtype: order[i]! });
        const b = nx.ones([1], { dtype: order[j]! });
        const hi = order[Math.max(i, j)]!;
        assert.equal(nx.maximum(a, b).dtype, hi);
        assert.equal(nx.add(a, b).dtype, hi === "bool" ? "i32" : hi);
        assert.equal(nx.equal(a, b).dtype, "bool");
        assert.equal(nx.promoteTypes(order[i]!, order[j]!), hi);
      }
    }
  });

  it("JS numbers are weak scalars", () => {
    assert.equal(nx.add(nx.ones([1], { dtype: "u8" }), 3).dtype, "u8");
    assert.equal(nx.add(nx.ones([1], { dtype: "i32" }), 0.5).dtype, "f32");
    assert.equal(nx.add(nx.ones([1], { dtype: "f64" }), 0.5).dtype, "f64");
    assert.equal(nx.multiply(2, nx.ones([1], { dtype: "f32" })).dtype, "f32");
    assert.equal(nx.add(1, 2).dtype, "f32");
    assert.equal(nx.subtract(10, i32([1, 2])).dtype, "i32");
    assert.deepEqual(nx.subtract(10, i32([1, 2])).toArraySync(), [9, 8]);
    assert.deepEqual(nx.add(nx.tensor([true, false]), true).toArraySync(), [2, 1]);
  });
});

interface UnCase {
  name: string;
  fn: (a: nx.Tensor) => nx.Tensor;
  ref: (a: number) => number;
  dtypes: nx.DType[];
  float?: boolean;
  domain?: "positive";
}

const UNARY: UnCase[] = [
  { name: "negate", fn: nx.negate, ref: (a) => -a, dtypes: ["f32", "f64", "i32", "i64"] },
  { name: "abs", fn: nx.abs, ref: Math.abs, dtypes: NUMERIC },
  { name: "sign", fn: nx.sign, ref: Math.sign, dtypes: NUMERIC },
  { name: "exp", fn: nx.exp, ref: Math.exp, dtypes: ALL, float: true },
  {
    name: "log",
    fn: nx.log,
    ref: Math.log,
    dtypes: ["f32", "f64", "i32"],
    float: true,
    domain: "positive",
  },
  {
    name: "sqrt",
    fn: nx.sqrt,
    ref: Math.sqrt,
    dtypes: ["f32", "f64", "u8"],
    float: true,
    domain: "positive",
  },
  { name: "tanh", fn: nx.tanh, ref: Math.tanh, dtypes: ["f32", "f64", "i32"], float: true },
  {
    name: "sigmoid",
    fn: nx.sigmoid,
    ref: (a) => 1 / (1 + Math.exp(-a)),
    dtypes: ["f32", "f64", "i64"],
    float: true,
  },
  { name: "sin", fn: nx.sin, ref: Math.sin, dtypes: ["f32", "f64"], float: true },
  { name: "cos", fn: nx.cos, ref: Math.cos, dtypes: ["f32", "f64"], float: true },
  { name: "relu", fn: nx.relu, ref: (a) => Math.max(a, 0), dtypes: NUMERIC },
  { name: "square", fn: nx.square, ref: (a) => a * a, dtypes: NUMERIC },
  { name: "floor", fn: nx.floor, ref: Math.floor, dtypes: NUMERIC },
  { name: "ceil", fn: nx.ceil, ref: Math.ceil, dtypes: NUMERIC },
  {
    name: "round",
    fn: nx.round,
    ref: (a) => {
      const f = Math.floor(a);
      const d = a - f;
      return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
    },
    dtypes: ["f32", "f64"],
  },
  { name: "logicalNot", fn: nx.logicalNot, ref: (a) => +!a, dtypes: ALL },
];

describe("element-wise unary ops", () => {
  for (const c of UNARY) {
    it(`${c.name} on ${c.dtypes.join(", ")}`, () => {
      const r = rng(c.name.length * 31);
      for (const d of c.dtypes) {
        for (const shape of [[], [5], [2, 3], [0, 2]]) {
          let A = dataFor(shape, d, r);
          if (c.domain === "positive") A = { ...A, data: A.data.map((v) => Math.abs(v) + 1) };
          const ta = T(A, d);
          const out = c.fn(ta);
          const od: nx.DType =
            c.name === "logicalNot" ? "bool" : c.float ? (d === "f64" ? "f64" : "f32") : d;
          const Ac = Array.from(ta.dataSync(), Number);
          const msg = `${c.name} ${d} ${JSON.stringify(shape)}`;
          assert.equal(out.dtype, od, msg);
          assert.deepEqual(out.shape, shape, msg);
          close(
            values(out),
            Ac.map((v) => store(od, c.ref(v))),
            od === "f32" ? 2e-6 : 1e-12,
            msg,
          );
        }
      }
    });
  }

  it("round halves to even, negate of bool is an error", () => {
    assert.deepEqual(nx.round(nx.tensor([0.5, 1.5, 2.5, -0.5])).toArraySync(), [0, 2, 2, -0]);
    assert.throws(
      () => nx.negate(nx.tensor([true])),
      /negate: not defined for bool tensors \(bool\[1\]\)/,
    );
  });

  it("clip, where, cast, isNaN", () => {
    assert.deepEqual(nx.clip(nx.tensor([-2, 0.5, 3]), 0, 1).toArraySync(), [0, 0.5, 1]);
    assert.deepEqual(
      nx.where(nx.tensor([true, false, true]), nx.tensor([1, 2, 3]), -1).toArraySync(),
      [1, -1, 3],
    );
    assert.deepEqual(
      nx.where(nx.tensor([[1], [0]]), nx.tensor([1, 2]), nx.tensor([[5], [6]])).toArraySync(),
      [
        [1, 2],
        [6, 6],
      ],
    );
    assert.deepEqual(nx.cast(nx.tensor([1.9, -1.9, 0]), "i32").toArraySync(), [1, -1, 0]);
    assert.deepEqual(nx.cast(nx.tensor([2, 0, -1]), "bool").toArraySync(), [true, false, true]);
    assert.deepEqual(nx.tensor([300]).astype("u8").toArraySync(), [44]);
    assert.deepEqual(nx.cast(nx.tensor([true, false]), "f64").toArraySync(), [1, 0]);
    assert.deepEqual(nx.isNaN(nx.tensor([NaN, 1])).toArraySync(), [true, false]);
    for (const d of ALL) assert.equal(nx.cast(nx.ones([2], { dtype: "f32" }), d).dtype, d);
  });
});

describe("reductions", () => {
  const shape = [2, 3, 4];
  const axesCases: Array<number[] | undefined> = [undefined, [0], [1], [2], [0, 2], [-1]];
  const sumRef = (A: Ref, axes: number[], keep: boolean) =>
    reduceRef(A, axes, keep, 0, (a, v) => a + v);
  it("sum, mean, max, min over axes with keepDims, for numeric dtypes", () => {
    const r = rng(5);
    for (const d of NUMERIC) {
      const A = dataFor(shape, d, r);
      const t = T(A, d);
      for (const ax of axesCases) {
        const axes = ax === undefined ? [0, 1, 2] : ax.map((a) => (a < 0 ? a + 3 : a));
        for (const keep of [false, true]) {
          const msg = `${d} axes=${JSON.stringify(ax)} keep=${keep}`;
          const s = nx.sum(t, { axes: ax, keepDims: keep });
          const es = sumRef(A, axes, keep);
          assert.deepEqual(s.shape, es.shape, msg);
          assert.equal(s.dtype, d === "u8" ? "i32" : d, msg);
          close(values(s), es.data, 1e-5, "sum " + msg);
          const m = nx.mean(t, { axes: ax, keepDims: keep });
          const count = axes.reduce((n, a) => n * shape[a]!, 1);
          assert.equal(m.dtype, d === "f64" ? "f64" : "f32", msg);
          close(
            values(m),
            es.data.map((v) => v / count),
            1e-5,
            "mean " + msg,
          );
          close(
            values(nx.max(t, { axes: ax, keepDims: keep })),
            reduceRef(A, axes, keep, -Infinity, Math.max).data,
            1e-6,
            "max " + msg,
          );
          close(
            values(nx.min(t, { axes: ax, keepDims: keep })),
            reduceRef(A, axes, keep, Infinity, Math.min).data,
            1e-6,
            "min " + msg,
          );
        }
      }
    }
  });

  it("sum of bool counts in i32, reductions of scalars and empty tensors", () => {
    const b = nx.tensor([true, true, false]);
    assert.equal(nx.sum(b).dtype, "i32");
    assert.equal(nx.sum(b).item(), 2);
    assert.equal(nx.max(b).item(), true);
    assert.equal(nx.sum(nx.tensor(5)).item(), 5);
    assert.deepEqual(nx.sum(nx.zeros([0, 3]), { axis: 0 }).toArraySync(), [0, 0, 0]);
    assert.equal(nx.sum(nx.zeros([0])).item(), 0);
    assert.ok(Number.isNaN(nx.mean(nx.zeros([0])).item() as number));
    assert.throws(() => nx.max(nx.zeros([0, 3]), { axis: 0 }), {
      message: "max: cannot reduce an empty axis (f32[0,3], axes [0]): the result has no identity",
    });
    assert.throws(
      () => nx.sum(nx.zeros([2]), { axis: 1 }),
      /sum: axis 1 is out of range for rank 1/,
    );
    assert.throws(() => nx.sum(nx.zeros([2, 2]), { axes: [0, -2] }), /sum: repeated axis/);
  });

  it("integer sums wrap like add and cumsum (and NumPy), eager and in jit, over any axes", () => {
    const big = 2147483647;
    const cases: Array<[nx.Tensor, nx.ReduceArg | undefined]> = [
      [i32([big, 1]), undefined],
      [i32([big, big, big, 5]), undefined],
      [
        i32([
          [big, 1],
          [3, 4],
        ]),
        1,
      ],
      [
        i32([
          [big, 1],
          [big, 4],
        ]),
        { axes: 0, keepDims: true },
      ],
      [i32([-big, -big, -5]), undefined],
      [nx.tensor([2n ** 63n - 1n, 1n, 1n], { dtype: "i64" }), undefined],
      [
        nx.tensor(
          [
            [-(2n ** 63n), -1n],
            [5n, 2n ** 62n],
          ],
          { dtype: "i64" },
        ),
        0,
      ],
      [nx.tensor([9007199254740993n, 2n], { dtype: "i64" }), undefined],
      [nx.tensor([200, 100], { dtype: "u8" }), undefined],
      [nx.zeros([0, 3], { dtype: "i64" }), 0],
    ];
    const opts = (a: nx.ReduceArg | undefined): nx.ReduceOptions =>
      a === undefined ? {} : typeof a === "number" ? { axes: a } : (a as nx.ReduceOptions);
    const axisOf = (a: nx.ReduceArg | undefined): string => String(opts(a).axes ?? "None");
    const keep = (a: nx.ReduceArg | undefined): string => (opts(a).keepDims ? "True" : "False");
    const ref = numpy(
      cases.map(([t, a]) => ({
        expr: `np.sum(x, axis=${axisOf(a)}, keepdims=${keep(a)}, dtype=${t.dtype === "i64" ? "np.int64" : "np.int32"})`,
        args: { x: t },
      })),
    );
    const jitSum = nx.jit((x: nx.Tensor, a: nx.ReduceArg | undefined) => nx.sum(x, a));
    cases.forEach(([t, a], i) => {
      assertLikeNumpy(nx.sum(t, a), ref[i]!, 0, `sum #${i}`);
      assertLikeNumpy(jitSum(t, a) as nx.Tensor, ref[i]!, 0, `jit sum #${i}`);
      // i64 sums stay exact beyond 2^53 (compared as bigints)
      if (t.dtype === "i64" && a === undefined) {
        const exact = BigInt.asIntN(
          64,
          (t.dataSync() as BigInt64Array).reduce((s, v) => s + v, 0n),
        );
        assert.equal((nx.sum(t).dataSync() as BigInt64Array)[0], exact, `exact #${i}`);
      }
    });
    assert.equal(nx.sum(i32([big, 1])).item(), -2147483648);
    assert.deepEqual(nx.cumsum(i32([big, 1])).toArraySync(), [big, -2147483648]);
    assert.deepEqual(nx.add(i32([big]), 1).toArraySync(), [-2147483648]);
  });

  it("variance, standardDeviation, any, all", () => {
    const x = nx.tensor(
      [
        [1, 2, 3, 4],
        [2, 2, 2, 2],
      ],
      { dtype: "f64" },
    );
    close(values(nx.variance(x, 1)), [1.25, 0], 1e-12, "variance");
    close(values(nx.variance(x, { axes: 1, ddof: 1 })), [5 / 3, 0], 1e-12, "sample variance");
    // mean 2.25; squared deviations 1.5625 + 0.0625 + 0.5625 + 3.0625 + 4 × 0.0625 = 5.5
    close(values(nx.standardDeviation(x)), [Math.sqrt(5.5 / 8)], 1e-12, "std");
    close(
      values(x.std({ axes: [0, 1], keepDims: true })),
      [Math.sqrt(5.5 / 8)],
      1e-12,
      "std method",
    );
    assert.equal(nx.variance(nx.tensor([1, 2])).dtype, "f32");
    assert.deepEqual(
      nx
        .any(
          nx.tensor([
            [0, 1],
            [0, 0],
          ]),
          1,
        )
        .toArraySync(),
      [true, false],
    );
    assert.deepEqual(
      nx
        .all(
          nx.tensor([
            [1, 1],
            [0, 1],
          ]),
          1,
        )
        .toArraySync(),
      [true, false],
    );
    assert.equal(nx.any(nx.zeros([0])).item(), false);
    assert.equal(nx.all(nx.zeros([0])).item(), true);
    close(values(nx.log1p(nx.tensor([0, 1], { dtype: "f64" }))), [0, Math.log(2)], 1e-15, "log1p");
    close(values(nx.rsqrt(nx.tensor([4, 16]))), [0.5, 0.25], 1e-7, "rsqrt");
  });

  it("argmax and argmin: first index on ties, flattened without axis, i64", () => {
    const t = nx.tensor([
      [1, 5, 5],
      [7, 7, 2],
    ]);
    assert.deepEqual(nx.argmax(t, { axis: 1 }).toArraySync(), [1, 0]);
    assert.deepEqual(nx.argmin(t, { axis: 0 }).toArraySync(), [0, 0, 1]);
    assert.equal(nx.argmax(t).item(), 3);
    assert.equal(nx.argmax(t).dtype, "i64");
    assert.deepEqual(nx.argmax(t, { axis: 1, keepDims: true }).shape, [2, 1]);
    assert.deepEqual(nx.argmax(t, { keepDims: true }).shape, [1, 1]);
    for (const d of ALL) assert.equal(nx.argmax(nx.tensor([0, 1, 1], { dtype: d })).item(), 1, d);
    assert.throws(() => nx.argmax(nx.zeros([0])), /argmax: cannot take argmax of an empty axis/);
  });

  it("logSumExp, softmax and logSoftmax match the definitions and stay finite for large inputs", () => {
    const r = rng(9);
    const A = randRef([3, 4], r, -5, 5);
    for (const d of ["f32", "f64"] as nx.DType[]) {
      const t = T(A, d);
      const tol = d === "f32" ? 1e-5 : 1e-12;
      const lse = reduceRef(
        { ...A, data: A.data.map(Math.exp) },
        [1],
        false,
        0,
        (a, v) => a + v,
      ).data.map(Math.log);
      close(values(nx.logSumExp(t, { axis: 1 })), lse, tol, "lse");
      close(values(nx.logSumExp(t, { axis: 1, keepDims: true })), lse, tol, "lse keep");
      const sm = A.data.map((v, i) => Math.exp(v - lse[Math.floor(i / 4)]!));
      close(values(nx.softmax(t)), sm, tol, "softmax");
      close(values(nx.logSoftmax(t)), sm.map(Math.log), tol, "logSoftmax");
      const colLse = reduceRef(
        { ...A, data: A.data.map(Math.exp) },
        [0],
        false,
        0,
        (a, v) => a + v,
      ).data.map(Math.log);
      close(
        values(nx.softmax(t, { axis: 0 })),
        A.data.map((v, i) => Math.exp(v - colLse[i % 4]!)),
        tol,
        "softmax axis 0",
      );
    }
    close(values(nx.softmax(nx.tensor([1000, 1000]))), [0.5, 0.5], 0, "softmax large");
    close(values(nx.logSumExp(nx.tensor([1000, 1000]))), [1000 + Math.log(2)], 1e-6, "lse large");
    assert.equal(nx.logSumExp(nx.tensor([-Infinity, -Infinity])).item(), -Infinity);
  });
});

describe("shape ops", () => {
  const t = nx.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  it("reshape, transpose, squeeze, expandDims, broadcastTo", () => {
    assert.deepEqual(t.reshape([3, 2]).toArraySync(), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.deepEqual(t.reshape([-1]).shape, [6]);
    assert.deepEqual(t.transpose().toArraySync(), [
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const r3 = nx.arange(24).reshape([2, 3, 4]);
    const p = r3.transpose([2, 0, 1]);
    assert.deepEqual(p.shape, [4, 2, 3]);
    assert.equal((p.toArraySync() as number[][][])[3]![1]![2], 1 * 12 + 2 * 4 + 3);
    assert.deepEqual(nx.zeros([1, 3, 1]).squeeze().shape, [3]);
    assert.deepEqual(nx.zeros([1, 3, 1]).squeeze(-1).shape, [1, 3]);
    assert.deepEqual(t.expandDims(1).shape, [2, 1, 3]);
    assert.deepEqual(t.expandDims(-1).shape, [2, 3, 1]);
    assert.deepEqual(nx.tensor([1, 2]).broadcastTo([2, 2]).toArraySync(), [
      [1, 2],
      [1, 2],
    ]);
    assert.throws(() => t.reshape([4, 2]), {
      message: "reshape: cannot reshape f32[2,3] (6 elements) into [4,2]",
    });
    assert.throws(() => t.squeeze(0), /squeeze: axis 0 of f32\[2,3\] has size 2, not 1/);
    assert.throws(() => t.transpose([0, 0]), /transpose: \[0,0\] is not a permutation/);
    assert.throws(
      () => t.broadcastTo([3, 3]),
      /broadcastTo: cannot broadcast f32\[2,3\] to \[3,3\]/,
    );
  });

  it("concatenate and stack", () => {
    assert.deepEqual(nx.concatenate([t, t], { axis: 1 }).toArraySync(), [
      [1, 2, 3, 1, 2, 3],
      [4, 5, 6, 4, 5, 6],
    ]);
    assert.deepEqual(nx.concatenate([t, nx.zeros([0, 3], { dtype: "i32" }), t]).shape, [4, 3]);
    assert.equal(nx.concatenate([nx.tensor([1]), nx.tensor([0.5])]).dtype, "f32");
    assert.deepEqual(nx.stack([nx.tensor([1, 2]), nx.tensor([3, 4])], { axis: 1 }).toArraySync(), [
      [1, 3],
      [2, 4],
    ]);
    assert.deepEqual(nx.stack([nx.tensor(1), nx.tensor(2)]).toArraySync(), [1, 2]);
    assert.throws(
      () => nx.concatenate([t, nx.zeros([2, 2])], { axis: 0 }),
      /concatenate: shapes \[2,3\], \[2,2\] differ outside axis 0/,
    );
    assert.throws(() => nx.stack([]), /stack: needs at least one tensor/);
  });

  it("slice with negative begins, sizes to the end and strides", () => {
    const a = nx.arange(20).reshape([4, 5]);
    assert.deepEqual(a.slice([1, 2], [2, 2]).toArraySync(), [
      [7, 8],
      [12, 13],
    ]);
    assert.deepEqual(a.slice([-1]).toArraySync(), [[15, 16, 17, 18, 19]]);
    assert.deepEqual(a.slice([0, 0], [-1, -1], [2, 3]).toArraySync(), [
      [0, 3],
      [10, 13],
    ]);
    assert.deepEqual(a.slice([0, 1], [4, 0]).shape, [4, 0]);
    assert.throws(
      () => a.slice([3], [2]),
      /slice: begin \[3\] size \[2\] is out of bounds for i32\[4,5\] at axis 0/,
    );
  });

  it("take/gather along axes, with negative indices and index tensors of any rank", () => {
    const a = nx.arange(12).reshape([3, 4]);
    assert.deepEqual(nx.take(a, [2, 0]).toArraySync(), [
      [8, 9, 10, 11],
      [0, 1, 2, 3],
    ]);
    assert.deepEqual(nx.take(a, [[-1, 0]], { axis: 1 }).toArraySync(), [
      [[3, 0]],
      [[7, 4]],
      [[11, 8]],
    ]);
    assert.deepEqual(nx.gather(a, nx.tensor(1, { dtype: "i64" })).toArraySync(), [4, 5, 6, 7]);
    assert.deepEqual(nx.take(a, nx.tensor([], { dtype: "i32" })).shape, [0, 4]);
    assert.throws(() => nx.take(a, [3]), /take: index 3 is out of bounds for axis 0 with size 3/);
    assert.throws(
      () => nx.take(a, nx.tensor([0.5])),
      /take: indices must be integers, got f32\[1\]/,
    );
    assert.throws(() => nx.take(a, [0.5]), /take: indices must be whole numbers, got 0.5/);
    assert.throws(
      () => nx.take(a, nx.tensor([0, 1])),
      /take: indices must be integers, got f32\[2\] \(cast them/,
    );
  });

  it("takeAlongAxis, topK, argsort, sort", () => {
    const x = nx.tensor([
      [3, 1, 2, 1],
      [0, 5, 5, -1],
    ]);
    assert.deepEqual(
      nx
        .takeAlongAxis(
          x,
          i32([
            [0, 3],
            [2, 2],
          ]),
          1,
        )
        .toArraySync(),
      [
        [3, 1],
        [5, 5],
      ],
    );
    assert.deepEqual(nx.takeAlongAxis(x, i32([[1, 0, 1, 0]]), 0).toArraySync(), [[0, 1, 5, 1]]);
    const top = nx.topK(x, 2);
    assert.deepEqual(top.values.toArraySync(), [
      [3, 2],
      [5, 5],
    ]);
    assert.deepEqual(top.indices.toArraySync(), [
      [0, 2],
      [1, 2],
    ]);
    assert.equal(top.indices.dtype, "i64");
    assert.deepEqual(nx.topK(x, 1, { largest: false }).indices.toArraySync(), [[1], [3]]);
    assert.deepEqual(
      nx.argsort(x).toArraySync(),
      [
        [1, 3, 2, 0],
        [3, 0, 1, 2],
      ],
      "stable: ties keep their order",
    );
    assert.deepEqual(nx.sort(x, { descending: true }).toArraySync(), [
      [3, 2, 1, 1],
      [5, 5, 0, -1],
    ]);
    assert.deepEqual(nx.sort(x, { axis: 0 }).toArraySync(), [
      [0, 1, 2, -1],
      [3, 5, 5, 1],
    ]);
    for (const d of ["f32", "f64", "i64", "u8"] as nx.DType[])
      assert.deepEqual(nx.sort(nx.tensor([3, 1, 2], { dtype: d })).toArraySync(), [1, 2, 3], d);
    assert.deepEqual(nx.sort(nx.tensor([true, false])).toArraySync(), [false, true]);
    assert.throws(() => nx.topK(x, 5), /topK: k = 5 must be an integer in \[0, 4\]/);
    assert.throws(
      () => nx.takeAlongAxis(x, [0, 1], 1),
      /takeAlongAxis: indices i32\[2\] must have the rank of f32\[2,4\]/,
    );
  });

  it("sort and argsort put NaN last like NumPy (descending: first), eager and in jit", () => {
    const rows = nx.tensor([
      [3, NaN, 1, NaN, -Infinity, Infinity],
      [NaN, 2, 2, 0, -1, NaN],
    ]);
    const ref = numpy([
      { expr: "np.sort(x, axis=-1)", args: { x: rows } },
      { expr: "np.argsort(x, axis=-1, kind='stable')", args: { x: rows } },
      { expr: "np.sort(x, axis=0)", args: { x: rows } },
      { expr: "np.argsort(x, axis=0, kind='stable')", args: { x: rows } },
      { expr: "np.sort(np.array([3, np.nan, 1]))" },
      { expr: "np.flip(np.sort(x, axis=-1), -1)", args: { x: rows } },
    ]);
    assertLikeNumpy(nx.sort(rows), ref[0]!, 0, "sort");
    assertLikeNumpy(nx.argsort(rows), ref[1]!, 0, "argsort");
    assertLikeNumpy(nx.sort(rows, { axis: 0 }), ref[2]!, 0, "sort axis 0");
    assertLikeNumpy(nx.argsort(rows, { axis: 0 }), ref[3]!, 0, "argsort axis 0");
    assertLikeNumpy(nx.sort(nx.tensor([3, NaN, 1])), ref[4]!, 0, "the issue's example");
    assertLikeNumpy(nx.sort(rows, { descending: true }), ref[5]!, 0, "descending");
    assertLikeNumpy(
      nx.jit((x: nx.Tensor) => nx.sort(x))(rows) as nx.Tensor,
      ref[0]!,
      0,
      "jit sort",
    );
    assertLikeNumpy(
      nx.jit((x: nx.Tensor) => nx.argsort(x))(rows) as nx.Tensor,
      ref[1]!,
      0,
      "jit argsort",
    );
    // topK: NaN counts as the largest value (as torch.topk), so the k smallest never include it
    assert.deepEqual(
      nx.topK(nx.tensor([NaN, 1, 0]), 2, { largest: false }).values.toArraySync(),
      [0, 1],
    );
    assert.deepEqual(nx.topK(nx.tensor([1, NaN, 0]), 1).indices.toArraySync(), [1]);
    // gradients still flow to the sorted positions
    const g = nx.grad((x: nx.Tensor) =>
      nx.sum(nx.multiply(nx.sort(x), nx.tensor([1, 2, 3], { dtype: "f64" }))),
    )(nx.tensor([0.5, -1, 2], { dtype: "f64" })) as nx.Tensor;
    assert.deepEqual(g.toArraySync(), [2, 1, 3]);
  });

  it("cumsum and reverse", () => {
    const x = nx.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(nx.cumsum(x, 1).toArraySync(), [
      [1, 3, 6],
      [4, 9, 15],
    ]);
    assert.deepEqual(nx.cumsum(x).toArraySync(), [
      [1, 2, 3],
      [5, 7, 9],
    ]);
    assert.deepEqual(nx.cumsum(x, { axis: 1, reverse: true }).toArraySync(), [
      [6, 5, 3],
      [15, 11, 6],
    ]);
    assert.deepEqual(nx.cumsum(x, { axis: 1, exclusive: true }).toArraySync(), [
      [0, 1, 3],
      [0, 4, 9],
    ]);
    assert.deepEqual(nx.cumsum(nx.tensor([true, true, false])).toArraySync(), [1, 2, 2]);
    assert.equal(nx.cumsum(nx.tensor([1, 2], { dtype: "u8" })).dtype, "i32");
    assert.deepEqual(nx.reverse(x).toArraySync(), [
      [6, 5, 4],
      [3, 2, 1],
    ]);
    assert.deepEqual(nx.reverse(x, 1).toArraySync(), [
      [3, 2, 1],
      [6, 5, 4],
    ]);
    // the same through method chaining
    assert.deepEqual(x.cumsum(1).reverse(1).sort({ descending: true }).toArraySync(), [
      [6, 3, 1],
      [15, 9, 4],
    ]);
    assert.deepEqual(x.greater(2).where(x, 0).argsort().toArraySync(), [
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  it("pad and oneHot", () => {
    assert.deepEqual(
      nx
        .pad(
          nx.tensor([[1, 2]]),
          [
            [1, 0],
            [0, 1],
          ],
          9,
        )
        .toArraySync(),
      [
        [9, 9, 9],
        [1, 2, 9],
      ],
    );
    assert.deepEqual(nx.pad(nx.tensor([true]), [[1, 1]]).toArraySync(), [false, true, false]);
    assert.throws(() => nx.pad(t, [[1, 1]]), /pad: 1 pad widths for f32\[2,3\]/);
    assert.deepEqual(
      nx
        .pad(nx.tensor([[1, 2, 3]]), [
          [0, 1],
          [-1, 1],
        ])
        .toArraySync(),
      [
        [2, 3, 0],
        [0, 0, 0],
      ],
    );
    assert.throws(
      () => nx.pad(nx.tensor([1]), [[-1, -1]]),
      /pad: widths \[\[-1,-1\]\] crop more than f32\[1\] has/,
    );
    const oh = nx.oneHot([0, 2, -1, 3], 3);
    assert.equal(oh.dtype, "f32");
    assert.deepEqual(oh.toArraySync(), [
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    assert.deepEqual(nx.oneHot([[1]], 2, { dtype: "i32" }).toArraySync(), [[[0, 1]]]);
  });
});

describe("shape ops on every dtype", () => {
  it("transpose, concatenate, stack, slice, take, pad, broadcastTo, where, reshape keep values and dtype", () => {
    const base = [
      [0, 1, 2],
      [3, 0, 5],
    ];
    for (const d of ALL) {
      const t = nx.tensor(base, { dtype: d });
      const conv = (x: number) => (d === "bool" ? x !== 0 : x);
      const same = (got: nx.Tensor, expected: unknown, what: string) => {
        assert.equal(got.dtype, d, `${what} ${d}`);
        assert.deepEqual(
          got.toArraySync(),
          JSON.parse(JSON.stringify(expected), (_k, v) => (typeof v === "number" ? conv(v) : v)),
          `${what} ${d}`,
        );
      };
      same(
        t.transpose(),
        [
          [0, 3],
          [1, 0],
          [2, 5],
        ],
        "transpose",
      );
      same(nx.concatenate([t, t], 0), [...base, ...base], "concatenate");
      same(
        nx.stack([t, t], 2).reshape([2, 6]),
        [
          [0, 0, 1, 1, 2, 2],
          [3, 3, 0, 0, 5, 5],
        ],
        "stack",
      );
      same(
        t.slice([0, 1], [2, 2]),
        [
          [1, 2],
          [0, 5],
        ],
        "slice",
      );
      same(
        t.slice([0, 0], [-1, -1], [1, 2]),
        [
          [0, 2],
          [3, 5],
        ],
        "strided slice",
      );
      same(
        nx.take(t, [1, 1, 0], 1),
        [
          [1, 1, 0],
          [0, 0, 3],
        ],
        "take",
      );
      same(
        nx.pad(t, [
          [0, 1],
          [1, 0],
        ]),
        [
          [0, 0, 1, 2],
          [0, 3, 0, 5],
          [0, 0, 0, 0],
        ],
        "pad",
      );
      same(nx.broadcastTo(nx.slice(t, [0], [1]), [2, 3]), [base[0], base[0]], "broadcastTo");
      same(
        nx.where(nx.tensor([true, false, true]), t, nx.zerosLike(t)),
        [
          [0, 0, 2],
          [3, 0, 5],
        ],
        "where",
      );
      same(
        t.reshape([3, 2]).expandDims(0).squeeze(),
        [
          [0, 1],
          [2, 3],
          [0, 5],
        ],
        "reshape",
      );
      assert.deepEqual(nx.equal(t, t).toArraySync(), [
        [true, true, true],
        [true, true, true],
      ]);
    }
  });
});

describe("matmul and dot", () => {
  function refMatmul(A: Ref, B: Ref): number[] {
    const [m, k] = A.shape as [number, number];
    const n = B.shape[1]!;
    const out: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A.data[i * k + p]! * B.data[p * n + j]!;
        out.push(s);
      }
    return out;
  }
  it("2-D products for each numeric dtype", () => {
    const r = rng(11);
    for (const d of NUMERIC) {
      const A = dataFor([3, 4], d, r);
      const B = dataFor([4, 2], d, r);
      const out = nx.matmul(T(A, d), T(B, d));
      assert.equal(out.dtype, d);
      close(
        values(out),
        refMatmul(A, B).map((v) => store(d, v)),
        1e-5,
        `matmul ${d}`,
      );
    }
  });
  it("batched with broadcasting, 1-D operands, dot", () => {
    const a = nx
      .arange(2 * 3 * 4)
      .reshape([2, 3, 4])
      .astype("f64");
    const b = nx
      .arange(4 * 5)
      .reshape([4, 5])
      .astype("f64");
    const out = nx.matmul(a, b);
    assert.deepEqual(out.shape, [2, 3, 5]);
    const second = nx.slice(a, [1], [1]).reshape([3, 4]);
    assert.deepEqual((out.toArraySync() as number[][][])[1], nx.matmul(second, b).toArraySync());
    assert.deepEqual(nx.matmul(nx.ones([2, 1, 3, 4]), nx.ones([5, 4, 2])).shape, [2, 5, 3, 2]);
    assert.deepEqual(
      nx
        .matmul(
          nx.tensor([1, 2]),
          nx.tensor([
            [1, 2],
            [3, 4],
          ]),
        )
        .toArraySync(),
      [7, 10],
    );
    assert.deepEqual(
      nx
        .matmul(
          nx.tensor([
            [1, 2],
            [3, 4],
          ]),
          nx.tensor([1, 2]),
        )
        .toArraySync(),
      [5, 11],
    );
    assert.equal(nx.dot(nx.tensor([1, 2, 3]), nx.tensor([4, 5, 6])).item(), 32);
    assert.deepEqual(nx.dot(nx.tensor(2), nx.tensor([1, 2])).toArraySync(), [2, 4]);
    assert.deepEqual(nx.matmul(nx.zeros([0, 3]), nx.zeros([3, 2])).shape, [0, 2]);
    close(values(nx.matmul(nx.zeros([2, 0]), nx.zeros([0, 2]))), [0, 0, 0, 0], 0, "k = 0");
  });
  it("errors name the shapes and dtypes", () => {
    assert.throws(() => nx.matmul(nx.zeros([2, 3]), nx.zeros([4, 5])), {
      name: "TensorError",
      message: "matmul: shapes [2,3] and [4,5] do not align (3 ≠ 4; f32, f32)",
    });
    assert.throws(
      () => nx.matmul(nx.zeros([2, 2, 3]), nx.zeros([3, 3, 1])),
      /matmul: batch dimensions of \[2,2,3\] and \[3,3,1\] cannot be broadcast together/,
    );
    assert.throws(
      () => nx.matmul(nx.tensor(1), nx.zeros([2])),
      /matmul: scalar operands are not allowed/,
    );
  });
});

describe("display", () => {
  it("shows dtype, shape and values like Nx, eliding large tensors", () => {
    const t = nx.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "f32" },
    );
    const shown = (
      t as unknown as Record<
        symbol,
        () => { type: string; dtype: string; shape: number[]; text: string }
      >
    )[Symbol.for("tsnb.display")]!();
    assert.deepEqual(shown, {
      type: "tensor",
      dtype: "f32",
      shape: [2, 2],
      text: "[\n  [1.0, 2.0],\n  [3.0, 4.0]\n]",
    });
    assert.equal(
      String(nx.tensor([0.1, NaN, Infinity, -Infinity])),
      "Tensor<\n  f32[4]\n  [0.1, NaN, Inf, -Inf]\n>",
    );
    assert.equal(String(nx.tensor(3)), "Tensor<\n  f32\n  3.0\n>");
    assert.equal(String(nx.tensor(3, { dtype: "i32" })), "Tensor<\n  i32\n  3\n>");
    assert.equal(String(nx.tensor([true, false])), "Tensor<\n  bool[2]\n  [true, false]\n>");
    const big = String(nx.arange(5000).reshape([50, 100]));
    assert.ok(big.includes("[0, 1, 2, ..., 97, 98, 99]"), big.slice(0, 200));
    assert.ok(big.split("\n").length < 15);
    assert.equal(String(nx.zeros([0, 2])), "Tensor<\n  f32[0][2]\n  []\n>");
    assert.equal(
      JSON.stringify(nx.tensor([[1, 2]], { dtype: "i64" })),
      '{"dtype":"i64","shape":[1,2],"values":[[1,2]]}',
    );
  });
});
