import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  appendTerminal,
  appendTerminalText,
  collapseCarriageReturns,
  collapseWithRanges,
  outputLimitOf,
  outputLimitProblem,
  stderrRanges,
  terminalChunks,
  terminalText,
  type Output,
  type TerminalOutput,
} from "../../core/outputs.ts";

const only = (outs: Output[]): TerminalOutput => {
  assert.equal(outs.length, 1);
  assert.equal(outs[0]!.type, "terminal");
  return outs[0] as TerminalOutput;
};

test("a progress line rewritten with \\r collapses to its last state", () => {
  assert.equal(collapseCarriageReturns("10%\r50%\r100%\ndone\n"), "100%\ndone\n");
  assert.equal(collapseCarriageReturns("a\r\nb\n"), "a\nb\n");
  assert.equal(collapseCarriageReturns("a\rb\r"), "b\r");
  assert.equal(collapseCarriageReturns("\r10%\r20%"), "20%");
});

describe("stdout and stderr in one stream", () => {
  test("interleaved writes are one output in write order, stderr's text marked", () => {
    let outs = appendTerminalText([], "stdout", "step 1\r");
    outs = appendTerminalText(outs, "stdout", "step 2\r");
    outs = appendTerminalText(outs, "stderr", "oops\n");
    outs = appendTerminalText(outs, "stdout", "out\n");
    outs = appendTerminalText(outs, "stderr", "err 1\n");
    outs = appendTerminalText(outs, "stderr", "err 2\n");
    const o = only(outs);
    // "oops\n" replaced the progress line: the \r rewrite crosses the streams, as in a terminal.
    assert.equal(o.text, "oops\nout\nerr 1\nerr 2\n");
    assert.deepEqual(o.stderr, [0, 5, 9, 21]);
    assert.deepEqual(terminalChunks(o), [
      { stream: "stderr", text: "oops\n" },
      { stream: "stdout", text: "out\n" },
      { stream: "stderr", text: "err 1\nerr 2\n" },
    ]);
  });

  test("text of one stream stays in the simple form (no ranges)", () => {
    const err = only(appendTerminalText(appendTerminalText([], "stderr", "a\n"), "stderr", "b\n"));
    assert.deepEqual(err, { type: "terminal", stream: "stderr", text: "a\nb\n" });
    const out = only(appendTerminalText(appendTerminalText([], "stdout", "a\n"), "stdout", "b\n"));
    assert.deepEqual(out, { type: "terminal", stream: "stdout", text: "a\nb\n" });
  });

  test("a merged chunk from the kernel (with its own ranges) appends with its ranges shifted", () => {
    const first = appendTerminalText([], "stderr", "e\n");
    const o = only(
      appendTerminal(first, { type: "terminal", stream: "stdout", text: "o\nE\n", stderr: [2, 4] }),
    );
    assert.equal(o.text, "e\no\nE\n");
    assert.deepEqual(o.stderr, [0, 2, 4, 6]);
  });

  test("another output in between starts a new console output", () => {
    let outs = appendTerminalText([], "stdout", "a\n");
    outs = [...outs, { type: "markdown", text: "m" }];
    outs = appendTerminalText(outs, "stderr", "b\n");
    assert.deepEqual(
      outs.map((o) => o.type),
      ["terminal", "markdown", "terminal"],
    );
  });

  test("collapsing \\r keeps stderr's ranges on the text that survives (property)", () => {
    // Model: a terminal's screen of (char, stream) cells; the collapsed text and ranges must say
    // the same as collapsing the characters tagged with their stream.
    const piece = fc.record({
      stream: fc.constantFrom("stdout" as const, "stderr" as const),
      text: fc.stringMatching(/^[ab\r\n]{0,8}$/),
    });
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        let outs: Output[] = [];
        let tagged = "";
        let tags = "";
        for (const p of pieces) {
          outs = appendTerminalText(outs, p.stream, p.text);
          tagged += p.text;
          tags += (p.stream === "stderr" ? "E" : "O").repeat(p.text.length);
        }
        if (outs.length === 0) return;
        const o = only(outs);
        const expected = collapseCarriageReturns(tagged);
        assert.equal(o.text, expected);
        // Which characters are stderr: map through the same collapse with one range per char.
        const ranges: number[] = [];
        for (let i = 0; i < tags.length; i++) if (tags[i] === "E") ranges.push(i, i + 1);
        const merged: number[] = [];
        for (let i = 0; i < ranges.length; i += 2) {
          if (merged.length && merged[merged.length - 1] === ranges[i])
            merged[merged.length - 1] = ranges[i + 1]!;
          else merged.push(ranges[i]!, ranges[i + 1]!);
        }
        const want = collapseWithRanges(tagged, merged);
        assert.deepEqual([...stderrRanges(o)], want.ranges);
      }),
      { numRuns: 500 },
    );
  });
});

