import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Notebook } from "../../core/notebook.ts";
import {
  applyOperation,
  applyOperations,
  createSessionData,
  MAX_BIN_ENTRIES,
  MAX_OUTPUTS_PER_CELL,
  notebookForSave,
  type SessionData,
} from "../../core/session/data.ts";
import {
  validateClientOperation,
  type Action,
  type Operation,
} from "../../core/session/operations.ts";

// ---- helpers: build state by applying operations ----

type OpInput = Operation extends infer O
  ? O extends Operation
    ? Omit<O, "clientId" | "at"> & { clientId?: string; at?: number }
    : never
  : never;

let clock = 1000;
function op(o: OpInput): Operation {
  clock += 10;
  return { clientId: "c1", at: clock, ...o } as Operation;
}

function notebook(): Notebook {
  return {
    title: "T",
    metadata: { version: 1 },
    sections: [
      {
        id: "s1",
        title: "",
        cells: [
          { type: "markdown", id: "m1", source: "# hi" },
          { type: "code", id: "a", source: "const x = 1" },
          { type: "code", id: "b", source: "const y = x + 1" },
        ],
      },
      { id: "s2", title: "Two", cells: [{ type: "code", id: "c", source: "y * 2" }] },
    ],
  };
}

function build(
  ops: OpInput[],
  base: SessionData = createSessionData(notebook()),
): { data: SessionData; actions: Action[] } {
  const r = applyOperations(base, ops.map(op));
  if (!r.ok) throw new Error(r.error);
  return r;
}

function apply(data: SessionData, o: OpInput) {
  return applyOperation(data, op(o));
}

function mustApply(data: SessionData, o: OpInput) {
  const r = apply(data, o);
  if (!r.ok) throw new Error(r.error);
  return r;
}

function ids(data: SessionData): string[][] {
  return data.notebook.sections.map((s) => s.cells.map((c) => c.id));
}

/** Run a cell to completion as the kernel would report it. */
function evaluate(
  data: SessionData,
  cellId: string,
  defines: string[],
  uses: string[],
  status: "ok" | "error" = "ok",
): SessionData {
  let d = mustApply(data, { type: "evaluate-cell", cellId }).data;
  return finishRunning(d, defines, uses, status);
}

function finishRunning(
  d: SessionData,
  defines: string[],
  uses: string[],
  status: "ok" | "error" | "interrupted" = "ok",
): SessionData {
  const running = d.running;
  assert.ok(running, "a cell should be running");
  return mustApply(d, {
    type: "evaluation-finished",
    clientId: "kernel",
    cellId: running.cellId,
    evaluationId: running.evaluationId,
    status,
    result: null,
    defines,
    uses,
    durationMs: 5,
  }).data;
}

// ---- tests ----

describe("applyOperation is pure", () => {
  test("the input data is not mutated and the revision counts operations", () => {
    const before = createSessionData(notebook());
    const snapshot = JSON.stringify(before);
    const r = build(
      [
        { type: "insert-cell", sectionId: "s1", index: 0, cellType: "code", cellId: "n" },
        { type: "evaluate-cell", cellId: "a" },
      ],
      before,
    );
    assert.equal(JSON.stringify(before), snapshot);
    assert.equal(r.data.revision, 2);
  });

  test("two copies applying the same operations end equal (server and renderer stay in step)", () => {
    const ops: OpInput[] = [
      {
        type: "insert-cell",
        sectionId: "s2",
        index: 1,
        cellType: "code",
        cellId: "n",
        source: "1",
      },
      { type: "move-cell", cellId: "n", offset: -2 },
      { type: "evaluate-all" },
    ];
    const base = createSessionData(notebook());
    const built = ops.map(op);
    const r1 = applyOperations(base, built);
    const r2 = applyOperations(JSON.parse(JSON.stringify(base)), built);
    assert.ok(r1.ok && r2.ok);
    assert.deepEqual(r1.data, r2.data);
  });
});

