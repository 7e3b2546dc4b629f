/**
 * WAV decoding: RIFF/WAVE files with PCM (8/16/24/32-bit integer) or IEEE float (32/64-bit)
 * samples, any channel count, mixed down to mono f32 in [-1, 1], plus linear resampling.
 *
 * Invariant: the decoder reads the chunk structure (skipping LIST and other chunks) and never
 * trusts a size beyond the end of the buffer; malformed files give an error saying what is wrong.
 */
import { readFileSync } from "node:fs";
import * as nx from "../tensor/index.ts";

/** Samples as a Float32Array (an f32 nx tensor's own memory, or a typed array as given). */
function samplesOf(what: string, s: nx.Tensor | Float32Array): Float32Array {
  if (s instanceof nx.Tensor) {
    if (s.rank !== 1)
      throw new Error(`${what}: samples must be a 1-D tensor, got shape [${s.shape.join(", ")}]`);
    return nx.cast(s, "f32").dataSync() as Float32Array;
  }
  if (ArrayBuffer.isView(s) && Object.prototype.toString.call(s) === "[object Float32Array]")
    return s;
  throw new Error(`${what}: samples must be an f32 tensor or a Float32Array`);
}

/** Decoded audio: mono samples in [-1, 1] (an f32 nx tensor [n]) and their rate. */
export interface Audio {
  samples: nx.Tensor;
  sampleRate: number;
  /** Channels in the file (the samples are their average). */
  channels: number;
  /** Duration in seconds. */
  duration: number;
}

/** Decode WAV bytes into mono f32 samples. */
export function decodeWav(bytes: Uint8Array): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (off: number) => String.fromCharCode(...bytes.subarray(off, off + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE")
    throw new Error("decodeWav: not a RIFF/WAVE file");
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let data: Uint8Array | undefined;
  while (off + 8 <= bytes.length) {
    const id = tag(off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    const end = Math.min(bytes.length, body + size);
    if (id === "fmt ") {
      if (size < 16) throw new Error("decodeWav: fmt chunk too short");
      let format = view.getUint16(body, true);
      if (format === 0xfffe && size >= 26) format = view.getUint16(body + 24, true); // WAVE_FORMAT_EXTENSIBLE
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") data = bytes.subarray(body, end);
    off = body + size + (size & 1);
  }
  if (!fmt) throw new Error("decodeWav: no fmt chunk");
  if (!data) throw new Error("decodeWav: no data chunk");
  const { format, channels, rate, bits } = fmt;
  if (channels < 1) throw new Error("decodeWav: zero channels");
  const bps = bits / 8;
  const frames = Math.floor(data.length / (bps * channels));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let read: (o: number) => number;
  if (format === 1) {
    if (bits === 16) read = (o) => dv.getInt16(o, true) / 32768;
    else if (bits === 8) read = (o) => (dv.getUint8(o) - 128) / 128;
    else if (bits === 24)
      read = (o) =>
        (dv.getUint8(o) | (dv.getUint8(o + 1) << 8) | (dv.getInt8(o + 2) << 16)) / 8388608;
    else if (bits === 32) read = (o) => dv.getInt32(o, true) / 2147483648;
    else throw new Error(`decodeWav: unsupported PCM bit depth ${bits}`);
  } else if (format === 3) {
    if (bits === 32) read = (o) => dv.getFloat32(o, true);
    else if (bits === 64) read = (o) => dv.getFloat64(o, true);
    else throw new Error(`decodeWav: unsupported float bit depth ${bits}`);
  } else
    throw new Error(`decodeWav: unsupported sample format ${format} (PCM and IEEE float only)`);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += read((i * channels + c) * bps);
    samples[i] = s / channels;
  }
  return { samples: nx.tensor(samples), sampleRate: rate, channels, duration: frames / rate };
}

/** Read and decode a WAV file. */
export function readWav(path: string): Audio {
  return decodeWav(readFileSync(path));
}

/** Linear-interpolation resampling (enough for speech models that want 16 kHz). */
export function resample(input: nx.Tensor | Float32Array, from: number, to: number): nx.Tensor {
  if (from === to) return input instanceof nx.Tensor ? input : nx.tensor(input);
  const samples = samplesOf("resample", input);
  const n = Math.floor((samples.length * to) / from);
  const out = new Float32Array(n);
  const ratio = from / to;
  for (let i = 0; i < n; i++) {
    const x = i * ratio;
    const i0 = Math.floor(x);
    const f = x - i0;
    const a = samples[i0] ?? 0;
    const b = samples[i0 + 1] ?? a;
    out[i] = a + (b - a) * f;
  }
  return nx.tensor(out);
}

/** Encode mono f32 samples as a 16-bit PCM WAV file (for tests and exports). */
export function encodeWav(input: nx.Tensor | Float32Array, sampleRate: number): Uint8Array {
  const samples = samplesOf("encodeWav", input);
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const w = (o: number, s: string) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  w(0, "RIFF");
  v.setUint32(4, 36 + samples.length * 2, true);
  w(8, "WAVE");
  w(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  w(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++)
    v.setInt16(
      44 + i * 2,
      Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768))),
      true,
    );
  return out;
}
