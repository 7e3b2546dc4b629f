/**
 * Function transforms: `jit` (trace a function of tensors into one ONNX graph, cached per input
 * shapes and dtypes), `grad`/`valueAndGrad` (symbolic reverse mode, grad.ts), and `exportOnnx`
 * (the same trace written as a standalone .onnx model with constants as initializers).
 *
 * Invariants: a jitted function compiles once per (argument structure, shapes, dtypes, static
 * values) and keeps that session for its lifetime; called with traced arguments (inside another
 * jit or grad) it is inlined, so transforms compose; tensors captured from outside the function
 * are constants of the compiled graph (taken when the graph is traced, as in JAX); a trace is
 * closed after tracing, so traced tensors cannot leak into later eager code.
 */
import ort from "onnxruntime-node";
import { type DType, isFloat, onnxType } from "./dtype.ts";
import type { GraphJson } from "./onnx/proto.ts";
import { backward } from "./grad.ts";
import { GraphBuilder, PolyUnsupported } from "./graph.ts";
import { LOWERINGS, type Prim } from "./lower.ts";
import * as o from "./ops.ts";
import {
  CORES,
  createSession,
  explainOrtFailure,
  explainProviders,
  stats,
  type Session,
} from "./runtime.ts";
import { Tensor, TensorError, Trace } from "./tensor.ts";
import { flatten } from "./tree.ts";
import { withRandomHook } from "./random.ts";
import { batchedCall } from "./vmap.ts";

/** A jitted function warns once when it has compiled this many graphs (a recompilation loop). */
const MANY_COMPILES = 32;
/** Constants up to this many elements are baked into the graph; larger ones are fed at each run. */
const INLINE_CONST = 256;
/** Estimated work (element-ops) above which a compiled graph uses all cores. */
const PARALLEL_WORK = 1 << 18;

/** Options of jit. */
export interface JitOptions {
  /** Intra-op threads of the compiled session (default: 1 for small graphs, all cores for large). */
  threads?: number;
  /**
   * When a second batch size of the same signature arrives, also compile one graph with a
   * symbolic batch dimension (checked against the static graph) that serves all later batch
   * sizes without recompiling. Default true; false keeps one static graph per shape.
   */
  batchPolymorphic?: boolean;
  /**
   * Where the compiled graph runs: ONNX Runtime execution providers in order of preference, e.g.
   * ["cuda", "cpu"] on a machine with an NVIDIA GPU and onnxruntime-node's CUDA libraries.
   * Default CPU only. A provider that cannot be used is an error that names what is missing.
   */
  executionProviders?: readonly string[];
}

interface Lowered {
  builder: GraphBuilder;
  /** Graph input name → where its value comes from at run time. */
  feeds: Array<{ name: string; arg: number } | { name: string; value: Tensor }>;
  /** Per flattened output: graph output name, or a constant tensor returned as is. */
  outputs: Array<{ name: string; dtype: DType; shape: readonly number[] } | { value: Tensor }>;
  work: number;
}

/** Batch polymorphism: the trace used `sentinel` as dimension 0 of the arguments in `batched`. */
interface PolySpec {
  sentinel: number;
  batched: ReadonlySet<number>;
}

/** Size used for the batch dimension when tracing a batch-polymorphic graph (a prime no real shape is likely to be a multiple of). */
const SENTINEL = 7919;

function dimsOf(shape: readonly number[], poly: PolySpec | undefined): Array<number | string> {
  if (!poly) return shape.slice();
  return shape.map((d) =>
    d !== 0 && d % poly.sentinel === 0
      ? d === poly.sentinel
        ? "batch"
        : `batch*${d / poly.sentinel}`
      : d,
  );
}

