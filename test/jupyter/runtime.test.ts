// A notebook on a kernel elsewhere: `tsnb run --runtime URL` and KernelProcess with
// jupyterChild() against a real Jupyter Server (Debian's python3-jupyter-server) started on
// loopback, with the tsnb kernelspec installed in a temporary prefix. The cells must run in the
// server's process tree (not this one), keep state, stream outputs, update charts, take inputs,
// be interrupted with state kept, survive a dropped WebSocket, and fail with clear messages for
// a wrong token, a missing kernelspec and a server that is gone — never printing the token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KernelProcess } from "../../kernel/client.ts";
import { freePort, installKernelspec, startJupyterServer, type Server } from "./jupyter-server.ts";
import { jupyterChild, parseRuntime } from "../../kernel/remote.ts";
import type { KernelEvent } from "../../core/kernel-protocol.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");
const TSNB = join(root, "bin", "tsnb.js");
const TOKEN = "s3cret-token-0123456789abcdef";
let dir: string;
let env: NodeJS.ProcessEnv;

let server: Server;

before(async () => {
  ({ dir, env } = installKernelspec("tsnb-runtime-"));
  server = await startJupyterServer(env, dir, TOKEN);
});

after(() => {
  server?.proc.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

function notebook(name: string, cells: string[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `# ${name}\n\n` + cells.map((c) => "```ts\n" + c + "\n```\n").join("\n"),
    "utf8",
  );
  return file;
}

function tsnbRun(args: string[], timeout = 120_000) {
  return spawnSync(process.execPath, [TSNB, "run", ...args], {
    encoding: "utf8",
    timeout,
    env: { ...process.env, TSNB_RUNTIME_TOKEN: "", JUPYTER_TOKEN: "" },
  });
}

const ANCESTORS = `import { readFileSync } from "node:fs";
const chain: number[] = [];
for (let p = process.pid; p > 1; ) {
  chain.push(p);
  p = Number(readFileSync(\`/proc/\${p}/stat\`, "utf8").split(") ")[1]!.split(" ")[1]);
}
console.log("ancestors", chain.join(" "));`;

test("tsnb run --runtime runs the cells in the Jupyter server's process tree, with state, outputs, charts and inputs", () => {
  const file = notebook("remote.tsnb", [
    ANCESTORS,
    "const a = 20;",
    "a * 2 + 2",
    'import { input, display } from "tsnb";\nconst n = input.number("Count", { default: 3 });\nn.value * a',
    'import { display, md } from "tsnb";\nconst h = display(md`step 0`);\nfor (let i = 1; i <= 2; i++) await h.update(md`step ${i}`);\nconsole.error("to stderr");',
    'import { nn, optim, train } from "tsnb";\nimport * as nx from "tsnb/nx";\nconst model = nn.sequential([nn.dense(4, { activation: "relu" }), nn.dense(1)], { inputShape: [2], seed: 1 });\nconst xs = nx.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);\nconst ys = nx.tensor([[0], [1], [1], [0]]);\nconst trainer = train.trainer(model, { loss: "meanSquaredError", optimizer: optim.adam() });\nawait trainer.fit(xs, ys, { epochs: 3, batchSize: 2 });',
  ]);
  const r = tsnbRun([
    "--runtime",
    `${server.url}lab?token=${TOKEN}`,
    "--input",
    "Count=5",
    "--write",
    file,
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const chain = /ancestors ([\d ]+)/.exec(r.stdout)?.[1]?.split(" ").map(Number) ?? [];
  assert.ok(chain.includes(server.proc.pid!), `server ${server.proc.pid} not among ${chain}`);
  assert.match(r.stdout, /^42$/m);
  assert.match(r.stdout, /^100$/m, "the --input value reached the remote kernel");
  assert.match(r.stderr, /to stderr/);
  const saved = readFileSync(file, "utf8");
  assert.match(saved, /```output markdown\nstep 2\n```/, "a display's last state is saved");
  assert.doesNotMatch(saved, /```output markdown\nstep [01]/);
  assert.match(saved, /"metric":\s*"loss"/, "the live training chart's pushed rows are saved");
  assert.ok(!(r.stdout + r.stderr + saved).includes(TOKEN), "the token leaked");
});

test("a failing cell on the runtime is located in the notebook file and exits 1", () => {
  const file = notebook("fails.tsnb", [
    "const x = 1;",
    "x.toFixed(2);\nthrow new Error('remote boom')",
  ]);
  const r = tsnbRun(["--runtime", server.url + `?token=${TOKEN}`, file]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /remote boom/);
  assert.match(r.stderr, /fails\.tsnb:9:\d+/);
});

test("the Learn notebooks (charts, classifier, voice activity) run on the remote kernel", () => {
  const files = ["03-charts", "04-classifier", "06-voice-activity"].map((n) =>
    join(root, "notebooks", `${n}.tsnb`),
  );
  const r = tsnbRun(["--runtime", `${server.url}?token=${TOKEN}`, ...files], 300_000);
  assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr.slice(-3000));
  assert.equal((r.stdout.match(/^== /gm) ?? []).length, 3);
});

test("a wrong token, a missing kernelspec, an unreachable server and a bad URL are refused clearly, without the token", async () => {
  const wrong = tsnbRun([
    "--runtime",
    `${server.url}?token=wrong-${TOKEN}`,
    notebook("t.tsnb", ["1"]),
  ]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /refused the token \(403\)/);
  assert.ok(!wrong.stderr.includes(TOKEN));

  const spec = tsnbRun([
    "--runtime",
    `${server.url}?token=${TOKEN}`,
    "--runtime-kernel",
    "nope",
    notebook("t2.tsnb", ["1"]),
  ]);
  assert.equal(spec.status, 2);
  assert.match(
    spec.stderr,
    /has no kernel named 'nope' \(it has: [^)]*tsnb[^)]*\): run `tsnb kernelspec install`/,
  );

  const port = await freePort();
  const gone = tsnbRun([
    "--runtime",
    `http://127.0.0.1:${port}/?token=${TOKEN}`,
    notebook("t3.tsnb", ["1"]),
  ]);
  assert.equal(gone.status, 2);
  assert.match(
    gone.stderr,
    /cannot reach the Jupyter server at http:\/\/127\.0\.0\.1:\d+\/: ECONNREFUSED/,
  );
  assert.ok(!gone.stderr.includes(TOKEN));

  const bad = tsnbRun(["--runtime", `ftp://x/?token=${TOKEN}`, notebook("t4.tsnb", ["1"])]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /http: or https:/);
  assert.ok(!bad.stderr.includes(TOKEN));
});

test("parseRuntime takes the URL Jupyter prints, or the token from the environment", () => {
  const r = parseRuntime("http://127.0.0.1:8888/lab/tree/x.ipynb?token=abc");
  assert.deepEqual(r, {
    url: "http://127.0.0.1:8888/",
    token: "abc",
    kernelName: "tsnb",
    display: "http://127.0.0.1:8888/",
  });
  const b = parseRuntime("https://hub.example/user/me/", { env: { JUPYTER_TOKEN: "t" } });
  assert.equal(b.url, "https://hub.example/user/me/");
  assert.equal(b.token, "t");
  assert.throws(
    () => parseRuntime("not a url?token=zzz"),
    (e: Error) => !e.message.includes("zzz"),
  );
});

function kernelOn(url: string): KernelProcess {
  return new KernelProcess({ spawn: jupyterChild(parseRuntime(`${url}?token=${TOKEN}`)) });
}

function run(k: KernelProcess, code: string, events: KernelEvent[] = []) {
  return k.evaluate(
    { evalId: crypto.randomUUID(), cellId: "c", code, file: "remote.tsnb", line: 1 },
    (e) => events.push(e),
  );
}

test("interrupt stops a remote infinite loop and keeps the kernel's state; stop deletes the kernel on the server", async () => {
  const k = kernelOn(server.url);
  const hello = await k.start();
  assert.equal(hello.type, "hello");
  assert.equal((await run(k, "let kept = 41;")).status, "ok");
  const loop = run(k, "while (true) {}");
  await new Promise((r) => setTimeout(r, 800));
  k.interrupt();
  const fin = await loop;
  assert.equal(fin.status, "interrupted", JSON.stringify(fin));
  const events: KernelEvent[] = [];
  const after = await run(k, "kept + 1", events);
  assert.equal(after.status, "ok");
  assert.match(after.resultText ?? "", /42/);
  const listed = async () =>
    (await (
      await fetch(`${server.url}api/kernels`, { headers: { Authorization: `token ${TOKEN}` } })
    ).json()) as unknown[];
  assert.equal((await listed()).length, 1);
  await k.stop();
  for (let i = 0; i < 50 && (await listed()).length > 0; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal((await listed()).length, 0, "the kernel is still on the server after stop()");
});

test("a dropped WebSocket reconnects; output sent meanwhile arrives, state is kept", async () => {
  // A TCP proxy in front of the server, whose connections the test cuts.
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(server.port, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    sockets.add(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  const port = (proxy.address() as { port: number }).port;
  const k = kernelOn(`http://127.0.0.1:${port}/`);
  try {
    await k.start();
    assert.equal((await run(k, "const before = 6;")).status, "ok");
    const events: KernelEvent[] = [];
    const slow = run(
      k,
      "await new Promise((r) => setTimeout(r, 1500));\nconsole.log('while away');\nbefore * 7",
      events,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(sockets.size > 0);
    for (const s of [...sockets]) s.destroy();
    const fin = await slow;
    assert.equal(fin.status, "ok", JSON.stringify(fin));
    assert.match(fin.resultText ?? "", /42/);
    assert.ok(
      events.some(
        (e) =>
          e.type === "output" && e.output.type === "terminal" && /while away/.test(e.output.text),
      ),
      "the output sent while disconnected was lost",
    );
    assert.equal(k.death, null);
  } finally {
    await k.stop();
    proxy.close();
  }
});

test("a killed Jupyter server: the kernel is reported lost, and the orphaned kernel exits", async () => {
  const other = await startJupyterServer(env, dir, TOKEN);
  const k = kernelOn(other.url);
  const deaths: string[] = [];
  k.onDeath((d) => deaths.push(d.message));
  await k.start();
  const pid = Number(/ancestors (\d+)/.exec(await pidOf(k))?.[1]);
  assert.ok(pid > 0);
  other.proc.kill("SIGKILL");
  for (let i = 0; i < 300 && deaths.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(
    deaths[0] ?? "",
    /lost the connection to the Jupyter server at http:\/\/127\.0\.0\.1:\d+\//,
  );
  // The bridge watches its parent (JPY_PARENT_PID) and stops the tsnb kernel with it.
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    alive = existsSync(`/proc/${pid}`);
    if (alive) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(!alive, `kernel ${pid} outlived its server`);
});

async function pidOf(k: KernelProcess): Promise<string> {
  const events: KernelEvent[] = [];
  await run(k, ANCESTORS, events);
  return events
    .map((e) => (e.type === "output" && e.output.type === "terminal" ? e.output.text : ""))
    .join("");
}
