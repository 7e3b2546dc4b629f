// The reducer given inputs and controls: values as session state, validation (a bad value changes
// nothing), staleness of the cells that read an input (and their dependents), automatic
// re-evaluation waiting for the debounced auto-evaluate, control events.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Notebook } from "../../core/notebook.ts";
import type { InputSpec } from "../../core/inputs.ts";
import type { Output } from "../../core/outputs.ts";
import {
  applyOperation,
  createSessionData,
  notebookForSave,
  type SessionData,
} from "../../core/session/data.ts";
import type { Operation } from "../../core/session/operations.ts";

let clock = 1000;
function apply(data: SessionData, o: Record<string, unknown>) {
  clock += 10;
  return applyOperation(data, { clientId: "w1", at: clock, ...o } as Operation);
}
function must(data: SessionData, o: Record<string, unknown>) {
  const r = apply(data, o);
  if (!r.ok) throw new Error(r.error);
  return r;
}

// a: makes the slider; b: reads it (defines y); c: uses y; d: unrelated.
function notebook(autoRunB = false): Notebook {
  return {
    title: "T",
    metadata: { version: 1 },
    sections: [
      {
        id: "s1",
        title: "",
        cells: [
          { type: "code", id: "a", source: "const size = input.range('Size')" },
          {
            type: "code",
            id: "b",
            source: "const y = size.value * 2",
            ...(autoRunB ? { options: { autoRun: true } } : {}),
          },
          { type: "code", id: "c", source: "y + 1", options: { autoRun: true } },
          { type: "code", id: "d", source: "1" },
        ],
      },
    ],
  };
}

const SIZE: InputSpec = {
  kind: "range",
  label: "Size",
  default: 3,
  min: 0,
  max: 10,
  step: 1,
  debounceMs: 100,
};
const sizeOutput: Output = { type: "input", id: "in-size", input: SIZE, value: 3 };

/** Run a cell to the end as the kernel reports it, with what it showed and read. */
function run(
  d: SessionData,
  cellId: string,
  r: { defines?: string[]; uses?: string[]; inputs?: string[]; outputs?: Output[] } = {},
): SessionData {
  d = must(d, { type: "evaluate-cell", cellId }).data;
  return finish(d, r);
}
function finish(
  d: SessionData,
  r: { defines?: string[]; uses?: string[]; inputs?: string[]; outputs?: Output[] } = {},
): SessionData {
  const running = d.running!;
  for (const output of r.outputs ?? [])
    d = must(d, {
      type: "output-appended",
      clientId: "kernel",
      cellId: running.cellId,
      output,
    }).data;
  return must(d, {
    type: "evaluation-finished",
    clientId: "kernel",
    cellId: running.cellId,
    evaluationId: running.evaluationId,
    status: "ok",
    result: null,
    defines: r.defines ?? [],
    uses: r.uses ?? [],
    inputs: r.inputs ?? [],
    durationMs: 1,
  }).data;
}

function evaluated(autoRunB = false): SessionData {
  let d = createSessionData(notebook(autoRunB));
  d = run(d, "a", { defines: ["size"], uses: ["input"], outputs: [sizeOutput] });
  d = run(d, "b", { defines: ["y"], uses: ["size"], inputs: ["in-size"] });
  d = run(d, "c", { uses: ["y"] });
  d = run(d, "d");
  return d;
}