describe("applyOperation given insert-cell", () => {
  test("inserts a code cell at the index with a fresh session state and marks the document dirty", () => {
    const { data, actions } = build([
      {
        type: "insert-cell",
        sectionId: "s1",
        index: 1,
        cellType: "code",
        cellId: "n",
        source: "42",
      },
    ]);
    assert.deepEqual(ids(data)[0], ["m1", "n", "a", "b"]);
    assert.equal(data.cells["n"]?.validity, "never-evaluated");
    assert.equal(data.dirty, true);
    assert.ok(actions.some((a) => a.type === "schedule-autosave"));
  });

  test("inserts a smart cell with its kind and attrs", () => {
    const { data } = build([
      {
        type: "insert-cell",
        sectionId: "s2",
        index: 1,
        cellType: "smart",
        cellId: "sm",
        kind: "chart",
        attrs: { x: "a" },
        source: "chart()",
      },
    ]);
    const cell = data.notebook.sections[1]!.cells[1]!;
    assert.equal(cell.type, "smart");
    assert.deepEqual(cell.type === "smart" ? cell.attrs : null, { x: "a" });
  });

  test("refuses an unknown section, an index out of range and a duplicate id", () => {
    const d = createSessionData(notebook());
    assert.equal(
      apply(d, { type: "insert-cell", sectionId: "zz", index: 0, cellType: "code", cellId: "n" })
        .ok,
      false,
    );
    assert.equal(
      apply(d, { type: "insert-cell", sectionId: "s1", index: 9, cellType: "code", cellId: "n" })
        .ok,
      false,
    );
    assert.equal(
      apply(d, { type: "insert-cell", sectionId: "s1", index: 0, cellType: "code", cellId: "a" })
        .ok,
      false,
    );
  });
});

describe("applyOperation given insert-section / rename-section / delete-section / set-title", () => {
  test("sections are inserted, renamed and deleted with their cells", () => {
    const { data } = build([
      { type: "insert-section", sectionId: "s3", index: 2, title: "Three" },
      { type: "rename-section", sectionId: "s2", title: "Deux" },
      { type: "set-title", title: "New" },
    ]);
    assert.deepEqual(
      data.notebook.sections.map((s) => s.title),
      ["", "Deux", "Three"],
    );
    assert.equal(data.notebook.title, "New");
    const del = mustApply(data, { type: "delete-section", sectionId: "s2" }).data;
    assert.deepEqual(
      del.notebook.sections.map((s) => s.id),
      ["s1", "s3"],
    );
    assert.equal(del.cells["c"], undefined);
  });

  test("the only section cannot be deleted", () => {
    const d = build([{ type: "delete-section", sectionId: "s2" }]).data;
    const r = apply(d, { type: "delete-section", sectionId: "s1" });
    assert.equal(r.ok, false);
  });
});

describe("applyOperation given set-cell-source", () => {
  test("replaces the source (last writer wins) and bumps the cell's source revision", () => {
    const { data } = build([
      { type: "set-cell-source", cellId: "a", source: "const x = 2", clientId: "c1" },
      { type: "set-cell-source", cellId: "a", source: "const x = 3", clientId: "c2" },
    ]);
    assert.equal(data.notebook.sections[0]!.cells[1]!.source, "const x = 3");
    assert.equal(data.cells["a"]?.sourceRevision, 2);
  });

  test("editing an evaluated cell makes it stale; restoring the evaluated source does not make it fresh again by itself", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    assert.equal(d.cells["a"]?.validity, "fresh");
    d = mustApply(d, { type: "set-cell-source", cellId: "a", source: "const x = 5" }).data;
    assert.equal(d.cells["a"]?.validity, "stale");
  });

  test("an unknown cell is an error, not an exception", () => {
    const r = apply(createSessionData(notebook()), {
      type: "set-cell-source",
      cellId: "nope",
      source: "",
    });
    assert.deepEqual(r, { ok: false, error: "unknown cell nope" });
  });
});

describe("applyOperation given move-cell", () => {
  test("moves within a section and across section boundaries, stopping at the ends", () => {
    let d = mustApply(createSessionData(notebook()), {
      type: "move-cell",
      cellId: "b",
      offset: -1,
    }).data;
    assert.deepEqual(ids(d), [["m1", "b", "a"], ["c"]]);
    d = mustApply(d, { type: "move-cell", cellId: "a", offset: 1 }).data;
    assert.deepEqual(ids(d), [
      ["m1", "b"],
      ["a", "c"],
    ]);
    d = mustApply(d, { type: "move-cell", cellId: "c", offset: -10 }).data;
    assert.deepEqual(ids(d), [["c", "m1", "b"], ["a"]]);
    d = mustApply(d, { type: "move-cell", cellId: "c", offset: 10 }).data;
    assert.deepEqual(ids(d), [
      ["m1", "b"],
      ["a", "c"],
    ]);
  });
});

describe("applyOperation given delete-cell", () => {
  test("removes the cell and its state", () => {
    const { data } = build([{ type: "delete-cell", cellId: "b" }]);
    assert.deepEqual(ids(data), [["m1", "a"], ["c"]]);
    assert.equal(data.cells["b"], undefined);
  });

  test("deleting the running cell interrupts the kernel and the queue moves on", () => {
    const d = build([
      { type: "evaluate-cell", cellId: "a" },
      { type: "evaluate-cell", cellId: "b" },
    ]).data;
    assert.equal(d.running?.cellId, "a");
    const r = mustApply(d, { type: "delete-cell", cellId: "a" });
    assert.ok(r.actions.some((a) => a.type === "interrupt-kernel"));
    assert.equal(r.data.running?.cellId, "b");
    assert.ok(r.actions.some((a) => a.type === "start-evaluation" && a.cellId === "b"));
  });

  test("deleting a queued cell removes it from the queue", () => {
    const d = build([{ type: "evaluate-all" }, { type: "delete-cell", cellId: "b" }]).data;
    assert.deepEqual(d.queue, ["c"]);
  });
});

