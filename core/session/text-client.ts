/**
 * A window's side of collaborative editing of one cell's source (ot.js's client, which
 * Livebook's `assets/js/hooks/cell_editor/live_editor/editor_client.js` follows).
 *
 * Owns: what this window typed that the server has not applied yet — at most one delta in
 * flight (`outstanding`, sent as `apply-cell-delta` on `revision`) and the typing since
 * (`buffer`, composed into one delta and sent when the outstanding one is acknowledged) — and
 * the rewriting of the server's changes so they apply to a text that already contains that
 * typing.
 *
 * Invariants:
 * - `revision` is the cell's `sourceRevision` this window has seen applied; local text ==
 *   server source at `revision`, then `outstanding`, then `buffer`.
 * - A change from the server that is not our own acknowledgement goes first (the server applied
 *   it before our outstanding delta, which it will transform against it with the same
 *   priority): so every copy ends with the same text and no typed character is dropped.
 * - No DOM and no I/O: `send` is given by the caller (the renderer, or a test's simulated window).
 */
import { composeDeltas, transformDelta, transformOffset, type TextDelta } from "../delta.ts";

export class CellTextClient {
  /** The cell's `sourceRevision` this window has seen applied. */
  revision: number;
  /** Sent, not yet acknowledged. */
  outstanding: TextDelta | null = null;
  /** Typed since `outstanding` was sent. */
  buffer: TextDelta | null = null;
  private waiters: Array<() => void> = [];

  constructor(
    revision: number,
    private readonly send: (delta: TextDelta, revision: number) => void,
  ) {
    this.revision = revision;
  }

  /** Nothing typed here is waiting for the server. */
  get synced(): boolean {
    return this.outstanding === null && this.buffer === null;
  }

  /** The user changed the local text by `delta`. */
  local(delta: TextDelta): void {
    if (delta.length === 0) return;
    if (this.outstanding === null) {
      this.outstanding = delta;
      this.send(delta, this.revision);
    } else {
      this.buffer = this.buffer === null ? delta : composeDeltas(this.buffer, delta);
    }
  }

  /** The server applied our outstanding delta (at `revision`, the cell's new `sourceRevision`). */
  acknowledged(revision: number): void {
    this.revision = revision;
    this.outstanding = this.buffer;
    this.buffer = null;
    if (this.outstanding !== null) this.send(this.outstanding, this.revision);
    this.flushWaiters();
  }

  /**
   * The server applied someone else's change `delta` (at `revision`). Returns the delta to apply
   * to the local text (the change rewritten past our unacknowledged typing).
   */
  remote(delta: TextDelta, revision: number): TextDelta {
    this.revision = revision;
    let d = delta;
    if (this.outstanding !== null) {
      const o = this.outstanding;
      this.outstanding = transformDelta(d, o, true);
      d = transformDelta(o, d, false);
    }
    if (this.buffer !== null) {
      const b = this.buffer;
      this.buffer = transformDelta(d, b, true);
      d = transformDelta(b, d, false);
    }
    return d;
  }

  /**
   * A position in the server's source at `this.revision` moved into the local text (past our
   * unacknowledged typing): where to draw another window's cursor.
   */
  toLocal(offset: number): number {
    let at = offset;
    if (this.outstanding !== null) at = transformOffset(at, this.outstanding, true);
    if (this.buffer !== null) at = transformOffset(at, this.buffer, true);
    return at;
  }

  /** Send the delta in flight again (after a reconnect, when the server never applied it). */
  resend(): void {
    if (this.outstanding !== null) this.send(this.outstanding, this.revision);
  }

  /** Forget unacknowledged typing (the document was replaced or the window rejoined). */
  reset(revision: number): void {
    this.revision = revision;
    this.outstanding = null;
    this.buffer = null;
    this.flushWaiters();
  }

  /** Run `fn` once everything typed so far has been sent (it may still be unacknowledged). */
  whenSent(fn: () => void): void {
    if (this.buffer === null) fn();
    else this.waiters.push(fn);
  }

  private flushWaiters(): void {
    if (this.buffer !== null) return;
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
}
