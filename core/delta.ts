/**
 * Text operations on cell sources, for editing together (Livebook's `Livebook.Delta`, itself
 * the operational-transformation model of Quill's delta and ot.js).
 *
 * Owns: `TextDelta` — a change to one string as a list of components, in the compact form
 * Livebook sends over the wire: a positive integer n retains n characters, a negative integer
 * -n deletes n characters, a string inserts it. Characters are UTF-16 code units, as in
 * JavaScript strings and Monaco's offsets. Functions: `applyDelta`, `composeDeltas`,
 * `transformDelta` (the OT step), `transformOffset` (cursors), `deltaFromDiff` (whole-source
 * changes), `deltaProblem` (validation at the protocol edge).
 *
 * Invariants:
 * - A delta returned by these functions is canonical: no zero or empty components, no two
 *   adjacent components of one kind, an insert before a delete at one place, no trailing retain
 *   (characters after the last component are kept).
 * - `transformDelta(a, b, true)` is b rewritten to apply after a, where a and b were made on the
 *   same text; with `aFirst`, a's text goes first where both insert at one place. TP1 holds:
 *   apply(apply(s, a), transform(a, b, true)) === apply(apply(s, b), transform(b, a, false)).
 *   So no inserted character is ever dropped: only deletes can remove text, and a delete only
 *   removes characters that existed when it was made.
 */

/** One component: n > 0 retain n, n < 0 delete -n, a string inserts it. */
export type DeltaComponent = number | string;
export type TextDelta = DeltaComponent[];

/** Components of at most this many, and inserts of at most this many characters, per delta. */
export const MAX_DELTA_COMPONENTS = 10_000;
export const MAX_DELTA_INSERT = 4 * 1024 * 1024;

/** Why `value` is not a delta that can be applied to a text of `textLength` (null: it can). */
export function deltaProblem(value: unknown, textLength?: number): string | null {
  if (!Array.isArray(value)) return "delta must be an array";
  if (value.length > MAX_DELTA_COMPONENTS)
    return `delta has more than ${MAX_DELTA_COMPONENTS} components`;
  let inserted = 0;
  for (const c of value) {
    if (typeof c === "string") {
      if (c.length === 0) return "delta inserts must not be empty";
      inserted += c.length;
    } else if (typeof c !== "number" || !Number.isSafeInteger(c) || c === 0)
      return "delta components are non-zero integers or non-empty strings";
  }
  if (inserted > MAX_DELTA_INSERT) return `delta inserts more than ${MAX_DELTA_INSERT} characters`;
  if (textLength !== undefined) {
    const base = baseLength(value as TextDelta);
    if (base > textLength) return `delta spans ${base} characters but the text has ${textLength}`;
  }
  return null;
}

/** Characters of the original text the delta covers (retained or deleted). */
export function baseLength(delta: readonly DeltaComponent[]): number {
  let n = 0;
  for (const c of delta) if (typeof c === "number") n += Math.abs(c);
  return n;
}

/** Apply a delta to a text. Throws when the delta spans more than the text. */
export function applyDelta(text: string, delta: readonly DeltaComponent[]): string {
  let out = "";
  let at = 0;
  for (const c of delta) {
    if (typeof c === "string") out += c;
    else if (c > 0) {
      if (at + c > text.length) throw new RangeError("delta retains past the end of the text");
      out += text.slice(at, at + c);
      at += c;
    } else {
      if (at - c > text.length) throw new RangeError("delta deletes past the end of the text");
      at -= c;
    }
  }
  return out + text.slice(at);
}

/** Builds canonical deltas. */
class Builder {
  readonly ops: TextDelta = [];
  retain(n: number): void {
    if (n <= 0) return;
    const last = this.ops[this.ops.length - 1];
    if (typeof last === "number" && last > 0) this.ops[this.ops.length - 1] = last + n;
    else this.ops.push(n);
  }
  delete(n: number): void {
    if (n <= 0) return;
    const last = this.ops[this.ops.length - 1];
    if (typeof last === "number" && last < 0) this.ops[this.ops.length - 1] = last - n;
    else this.ops.push(-n);
  }
  insert(s: string): void {
    if (s.length === 0) return;
    const n = this.ops.length;
    const last = this.ops[n - 1];
    if (typeof last === "string") this.ops[n - 1] = last + s;
    else if (typeof last === "number" && last < 0) {
      // insert before delete at one place
      const before = this.ops[n - 2];
      if (typeof before === "string") this.ops[n - 2] = before + s;
      else this.ops.splice(n - 1, 0, s);
    } else this.ops.push(s);
  }
  done(): TextDelta {
    const last = this.ops[this.ops.length - 1];
    if (typeof last === "number" && last > 0) this.ops.pop();
    return this.ops;
  }
}

type Kind = "retain" | "delete" | "insert";

