// A real Jupyter Server (Debian's python3-jupyter-server) on loopback with the tsnb kernelspec
// installed in a temporary prefix, for the tests of remote runtimes (runtime.test.ts, the page's
// runtime picker in test/e2e/runtime.test.ts).
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

/** `tsnb kernelspec install --prefix` into a fresh temp folder; Jupyter's env pointing there. */
export function installKernelspec(prefix: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const r = spawnSync(
    process.execPath,
    [join(root, "bin", "tsnb.js"), "kernelspec", "install", "--prefix", dir],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const env = {
    ...process.env,
    JUPYTER_PATH: join(dir, "share", "jupyter"),
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    JUPYTER_DATA_DIR: join(dir, "data"),
    JUPYTER_CONFIG_DIR: join(dir, "config"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  return { dir, env };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Server {
  proc: ChildProcess;
  port: number;
  url: string;
  log: () => string;
}

/** Start `jupyter server` with that token on a free loopback port; resolves once it answers. */
export async function startJupyterServer(
  env: NodeJS.ProcessEnv,
  dir: string,
  TOKEN: string,
): Promise<Server> {
  const port = await freePort();
  const work = mkdtempSync(join(dir, "root-"));
  let log = "";
  const proc = spawn(
    "/usr/bin/python3",
    [
      "-m",
      "jupyter_server",
      "--no-browser",
      `--port=${port}`,
      "--ip=127.0.0.1",
      `--ServerApp.token=${TOKEN}`,
      `--ServerApp.root_dir=${work}`,
      "--ServerApp.port_retries=0",
      "--allow-root",
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  proc.stdout!.on("data", (d) => (log += d));
  proc.stderr!.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(`${url}api/status`, { headers: { Authorization: `token ${TOKEN}` } });
      if (r.ok) return { proc, port, url, log: () => log };
    } catch {
      // not up yet
    }
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  proc.kill("SIGKILL");
  throw new Error(`jupyter server did not start:\n${log}`);
}
