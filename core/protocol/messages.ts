/**
 * The wire protocol: every message is a tagged object `{ type, … }`. The coordinator's first
 * message (`challenge`) and the worker's answer (`hello`) both carry PROTOCOL_VERSION.
 *
 * Each schema validates a frame *after* msgpack decoding and *before* anything else touches it.
 * Weights travel as Float32Array (msgpackr `moreTypes`), never as arrays of numbers.
 */
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';
import { clientDpParamsSchema } from './dp.js';
import { float32ArraySchema as float32Array, roundSchema as round, runIdSchema as runId } from './fields.js';
import { EVALUATE_TYPE, EVALUATION_TYPE, evaluateSchema, evaluationSchema, federatedEvaluationInfoSchema } from './evaluate.js';
import { SECAGG_REPLY_TYPE, SECAGG_REQUEST_TYPE, secAggReplySchema, secAggRequestSchema } from './secagg.js';

export const PROTOCOL_VERSION = 1;

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x-prefixed 20-byte hex address');
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'a 0x-prefixed hex string');
const finite = z.number().refine(Number.isFinite, 'a finite number');
const errorCode = z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]);

export const modelSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin'), name: z.enum(['2nn', 'cnn']) }),
  /** A tfjs Layers model topology (the `modelTopology` of a model.json). */
  z.object({ kind: z.literal('layers'), topology: z.record(z.string(), z.unknown()) }),
]);
export type ModelSpec = z.infer<typeof modelSpecSchema>;

export const partitionSpecSchema = z.object({
  kind: z.enum(['iid', 'shards', 'dirichlet']),
  /** Dirichlet concentration; smaller is more skewed. */
  alpha: z.number().positive().max(1e6).default(0.5),
  /** Shards per client for the `shards` partition (McMahan et al. use 2). */
  shardsPerClient: z.number().int().min(1).max(100).default(2),
  seed: z.number().int(),
});
export type PartitionSpec = z.infer<typeof partitionSpecSchema>;

export const trainConfigSchema = z.object({
  localEpochs: z.number().int().min(1).max(1000),
  batchSize: z.number().int().min(1).max(65_536),
  optimizer: z.enum(['adam', 'sgd']),
  lr: z.number().positive().max(100),
  /** Cap on local optimizer steps this round; undefined means no cap. */
  maxLocalSteps: z.number().int().min(1).optional(),
  /** Seed for this worker's shuffling this round. */
  seed: z.number().int(),
  /** FedProx proximal coefficient μ; 0 or undefined is plain FedAvg. */
  proximalMu: z.number().min(0).optional(),
  /**
   * FedNova (runs with targetRoundSeconds): before the delta leaves the worker (so before SecAgg+
   * masks it) the worker divides it by the local steps it took, and it aggregates with
   * `weightExamples` examples (its share, set by the coordinator from its data, not from the
   * steps it was given); the coordinator multiplies the sum by the effective steps τ_eff.
   */
  fedNova: z.strictObject({ weightExamples: z.number().int().min(0).max(1e15) }).optional(),
  /**
   * Differential privacy: clip the delta to this L2 norm (and add this worker's noise share)
   * before it leaves the worker. Its weight is then 1, so the clip bounds its influence.
   */
  dp: clientDpParamsSchema.optional(),
});
export type TrainConfig = z.infer<typeof trainConfigSchema>;

export const workerKindSchema = z.enum(['node', 'browser']);
export type WorkerKind = z.infer<typeof workerKindSchema>;

/** Far above any real tfjs training step (a tiny MLP on a fast GPU runs a few thousand per second). */
export const MAX_REPORTED_STEPS_PER_SECOND = 1e6;

export const backendReportSchema = z.object({
  backend: z.string().min(1).max(64),
  reason: z.string().max(2_000),
  /** GPU adapter or device description, where there is one. */
  adapter: z.string().max(500).optional(),
  /**
   * Measured training steps per second of the chosen backend: the coordinator's first speed
   * estimate for targetRoundSeconds. Finite (zod refuses NaN and ±Infinity) and bounded, so a
   * wild claim is refused at the wire; a large honest one only gets the worker its data's steps.
   */
  stepsPerSecond: z.number().min(0).max(MAX_REPORTED_STEPS_PER_SECOND).optional(),
});
export type BackendReport = z.infer<typeof backendReportSchema>;

// ---------------------------------------------------------------- coordinator → worker

export const challengeSchema = z.object({
  type: z.literal('challenge'),
  protocol: z.number().int(),
  coordinatorId: z.string().min(1).max(128),
  coordinatorUrl: z.string().max(2_048),
  nonce: hex,
});

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  address,
  sessionId: z.string(),
  run: z.object({
    runId,
    model: modelSpecSchema,
    parameterCount: z.number().int().positive(),
    partition: partitionSpecSchema,
    secureAggregation: z.boolean(),
    /** Present when the run evaluates on the workers' own held-out data. */
    federatedEvaluation: federatedEvaluationInfoSchema.optional(),
  }),
});

export const trainSchema = z.object({
  type: z.literal('train'),
  runId,
  round,
  weights: float32Array,
  config: trainConfigSchema,
  /** Wall-clock deadline for this round's update, ms since the epoch. */
  deadline: z.number(),
  /**
   * Present when the round is securely aggregated: the worker then answers with `trained`
   * (metrics only) and takes part in the SecAgg+ stages instead of sending an `update`. Its
   * weight is min(examples, weightCap) ÷ weightCap.
   */
  secureAggregation: z.object({ weightCap: z.number().int().positive() }).optional(),
});

