// Text deltas (core/delta.ts): the OT properties collaborative editing rests on, checked on
// random texts and edits (fast-check), plus a few cases by hand (Livebook's delta_test.exs
// cases: concurrent inserts at one place, an insert inside a deleted range).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyDelta,
  composeDeltas,
  deltaFromDiff,
  deltaProblem,
  normalizeDelta,
  spliceDelta,
  transformDelta,
  transformOffset,
  type TextDelta,
} from "../../core/delta.ts";

/** A random delta valid on `text`: retains, deletes and inserts (some with astral characters). */
function arbDelta(text: string): fc.Arbitrary<TextDelta> {
  return fc
    .array(
      fc.oneof(
        fc.record({ k: fc.constant("r" as const), n: fc.integer({ min: 1, max: 5 }) }),
        fc.record({ k: fc.constant("d" as const), n: fc.integer({ min: 1, max: 5 }) }),
        fc.record({
          k: fc.constant("i" as const),
          s: fc.string({ minLength: 1, maxLength: 4, unit: "grapheme" }),
        }),
      ),
      { maxLength: 8 },
    )
    .map((parts) => {
      const out: TextDelta = [];
      let left = text.length;
      for (const p of parts) {
        if (p.k === "i") out.push(p.s);
        else {
          const n = Math.min(p.n, left);
          if (n === 0) continue;
          left -= n;
          out.push(p.k === "r" ? n : -n);
        }
      }
      return normalizeDelta(out);
    });
}

const textAndTwo = fc
  .string({ maxLength: 20, unit: "grapheme" })
  .chain((t) => fc.tuple(fc.constant(t), arbDelta(t), arbDelta(t)));

test("transform: both orders converge (TP1), and no inserted text is lost", () => {
  fc.assert(
    fc.property(textAndTwo, ([text, a, b]) => {
      const left = applyDelta(applyDelta(text, a), transformDelta(a, b, true));
      const right = applyDelta(applyDelta(text, b), transformDelta(b, a, false));
      assert.equal(left, right);
      // every insert of either side is in the result, in order
      for (const d of [a, b]) {
        for (const c of d) {
          if (typeof c !== "string") continue;
          assert.ok(
            left.includes(c),
            `insert ${JSON.stringify(c)} lost in ${JSON.stringify(left)}`,
          );
        }
      }
    }),
    { numRuns: 3000 },
  );
});

test("compose: applying a∘b equals applying a then b", () => {
  fc.assert(
    fc.property(
      fc
        .string({ maxLength: 20 })
        .chain((t) =>
          arbDelta(t).chain((a) =>
            fc.tuple(fc.constant(t), fc.constant(a), arbDelta(applyDelta(t, a))),
          ),
        ),
      ([text, a, b]) => {
        assert.equal(applyDelta(text, composeDeltas(a, b)), applyDelta(applyDelta(text, a), b));
      },
    ),
    { numRuns: 3000 },
  );
});

test("diff deltas turn one text into the other; splice deltas are Monaco changes", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), (x, y) => {
      assert.equal(applyDelta(x, deltaFromDiff(x, y)), y);
    }),
  );
  assert.deepEqual(deltaFromDiff("const x = 1;", "const xy = 1;"), [7, "y"]);
  assert.deepEqual(spliceDelta(3, 2, "ab"), [3, "ab", -2]);
  assert.deepEqual(spliceDelta(0, 0, ""), []);
});

test("concurrent inserts at one place: the first applied goes first in every copy", () => {
  const a: TextDelta = [2, "A"];
  const b: TextDelta = [2, "B"];
  assert.equal(applyDelta(applyDelta("xxyy", a), transformDelta(a, b, true)), "xxAByy");
  assert.equal(applyDelta(applyDelta("xxyy", b), transformDelta(b, a, false)), "xxAByy");
  // typing inside a range someone else deleted survives
  const del: TextDelta = [1, -4];
  const ins: TextDelta = [3, "new"];
  assert.equal(applyDelta(applyDelta("abcdef", del), transformDelta(del, ins, true)), "anewf");
});

test("cursor offsets move with the text", () => {
  assert.equal(transformOffset(5, [2, "abc"]), 8);
  assert.equal(transformOffset(2, [2, "abc"]), 5);
  assert.equal(transformOffset(2, [2, "abc"], true), 2);
  assert.equal(transformOffset(5, [1, -3]), 2);
  assert.equal(transformOffset(2, [1, -3]), 1);
  assert.equal(transformOffset(1, [5, "x"]), 1);
});

test("validation refuses what cannot be a delta", () => {
  assert.equal(deltaProblem([3, "a", -1], 4), null);
  assert.match(deltaProblem([3, 0])!, /non-zero/);
  assert.match(deltaProblem([""])!, /empty/);
  assert.match(deltaProblem([5], 4)!, /spans 5/);
  assert.match(deltaProblem({})!, /array/);
  assert.match(deltaProblem([1.5])!, /non-zero integers/);
});