/** Lowers the part of a trace that `outs` need into an ONNX graph. */
function lowerTrace(
  trace: Trace,
  placeholders: readonly Tensor[],
  outs: readonly Tensor[],
  exportMode: boolean,
  poly?: PolySpec,
  threads?: number,
): Lowered {
  const b = new GraphBuilder();
  b.threads = threads;
  const needed = new Set<number>();
  const stack: number[] = [];
  for (const t of outs) if (t._node?.trace === trace) stack.push(t._node.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    for (const x of trace.nodes[id]!.inputs) stack.push(x._node!.id);
  }
  const argOf = new Map<number, number>();
  placeholders.forEach((p, i) => argOf.set(p._node!.id, i));
  const names = new Map<number, string>();
  const feeds: Lowered["feeds"] = [];
  let work = 0;
  for (const node of trace.nodes) {
    if (!needed.has(node.id)) continue;
    const out = trace.outputs[node.id]!;
    if (node.op === "input") {
      const arg = argOf.get(node.id)!;
      const name = exportMode ? `input_${arg}` : `in${arg}`;
      b.input(name, out.dtype, dimsOf(out.shape, poly));
      if (poly?.batched.has(arg) && !b.poly) b.poly = { sentinel: poly.sentinel, input: name };
      feeds.push({ name, arg });
      names.set(node.id, name);
    } else if (node.op === "const") {
      const v = node.value!;
      if (poly && v.shape.some((d) => d !== 0 && d % poly.sentinel === 0))
        throw new PolyUnsupported("a constant's shape depends on the batch size");
      if (exportMode || v.size <= INLINE_CONST) {
        names.set(
          node.id,
          b.initializer(
            v.dtype,
            v.shape.slice(),
            v.dataSync(),
            exportMode ? `const_${node.id}` : undefined,
          ),
        );
      } else {
        const name = `k${node.id}`;
        b.input(name, v.dtype, v.shape.slice());
        feeds.push({ name, value: v });
        names.set(node.id, name);
      }
    } else {
      const lower = LOWERINGS[node.op as Exclude<Prim, "input" | "const">];
      const ins = node.inputs.map((x) => names.get(x._node!.id)!);
      names.set(
        node.id,
        lower(
          b,
          ins,
          node.inputs.map((x) => x.dtype),
          node.attrs,
          out.dtype,
        ),
      );
      if (
        poly &&
        !b.poly &&
        node.inputs.some((x) => x.shape.some((d) => d % poly.sentinel === 0 && d !== 0))
      ) {
        throw new PolyUnsupported("batch-sized values that do not come from a batched argument");
      }
      work += node.op === "matmul" ? out.size * (node.inputs[0]!.shape.at(-1) ?? 1) : out.size;
    }
  }
  const renamed = new Map<number, string>();
  const outputs: Lowered["outputs"] = outs.map((t, i) => {
    if (t._node?.trace !== trace) return { value: t };
    const name = exportMode ? `output_${i}` : `out${i}`;
    const id = t._node.id;
    const first = renamed.get(id);
    if (first !== undefined) b.add("Identity", [first], undefined, name);
    else {
      b.outputAs(names.get(id)!, name);
      renamed.set(id, name);
      names.set(id, name);
    }
    b.output(name, t.dtype, dimsOf(t.shape, poly));
    return { name, dtype: t.dtype, shape: t.shape };
  });
  return { builder: b, feeds, outputs, work };
}

interface Compiled {
  session: Session | null;
  lowered: Lowered;
  rebuild: (leaves: readonly Tensor[]) => unknown;
}

function describeArgs(leaves: readonly Tensor[]): string {
  return leaves.map((t) => `${t.dtype}[${t.shape.join(",")}]`).join(", ");
}

/** Traces fn on placeholders shaped like `leaves` and returns the closed trace and its outputs. */
function traceFunction(
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
  poly?: PolySpec,
): {
  trace: Trace;
  placeholders: Tensor[];
  outLeaves: Tensor[];
  rebuild: (l: readonly Tensor[]) => unknown;
} {
  const flat = flatten(args);
  const trace = new Trace();
  const placeholders = flat.leaves.map((t, i) =>
    trace.placeholder(
      poly?.batched.has(i) ? [poly.sentinel, ...t.shape.slice(1)] : t.shape,
      t.dtype,
    ),
  );
  let result: unknown;
  try {
    // random values drawn while jit traces are constants of its graph, even inside a vmap
    result = withRandomHook(null, () => fn(...(flat.rebuild(placeholders) as unknown[])));
  } finally {
    trace.active = false;
  }
  if (result instanceof Promise)
    throw new TensorError(
      "jit: the function returned a Promise; traced functions must be synchronous",
    );
  const out = flatten(result);
  return { trace, placeholders, outLeaves: out.leaves, rebuild: out.rebuild };
}

function compile(
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
  opts: JitOptions,
  poly?: PolySpec,
  workHint?: number,
): Compiled {
  const { trace, placeholders, outLeaves, rebuild } = traceFunction(fn, args, poly);
  const lowered = lowerTrace(trace, placeholders, outLeaves, false, poly, opts.threads);
  if (poly && lowered.outputs.some((x) => "value" in x))
    throw new PolyUnsupported("an output does not depend on the arguments");
  const hasGraph = lowered.outputs.some((x) => "name" in x);
  const session = hasGraph
    ? sessionOf(
        lowered.builder,
        workHint ?? lowered.work,
        opts,
        "jit",
        "the traced graph",
        () => flatten(args).leaves,
      )
    : null;
  return { session, lowered, rebuild };
}

/**
 * The session of a compiled graph (jit's or scan's): all cores when the estimated work is large
 * unless `threads` says; a failure names the op, what was compiled and the arguments.
 */
function sessionOf(
  b: GraphBuilder,
  work: number,
  opts: { threads?: number; executionProviders?: readonly string[] },
  op: string,
  what: string,
  args: () => readonly Tensor[],
): Session {
  const threads = opts.threads ?? (CORES > 1 && work >= PARALLEL_WORK ? CORES : 1);
  try {
    const session = createSession(b.encode(op), {
      threads,
      graphOptimizationLevel: "all",
      executionProviders: opts.executionProviders,
    });
    stats.sessionsCreated++;
    return session;
  } catch (e) {
    const provider = opts.executionProviders && explainProviders(opts.executionProviders, e);
    if (provider) throw new TensorError(`${op}: ${provider}`, { cause: e });
    throw new TensorError(
      `${op}: could not compile ${what} for arguments (${describeArgs(args())}): ONNX Runtime rejected it (the original error is in .cause)`,
      { cause: e },
    );
  }
}

