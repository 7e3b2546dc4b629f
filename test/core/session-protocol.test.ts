import { test } from "node:test";
import assert from "node:assert/strict";
import { parseClientMessage, APP_PROTOCOL_VERSION } from "../../core/app-protocol.ts";

test("well-formed client messages parse", () => {
  const hello = parseClientMessage(
    JSON.stringify({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION }),
  );
  assert.equal(hello.ok, true);
  const page = parseClientMessage(
    JSON.stringify({
      type: "table-page",
      sessionId: "s",
      tableId: "t",
      offset: 0,
      limit: 50,
      requestId: "r1",
    }),
  );
  assert.equal(page.ok, true);
});

test("malformed client messages are refused with a reason naming the field", () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ type: "hello" }, /protocolVersion/],
    [{ type: "apply", sessionId: "s", op: "x" }, /op must be an object/],
    [{ type: "open-file" }, /path/],
    [{ type: "save-as", sessionId: "s", path: "a.tsnb", overwrite: "yes" }, /overwrite/],
    [{ type: "resolve-conflict", sessionId: "s", choice: "maybe" }, /choice/],
    [{ type: "table-page", sessionId: "s", tableId: "t", offset: -1, limit: 5 }, /offset/],
    [{ type: "bogus" }, /unknown message type/],
    [{ type: "join", sessionId: "s", requestId: 5 }, /requestId/],
    [[1, 2], /object/],
  ];
  for (const [msg, re] of cases) {
    const r = parseClientMessage(JSON.stringify(msg));
    assert.equal(r.ok, false, JSON.stringify(msg));
    assert.match(r.ok ? "" : r.error, re);
  }
  assert.equal(parseClientMessage("{not json").ok, false);
});