/** Walks a delta in pieces; past its end it is an endless retain. */
class Cursor {
  private i = 0;
  private offset = 0;
  constructor(private readonly ops: readonly DeltaComponent[]) {}
  hasNext(): boolean {
    return this.i < this.ops.length;
  }
  peekKind(): Kind {
    const c = this.ops[this.i];
    if (c === undefined) return "retain";
    return typeof c === "string" ? "insert" : c > 0 ? "retain" : "delete";
  }
  peekLength(): number {
    const c = this.ops[this.i];
    if (c === undefined) return Infinity;
    return (typeof c === "string" ? c.length : Math.abs(c)) - this.offset;
  }
  /** Take up to n characters of the current component. */
  next(n = Infinity): { kind: Kind; length: number; text: string } {
    const c = this.ops[this.i];
    if (c === undefined) return { kind: "retain", length: n, text: "" };
    const kind = this.peekKind();
    const length = Math.min(n, this.peekLength());
    const text = typeof c === "string" ? c.slice(this.offset, this.offset + length) : "";
    if (length === this.peekLength()) {
      this.i++;
      this.offset = 0;
    } else this.offset += length;
    return { kind, length, text };
  }
}

/** The delta that has the effect of `a` then `b`. */
export function composeDeltas(
  a: readonly DeltaComponent[],
  b: readonly DeltaComponent[],
): TextDelta {
  const x = new Cursor(a);
  const y = new Cursor(b);
  const out = new Builder();
  while (x.hasNext() || y.hasNext()) {
    if (y.peekKind() === "insert") {
      out.insert(y.next().text);
    } else if (x.peekKind() === "delete") {
      out.delete(x.next().length);
    } else {
      const n = Math.min(x.peekLength(), y.peekLength());
      const p = x.next(n);
      const q = y.next(n);
      if (q.kind === "retain") {
        if (p.kind === "insert") out.insert(p.text);
        else out.retain(p.length);
      } else if (q.kind === "delete") {
        if (p.kind === "retain") out.delete(q.length);
        // an insert of a deleted by b: nothing
      }
    }
  }
  return out.done();
}

/**
 * `b` rewritten to apply after `a` (both made on the same text). `aFirst`: where both insert
 * at one place, a's text comes first (the server gives the operation it applied earlier this
 * priority, and every client does the same).
 */
export function transformDelta(
  a: readonly DeltaComponent[],
  b: readonly DeltaComponent[],
  aFirst: boolean,
): TextDelta {
  const x = new Cursor(a);
  const y = new Cursor(b);
  const out = new Builder();
  while (x.hasNext() || y.hasNext()) {
    if (x.peekKind() === "insert" && (aFirst || y.peekKind() !== "insert")) {
      out.retain(x.next().length);
    } else if (y.peekKind() === "insert") {
      out.insert(y.next().text);
    } else {
      const n = Math.min(x.peekLength(), y.peekLength());
      const p = x.next(n);
      const q = y.next(n);
      if (p.kind === "delete") continue; // already gone: b's retain or delete of it is moot
      if (q.kind === "delete") out.delete(n);
      else out.retain(n);
    }
  }
  return out.done();
}

/**
 * Where `offset` (a cursor position) is after `delta`. An insert exactly at the cursor moves it
 * right unless `stickLeft` (a remote cursor stays before text typed by someone else there).
 */
export function transformOffset(
  offset: number,
  delta: readonly DeltaComponent[],
  stickLeft = false,
): number {
  let at = 0; // how far into the old text
  let moved = offset;
  for (const c of delta) {
    if (typeof c === "string") {
      if (at < offset || (at === offset && !stickLeft)) moved += c.length;
      else break;
    } else {
      if (at >= offset) break;
      const n = Math.abs(c);
      if (c < 0) moved -= Math.min(n, offset - at);
      at += n;
    }
  }
  return moved;
}

/** A delta turning `before` into `after`: the common start and end kept, the middle replaced. */
export function deltaFromDiff(before: string, after: string): TextDelta {
  if (before === after) return [];
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < max - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  )
    end++;
  const out = new Builder();
  out.retain(start);
  out.insert(after.slice(start, after.length - end));
  out.delete(before.length - end - start);
  return out.done();
}

/** Make any valid delta canonical (e.g. one a client built from editor changes). */
export function normalizeDelta(delta: readonly DeltaComponent[]): TextDelta {
  const out = new Builder();
  for (const c of delta) {
    if (typeof c === "string") out.insert(c);
    else if (c > 0) out.retain(c);
    else out.delete(-c);
  }
  return out.done();
}

/** A delta that replaces `length` characters at `offset` by `text` (a Monaco change). */
export function spliceDelta(offset: number, length: number, text: string): TextDelta {
  const out = new Builder();
  out.retain(offset);
  out.insert(text);
  out.delete(length);
  return out.done();
}
