/**
 * Editing together, the window's side: typing becomes `apply-cell-delta` operations through a
 * `CellTextClient` per cell being edited (core/session/text-client.ts), the server's source
 * changes are rewritten past what this window typed and handed to the editor as deltas, and
 * the other windows' cursors are placed in this window's text.
 *
 * Owns: the text clients of cells with typing not yet acknowledged (a cell whose typing is all
 * acknowledged has none: its editor shows the session's source), this window's cursor, and the
 * other windows' cursors as they reported them (offsets at a `sourceRevision`).
 *
 * Invariants:
 * - `catchUp` runs after every applied operation and every snapshot, in order: for each cell
 *   with a client it walks the cell's `sourceDeltas` from the client's revision to the cell's,
 *   acknowledging our own delta and transforming the others'. The same walk after a reconnect
 *   tells whether our in-flight delta arrived (its entry carries our client id): if not, it is
 *   sent again, rebased — so typing survives a dropped connection.
 * - Our cursor is sent only when the cell has nothing unacknowledged (its offsets are then
 *   offsets into the session's source at a revision every window knows).
 */
import {
  applyDelta,
  composeDeltas,
  deltaFromDiff,
  transformDelta,
  transformOffset,
  type TextDelta,
} from "../core/delta.ts";
import { findCell } from "../core/notebook.ts";
import type { SessionData } from "../core/session/data.ts";
import type { ClientOperationInput, Operation } from "../core/session/operations.ts";
import { CellTextClient } from "../core/session/text-client.ts";

export interface SourceSyncHost {
  clientId(): string;
  sendOp(op: ClientOperationInput): void;
  sendCursor(cellId: string | null, anchor: number, head: number, revision: number): void;
}

/** Another window's cursor, in this window's text of the cell. */
export interface RemoteCursor {
  clientId: string;
  anchor: number;
  head: number;
  /** 0…7: which of the cursor colours. */
  color: number;
  label: string;
}

interface Tracked {
  tc: CellTextClient;
  /** What this window's editor shows. */
  text: string;
  /** The session's source at `tc.revision` (what the typing not yet applied is based on). */
  base: string;
}

interface ReportedCursor {
  cellId: string;
  anchor: number;
  head: number;
  revision: number;
  /** The name the other window's user gave, if any. */
  name?: string;
  /** The cursor colour its user chose, if any. */
  color?: number;
}

export class SourceSync {
  private readonly cells = new Map<string, Tracked>();
  private readonly remote = new Map<string, ReportedCursor>();
  private mine: { cellId: string; anchor: number; head: number } | null = null;
  private sentMine = "";
  private sendQueued = false;
  private data: SessionData | null = null;

  constructor(
    private readonly host: SourceSyncHost,
    /** Apply `delta` to the editor of `cellId` (giving `text`); a null delta: replace the text. */
    private readonly onRemote: (cellId: string, delta: TextDelta | null, text: string) => void,
    /** The other windows' cursors in a cell changed. */
    private readonly onCursors: (cellId: string, cursors: RemoteCursor[]) => void,
  ) {}

  /** Cells whose editor text is ahead of the session (their editors must not be overwritten). */
  isTracked(cellId: string): boolean {
    return this.cells.has(cellId);
  }

  /** The user changed the text of a cell to `text` (by `delta`, when the editor knows it). */
  local(cellId: string, text: string, delta?: TextDelta): void {
    const data = this.data;
    if (!data) return;
    let t = this.cells.get(cellId);
    if (!t) {
      const found = findCell(data.notebook, cellId);
      const state = data.cells[cellId];
      if (!found || !state || found.cell.type === "smart") return;
      t = {
        text: found.cell.source,
        base: found.cell.source,
        tc: this.textClient(cellId, state.sourceRevision),
      };
      this.cells.set(cellId, t);
    }
    let d = delta;
    if (d === undefined || safeApply(t.text, d) !== text) d = deltaFromDiff(t.text, text);
    t.text = text;
    t.tc.local(d);
    this.refreshCursors(cellId);
  }

  private textClient(cellId: string, revision: number): CellTextClient {
    return new CellTextClient(revision, (d, rev) =>
      this.host.sendOp({ type: "apply-cell-delta", cellId, delta: d, revision: rev }),
    );
  }

