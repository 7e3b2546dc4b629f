// The training chart's spec (ml/training-chart.ts) as a real fit emits it through the kernel
// bridge, with the rows it pushed stored by the session's reducer (what a saved notebook and
// the HTML export keep), compiled by Vega-Lite without a warning and drawn headless by Vega (the
// Markdown export's path): a loss panel and an accuracy panel, each titled, the x axis "step",
// a train/validation legend; a History's display has the same panels over "epoch".
import { test } from "node:test";
import assert from "node:assert/strict";
import * as vl from "vega-lite";
import { applyOutputUpdate } from "../../core/session/output-updates.ts";
import type { Output, OutputUpdate } from "../../core/outputs.ts";
import { vegaLiteToSvg } from "../../cli/export-md.ts";
import { DISPLAY } from "../../ml/host.ts";
import { chartKinds } from "../../ml/training-chart.ts";
import { fit } from "../../ml/train.ts";
import * as nn from "../../ml/nn.ts";

/** Vega-Lite's warnings while compiling `spec`. */
function compileWarnings(spec: unknown): string[] {
  const warnings: string[] = [];
  const logger = {
    level: () => logger,
    warn: (...a: unknown[]) => (warnings.push(a.map(String).join(" ")), logger),
    info: () => logger,
    debug: () => logger,
    error: (...a: unknown[]) => (warnings.push(a.map(String).join(" ")), logger),
  };
  vl.compile(spec as never, { logger: logger as never });
  return warnings;
}

/** The texts of an SVG's <text> elements. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

async function trainWithBridge(validation: boolean) {
  const emitted: Output[] = [];
  const updates: OutputUpdate[] = [];
  const key = Symbol.for("tsnb.kernel");
  const g = globalThis as Record<symbol, unknown>;
  g[key] = {
    emit: (o: Output) => emitted.push(o),
    update: (u: OutputUpdate) => updates.push(u),
    newId: (p: string) => `${p}-1`,
    toOutput: async () => ({}),
  };
  const x = Array.from({ length: 120 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.7)]);
  const y = Int32Array.from(x, ([a, b]) => (a! + b! > 0 ? 1 : 0));
  try {
    const model = nn.sequential([nn.dense(4, { activation: "relu" }), nn.dense(2)], { seed: 1 });
    const history = await fit(model, x, y, {
      loss: "categoricalCrossEntropy",
      metrics: ["accuracy"],
      epochs: 3,
      batchSize: 16,
      seed: 1,
      ...(validation ? { validationSplit: 0.25 } : {}),
      progressStream: { write: () => true },
    });
    // The session stores pushed rows in the output's spec, as the page and a saved file see it.
    let outputs: Output[] = emitted.filter((o) => o.type === "vega-lite");
    for (const u of updates) outputs = applyOutputUpdate(outputs, u).outputs;
    assert.equal(outputs.length, 1);
    return { live: outputs[0] as Output & { type: "vega-lite" }, history };
  } finally {
    delete g[key];
  }
}

test("the live chart of a fit with validation: loss and accuracy panels, train and validation in each, titled axes, a whole legend", async () => {
  const { live, history } = await trainWithBridge(true);
  const spec = live.spec as {
    hconcat: unknown[];
    usermeta: unknown;
    datasets: { history: Array<{ metric: string }> };
  };
  assert.equal(live.dataset, "history");
  assert.equal(spec.hconcat.length, 2, "a panel for the loss, one for the accuracy");
  assert.deepEqual(spec.usermeta, { tsnb: { width: "container" } });
  assert.deepEqual([...new Set(spec.datasets.history.map((r) => r.metric))].sort(), [
    "accuracy",
    "loss",
    "val_accuracy",
    "val_loss",
  ]);
  assert.deepEqual(compileWarnings(spec), []);
  const texts = svgTexts(await vegaLiteToSvg(spec));
  for (const t of ["loss", "accuracy", "step", "train", "validation"])
    assert.ok(texts.includes(t), `"${t}" drawn: ${JSON.stringify(texts)}`);
  assert.equal(texts.filter((t) => t === "step").length, 2, "each panel's x axis is titled");
  assert.ok(!texts.some((t) => t.includes("…")), `no label cut short: ${JSON.stringify(texts)}`);
  // The History's own display: the same panels, per epoch.
  const shown = history[DISPLAY]() as Output & { type: "vega-lite" };
  assert.deepEqual(compileWarnings(shown.spec), []);
  const epochTexts = svgTexts(await vegaLiteToSvg(shown.spec));
  for (const t of ["loss", "accuracy", "epoch", "train", "validation"])
    assert.ok(epochTexts.includes(t), `"${t}" drawn: ${JSON.stringify(epochTexts)}`);
});

test("without validation data the legend says train only", async () => {
  const { live } = await trainWithBridge(false);
  const texts = svgTexts(await vegaLiteToSvg(live.spec));
  assert.ok(texts.includes("train") && !texts.includes("validation"), JSON.stringify(texts));
  assert.ok(texts.includes("accuracy") && texts.includes("loss"));
});

test("chartKinds: the loss first, then each metric once, val_ names folded into their metric", () => {
  assert.deepEqual(
    chartKinds(["epoch", "loss", "accuracy", "mae", "val_loss", "val_accuracy", "seconds"]),
    ["loss", "accuracy", "mae"],
  );
  assert.deepEqual(chartKinds([]), ["loss"]);
});
