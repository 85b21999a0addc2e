/**
 * Client-side clipping of a model delta to an L2 norm C, the step that bounds one worker's
 * influence on the round's sum (its L2 sensitivity) before any DP noise is added
 * (McMahan et al., "Learning Differentially Private Recurrent Language Models", ICLR 2018).
 *
 * For adaptive clipping (Andrew, Thakkar, McMahan and Ramaswamy, "Differentially Private Learning
 * with Adaptive Clipping", NeurIPS 2021) each worker also reports whether its update was already
 * within C: the bit b = 1[‖Δ‖ ≤ C]. It is sent centred, as b − ½ ∈ {−½, +½}, so that adding or
 * removing one worker moves the sum of bits by at most ½; the server (coordinator/privacy/
 * adaptive-clip.ts) turns the noised sum into the fraction of unclipped updates and moves C
 * towards the target quantile.
 *
 * Runtime-neutral: used by the Node and the browser workers alike.
 *
 * @example
 * const { clipped, norm } = clipToNorm(delta, 1.0);
 * const bit = centredUnclippedBit(norm, 1.0);   // +0.5 or −0.5
 */
import { CohortError } from '../protocol/errors.js';

/** ‖x‖₂, accumulated in double precision. */
export function l2Norm(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum);
}

export interface ClipResult {
  /** x·min(1, C/‖x‖): a new array whose norm is at most C. */
  clipped: Float32Array;
  /** ‖x‖₂ before clipping. */
  norm: number;
  /** The factor applied: min(1, C/‖x‖). */
  scale: number;
}

function checkClipNorm(clipNorm: number): void {
  if (!(clipNorm > 0) || !Number.isFinite(clipNorm)) throw new CohortError('E_CONFIG_INVALID', `clip norm must be a finite number > 0, got ${clipNorm}`);
}

/** Scales x down to L2 norm C if it is longer; a non-finite x is refused (clipping would hide it). */
export function clipToNorm(x: Float32Array, clipNorm: number): ClipResult {
  checkClipNorm(clipNorm);
  const norm = l2Norm(x);
  if (!Number.isFinite(norm)) throw new CohortError('E_UPDATE_NOT_FINITE', 'update contains NaN or Infinity');
  const scale = norm > clipNorm ? clipNorm / norm : 1;
  const clipped = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) clipped[i] = x[i]! * scale;
  // Rounding to float32 can leave the norm a hair above C; shrink by the excess so C really bounds it.
  if (scale < 1) {
    const after = l2Norm(clipped);
    if (after > clipNorm) {
      const fix = clipNorm / after;
      for (let i = 0; i < clipped.length; i++) clipped[i] = clipped[i]! * fix * (1 - 1e-7);
    }
  }
  return { clipped, norm, scale };
}

/** Andrew et al.'s bit: 1 when the update was within C (not clipped), else 0. */
export function unclippedBit(norm: number, clipNorm: number): 0 | 1 {
  checkClipNorm(clipNorm);
  return norm <= clipNorm ? 1 : 0;
}

/** The bit as a worker contributes it to the indicator sum: b − ½, sensitivity ½. */
export function centredUnclippedBit(norm: number, clipNorm: number): -0.5 | 0.5 {
  return unclippedBit(norm, clipNorm) === 1 ? 0.5 : -0.5;
}
