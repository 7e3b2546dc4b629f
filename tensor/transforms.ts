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
import { type DType, isFloat } from "./dtype.ts";
import { backward } from "./grad.ts";
import { GraphBuilder } from "./graph.ts";
import { LOWERINGS, type Prim } from "./lower.ts";
import * as o from "./ops.ts";
import { CORES, createSession, stats, type Session } from "./runtime.ts";
import { Tensor, TensorError, Trace } from "./tensor.ts";
import { flatten } from "./tree.ts";

/** Constants up to this many elements are baked into the graph; larger ones are fed at each run. */
const INLINE_CONST = 256;
/** Estimated work (element-ops) above which a compiled graph uses all cores. */
const PARALLEL_WORK = 1 << 18;

/** Options of jit. */
export interface JitOptions {
  /** Intra-op threads of the compiled session (default: 1 for small graphs, all cores for large). */
  threads?: number;
}

interface Lowered {
  builder: GraphBuilder;
  /** Graph input name → where its value comes from at run time. */
  feeds: Array<{ name: string; arg: number } | { name: string; value: Tensor }>;
  /** Per flattened output: graph output name, or a constant tensor returned as is. */
  outputs: Array<{ name: string; dtype: DType; shape: readonly number[] } | { value: Tensor }>;
  work: number;
}

