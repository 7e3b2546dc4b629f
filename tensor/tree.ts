/**
 * Nested containers of tensors ("trees"): arrays and plain objects whose leaves are tensors.
 * jit and grad flatten their arguments and results with these, so a function may take and return
 * e.g. `{ w1, b1, w2, b2 }` or `[loss, { accuracy }]`.
 *
 * Invariants: only arrays and plain objects are containers (object keys in insertion order);
 * tensors are leaves; anything else (numbers, strings, class instances, functions) is a static
 * part of the structure and of its key.
 */
import { Tensor } from "./tensor.ts";

export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree } | unknown;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function staticKey(x: unknown): string {
  if (x === undefined) return "u";
  if (typeof x === "function" || (typeof x === "object" && x !== null)) {
    let id = objectIds.get(x);
    if (id === undefined) {
      id = nextObjectId++;
      objectIds.set(x, id);
    }
    return `#${id}`;
  }
  if (typeof x === "bigint") return `${x}n`;
  return JSON.stringify(x);
}

/** The tensors of a tree in a fixed order, a key of its structure (with static leaves), and a rebuilder. */
export function flatten(tree: unknown): {
  leaves: Tensor[];
  key: string;
  rebuild: (leaves: readonly Tensor[]) => unknown;
} {
  const leaves: Tensor[] = [];
  let key = "";
  const walk = (x: unknown): ((l: readonly Tensor[]) => unknown) => {
    if (x instanceof Tensor) {
      const i = leaves.length;
      leaves.push(x);
      key += "T";
      return (l) => l[i];
    }
    if (Array.isArray(x)) {
      key += "[";
      const parts = x.map(walk);
      key += "]";
      return (l) => parts.map((p) => p(l));
    }
    if (isPlainObject(x)) {
      key += "{";
      const entries = Object.keys(x).map((k) => {
        key += JSON.stringify(k) + ":";
        return [k, walk(x[k])] as const;
      });
      key += "}";
      return (l) => Object.fromEntries(entries.map(([k, p]) => [k, p(l)]));
    }
    key += staticKey(x) + ",";
    return () => x;
  };
  const build = walk(tree);
  return { leaves, key, rebuild: build };
}

/** Applies `f` to every tensor of a tree (or of several trees of the same structure). */
export function treeMap(
  f: (...leaves: Tensor[]) => Tensor,
  tree: unknown,
  ...others: unknown[]
): unknown {
  const a = flatten(tree);
  const rest = others.map((t) => flatten(t));
  for (const r of rest)
    if (r.key !== a.key) throw new TypeError("treeMap: trees have different structures");
  return a.rebuild(a.leaves.map((l, i) => f(l, ...rest.map((r) => r.leaves[i]!))));
}

/** The tensors of a tree, in order. */
export function treeLeaves(tree: unknown): Tensor[] {
  return flatten(tree).leaves;
}
