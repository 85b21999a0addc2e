/**
 * Step `check`: before a round commits, its aggregate must be one that honest workers could have
 * produced. A round that fails is refused with the reason (stored as a round failure) and
 * retried; it is never checkpointed, so a resumed run never starts from it.
 *
 *   1. 0 < Σw ≤ contributors × the largest weight one contributor can have;
 *   2. |sum_i| ≤ Σw × the per-coordinate bound the path guarantees, for every coordinate
 *      (secure: the dequantized masked sum against the SecAgg+ clip range, plus the quantization
 *      error; plain: the weighted sum of the deltas, bounded only where workers must clip);
 *   3. the new global model is finite (a finite delta of 3e38 can still overflow the sum).
 *
 * A masked input that adds to the masked words or shifts the weight word breaks 1 or 2, so a
 * tampered secure sum is refused rather than reported as success.
 */
import { quantizationBound } from '../../../core/secagg/quantize.js';
import type { RoundAggregate } from '../../strategy/strategy.js';
import { need, type RoundStep } from '../round-state.js';

export interface AggregateBounds {
  /** Largest aggregation weight of one contributor. */
  maxWeight: number;
  /** Largest |value| of one contributor's coordinate (∞ where the path guarantees none). */
  coordinateBound: number;
  /** SecAgg+'s fixed point, for the quantization error of a secure sum. */
  quantization?: { clipRange: number; bits: number } | undefined;
}

/** Relative slack for float32 sums of values within the bound. */
const FLOAT_SLACK = 1e-5;

/** Why the round's sum and new model are not acceptable, or undefined when they are. */
export function checkAggregate(sum: RoundAggregate, next: Float32Array, bounds: AggregateBounds): string | undefined {
  const { totalWeight, contributors } = sum;
  const error = bounds.quantization ? quantizationBound({ ...bounds.quantization, contributors, maxWeight: bounds.maxWeight }) : undefined;
  const weightLimit = contributors * bounds.maxWeight * (1 + FLOAT_SLACK) + (error?.totalWeight ?? 0);
  if (!(contributors > 0) || !(totalWeight > 0) || !(totalWeight <= weightLimit)) {
    return `total weight ${totalWeight} of ${contributors} contributors is outside (0, ${contributors} × ${bounds.maxWeight}]`;
  }
  const limit = totalWeight * bounds.coordinateBound * (1 + FLOAT_SLACK) + (error?.perCoordinate ?? 0);
  const values = sum.weightedDeltaSum;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(Math.abs(v) <= limit)) return `sum coordinate ${i} is ${v}, beyond Σw × bound = ${totalWeight} × ${bounds.coordinateBound}`;
  }
  for (let i = 0; i < next.length; i++) {
    if (!Number.isFinite(next[i]!)) return `the new global model is not finite (coordinate ${i} is ${next[i]})`;
  }
  return undefined;
}

export const check: RoundStep = {
  name: 'check',
  run(state) {
    const plan = need(state.plan, 'plan', 'check');
    const outcome = need(state.outcome, 'outcome', 'check');
    const next = need(state.next, 'next', 'check');
    const secure = plan.secure?.secagg;
    const reason = checkAggregate(outcome.aggregate, next, {
      maxWeight: plan.maxWeight,
      coordinateBound: plan.coordinateBound,
      quantization: secure ? { clipRange: secure.clipRange, bits: secure.bits } : undefined,
    });
    return reason === undefined ? undefined : { failure: `aggregate check refused the round: ${reason}` };
  },
};