function runCompiled(c: Compiled, leaves: readonly Tensor[]): unknown {
  let results: Record<string, ort.Tensor> = {};
  if (c.session) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of c.lowered.feeds)
      feeds[f.name] = "arg" in f ? leaves[f.arg]!.toOrt() : f.value.toOrt();
    try {
      results = c.session.run(feeds);
    } catch (e) {
      throw new TensorError(
        `jit: running the compiled graph failed for arguments (${describeArgs(leaves)}): ${explainOrtFailure(e)}`,
        { cause: e },
      );
    }
    stats.runs++;
  }
  const outs = c.lowered.outputs.map((x) => {
    if ("value" in x) return x.value;
    const r = results[x.name]!;
    return new Tensor(r.dims, x.dtype, r, null);
  });
  return c.rebuild(outs);
}

/**
 * Compiles `fn` (a function of tensors, or trees of tensors, returning the same) into one ONNX
 * graph per distinct argument signature (structure, shapes, dtypes, non-tensor values).
 * Inside another jit/grad it is inlined.
 */
export function jit<F extends (...args: never[]) => unknown>(fn: F, opts: JitOptions = {}): F {
  const f = fn as unknown as (...a: unknown[]) => unknown;
  const cache = new Map<string, { compiled: Compiled; shapes: number[][]; treeKey: string }>();
  const families: Family[] = [];
  const jitted = (...args: unknown[]): unknown => {
    const flat = flatten(args);
    if (flat.leaves.some((t) => t.isSymbolic)) return f(...args);
    let key = flat.key;
    for (const t of flat.leaves) key += `|${t.dtype}${t.shape.join(",")}`;
    const hit = cache.get(key);
    if (hit) return runCompiled(hit.compiled, flat.leaves);
    for (const fam of families)
      if (fam.matches(flat.key, flat.leaves)) return runCompiled(fam.compiled, flat.leaves);
    const shapes = flat.leaves.map((t) => t.shape.slice());
    const compiled = compile(f, args, opts);
    cache.set(key, { compiled, shapes, treeKey: flat.key });
    if (cache.size === MANY_COMPILES) {
      console.warn(
        `tsnb/nx jit: ${MANY_COMPILES} compilations of ${fn.name || "one function"} — each new shape or non-tensor argument value compiles a new graph; pass values that change (a learning rate, a step count) as tensors`,
      );
    }
    // A second batch size of the same signature: try one graph with a symbolic batch dimension,
    // checked against the static graph on these arguments before it serves other batch sizes.
    if (opts.batchPolymorphic !== false) {
      for (const other of cache.values()) {
        const batched = batchedArgs(other.treeKey, other.shapes, flat.key, shapes);
        if (!batched) continue;
        const fam = tryFamily(f, args, flat.leaves, opts, batched, compiled);
        if (fam) families.push(fam);
        break;
      }
    }
    return runCompiled(compiled, flat.leaves);
  };
  return jitted as unknown as F;
}

/** A batch-polymorphic compilation: serves every batch size of one signature. */
interface Family {
  compiled: Compiled;
  matches(treeKey: string, leaves: readonly Tensor[]): boolean;
}

/** The arguments whose dimension 0 alone differs (consistently) between two signatures, or null. */
function batchedArgs(keyA: string, a: number[][], keyB: string, b: number[][]): Set<number> | null {
  if (keyA !== keyB || a.length !== b.length) return null;
  const batched = new Set<number>();
  let from = -1;
  let to = -1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.length !== y.length) return null;
    for (let d = 1; d < x.length; d++) if (x[d] !== y[d]) return null;
    if (x.length === 0 || x[0] === y[0]) continue;
    if (from === -1) [from, to] = [x[0]!, y[0]!];
    if (x[0] !== from || y[0] !== to) return null;
    batched.add(i);
  }
  return batched.size > 0 ? batched : null;
}

function tryFamily(
  f: (...a: unknown[]) => unknown,
  args: unknown[],
  leaves: readonly Tensor[],
  opts: JitOptions,
  batched: Set<number>,
  reference: Compiled,
): Family | null {
  let compiled: Compiled;
  try {
    compiled = compile(f, args, opts, { sentinel: SENTINEL, batched }, reference.lowered.work);
  } catch (e) {
    if (e instanceof PolyUnsupported || e instanceof TensorError) return null;
    throw e;
  }
  // the polymorphic graph must reproduce the static one on the current arguments
  try {
    const a = flatten(runCompiled(compiled, leaves)).leaves;
    const b = flatten(runCompiled(reference, leaves)).leaves;
    if (a.length !== b.length || !a.every((t, i) => sameValues(t, b[i]!))) return null;
  } catch {
    return null;
  }
  const dtypes = leaves.map((t) => t.dtype);
  const pattern = leaves.map((t) => t.shape.slice());
  const treeKey = flatten(args).key;
  return {
    compiled,
    matches(key, ls) {
      if (key !== treeKey || ls.length !== pattern.length) return false;
      let batch = -1;
      for (let i = 0; i < ls.length; i++) {
        const s = ls[i]!.shape;
        const p = pattern[i]!;
        if (ls[i]!.dtype !== dtypes[i] || s.length !== p.length) return false;
        for (let d = batched.has(i) ? 1 : 0; d < s.length; d++) if (s[d] !== p[d]) return false;
        if (batched.has(i)) {
          if (batch === -1) batch = s[0]!;
          else if (s[0] !== batch) return false;
        }
      }
      return batch > 0;
    },
  };
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (
    a.dtype !== b.dtype ||
    a.shape.length !== b.shape.length ||
    a.shape.some((d, i) => d !== b.shape[i])
  )
    return false;
  const x = a.dataSync();
  const y = b.dataSync();
  for (let i = 0; i < x.length; i++) {
    const u = Number(x[i]!);
    const v = Number(y[i]!);
    if (u === v || (Number.isNaN(u) && Number.isNaN(v))) continue;
    if (!(Math.abs(u - v) <= 1e-4 * (1 + Math.abs(v)))) return false;
  }
  return true;
}

