import { test } from "node:test";
import assert from "node:assert/strict";
import { appendTerminalText, collapseCarriageReturns } from "../../core/outputs.ts";

test("a progress line rewritten with \\r collapses to its last state", () => {
  assert.equal(collapseCarriageReturns("10%\r50%\r100%\ndone\n"), "100%\ndone\n");
  assert.equal(collapseCarriageReturns("a\r\nb\n"), "a\nb\n");
});

test("consecutive chunks of one stream merge; another stream starts a new output", () => {
  let outs = appendTerminalText([], "stdout", "step 1\r");
  outs = appendTerminalText(outs, "stdout", "step 2\r");
  outs = appendTerminalText(outs, "stderr", "oops\n");
  assert.equal(outs.length, 2);
  assert.deepEqual(outs[0], { type: "terminal", stream: "stdout", text: "step 2\r" });
  assert.deepEqual(outs[1], { type: "terminal", stream: "stderr", text: "oops\n" });
});
