import { test } from "node:test";
import assert from "node:assert/strict";
import * as ds from "../../ml/datasets.ts";
import * as nx from "../../tensor/index.ts";

test("penguins: 344 typed records, NA values are null", async () => {
  const p = await ds.penguins();
  assert.equal(p.length, 344);
  const first = p[0]!;
  assert.equal(first.species, "Adelie");
  assert.equal(typeof first.beak_length_mm, "number");
  assert.equal(typeof first.body_mass_g, "number");
  assert.ok(
    p.some((r) => r.beak_length_mm === null),
    "rows with missing measurements have null",
  );
  assert.ok(
    p.every((r) => r.beak_length_mm === null || Number.isFinite(r.beak_length_mm)),
    "p.every((r) => r.beak_length_mm === null || Number.isFinite(r.beak_length_mm))",
  );
  assert.deepEqual([...new Set(p.map((r) => r.species))].sort(), ["Adelie", "Chinstrap", "Gentoo"]);
});

test("cars and seattle weather parse to numbers, strings and nulls", async () => {
  const c = await ds.cars();
  assert.equal(c.length, 406);
  assert.equal(typeof c[0]!.Miles_per_Gallon, "number");
  assert.ok(
    c.some((r) => r.Miles_per_Gallon === null),
    "c.some((r) => r.Miles_per_Gallon === null)",
  );
  const w = await ds.seattleWeather();
  assert.equal(w.length, 1461);
  assert.equal(w[0]!.date, "2012-01-01");
  assert.equal(w[0]!.precipitation, 0);
  assert.equal(w[1]!.precipitation, 10.9);
  assert.equal(typeof w[0]!.weather, "string");
});

test("digits: an f32 [1797, 64] tensor of pixels and an i32 tensor of labels 0-9", async () => {
  const d = await ds.digits();
  assert.ok(d.images instanceof nx.Tensor && d.labels instanceof nx.Tensor);
  assert.deepEqual(d.images.shape, [1797, 64]);
  assert.equal(d.images.dtype, "f32");
  assert.deepEqual(d.labels.shape, [1797]);
  assert.equal(d.labels.dtype, "i32");
  assert.equal(nx.max(d.images).item(), 16);
  assert.deepEqual(
    [...new Set(Array.from(d.labels.dataSync(), Number))].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(ds.digitsToRecords(d)[0]!.label, d.labels.dataSync()[0]);
});

test("parseCsv handles quotes, empty fields and NA", () => {
  const r = ds.parseCsv('a,b,c\n1,"x, ""y""",NA\n-2.5e1,,z\r\n');
  assert.deepEqual(r, [
    { a: 1, b: 'x, "y"', c: null },
    { a: -25, b: null, c: "z" },
  ]);
});

test("shuffle and split are reproducible for a seed and disjoint", () => {
  const rows = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(ds.shuffle(rows, 7), ds.shuffle(rows, 7));
  assert.notDeepEqual(ds.shuffle(rows, 7), ds.shuffle(rows, 8));
  assert.deepEqual(
    [...ds.shuffle(rows, 7)].sort((a, b) => a - b),
    rows,
  );
  const s = ds.trainTestSplit(rows, { testSize: 0.25, seed: 3 });
  assert.equal(s.test.length, 25);
  assert.equal(s.train.length, 75);
  assert.deepEqual(
    [...s.train, ...s.test].sort((a, b) => a - b),
    rows,
  );
  const strat = ds.splitIndices(100, { testSize: 0.2, stratify: (i) => (i < 50 ? "a" : "b") });
  assert.equal(strat.test.dtype, "i32");
  assert.equal([...strat.test.dataSync()].filter((i) => Number(i) < 50).length, 10);
  // tensors split along their rows; [x, y] with the same rows
  const x = nx.reshape(nx.arange(20, undefined, 1, { dtype: "f32" }), [10, 2]);
  const y = nx.arange(10);
  const t = ds.trainTestSplit(x, { testSize: 3, seed: 1 });
  assert.deepEqual(t.test.shape, [3, 2]);
  assert.deepEqual(t.train.shape, [7, 2]);
  const both = ds.trainTestSplit([x, y], { testSize: 3, seed: 1 });
  assert.deepEqual(both.test[0]!.toArraySync(), t.test.toArraySync());
  assert.deepEqual(
    nx.multiply(both.test[1]!, 2).toArraySync(),
    nx.take(both.test[0]!, [0], { axis: 1 }).reshape([3]).toArraySync(),
    "x and y rows stay paired",
  );
  assert.deepEqual(
    ds.takeRows(x, ds.splitIndices(10, { testSize: 3, seed: 1 }).test).toArraySync(),
    t.test.toArraySync(),
  );
  assert.throws(
    () => ds.trainTestSplit([x, nx.arange(9)]),
    /tensor 1 has shape \[9\], expected 10 rows/,
  );
  assert.throws(() => ds.splitIndices(10, { testSize: 0 }), /testSize/);
});

test("standardize, oneHot, labelEncode, recordsToTensor, batch work on nx tensors", () => {
  const m = nx.tensor([
    [1, 10],
    [3, 10],
    [5, 10],
  ]);
  const s = ds.fitStandardizer(m);
  assert.ok(s.mean instanceof nx.Tensor && s.std instanceof nx.Tensor);
  assert.deepEqual(s.mean.toArraySync(), [3, 10]);
  const z = s.transform(m);
  assert.equal(z.dtype, "f32");
  const zd = z.dataSync() as Float32Array;
  // NumPy: (x - x.mean(0)) / x.std(0) for the first column
  assert.ok(Math.abs(zd[0]! + Math.sqrt(1.5)) < 1e-6, String(zd[0]));
  assert.equal(zd[1], 0); // constant column: std 1, centred
  assert.deepEqual(ds.standardize(m).toArraySync(), z.toArraySync());
  assert.throws(() => s.transform(nx.zeros([1, 3])), /fitted on 2 columns/);
  const enc = ds.labelEncode(["b", "a", "b"]);
  assert.deepEqual(enc.classes, ["a", "b"]);
  assert.equal(enc.indices.dtype, "i32");
  assert.deepEqual(enc.indices.toArraySync(), [1, 0, 1]);
  assert.throws(() => ds.labelEncode(["c"], ["a", "b"]), /not one of/);
  assert.deepEqual(ds.oneHot(enc.indices, 2).toArraySync(), [
    [0, 1],
    [1, 0],
    [0, 1],
  ]);
  assert.deepEqual(ds.oneHot([2, 0], 3).toArraySync(), [
    [0, 0, 1],
    [1, 0, 0],
  ]);
  assert.throws(() => ds.oneHot([3], 3), /outside/);
  assert.throws(() => ds.recordsToTensor([{ x: null }], ["x"]), /row 0, column 'x' is missing/);
  assert.deepEqual(ds.batch([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(ds.batch([1, 2, 3, 4, 5], 2, true), [
    [1, 2],
    [3, 4],
  ]);
  assert.equal(ds.dropMissing([{ a: 1 }, { a: null }]).length, 1);
});

test("records become nx tensors", async () => {
  const t = ds.recordsToTensor(
    [
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ],
    ["y", "x"],
  );
  assert.equal(t.dtype, "f32");
  assert.deepEqual(t.shape, [2, 2]);
  assert.deepEqual(t.toArraySync(), [
    [2, 1],
    [4, 3],
  ]);
});
