/**
 * `nx.linalg`: NumPy's `numpy.linalg` names. The matrix decompositions svd, qr and eigh (and
 * svdvals, eigvalsh, and pinv, matrixRank, cholesky on top) are computed eagerly on the host in f64, because ONNX Runtime has no
 * decomposition ops; the result is in the input's float dtype. The other names (norm, det, inv,
 * solve) are the ONNX-composed ops of linalg.ts under NumPy's names.
 *
 * Algorithms (all batched over leading axes, one matrix at a time):
 *  - qr: Householder reflections (LAPACK geqrf's sign convention: R[j,j] = -sign(x0)·‖x‖).
 *  - svd: one-sided (Hestenes) Jacobi on the columns — accurate for small singular values — of A
 *    (or of Aᵀ when A is wide); singular vectors of zero singular values and the extra columns
 *    of full_matrices are completed to an orthonormal basis with a Householder QR.
 *  - eigh: cyclic Jacobi rotations on the symmetric matrix read from the lower triangle (NumPy's
 *    default UPLO="L"); eigenvalues ascending.
 * Signs of singular vectors and eigenvectors may differ from NumPy's (both are valid).
 * They do not run inside jit or grad (no symbolic form, no gradient rule): they refuse there.
 */
import { isFloat } from "./dtype.ts";
import * as o from "./ops.ts";
import { Tensor, TensorError, type TensorLike } from "./tensor.ts";

export { norm, det, solve, inverse as inv } from "./linalg.ts";

const EPS = 2.220446049250313e-16;

function fail(msg: string): never {
  throw new TensorError(msg);
}

/** The input as f64 matrices: batch shape, m, n and one Float64Array per matrix (row-major). */
function matrices(
  op: string,
  x: TensorLike,
  square = false,
): { t: Tensor; batch: number[]; m: number; n: number; mats: Float64Array[] } {
  const t = x instanceof Tensor ? x : o.tensor(x);
  if (t.rank < 2) fail(`${op} expects a tensor of rank >= 2, got shape [${t.shape.join(", ")}]`);
  if (!isFloat(t.dtype))
    fail(
      `${op} expects a float tensor (f32 or f64), got ${t.dtype}; cast it first, e.g. x.asType("f64")`,
    );
  if (t.isSymbolic)
    fail(
      `${op} runs eagerly on the host and has no gradient rule: it cannot be used inside jit or grad; call it outside`,
    );
  const m = t.shape[t.rank - 2]!;
  const n = t.shape[t.rank - 1]!;
  if (square && m !== n)
    fail(`${op} expects square matrices in the last two axes, got shape [${t.shape.join(", ")}]`);
  const batch = t.shape.slice(0, -2);
  const count = batch.reduce((a, b) => a * b, 1);
  const data = t.dataSync() as Float32Array | Float64Array;
  const mats: Float64Array[] = [];
  for (let b = 0; b < count; b++) {
    const a = Float64Array.from(data.subarray(b * m * n, (b + 1) * m * n));
    for (const v of a) if (!Number.isFinite(v)) fail(`${op}: the input has NaN or infinite values`);
    mats.push(a);
  }
  return { t, batch, m, n, mats };
}

/** One tensor of shape [...batch, ...shape] in `like`'s dtype from the per-matrix results. */
function stack(like: Tensor, batch: number[], shape: number[], parts: Float64Array[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(parts.length * size);
  parts.forEach((p, i) => out.set(p, i * size));
  return o.tensor(like.dtype === "f64" ? out : Float32Array.from(out), {
    dtype: like.dtype,
    shape: [...batch, ...shape],
  });
}

// ---------------------------------------------------------------------------------------------
// Householder QR

interface Householder {
  m: number;
  n: number;
  /** R in the upper triangle of an m×n row-major matrix (below it: garbage). */
  r: Float64Array;
  /** Unit reflector vectors v_j (length m, zero above j); null where the reflector is I. */
  vs: Array<Float64Array | null>;
}

function householder(a: Float64Array, m: number, n: number): Householder {
  const r = Float64Array.from(a);
  const k = Math.min(m, n);
  const vs: Array<Float64Array | null> = [];
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += r[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[j * n + j]!;
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = j; i < m; i++) v[i] = r[i * n + j]!;
    v[j] = x0 - alpha;
    let vn = 0;
    for (let i = j; i < m; i++) vn += v[i]! ** 2;
    vn = Math.sqrt(vn);
    if (norm === 0 || vn === 0) {
      vs.push(null);
      continue;
    }
    for (let i = j; i < m; i++) v[i] = v[i]! / vn;
    // r[j:, j:] -= 2 v (vᵀ r[j:, j:])
    for (let c = j; c < n; c++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i]! * r[i * n + c]!;
      dot *= 2;
      for (let i = j; i < m; i++) r[i * n + c] = r[i * n + c]! - dot * v[i]!;
    }
    r[j * n + j] = alpha;
    for (let i = j + 1; i < m; i++) r[i * n + j] = 0;
    vs.push(v);
  }
  return { m, n, r, vs };
}