describe("applyOperation given set-input-value", () => {
  test("the value is session state: stored, told to the kernel, never saved in the file", () => {
    const d = evaluated();
    assert.deepEqual(d.inputs["in-size"], { spec: SIZE, value: 3, cellId: "a", changeSeq: 0 });
    const r = must(d, { type: "set-input-value", inputId: "in-size", value: 7 });
    assert.equal(r.data.inputs["in-size"]!.value, 7);
    assert.deepEqual(r.actions[0], { type: "set-input-value", inputId: "in-size", value: 7 });
    assert.equal(r.data.docRevision, d.docRevision, "not a document change");
    assert.doesNotMatch(JSON.stringify(notebookForSave(r.data)), /in-size/);
  });

  test("the cells that read the input and their dependents become stale; others stay fresh", () => {
    const r = must(evaluated(), { type: "set-input-value", inputId: "in-size", value: 5 });
    const v = (id: string) => r.data.cells[id]!.validity;
    assert.deepEqual([v("a"), v("b"), v("c"), v("d")], ["fresh", "stale", "stale", "fresh"]);
    // b is not "reevaluate automatically": nothing is scheduled.
    assert.deepEqual(r.data.autoPending, []);
    assert.ok(!r.actions.some((a) => a.type === "schedule-auto-evaluate"));
  });

  test("a bad value is refused with the reason and changes nothing", () => {
    const d = evaluated();
    const cases: Array<[unknown, RegExp]> = [
      [11, /"Size" must be at most 10, got 11/],
      [-1, /"Size" must be at least 0, got -1/],
      [2.5, /"Size" moves in steps of 1 from 0, got 2.5/],
      ["7", /"Size" takes a number, got "7"/],
      [null, /"Size" takes a number, got null/],
    ];
    for (const [value, message] of cases) {
      const r = apply(d, { type: "set-input-value", inputId: "in-size", value });
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, message);
    }
    const unknown = apply(d, { type: "set-input-value", inputId: "nope", value: 1 });
    assert.deepEqual(unknown, { ok: false, error: "unknown input nope" });
  });

  test("re-running the creating cell keeps the session's value (the kernel's report does not win)", () => {
    let d = must(evaluated(), { type: "set-input-value", inputId: "in-size", value: 9 }).data;
    d = run(d, "a", { defines: ["size"], outputs: [{ ...sizeOutput, value: 3 }] });
    assert.equal(d.inputs["in-size"]!.value, 9);
  });

  test("file and image values: size limits and shapes are checked", () => {
    let d = createSessionData(notebook());
    const img: Output = {
      type: "input",
      id: "in-img",
      input: { kind: "image", label: "Photo", default: null, size: [2, 2] },
      value: null,
    };
    const file: Output = {
      type: "input",
      id: "in-file",
      input: { kind: "file", label: "Data", default: null },
      value: null,
    };
    d = run(d, "a", { outputs: [img, file] });
    const rgb = (n: number) => Buffer.alloc(n).toString("base64");
    assert.ok(
      must(d, {
        type: "set-input-value",
        inputId: "in-img",
        value: { height: 2, width: 2, data: rgb(12) },
      }),
    );
    const wrongSize = apply(d, {
      type: "set-input-value",
      inputId: "in-img",
      value: { height: 3, width: 2, data: rgb(18) },
    });
    assert.match(!wrongSize.ok ? wrongSize.error : "", /takes images of 2×2, got 3×2/);
    const short = apply(d, {
      type: "set-input-value",
      inputId: "in-img",
      value: { height: 2, width: 2, data: rgb(11) },
    });
    assert.match(!short.ok ? short.error : "", /2×2 RGB needs 12 bytes, got 11/);
    const big = apply(d, {
      type: "set-input-value",
      inputId: "in-file",
      value: {
        name: "big.bin",
        type: "",
        data: "A".repeat(Math.ceil((11 * 1024 * 1024 * 4) / 3 / 4) * 4),
      },
    });
    assert.match(
      !big.ok ? big.error : "",
      /"Data": the file is 11\.0 MB, more than the limit of 10\.0 MB/,
    );
    const notB64 = apply(d, {
      type: "set-input-value",
      inputId: "in-file",
      value: { name: "x", type: "", data: "not base64!" },
    });
    assert.match(!notB64.ok ? notB64.error : "", /is not valid base64/);
  });
});

