/**
 * Synchronous execution of ONNX graphs on onnxruntime-node.
 *
 * onnxruntime-node's public `InferenceSession.run` is async only because it defers to
 * `setImmediate`; the native binding's `run` is synchronous. tsnb calls the native session
 * directly, so tensor ops return at once (no `await` per op) — about 7 µs per small run instead of
 * about 11 µs for the async path.
 *
 * Invariants: sessions are created once per key and cached for the life of the process (creating
 * and releasing sessions leaks native memory in ORT); small sessions use one intra-op thread and
 * never spin; ORT's own log output is silenced (errors are rethrown as tsnb errors by callers).
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import ort from "onnxruntime-node";

const require = createRequire(import.meta.url);

/** The native session object of onnxruntime-node's binding (synchronous API). */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: Record<string, null>,
    options: object,
  ): Record<string, ort.Tensor>;
  dispose(): void;
  endProfiling(): string;
  readonly inputMetadata: Array<{ name: string }>;
  readonly outputMetadata: Array<{ name: string }>;
}

interface BindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

let bindingModule: BindingModule | undefined;

function native(): BindingModule {
  if (!bindingModule) {
    bindingModule = require("onnxruntime-node/dist/binding.js") as BindingModule;
    if (!ort.env.logLevel || ort.env.logLevel === "warning") ort.env.logLevel = "error";
    bindingModule.initOrt();
  }
  return bindingModule;
}

/** How a session uses the CPU (and which devices it may use). */
export interface SessionConfig {
  /** Intra-op threads (1 for small graphs). */
  threads: number;
  graphOptimizationLevel: "disabled" | "basic" | "extended" | "all";
  /**
   * ONNX Runtime execution providers in order of preference, e.g. ["cuda", "cpu"]; default CPU
   * only. A provider whose libraries are missing fails the session; `explainProviders` says why.
   */
  executionProviders?: readonly string[];
}

/** A loaded graph that runs synchronously. */
export class Session {
  readonly inputNames: string[];
  readonly outputNames: string[];
  private readonly fetches: Record<string, null>;
  constructor(private readonly native: NativeSession) {
    this.inputNames = native.inputMetadata.map((m) => m.name);
    this.outputNames = native.outputMetadata.map((m) => m.name);
    this.fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
  }
  /** Runs the graph; `feeds` maps every input name to an onnxruntime tensor. */
  run(feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    return this.native.run(feeds, this.fetches, RUN_OPTIONS);
  }
}

const RUN_OPTIONS = { logSeverityLevel: 4 };

/**
 * A tsnb-worded explanation of an ONNX Runtime failure (the raw message stays in `cause`):
 * known cases are translated, anything else is described generically.
 */
export function explainOrtFailure(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const gather =
    /indices element out of data bounds, idx=(-?\d+) must be within the inclusive range \[(-?\d+),(-?\d+)\]/.exec(
      msg,
    );
  if (gather)
    return `index ${gather[1]} is out of bounds for an axis of size ${Number(gather[3]) + 1}`;
  if (/ScatterND|GatherND/.test(msg) && /out of bounds|invalid indice/i.test(msg))
    return "an index is out of bounds";
  return "ONNX Runtime could not execute it (the original error is in .cause)";
}

/** Number of CPU cores, the thread count used for large graphs. */
export const CORES = Math.max(1, cpus().length);

/**
 * With TSNB_ORT_PROFILE=PREFIX in the environment, every session of at least
 * TSNB_ORT_PROFILE_MIN_BYTES (default 1024: leaves out single eager ops)
 * records ONNX Runtime's profile (PREFIX_<date>.json, Chrome trace format), written at process
 * exit. For looking at what a training step really runs; see bench/ort-profile.ts.
 */
const PROFILE_PREFIX = process.env.TSNB_ORT_PROFILE;
const PROFILE_MIN_BYTES = Number(process.env.TSNB_ORT_PROFILE_MIN_BYTES ?? 1024);
const profiled: NativeSession[] = [];
if (PROFILE_PREFIX)
  process.on("exit", () => {
    for (const s of profiled) s.endProfiling();
  });