describe("applyOperation given set-cell-options / set-smart-cell-attrs / convert-smart-cell / set-persist-outputs", () => {
  test("sets code cell options; empty options are removed", () => {
    let d = build([{ type: "set-cell-options", cellId: "b", options: { autoRun: true } }]).data;
    const b = d.notebook.sections[0]!.cells[2]!;
    assert.deepEqual(b.type === "code" ? b.options : null, { autoRun: true });
    d = mustApply(d, { type: "set-cell-options", cellId: "b", options: {} }).data;
    const b2 = d.notebook.sections[0]!.cells[2]!;
    assert.equal(b2.type === "code" ? b2.options : "x", undefined);
    assert.equal(apply(d, { type: "set-cell-options", cellId: "m1", options: {} }).ok, false);
  });

  test("smart cell attrs and generated source change together; convert keeps id and source", () => {
    let d = build([
      {
        type: "insert-cell",
        sectionId: "s1",
        index: 0,
        cellType: "smart",
        cellId: "sm",
        kind: "chart",
        attrs: {},
        source: "",
      },
      { type: "set-smart-cell-attrs", cellId: "sm", attrs: { x: "beak" }, source: "plot('beak')" },
    ]).data;
    const sm = d.notebook.sections[0]!.cells[0]!;
    assert.equal(sm.source, "plot('beak')");
    d = mustApply(d, { type: "convert-smart-cell", cellId: "sm" }).data;
    assert.deepEqual(d.notebook.sections[0]!.cells[0], {
      type: "code",
      id: "sm",
      source: "plot('beak')",
    });
    assert.equal(apply(d, { type: "convert-smart-cell", cellId: "sm" }).ok, false);
  });

  test("persisting outputs writes text outputs into the saved notebook", () => {
    let d = build([
      { type: "set-persist-outputs", persistOutputs: true },
      { type: "evaluate-cell", cellId: "a" },
    ]).data;
    d = mustApply(d, {
      type: "output-appended",
      clientId: "kernel",
      cellId: "a",
      output: { type: "terminal", stream: "stdout", text: "hello\n" },
    }).data;
    d = finishRunning(d, ["x"], []);
    const saved = notebookForSave(d);
    const a = saved.sections[0]!.cells[1]!;
    assert.deepEqual(a.type === "code" ? a.outputs : null, [{ type: "text", text: "hello\n" }]);
    const off = mustApply(d, { type: "set-persist-outputs", persistOutputs: false }).data;
    const a2 = notebookForSave(off).sections[0]!.cells[1]!;
    assert.equal(a2.type === "code" ? a2.outputs : "x", undefined);
  });
});

describe("applyOperation given evaluate-cell / evaluate-all", () => {
  test("the first evaluation starts at once with the cell's code; the next waits in the queue", () => {
    const r = build([
      { type: "evaluate-cell", cellId: "a" },
      { type: "evaluate-cell", cellId: "b" },
    ]);
    assert.deepEqual(
      r.actions.filter((a) => a.type === "start-evaluation"),
      [{ type: "start-evaluation", cellId: "a", evaluationId: 1, code: "const x = 1" }],
    );
    assert.equal(r.data.cells["a"]?.status.type, "running");
    assert.equal(r.data.cells["b"]?.status.type, "queued");
    assert.deepEqual(r.data.queue, ["b"]);
  });

  test("evaluate-all queues every code cell in document order, then they run one after another", () => {
    let d = build([{ type: "evaluate-all" }]).data;
    assert.equal(d.running?.cellId, "a");
    assert.deepEqual(d.queue, ["b", "c"]);
    d = finishRunning(d, ["x"], []);
    assert.equal(d.running?.cellId, "b");
    d = finishRunning(d, ["y"], ["x"]);
    d = finishRunning(d, [], ["y"]);
    assert.equal(d.running, null);
    assert.deepEqual(
      ["a", "b", "c"].map((id) => d.cells[id]?.status.type),
      ["done", "done", "done"],
    );
  });

  test("evaluating a queued or running cell again is a no-op; a Markdown cell cannot be evaluated", () => {
    const d = build([
      { type: "evaluate-cell", cellId: "a" },
      { type: "evaluate-cell", cellId: "a" },
    ]).data;
    assert.deepEqual(d.queue, []);
    assert.equal(apply(d, { type: "evaluate-cell", cellId: "m1" }).ok, false);
  });

  test("the running cell's outputs are cleared when it starts; evaluation is not a document change", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: { type: "markdown", text: "late" },
    }).data;
    const r = mustApply(d, { type: "evaluate-cell", cellId: "a" });
    assert.deepEqual(r.data.cells["a"]?.outputs, []);
    assert.equal(r.data.dirty, false);
  });
});

