/**
 * Jupyter's messaging protocol on the wire (version 5.3): the connection file, and how one
 * message is split into ZeroMQ frames and signed.
 *
 *   [routing identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]
 *
 * `signature` is the hex HMAC (the connection file's `signature_scheme`, e.g. hmac-sha256) of
 * the four JSON frames, keyed by the connection file's `key`; an empty key means unsigned.
 * Messages whose signature does not match are refused (`WireError`), never acted on.
 *
 * Invariants: pure functions of their inputs plus `node:crypto`; nothing here touches sockets.
 */

import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { isRecord } from "../core/fields.ts";

export const JUPYTER_PROTOCOL_VERSION = "5.3";
const DELIMITER = "<IDS|MSG>";

/** What a Jupyter client writes into the connection file it starts a kernel with. */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  /** e.g. "hmac-sha256". */
  signature_scheme: string;
  kernel_name?: string;
}

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message {
  /** ZeroMQ routing identities of the sender (ROUTER sockets); the reply goes back to them. */
  identities: Buffer[];
  header: MessageHeader;
  /** The header of the message this one answers, or {}. */
  parent: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

export class WireError extends Error {
  override name = "WireError";
}

/** Parse and check a connection file's text; errors say which field is wrong. */
export function parseConnectionFile(text: string, path = "the connection file"): ConnectionInfo {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new WireError(`${path} is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(v)) throw new WireError(`${path} must hold a JSON object`);
  const transport = v["transport"] ?? "tcp";
  if (transport !== "tcp" && transport !== "ipc")
    throw new WireError(
      `${path}: transport must be "tcp" or "ipc", got ${JSON.stringify(transport)}`,
    );
  const ip = v["ip"] ?? "127.0.0.1";
  if (typeof ip !== "string" || ip === "") throw new WireError(`${path}: ip must be a string`);
  const port = (name: string): number => {
    const p = v[name];
    if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 65535)
      throw new WireError(`${path}: ${name} must be a port number (0-65535)`);
    return p;
  };
  const key = v["key"] ?? "";
  if (typeof key !== "string") throw new WireError(`${path}: key must be a string`);
  const scheme = v["signature_scheme"] ?? "hmac-sha256";
  if (typeof scheme !== "string" || !/^hmac-[a-z0-9]+$/.test(scheme))
    throw new WireError(`${path}: signature_scheme must look like "hmac-sha256"`);
  const info: ConnectionInfo = {
    transport,
    ip,
    shell_port: port("shell_port"),
    iopub_port: port("iopub_port"),
    stdin_port: port("stdin_port"),
    control_port: port("control_port"),
    hb_port: port("hb_port"),
    key,
    signature_scheme: scheme,
  };
  if (typeof v["kernel_name"] === "string") info.kernel_name = v["kernel_name"];
  return info;
}

/** The ZeroMQ endpoint of one channel, e.g. "tcp://127.0.0.1:5555" or "ipc:///tmp/k-1". */
export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === "tcp"
    ? `tcp://${info.ip.includes(":") ? `[${info.ip}]` : info.ip}:${port}`
    : `ipc://${info.ip}-${port}`;
}

/** Signs and parses messages for one connection (one key and scheme). */
export class Wire {
  readonly session = randomUUID();
  private readonly algorithm: string;

  constructor(private readonly info: Pick<ConnectionInfo, "key" | "signature_scheme">) {
    this.algorithm = info.signature_scheme.replace(/^hmac-/, "");
    // Fails early (and clearly) for a scheme Node does not know.
    try {
      createHmac(this.algorithm, "k");
    } catch {
      throw new WireError(`unsupported signature_scheme ${info.signature_scheme}`);
    }
  }

  sign(frames: readonly Buffer[]): string {
    if (this.info.key === "") return "";
    const h = createHmac(this.algorithm, this.info.key);
    for (const f of frames) h.update(f);
    return h.digest("hex");
  }

  /** Frames received on a socket → a checked message. Throws WireError when malformed or unsigned. */
  parse(frames: readonly Buffer[]): Message {
    const at = frames.findIndex((f) => f.length === DELIMITER.length && f.toString() === DELIMITER);
    if (at < 0) throw new WireError("message without the <IDS|MSG> delimiter");
    if (frames.length < at + 6)
      throw new WireError("message with fewer than 5 frames after the delimiter");
    const signature = frames[at + 1]!.toString("ascii");
    const parts = frames.slice(at + 2, at + 6);
    const expected = this.sign(parts);
    if (
      this.info.key !== "" &&
      (signature.length !== expected.length ||
        !timingSafeEqual(Buffer.from(signature), Buffer.from(expected)))
    ) {
      throw new WireError("message signature does not match the connection key");
    }
    const json = (b: Buffer, what: string): Record<string, unknown> => {
      let v: unknown;
      try {
        v = JSON.parse(b.toString("utf8"));
      } catch {
        throw new WireError(`${what} is not JSON`);
      }
      if (!isRecord(v)) throw new WireError(`${what} must be a JSON object`);
      return v;
    };
    const header = json(parts[0]!, "header");
    if (typeof header["msg_type"] !== "string" || typeof header["msg_id"] !== "string")
      throw new WireError("header needs msg_id and msg_type strings");
    return {
      identities: frames.slice(0, at).map((f) => Buffer.from(f)),
      header: header as unknown as MessageHeader,
      parent: json(parts[1]!, "parent_header") as Message["parent"],
      metadata: json(parts[2]!, "metadata"),
      content: json(parts[3]!, "content"),
      buffers: frames.slice(at + 6).map((f) => Buffer.from(f)),
    };
  }

  /** A new message of `msgType` answering `parent` (or none), as frames ready to send. */
  frames(
    msgType: string,
    content: Record<string, unknown>,
    parent: Message | null,
    identities: readonly Buffer[] = parent?.identities ?? [],
    metadata: Record<string, unknown> = {},
  ): Buffer[] {
    const header: MessageHeader = {
      msg_id: randomUUID(),
      session: this.session,
      username: "tsnb",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: JUPYTER_PROTOCOL_VERSION,
    };
    const parts = [header, parent?.header ?? {}, metadata, content].map((p) =>
      Buffer.from(JSON.stringify(p), "utf8"),
    );
    return [...identities, Buffer.from(DELIMITER), Buffer.from(this.sign(parts)), ...parts];
  }
}

/** Jupyter counts cursor positions in Unicode code points; JS strings in UTF-16 units. */
export function codePointToUtf16(text: string, cursor: number): number {
  let units = 0;
  let points = 0;
  for (const ch of text) {
    if (points >= cursor) break;
    units += ch.length;
    points++;
  }
  return units;
}

export function utf16ToCodePoint(text: string, offset: number): number {
  return [...text.slice(0, offset)].length;
}
