// The CSP meta tag of the app's page is the policy wherever the page is loaded without the
// server's header (the renderer tests' stand-in server): it must be no looser than the header.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { contentSecurityPolicy } from "../../server/security.ts";

function directives(policy: string): Map<string, string> {
  return new Map(
    policy
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((p) => p[0])
      .map((p) => [p[0]!, p.slice(1).join(" ")]),
  );
}

test("index.html's CSP meta tag allows no more sources than the server's CSP header", () => {
  const html = readFileSync(new URL("../../renderer/index.html", import.meta.url), "utf8");
  const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  assert.ok(meta, "index.html has a CSP meta tag");
  const fromMeta = directives(meta);
  const fromHeader = directives(contentSecurityPolicy());
  for (const name of [
    "default-src",
    "script-src",
    "connect-src",
    "frame-src",
    "object-src",
    "base-uri",
  ]) {
    assert.equal(fromMeta.get(name), fromHeader.get(name), `${name} of the meta tag`);
  }
  assert.doesNotMatch(meta, /unsafe-eval|unsafe-inline'[^;]*script|\bws:|\bwss:|\*/);
});
