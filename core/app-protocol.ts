/**
 * The WebSocket protocol between the notebook server (`server/`) and a renderer window.
 *
 * Owns: every message either side sends, as discriminated unions with a literal `type`, the
 * protocol version, and runtime validation of what the server receives.
 *
 * The conversation:
 * 1. The renderer connects to `ws://HOST:PORT/ws` (authenticated by the token cookie) and
 *    sends `hello {protocolVersion, clientId?, sessionId?}`. The server answers `welcome` with
 *    the client's id (the one it asked for when given, so a reconnecting window keeps its id),
 *    the open sessions and the notebooks recovered from the app data folder; and, when
 *    `sessionId` names an open session, `joined` with that session's snapshot.
 * 2. The renderer opens a notebook (`open-file`, `new-notebook`, `open-recovered`, `join`).
 *    The server answers `joined {sessionId, snapshot}`; the snapshot is the whole
 *    `SessionData` at `snapshot.revision`, outputs included. A window is joined to at most
 *    one session at a time; joining another leaves the first.
 * 3. The renderer sends `apply {op}`; the server stamps `clientId` and `at`, applies it to the
 *    authoritative data and broadcasts `applied {sessionId, op, revision}` to every window
 *    joined to that session (the sender included). Renderers apply ops only from `applied`,
 *    in arrival order, with the same reducer (`applyOperation`). If `revision` is not their
 *    revision + 1 they resynchronise by sending `join` again. A refused op yields `error`
 *    to the sender only, and nothing is broadcast.
 * 4. Requests that are not operations (files, save, table pages) carry an optional
 *    `requestId` that the answer (or `error`) echoes.
 */
import type { KernelStatus, Operation, RuntimeSummary } from "./session/operations.ts";
import type { TableSort } from "./outputs.ts";
import type { SessionData } from "./session/data.ts";
import type { ModelFile } from "./onnx-info.ts";
import { MAX_MESSAGE_DEPTH, fieldChecks, isRecord, jsonProblem } from "./fields.ts";

/** Bumped on any incompatible change; `hello` with another version is refused. */
export const APP_PROTOCOL_VERSION = 1;

/** Path of the WebSocket endpoint on the server. */
export const WS_PATH = "/ws";

// ---- renderer → server ----

export type ClientMessage =
  | { type: "hello"; protocolVersion: number; clientId?: string; sessionId?: string }
  /** Send one operation (without `clientId`/`at`: the server sets them). */
  | { type: "apply"; sessionId: string; op: Record<string, unknown>; requestId?: string }
  /** Join an open session (also the way to resynchronise). */
  | { type: "join"; sessionId: string; requestId?: string }
  | { type: "leave"; sessionId: string }
  /** Open a notebook file (path relative to the served folder); joins its session (one session per file). */
  | { type: "open-file"; path: string; requestId?: string }
  /** Create an unsaved notebook (kept in the app data folder until saved). */
  | { type: "new-notebook"; requestId?: string }
  /** Reopen a notebook recovered from the app data folder (see `welcome.recovered`). */
  | { type: "open-recovered"; id: string; requestId?: string }
  /** Delete a notebook recovered from the app data folder (the user does not want it back). */
  | { type: "discard-recovered"; id: string; requestId?: string }
  /** List a folder (relative to the served folder; "" is the folder itself). */
  | { type: "list-files"; path: string; requestId?: string }
  | { type: "list-sessions"; requestId?: string }
  /** The Learn section: the lessons shipped with tsnb (answered by `lessons`). */
  | { type: "list-lessons"; requestId?: string }
  /**
   * Open the user's copy of a lesson (`Lesson.file`), `learn/NAME.tsnb` in the served folder,
   * made from the shipped file when there is none yet; joins its session. The shipped file
   * itself is never opened.
   */
  | { type: "open-lesson"; file: string; requestId?: string }
  /** Write the notebook to its file now. Fails with code "no-path" for an unsaved notebook. */
  | { type: "save"; sessionId: string; requestId?: string }
  /** Write the notebook to a new path (relative, must end in .tsnb or .md); `overwrite` to replace an existing file. */
  | { type: "save-as"; sessionId: string; path: string; overwrite?: boolean; requestId?: string }
  /** Answer to a `diskConflict`: re-read the file (losing unsaved changes) or overwrite it with ours. */
  | {
      type: "resolve-conflict";
      sessionId: string;
      choice: "reload" | "keep-mine";
      requestId?: string;
    }
  /** Close a session: its kernel stops (after a final save of a notebook with a path). */
  | { type: "close-session"; sessionId: string; requestId?: string }
  /** Shut down a session's kernel (from the running-sessions view; no need to join it). */
  | { type: "shutdown-kernel"; sessionId: string; requestId?: string }
  | { type: "get-settings"; requestId?: string }
  /** Change settings (only the fields given); answered by `settings` with all of them. */
  | { type: "set-settings"; settings: Partial<ServerSettings>; requestId?: string }
  /** Ask the kernel for rows of a paged table output. */
  | {
      type: "table-page";
      sessionId: string;
      tableId: string;
      offset: number;
      limit: number;
      /** Page the rows sorted by this column (the kernel sorts the whole table). */
      sort?: TableSort;
      requestId?: string;
    }
  /** The user's runtimes (Jupyter servers kernels can run on); answered with `runtimes`. */
  | { type: "list-runtimes"; requestId?: string }
  /**
   * Remember a Jupyter server: `url` as Jupyter prints it (a `?token=` in it is taken out and
   * kept with `token`). The server checks it answers and has the tsnb kernelspec first.
   */
  | { type: "add-runtime"; name: string; url: string; token?: string; requestId?: string }
  | { type: "remove-runtime"; id: string; requestId?: string }
  /** Run the session's kernel on that runtime (null: locally); restarts the kernel. */
  | { type: "set-runtime"; sessionId: string; runtimeId: string | null; requestId?: string }

  /** The `.onnx` models the ONNX smart cell can offer: under the notebook's folder, and packaged ones. */
  | { type: "list-models"; sessionId: string; requestId?: string }
  /**
   * Where this window's cursor is (presence, not an operation: never applied, saved or
   * journaled): offsets into the cell's source at its `sourceRevision` `revision` (send it only
   * when nothing typed is unacknowledged); `cellId` null when the window leaves the editor.
   */
  | CursorMessage;

