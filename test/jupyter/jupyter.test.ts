// The tsnb kernel behind Jupyter's protocol, driven by Jupyter's own tools: the kernelspec that
// `tsnb kernelspec install` writes, jupyter_client (client_check.py), `jupyter nbconvert
// --execute` on a notebook written for another TypeScript kernel (tslab), and a raw ZeroMQ
// client that sends a message signed with the wrong key.
// Needs Debian's python3-jupyter-client, jupyter-client and jupyter-nbconvert (.ci/run installs them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { Wire } from "../../kernel/jupyter-wire.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const PY = "/usr/bin/python3";
let dir: string;
let env: NodeJS.ProcessEnv;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "tsnb-jupyter-"));
  const r = spawnSync(
    process.execPath,
    [join(root, "bin", "tsnb.js"), "kernelspec", "install", "--prefix", dir],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  env = {
    ...process.env,
    JUPYTER_PATH: join(dir, "share", "jupyter"),
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    JUPYTER_DATA_DIR: join(dir, "data"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("jupyter kernelspec list shows the installed tsnb kernel", () => {
  const r = spawnSync("jupyter", ["kernelspec", "list", "--json"], { env, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const spec = JSON.parse(r.stdout).kernelspecs.tsnb;
  assert.ok(spec, r.stdout);
  assert.equal(spec.spec.language, "typescript");
  assert.equal(spec.spec.display_name, "TypeScript (tsnb)");
});

test("jupyter_client: execute, state, rich output, errors, complete, inspect, interrupt, restart", () => {
  const work = mkdtempSync(join(dir, "client-"));
  const r = spawnSync(PY, [join(root, "test", "jupyter", "client_check.py")], {
    cwd: work,
    env,
    encoding: "utf8",
    timeout: 300_000,
  });
  const failed = r.stdout.split("\n").filter((l) => l.startsWith("FAIL"));
  assert.deepEqual(failed, [], r.stdout + r.stderr);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // Every check ran (a crash part way would leave some out).
  assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("ok ")).length, 16, r.stdout);
});

function nbconvert(file: string): { cells: { outputs: Record<string, unknown>[] }[] } {
  const work = mkdtempSync(join(dir, "nb-"));
  copyFileSync(join(root, "test", "fixtures", "jupyter", file), join(work, file));
  const r = spawnSync(
    "jupyter",
    [
      "nbconvert",
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=tsnb",
      "--output",
      "out.ipynb",
      file,
    ],
    { cwd: work, env, encoding: "utf8", timeout: 300_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(readFileSync(join(work, "out.ipynb"), "utf8"));
}

test("nbconvert --execute runs a notebook written for tslab on the tsnb kernel", () => {
  const nb = nbconvert("tslab-naive_fib.ipynb");
  const out = nb.cells[0]!.outputs;
  assert.equal(out[0]!["output_type"], "stream");
  const text = ([] as string[]).concat(out[0]!["text"] as string[]).join("");
  assert.match(text, /^naiveFib\(33\) = 5702887\nTook: \d+ms\n$/);
});

test("nbconvert stores tsnb's outputs as Jupyter mime bundles", () => {
  const nb = nbconvert("rich.ipynb");
  const out = nb.cells[1]!.outputs;
  const types = out.map((o) => o["output_type"]);
  assert.deepEqual(types, ["stream", "display_data", "display_data", "execute_result"]);
  const data = (i: number) => out[i]!["data"] as Record<string, unknown>;
  assert.deepEqual(data(1)["text/markdown"], ["**bold** text"]);
  const chart = data(2)["application/vnd.vegalite.v5+json"] as { mark: string };
  assert.equal(chart.mark, "line");
  assert.match(([] as string[]).concat(data(3)["text/html"] as string[]).join(""), /<th>a<\/th>/);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test("a message signed with another key is dropped; a signed one is answered", async () => {
  const ports = await Promise.all([1, 2, 3, 4, 5].map(freePort));
  const info = {
    transport: "tcp",
    ip: "127.0.0.1",
    shell_port: ports[0],
    iopub_port: ports[1],
    stdin_port: ports[2],
    control_port: ports[3],
    hb_port: ports[4],
    key: "a-secret-key",
    signature_scheme: "hmac-sha256",
  };
  const work = mkdtempSync(join(dir, "raw-"));
  const conn = join(work, "conn.json");
  writeFileSync(conn, JSON.stringify(info));
  const child = spawn(
    process.execPath,
    [join(root, "bin", "tsnb.js"), "kernel", "--jupyter", conn],
    {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const shell = new zmq.Dealer({ linger: 0, receiveTimeout: 60_000 });
  shell.connect(`tcp://127.0.0.1:${info.shell_port}`);
  try {
    const marker = join(work, "pwned");
    const code = `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x")`;
    const forged = new Wire({ key: "not-the-key", signature_scheme: "hmac-sha256" });
    const parent = null;
    // The kernel binds its sockets once it has started (slow on a loaded machine): until then a
    // send finds no peer (EAGAIN); retry for up to a minute.
    for (let tries = 0; ; tries++) {
      try {
        await shell.send(forged.frames("execute_request", { code, silent: false }, parent));
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== "EAGAIN" || tries > 600) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const good = new Wire(info);
    await shell.send(good.frames("kernel_info_request", {}, parent));
    const [reply] = [good.parse((await shell.receive()) as Buffer[])];
    assert.equal(reply!.header.msg_type, "kernel_info_reply");
    assert.equal(existsSync(marker), false, "the forged execute_request ran");
    for (let i = 0; i < 100 && !/signature does not match/.test(stderr); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /signature does not match/);
    // Malformed frames are dropped too, and the kernel still answers.
    await shell.send([Buffer.from("<IDS|MSG>"), Buffer.from("zz"), Buffer.from("{")]);
    await shell.send(good.frames("kernel_info_request", {}, parent));
    const again = good.parse((await shell.receive()) as Buffer[]);
    assert.equal(again.header.msg_type, "kernel_info_reply");
    await shell.send(good.frames("shutdown_request", { restart: false }, parent));
    const bye = good.parse((await shell.receive()) as Buffer[]);
    assert.equal(bye.header.msg_type, "shutdown_reply");
    const code2 = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    assert.equal(code2, 0, stderr);
  } finally {
    shell.close();
    child.kill("SIGKILL");
  }
});

test("a connection file with a bad field is refused with a message naming it", () => {
  const work = mkdtempSync(join(dir, "bad-"));
  const conn = join(work, "conn.json");
  writeFileSync(conn, JSON.stringify({ ip: "127.0.0.1", shell_port: "x", key: "" }));
  const r = spawnSync(
    process.execPath,
    [join(root, "bin", "tsnb.js"), "kernel", "--jupyter", conn],
    {
      encoding: "utf8",
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /shell_port must be a port number/);
});
