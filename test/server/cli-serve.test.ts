import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { parseServeArgs } from "../../cli/serve.ts";
import { APP_PROTOCOL_VERSION, type ServerMessage } from "../../core/app-protocol.ts";
import { tempDir } from "./helpers.ts";

const repo = join(fileURLToPath(import.meta.url), "../../..");

test("serve arguments: folder, --port, --host, --no-open; mistakes are explained", () => {
  assert.deepEqual(parseServeArgs(["nb", "--port", "9000", "--no-open"]), {
    dir: "nb",
    port: 9000,
    host: "127.0.0.1",
    open: false,
  });
  assert.deepEqual(parseServeArgs(["--port=0", "--host=localhost"]), {
    dir: process.cwd(),
    port: 0,
    host: "localhost",
    open: true,
  });
  assert.match(String(parseServeArgs(["--port", "abc"])), /--port must be a port number/);
  assert.match(String(parseServeArgs(["--port"])), /needs a value/);
  assert.match(String(parseServeArgs(["--bogus"])), /unknown option/);
  assert.match(String(parseServeArgs(["a", "b"])), /only one folder/);
  // npm packages allowed to run install scripts (kernel/npm.ts reads them from the environment).
  const allowed = parseServeArgs(["--allow-scripts", "bufferutil", "--allow-scripts=esbuild"]);
  assert.equal(typeof allowed === "object" && allowed.allowScripts, "bufferutil,esbuild");
  assert.match(String(parseServeArgs(["--allow-scripts="])), /takes package names/);
});

test("tsnb serve prints the URL with its token on a line of its own, serves it, and Ctrl+C flushes the pending autosave", async () => {
  const t = await tempDir();
  try {
    const root = join(t.dir, "nbs");
    await mkdir(root);
    await writeFile(join(root, "a.tsnb"), "# Before\n\n```ts\n1\n```\n");
    const child = spawn(
      process.execPath,
      [join(repo, "bin/tsnb.js"), "serve", root, "--no-open", "--port", "0"],
      {
        env: { ...process.env, TSNB_DATA_DIR: join(t.dir, "data") },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    for (let i = 0; i < 200 && !/token=/.test(out); i++)
      await new Promise((r) => setTimeout(r, 50));
    const line = out.split("\n").find((l) => l.includes("token="));
    assert.ok(line, `no URL printed: ${out} ${err}`);
    const url = new URL(line);
    assert.equal(line, url.href, "the URL stands alone on its line");
    assert.equal(url.hostname, "127.0.0.1");

    const status = await new Promise<number>((resolve, reject) =>
      request(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on("error", reject)
        .end(),
    );
    assert.equal(status, 302);

    // Change the notebook, then stop the server before the 2 s autosave fires.
    const ws = new WebSocket(
      `ws://127.0.0.1:${url.port}/ws?token=${url.searchParams.get("token")}`,
    );
    const msgs: ServerMessage[] = [];
    ws.on("message", (d) => msgs.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once("open", r));
    const wait = async (pred: (m: ServerMessage) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const m = msgs.find(pred);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error("timed out: " + JSON.stringify(msgs.map((m) => m.type)));
    };
    ws.send(JSON.stringify({ type: "hello", protocolVersion: APP_PROTOCOL_VERSION }));
    ws.send(JSON.stringify({ type: "open-file", path: "a.tsnb" }));
    const joined = (await wait((m) => m.type === "joined")) as Extract<
      ServerMessage,
      { type: "joined" }
    >;
    ws.send(
      JSON.stringify({
        type: "apply",
        sessionId: joined.sessionId,
        op: { type: "set-title", title: "After" },
      }),
    );
    await wait((m) => m.type === "applied");
    child.kill("SIGINT");
    assert.equal(await exited, 0, err);
    assert.match(await readFile(join(root, "a.tsnb"), "utf8"), /^# After$/m);
    ws.terminate();
  } finally {
    await t.cleanup();
  }
});