/** The first `cols` columns of Q = H_0 H_1 … H_{k-1}, as an m×cols row-major matrix. */
function formQ(h: Householder, cols: number): Float64Array {
  const { m, vs } = h;
  const q = new Float64Array(m * cols);
  for (let c = 0; c < cols; c++) q[c * cols + c] = 1;
  for (let j = vs.length - 1; j >= 0; j--) {
    const v = vs[j];
    if (!v) continue;
    for (let c = 0; c < cols; c++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += v[i]! * q[i * cols + c]!;
      dot *= 2;
      for (let i = j; i < m; i++) q[i * cols + c] = q[i * cols + c]! - dot * v[i]!;
    }
  }
  return q;
}

/** The upper-triangular rows×n R (rows ≤ m) of a Householder QR. */
function upperR(h: Householder, rows: number): Float64Array {
  const { n, r } = h;
  const out = new Float64Array(rows * n);
  for (let i = 0; i < Math.min(rows, h.m); i++)
    for (let c = i; c < n; c++) out[i * n + c] = r[i * n + c]!;
  return out;
}

export type QrMode = "reduced" | "complete" | "r";

/** NumPy's QRResult: Q (orthonormal columns) and R (upper triangular), A = Q·R. */
export interface QrResult {
  Q: Tensor;
  R: Tensor;
}

/**
 * QR decomposition (np.linalg.qr) of a float tensor [..., M, N] with K = min(M, N):
 * mode "reduced" (default) gives Q [..., M, K] and R [..., K, N]; "complete" gives Q [..., M, M]
 * and R [..., M, N]. `qrR` is mode "r" (R only).
 */
export function qr(a: TensorLike, opts: { mode?: "reduced" | "complete" } = {}): QrResult {
  const mode = opts.mode ?? "reduced";
  if (mode !== "reduced" && mode !== "complete")
    fail(`qr: mode must be "reduced" or "complete" (use qrR for mode "r"), got "${String(mode)}"`);
  const { t, batch, m, n, mats } = matrices("qr", a);
  const k = Math.min(m, n);
  const qCols = mode === "complete" ? m : k;
  const rRows = mode === "complete" ? m : k;
  const qs: Float64Array[] = [];
  const rs: Float64Array[] = [];
  for (const mat of mats) {
    const h = householder(mat, m, n);
    qs.push(formQ(h, qCols));
    rs.push(upperR(h, rRows));
  }
  return { Q: stack(t, batch, [m, qCols], qs), R: stack(t, batch, [rRows, n], rs) };
}

/** R of the reduced QR decomposition (np.linalg.qr(a, mode="r")): [..., min(M, N), N]. */
export function qrR(a: TensorLike): Tensor {
  const { t, batch, m, n, mats } = matrices("qr", a);
  const k = Math.min(m, n);
  return stack(
    t,
    batch,
    [k, n],
    mats.map((mat) => upperR(householder(mat, m, n), k)),
  );
}

// ---------------------------------------------------------------------------------------------
// SVD: one-sided Jacobi

/**
 * Thin SVD of an m×n matrix with m ≥ n: U columns (column-major, m×n), singular values
 * (descending) and V (column-major n×n). Columns of zero singular values are left zero in U.
 */
