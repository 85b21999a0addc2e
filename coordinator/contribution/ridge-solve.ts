/**
 * The quality estimator's linear algebra: weighted ridge regression of group scores on group
 * membership, solved by conjugate gradient on the normal equations (AᵀΩA + λI) x = b, where A's
 * rows are the groups (1/|g| per member) and Ω the rows' weights. No matrix over the workers is
 * ever formed: one product walks every row once.
 */

/** One observed group: worker indexes, the normalised, clipped score, and the row's weight (1 / its relative variance). */
export interface Row {
  readonly members: readonly number[];
  readonly score: number;
  readonly weight?: number | undefined;
}

const CG_MAX_ITERATIONS = 500;
const CG_RELATIVE_TOLERANCE = 1e-10;

/** out = (AᵀΩA + λI) v, walking the rows once. */
function applyNormal(rows: readonly Row[], lambda: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = lambda * v[i]!;
  for (const row of rows) {
    const a = 1 / row.members.length;
    let av = 0;
    for (const u of row.members) av += a * v[u]!;
    const weighted = (row.weight ?? 1) * a * av;
    for (const u of row.members) out[u]! += weighted;
  }
}

/**
 * Conjugate gradient on (AᵀΩA + λI) x = b from `start` (zeros by default), A's rows being the
 * groups with 1/|g| per member and Ω their weights. The matrix is symmetric positive definite for λ > 0, so it
 * converges; it stops at a relative residual of 1e-10 or after CG_MAX_ITERATIONS.
 */
export function conjugateGradient(rows: ReadonlyArray<Row>, lambda: number, b: Float64Array, start?: Float64Array): Float64Array {
  const n = b.length;
  const x = start ? Float64Array.from(start) : new Float64Array(n);
  const r = new Float64Array(n);
  const ap = new Float64Array(n);
  applyNormal(rows, lambda, x, ap);
  for (let i = 0; i < n; i++) r[i] = b[i]! - ap[i]!;
  const p = Float64Array.from(r);
  const stop = CG_RELATIVE_TOLERANCE * (Math.sqrt(b.reduce((s, v) => s + v * v, 0)) || 1);
  let rr = r.reduce((s, v) => s + v * v, 0);
  for (let k = 0; k < CG_MAX_ITERATIONS && Math.sqrt(rr) > stop; k++) {
    applyNormal(rows, lambda, p, ap);
    let pap = 0;
    for (let i = 0; i < n; i++) pap += p[i]! * ap[i]!;
    if (!(pap > 0)) break;
    const alpha = rr / pap;
    let next = 0;
    for (let i = 0; i < n; i++) {
      x[i]! += alpha * p[i]!;
      r[i]! -= alpha * ap[i]!;
      next += r[i]! * r[i]!;
    }
    for (let i = 0; i < n; i++) p[i] = r[i]! + (next / rr) * p[i]!;
    rr = next;
  }
  return x;
}
