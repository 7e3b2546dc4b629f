/**
 * File bytes → notebook text, for the server, CLI and kernel that read `.tsnb` files from disk.
 *
 * Owns: rejecting what is not UTF-8 text (NUL bytes, invalid UTF-8) with the 1-based line of the
 * first bad byte, and dropping a UTF-8 byte order mark. Uses only `TextDecoder`, which Node and
 * browsers both provide (no Node imports).
 */

import { importNotebook } from "./import.ts";
import type { FormatDiagnostic, ImportOptions, ImportResult } from "./types.ts";

export type DecodeResult = { ok: true; text: string } | { ok: false; error: FormatDiagnostic };

/** Decode a file as UTF-8 text, or say at which line it stops being text. */
export function decodeNotebookBytes(bytes: Uint8Array): DecodeResult {
  const nul = bytes.indexOf(0);
  const invalid = firstInvalidUtf8(bytes);
  const bad = nul >= 0 && (invalid < 0 || nul < invalid) ? nul : invalid;
  if (bad >= 0) {
    const what = bad === nul ? "a NUL byte" : "bytes that are not UTF-8";
    return {
      ok: false,
      error: {
        message: `not a text file (it contains ${what}); is this really a .tsnb notebook?`,
        line: lineOfByte(bytes, bad),
      },
    };
  }
  return { ok: true, text: new TextDecoder("utf-8").decode(bytes) };
}

/** `decodeNotebookBytes` then `importNotebook`. Never throws. */
export function importNotebookBytes(bytes: Uint8Array, options?: ImportOptions): ImportResult {
  const decoded = decodeNotebookBytes(bytes);
  return decoded.ok ? importNotebook(decoded.text, options) : decoded;
}

/** 1-based line of byte `index` (LF, CRLF and lone CR end lines). */
function lineOfByte(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) {
    const b = bytes[i];
    if (b === 10) line++;
    else if (b === 13 && bytes[i + 1] !== 10) line++;
  }
  return line;
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = b === 0xe0 ? 0xa0 : 0x80;
      if (b === 0xed) max = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = b === 0xf0 ? 0x90 : 0x80;
      if (b === 0xf4) max = 0x8f;
    } else return i;
    if (i + need >= n) return i; // truncated sequence at the end
    const second = bytes[i + 1]!;
    if (second < min || second > max) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
