// Execution providers (GPU) for nx.jit and training, through `tsnb run` as a user runs a
// notebook: CPU by default and when asked for, CUDA refused with what is missing and how to
// install it (these machines have onnxruntime-node's CUDA provider in its list but not its
// libraries, as every install with install scripts turned off), an unknown provider named with
// the ones this build has. The onnx.load side is tested in onnx.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ort from "onnxruntime-node";

const root = join(fileURLToPath(import.meta.url), "..", "..", "..");

function runCells(cells: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "tsnb-providers-"));
  try {
    const file = join(dir, "gpu.tsnb");
    writeFileSync(file, "# GPU\n\n" + cells.map((c) => "```ts\n" + c + "\n```\n").join("\n"));
    return spawnSync(
      process.execPath,
      [join(root, "bin", "tsnb.js"), "run", "--continue-on-error", file],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SETUP = `import * as nx from "tsnb/nx";
import { nn, optim, train } from "tsnb";
const f = (a: nx.Tensor) => nx.sum(nx.multiply(a, a));
const x = nx.tensor([1, 2, 3]);
const xs = nx.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const ys = nx.tensor([[0], [1], [1], [0]]);
const model = () => nn.sequential([nn.dense(3), nn.dense(1)], { inputShape: [2], seed: 1 });`;

test("nx.jit and train run on the providers asked for; CUDA without its libraries says what is missing", (t) => {
  const cuda = ort.listSupportedBackends().find((b) => b.name === "cuda");
  const r = runCells([
    SETUP,
    'console.log("cpu jit", nx.jit(f, { executionProviders: ["cpu"] })(x).dataSync()[0]);',
    'const h = await train.fit(model(), xs, ys, { loss: "mse", optimizer: optim.sgd(), epochs: 2, verbose: false, executionProviders: ["cpu"] });\nconsole.log("cpu fit", h.epochs.length);',
    'nx.jit(f, { executionProviders: ["cuda"] })(x)',
    'await train.fit(model(), xs, ys, { loss: "mse", epochs: 1, verbose: false, executionProviders: ["cuda"] });',
    'nx.jit(f, { executionProviders: ["tpu"] })(x)',
  ]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^cpu jit 14$/m);
  assert.match(r.stdout, /^cpu fit 2$/m);
  const errors = r.stderr;
  if (cuda && !cuda.bundled) {
    // Once for the jit cell, once for the training cell, each located at its own line.
    const cudaErrors = [
      ...errors.matchAll(
        /gpu\.tsnb:(\d+):\d+: TensorError: jit: execution provider 'cuda' cannot be used: .*libonnxruntime_providers_cuda\.so.*--onnxruntime-node-install=cuda12/g,
      ),
    ].map((m) => Number(m[1]));
    assert.deepEqual(cudaErrors, [23, 27], errors);
  } else t.diagnostic("this onnxruntime-node build has no CUDA provider; only 'tpu' is checked");
  assert.match(
    errors,
    /jit: execution provider 'tpu' is not in this build of onnxruntime-node \(linux\/x64: [^)]*cpu/,
  );
});
