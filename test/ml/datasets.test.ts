import { test } from "node:test";
import assert from "node:assert/strict";
import * as ds from "../../ml/datasets.ts";

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

test("digits: 1797 images of 64 pixels, labels 0-9", async () => {
  const d = await ds.digits();
  assert.deepEqual(d.images.shape, [1797, 64]);
  assert.equal(d.labels.length, 1797);
  assert.equal(Math.max(...d.images.data), 16);
  assert.deepEqual(
    [...new Set(d.labels)].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(ds.digitsToRecords(d)[0]!.label, d.labels[0]);
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
  assert.equal([...strat.test].filter((i) => i < 50).length, 10);
  assert.throws(() => ds.splitIndices(10, { testSize: 0 }), /testSize/);
});

test("standardize, oneHot, labelEncode, recordsToMatrix, batch", () => {
  const m = { data: Float32Array.from([1, 10, 3, 10, 5, 10]), shape: [3, 2] as [number, number] };
  const s = ds.fitStandardizer(m);
  const z = s.transform(m);
  assert.ok(Math.abs(z.data[0]! + 1.2247) < 1e-3, "Math.abs(z.data[0]! + 1.2247) < 1e-3");
  assert.equal(z.data[1], 0); // constant column: std 1, centred
  assert.throws(() => s.transform({ data: new Float32Array(3), shape: [1, 3] }), /columns/);
  const enc = ds.labelEncode(["b", "a", "b"]);
  assert.deepEqual(enc.classes, ["a", "b"]);
  assert.deepEqual([...enc.indices], [1, 0, 1]);
  assert.throws(() => ds.labelEncode(["c"], ["a", "b"]), /not one of/);
  assert.deepEqual([...ds.oneHot([2, 0], 3).data], [0, 0, 1, 1, 0, 0]);
  assert.throws(() => ds.oneHot([3], 3), /outside/);
  const mat = ds.recordsToMatrix(
    [
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ],
    ["y", "x"],
  );
  assert.deepEqual([...mat.data], [2, 1, 4, 3]);
  assert.throws(() => ds.recordsToMatrix([{ x: null }], ["x"]), /row 0, column 'x' is missing/);
  assert.deepEqual(ds.batch([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(ds.batch([1, 2, 3, 4, 5], 2, true), [
    [1, 2],
    [3, 4],
  ]);
  assert.equal(ds.dropMissing([{ a: 1 }, { a: null }]).length, 1);
});

test("records and matrices become nx tensors", async () => {
  const t = ds.recordsToTensor(
    [
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ],
    ["x", "y"],
  );
  assert.equal(t.dtype, "f32");
  assert.deepEqual(t.shape, [2, 2]);
  assert.deepEqual(t.toArraySync(), [
    [1, 2],
    [3, 4],
  ]);
  const labels = ds.toTensor({ data: Int32Array.from([1, 2]), shape: [2] });
  assert.equal(labels.dtype, "i32");
});
