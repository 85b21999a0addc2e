/**
 * A run's configuration: what `cohort serve`/`cohort demo` flags and run files turn into.
 * Validated with zod, so a bad value is refused with the path of the field and what was expected.
 */
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { modelSpecSchema, partitionSpecSchema } from '../../core/protocol/messages.js';
import { qualityRuleSchema } from '../contribution/quality-rule.js';
import { privacyConfigSchema } from '../privacy/dp-config.js';
import { strategySpecSchema } from '../strategy/strategy-spec.js';
import { MAX_STALENESS_DEFAULT, asyncConfigIssue } from './async-config.js';

/** ⌈clientsPerRound × 1.3⌉ selected by default: a round closes without its slowest ~23%. */
export const OVER_SELECT_DEFAULT = 1.3;

export const runConfigSchema = z
  .object({
    runId: z.string().min(1).max(128).optional(),
    model: modelSpecSchema,
    rounds: z.number().int().min(1).max(100_000),
    /** Rounds wait until this many workers are ready; a round completes with no fewer survivors. */
    minClients: z.number().int().min(1),
    /** Workers selected per round; undefined means every ready worker. */
    clientsPerRound: z.number().int().min(1).optional(),
    /**
     * Over-selection: ⌈clientsPerRound × overSelect⌉ workers are selected (at most the ready ones),
     * and the round closes once clientsPerRound results are in; the rest are cancelled.
     */
    overSelect: z.number().min(1, 'overSelect must be at least 1 (1 selects exactly clientsPerRound)').max(100).default(OVER_SELECT_DEFAULT),
    /** "sync" rounds, or "async" buffered aggregation (FedBuff: async-config.ts, async-runner.ts). */
    mode: z.enum(['sync', 'async']).default('sync'),
    /** Async: updates applied together as one model version; a secure group closes at this many masked inputs. */
    bufferSize: z.number().int('bufferSize must be a whole number of updates').min(1, 'bufferSize must be at least 1').max(100_000).optional(),
    /** Async: versions an update may lag behind the model it is applied to. */
    maxStaleness: z.number().int('maxStaleness must be a whole number of versions').min(0, 'maxStaleness must be at least 0 (0 applies only updates made on the current version)').max(100_000).default(MAX_STALENESS_DEFAULT),
    /** Async: groups training at once, at most (default: as many as the free workers fill). */
    maxConcurrentGroups: z.number().int().min(1).max(100_000).optional(),
    /** Deadline for each round's updates, from the moment the round starts. */
    roundTimeoutMs: z.number().int().min(100),
    /** How often a failed round is retried before the run stops. */
    maxRoundRetries: z.number().int().min(0),
    localEpochs: z.number().int().min(1).max(1000),
    batchSize: z.number().int().min(1).max(65_536),
    optimizer: z.enum(['adam', 'sgd']),
    lr: z.number().positive().max(100),
    maxLocalSteps: z.number().int().min(1).optional(),
    /**
     * Capability-aware work: each selected worker gets its own maxLocalSteps, from its measured
     * speed, so that it trains for about this long; rounds then aggregate with FedNova (fednova.ts).
     */
    targetRoundSeconds: z.number().positive('targetRoundSeconds must be a positive number of seconds').max(86_400).optional(),
    /**
     * Most examples one worker is credited with per epoch: bounds its aggregation weight, the
     * SecAgg+ weight cap and its reward (see work-bound.ts). Default: one MNIST training set × 2.
     */
    maxExamplesPerWorker: z.number().int().min(1).max(1e9).default(2 * 60_000),
    partition: partitionSpecSchema,
    seed: z.number().int(),
    /** Stop as soon as the coordinator's test accuracy reaches this. */
    targetAccuracy: z.number().min(0).max(1).optional(),
    /** Held-out set the coordinator evaluates on after every round ('none' skips it). */
    evaluation: z.enum(['mnist', 'none', 'federated']),
    /** With evaluation 'federated': workers evaluate each new model on their own held-out share. */
    federatedEvaluation: z
      .object({
        heldOutFraction: z.number().gt(0).lt(1),
        /** Workers asked per round (default: every ready worker). */
        clients: z.number().int().min(1).optional(),
        timeoutMs: z.number().int().min(100),
      })
      .optional(),
    keepCheckpoints: z.number().int().min(1).max(1000),
    /** How the round's results become the next model (see coordinator/strategy). */
    strategy: strategySpecSchema.default({ name: 'fedavg' }),
    /**
     * Contribution scoring (the run file's rewards.quality): SecAgg+ reveals the sums of scoring
     * groups of at least minGroupSize, each scored on the held-out set; rewards count declared
     * work × each worker's quality factor (coordinator/contribution/).
     */
    quality: qualityRuleSchema.optional(),
    /** Differential privacy (clipping, noise, accountant); absent means off. */
    privacy: privacyConfigSchema.optional(),
    /** SecAgg+ in every round (false: plain FedAvg, the coordinator sees each update). */
    secureAggregation: z
      .union([
      z.literal(false),
      z.object({
        /** k; default 4·⌈log2 n⌉, capped at n − 1 (see core/secagg/config.ts). */
        neighbours: z.number().int().min(2).optional(),
        /** t; default the smallest strict majority of the k + 1 share holders. */
        threshold: z.number().int().min(2).optional(),
        clipRange: z.number().positive().optional(),
        bits: z.number().int().min(2).max(31).optional(),
        /** Examples at which a worker's weight reaches 1; default: the most any selected worker can train on that round. */
        weightCap: z.number().int().positive().optional(),
        /** Deadline of each stage other than training + masked input. */
        stageTimeoutMs: z.number().int().min(100).optional(),
        /** Largest number of workers a round may have: the overflow check is done for it at start. */
        maxWorkers: z.number().int().min(3).optional(),
      }),
    ])
      .default({}),
  })
  .refine((c) => c.clientsPerRound === undefined || c.clientsPerRound >= c.minClients, {
    message: 'clientsPerRound must be at least minClients',
    path: ['clientsPerRound'],
  })
  .refine((c) => c.targetRoundSeconds === undefined || c.privacy === undefined, {
    // A DP clip norm is calibrated to a whole delta, not to FedNova's per-step dᵢ/τᵢ.
    message: 'targetRoundSeconds cannot be combined with differential privacy (the clip norm bounds a whole delta, not a per-step one)',
    path: ['targetRoundSeconds'],
  })
  .refine((c) => c.quality === undefined || c.secureAggregation !== false, {
    message: 'contribution scoring needs secure aggregation: its groups are SecAgg+ scoring groups (turn secureAggregation on, or remove rewards.quality)',
    path: ['quality'],
  })
  .refine((c) => c.quality === undefined || c.privacy === undefined, {
    // Central noise is added to the round's total only; group sums would be released without it.
    message: 'contribution scoring cannot be combined with differential privacy (group sums would be released without the round\'s noise)',
    path: ['quality'],
  })
  .refine((c) => c.quality === undefined || c.evaluation === 'mnist', {
    message: "contribution scoring needs the coordinator's held-out set (evaluation: mnist); federated evaluation would ask the scored workers to grade themselves",
    path: ['quality'],
  })
  .refine((c) => c.quality === undefined || Math.max(c.minClients, c.clientsPerRound ?? 0) >= 2 * c.quality.minGroupSize, {
    // One group is no comparison: a round needs two groups of minGroupSize to be scored at all.
    message: 'contribution scoring needs rounds of at least 2 × minGroupSize workers (raise clientsPerRound or minClients, or lower rewards.quality.minGroupSize)',
    path: ['quality', 'minGroupSize'],
  })
  .superRefine((c, ctx) => {
    const issue = asyncConfigIssue(c);
    if (issue) ctx.addIssue({ code: 'custom', path: issue[0].split('.'), message: issue[1] });
  })
  .refine((c) => c.secureAggregation === false || Math.max(c.minClients, c.clientsPerRound ?? 0) >= 3, {
    message: 'secure aggregation needs at least 3 workers per round (raise minClients, or turn secure aggregation off)',
    path: ['minClients'],
  });

export type RunConfig = z.infer<typeof runConfigSchema>;

export const RUN_DEFAULTS = {
  rounds: 10,
  minClients: 1,
  roundTimeoutMs: 300_000,
  maxRoundRetries: 3,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'adam',
  lr: 0.001,
  seed: 42,
  evaluation: 'mnist',
  keepCheckpoints: 3,
  secureAggregation: {},
} as const;

export function parseRunConfig(input: unknown): RunConfig {
  const parsed = runConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(config)';
    throw new CohortError('E_CONFIG_INVALID', `${where}: ${issue?.message ?? 'invalid'}`, { details: parsed.error.issues });
  }
  return parsed.data;
}