describe("applyOperation given evaluation-started / output-appended / output-updated", () => {
  test("console text merges and \\r rewrites collapse", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    for (const text of ["10%\r", "50%\r", "100%\n"])
      d = mustApply(d, {
        type: "output-appended",
        cellId: "a",
        output: { type: "terminal", stream: "stdout", text },
      }).data;
    assert.deepEqual(d.cells["a"]?.outputs, [
      { type: "terminal", stream: "stdout", text: "100%\n" },
    ]);
  });

  test("stdout and stderr of a cell are one output in write order", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    for (const [stream, text] of [
      ["stdout", "o1\n"],
      ["stderr", "e1\n"],
      ["stdout", "o2\n"],
    ] as const)
      d = mustApply(d, {
        type: "output-appended",
        cellId: "a",
        output: { type: "terminal", stream, text },
      }).data;
    assert.deepEqual(d.cells["a"]?.outputs, [
      { type: "terminal", stream: "stdout", text: "o1\ne1\no2\n", stderr: [3, 6] },
    ]);
  });

  test("the notebook's output limit drops the oldest console text behind a marker saying where it is set", () => {
    let d = build([{ type: "set-output-limit", outputLimit: 10_000 }]).data;
    assert.equal(d.notebook.metadata.outputLimit, 10_000);
    assert.equal(d.dirty, true);
    d = mustApply(d, { type: "evaluate-cell", cellId: "a" }).data;
    for (let i = 0; i < 100; i++)
      d = mustApply(d, {
        type: "output-appended",
        cellId: "a",
        output: { type: "terminal", stream: "stdout", text: `${"x".repeat(199)}\n` },
      }).data;
    const [o] = d.cells["a"]!.outputs;
    assert.ok(o?.type === "terminal");
    assert.equal(o.text.length, 10_000);
    assert.deepEqual(o.dropped, { chars: 10_000, limit: 10_000 });
    // Back to the default: the key leaves the metadata.
    d = mustApply(d, { type: "set-output-limit", outputLimit: null }).data;
    assert.equal("outputLimit" in d.notebook.metadata, false);
  });

  test("a bad output limit is refused with the reason", () => {
    const v = validateClientOperation({ type: "set-output-limit", outputLimit: 12 }, "c1", 1);
    assert.deepEqual(v, {
      ok: false,
      error:
        "set-output-limit: the output limit must be between 10,000 and 50,000,000 characters, not 12",
    });
    const r = apply(build([]).data, { type: "set-output-limit", outputLimit: 2.5 });
    assert.equal(r.ok, false);
  });

  test("a cell keeps at most MAX_OUTPUTS_PER_CELL outputs, the oldest dropped behind one marker", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    for (let i = 0; i < MAX_OUTPUTS_PER_CELL + 50; i++)
      d = mustApply(d, {
        type: "output-appended",
        cellId: "a",
        output: { type: "markdown", text: `n${i}` },
      }).data;
    const outs = d.cells["a"]!.outputs;
    assert.equal(outs.length, MAX_OUTPUTS_PER_CELL);
    assert.match(outs[0]!.type === "markdown" ? outs[0]!.text : "", /dropped/);
    assert.deepEqual(outs[outs.length - 1], {
      type: "markdown",
      text: `n${MAX_OUTPUTS_PER_CELL + 49}`,
    });
    assert.equal(outs.filter((o) => o.type === "markdown" && /dropped/.test(o.text)).length, 1);
  });

  test("an error output after the cell finished (its timer threw, its promise was not handled) marks it failed", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    d = mustApply(d, {
      type: "evaluation-finished",
      cellId: "a",
      evaluationId: 1,
      status: "ok",
      result: null,
      defines: ["x"],
      uses: [],
      durationMs: 12,
    }).data;
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: { type: "error", name: "Error", message: "late", stack: "", uncaught: "exception" },
    }).data;
    assert.deepEqual(d.cells["a"]!.status, { type: "error", durationMs: 12 });
    assert.equal(d.cells["a"]!.outputs.length, 1);
  });

  test("evaluation-started sets the start time; a started event for another evaluation is refused", () => {
    const d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    const r = mustApply(d, { type: "evaluation-started", cellId: "a", evaluationId: 1, at: 99999 });
    const st = r.data.cells["a"]?.status;
    assert.equal(st?.type === "running" ? st.startedAt : null, 99999);
    assert.equal(apply(d, { type: "evaluation-started", cellId: "a", evaluationId: 7 }).ok, false);
  });

  test("updates find outputs by id, inside frames too; an unknown id is refused", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: { type: "progress", id: "p", fraction: 0, label: "" },
    }).data;
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: {
        type: "frame",
        id: "f",
        outputs: [{ type: "vega-lite", id: "v", dataset: "pts", spec: { mark: "line" } }],
      },
    }).data;
    d = mustApply(d, {
      type: "output-updated",
      update: { type: "progress-set", id: "p", fraction: 0.5, label: "half" },
    }).data;
    d = mustApply(d, {
      type: "output-updated",
      update: { type: "vega-lite-push", id: "v", rows: [1, 2, 3], window: 2 },
    }).data;
    d = mustApply(d, {
      type: "output-updated",
      update: { type: "vega-lite-push", id: "v", rows: [4] },
    }).data;
    const outs = d.cells["a"]!.outputs;
    assert.deepEqual(outs[0], { type: "progress", id: "p", fraction: 0.5, label: "half" });
    const frame = outs[1]!;
    assert.equal(frame.type, "frame");
    const chart = frame.type === "frame" ? frame.outputs[0] : undefined;
    assert.deepEqual(chart?.type === "vega-lite" ? chart.spec : null, {
      mark: "line",
      datasets: { pts: [2, 3, 4] },
    });
    assert.equal(
      apply(d, {
        type: "output-updated",
        update: { type: "progress-set", id: "zz", fraction: 1, label: "" },
      }).ok,
      false,
    );
  });
});

