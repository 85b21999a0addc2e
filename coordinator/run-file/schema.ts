/**
 * The run file: everything a researcher decides about a training run, in JSON or YAML. Field names
 * follow the engine's RunConfig where one exists, so the README's run options and this file agree.
 * Every object is strict: a misspelt field is an error that names it, not a silently used default.
 *
 * The `strategy` and `privacy` blocks are the strategy and DP engineers' own schemas
 * (coordinator/strategy/strategy-spec.ts, coordinator/privacy/dp-config.ts); `rewards` and `chain`
 * become a LedgerConfig (coordinator/ledger/ledger-config.ts) in to-run-config.ts.
 *
 * Defaults are documented in README.md ("Research runs"); RUN_FILE_DEFAULTS holds the ones applied here.
 */
import { getAddress, isAddress, parseEther } from 'ethers';
import { z } from 'zod';
import { DEFAULT_HELD_OUT_FRACTION } from '../../core/protocol/evaluate.js';
import { qualityRuleSchema } from '../contribution/quality-rule.js';
import { RUN_DEFAULTS } from '../engine/run-config.js';
import { privacyConfigSchema } from '../privacy/dp-config.js';
import { simulationFieldSchema } from '../simulate/fleet-spec.js';
import { strategySpecSchema } from '../strategy/strategy-spec.js';

export const RUN_FILE_DEFAULTS = {
  ...RUN_DEFAULTS,
  strategy: 'fedavg',
  partition: 'iid',
  alpha: 0.5,
  shardsPerClient: 2,
  heldOutFraction: DEFAULT_HELD_OUT_FRACTION,
  federatedTimeoutMs: 60_000,
} as const;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.number().int().min(min).max(max);
const BUILTIN_MODELS = ['2nn', 'cnn'] as const;
const PARTITIONS = ['iid', 'shards', 'dirichlet'] as const;

/** A built-in model by name, or a tfjs Layers model: a model.json (or bare topology) file, or the topology inline. */
export const modelFieldSchema = z
  .union([
    z.enum(BUILTIN_MODELS),
    z.strictObject({ builtin: z.enum(BUILTIN_MODELS) }),
    z.strictObject({ layers: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).describe('a path to a tfjs model.json, or its modelTopology inline') }),
  ])
  .describe('"2nn", "cnn", or {"layers": "model.json"}');

const partitionObject = z.strictObject({
  /** A demo split of MNIST among the workers, or `local`: every worker brings its own data. */
  partition: z.enum([...PARTITIONS, 'local']).default(RUN_FILE_DEFAULTS.partition),
  /** Dirichlet concentration (partition dirichlet): smaller is more skewed. */
  alpha: z.number().positive().max(1e6).optional(),
  /** Label shards per worker (partition shards); McMahan et al. use 2. */
  shardsPerClient: int(1, 100).optional(),
});
export const dataFieldSchema = z
  .union([z.enum([...PARTITIONS, 'local']), partitionObject])
  .describe('"iid", "shards", "dirichlet", "local", or {"partition": …, "alpha": …, "shardsPerClient": …}');

const federatedObject = z.strictObject({
  kind: z.literal('federated'),
  /** Share of each worker's examples it holds out, never trains on, and evaluates on. */
  heldOutFraction: z.number().gt(0).lt(1).default(RUN_FILE_DEFAULTS.heldOutFraction),
  /** Workers asked to evaluate after each round (default: clientsPerRound, or every ready worker). */
  clients: int(1).optional(),
  /** How long the coordinator waits for their answers. */
  timeoutMs: int(100).default(RUN_FILE_DEFAULTS.federatedTimeoutMs),
});
export const evaluationFieldSchema = z
  .union([z.enum(['mnist', 'none', 'federated']), federatedObject])
  .describe('"mnist", "none", "federated", or {"kind": "federated", "heldOutFraction": …, "clients": …, "timeoutMs": …}');

