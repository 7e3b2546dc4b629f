/**
 * A PyTorch reference benchmark as a child process (/usr/bin/python3, Debian's python3-torch):
 * the script prints "ready", then for each "go" line it is sent runs one timed repetition and
 * prints `{"steps_per_s": N}`. Used by bench/ml.ts and bench/learn.ts.
 *
 * Threads are set through OpenMP/BLAS variables with passive waits, like tsnb's sessions
 * (allow_spinning 0): spinning OpenMP threads starve everything else on a shared 2-core machine,
 * torch included.
 */
import { spawn } from "node:child_process";

export interface TorchReference {
  /** One timed repetition: steps per second. */
  rep: () => Promise<number>;
  close: () => void;
}

export async function torchReference(
  script: string,
  threads: number,
  args: Array<string | number>,
): Promise<TorchReference> {
  const child = spawn("/usr/bin/python3", [script, ...args.map(String)], {
    env: {
      ...process.env,
      OMP_NUM_THREADS: String(threads),
      OPENBLAS_NUM_THREADS: String(threads),
      MKL_NUM_THREADS: String(threads),
      OMP_WAIT_POLICY: "PASSIVE",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  let buf = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      waiters.push(resolve);
      child.once("exit", (code) => reject(new Error(`torch reference exited with ${code}`)));
    });
  if ((await next()) !== "ready") throw new Error("torch reference did not start");
  return {
    rep: async () => {
      child.stdin.write("go\n");
      return (JSON.parse(await next()) as { steps_per_s: number }).steps_per_s;
    },
    close: () => child.stdin.end(),
  };
}