describe("applyOperation given evaluation-finished", () => {
  test("npm versions the cell resolved are recorded in the notebook's metadata (a document change)", () => {
    const finish = (d: SessionData, dependencies?: Record<string, string>) =>
      mustApply(d, {
        type: "evaluation-finished",
        clientId: "kernel",
        cellId: "a",
        evaluationId: d.running!.evaluationId,
        status: "ok",
        result: null,
        defines: [],
        uses: [],
        durationMs: 3,
        ...(dependencies ? { dependencies } : {}),
      });
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    const before = d.docRevision;
    const r = finish(d, { ms: "2.1.3", "is-odd": "3.0.1" });
    assert.deepEqual(r.data.notebook.metadata.dependencies, { "is-odd": "3.0.1", ms: "2.1.3" });
    assert.equal(Object.keys(r.data.notebook.metadata.dependencies!).join(), "is-odd,ms", "sorted");
    assert.equal(r.data.docRevision, before + 1);
    assert.equal(r.data.dirty, true);
    // The same versions again change nothing in the document; a new version replaces the old.
    d = mustApply(r.data, { type: "evaluate-cell", cellId: "a" }).data;
    const same = finish(d, { ms: "2.1.3" });
    assert.equal(same.data.docRevision, r.data.docRevision);
    d = mustApply(same.data, { type: "evaluate-cell", cellId: "a" }).data;
    const newer = finish(d, { ms: "2.1.4" });
    assert.deepEqual(newer.data.notebook.metadata.dependencies, { "is-odd": "3.0.1", ms: "2.1.4" });
  });

  test("records status, duration, result, defines and uses, and makes the cell fresh", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    d = mustApply(d, {
      type: "evaluation-finished",
      cellId: "a",
      evaluationId: 1,
      status: "ok",
      result: { type: "value", preview: { kind: "primitive", text: "1", jsType: "number" } },
      defines: ["x"],
      uses: [],
      durationMs: 12,
    }).data;
    const s = d.cells["a"]!;
    assert.deepEqual(s.status, { type: "done", durationMs: 12 });
    assert.equal(s.validity, "fresh");
    assert.deepEqual(s.defines, ["x"]);
    assert.equal(s.outputs.length, 1);
  });

  test("re-evaluating a cell makes the cells that use its names stale, transitively", () => {
    let d = createSessionData(notebook());
    d = evaluate(d, "a", ["x"], []);
    d = evaluate(d, "b", ["y"], ["x"]);
    d = evaluate(d, "c", [], ["y"]);
    assert.deepEqual(
      ["a", "b", "c"].map((id) => d.cells[id]?.validity),
      ["fresh", "fresh", "fresh"],
    );
    d = evaluate(d, "a", ["x"], []);
    assert.deepEqual(
      ["a", "b", "c"].map((id) => d.cells[id]?.validity),
      ["fresh", "stale", "stale"],
    );
  });

  test("a cell evaluated after the definition stays fresh; unrelated cells stay fresh", () => {
    let d = createSessionData(notebook());
    d = evaluate(d, "b", ["y"], ["x"]);
    d = evaluate(d, "a", ["x"], []);
    assert.equal(d.cells["b"]?.validity, "stale");
    d = evaluate(d, "b", ["y"], ["x"]);
    d = evaluate(d, "c", ["z"], []);
    d = evaluate(d, "a", ["x"], []);
    assert.equal(d.cells["c"]?.validity, "fresh");
  });

  test("a stale cell with autoRun is queued again", () => {
    let d = build([{ type: "set-cell-options", cellId: "b", options: { autoRun: true } }]).data;
    d = evaluate(d, "a", ["x"], []);
    d = evaluate(d, "b", ["y"], ["x"]);
    d = mustApply(d, { type: "evaluate-cell", cellId: "a" }).data;
    const r = mustApply(d, {
      type: "evaluation-finished",
      cellId: "a",
      evaluationId: d.running!.evaluationId,
      status: "ok",
      defines: ["x"],
      uses: [],
      durationMs: 1,
    });
    assert.equal(r.data.running?.cellId, "b");
    assert.ok(r.actions.some((a) => a.type === "start-evaluation" && a.cellId === "b"));
  });

  test("an error stops the queue: the waiting cells are aborted, not run", () => {
    let d = build([{ type: "evaluate-all" }]).data;
    d = finishRunning(d, [], [], "error");
    assert.equal(d.cells["a"]?.status.type, "error");
    assert.equal(d.running, null);
    assert.deepEqual(d.queue, []);
    assert.equal(d.cells["b"]?.status.type, "aborted");
  });

  test("a cell edited while running ends stale; a finish for a stale evaluation id is refused", () => {
    let d = build([
      { type: "evaluate-cell", cellId: "a" },
      { type: "set-cell-source", cellId: "a", source: "const x = 9" },
    ]).data;
    assert.equal(
      apply(d, {
        type: "evaluation-finished",
        cellId: "a",
        evaluationId: 99,
        status: "ok",
        defines: [],
        uses: [],
        durationMs: 1,
      }).ok,
      false,
    );
    d = finishRunning(d, ["x"], []);
    assert.equal(d.cells["a"]?.validity, "stale");
    assert.equal(d.cells["a"]?.evaluatedSource, "const x = 1");
  });
});