/** The same settings as RunConfig's `secureAggregation`, strict, and `true` for every default. */
const secureAggregationObject = z.strictObject({
  neighbours: int(2).optional(),
  threshold: int(2).optional(),
  clipRange: z.number().positive().optional(),
  bits: int(2, 31).optional(),
  weightCap: int(1).optional(),
  stageTimeoutMs: int(100).optional(),
  maxWorkers: int(3).optional(),
});
export const secureAggregationFieldSchema = z
  .union([z.boolean(), secureAggregationObject])
  .describe('true, false, or {"neighbours", "threshold", "clipRange", "bits", "weightCap", "stageTimeoutMs", "maxWorkers"}');

/** Wei as a decimal string or safe integer, or ETH written `"1.5eth"`. */
export const amountSchema = z
  .union([z.string(), z.number()])
  .transform((raw, ctx) => {
    const text = String(raw).trim().toLowerCase();
    if (typeof raw === 'number' ? Number.isSafeInteger(raw) && raw > 0 : /^\d+$/.test(text) && BigInt(text) > 0n) return BigInt(text);
    const eth = /^(\d+(?:\.\d{1,18})?|\.\d{1,18})\s*eth$/.exec(text);
    if (eth?.[1] !== undefined && parseEther(eth[1]) > 0n) return parseEther(eth[1]);
    ctx.addIssue({ code: 'custom', message: 'expected a positive amount: wei as a string of digits, or ETH like "1.5eth" (large wei values must be strings)' });
    return z.NEVER;
  });

const addressSchema = z.string().refine((s) => isAddress(s), { message: 'expected a 0x-prefixed 20-byte address' }).transform((s) => getAddress(s));

export const rewardsFieldSchema = z.strictObject({
  /** The run's whole reward; each round gets budget ÷ rounds unless `schedule` says otherwise. Required with a chain. */
  budget: amountSchema.optional(),
  /** Reward per round, round 1 first; as many entries as rounds, summing to at most the budget. */
  schedule: z.array(amountSchema).optional(),
  /** Most declared work (examples × local epochs) credited to one worker in one round. */
  contributionCap: int(1).optional(),
  /** Most one address can earn over the run. */
  rewardCap: amountSchema.optional(),
  /** Only these addresses may join and earn: a list, or a file with one address per line. */
  allowlist: z.union([z.array(addressSchema), z.string().min(1)]).describe('a list of addresses, or a file with one per line').optional(),
  /** Contribution scoring: rewards count declared work × quality factor (coordinator/contribution/quality-rule.ts). */
  quality: qualityRuleSchema.optional(),
});

export const chainFieldSchema = z
  .strictObject({
    rpcUrl: z.string().min(1),
    /** The ContributionLedger's address. */
    ledger: addressSchema,
    /** The run's id in the ledger (`cohort ledger create-run` prints it). */
    ledgerRun: z.union([int(1), z.string().regex(/^[1-9]\d*$/, 'expected a positive integer')]).describe('a positive integer'),
    /** The ledger's deployment block, where event scans start. */
    fromBlock: int(0).default(0),
    /** The coordinator's key: a file of mode 0600 … */
    keyFile: z.string().min(1).optional(),
    /** … or an environment variable (default COHORT_LEDGER_KEY). */
    keyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
  })
  .refine((c) => c.keyFile === undefined || c.keyEnv === undefined, { message: 'give keyFile or keyEnv, not both', path: ['keyFile'] });

/** The rewards fields that only mean something when a chain pays them. */
const PAID_ONLY = ['budget', 'schedule', 'rewardCap', 'allowlist'] as const;