/** Options of grad/valueAndGrad: which arguments to differentiate, and whether fn returns [value, aux]. */
export interface GradOptions {
  /** Index or indices of the differentiated arguments (default 0). Each may be a tensor or a tree of tensors. */
  argnums?: number | number[];
  /** fn returns [scalar, aux]; aux is returned along with the value. */
  hasAux?: boolean;
}

function gradOptions(o: number | number[] | GradOptions | undefined): {
  argnums: number[];
  single: boolean;
  hasAux: boolean;
} {
  if (o === undefined) return { argnums: [0], single: true, hasAux: false };
  if (typeof o === "number") return { argnums: [o], single: true, hasAux: false };
  if (Array.isArray(o)) return { argnums: o, single: false, hasAux: false };
  const a = o.argnums ?? 0;
  return {
    argnums: typeof a === "number" ? [a] : a,
    single: typeof a === "number",
    hasAux: o.hasAux ?? false,
  };
}

/** The innermost (newest) trace of the arguments: a grad inside vmap records into vmap's trace. */
function traceOf(leaves: readonly Tensor[]): Trace {
  let trace: Trace | null = null;
  for (const t of leaves)
    if (t._node && (!trace || t._node.trace.serial > trace.serial)) trace = t._node.trace;
  if (!trace) throw new TensorError("grad: internal error: no traced argument");
  return trace;
}

function makeGrad(
  fn: (...args: unknown[]) => unknown,
  options: number | number[] | GradOptions | undefined,
  withValue: boolean,
): (...args: unknown[]) => unknown {
  const { argnums, single, hasAux } = gradOptions(options);
  const inner = (...args: unknown[]): unknown => {
    for (const i of argnums) {
      if (i < 0 || i >= args.length)
        throw new TensorError(`grad: argnums ${i} is out of range for ${args.length} arguments`);
      if (flatten(args[i]).leaves.length === 0)
        throw new TensorError(`grad: argument ${i} contains no tensors`);
    }
    const trace = traceOf(flatten(args).leaves);
    const newArgs = args.slice();
    const wrt: Tensor[] = [];
    const rebuilds: Array<(l: readonly Tensor[]) => unknown> = [];
    const counts: number[] = [];
    for (const i of argnums) {
      if (i < 0 || i >= args.length)
        throw new TensorError(`grad: argnums ${i} is out of range for ${args.length} arguments`);
      const f = flatten(args[i]);
      if (f.leaves.length === 0) throw new TensorError(`grad: argument ${i} contains no tensors`);
      const ids = f.leaves.map((t) => {
        if (!isFloat(t.dtype))
          throw new TensorError(
            `grad: argument ${i} has a ${t.dtype}[${t.shape.join(",")}] tensor; only f32/f64 tensors can be differentiated: make it a float tensor (nx.tensor(data, {dtype: "f32"}), or nx.cast(x, "f32") / x.astype("f32")), or leave it out of argnums`,
          );
        return o.primitive("identity", [trace.lift(t)], {}, t.shape, t.dtype);
      });
      newArgs[i] = f.rebuild(ids);
      wrt.push(...ids);
      rebuilds.push(f.rebuild);
      counts.push(ids.length);
    }
    const result = fn(...newArgs);
    let value: unknown = result;
    let aux: unknown;
    if (hasAux) {
      if (!Array.isArray(result) || result.length !== 2)
        throw new TensorError("grad: with hasAux the function must return [value, aux]");
      [value, aux] = result as [unknown, unknown];
    }
    if (!(value instanceof Tensor) || value.rank !== 0 || !isFloat(value.dtype)) {
      const d = value instanceof Tensor ? `${value.dtype}[${value.shape.join(",")}]` : typeof value;
      throw new TensorError(`grad: the function must return a scalar f32/f64 tensor, got ${d}`);
    }
    const grads = backward(value, wrt);
    let offset = 0;
    const trees = rebuilds.map((rb, k) => {
      const part = grads.slice(offset, offset + counts[k]!);
      offset += counts[k]!;
      return rb(part);
    });
    const g = single ? trees[0] : trees;
    if (!withValue) return g;
    return [hasAux ? [value, aux] : value, g];
  };
  return jit(inner);
}

/**
 * The gradient of a scalar-valued fn with respect to argument `argnums` (default 0; a tensor or a
 * tree of tensors, giving a gradient of the same structure). Compiled with jit.
 */
export function grad(
  fn: (...args: never[]) => unknown,
  options?: number | number[] | GradOptions,
): (...args: unknown[]) => any {
  return makeGrad(fn as unknown as (...args: unknown[]) => unknown, options, false);
}

