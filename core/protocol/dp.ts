/**
 * The differential-privacy parameters a train instruction carries (`config.dp`): the wire's half
 * of client-side DP. The maths that applies them is core/privacy/client-dp.ts; the coordinator
 * picks them each round (coordinator/privacy/dp-round.ts).
 */
import { z } from 'zod';

const finiteNonNegative = z.number().min(0).refine(Number.isFinite, 'a finite number');

export const clientDpParamsSchema = z.strictObject({
  /** C: clip the delta to this L2 norm. */
  clipNorm: z.number().positive().refine(Number.isFinite, 'a finite number'),
  /** Std of the noise this worker adds to each coordinate: σC/√t with distributed noise, 0 with central. */
  noiseStd: finiteNonNegative,
  /** Present with adaptive clipping: append the centred unclipped bit as one extra coordinate. */
  adaptive: z
    .strictObject({
      /** Std of this worker's share of the bit's noise: σ_b/√t distributed, 0 central. */
      indicatorNoiseStd: finiteNonNegative,
    })
    .optional(),
});
export type ClientDpParams = z.infer<typeof clientDpParamsSchema>;
