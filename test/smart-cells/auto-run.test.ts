// "Reevaluate automatically" for smart cells when what they use is re-evaluated (Livebook's
// reevaluate_automatically): a chart over `rows` runs again when the cell defining `rows` runs
// again — by default, since the chart's default is on — unless the cell turned it off; a
// training cell (default off) only becomes stale. The reducer's defaults match the definitions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SMART_AUTO_RUN_KINDS, type Notebook } from "../../core/notebook.ts";
import { applyOperation, createSessionData, type SessionData } from "../../core/session/data.ts";
import type { Operation } from "../../core/session/operations.ts";
import { SMART_CELLS } from "../../smart-cells/index.ts";
import { prepareSmartCellOp } from "../../smart-cells/ops.ts";

function notebook(chartOptions?: { autoRun: boolean }): Notebook {
  return {
    title: "t",
    metadata: { version: 1 },
    sections: [
      {
        id: "s",
        title: "",
        cells: [
          { type: "code", id: "data", source: "const rows = [{ a: 1, b: 2 }];" },
          {
            type: "smart",
            id: "chart",
            kind: "chart",
            attrs: { data: "rows", x: "a", y: "b" },
            source: "display.vegaLite({ data: { values: rows } });",
            ...(chartOptions ? { options: chartOptions } : {}),
          },
          { type: "smart", id: "train", kind: "train", attrs: {}, source: "rows;" },
        ],
      },
    ],
  };
}

function apply(d: SessionData, o: Record<string, unknown>): SessionData {
  const r = applyOperation(d, { clientId: "u", at: 0, ...o } as Operation);
  if (!r.ok) throw new Error(r.error);
  return r.data;
}

function run(d: SessionData, cellId: string, defines: string[], uses: string[]): SessionData {
  if (d.running?.cellId !== cellId) d = apply(d, { type: "evaluate-cell", cellId });
  return apply(d, {
    type: "evaluation-finished",
    clientId: "kernel",
    cellId,
    evaluationId: d.running!.evaluationId,
    status: "ok",
    defines,
    uses,
    durationMs: 1,
  });
}

function afterDataRerun(nb: Notebook): SessionData {
  let d = createSessionData(nb);
  d = run(d, "data", ["rows"], []);
  d = run(d, "chart", [], ["rows", "display"]);
  d = run(d, "train", [], ["rows"]);
  return run(d, "data", ["rows"], []);
}

test("a chart smart cell runs again by default when the data it uses is re-evaluated", () => {
  const d = afterDataRerun(notebook());
  assert.equal(d.running?.cellId, "chart");
  assert.equal(d.cells["train"]?.validity, "stale");
  assert.ok(!d.queue.includes("train"), "the training cell (default off) is not queued");
});

test("turned off in the cell, the chart only becomes stale", () => {
  const d = afterDataRerun(notebook({ autoRun: false }));
  assert.equal(d.running, null);
  assert.equal(d.cells["chart"]?.validity, "stale");
});

test("the reducer's defaults are the definitions' autoRun", () => {
  assert.deepEqual(
    [...SMART_AUTO_RUN_KINDS].sort(),
    SMART_CELLS.filter((d) => d.autoRun)
      .map((d) => d.kind)
      .sort(),
  );
});

test("a new chart that never ran draws once its form changes while the kernel is up; not before, not when off", () => {
  const attrsChange = (d: SessionData) => {
    const cell = d.notebook.sections[0]!.cells[1]!;
    const attrs = { ...(cell.type === "smart" ? cell.attrs : {}), title: "Changed" };
    const r = prepareSmartCellOp(
      d,
      { type: "set-smart-cell-attrs", cellId: "chart", attrs, source: "", clientId: "u", at: 0 },
      () => "x",
    );
    assert.ok(r.ok);
    return r.ops.map((o) => o.type);
  };
  // Kernel not started: only the attrs change (running would start a kernel with no data).
  let d = createSessionData(notebook());
  assert.deepEqual(attrsChange(d), ["set-smart-cell-attrs"]);
  // The data cell ran (the kernel is idle): the chart runs, though it never has.
  d = run(d, "data", ["rows"], []);
  d = apply(d, { type: "kernel-status", clientId: "kernel", status: "idle" });
  assert.equal(d.cells["chart"]!.validity, "never-evaluated");
  assert.deepEqual(attrsChange(d), ["set-smart-cell-attrs", "evaluate-cell"]);
  // What it draws on is not defined by a cell that ran: not run (it would only fail).
  let other = createSessionData(notebook());
  other = run(other, "train", [], []);
  other = apply(other, { type: "kernel-status", clientId: "kernel", status: "idle" });
  assert.deepEqual(attrsChange(other), ["set-smart-cell-attrs"]);
  // Turned off in the cell: never.
  let off = createSessionData(notebook({ autoRun: false }));
  off = run(off, "data", ["rows"], []);
  off = apply(off, { type: "kernel-status", clientId: "kernel", status: "idle" });
  assert.deepEqual(attrsChange(off), ["set-smart-cell-attrs"]);
});
