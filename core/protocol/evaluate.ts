/**
 * Federated evaluation, for runs where the coordinator has no test set of its own: after a round,
 * the coordinator asks some workers to evaluate the NEW global model on their own held-out split
 * (examples they never train on, see core/data/held-out.ts) and each answers with three scalars.
 * The coordinator's metric is the example-weighted mean (coordinator/evaluation/federated.ts).
 *
 *   coordinator → worker  `evaluate`    { runId, round, weights, deadline }
 *   worker → coordinator  `evaluation`  { runId, round, examples, loss, accuracy }
 *
 * A worker reveals its held-out size and its loss and accuracy on it: aggregate statistics, never
 * examples or gradients. They are not covered by secure aggregation or differential privacy.
 */
import { z } from 'zod';
import { float32ArraySchema as float32Array, roundSchema as round, runIdSchema as runId } from './fields.js';

export const EVALUATE_TYPE = 'evaluate';
export const EVALUATION_TYPE = 'evaluation';

/** The share of each worker's local examples held out for federated evaluation, by default. */
export const DEFAULT_HELD_OUT_FRACTION = 0.1;


/** What a worker learns at sign-in when the run evaluates federatedly (`welcome.run.federatedEvaluation`). */
export const federatedEvaluationInfoSchema = z.object({
  /** Hold out this share of the local examples (chosen by content hash) and never train on them. */
  heldOutFraction: z.number().gt(0).lt(1),
});
export type FederatedEvaluationInfo = z.infer<typeof federatedEvaluationInfoSchema>;

export const evaluateSchema = z.object({
  type: z.literal(EVALUATE_TYPE),
  runId,
  round,
  /** The global weights after `round`, to evaluate as they are (no training). */
  weights: float32Array,
  /** Wall-clock deadline for the answer, ms since the epoch. */
  deadline: z.number(),
});

export const evaluationSchema = z.object({
  type: z.literal(EVALUATION_TYPE),
  runId,
  round,
  /** Held-out examples evaluated; 0 when the worker holds none (it then counts for nothing). */
  examples: z.number().int().min(0),
  /** Mean cross-entropy per example. */
  loss: z.number().min(0).refine(Number.isFinite, 'a finite number'),
  accuracy: z.number().min(0).max(1),
});

export type EvaluateMessage = z.infer<typeof evaluateSchema>;
export type EvaluationMessage = z.infer<typeof evaluationSchema>;