/** Like grad, returning `[value, gradient]` (`[[value, aux], gradient]` with hasAux). */
export function valueAndGrad(
  fn: (...args: never[]) => unknown,
  options?: number | number[] | GradOptions,
): (...args: unknown[]) => ValueAndGrad {
  const compiled = makeGrad(fn as unknown as (...args: unknown[]) => unknown, options, true);
  const hasAux = typeof options === "object" && !Array.isArray(options) && options.hasAux === true;
  return (...args: unknown[]) => {
    const [value, grad] = compiled(...args) as [any, any];
    const named = hasAux ? { value: value[0], aux: value[1], grad } : { value, grad };
    return Object.assign([value, grad], named) as ValueAndGrad;
  };
}

/** `[value, grad]` (destructure it), also readable as `.value`, `.grad` (and `.aux` with hasAux). */
export type ValueAndGrad = [any, any] & { value: any; grad: any; aux?: any };

/** Options of exportOnnx. */
export interface ExportOptions {
  /** Names of the graph inputs, one per tensor of `args` in order (default input_0, …). */
  inputNames?: string[];
  /** Names of the graph outputs (default output_0, …). */
  outputNames?: string[];
  /** Stored in the model's doc_string. */
  docString?: string;
  /**
   * Names of captured tensors (weights) in the exported model, e.g. `"dense_0.kernel"`; other
   * captured tensors are named `const_<n>`. Names must be unique, and differ from the names the
   * exporter generates (`input_<n>`, `output_<n>`, `const_<n>`, and one letter + digits).
   */
  constantNames?: ReadonlyMap<Tensor, string>;
  /**
   * Dimension 0 of every input is a symbolic "batch" dimension, so the model runs at any batch
   * size (checked against the static export on the example arguments).
   */
  dynamicBatch?: boolean;
  /** Name of the symbolic batch dimension with dynamicBatch (default "batch"). */
  batchName?: string;
}

/**
 * Traces `fn` on `args` and returns a standalone ONNX model (bytes): the tensors of `args` become
 * graph inputs with static shapes, every tensor the function captures (weights) becomes an
 * initializer, the returned tensors become outputs.
 */