function jacobiSvd(
  a: Float64Array,
  m: number,
  n: number,
  wantVectors: boolean,
): { u: Float64Array; s: Float64Array; v: Float64Array; zero: boolean[] } {
  // column-major working copy
  const w = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a[i * n + j]!;
  const v = new Float64Array(wantVectors ? n * n : 0);
  if (wantVectors) for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const tol = 1e-15;
  for (let sweep = 0; sweep < 80; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const wp = w[p * m + i]!;
          const wq = w[q * m + i]!;
          alpha += wp * wp;
          beta += wq * wq;
          gamma += wp * wq;
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const wp = w[p * m + i]!;
          const wq = w[q * m + i]!;
          w[p * m + i] = c * wp - s * wq;
          w[q * m + i] = s * wp + c * wq;
        }
        if (wantVectors)
          for (let i = 0; i < n; i++) {
            const vp = v[p * n + i]!;
            const vq = v[q * n + i]!;
            v[p * n + i] = c * vp - s * vq;
            v[q * n + i] = s * vp + c * vq;
          }
      }
    if (!rotated) break;
  }
  const norms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += w[j * m + i]! ** 2;
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => norms[y]! - norms[x]!);
  const s = Float64Array.from(order, (j) => norms[j]!);
  const u = new Float64Array(wantVectors ? m * n : 0);
  const vv = new Float64Array(wantVectors ? n * n : 0);
  const zero: boolean[] = [];
  const small = (s[0] ?? 0) * Math.max(m, n) * EPS;
  order.forEach((j, k) => {
    const isZero = norms[j]! === 0 || norms[j]! <= small;
    zero.push(isZero);
    if (!wantVectors) return;
    for (let i = 0; i < n; i++) vv[k * n + i] = v[j * n + i]!;
    if (!isZero) for (let i = 0; i < m; i++) u[k * m + i] = w[j * m + i]! / norms[j]!;
  });
  return { u, s, v: vv, zero };
}

/**
 * `cols` orthonormal columns (column-major, m×cols): the first `given.length` are the given
 * orthonormal columns (null entries are filled in), the rest complete the basis. The new columns
 * come from a complete Householder QR of the given ones, so they are orthogonal to them.
 */
function completeBasis(m: number, given: Array<Float64Array | null>, cols: number): Float64Array {
  const out = new Float64Array(m * cols);
  const known = given.filter((g): g is Float64Array => g !== null);
  const missing = given.map((g, k) => (g ? -1 : k)).filter((k) => k >= 0);
  for (let k = given.length; k < cols; k++) missing.push(k);
  given.forEach((g, k) => g && out.set(g, k * m));
  if (missing.length === 0) return out;
  const r = known.length;
  const a = new Float64Array(m * r);
  known.forEach((g, c) => {
    for (let i = 0; i < m; i++) a[i * r + c] = g[i]!;
  });
  const need = r + missing.length;
  const q = formQ(householder(a, m, r), need); // m×need row-major; columns r.. are ⟂ to `known`
  missing.forEach((k, idx) => {
    for (let i = 0; i < m; i++) out[k * m + i] = q[i * need + r + idx]!;
  });
  return out;
}

/** The SVD of one m×n row-major matrix: U m×(M or K), S K, Vh (N or K)×n, row-major. */
function svdOne(
  mat: Float64Array,
  m: number,
  n: number,
  full = false,
): { U: Float64Array; S: Float64Array; Vh: Float64Array } {
  const k = Math.min(m, n);
  const uCols = full ? m : k;
  const vRows = full ? n : k;
  // work on the tall one of A and Aᵀ: A = U S Vᵀ, Aᵀ = V S Uᵀ
  const tall = m >= n;
  const rows = tall ? m : n;
  const cols = tall ? n : m;
  let src = mat;
  if (!tall) {
    src = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) src[j * m + i] = mat[i * n + j]!;
  }
  const r = jacobiSvd(src, rows, cols, true);
  // left vectors of the tall problem (rows-long), right vectors (cols-long), column-major
  const left = r.u;
  const right = r.v;
  const leftCols = completeBasis(
    rows,
    r.zero.map((z, c) => (z ? null : left.subarray(c * rows, (c + 1) * rows))),
    tall ? uCols : vRows,
  );
  const rightCols = right; // V is square and orthonormal already (cols×cols)
  const [uc, un, vc] = tall
    ? [leftCols, uCols, rightCols]
    : [rightCols, Math.min(uCols, cols), leftCols];
  // U: m×uCols row-major from column-major columns uc (each m long)
  const U = new Float64Array(m * uCols);
  for (let c = 0; c < un; c++) for (let i = 0; i < m; i++) U[i * uCols + c] = uc[c * m + i]!;
  // Vh: vRows×n row-major; row c = right vector c (n long)
  const Vh = new Float64Array(vRows * n);
  for (let c = 0; c < vRows; c++) for (let i = 0; i < n; i++) Vh[c * n + i] = vc[c * n + i]!;
  return { U, S: r.s, Vh };
}