describe("applyOperation given interrupt", () => {
  test("asks the kernel to interrupt and unqueues the waiting cells; the finish reports aborted", () => {
    let d = build([{ type: "evaluate-all" }]).data;
    const r = mustApply(d, { type: "interrupt" });
    assert.deepEqual(r.actions, [{ type: "interrupt-kernel" }]);
    assert.deepEqual(r.data.queue, []);
    assert.equal(r.data.cells["b"]?.status.type, "idle");
    d = finishRunning(r.data, [], [], "interrupted");
    assert.deepEqual(d.cells["a"]?.status, { type: "aborted", reason: "interrupted" });
  });

  test("with nothing running it asks nothing of the kernel", () => {
    assert.deepEqual(mustApply(createSessionData(notebook()), { type: "interrupt" }).actions, []);
  });
});

describe("applyOperation given delete-cell / delete-section / restore-cell (the bin)", () => {
  test("a deleted cell goes to the bin with its section and place, and is restored there with the same id", () => {
    const { data } = build([{ type: "delete-cell", cellId: "b" }]);
    assert.equal(data.bin.length, 1);
    assert.deepEqual(
      { ...data.bin[0]!, deletedAt: 0 },
      {
        cell: { type: "code", id: "b", source: "const y = x + 1" },
        sectionId: "s1",
        sectionTitle: "",
        index: 2,
        deletedAt: 0,
      },
    );
    const r = mustApply(data, { type: "restore-cell", cellId: "b" });
    assert.deepEqual(ids(r.data), [["m1", "a", "b"], ["c"]]);
    assert.equal(r.data.bin.length, 0);
    assert.equal(r.data.cells["b"]?.validity, "never-evaluated");
    assert.ok(r.data.dirty, "restoring changes the document");
  });

  test("outputs are not kept; the cell is restored without them", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    d = mustApply(d, {
      type: "delete-cell",
      cellId: "a",
    }).data;
    assert.equal("outputs" in d.bin[0]!.cell, false);
    d = mustApply(d, { type: "restore-cell", cellId: "a" }).data;
    assert.deepEqual(d.cells["a"]?.outputs, []);
  });

  test("the place is clamped; a cell of a deleted section comes back at the end of the last section", () => {
    let d = build([
      { type: "delete-cell", cellId: "b" },
      { type: "delete-cell", cellId: "a" },
    ]).data;
    d = mustApply(d, { type: "restore-cell", cellId: "b" }).data;
    assert.deepEqual(ids(d), [["m1", "b"], ["c"]], "index 2 clamped to the end");
    d = build([{ type: "delete-section", sectionId: "s2" }], d).data;
    assert.deepEqual(
      d.bin.map((e) => e.cell.id),
      ["c", "a"],
      "newest first",
    );
    d = build([{ type: "delete-section", sectionId: "s1" }], {
      ...d,
      notebook: {
        ...d.notebook,
        sections: [...d.notebook.sections, { id: "s3", title: "Three", cells: [] }],
      },
    }).data;
    d = mustApply(d, { type: "restore-cell", cellId: "c" }).data;
    assert.deepEqual(ids(d), [["c"]], "into the last section");
  });

  test("empty cells are not kept; restoring a cell not in the bin is refused", () => {
    let d = build([
      { type: "insert-cell", sectionId: "s1", index: 0, cellType: "code", cellId: "e" },
      { type: "delete-cell", cellId: "e" },
    ]).data;
    assert.equal(d.bin.length, 0);
    assert.equal(apply(d, { type: "restore-cell", cellId: "e" }).ok, false);
    assert.equal(apply(d, { type: "restore-cell", cellId: "a" }).ok, false);
  });

  test("the bin keeps the newest MAX_BIN_ENTRIES", () => {
    let d = createSessionData(notebook());
    for (let i = 0; i < MAX_BIN_ENTRIES + 5; i++) {
      d = build(
        [
          {
            type: "insert-cell",
            sectionId: "s2",
            index: 0,
            cellType: "code",
            cellId: `n${i}`,
            source: `${i}`,
          },
          { type: "delete-cell", cellId: `n${i}` },
        ],
        d,
      ).data;
    }
    assert.equal(d.bin.length, MAX_BIN_ENTRIES);
    assert.equal(d.bin[0]!.cell.id, `n${MAX_BIN_ENTRIES + 4}`);
  });

  test("a client may send restore-cell", () => {
    assert.equal(validateClientOperation({ type: "restore-cell", cellId: "a" }, "c", 1).ok, true);
    assert.equal(validateClientOperation({ type: "restore-cell" }, "c", 1).ok, false);
  });
});