export function exportOnnx(
  fn: (...args: never[]) => unknown,
  args: unknown[],
  opts: ExportOptions = {},
): Uint8Array {
  const f = fn as unknown as (...a: unknown[]) => unknown;
  if (!opts.dynamicBatch) return exportWith(f, args, opts);
  const leaves = flatten(args).leaves;
  const batch = leaves[0]?.shape[0];
  if (batch === undefined || leaves.some((t) => t.rank === 0 || t.shape[0] !== batch)) {
    throw new TensorError(
      `exportOnnx: with dynamicBatch every input needs the same leading (batch) dimension, got (${describeArgs(leaves)})`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = exportWith(f, args, opts, {
      sentinel: SENTINEL,
      batched: new Set(leaves.map((_, i) => i)),
    });
  } catch (e) {
    if (e instanceof PolyUnsupported)
      throw new TensorError(`exportOnnx: the batch dimension cannot be symbolic: ${e.message}`);
    throw e;
  }
  // the symbolic-batch model must reproduce the static one on the example arguments
  const run = (model: Uint8Array): Tensor[] => {
    const s = createSession(model, { threads: 1, graphOptimizationLevel: "basic" });
    const feeds: Record<string, ort.Tensor> = {};
    s.inputNames.forEach((name, i) => (feeds[name] = leaves[i]!.toOrt()));
    const out = s.run(feeds);
    return s.outputNames.map((n) => Tensor.fromOrt(out[n]!));
  };
  const a = run(bytes);
  const b = run(exportWith(f, args, opts));
  if (!a.every((t, i) => sameValues(t, b[i]!))) {
    throw new TensorError(
      "exportOnnx: the function bakes the batch size into its computation (e.g. x.shape[0] used as a number); export without dynamicBatch",
    );
  }
  return bytes;
}

function exportWith(
  f: (...a: unknown[]) => unknown,
  args: unknown[],
  opts: ExportOptions,
  poly?: PolySpec,
): Uint8Array {
  const { trace, placeholders, outLeaves } = traceFunction(f, args, poly);
  for (const t of outLeaves)
    if (t._node?.trace !== trace)
      throw new TensorError("exportOnnx: every output must depend on the inputs");
  // threads: Infinity, so an exported graph does not depend on this machine's cores
  const lowered = lowerTrace(trace, placeholders, outLeaves, true, poly, Infinity);
  const b = lowered.builder;
  const rename = new Map<string, string>();
  b.inputs.forEach((v) => {
    const arg = Number(v.name.slice("input_".length));
    const n = opts.inputNames?.[arg];
    if (n) rename.set(v.name, n);
  });
  b.outputs.forEach((v, i) => {
    const n = opts.outputNames?.[i];
    if (n) rename.set(v.name, n);
  });
  if (opts.constantNames) {
    const taken = new Set<string>();
    for (const node of trace.nodes) {
      const n = node.op === "const" && node.value ? opts.constantNames.get(node.value) : undefined;
      if (n === undefined) continue;
      if (taken.has(n)) throw new TensorError(`exportOnnx: constant name '${n}' is used twice`);
      taken.add(n);
      rename.set(`const_${node.id}`, n);
    }
  }
  const r = (n: string): string => rename.get(n) ?? n;
  for (const init of b.initializers) if (init.name) init.name = r(init.name);
  for (const v of [...b.inputs, ...b.outputs]) {
    v.name = r(v.name);
    if (opts.batchName)
      v.shape = v.shape.map((d) =>
        typeof d === "string" ? d.replace(/^batch/, opts.batchName!) : d,
      );
  }
  for (const n of b.nodes) {
    n.inputs = n.inputs.map(r);
    n.outputs = n.outputs.map(r);
  }
  return b.encode("tsnb_export");
}

/**
 * Traces `fn` on `args` and lowers it to a standalone ONNX graph (not a model): every tensor of
 * `args` is an input in argument order (declared even when unused), named by `inputNames`; the
 * returned tensors are outputs named by `outputNames` (or by a function of their count); captured
 * tensors become initializers. Also gives the graph's estimated work and a rebuilder of the
 * result's tree. The body of scan's ONNX Loop.
 */
function tracedGraph(
  fn: (...args: never[]) => unknown,
  args: unknown[],
  opts: {
    inputNames: readonly string[];
    outputNames: readonly string[] | ((count: number) => string[]);
    name?: string;
    threads?: number;
  },
): { graph: GraphJson; work: number; rebuild: (l: readonly Tensor[]) => unknown } {
  const f = fn as unknown as (...a: unknown[]) => unknown;
  const { trace, placeholders, outLeaves, rebuild } = traceFunction(f, args);
  const outputNames =
    typeof opts.outputNames === "function" ? opts.outputNames(outLeaves.length) : opts.outputNames;
  if (placeholders.length !== opts.inputNames.length || outLeaves.length !== outputNames.length)
    throw new TensorError(
      `scan: ${placeholders.length} inputs and ${outLeaves.length} outputs, but ${opts.inputNames.length} input and ${outputNames.length} output names`,
    );
  for (const t of outLeaves)
    if (t._node?.trace !== trace)
      throw new TensorError("scan: every output of the body must depend on its inputs");
  const lowered = lowerTrace(trace, placeholders, outLeaves, true, undefined, opts.threads);
  const b = lowered.builder;
  const rename = new Map<string, string>();
  placeholders.forEach((_, i) => rename.set(`input_${i}`, opts.inputNames[i]!));
  outLeaves.forEach((_, i) => rename.set(`output_${i}`, outputNames[i]!));
  const r = (n: string): string => rename.get(n) ?? n;
  const declared = new Map(b.inputs.map((v) => [v.name, v]));
  const inputs = placeholders.map((p, i) => {
    const v = declared.get(`input_${i}`) ?? {
      name: `input_${i}`,
      elemType: onnxType(p.dtype),
      shape: p.shape.slice(),
    };
    return { ...v, name: r(v.name) };
  });
  for (const v of b.outputs) v.name = r(v.name);
  for (const n of b.nodes) {
    n.inputs = n.inputs.map(r);
    n.outputs = n.outputs.map(r);
  }
  const graph = {
    name: opts.name ?? "traced",
    nodes: b.nodes,
    inputs,
    outputs: b.outputs,
    initializers: b.initializers,
  };
  return { graph, work: lowered.work, rebuild };
}

/** Options of {@link scan}. */
export interface ScanOptions {
  /** Intra-op threads of the compiled session (default: 1 for small bodies, all cores for large). */
  threads?: number;
  /** ONNX Runtime execution providers, as for jit. */
  executionProviders?: readonly string[];
}

interface CompiledScan {
  session: Session;
  /** Carry and ys from the Loop's outputs (flattened: carry leaves, then ys leaves). */
  rebuild: (outs: readonly Tensor[]) => [unknown, unknown];
  outputs: Array<{ name: string; dtype: DType }>;
}

const scans = new WeakMap<object, Map<string, CompiledScan>>();

/**
 * Runs `body(carry, x) → [carry, y]` for each x along the leading axis of `xs` (a tree whose
 * leaves share that axis), threading the carry: JAX's `lax.scan`. Returns the final carry and the
 * ys stacked along a new leading axis. The k steps run as one ONNX `Loop` in one call into ONNX
 * Runtime, so a training loop pays for one call per k steps, not per step (what `train.fit`
 * does with its eight-step loop). Compiled once per body and argument signature (like jit);
 * inside jit or grad it unrolls into the traced graph instead, so it composes with both.
 */
export function scan<C, X, Y>(
  body: (carry: C, x: X) => readonly [C, Y],
  init: C,
  xs: X,
  opts: ScanOptions = {},
): [C, Y] {
  const carry = flatten(init);
  const xsFlat = flatten(xs);
  if (xsFlat.leaves.length === 0) throw new TensorError("scan: xs holds no tensor");
  const k = xsFlat.leaves[0]!.shape[0] ?? 0;
  for (const t of xsFlat.leaves)
    if (t.rank === 0 || t.shape[0] !== k)
      throw new TensorError(
        `scan: every tensor of xs needs the same leading length (got [${xsFlat.leaves.map((l) => l.shape.join(",")).join("], [")}])`,
      );
  if (k === 0) throw new TensorError("scan: xs has length 0 along its leading axis");
  const checkCarry = (c: unknown): void => {
    const got = flatten(c);
    const same =
      got.key === carry.key &&
      got.leaves.every(
        (t, i) =>
          t.dtype === carry.leaves[i]!.dtype &&
          t.shape.join(",") === carry.leaves[i]!.shape.join(","),
      );
    if (!same)
      throw new TensorError(
        `scan: the body must return a carry of the structure, shapes and dtypes it was given (${describeArgs(carry.leaves)}), got (${describeArgs(got.leaves)})`,
      );
  };
  const step = (c: C, x: X): [C, Y] => {
    const r = body(c, x);
    if (!Array.isArray(r) || r.length !== 2)
      throw new TensorError("scan: the body must return [carry, y]");
    checkCarry(r[0]);
    return [r[0] as C, r[1] as Y];
  };
  const at = (i: number | Tensor): X =>
    xsFlat.rebuild(xsFlat.leaves.map((t) => o.take(t, i, { axis: 0 }))) as X;
  // Inside a trace: unrolled, one body per step, so grad and vmap see ordinary ops.
  if ([...carry.leaves, ...xsFlat.leaves].some((t) => t.isSymbolic)) {
    let c = init;
    const ys: unknown[] = [];
    for (let i = 0; i < k; i++) {
      const [c2, y] = step(c, at(i));
      c = c2;
      ys.push(y);
    }
    const first = flatten(ys[0]);
    const stacked = first.leaves.map((_, j) => o.stack(ys.map((y) => flatten(y).leaves[j]!)));
    return [c, first.rebuild(stacked) as Y];
  }
  let key = `${carry.key}|${xsFlat.key}|${opts.threads ?? ""}|${(opts.executionProviders ?? []).join(",")}`;
  for (const t of [...carry.leaves, ...xsFlat.leaves]) key += `|${t.dtype}${t.shape.join(",")}`;
  let perBody = scans.get(body);
  if (!perBody) scans.set(body, (perBody = new Map()));
  let compiled = perBody.get(key);
  if (!compiled) {
    compiled = compileScan(step, carry.leaves, xsFlat.leaves, init, xs, k, opts);
    perBody.set(key, compiled);
    if (perBody.size === MANY_COMPILES)
      console.warn(
        `tsnb/nx scan: ${MANY_COMPILES} compilations of ${body.name || "one body"}: each new shape compiles a new loop`,
      );
  }
  const feeds: Record<string, ort.Tensor> = {};
  carry.leaves.forEach((t, i) => (feeds[`scan_carry_in_${i}`] = t.toOrt()));
  xsFlat.leaves.forEach((t, i) => (feeds[`scan_xs_${i}`] = t.toOrt()));
  let results: Record<string, ort.Tensor>;
  try {
    results = compiled.session.run(feeds);
  } catch (e) {
    throw new TensorError(
      `scan: running the compiled loop failed (${describeArgs([...carry.leaves, ...xsFlat.leaves])}): ${explainOrtFailure(e)}`,
      { cause: e },
    );
  }
  stats.runs++;
  const outs = compiled.outputs.map(({ name, dtype }) => {
    const r = results[name]!;
    return new Tensor(r.dims, dtype, r, null);
  });
  return compiled.rebuild(outs) as [C, Y];
}

/** The ONNX Loop of a scan: the body traced once, the xs read from the outer scope at `iter`. */
function compileScan<C, X, Y>(
  step: (c: C, x: X) => [C, Y],
  carryLeaves: readonly Tensor[],
  xsLeaves: readonly Tensor[],
  init: C,
  xs: X,
  k: number,
  opts: ScanOptions,
): CompiledScan {
  const nc = carryLeaves.length;
  const xsNames = xsLeaves.map((_, i) => `scan_xs_${i}`);
  const xsRebuild = flatten(xs).rebuild;
  const loopBody = (iter: Tensor, cond: Tensor, c: C, all: Tensor[]): unknown[] => {
    const x = xsRebuild(all.map((t) => o.take(t, iter, { axis: 0 }))) as X;
    const [c2, y] = step(c, x);
    yDtypes = flatten(y).leaves.map((t) => t.dtype);
    return [cond, c2, y];
  };
  let yDtypes: DType[] = [];
  const zeros = (dtype: DType) => o.zeros([], { dtype });
  let ny = 0;
  const traced = tracedGraph(loopBody, [zeros("i64"), zeros("bool"), init, [...xsLeaves]], {
    name: "scan_body",
    threads: opts.threads,
    inputNames: [
      "scan_iter",
      "scan_cond_in",
      ...carryLeaves.map((_, i) => `scan_body_carry_${i}`),
      ...xsNames,
    ],
    outputNames: (count) => {
      ny = count - 1 - nc;
      return [
        "scan_cond_out",
        ...carryLeaves.map((_, i) => `scan_body_carry_out_${i}`),
        ...Array.from({ length: ny }, (_, i) => `scan_body_y_${i}`),
      ];
    },
  });
  const body = traced.graph;
  const outer = new Set(xsNames);
  body.inputs = body.inputs.filter((v) => !outer.has(v.name));
  const yTypes = body.outputs.slice(1 + nc);
  const g = new GraphBuilder();
  carryLeaves.forEach((t, i) => g.input(`scan_carry_in_${i}`, t.dtype, t.shape.slice()));
  xsLeaves.forEach((t, i) => g.input(xsNames[i]!, t.dtype, t.shape.slice()));
  g.initializer("i64", [], BigInt64Array.from([BigInt(k)]), "scan_trips");
  g.initializer("bool", [], Uint8Array.from([1]), "scan_true");
  const carryOut = carryLeaves.map((_, i) => `scan_carry_out_${i}`);
  const ysOut = Array.from({ length: ny }, (_, i) => `scan_ys_${i}`);
  g.nodes.push({
    opType: "Loop",
    inputs: ["scan_trips", "scan_true", ...carryLeaves.map((_, i) => `scan_carry_in_${i}`)],
    outputs: [...carryOut, ...ysOut],
    attrs: { body: { graph: body } },
  });
  carryLeaves.forEach((t, i) => g.output(carryOut[i]!, t.dtype, t.shape.slice()));
  yTypes.forEach((v, i) => g.outputs.push({ ...v, name: ysOut[i]!, shape: [k, ...v.shape] }));
  const session = sessionOf(g, traced.work * k, opts, "scan", "the loop", () => [
    ...carryLeaves,
    ...xsLeaves,
  ]);
  return {
    session,
    outputs: [
      ...carryLeaves.map((t, i) => ({ name: carryOut[i]!, dtype: t.dtype })),
      ...yDtypes.map((dtype, i) => ({ name: ysOut[i]!, dtype })),
    ],
    rebuild: (outs) => {
      const r = traced.rebuild([o.zeros([], { dtype: "bool" }), ...outs]) as unknown[];
      return [r[1], r[2]];
    },
  };
}

/** Options of vmap. */
export interface VmapOptions {
  /**
   * The mapped axis of each argument (default 0 for all): one number for every argument, or one
   * entry per argument, `null` for an argument passed whole to every call. For a tree argument
   * the axis applies to each of its tensors.
   */
  inAxes?: number | ReadonlyArray<number | null>;
  /** Where the mapped axis goes in every result tensor (default 0). */
  outAxes?: number;
}

/**
 * Maps `fn` over an axis of its arguments (JAX's vmap, Nx's vectorize): `vmap(f)(xs)` is
 * `stack([f(xs[0]), f(xs[1]), …])`, for tensors and trees of tensors in and out. `fn` is traced
 * once on one example's shapes and replayed on the whole batch with a batching rule per
 * primitive (vmap.ts), so each primitive runs once on the batch (eagerly) or is one node (inside
 * jit), whatever the batch size; it composes with jit, grad and itself. A function that cannot be
 * traced (it reads tensor values) is called once per example instead.
 */
export function vmap<F extends (...args: never[]) => unknown>(fn: F, opts: VmapOptions = {}): F {
  const f = fn as unknown as (...a: unknown[]) => unknown;
  const mapped = (...args: unknown[]): unknown => {
    const axes = args.map((_, i) =>
      typeof opts.inAxes === "number" || opts.inAxes === undefined
        ? (opts.inAxes ?? 0)
        : opts.inAxes[i] === undefined
          ? 0
          : opts.inAxes[i],
    );
    let n = -1;
    const flats = args.map((a, i) => {
      const ax = axes[i];
      if (ax === null || ax === undefined) return null;
      const flat = flatten(a);
      for (const t of flat.leaves) {
        const axis = ax < 0 ? ax + t.rank : ax;
        if (axis < 0 || axis >= t.rank)
          throw new TensorError(
            `vmap: argument ${i} (${t.dtype}[${t.shape.join(",")}]) has no axis ${ax} to map over`,
          );
        const size = t.shape[axis]!;
        if (n !== -1 && size !== n)
          throw new TensorError(`vmap: mapped axes have different sizes (${n} and ${size})`);
        n = size;
      }
      return flat;
    });
    if (n === -1) throw new TensorError("vmap: no argument has a tensor to map over");
    if (n === 0)
      throw new TensorError(
        "vmap: cannot map over an empty axis (the results' shapes would be unknown)",
      );
    const batchedResult = batchedCall(f, args, axes, n, opts.outAxes ?? 0);
    if (batchedResult) return batchedResult.value;
    // fn reads values (item(), masks, …): call it once per example
    const results: Array<{
      leaves: Tensor[];
      key: string;
      rebuild: (l: readonly Tensor[]) => unknown;
    }> = [];
    for (let k = 0; k < n; k++) {
      const callArgs = args.map((a, i) => {
        const flat = flats[i];
        if (!flat) return a;
        const ax = axes[i]!;
        return flat.rebuild(
          flat.leaves.map((t) => o.take(t, k, { axis: ax < 0 ? ax + t.rank : ax })),
        );
      });
      const out = flatten(f(...callArgs));
      if (results.length && out.key !== results[0]!.key)
        throw new TensorError("vmap: the function returned differently structured results");
      results.push(out);
    }
    const first = results[0]!;
    const stacked = first.leaves.map((t, j) => {
      const outAxis = opts.outAxes ?? 0;
      const axis = outAxis < 0 ? outAxis + t.rank + 1 : outAxis;
      return o.stack(
        results.map((r) => r.leaves[j]!),
        { axis },
      );
    });
    return first.rebuild(stacked);
  };
  return mapped as unknown as F;
}