export const runFileSchema = z
  .strictObject({
    /** Editors' JSON-schema hint; ignored. */
    $schema: z.string().optional(),
    /** Free text for people reading the file. */
    description: z.string().max(10_000).optional(),
    /** Name of the run in the store (default: generated). Must be new to the store. */
    runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected letters, digits, ".", "_" or "-" (at most 128)').optional(),
    model: modelFieldSchema,
    data: dataFieldSchema.default(RUN_FILE_DEFAULTS.partition),
    strategy: strategySpecSchema.default({ name: RUN_FILE_DEFAULTS.strategy }),
    rounds: int(1, 100_000).default(RUN_FILE_DEFAULTS.rounds),
    minClients: int(1, 100_000).optional(),
    /** Workers rounds are sampled from, for DP's sampling rate q = clientsPerRound ÷ population (default: --local-workers; --clients in a simulation). */
    population: int(1, 100_000_000).optional(),
    clientsPerRound: int(1, 100_000).optional(),
    /** Over-selection: select ⌈clientsPerRound × overSelect⌉, close once clientsPerRound results are in (default 1.3). */
    overSelect: z.number().min(1, 'overSelect must be at least 1 (1 selects exactly clientsPerRound)').max(100).optional(),
    /** "sync" rounds (default) or "async" buffered aggregation (FedBuff); `--mode` overrides it. */
    mode: z.enum(['sync', 'async']).optional(),
    /** Async: updates applied together as one model version (a secure group's close size). */
    bufferSize: z.number().int('bufferSize must be a whole number of updates').min(1, 'bufferSize must be at least 1').max(100_000).optional(),
    /** Async: versions an update may lag behind; older ones are refused (default 10). */
    maxStaleness: z.number().int('maxStaleness must be a whole number of versions').min(0, 'maxStaleness must be at least 0 (0 applies only updates made on the current version)').max(100_000).optional(),
    /** Async: groups training at once, at most (default: as many as the free workers fill). */
    maxConcurrentGroups: int(1, 100_000).optional(),
    roundTimeoutMs: int(100, 86_400_000).default(RUN_FILE_DEFAULTS.roundTimeoutMs),
    maxRoundRetries: int(0, 1000).default(RUN_FILE_DEFAULTS.maxRoundRetries),
    localEpochs: int(1, 1000).default(RUN_FILE_DEFAULTS.localEpochs),
    batchSize: int(1, 65_536).default(RUN_FILE_DEFAULTS.batchSize),
    optimizer: z.enum(['adam', 'sgd']).default(RUN_FILE_DEFAULTS.optimizer),
    lr: z.number().positive().max(100).default(RUN_FILE_DEFAULTS.lr),
    maxLocalSteps: int(1, 1e9).optional(),
    /** Capability-aware work: per-worker maxLocalSteps so each trains about this long; FedNova aggregation. */
    targetRoundSeconds: z.number().positive('targetRoundSeconds must be a positive number of seconds').max(86_400).optional(),
    /** Most examples one worker is credited with per epoch (weight, SecAgg+ cap, reward); default in to-run-config.ts. */
    maxExamplesPerWorker: int(1, 1e9).optional(),
    seed: int(-(2 ** 31), 2 ** 31 - 1).default(RUN_FILE_DEFAULTS.seed),
    targetAccuracy: z.number().min(0).max(1).optional(),
    evaluation: evaluationFieldSchema.default(RUN_FILE_DEFAULTS.evaluation),
    keepCheckpoints: int(1, 1000).default(RUN_FILE_DEFAULTS.keepCheckpoints),
    secureAggregation: secureAggregationFieldSchema.default(true),
    privacy: z.union([z.literal(false), privacyConfigSchema]).describe('false, or a privacy block').optional(),
    rewards: rewardsFieldSchema.optional(),
    chain: chainFieldSchema.optional(),
    /** `cohort simulate` only (speeds, vanishing, adversaries); other commands ignore it with a warning. */
    simulation: simulationFieldSchema.optional(),
  })
  .refine((f) => f.chain === undefined || f.rewards?.budget !== undefined, {
    message: 'a chain needs a reward budget (rewards.budget)',
    path: ['chain'],
  })
  .refine((f) => f.chain !== undefined || f.rewards === undefined || PAID_ONLY.every((key) => f.rewards?.[key] === undefined), {
    // Without a chain only what shapes the computed split (cohort simulate's rewardShare) may be given.
    message: 'rewards.budget, schedule, rewardCap and allowlist need a chain to be paid on; without one, rewards may hold only quality and contributionCap',
    path: ['rewards'],
  });


export type RunFile = z.output<typeof runFileSchema>;
export type RunFileInput = z.input<typeof runFileSchema>;