describe("automatic re-evaluation after input changes", () => {
  test("auto cells that read the input wait for one auto-evaluate, however many changes came", () => {
    let d = evaluated(true);
    const r1 = must(d, { type: "set-input-value", inputId: "in-size", value: 4 });
    assert.deepEqual(r1.data.autoPending, ["b"]);
    assert.ok(r1.actions.some((a) => a.type === "schedule-auto-evaluate"));
    d = r1.data;
    for (const value of [5, 6, 7])
      d = must(d, { type: "set-input-value", inputId: "in-size", value }).data;
    assert.deepEqual(d.autoPending, ["b"], "queued once");
    assert.equal(d.running, null, "nothing runs before the debounce window ends");
    d = must(d, { type: "auto-evaluate", clientId: "server" }).data;
    assert.deepEqual(d.autoPending, []);
    assert.equal(d.running?.cellId, "b");
    // b finishes: c (auto, uses y) follows by the ordinary staleness rule.
    d = finish(d, { defines: ["y"], uses: ["size"], inputs: ["in-size"] });
    assert.equal(d.cells["b"]!.validity, "fresh");
    assert.equal(d.running?.cellId, "c");
    d = finish(d, { uses: ["y"] });
    assert.equal(d.cells["c"]!.validity, "fresh");
  });

  test("a value changed while the reading cell runs makes it stale again when it finishes (and re-queued if auto)", () => {
    let d = must(evaluated(true), { type: "set-input-value", inputId: "in-size", value: 4 }).data;
    d = must(d, { type: "auto-evaluate", clientId: "server" }).data;
    assert.equal(d.running?.cellId, "b");
    d = must(d, { type: "set-input-value", inputId: "in-size", value: 8 }).data;
    const r = apply(d, {
      type: "evaluation-finished",
      clientId: "kernel",
      cellId: "b",
      evaluationId: d.running!.evaluationId,
      status: "ok",
      result: null,
      defines: ["y"],
      uses: ["size"],
      inputs: ["in-size"],
      durationMs: 1,
    });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.data.cells["b"]!.validity, "stale");
    assert.deepEqual(r.data.autoPending, ["b"]);
    assert.ok(r.actions.some((a) => a.type === "schedule-auto-evaluate"));
  });

  test("auto-evaluate skips cells that became fresh meanwhile (run by hand)", () => {
    let d = must(evaluated(true), { type: "set-input-value", inputId: "in-size", value: 4 }).data;
    d = run(d, "b", { defines: ["y"], uses: ["size"], inputs: ["in-size"] });
    d = finish(d, { uses: ["y"] }); // c, auto-queued after b by the staleness rule
    d = must(d, { type: "auto-evaluate", clientId: "server" }).data;
    assert.equal(d.running, null);
  });
});

describe("applyOperation given control-event", () => {
  const form: Output = {
    type: "control",
    id: "ctl-form",
    control: {
      kind: "form",
      fields: { name: { kind: "text", label: "Name", default: "" }, n: SIZE },
      submit: "Go",
      reportChanges: false,
    },
  };
  test("a valid event goes to the kernel with the window that sent it; bad ones are refused", () => {
    const d = run(createSessionData(notebook()), "a", { outputs: [form] });
    const r = must(d, {
      type: "control-event",
      clientId: "w9",
      controlId: "ctl-form",
      event: { type: "submit", data: { name: "Ada", n: 2 } },
    });
    assert.deepEqual(r.actions, [
      {
        type: "control-event",
        controlId: "ctl-form",
        event: { type: "submit", data: { name: "Ada", n: 2 } },
        origin: "w9",
      },
    ]);
    const bad = (event: unknown) => {
      const x = apply(d, { type: "control-event", controlId: "ctl-form", event });
      return x.ok ? "accepted" : x.error;
    };
    assert.match(
      bad({ type: "submit", data: { name: "Ada", n: 20 } }),
      /"Size" must be at most 10/,
    );
    assert.match(bad({ type: "submit", data: { name: "Ada" } }), /lacks field "n"/);
    assert.match(bad({ type: "change", data: { name: "A", n: 1 } }), /does not report changes/);
    assert.match(bad({ type: "click" }), /sends "submit" or "change"/);
    assert.equal(
      apply(d, { type: "control-event", controlId: "zz", event: { type: "click" } }).ok,
      false,
    );
  });

  test("controls and inputs no output shows and no cell read are dropped after an evaluation", () => {
    let d = run(createSessionData(notebook()), "a", { outputs: [form, sizeOutput] });
    assert.ok(d.controls["ctl-form"] && d.inputs["in-size"]);
    d = run(d, "b", { inputs: ["in-size"] });
    d = run(d, "a", { outputs: [] });
    assert.equal(d.controls["ctl-form"], undefined);
    assert.ok(d.inputs["in-size"], "b read it: kept");
  });
});