describe("applyOperation given shutdown-kernel", () => {
  test("like a restart, but the kernel is stopped and not started again, with the reason", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    d = mustApply(d, { type: "kernel-status", clientId: "kernel", status: "idle" }).data;
    d = build([{ type: "evaluate-all" }], d).data;
    const r = mustApply(d, {
      type: "shutdown-kernel",
      reason: "shut down after 5 minutes with no window open",
    });
    assert.deepEqual(r.actions, [{ type: "stop-kernel" }]);
    assert.equal(r.data.running, null);
    assert.deepEqual(r.data.queue, []);
    assert.deepEqual(r.data.kernel, {
      status: "not-started",
      reason: "shut down after 5 minutes with no window open",
    });
    assert.equal(r.data.cells["a"]?.validity, "stale");
    assert.equal(r.data.cells["a"]?.status.type, "aborted");
  });

  test("with no kernel running there is nothing to stop", () => {
    const r = mustApply(createSessionData(notebook()), { type: "shutdown-kernel" });
    assert.deepEqual(r.actions, []);
    assert.equal(r.data.kernel.reason, "the kernel was shut down");
  });
});

describe("applyOperation given restart-kernel", () => {
  test("aborts the running cell, clears the queue, makes evaluated cells stale and asks for a restart", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    d = build([{ type: "evaluate-all" }], d).data;
    const r = mustApply(d, { type: "restart-kernel" });
    assert.deepEqual(r.actions, [{ type: "restart-kernel" }]);
    assert.equal(r.data.running, null);
    assert.equal(r.data.cells["a"]?.status.type, "aborted");
    assert.equal(r.data.cells["a"]?.validity, "stale");
    assert.equal(r.data.cells["b"]?.status.type, "idle");
  });
});

describe("applyOperation given set-runtime", () => {
  test("records where the kernel runs and restarts it there: the running cell aborted with why, evaluated cells stale", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    assert.equal(d.runtime, null);
    d = build([{ type: "evaluate-all" }], d).data;
    const gpu = { id: "r1", name: "gpu-box", url: "http://gpu-box:8888/" };
    const r = mustApply(d, { type: "set-runtime", runtime: gpu });
    assert.deepEqual(r.actions, [{ type: "restart-kernel" }]);
    assert.deepEqual(r.data.runtime, gpu);
    assert.deepEqual(r.data.queue, []);
    assert.deepEqual(r.data.cells["a"]?.status, {
      type: "aborted",
      reason: "the kernel was restarted to run on gpu-box",
    });
    assert.equal(r.data.cells["a"]?.validity, "stale");
    const back = mustApply(r.data, { type: "set-runtime", runtime: null });
    assert.equal(back.data.runtime, null);
    // Session state: the notebook (what is saved) does not change.
    assert.equal(back.data.docRevision, d.docRevision);
  });
});