/** See `ClientMessage` "cursor"; the server forwards it to the other windows with `clientId`. */
export interface CursorMessage {
  type: "cursor";
  sessionId: string;
  cellId: string | null;
  /** Selection start (where it was begun) and end (where the caret is), UTF-16 offsets. */
  anchor: number;
  head: number;
  revision: number;
  /**
   * The name the window's user gave (shown on the cursor's flag to the others): 1–40
   * characters, no control, line-separator or bidirectional-override characters. Absent: the
   * flag says "Window ab12".
   */
  name?: string;
  /**
   * The cursor colour the window's user chose: an index 0…USER_COLORS − 1 into the page's cursor
   * colours. Absent: the colour follows from the window's id.
   */
  color?: number;
  clientId?: string;
}

/** Longest user name a cursor may carry (characters). */
export const USER_NAME_MAX = 40;
/** How many cursor colours the page has (a user's choice is an index into them). */
export const USER_COLORS = 8;

/** Why `value` is not a cursor colour index, or null when it is. */
export function userColorProblem(value: unknown): string | null {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < USER_COLORS
    ? null
    : `color must be an integer from 0 to ${USER_COLORS - 1}`;
}

/** Why `value` is not a user name to show others, or null when it is. */
export function userNameProblem(value: unknown): string | null {
  if (typeof value !== "string") return "name must be a string";
  const chars = [...value];
  if (value.trim() === "" || chars.length > USER_NAME_MAX)
    return `name must be 1 to ${USER_NAME_MAX} characters`;
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(value))
    return "name must not hold control characters";
  return null;
}

// ---- server → renderer ----

export interface SessionSummary {
  sessionId: string;
  title: string;
  /** Display path, null when unsaved. */
  path: string | null;
  dirty: boolean;
  /** Windows that have it open. */
  clients: number;
  /** Its kernel's status. */
  kernel: KernelStatus;
  /** Resident memory of its kernel process (bytes), null when none runs or unknown. */
  memoryBytes: number | null;
  /** When the kernel will be shut down because nobody has the notebook open (epoch ms), else null. */
  idleShutdownAt: number | null;
}

/** Settings of the server the user can change (kept in the app data folder). */
export interface ServerSettings {
  /**
   * Shut down the kernel of a notebook no window has had open for this long (minutes);
   * null: never.
   */
  idleShutdownMinutes: number | null;
}