/** The singular values of one m×n row-major matrix, descending. */
function svdvalsOne(mat: Float64Array, m: number, n: number): Float64Array {
  if (m >= n) return jacobiSvd(mat, m, n, false).s;
  const tr = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) tr[j * m + i] = mat[i * n + j]!;
  return jacobiSvd(tr, n, m, false).s;
}

/** NumPy's SVDResult: A = U · diag(S) · Vh. */
export interface SvdResult {
  U: Tensor;
  S: Tensor;
  Vh: Tensor;
}

/**
 * Singular value decomposition (np.linalg.svd) of a float tensor [..., M, N], K = min(M, N):
 * S [..., K] descending; with `fullMatrices` (default true, as NumPy) U [..., M, M] and
 * Vh [..., N, N], otherwise U [..., M, K] and Vh [..., K, N].
 */
export function svd(a: TensorLike, opts: { fullMatrices?: boolean } = {}): SvdResult {
  const full = opts.fullMatrices ?? true;
  const { t, batch, m, n, mats } = matrices("svd", a);
  const k = Math.min(m, n);
  const us: Float64Array[] = [];
  const ss: Float64Array[] = [];
  const vhs: Float64Array[] = [];
  const uCols = full ? m : k;
  const vRows = full ? n : k;
  for (const mat of mats) {
    const r = svdOne(mat, m, n, full);
    us.push(r.U);
    ss.push(r.S);
    vhs.push(r.Vh);
  }
  return {
    U: stack(t, batch, [m, uCols], us),
    S: stack(t, batch, [k], ss),
    Vh: stack(t, batch, [vRows, n], vhs),
  };
}

/** The singular values (np.linalg.svdvals / svd(a, compute_uv=False)): [..., min(M, N)], descending. */
export function svdvals(a: TensorLike): Tensor {
  const { t, batch, m, n, mats } = matrices("svdvals", a);
  const parts = mats.map((mat) => svdvalsOne(mat, m, n));
  return stack(t, batch, [Math.min(m, n)], parts);
}

// ---------------------------------------------------------------------------------------------
// eigh: cyclic Jacobi

function jacobiEigh(
  a: Float64Array,
  n: number,
  lower: boolean,
): { w: Float64Array; v: Float64Array } {
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const [r, c] = (lower ? i >= j : i <= j) ? [i, j] : [j, i];
      s[i * n + j] = a[r * n + c]!;
    }
  const v = new Float64Array(n * n); // row-major, columns are eigenvectors
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (const x of s) total += x * x;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += s[p * n + q]! ** 2;
    if (off <= EPS * EPS * total * 1e-4 || off === 0) break;
    for (let p = 0; p < n - 1; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = s[p * n + q]!;
        if (apq === 0) continue;
        const theta = (s[q * n + q]! - s[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < n; k++) {
          const kp = s[k * n + p]!;
          const kq = s[k * n + q]!;
          s[k * n + p] = c * kp - sn * kq;
          s[k * n + q] = sn * kp + c * kq;
        }
        for (let k = 0; k < n; k++) {
          const pk = s[p * n + k]!;
          const qk = s[q * n + k]!;
          s[p * n + k] = c * pk - sn * qk;
          s[q * n + k] = sn * pk + c * qk;
        }
        s[p * n + q] = 0;
        s[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const kp = v[k * n + p]!;
          const kq = v[k * n + q]!;
          v[k * n + p] = c * kp - sn * kq;
          v[k * n + q] = sn * kp + c * kq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, j) => j).sort(
    (x, y) => s[x * n + x]! - s[y * n + y]!,
  );
  const w = Float64Array.from(order, (j) => s[j * n + j]!);
  const vs = new Float64Array(n * n);
  order.forEach((j, k) => {
    for (let i = 0; i < n; i++) vs[i * n + k] = v[i * n + j]!;
  });
  return { w, v: vs };
}

/** NumPy's EighResult: A = eigenvectors · diag(eigenvalues) · eigenvectorsᵀ. */
export interface EighResult {
  eigenvalues: Tensor;
  eigenvectors: Tensor;
}