/** Lowers the part of a trace that `outs` need into an ONNX graph. */
function lowerTrace(trace: Trace, placeholders: readonly Tensor[], outs: readonly Tensor[], exportMode: boolean): Lowered {
  const b = new GraphBuilder();
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
      b.input(name, out.dtype, out.shape.slice());
      feeds.push({ name, arg });
      names.set(node.id, name);
    } else if (node.op === "const") {
      const v = node.value!;
      if (exportMode || v.size <= INLINE_CONST) {
        names.set(node.id, b.initializer(v.dtype, v.shape.slice(), v.dataSync(), exportMode ? `const_${node.id}` : undefined));
      } else {
        const name = `k${node.id}`;
        b.input(name, v.dtype, v.shape.slice());
        feeds.push({ name, value: v });
        names.set(node.id, name);
      }
    } else {
      const lower = LOWERINGS[node.op as Exclude<Prim, "input" | "const">];
      const ins = node.inputs.map((x) => names.get(x._node!.id)!);
      names.set(node.id, lower(b, ins, node.inputs.map((x) => x.dtype), node.attrs, out.dtype));
      work += node.op === "matmul" ? out.size * (node.inputs[0]!.shape.at(-1) ?? 1) : out.size;
    }
  }
  const outputs: Lowered["outputs"] = outs.map((t, i) => {
    if (t._node?.trace !== trace) return { value: t };
    const name = exportMode ? `output_${i}` : `out${i}`;
    b.add("Identity", [names.get(t._node.id)!], undefined, name);
    b.output(name, t.dtype, t.shape.slice());
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
function traceFunction(fn: (...args: unknown[]) => unknown, args: unknown[]): { trace: Trace; placeholders: Tensor[]; outLeaves: Tensor[]; rebuild: (l: readonly Tensor[]) => unknown } {
  const flat = flatten(args);
  const trace = new Trace();
  const placeholders = flat.leaves.map((t) => trace.placeholder(t.shape, t.dtype));
  let result: unknown;
  try {
    result = fn(...(flat.rebuild(placeholders) as unknown[]));
  } finally {
    trace.active = false;
  }
  if (result instanceof Promise) throw new TensorError("jit: the function returned a Promise; traced functions must be synchronous");
  const out = flatten(result);
  return { trace, placeholders, outLeaves: out.leaves, rebuild: out.rebuild };
}

function compile(fn: (...args: unknown[]) => unknown, args: unknown[], opts: JitOptions): Compiled {
  const { trace, placeholders, outLeaves, rebuild } = traceFunction(fn, args);
  const lowered = lowerTrace(trace, placeholders, outLeaves, false);
  const hasGraph = lowered.outputs.some((x) => "name" in x);
  let session: Session | null = null;
  if (hasGraph) {
    const threads = opts.threads ?? (CORES > 1 && lowered.work >= PARALLEL_WORK ? CORES : 1);
    try {
      session = createSession(lowered.builder.encode("jit"), { threads, graphOptimizationLevel: "all" });
      stats.sessionsCreated++;
    } catch (e) {
      throw new TensorError(`jit: could not compile the traced graph for arguments (${describeArgs(flatten(args).leaves)}): ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
  }
  return { session, lowered, rebuild };
}

function runCompiled(c: Compiled, leaves: readonly Tensor[]): unknown {
  let results: Record<string, ort.Tensor> = {};
  if (c.session) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of c.lowered.feeds) feeds[f.name] = "arg" in f ? leaves[f.arg]!.toOrt() : f.value.toOrt();
    try {
      results = c.session.run(feeds);
    } catch (e) {
      throw new TensorError(`jit: running the compiled graph failed for arguments (${describeArgs(leaves)}): ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
    stats.runs++;
  }
  const outs = c.lowered.outputs.map((x) => ("value" in x ? x.value : new Tensor(x.shape, x.dtype, results[x.name]!, null)));
  return c.rebuild(outs);
}

/**
 * Compiles `fn` (a function of tensors, or trees of tensors, returning the same) into one ONNX
 * graph per distinct argument signature (structure, shapes, dtypes, non-tensor values).
 * Inside another jit/grad it is inlined.
 */
export function jit<F extends (...args: never[]) => unknown>(fn: F, opts: JitOptions = {}): F {
  const cache = new Map<string, Compiled>();
  const jitted = (...args: unknown[]): unknown => {
    const flat = flatten(args);
    if (flat.leaves.some((t) => t.isSymbolic)) return (fn as unknown as (...a: unknown[]) => unknown)(...args);
    let key = flat.key;
    for (const t of flat.leaves) key += `|${t.dtype}${t.shape.join(",")}`;
    let c = cache.get(key);
    if (!c) {
      c = compile(fn as unknown as (...a: unknown[]) => unknown, args, opts);
      cache.set(key, c);
    }
    return runCompiled(c, flat.leaves);
  };
  return jitted as unknown as F;
}

/** Options of grad/valueAndGrad: which arguments to differentiate, and whether fn returns [value, aux]. */
export interface GradOptions {
  /** Index or indices of the differentiated arguments (default 0). Each may be a tensor or a tree of tensors. */
  argnums?: number | number[];
  /** fn returns [scalar, aux]; aux is returned along with the value. */
  hasAux?: boolean;
}

function gradOptions(o: number | number[] | GradOptions | undefined): { argnums: number[]; single: boolean; hasAux: boolean } {
  if (o === undefined) return { argnums: [0], single: true, hasAux: false };
  if (typeof o === "number") return { argnums: [o], single: true, hasAux: false };
  if (Array.isArray(o)) return { argnums: o, single: false, hasAux: false };
  const a = o.argnums ?? 0;
  return { argnums: typeof a === "number" ? [a] : a, single: typeof a === "number", hasAux: o.hasAux ?? false };
}

function traceOf(leaves: readonly Tensor[]): Trace {
  for (const t of leaves) if (t._node) return t._node.trace;
  throw new TensorError("grad: internal error: no traced argument");
}

function makeGrad(fn: (...args: unknown[]) => unknown, options: number | number[] | GradOptions | undefined, withValue: boolean): (...args: unknown[]) => unknown {
  const { argnums, single, hasAux } = gradOptions(options);
  const inner = (...args: unknown[]): unknown => {
    const trace = traceOf(flatten(args).leaves);
    const newArgs = args.slice();
    const wrt: Tensor[] = [];
    const rebuilds: Array<(l: readonly Tensor[]) => unknown> = [];
    const counts: number[] = [];
    for (const i of argnums) {
      if (i < 0 || i >= args.length) throw new TensorError(`grad: argnums ${i} is out of range for ${args.length} arguments`);
      const f = flatten(args[i]);
      if (f.leaves.length === 0) throw new TensorError(`grad: argument ${i} contains no tensors`);
      const ids = f.leaves.map((t) => {
        if (!isFloat(t.dtype)) throw new TensorError(`grad: argument ${i} has a ${t.dtype}[${t.shape.join(",")}] tensor; only f32/f64 tensors can be differentiated`);
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
      if (!Array.isArray(result) || result.length !== 2) throw new TensorError("grad: with hasAux the function must return [value, aux]");
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
export function grad(fn: (...args: never[]) => unknown, options?: number | number[] | GradOptions): (...args: unknown[]) => any {
  return makeGrad(fn as unknown as (...args: unknown[]) => unknown, options, false);
}

/** Like grad, returning `[value, gradient]` (`[[value, aux], gradient]` with hasAux). */
export function valueAndGrad(fn: (...args: never[]) => unknown, options?: number | number[] | GradOptions): (...args: unknown[]) => ValueAndGrad {
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
}

/**
 * Traces `fn` on `args` and returns a standalone ONNX model (bytes): the tensors of `args` become
 * graph inputs with static shapes, every tensor the function captures (weights) becomes an
 * initializer, the returned tensors become outputs.
 */
export function exportOnnx(fn: (...args: never[]) => unknown, args: unknown[], opts: ExportOptions = {}): Uint8Array {
  const { trace, placeholders, outLeaves } = traceFunction(fn as unknown as (...a: unknown[]) => unknown, args);
  for (const t of outLeaves) if (t._node?.trace !== trace) throw new TensorError("exportOnnx: every output must depend on the inputs");
  const lowered = lowerTrace(trace, placeholders, outLeaves, true);
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
  const r = (n: string): string => rename.get(n) ?? n;
  for (const v of [...b.inputs, ...b.outputs]) v.name = r(v.name);
  for (const n of b.nodes) {
    n.inputs = n.inputs.map(r);
    n.outputs = n.outputs.map(r);
  }
  return b.encode("tsnb_export");
}