/** Loads a model from ONNX bytes into a new synchronous session (not cached: see SessionCache). */
export function createSession(bytes: Uint8Array, config: SessionConfig): Session {
  const { binding } = native();
  const s = new binding.InferenceSession();
  const profile = PROFILE_PREFIX !== undefined && bytes.byteLength >= PROFILE_MIN_BYTES;
  if (profile) profiled.push(s);
  s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
    ...(profile ? { enableProfiling: true, profileFilePrefix: PROFILE_PREFIX } : {}),
    intraOpNumThreads: config.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: config.graphOptimizationLevel,
    ...(config.executionProviders ? { executionProviders: [...config.executionProviders] } : {}),
    logSeverityLevel: 4,
    extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
  });
  return new Session(s);
}

/** Sessions by key, kept for the life of the process. */
export class SessionCache {
  private readonly map = new Map<string, Session>();
  get size(): number {
    return this.map.size;
  }
  get(key: string): Session | undefined {
    return this.map.get(key);
  }
  set(key: string, s: Session): void {
    this.map.set(key, s);
  }
}

/** Process-wide statistics (used by tests and benchmarks to show sessions are not churned). */
export const stats = { sessionsCreated: 0, runs: 0 };

/** The folder onnxruntime-node loads its native libraries (and execution provider libraries) from. */
function ortBinFolder(): string {
  const root = dirname(require.resolve("onnxruntime-node/package.json"));
  return join(root, "bin", "napi-v6", process.platform, process.arch);
}

/**
 * When session creation failed because an execution provider cannot be used, says which one,
 * which library is missing and what to install; undefined when the providers are not the cause.
 */
export function explainProviders(
  providers: readonly unknown[],
  error: unknown,
): string | undefined {
  const msg = String((error as Error)?.message ?? error);
  const names = providers.map((p) =>
    String(typeof p === "string" ? p : ((p as { name?: string })?.name ?? p)).toLowerCase(),
  );
  const backends = ort.listSupportedBackends();
  const bin = ortBinFolder();
  for (const name of names) {
    const backend = backends.find((b) => b.name === name);
    if (!backend) {
      if (name === "cpu") continue;
      return `execution provider '${name}' is not in this build of onnxruntime-node (${process.platform}/${process.arch}: ${backends.map((b) => b.name).join(", ")}); use one of those, e.g. executionProviders: ["cpu"]`;
    }
    if (backend.bundled) continue;
    const label = name === "tensorrt" ? "TensorRT" : name.toUpperCase();
    const libs = [`libonnxruntime_providers_shared.so`, `libonnxruntime_providers_${name}.so`];
    const missing = libs.filter((l) => !existsSync(join(bin, l)));
    const failedToLoad = /failed to load|cannot open shared object|load library/i.test(msg);
    if (missing.length === 0 && !failedToLoad) continue;
    const what =
      missing.length > 0
        ? `its librar${missing.length > 1 ? "ies" : "y"} ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing from ${bin}`
        : `onnxruntime-node could not load it (${msg.split("\n")[0]}): the ${name === "tensorrt" ? "TensorRT 10" : "CUDA 12 and cuDNN 9"} libraries it links to are not on this machine`;
    return (
      `execution provider '${name}' cannot be used: ${what}. ` +
      `onnxruntime-node's npm package ships only the CPU (and WebGPU) libraries; its install script downloads the ${label} ones (NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux), and this project turns install scripts off ("allowScripts": {"onnxruntime-node": false}). ` +
      `To use ${label}: on a machine with an NVIDIA GPU, install CUDA 12 and cuDNN 9${name === "tensorrt" ? " and TensorRT 10" : ""} (NVIDIA's cuda-toolkit-12 and cudnn9-cuda-12 packages), then run \`node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12\` (it needs the network). ` +
      `Otherwise use executionProviders: ["cpu"].`
    );
  }
  return undefined;
}
