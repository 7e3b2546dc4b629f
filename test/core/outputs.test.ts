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
