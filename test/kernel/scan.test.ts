// The binding scan through a real kernel: after an evaluation, `evaluation-finished` describes
// the names the cell defined that forms can use (records, tensors, models, ONNX models), and
// never carries their values.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { newKernel, run } from "./helpers.ts";

const k = newKernel();
after(() => k.stop());

test("records: fields with inferred Vega-Lite types; other values are not described", async () => {
  const r = await run(
    k,
    [
      "const rows = [",
      '  { city: "Oslo", temp: 3.5, day: "2024-01-02", note: null },',
      '  { city: "Rome", temp: 12, day: "2024-01-03", note: "sunny" },',
      "];",
      "let n = 5;",
      'const secret = "do not send";',
      "function f() {}",
    ].join("\n"),
  );
  assert.equal(r.fin.status, "ok");
  assert.deepEqual(r.fin.bindings, [
    {
      name: "rows",
      kind: "records",
      rows: 2,
      fields: [
        { name: "city", type: "nominal" },
        { name: "temp", type: "quantitative" },
        { name: "day", type: "temporal" },
        { name: "note", type: "nominal" },
      ],
    },
  ]);
  assert.doesNotMatch(JSON.stringify(r.fin.bindings), /Oslo|do not send/, "no values");
});

test("tensors, models and ONNX models from the tsnb library", async () => {
  const r = await run(
    k,
    [
      'import * as nx from "tsnb/nx";',
      'import { nn, vad } from "tsnb";',
      "const x = nx.zeros([3, 4]);",
      "const model = nn.sequential([nn.dense(8), nn.relu(), nn.dense(2)], { inputShape: [4] });",
      "const silero = await vad.loadSilero();",
    ].join("\n"),
  );
  assert.equal(r.fin.status, "ok", JSON.stringify(r.fin.error));
  const byName = Object.fromEntries((r.fin.bindings ?? []).map((b) => [b.name, b]));
  assert.deepEqual(byName["x"], { name: "x", kind: "tensor", dtype: "f32", shape: [3, 4] });
  assert.equal(byName["model"]?.kind, "model");
  const m = byName["model"];
  if (m?.kind === "model") assert.equal(m.params, 4 * 8 + 8 + 8 * 2 + 2);
  const s = byName["silero"];
  assert.equal(s?.kind, "onnx-model");
  if (s?.kind === "onnx-model") {
    assert.ok(s.inputs.some((i) => i.name === "input" && i.dtype === "f32"));
    assert.ok(s.outputs.length > 0);
  }
});

test("a loaded model exported by tsnb carries its tsnb.* metadata (labels, features), for the ONNX cell's form", async () => {
  const r = await run(
    k,
    [
      'import { nn, onnx } from "tsnb";',
      "const clf = nn.sequential([nn.dense(2)], { inputShape: [3], seed: 0 });",
      'const bytes = onnx.export(clf, { labels: ["no", "yes"], features: ["a", "b", "c"] });',
      "const loadedClf = await onnx.load(bytes);",
    ].join("\n"),
  );
  assert.equal(r.fin.status, "ok", JSON.stringify(r.fin.error));
  const b = (r.fin.bindings ?? []).find((x) => x.name === "loadedClf");
  assert.equal(b?.kind, "onnx-model");
  if (b?.kind === "onnx-model")
    assert.deepEqual(b.metadata, {
      "tsnb.labels": '["no","yes"]',
      "tsnb.features": '["a","b","c"]',
    });
});

test("a failed cell reports no bindings", async () => {
  const r = await run(k, 'const bad = [{ a: 1 }];\nthrow new Error("x")');
  assert.equal(r.fin.status, "error");
  assert.equal(r.fin.bindings, undefined);
});
