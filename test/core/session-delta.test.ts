// The reducer given apply-cell-delta (and set-cell-source, now recorded as a delta): typing
// made on an older revision is transformed against the changes applied since.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Notebook } from "../../core/notebook.ts";
import {
  applyOperation,
  applyOperations,
  createSessionData,
  MAX_SOURCE_DELTAS,
  type SessionData,
} from "../../core/session/data.ts";
import { validateClientOperation, type Operation } from "../../core/session/operations.ts";

function start(): SessionData {
  const nb: Notebook = {
    title: "D",
    metadata: { version: 1 },
    sections: [
      {
        id: "s",
        title: "",
        cells: [
          { type: "code", id: "a", source: "const x = 1;" },
          { type: "smart", id: "sm", kind: "chart", attrs: {}, source: "// gen" },
        ],
      },
    ],
  };
  return createSessionData(nb);
}
const src = (d: SessionData, id = "a") =>
  d.notebook.sections[0]!.cells.find((c) => c.id === id)!.source;
const delta = (clientId: string, revision: number, d: (string | number)[]): Operation => ({
  type: "apply-cell-delta",
  clientId,
  at: 1,
  cellId: "a",
  delta: d,
  revision,
});

describe("applyOperation given apply-cell-delta", () => {
  test("a delta on the current revision applies as is and is remembered", () => {
    const r = applyOperation(start(), delta("p", 0, [10, "2"]));
    assert.ok(r.ok);
    assert.equal(src(r.data), "const x = 21;");
    assert.equal(r.data.cells["a"]!.sourceRevision, 1);
    assert.deepEqual(r.data.cells["a"]!.sourceDeltas, [{ clientId: "p", delta: [10, "2"] }]);
    assert.ok(r.data.dirty);
    assert.ok(r.actions.some((a) => a.type === "schedule-autosave"));
  });

  test("two windows typing on the same revision both keep their text", () => {
    const r = applyOperations(start(), [
      delta("p", 0, [7, "y"]), // const xy = 1;
      delta("q", 0, [11, "0"]), // const x = 10;  (made before p's change arrived)
    ]);
    assert.ok(r.ok);
    assert.equal(src(r.data), "const xy = 10;");
    assert.deepEqual(
      r.data.cells["a"]!.sourceDeltas.at(-1),
      { clientId: "q", delta: [12, "0"] },
      "q's delta as applied",
    );
  });

  test("typing concurrent with a whole-source change is transformed against its diff", () => {
    const r = applyOperations(start(), [
      { type: "set-cell-source", clientId: "fmt", at: 1, cellId: "a", source: "const x = 1;\n" },
      delta("q", 0, [7, "yz"]),
    ]);
    assert.ok(r.ok);
    assert.equal(src(r.data), "const xyz = 1;\n");
  });

  test("an evaluated cell becomes stale when typing changes it", () => {
    let d = start();
    d = {
      ...d,
      cells: {
        ...d.cells,
        a: { ...d.cells["a"]!, evaluatedSource: "const x = 1;", validity: "fresh" },
      },
    };
    const r = applyOperation(d, delta("p", 0, [12, " "]));
    assert.ok(r.ok);
    assert.equal(r.data.cells["a"]!.validity, "stale");
  });

  test("refused: revision ahead, revision older than the kept deltas, a smart cell, a delta longer than the text", () => {
    assert.match(
      (applyOperation(start(), delta("p", 3, ["x"])) as { error: string }).error,
      /ahead/,
    );
    let d = start();
    for (let i = 0; i < MAX_SOURCE_DELTAS + 5; i++) {
      const r = applyOperation(d, delta("p", i, ["x"]));
      assert.ok(r.ok);
      d = r.data;
    }
    assert.equal(d.cells["a"]!.sourceDeltas.length, MAX_SOURCE_DELTAS);
    assert.match((applyOperation(d, delta("q", 2, ["y"])) as { error: string }).error, /too old/);
    assert.ok(applyOperation(d, delta("q", 10, ["y"])).ok, "within the kept deltas");
    const smart = applyOperation(start(), { ...delta("p", 0, ["x"]), cellId: "sm" } as Operation);
    assert.match((smart as { error: string }).error, /smart cell/);
    assert.match(
      (applyOperation(start(), delta("p", 0, [13, "x"])) as { error: string }).error,
      /spans 13/,
    );
  });

  test("the protocol edge refuses ill-formed deltas", () => {
    const v = (op: unknown) => validateClientOperation(op, "c", 1);
    assert.ok(v({ type: "apply-cell-delta", cellId: "a", delta: [1, "x", -1], revision: 0 }).ok);
    assert.ok(!v({ type: "apply-cell-delta", cellId: "a", delta: [0], revision: 0 }).ok);
    assert.ok(!v({ type: "apply-cell-delta", cellId: "a", delta: "x", revision: 0 }).ok);
    assert.ok(!v({ type: "apply-cell-delta", cellId: "a", delta: [], revision: -1 }).ok);
    assert.ok(
      !v({ type: "apply-cell-delta", cellId: "a", delta: [{ retain: 1 }], revision: 0 }).ok,
    );
  });
});