/**
 * Over-selection: the round closed without this worker's result (enough others were in first).
 * The worker stops training for that round at once and sends nothing more for it; a cancel for a
 * round it is not training is ignored.
 */
export const cancelSchema = z.object({
  type: z.literal('cancel'),
  runId,
  round,
  reason: z.string().max(500),
});

export const roundSummarySchema = z.object({
  type: z.literal('round'),
  runId,
  round,
  status: z.enum(['completed', 'failed']),
  participants: z.number().int().min(0),
  accuracy: z.number().optional(),
  loss: z.number().optional(),
  reason: z.string().optional(),
  /**
   * Contribution scoring (a run with rewards.quality): this worker's own quality after the round,
   * sent only to it: the estimate (1 ≈ the round's average group, 0 nothing, < 0 harmful), its
   * confidence, the share of its work the round credited, and whether it is flagged as harmful.
   */
  quality: z
    .object({
      estimate: z.number().finite().min(-1e6).max(1e6),
      confidence: z.number().min(0).max(1),
      factor: z.number().min(0).max(1),
      flagged: z.boolean(),
    })
    .optional(),
});

export const runEndSchema = z.object({
  type: z.literal('run-end'),
  runId,
  reason: z.string(),
});

export const errorSchema = z.object({
  type: z.literal('error'),
  code: errorCode,
  message: z.string().max(4_000),
});

// ---------------------------------------------------------------- worker → coordinator

export const helloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  address,
  /** EIP-191 signature over challengeText(coordinatorId, coordinatorUrl, nonce). */
  signature: hex,
  coordinatorId: z.string().min(1).max(128),
  coordinatorUrl: z.string().max(2_048),
  nonce: hex,
  kind: workerKindSchema,
  /** Free-form client name and version, for logs. */
  client: z.string().max(200).optional(),
});

/** Sent once the worker has built the run's model, loaded its data and picked a backend. */
export const readySchema = z.object({
  type: z.literal('ready'),
  runId,
  backend: backendReportSchema,
  /** Number of local training examples the worker holds. */
  examples: z.number().int().min(0),
});

export const updateSchema = z.object({
  type: z.literal('update'),
  runId,
  round,
  /** Local weights minus the round's global weights. */
  delta: float32Array,
  examples: z.number().int().min(0),
  steps: z.number().int().min(0),
  loss: finite,
  accuracy: z.number().min(0).max(1),
  trainMs: z.number().min(0),
});

/** Under secure aggregation: what the worker declares after training (never the update itself). */
export const trainedSchema = z.object({
  type: z.literal('trained'),
  runId,
  round,
  examples: z.number().int().min(0),
  steps: z.number().int().min(0),
  loss: finite,
  accuracy: z.number().min(0).max(1),
  trainMs: z.number().min(0),
});

export const workerMessageSchema = z.union([
  z.discriminatedUnion('type', [helloSchema, readySchema, updateSchema, trainedSchema, evaluationSchema, errorSchema]),
  secAggReplySchema,
]);
export const coordinatorMessageSchema = z.union([
  z.discriminatedUnion('type', [challengeSchema, welcomeSchema, trainSchema, cancelSchema, evaluateSchema, roundSummarySchema, runEndSchema, errorSchema]),
  secAggRequestSchema,
]);

export type ChallengeMessage = z.infer<typeof challengeSchema>;
export type WelcomeMessage = z.infer<typeof welcomeSchema>;
export type TrainMessage = z.infer<typeof trainSchema>;
export type CancelMessage = z.infer<typeof cancelSchema>;
export type RoundSummaryMessage = z.infer<typeof roundSummarySchema>;
export type RunEndMessage = z.infer<typeof runEndSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type HelloMessage = z.infer<typeof helloSchema>;
export type ReadyMessage = z.infer<typeof readySchema>;
export type UpdateMessage = z.infer<typeof updateSchema>;
export type TrainedMessage = z.infer<typeof trainedSchema>;
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type CoordinatorMessage = z.infer<typeof coordinatorMessageSchema>;

/** The schema for each message type, per direction: the codec validates a frame by its type. */
export const WORKER_MESSAGE_SCHEMAS: ReadonlyMap<string, z.ZodType<WorkerMessage>> = new Map<string, z.ZodType<WorkerMessage>>([
  ['hello', helloSchema],
  ['ready', readySchema],
  ['update', updateSchema],
  ['trained', trainedSchema],
  [EVALUATION_TYPE, evaluationSchema],
  ['error', errorSchema],
  [SECAGG_REPLY_TYPE, secAggReplySchema],
]);
export const COORDINATOR_MESSAGE_SCHEMAS: ReadonlyMap<string, z.ZodType<CoordinatorMessage>> = new Map<string, z.ZodType<CoordinatorMessage>>([
  ['challenge', challengeSchema],
  ['welcome', welcomeSchema],
  ['train', trainSchema],
  ['cancel', cancelSchema],
  [EVALUATE_TYPE, evaluateSchema],
  ['round', roundSummarySchema],
  ['run-end', runEndSchema],
  ['error', errorSchema],
  [SECAGG_REQUEST_TYPE, secAggRequestSchema],
]);
