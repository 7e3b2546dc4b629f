// Property tests of the session reducer: random sequences of operations (valid and invalid,
// from clients and from the kernel) never make applyOperation throw, and the invariants of
// SessionData hold after every step.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { allCells, type Notebook } from "../../core/notebook.ts";
import { applyOperation, createSessionData, type SessionData } from "../../core/session/data.ts";
import type { Operation } from "../../core/session/operations.ts";

const CELL_IDS = ["a", "b", "c", "m", "n1", "n2", "n3", "ghost"];
const SECTION_IDS = ["s1", "s2", "s3", "nope"];

function start(): SessionData {
  const nb: Notebook = {
    title: "P",
    metadata: { version: 1 },
    sections: [
      {
        id: "s1",
        title: "",
        cells: [
          { type: "code", id: "a", source: "a" },
          { type: "markdown", id: "m", source: "m" },
        ],
      },
      {
        id: "s2",
        title: "Two",
        cells: [
          { type: "code", id: "b", source: "b" },
          { type: "code", id: "c", source: "c", options: { autoRun: true } },
        ],
      },
    ],
  };
  return createSessionData(nb);
}

const cellId = fc.constantFrom(...CELL_IDS);
const names = fc.array(fc.constantFrom("x", "y", "z"), { maxLength: 2 });

/** An operation; evaluation ids are resolved against the current state when applied (to hit the running one often). */
type OpGen = (d: SessionData) => Operation;
const base = { clientId: "c", at: 1 };
const opGen = fc.oneof(
  fc
    .record({
      s: fc.constantFrom(...SECTION_IDS),
      i: fc.integer({ min: -1, max: 4 }),
      id: cellId,
      t: fc.constantFrom("code", "markdown", "smart"),
    })
    .map(({ s, i, id, t }) => () => ({
      ...base,
      type: "insert-cell",
      sectionId: s,
      index: i,
      cellId: id,
      cellType: t as "code",
      ...(t === "smart" ? { kind: "chart", attrs: {} } : {}),
    })),
  fc
    .record({ s: fc.constantFrom(...SECTION_IDS), i: fc.integer({ min: -1, max: 4 }) })
    .map(({ s, i }) => () => ({
      ...base,
      type: "insert-section",
      sectionId: s,
      index: i,
      title: "t",
    })),
  fc
    .constantFrom(...SECTION_IDS)
    .map((s) => () => ({ ...base, type: "delete-section", sectionId: s })),
  fc
    .record({ id: cellId, src: fc.string({ maxLength: 5 }) })
    .map(({ id, src }) => () => ({ ...base, type: "set-cell-source", cellId: id, source: src })),
  fc
    .record({ id: cellId, off: fc.integer({ min: -5, max: 5 }) })
    .map(({ id, off }) => () => ({ ...base, type: "move-cell", cellId: id, offset: off })),
  cellId.map((id) => () => ({ ...base, type: "delete-cell", cellId: id })),
  {
    weight: 4,
    arbitrary: cellId.map((id): OpGen => () => ({ ...base, type: "evaluate-cell", cellId: id })),
  },
  fc.record({ id: cellId, auto: fc.boolean() }).map(({ id, auto }) => () => ({
    ...base,
    type: "set-cell-options",
    cellId: id,
    options: { autoRun: auto },
  })),
  cellId.map((id) => () => ({ ...base, type: "convert-smart-cell", cellId: id })),
  { weight: 2, arbitrary: fc.constant((): Operation => ({ ...base, type: "evaluate-all" })) },
  fc.constant(() => ({ ...base, type: "interrupt" }) as Operation),
  fc.constant(() => ({ ...base, type: "restart-kernel" }) as Operation),
  fc
    .constantFrom("starting", "idle", "dead")
    .map((status) => () => ({ ...base, type: "kernel-status", status: status as "idle" })),
  cellId.map((id) => () => ({
    ...base,
    type: "output-appended",
    cellId: id,
    output: { type: "terminal", stream: "stdout", text: "o\n" },
  })),
  {
    weight: 6,
    arbitrary: fc
      .record({
        st: fc.constantFrom("ok", "ok", "ok", "error", "interrupted"),
        defines: names,
        uses: names,
        wrongId: fc.boolean(),
      })
      .map(({ st, defines, uses, wrongId }) => (d: SessionData) => ({
        ...base,
        type: "evaluation-finished",
        cellId: d.running?.cellId ?? "a",
        evaluationId: (d.running?.evaluationId ?? 0) + (wrongId ? 1 : 0),
        status: st as "ok",
        defines,
        uses,
        durationMs: 1,
      })),
  },
  fc.constant(
    (d: SessionData) =>
      ({
        ...base,
        type: "notebook-saved",
        path: "p.tsnb",
        docRevision: d.docRevision,
      }) as Operation,
  ),
) as fc.Arbitrary<OpGen>;

function checkInvariants(d: SessionData): void {
  const cells = allCells(d.notebook);
  const ids = cells.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, "cell ids are unique");
  assert.deepEqual(Object.keys(d.cells).sort(), [...ids].sort(), "one session state per cell");
  assert.ok(d.notebook.sections.length >= 1, "at least one section");
  for (const [id, s] of Object.entries(d.cells)) {
    assert.equal(s.status.type === "queued", d.queue.includes(id), `queued ⇔ in queue (${id})`);
  }
  assert.equal(new Set(d.queue).size, d.queue.length, "no cell queued twice");
  for (const id of d.queue)
    assert.equal(d.cells[id]?.status.type, "queued", `queue holds only queued cells (${id})`);
  const running = Object.entries(d.cells).filter(([, s]) => s.status.type === "running");
  assert.ok(running.length <= 1, "at most one running cell");
  if (d.running) {
    assert.deepEqual(
      running.map(([id]) => id),
      [d.running.cellId],
    );
  } else {
    assert.equal(running.length, 0);
    assert.equal(d.queue.length, 0, "nothing waits while nothing runs");
  }
  assert.equal(d.dirty, d.docRevision !== d.savedDocRevision, "dirty ⇔ unsaved revision");
  for (const c of cells)
    if (c.type === "markdown") assert.equal(d.cells[c.id]!.status.type, "idle");
}

test("random operation sequences never throw and keep SessionData's invariants", () => {
  fc.assert(
    fc.property(fc.array(opGen, { minLength: 10, maxLength: 80 }), (gens) => {
      let d = start();
      let revision = 0;
      for (const gen of gens) {
        const op = gen(d);
        const r = applyOperation(d, op);
        if (r.ok) {
          revision++;
          d = r.data;
          // A copy that went through JSON (as a renderer's does) reduces to the same state.
          assert.equal(d.revision, revision);
        }
        checkInvariants(d);
      }
      assert.deepEqual(JSON.parse(JSON.stringify(d)), d, "the state is plain JSON");
    }),
    { numRuns: 300 },
  );
});