describe("the output limit", () => {
  test("beyond the limit the oldest whole lines are dropped and counted", () => {
    const line = (i: number) => `line ${String(i).padStart(5, "0")}\n`; // 11 chars
    let outs: Output[] = [];
    for (let i = 0; i < 3000; i++) outs = appendTerminalText(outs, "stdout", line(i), 10_000);
    const o = only(outs);
    assert.ok(o.text.length <= 10_000);
    assert.ok(o.text.startsWith("line "), o.text.slice(0, 20));
    assert.ok(o.text.endsWith(line(2999)));
    assert.equal(o.dropped?.limit, 10_000);
    assert.equal(o.dropped!.chars + o.text.length, 3000 * 11);
    assert.match(
      terminalText(o),
      /^… [\d,]+ earlier characters dropped \(this notebook keeps 10,000 characters of console text per cell: Output limit in the notebook's settings\)\nline /,
    );
  });

  test("stderr's ranges move with the dropped text", () => {
    let outs: Output[] = [];
    for (let i = 0; i < 2000; i++)
      outs = appendTerminalText(
        outs,
        i % 2 ? "stderr" : "stdout",
        `${i % 2 ? "E" : "o"}${i}\n`,
        10_000,
      );
    const o = only(outs);
    for (const c of terminalChunks(o))
      for (const l of c.text.split("\n").filter(Boolean))
        assert.equal(l[0], c.stream === "stderr" ? "E" : "o", l);
  });

  test("the limit counts a cell's console text over all its outputs; other outputs stay", () => {
    const line = (i: number) => `line ${String(i).padStart(5, "0")}\n`; // 11 chars
    let outs: Output[] = [];
    let written = 0;
    for (let round = 0; round < 40; round++) {
      // 100 lines of console text (1,100 characters), then a display.
      for (let i = 0; i < 100; i++) {
        outs = appendTerminalText(outs, "stdout", line(round * 100 + i), 10_000);
        written += 11;
      }
      outs = [...outs, { type: "markdown", text: `table ${round}` }];
    }
    const terminals = outs.filter((o): o is TerminalOutput => o.type === "terminal");
    const kept = terminals.reduce((n, o) => n + o.text.length, 0);
    assert.ok(kept <= 10_000, String(kept));
    assert.ok(kept > 10_000 - 11, String(kept)); // only whole lines over the limit went
    // Every display is still there, in order.
    assert.deepEqual(
      outs.filter((o) => o.type === "markdown").map((o) => (o as { text: string }).text),
      Array.from({ length: 40 }, (_, i) => `table ${i}`),
    );
    // The newest text is kept; runs emptied entirely were removed, the first kept starts at a line.
    assert.ok(terminals.at(-1)!.text.endsWith(line(3999)));
    assert.equal(terminals.length, Math.ceil(kept / 1100));
    assert.match(terminals[0]!.text, /^line \d{5}\n/);
    // One marker, on the cell's first console text, counting everything the cell dropped.
    assert.deepEqual(
      terminals.map((o) => o.dropped !== undefined),
      terminals.map((_, i) => i === 0),
    );
    const d = terminals[0]!.dropped!;
    assert.equal(d.chars + (d.earlier ?? 0) + kept, written);
    assert.ok((d.earlier ?? 0) > 0);
    assert.match(
      terminalText(terminals[0]!),
      new RegExp(
        `^… ${(written - kept).toLocaleString("en")} earlier characters dropped \\(this notebook keeps 10,000 characters of console text per cell: Output limit in the notebook's settings\\)\nline `,
      ),
    );
    // The displays before the first console text kept come before its marker.
    const firstKept = outs.indexOf(terminals[0]!);
    assert.ok(outs.slice(0, firstKept).every((o) => o.type === "markdown"));
  });

  test("a new console run after a display trims the earlier run, not itself (property)", () => {
    // Model: every console run kept whole (no limit). With a limit, the cell's terminal outputs
    // are the model's last runs, the first of them maybe without its first lines, stderr's text
    // where it was, and what was dropped counted on the first one kept.
    const step = fc.oneof(
      fc.record({
        stream: fc.constantFrom("stdout" as const, "stderr" as const),
        text: fc.stringMatching(/^[ab\n]{1,30}$/),
      }),
      fc.constant(null), // a display
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 20, max: 80 }),
        (steps, limit) => {
          let outs: Output[] = [];
          let model: Output[] = [];
          for (const [n, s] of steps.entries()) {
            if (s === null) {
              const display: Output = { type: "markdown", text: String(n) };
              outs = [...outs, display];
              model = [...model, display];
            } else {
              outs = appendTerminalText(outs, s.stream, s.text, limit);
              model = appendTerminalText(model, s.stream, s.text, Infinity);
            }
          }
          const tags = (o: TerminalOutput) => {
            const t = Array.from(o.text, () => "O");
            const r = stderrRanges(o);
            for (let i = 0; i < r.length; i += 2)
              for (let k = r[i]!; k < r[i + 1]!; k++) t[k] = "E";
            return t.join("");
          };
          // Displays are never dropped.
          assert.deepEqual(
            outs.filter((o) => o.type !== "terminal"),
            model.filter((o) => o.type !== "terminal"),
          );
          const got = outs.filter((o): o is TerminalOutput => o.type === "terminal");
          const all = model.filter((o): o is TerminalOutput => o.type === "terminal");
          const kept = got.reduce((n, o) => n + o.text.length, 0);
          const total = all.reduce((n, o) => n + o.text.length, 0);
          assert.ok(kept <= limit, `${kept} > ${limit}`);
          const skip = all.length - got.length;
          for (const [i, o] of got.entries()) {
            const m = all[skip + i]!;
            if (i > 0) assert.deepEqual(o, m);
            else {
              assert.ok(m.text.endsWith(o.text));
              assert.equal(tags(m).slice(m.text.length - o.text.length), tags(o));
            }
          }
          const d = got[0]?.dropped;
          assert.equal((d?.chars ?? 0) + (d?.earlier ?? 0), total - kept);
          assert.ok(got.slice(1).every((o) => o.dropped === undefined));
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("a stream beside a thousand displays appends in bounded time", () => {
    let outs: Output[] = [];
    for (let i = 0; i < 999; i++) {
      outs = appendTerminalText(outs, "stdout", "x".repeat(99) + "\n", 10_000);
      outs = [...outs, { type: "markdown", text: String(i) }];
    }
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++)
      outs = appendTerminalText(outs, "stdout", `line ${i}\n`, 10_000);
    const ms = performance.now() - t0;
    assert.equal(outs.filter((o) => o.type === "markdown").length, 999);
    const last = outs.at(-1)!;
    assert.ok(last.type === "terminal" && last.text.endsWith("line 19999\n"));
    assert.ok(ms < 3000, `${ms.toFixed(0)} ms for 20,000 appends`);
  });

  test("limits are checked: whole numbers in the allowed range", () => {
    assert.equal(outputLimitProblem(2_000_000), null);
    assert.match(outputLimitProblem(5) ?? "", /between 10,000 and 50,000,000 characters, not 5/);
    assert.match(outputLimitProblem(1.5e4 + 0.5) ?? "", /whole number/);
    assert.match(outputLimitProblem("1000000") ?? "", /whole number of characters, not "1000000"/);
    assert.equal(outputLimitOf({ outputLimit: 20_000 }), 20_000);
    assert.equal(outputLimitOf({ outputLimit: -1 }), 1_000_000);
    assert.equal(outputLimitOf({}), 1_000_000);
  });

  test("a progress line under a million characters re-collapses only its own line", () => {
    let outs = appendTerminalText([], "stdout", "x".repeat(79) + "\n", 2_000_000);
    for (let i = 0; i < 12; i++) outs = appendTerminal(outs, only(outs), 2_000_000); // 4096 lines
    outs = appendTerminalText(outs, "stderr", "warn\n", 2_000_000);
    const base = only(outs).text.length;
    const t0 = performance.now();
    for (let i = 0; i <= 1000; i++)
      outs = appendTerminalText(outs, "stdout", `\rstep ${i}`, 2_000_000);
    const ms = performance.now() - t0;
    const o = only(outs);
    assert.equal(o.text.length, base + "step 1000".length);
    assert.ok(o.text.endsWith("warn\nstep 1000"));
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms for 1000 progress updates`);
  });
});
