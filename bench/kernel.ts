// Kernel benchmarks, each against its floor measured in the same run:
//   - kernel start → ready (hello)   vs  `node -e 0` (process start to exit)
//   - trivial cell round trip ("1 + 1" sent → evaluation-finished back)
//                                     vs  a JSON-lines echo between two processes over the same pipes
// Usage: node scripts/build.js && node --import tsx bench/kernel.ts [N]
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { KernelProcess } from "../kernel/client.ts";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const kernelPath = join(root, "dist", "kernel.mjs");
const N = Number(process.argv[2] ?? 20);
const ROUND_TRIPS = 1000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);
function report(name: string, xs: number[], floor: number[]): void {
  const p50 = pct(xs, 50);
  const f50 = pct(floor, 50);
  console.log(
    `${name.padEnd(28)} p50 ${fmt(p50).padStart(9)}  p90 ${fmt(pct(xs, 90)).padStart(9)}   floor p50 ${fmt(f50).padStart(9)} p90 ${fmt(pct(floor, 90)).padStart(9)}   ratio ${(p50 / f50).toFixed(2)}×`,
  );
}

// Floor 1: a bare Node process start (spawn → exit).
const nodeStart: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, ["-e", "0"]);
  nodeStart.push(performance.now() - t0);
}

// Kernel start → hello.
const kernelStart: number[] = [];
for (let i = 0; i < N; i++) {
  const k = new KernelProcess({ kernelPath, cwd: root });
  const t0 = performance.now();
  await k.start();
  kernelStart.push(performance.now() - t0);
  await k.stop();
}

// Floor 2: a JSON-lines echo over the kernel's channels (stdin → fd 3) between two processes.
const ECHO = `const fs=require("fs");let b="";process.stdin.setEncoding("utf8");process.stdin.on("data",c=>{b+=c;let i;while((i=b.indexOf("\\n"))>=0){const l=b.slice(0,i);b=b.slice(i+1);const m=JSON.parse(l);fs.writeSync(3,JSON.stringify({type:"echo",id:m.id})+"\\n")}})`;
const echo = spawn(process.execPath, ["-e", ECHO], {
  stdio: ["pipe", "inherit", "inherit", "pipe"],
});
const echoIn = echo.stdio[3] as NodeJS.ReadableStream;
echoIn.setEncoding("utf8");
let pendingEcho: (() => void) | null = null;
let echoBuf = "";
echoIn.on("data", (c: string) => {
  echoBuf += c;
  let i: number;
  while ((i = echoBuf.indexOf("\n")) >= 0) {
    echoBuf = echoBuf.slice(i + 1);
    pendingEcho?.();
  }
});
const echoTimes: number[] = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    pendingEcho = resolve;
    echo.stdin!.write(JSON.stringify({ type: "evaluate", id: i, code: "1 + 1" }) + "\n");
  });
  echoTimes.push(performance.now() - t0);
}
echo.kill();

// For the transport decision: the same echo over Node's IPC channel (process.send).
const ipc = spawn(
  process.execPath,
  ["-e", `process.on("message", (m) => process.send({ type: "echo", id: m.id }))`],
  {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  },
);
const ipcTimes: number[] = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    ipc.once("message", () => resolve());
    ipc.send({ type: "evaluate", id: i, code: "1 + 1" });
  });
  ipcTimes.push(performance.now() - t0);
}
ipc.kill();

// Trivial cell round trip.
const k = new KernelProcess({ kernelPath, cwd: root });
await k.start();
for (let i = 0; i < 50; i++) await k.evaluate({ evalId: `w${i}`, cellId: "c", code: "1 + 1" });
const cellTimes: number[] = [];
for (let i = 0; i < ROUND_TRIPS; i++) {
  const t0 = performance.now();
  const fin = await k.evaluate({ evalId: `e${i}`, cellId: "c", code: "1 + 1" });
  cellTimes.push(performance.now() - t0);
  if (fin.resultText !== "2") throw new Error(`unexpected result ${JSON.stringify(fin)}`);
}
// A TypeScript cell goes through esbuild (the service is started after hello).
const tsTimes: number[] = [];
for (let i = 0; i < 200; i++) {
  const t0 = performance.now();
  await k.evaluate({ evalId: `t${i}`, cellId: "c", code: "const n: number = 1;\nn + 1" });
  tsTimes.push(performance.now() - t0);
}
await k.stop();

console.log(`node ${process.version}, ${N} starts, ${ROUND_TRIPS} round trips`);
report("kernel start → ready", kernelStart, nodeStart);
report("trivial cell round trip", cellTimes, echoTimes);
report("TypeScript cell round trip", tsTimes, echoTimes);
report("(Node IPC echo, for comparison)", ipcTimes, echoTimes);
console.log(`targets: kernel ready within 2× of a bare Node start; trivial cell under 3 ms (p50)`);