/**
 * Eigenvalues (ascending) and eigenvectors (the columns) of a symmetric float tensor [..., N, N]
 * (np.linalg.eigh): only the lower triangle is read (`UPLO: "U"` reads the upper one).
 */
export function eigh(a: TensorLike, opts: { UPLO?: "L" | "U" } = {}): EighResult {
  const { t, batch, n, mats } = matrices("eigh", a, true);
  const lower = (opts.UPLO ?? "L") === "L";
  const rs = mats.map((mat) => jacobiEigh(mat, n, lower));
  return {
    eigenvalues: stack(
      t,
      batch,
      [n],
      rs.map((r) => r.w),
    ),
    eigenvectors: stack(
      t,
      batch,
      [n, n],
      rs.map((r) => r.v),
    ),
  };
}

/** The eigenvalues (ascending) of a symmetric float tensor [..., N, N] (np.linalg.eigvalsh). */
export function eigvalsh(a: TensorLike, opts: { UPLO?: "L" | "U" } = {}): Tensor {
  return eigh(a, opts).eigenvalues;
}

// ---------------------------------------------------------------------------------------------
// Built on the decompositions: pinv, matrixRank, cholesky

/**
 * The Moore–Penrose pseudo-inverse (np.linalg.pinv) of [..., M, N] → [..., N, M], from the SVD:
 * singular values ≤ rcond · max(S) are treated as zero (NumPy's default rcond is 1e-15).
 */
export function pinv(a: TensorLike, opts: { rcond?: number } = {}): Tensor {
  const rcond = opts.rcond ?? 1e-15;
  const { t, batch, m, n, mats } = matrices("pinv", a);
  const k = Math.min(m, n);
  const parts = mats.map((mat) => {
    const { U, S, Vh } = svdOne(mat, m, n);
    const cut = rcond * (S[0] ?? 0);
    const out = new Float64Array(n * m);
    for (let j = 0; j < k; j++) {
      const s = S[j]!;
      if (!(s > cut)) continue;
      // out += Vh[j]ᵀ · (1/s) · U[:, j]ᵀ
      for (let i = 0; i < n; i++) {
        const vi = Vh[j * n + i]! / s;
        if (vi === 0) continue;
        for (let c = 0; c < m; c++) out[i * m + c] = out[i * m + c]! + vi * U[c * k + j]!;
      }
    }
    return out;
  });
  return stack(t, batch, [n, m], parts);
}

/**
 * The number of singular values above `tol` (np.linalg.matrix_rank) for each matrix of
 * [..., M, N], as i64 [...]; the default tol is max(S) · max(M, N) · eps of the input's dtype.
 */
export function matrixRank(a: TensorLike, opts: { tol?: number } = {}): Tensor {
  const { t, batch, m, n, mats } = matrices("matrixRank", a);
  const eps = t.dtype === "f32" ? 1.1920928955078125e-7 : EPS;
  const ranks = mats.map((mat) => {
    const s = svdvalsOne(mat, m, n);
    const tol = opts.tol ?? (s[0] ?? 0) * Math.max(m, n) * eps;
    let r = 0;
    for (const v of s) if (v > tol) r++;
    return BigInt(r);
  });
  return o.tensor(BigInt64Array.from(ranks), { dtype: "i64", shape: batch });
}

/**
 * The Cholesky factor of a symmetric positive-definite [..., N, N] (np.linalg.cholesky): lower
 * triangular L with A = L·Lᵀ (positive diagonal), or with `upper` U = Lᵀ (A = Uᵀ·U). Only the
 * lower triangle is read (upper: the upper one). Not positive definite → an error, as NumPy's
 * LinAlgError.
 */
export function cholesky(a: TensorLike, opts: { upper?: boolean } = {}): Tensor {
  const { t, batch, n, mats } = matrices("cholesky", a, true);
  const upper = opts.upper ?? false;
  const parts = mats.map((mat) => {
    const get = (i: number, j: number): number => (upper ? mat[j * n + i]! : mat[i * n + j]!);
    const l = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      let d = get(j, j);
      for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
      if (!(d > 0)) fail("cholesky: the matrix is not positive definite");
      const ljj = Math.sqrt(d);
      l[j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let s = get(i, j);
        for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
        l[i * n + j] = s / ljj;
      }
    }
    if (!upper) return l;
    const u = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[i * n + j] = l[j * n + i]!;
    return u;
  });
  return stack(t, batch, [n, n], parts);
}