  /** Run `fn` once everything typed so far has been sent (e.g. before evaluating or saving). */
  whenSent(fn: () => void, cellId?: string): void {
    const pending = [...this.cells.entries()].filter(
      ([id, t]) => (cellId === undefined || id === cellId) && !t.tc.synced,
    );
    let left = pending.length;
    if (left === 0) return fn();
    for (const [, t] of pending) t.tc.whenSent(() => --left === 0 && fn());
  }

  /** Bring the tracked cells up to `data` (after `op`; null: a new snapshot). */
  catchUp(data: SessionData, op: Operation | null): void {
    this.data = data;
    const me = this.host.clientId();
    if (op?.type === "notebook-replaced") {
      // The user chose the file's version: typing not yet applied goes with the rest.
      for (const id of this.cells.keys()) this.replaceFromData(id);
      this.cells.clear();
    }
    for (const [id, t] of [...this.cells]) {
      const state = data.cells[id];
      const found = findCell(data.notebook, id);
      if (!state || !found) {
        this.cells.delete(id);
        continue;
      }
      const target = state.sourceRevision;
      const first = target - state.sourceDeltas.length; // revision before the oldest kept delta
      if (target < t.tc.revision) {
        // A newer session (the server restarted): show the session's text.
        this.cells.delete(id);
        this.replaceFromData(id);
        continue;
      }
      if (t.tc.revision < first) {
        this.rebaseFar(id, t, found.cell.source, state);
        continue;
      }
      let acked = false;
      for (let rev = t.tc.revision + 1; rev <= target; rev++) {
        const change = state.sourceDeltas[rev - first - 1]!;
        t.base = safeApply(t.base, change.delta) ?? found.cell.source;
        if (change.clientId === me && t.tc.outstanding !== null && !acked) {
          acked = true;
          t.tc.acknowledged(rev);
        } else {
          const d = t.tc.remote(change.delta, rev);
          t.text = safeApply(t.text, d) ?? found.cell.source;
          this.onRemote(id, d, t.text);
        }
      }
      // After a reconnect: our delta in flight never arrived; send it again, rebased.
      if (op === null && !acked && t.tc.outstanding !== null) t.tc.resend();
      if (t.tc.synced) {
        if (t.text !== found.cell.source) this.onRemote(id, null, found.cell.source);
        this.cells.delete(id);
      }
    }
    this.sendMine();
    this.refreshAllCursors();
  }

  /**
   * This window is further behind than the cell's kept deltas reach (offline while others made
   * more than `MAX_SOURCE_DELTAS` changes): its typing not yet applied is rebased on the
   * session's text as a whole — the others' changes since its base, as one delta from the diff
   * of the two texts — and sent again, so nothing typed is lost. Whether the delta in flight
   * arrived is told by the cell's `sourceClients` (then only the typing after it is rebased).
   */
  private rebaseFar(
    cellId: string,
    t: Tracked,
    source: string,
    state: SessionData["cells"][string],
  ): void {
    const arrived =
      t.tc.outstanding !== null &&
      (state.sourceClients?.[this.host.clientId()] ?? -1) > t.tc.revision;
    const from = arrived ? safeApply(t.base, t.tc.outstanding!) : t.base;
    const unsent = (arrived ? [t.tc.buffer] : [t.tc.outstanding, t.tc.buffer]).filter(
      (d): d is TextDelta => d !== null,
    );
    const pending = unsent.length === 0 ? null : unsent.reduce((a, b) => composeDeltas(a, b));
    this.cells.delete(cellId);
    const mine =
      pending === null || from === null
        ? null
        : transformDelta(deltaFromDiff(from, source), pending, true);
    const text = mine === null ? null : safeApply(source, mine);
    if (mine === null || text === null || mine.length === 0) return this.replaceFromData(cellId);
    const tc = this.textClient(cellId, state.sourceRevision);
    this.cells.set(cellId, { tc, text, base: source });
    this.onRemote(cellId, null, text);
    tc.local(mine);
  }

  private replaceFromData(cellId: string): void {
    const found = this.data && findCell(this.data.notebook, cellId);
    if (found) this.onRemote(cellId, null, found.cell.source);
  }

  // ---- cursors ----