export interface RecoveredNotebook {
  /** Pass to `open-recovered`. */
  id: string;
  title: string;
  /** When it was last autosaved (epoch ms). */
  savedAt: number;
}

export interface FileEntry {
  name: string;
  /** Relative to the served folder, "/"-separated. */
  path: string;
  kind: "directory" | "notebook" | "file";
  size: number;
  mtimeMs: number;
}

/** A lesson of the Learn section (`notebooks/learn.json`). */
export interface Lesson {
  /** Its file name among the shipped lessons: pass to `open-lesson`. */
  file: string;
  title: string;
  /** One line: what the lesson teaches. */
  summary: string;
  /** The user's copy, relative to the served folder, when one exists (opening it continues there). */
  copy: string | null;
}

export type ErrorCode =
  | "bad-message"
  | "protocol-version"
  | "unknown-session"
  | "not-joined"
  | "invalid-operation"
  | "forbidden-path"
  | "not-found"
  | "exists"
  | "import-failed"
  | "no-path"
  /** The notebook's file may not be written (its mode, or the file system): use Save As. */
  | "read-only"
  | "io"
  | "kernel"
  /** A runtime could not be added or used (unreachable, refused token, no tsnb kernelspec). */
  | "runtime";

export type ServerMessage =
  | {
      type: "welcome";
      protocolVersion: number;
      clientId: string;
      /** Name of the served folder (for display). */
      rootName: string;
      sessions: SessionSummary[];
      recovered: RecoveredNotebook[];
    }
  /** The whole state of a session; replaces whatever the window had. `snapshot.revision` is its revision. */
  | { type: "joined"; sessionId: string; snapshot: SessionData; requestId?: string }
  /** An operation applied by the server, in order; `revision` is the session's revision after it. */
  | { type: "applied"; sessionId: string; op: Operation; revision: number }
  | { type: "file-list"; path: string; entries: FileEntry[]; requestId?: string }
  /** The answer to `list-sessions`: what the start page lists (as in `welcome`). */
  | {
      type: "sessions";
      sessions: SessionSummary[];
      recovered: RecoveredNotebook[];
      requestId?: string;
    }
  | { type: "settings"; settings: ServerSettings; requestId?: string }
  /** The answer to `list-lessons`. */
  | { type: "lessons"; lessons: Lesson[]; requestId?: string }
  /** A save/save-as/resolve finished (the state change itself arrives as `applied` ops). */
  | { type: "done"; requestId?: string }
  | {
      type: "table-page";
      sessionId: string;
      tableId: string;
      offset: number;
      rows: unknown[][];
      totalRows: number;
      sort?: TableSort;
      requestId?: string;
    }
  /** Another window's cursor moved (or left: `cellId` null). Offsets at the cell's `sourceRevision` `revision`. */
  | (CursorMessage & { clientId: string })
  /** The user's runtimes (answer to list/add/remove-runtime). */
  | { type: "runtimes"; runtimes: RuntimeSummary[]; requestId?: string }
  /** The answer to `list-models`: each model with its declared signature (read without loading it). */
  | { type: "models"; sessionId: string; files: ModelFile[]; requestId?: string }
  /** The session was closed by someone; the window should go back to the file browser. */
  | { type: "session-closed"; sessionId: string }
  /** A request or operation was refused. `line` (1-based) for a file that failed to import. */
  | { type: "error"; code: ErrorCode; message: string; requestId?: string; line?: number };

/** Validate a message from a renderer: its type and the types of its fields. */
export function parseClientMessage(
  raw: string,
): { ok: true; message: ClientMessage } | { ok: false; error: string; requestId?: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { ok: false, error: "message is not JSON" };
  }
  if (!isRecord(v)) return { ok: false, error: "message must be a JSON object" };
  if (v["requestId"] !== undefined && typeof v["requestId"] !== "string")
    return { ok: false, error: "requestId must be a string" };
  // Refusals echo the request's id, so the window knows which request failed.
  const id = v["requestId"] === undefined ? {} : { requestId: v["requestId"] as string };
  // Shape first: nothing below (nor the reducer, nor a save) may recurse into absurd nesting.
  const shape = jsonProblem(v, "message", { maxDepth: MAX_MESSAGE_DEPTH, maxSize: Infinity });
  if (shape !== null) return { ok: false, error: shape, ...id };
  const type = v["type"];
  if (typeof type !== "string") return { ok: false, error: "message.type must be a string", ...id };
  const problem = checkMessage(type as ClientMessage["type"], v);
  if (problem !== null) return { ok: false, error: `${type}: ${problem}`, ...id };
  return { ok: true, message: v as unknown as ClientMessage };
}

