/**
 * Fixed-point encoding of a worker's weighted update for masking mod 2^32, and decoding of the sum.
 *
 * A worker with update x and normalised weight w ∈ (0, maxWeight] sends, per coordinate,
 *   q_i = SR(w · clip(x_i, ±c) · S / c),   S = 2^(bits−1) − 1,
 * plus one last word q_w = SR(w · S). SR is unbiased stochastic rounding (E[SR(v)] = v), so the
 * rounding errors of many workers average out instead of adding a bias. Negative values wrap mod
 * 2^32 (two's complement); config.ts guarantees |Σ q| < 2^31, so the sum reads back as an int32.
 * The coordinator thus learns Σ w·x and Σ w, never a single w·x (Bonawitz et al. §3 encode inputs
 * in Z_R the same way; weighting before masking gives FedAvg's weighted mean).
 *
 * @example
 * const q = quantizeWeighted(delta, examples / cap, config, randomWords(delta.length + 1));
 * const { sum, totalWeight } = dequantizeSum(maskedSumAfterUnmasking, config);
 * const mean = sum.map((v) => v / totalWeight);
 */
import { CohortError } from '../protocol/errors.js';

export interface QuantizationParams {
  clipRange: number;
  bits: number;
}

/** Integer levels per clipRange: S = 2^(bits−1) − 1. */
export function quantizationScale(bits: number): number {
  return 2 ** (bits - 1) - 1;
}

const TWO_POW_32 = 4_294_967_296;

/** SR(v): floor(v) + 1 with probability frac(v), using one uniform 32-bit word. */
function stochasticRound(v: number, r: number): number {
  const f = Math.floor(v);
  return f + (r < (v - f) * TWO_POW_32 ? 1 : 0);
}

/**
 * Encode w·clip(x) as d words plus the weight as word d (length d + 1). `random` supplies one
 * uniform word per output word (use randomWords()). NaN or infinite values are refused: clipping
 * would hide a broken update.
 */
export function quantizeWeighted(x: Float32Array, weight: number, p: QuantizationParams, random: Uint32Array): Uint32Array {
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new CohortError('E_SECAGG_INVALID', `weight must be a positive finite number, got ${weight}`);
  }
  if (random.length < x.length + 1) throw new CohortError('E_INTERNAL', 'not enough random words for stochastic rounding');
  const c = p.clipRange;
  const scale = quantizationScale(p.bits);
  const factor = (weight * scale) / c;
  const out = new Uint32Array(x.length + 1);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    if (!Number.isFinite(xi)) throw new CohortError('E_UPDATE_NOT_FINITE', `update coordinate ${i} is ${xi}`);
    const clipped = xi > c ? c : xi < -c ? -c : xi;
    out[i] = stochasticRound(clipped * factor, random[i]!); // negative values wrap mod 2^32
  }
  out[x.length] = stochasticRound(weight * scale, random[x.length]!);
  return out;
}

/** Fresh uniform words for stochastic rounding. */
export function randomWords(n: number): Uint32Array {
  const out = new Uint32Array(n);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let off = 0; off < n; off += 16_384) globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + 16_384)));
  return out;
}

export interface DequantizedSum {
  /** Σ w·clip(x), one float per model parameter. */
  sum: Float32Array;
  /** Σ w. */
  totalWeight: number;
}

/** Decode an unmasked sum of d + 1 words: read each word as int32 and scale back. */
export function dequantizeSum(sum: Uint32Array, p: QuantizationParams): DequantizedSum {
  if (sum.length < 1) throw new CohortError('E_INTERNAL', 'empty sum');
  const scale = quantizationScale(p.bits);
  const step = p.clipRange / scale;
  const d = sum.length - 1;
  const out = new Float32Array(d);
  for (let i = 0; i < d; i++) out[i] = (sum[i]! | 0) * step;
  return { sum: out, totalWeight: (sum[d]! | 0) / scale };
}

export interface QuantizationBound {
  /** Largest possible |dequantized Σ w·x − exact Σ w·clip(x)| in any coordinate. */
  perCoordinate: number;
  /** Largest possible |dequantized Σ w − exact Σ w|. */
  totalWeight: number;
}

/**
 * How far the decoded sum can be from the exact weighted sum of clipped inputs: stochastic
 * rounding moves each contributor's coordinate by less than one step (clipRange / S), and the
 * final float32 conversion adds at most half an ulp of a value bounded by contributors·maxWeight·c.
 * The error is this bound in the worst case; its standard deviation is only about
 * √contributors · step / 2.
 */
export function quantizationBound(p: QuantizationParams & { contributors: number; maxWeight?: number }): QuantizationBound {
  const scale = quantizationScale(p.bits);
  const step = p.clipRange / scale;
  const magnitude = p.contributors * (p.maxWeight ?? 1) * p.clipRange;
  return {
    perCoordinate: p.contributors * step + magnitude * 2 ** -24,
    totalWeight: p.contributors / scale,
  };
}