  /** This window's cursor moved (offsets in the editor's text); null: it left the editors. */
  localCursor(cellId: string | null, anchor = 0, head = 0): void {
    this.mine = cellId === null ? null : { cellId, anchor, head };
    this.sendMine();
  }

  /** The editor of `cellId` lost the focus or went away: our cursor leaves, if it was there. */
  leftCell(cellId: string): void {
    if (this.mine?.cellId === cellId) this.localCursor(null);
  }

  /** Send our cursor at the end of this turn (after editors applied this turn's changes). */
  private sendMine(): void {
    if (this.sendQueued) return;
    this.sendQueued = true;
    queueMicrotask(() => {
      this.sendQueued = false;
      this.sendMineNow();
    });
  }

  private sendMineNow(): void {
    const data = this.data;
    if (!data) return;
    const m = this.mine;
    if (m && this.cells.has(m.cellId)) return; // sent once the typing is acknowledged
    const revision = m ? (data.cells[m.cellId]?.sourceRevision ?? 0) : 0;
    const key = m ? `${m.cellId}:${m.anchor}:${m.head}:${revision}` : "";
    if (key === this.sentMine) return;
    this.sentMine = key;
    this.host.sendCursor(m?.cellId ?? null, m?.anchor ?? 0, m?.head ?? 0, revision);
  }

  /** Send this window's cursor again (what it carries changed: the user's name or colour). */
  resendMine(): void {
    this.sentMine = "";
    this.sendMine();
  }

  /** The other windows with a cursor in this notebook, as their flags name them. */
  people(): Array<{ clientId: string; label: string; color: number }> {
    return [...this.remote].map(([clientId, c]) => ({
      clientId,
      label: labelOf(clientId, c.name),
      color: c.color ?? colorOf(clientId),
    }));
  }

  /** Another window reported its cursor (null cell: it left). */
  remoteCursor(clientId: string, cursor: ReportedCursor | null): void {
    const before = this.remote.get(clientId);
    if (cursor) this.remote.set(clientId, cursor);
    else this.remote.delete(clientId);
    if (before && before.cellId !== cursor?.cellId) this.refreshCursors(before.cellId);
    if (cursor) this.refreshCursors(cursor.cellId);
  }

  /** Forget every other window's cursor (a new session). */
  clearCursors(): void {
    const cells = new Set([...this.remote.values()].map((c) => c.cellId));
    this.remote.clear();
    for (const id of cells) this.onCursors(id, []);
  }

  private refreshAllCursors(): void {
    const cells = new Set([...this.remote.values()].map((c) => c.cellId));
    for (const id of cells) this.refreshCursors(id);
  }

  private refreshCursors(cellId: string): void {
    const data = this.data;
    if (!data) return;
    const state = data.cells[cellId];
    const out: RemoteCursor[] = [];
    for (const [clientId, c] of this.remote) {
      if (c.cellId !== cellId || !state) continue;
      const first = state.sourceRevision - state.sourceDeltas.length;
      if (c.revision < first || c.revision > state.sourceRevision) continue;
      let anchor = c.anchor;
      let head = c.head;
      for (const change of state.sourceDeltas.slice(c.revision - first)) {
        anchor = transformOffset(anchor, change.delta);
        head = transformOffset(head, change.delta);
      }
      const t = this.cells.get(cellId);
      if (t) {
        anchor = t.tc.toLocal(anchor);
        head = t.tc.toLocal(head);
      }
      out.push({
        clientId,
        anchor,
        head,
        color: c.color ?? colorOf(clientId),
        label: labelOf(clientId, c.name),
      });
    }
    this.onCursors(cellId, out);
  }
}

function safeApply(text: string, delta: TextDelta): string | null {
  try {
    return applyDelta(text, delta);
  } catch {
    return null;
  }
}

/** A stable colour for a window (one of the USER_COLORS), when its user chose none. */
export function colorOf(clientId: string): number {
  let h = 0;
  for (let i = 0; i < clientId.length; i++) h = (h * 31 + clientId.charCodeAt(i)) >>> 0;
  return h % 8;
}

/** What the cursor's flag says: the user's name, else a short form of the window's id. */
export function labelOf(clientId: string, name?: string): string {
  return name ?? `Window ${clientId.slice(0, 4)}`;
}
