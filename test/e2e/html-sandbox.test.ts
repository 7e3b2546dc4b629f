// End-to-end: HTML outputs run their scripts in Chromium, inside the server's sandbox page (an
// opaque origin with its own CSP), and nothing in them reaches the app: not the parent's DOM,
// not the cookie, not the server's API or WebSocket, not the top window's location.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  cell,
  notebookText,
  openFromBrowser,
  skipReason,
  startHarness,
  type Harness,
} from "./harness.ts";

const skip = skipReason();
if (skip) console.log(`# ${skip}`);

/** What the HTML output's script tries; each attempt writes its result into the output's own DOM. */
function probeHtml(appOrigin: string): string {
  return `<p id="static">static part</p>
<ul id="results"></ul>
<script>
  const say = (id, text) => {
    const li = document.createElement("li");
    li.id = id;
    li.textContent = text;
    document.getElementById("results").append(li);
  };
  document.getElementById("static").textContent = "the output's script ran";
  try { say("parent", "parent readable: " + parent.document.title); } catch (e) { say("parent", "parent blocked"); }
  try { say("cookie", "cookie readable: [" + document.cookie + "]"); } catch (e) { say("cookie", "cookie blocked"); }
  try { say("storage", "storage readable: " + localStorage.length); } catch (e) { say("storage", "storage blocked"); }
  fetch(${JSON.stringify(appOrigin + "api/health")}, { credentials: "include" })
    .then((r) => r.text().then((t) => say("api", "api readable: " + r.status + " " + t)))
    .catch(() => say("api", "api blocked"));
  fetch(${JSON.stringify(appOrigin + "api/health")}, { mode: "no-cors", credentials: "include" })
    .then((r) => say("no-cors", "no-cors " + r.type + " " + r.status))
    .catch(() => say("no-cors", "no-cors blocked"));
  try {
    const ws = new WebSocket(${JSON.stringify(appOrigin.replace(/^http/, "ws") + "ws")});
    ws.onopen = () => say("ws", "ws open");
    ws.onerror = () => say("ws", "ws blocked");
  } catch (e) { say("ws", "ws blocked"); }
  try { top.location.href = ${JSON.stringify(appOrigin + "navigated-by-output")}; say("top", "top navigation attempted"); } catch (e) { say("top", "top blocked"); }
  try { const w = window.open(${JSON.stringify(appOrigin)}); say("popup", w ? "popup opened" : "popup blocked"); } catch (e) { say("popup", "popup blocked"); }
</script>`;
}

describe("HTML outputs in Chromium", { skip: skip ?? false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  test("an HTML output's script runs in its sandboxed frame and cannot reach the app", async () => {
    const code = `import { html } from "tsnb";\nhtml(${JSON.stringify(probeHtml(h.server.baseUrl))})`;
    await h.writeNotebook("html.tsnb", notebookText("HTML", [code]));
    const { page, context, errors } = await h.newPage();
    const appUrl = page.url();
    await openFromBrowser(page, "html.tsnb");
    const urlBefore = page.url();
    await cell(page, 0).getByRole("button", { name: "Run cell" }).click();
    const frame = page.frameLocator("iframe.output-html");
    await frame.getByText("the output's script ran").waitFor({ timeout: 20_000 });
    const result = async (id: string) => {
      const li = frame.locator(`#${id}`);
      await li.waitFor({ timeout: 10_000 });
      return (await li.textContent()) ?? "";
    };
    assert.equal(await result("parent"), "parent blocked");
    assert.equal(await result("cookie"), "cookie blocked");
    assert.equal(await result("storage"), "storage blocked");
    assert.equal(await result("api"), "api blocked", "a CORS read of the server's API is refused");
    // A no-cors request gets an opaque answer (nothing readable) — and the server refuses the cookie on it.
    assert.match(await result("no-cors"), /^no-cors (opaque 0|blocked)$/);
    assert.equal(await result("ws"), "ws blocked");
    assert.equal(await result("popup"), "popup blocked");
    await result("top");
    await page.waitForTimeout(300);
    assert.equal(page.url(), urlBefore, "the top window did not navigate");
    assert.ok(appUrl.startsWith(h.server.baseUrl));
    assert.equal(context.pages().length, 1, "no popup window");
    // The frame is the server's sandbox page, an opaque origin.
    const origin = await page.locator("iframe.output-html").evaluate((f: HTMLIFrameElement) => {
      try {
        return f.contentWindow!.location.href;
      } catch {
        return "opaque";
      }
    });
    assert.equal(origin, "opaque");
    assert.equal(await page.locator("iframe.output-html").getAttribute("sandbox"), "allow-scripts");
    // The app is unharmed: its own requests still work and nothing threw in the page.
    assert.equal(await page.evaluate(() => document.title.length > 0), true);
    // The frame is sized to its content by the page's height message.
    await page.waitForFunction(() =>
      (
        document.querySelector("iframe.output-html") as HTMLIFrameElement | null
      )?.style.height.endsWith("px"),
    );
    // Reloading the app (a same-origin navigation with the cookie) shows the output again, scripts run again.
    await page.reload();
    await page
      .frameLocator("iframe.output-html")
      .getByText("the output's script ran")
      .waitFor({ timeout: 20_000 });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("the sandbox page is sandboxed by its own header too (opened directly, it still has an opaque origin)", async () => {
    const { page } = await h.newPage();
    const res = await page.goto(new URL("sandbox/html-output", h.server.baseUrl).href);
    assert.equal(res?.status(), 200);
    const csp = res?.headers()["content-security-policy"] ?? "";
    assert.match(csp, /sandbox allow-scripts(;|$)/);
    assert.doesNotMatch(csp, /allow-same-origin|allow-top-navigation|allow-popups/);
    assert.equal(res?.headers()["set-cookie"], undefined);
    assert.equal(await page.evaluate(() => origin), "null");
    await page.close();
  });
});