function checkMessage(type: ClientMessage["type"], v: Record<string, unknown>): string | null {
  const { str, optStr, int, optBool, first } = fieldChecks(v);
  switch (type) {
    case "hello":
      return first(int("protocolVersion"), optStr("clientId"), optStr("sessionId"));
    case "apply":
      return first(str("sessionId"), isRecord(v["op"]) ? null : "op must be an object");
    case "join":
    case "leave":
    case "save":
    case "close-session":
    case "shutdown-kernel":
    case "list-models":
      return str("sessionId");
    case "get-settings":
      return null;
    case "set-settings":
      return settingsProblem(v["settings"]);
    case "open-file":
    case "list-files":
      return str("path");
    case "new-notebook":
    case "list-sessions":
    case "list-runtimes":
    case "list-lessons":
      return null;
    case "add-runtime":
      return first(
        str("name"),
        str("url"),
        v["token"] === undefined ? null : str("token"),
        typeof v["name"] === "string" && v["name"].trim().length > 0 && v["name"].length <= 100
          ? null
          : "name must be 1 to 100 characters",
        typeof v["url"] === "string" && v["url"].length <= 2000 ? null : "url is too long",
      );
    case "remove-runtime":
      return str("id");
    case "set-runtime":
      return first(str("sessionId"), v["runtimeId"] === null ? null : str("runtimeId"));
    case "open-lesson":
      return str("file");
    case "open-recovered":
    case "discard-recovered":
      return str("id");
    case "save-as":
      return first(str("sessionId"), str("path"), optBool("overwrite"));
    case "resolve-conflict":
      return first(
        str("sessionId"),
        v["choice"] === "reload" || v["choice"] === "keep-mine"
          ? null
          : "choice must be reload or keep-mine",
      );
    case "cursor":
      return first(
        str("sessionId"),
        v["cellId"] === null ? null : str("cellId"),
        v["name"] === undefined ? null : userNameProblem(v["name"]),
        v["color"] === undefined ? null : userColorProblem(v["color"]),
        ...(["anchor", "head", "revision"] as const).map((k) =>
          Number.isSafeInteger(v[k]) && (v[k] as number) >= 0
            ? null
            : `${k} must be a non-negative integer`,
        ),
      );
    case "table-page":
      return first(
        str("sessionId"),
        str("tableId"),
        Number.isInteger(v["offset"]) && (v["offset"] as number) >= 0
          ? null
          : "offset must be a non-negative integer",
        Number.isInteger(v["limit"]) && (v["limit"] as number) > 0
          ? null
          : "limit must be a positive integer",
        v["sort"] === undefined ||
          (isRecord(v["sort"]) &&
            typeof v["sort"]["column"] === "string" &&
            typeof v["sort"]["descending"] === "boolean" &&
            Object.keys(v["sort"]).length === 2)
          ? null
          : "sort must be {column: string, descending: boolean}",
      );
    default:
      assertNeverType(type);
      return `unknown message type '${String(type)}'`;
  }
}

/** Longest idle timeout accepted: a week. */
export const MAX_IDLE_SHUTDOWN_MINUTES = 7 * 24 * 60;

function settingsProblem(v: unknown): string | null {
  if (!isRecord(v)) return "settings must be an object";
  for (const key of Object.keys(v))
    if (key !== "idleShutdownMinutes") return `unknown setting '${key}'`;
  const m = v["idleShutdownMinutes"];
  if (
    m !== undefined &&
    m !== null &&
    !(typeof m === "number" && Number.isFinite(m) && m > 0 && m <= MAX_IDLE_SHUTDOWN_MINUTES)
  )
    return `settings.idleShutdownMinutes must be null or a number of minutes in (0, ${MAX_IDLE_SHUTDOWN_MINUTES}]`;
  return null;
}

/** Unknown types reach the default branch at run time; at compile time the switch is exhaustive. */
function assertNeverType(_type: never): void {}
