import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError, parseKernelEvent, parseKernelRequest } from "../../core/kernel-protocol.ts";

test("well-formed requests and events parse", () => {
  assert.deepEqual(
    parseKernelRequest('{"type":"evaluate","evalId":"e1","cellId":"c1","code":"1","line":3}'),
    {
      type: "evaluate",
      evalId: "e1",
      cellId: "c1",
      code: "1",
      line: 3,
    },
  );
  assert.equal(parseKernelRequest('{"type":"shutdown"}').type, "shutdown");
  const fin = parseKernelEvent(
    JSON.stringify({
      type: "evaluation-finished",
      evalId: "e",
      cellId: "c",
      status: "ok",
      result: { type: "markdown", text: "x" },
      defines: ["a"],
      uses: [],
      inputs: ["input-1"],
      durationMs: 1,
    }),
  );
  assert.equal(fin.type, "evaluation-finished");
  assert.deepEqual(parseKernelRequest('{"type":"set-input","inputId":"i","value":null}'), {
    type: "set-input",
    inputId: "i",
    value: null,
  });
  assert.equal(
    parseKernelRequest(
      '{"type":"control-event","controlId":"c","event":{"type":"click"},"origin":"w"}',
    ).type,
    "control-event",
  );
  const input = parseKernelEvent(
    JSON.stringify({
      type: "output",
      evalId: "e",
      cellId: "c",
      output: {
        type: "layout",
        layout: "grid",
        columns: 2,
        items: [
          {
            outputs: [
              {
                type: "input",
                id: "i",
                input: { kind: "checkbox", label: "On", default: false },
                value: true,
              },
            ],
          },
        ],
      },
    }),
  );
  assert.equal(input.type, "output");
});

test("malformed messages are rejected with a message naming the problem", () => {
  const bad: Array<[() => unknown, RegExp]> = [
    [() => parseKernelRequest("not json"), /not JSON/],
    [() => parseKernelRequest("[1]"), /expected an object/],
    [
      () => parseKernelRequest('{"type":"evaluate","evalId":"e","cellId":"c"}'),
      /'code' must be a string/,
    ],
    [
      () =>
        parseKernelRequest('{"type":"evaluate","evalId":"e","cellId":"c","code":"","line":"3"}'),
      /'line' must be a finite number/,
    ],
    [() => parseKernelRequest('{"type":"launch"}'), /unknown request type "launch"/],
    [
      () => parseKernelEvent('{"type":"hello","protocolVersion":"1","pid":1,"node":"v20"}'),
      /protocolVersion/,
    ],
    [
      () =>
        parseKernelEvent(
          '{"type":"output","evalId":"e","cellId":"c","output":{"type":"terminal","stream":"stdin","text":"x"}}',
        ),
      /stream/,
    ],
    [
      () =>
        parseKernelEvent(
          '{"type":"output","evalId":"e","cellId":"c","output":{"type":"frame","id":"f","outputs":[{"type":"bogus"}]}}',
        ),
      /outputs\[0\].*bogus/,
    ],
    [
      () =>
        parseKernelEvent(
          '{"type":"evaluation-finished","evalId":"e","cellId":"c","status":"aborted","defines":[],"uses":[],"durationMs":0}',
        ),
      /bad status/,
    ],
    [
      () =>
        parseKernelEvent(
          '{"type":"evaluation-finished","evalId":"e","cellId":"c","status":"ok","defines":[1],"uses":[],"durationMs":0}',
        ),
      /'defines' must be an array of strings/,
    ],
    [() => parseKernelRequest('{"type":"set-input","inputId":"i"}'), /'value' is missing/],
    [
      () =>
        parseKernelEvent(
          '{"type":"output","evalId":"e","cellId":"c","output":{"type":"input","id":"i","input":{"kind":"dial","label":"x"}}}',
        ),
      /unknown kind "dial"/,
    ],
    [
      () =>
        parseKernelEvent(
          '{"type":"output","evalId":"e","cellId":"c","output":{"type":"layout","layout":"grid","items":[{"outputs":[{"type":"bogus"}]}]}}',
        ),
      /items\[0\]\.outputs\[0\].*bogus/,
    ],
  ];
  for (const [fn, re] of bad)
    assert.throws(fn, (err: Error) => err instanceof ProtocolError && re.test(err.message));
});