describe("applyOperation given kernel-status", () => {
  test("a dead kernel aborts the running cell with the reason and keeps the other outputs", () => {
    let d = evaluate(createSessionData(notebook()), "a", ["x"], []);
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: { type: "markdown", text: "kept" },
    }).data;
    d = build(
      [
        { type: "kernel-status", status: "idle" },
        { type: "evaluate-cell", cellId: "b" },
        { type: "evaluate-cell", cellId: "c" },
      ],
      d,
    ).data;
    assert.equal(d.kernel.status, "busy");
    d = mustApply(d, { type: "kernel-status", status: "dead", reason: "killed by SIGKILL" }).data;
    assert.deepEqual(d.cells["b"]?.status, {
      type: "aborted",
      reason: "the kernel died: killed by SIGKILL",
    });
    assert.equal(d.cells["c"]?.status.type, "idle");
    assert.equal(d.cells["a"]?.outputs.length, 1);
    assert.equal(d.cells["a"]?.validity, "stale");
    assert.deepEqual(d.kernel, { status: "dead", reason: "killed by SIGKILL" });
    const again = mustApply(d, { type: "evaluate-cell", cellId: "b" });
    assert.ok(again.actions.some((a) => a.type === "start-evaluation"));
  });

  test("the kernel shows busy while a cell runs and idle after", () => {
    let d = build([
      { type: "kernel-status", status: "idle" },
      { type: "evaluate-cell", cellId: "a" },
    ]).data;
    assert.equal(d.kernel.status, "busy");
    d = finishRunning(d, [], []);
    assert.equal(d.kernel.status, "idle");
  });
});

describe("applyOperation given notebook-saved / set-path / file-changed-on-disk / notebook-replaced", () => {
  test("a save clears dirty only if nothing changed since the saved revision", () => {
    let d = build([{ type: "set-title", title: "A" }]).data;
    const savedRev = d.docRevision;
    d = mustApply(d, { type: "set-title", title: "B" }).data;
    d = mustApply(d, { type: "notebook-saved", path: "x.tsnb", docRevision: savedRev }).data;
    assert.equal(d.dirty, true);
    d = mustApply(d, { type: "notebook-saved", path: "x.tsnb", docRevision: d.docRevision }).data;
    assert.equal(d.dirty, false);
  });

  test("an external change is recorded until a save or reload; reload replaces the notebook and resets evaluation state", () => {
    let d = evaluate(build([{ type: "set-path", path: "n.tsnb" }]).data, "a", ["x"], []);
    d = mustApply(d, { type: "file-changed-on-disk", at: 5000 }).data;
    assert.deepEqual(d.diskConflict, { detectedAt: 5000 });
    const nb = notebook();
    nb.title = "From disk";
    d = mustApply(d, { type: "notebook-replaced", notebook: nb }).data;
    assert.equal(d.notebook.title, "From disk");
    assert.equal(d.diskConflict, null);
    assert.equal(d.dirty, false);
    assert.equal(d.path, "n.tsnb");
    assert.equal(d.cells["a"]?.validity, "never-evaluated");
  });
});

describe("applyOperation given set-input-value / clear-outputs", () => {
  test("an input's stored value changes and the kernel is told (more in session-inputs.test.ts)", () => {
    let d = build([{ type: "evaluate-cell", cellId: "a" }]).data;
    d = mustApply(d, {
      type: "output-appended",
      cellId: "a",
      output: {
        type: "input",
        id: "in1",
        input: { kind: "text", label: "Name", default: "" },
        value: "",
      },
    }).data;
    const r = mustApply(d, { type: "set-input-value", inputId: "in1", value: "Ada" });
    assert.deepEqual(r.actions, [{ type: "set-input-value", inputId: "in1", value: "Ada" }]);
    assert.equal(r.data.inputs["in1"]?.value, "Ada");
    assert.equal(apply(d, { type: "set-input-value", inputId: "zz", value: 1 }).ok, false);
    assert.deepEqual(mustApply(r.data, { type: "clear-outputs" }).data.cells["a"]?.outputs, []);
  });
});

describe("validateClientOperation", () => {
  test("stamps clientId and at, refuses kernel operations and malformed fields", () => {
    const ok = validateClientOperation(
      { type: "move-cell", cellId: "a", offset: 1, clientId: "spoof", at: 1 },
      "me",
      77,
    );
    assert.deepEqual(ok, {
      ok: true,
      op: { type: "move-cell", cellId: "a", offset: 1, clientId: "me", at: 77 },
    });
    assert.equal(
      validateClientOperation({ type: "evaluation-finished", cellId: "a" }, "me", 1).ok,
      false,
    );
    assert.equal(
      validateClientOperation({ type: "move-cell", cellId: "a", offset: 1.5 }, "me", 1).ok,
      false,
    );
    assert.equal(
      validateClientOperation(
        { type: "insert-cell", sectionId: "s", index: 0, cellType: "smart", cellId: "x" },
        "me",
        1,
      ).ok,
      false,
    );
    assert.equal(validateClientOperation("nope", "me", 1).ok, false);
  });
});
