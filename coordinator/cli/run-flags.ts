/** The run options shared by `cohort serve` and `cohort demo`, and their translation to a RunConfig. */
import { CohortError } from '../../core/protocol/errors.js';
import { RUN_DEFAULTS, parseRunConfig, type RunConfig } from '../engine/run-config.js';
import { STRATEGY_NAMES } from '../strategy/strategy-spec.js';
import { defaultMnistMaxExamplesPerWorker } from '../engine/work-bound.js';
import { enumFlag, intFlag, numberFlag, stringFlag, type FlagSpec, type FlagValues } from './flags.js';

export const RUN_FLAGS: FlagSpec = {
  rounds: { type: 'string' },
  'min-clients': { type: 'string' },
  'clients-per-round': { type: 'string' },
  'over-select': { type: 'string' },
  'round-timeout': { type: 'string' },
  'max-round-retries': { type: 'string' },
  model: { type: 'string' },
  partition: { type: 'string' },
  alpha: { type: 'string' },
  'local-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  'max-local-steps': { type: 'string' },
  'target-round-seconds': { type: 'string' },
  'max-examples-per-worker': { type: 'string' },
  seed: { type: 'string' },
  'target-accuracy': { type: 'string' },
  eval: { type: 'string' },
  'run-id': { type: 'string' },
  strategy: { type: 'string' },
  'secure-agg': { type: 'boolean' },
  'secagg-neighbours': { type: 'string' },
  'secagg-threshold': { type: 'string' },
  'secagg-clip': { type: 'string' },
  'secagg-bits': { type: 'string' },
  'secagg-weight-cap': { type: 'string' },
  'secagg-stage-timeout': { type: 'string' },
};

/** The RUN_FLAGS rows of the help text: flag, default, meaning. */
export const RUN_FLAGS_HELP = `  --rounds N               rounds to run (default ${RUN_DEFAULTS.rounds})
  --min-clients N          workers needed to start a round and to complete it (default: see command)
  --clients-per-round N    updates a round needs; workers are selected at random (seeded) (default: all ready)
  --over-select X          select ⌈N × X⌉ workers, close once N updates are in, cancel the rest (default 1.3;
                           1 waits for every selected worker)
  --round-timeout SEC      deadline for each round's updates (default ${RUN_DEFAULTS.roundTimeoutMs / 1000})
  --max-round-retries N    retries of a failed round before the run stops (default ${RUN_DEFAULTS.maxRoundRetries})
  --model 2nn|cnn          McMahan's 2NN MLP or CNN (default 2nn)
  --partition iid|shards|dirichlet   how the demo splits MNIST across workers (default iid)
  --alpha A                Dirichlet concentration for --partition dirichlet (default 0.5)
  --local-epochs N         local epochs per round (default ${RUN_DEFAULTS.localEpochs})
  --batch-size N           local minibatch size (default ${RUN_DEFAULTS.batchSize})
  --optimizer adam|sgd     local optimizer (default ${RUN_DEFAULTS.optimizer})
  --lr X                   local learning rate (default ${RUN_DEFAULTS.lr})
  --max-local-steps N      cap on local steps per round (default: none)
  --target-round-seconds S give each worker the local steps it can do in about S seconds, from its
                           measured speed, and aggregate with FedNova (default: off)
  --max-examples-per-worker N   most examples one worker counts for per epoch: bounds its
                           aggregation weight, the SecAgg+ weight cap and its reward
                           (default: 2 × the demo's MNIST shard, 2·⌈60000 ÷ workers⌉)
  --seed N                 seed for selection, partitioning and shuffling (default ${RUN_DEFAULTS.seed})
  --target-accuracy X      stop once test accuracy reaches X (0..1)
  --eval mnist|none        coordinator's held-out set (default mnist)
  --run-id ID              name of a new run (default: generated)
  --strategy NAME          fedavg|fedavgm|fedprox|fedadam|fedyogi|fedadagrad|fedmedian|fedtrimmedavg|krum,
                           with default hyperparameters (run files set them) (default fedavg)
  --no-secure-agg          plain FedAvg: the coordinator sees each update (default: SecAgg+ on)
  --secagg-neighbours K    SecAgg+ neighbours per worker (default 4·⌈log2 n⌉, capped at n−1)
  --secagg-threshold T     Shamir threshold (default: smallest strict majority of K+1)
  --secagg-clip C          clip each update coordinate to [−C, C] (default 1)
  --secagg-bits B          fixed-point bits per coordinate (default 16)
  --secagg-weight-cap N    examples at which a worker's weight reaches 1 (default: the most a worker
                           can be credited with, from --max-examples-per-worker)
  --secagg-stage-timeout SEC   deadline of each SecAgg+ stage (default 30)`;

export function secureAggregationFromFlags(values: FlagValues): RunConfig['secureAggregation'] {
  if (values['secure-agg'] === false) return false;
  const stageTimeout = numberFlag(values, 'secagg-stage-timeout', undefined, 0.1, 86_400);
  return {
    neighbours: intFlag(values, 'secagg-neighbours', undefined, 2, 1000),
    threshold: intFlag(values, 'secagg-threshold', undefined, 2, 1000),
    clipRange: numberFlag(values, 'secagg-clip', undefined, 1e-9, 1e9),
    bits: intFlag(values, 'secagg-bits', undefined, 2, 31),
    weightCap: intFlag(values, 'secagg-weight-cap', undefined, 1, 1e12),
    stageTimeoutMs: stageTimeout === undefined ? undefined : Math.round(stageTimeout * 1000),
  };
}

/**
 * `defaults.shards`: how many MNIST shards the command's demo workers split the training set
 * into (undefined when the workers are started elsewhere), for --max-examples-per-worker's default.
 */
export function runConfigFromFlags(values: FlagValues, defaults: { minClients: number; rounds?: number; shards?: number | undefined }): RunConfig {
  const seed = intFlag(values, 'seed', RUN_DEFAULTS.seed, -(2 ** 31), 2 ** 31 - 1);
  const minClients = intFlag(values, 'min-clients', defaults.minClients, 1, 100_000);
  return parseRunConfig({
    runId: stringFlag(values, 'run-id'),
    model: { kind: 'builtin', name: enumFlag(values, 'model', ['2nn', 'cnn'] as const, '2nn') },
    rounds: intFlag(values, 'rounds', defaults.rounds ?? RUN_DEFAULTS.rounds, 1, 100_000),
    minClients,
    clientsPerRound: intFlag(values, 'clients-per-round', undefined, 1, 100_000),
    overSelect: overSelectFlag(values),
    roundTimeoutMs: Math.round(numberFlag(values, 'round-timeout', RUN_DEFAULTS.roundTimeoutMs / 1000, 0.1, 86_400) * 1000),
    maxRoundRetries: intFlag(values, 'max-round-retries', RUN_DEFAULTS.maxRoundRetries, 0, 1000),
    localEpochs: intFlag(values, 'local-epochs', RUN_DEFAULTS.localEpochs, 1, 1000),
    batchSize: intFlag(values, 'batch-size', RUN_DEFAULTS.batchSize, 1, 65_536),
    optimizer: enumFlag(values, 'optimizer', ['adam', 'sgd'] as const, RUN_DEFAULTS.optimizer),
    lr: numberFlag(values, 'lr', RUN_DEFAULTS.lr, 1e-9, 100),
    maxLocalSteps: intFlag(values, 'max-local-steps', undefined, 1, 1e9),
    targetRoundSeconds: targetRoundSecondsFlag(values),
    maxExamplesPerWorker: maxExamplesFlag(values, defaultMnistMaxExamplesPerWorker(defaults.shards)),
    partition: {
      kind: enumFlag(values, 'partition', ['iid', 'shards', 'dirichlet'] as const, 'iid'),
      alpha: numberFlag(values, 'alpha', 0.5, 1e-6, 1e6),
      shardsPerClient: 2,
      seed,
    },
    seed,
    targetAccuracy: numberFlag(values, 'target-accuracy', undefined, 0, 1),
    evaluation: enumFlag(values, 'eval', ['mnist', 'none'] as const, RUN_DEFAULTS.evaluation),
    keepCheckpoints: RUN_DEFAULTS.keepCheckpoints,
    secureAggregation: secureAggregationFromFlags(values),
    strategy: { name: enumFlag(values, 'strategy', STRATEGY_NAMES, 'fedavg') },
  });
}

/** `--over-select X`: a number ≥ 1 (E_CONFIG_INVALID naming overSelect otherwise); undefined: the default. */
export function overSelectFlag(values: FlagValues): number | undefined {
  const raw = values['over-select'];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < 1 || value > 100) {
    throw new CohortError('E_CONFIG_INVALID', `overSelect: --over-select expects a number from 1 to 100, got '${String(raw)}'`);
  }
  return value;
}

/** `--target-round-seconds S`: a number of seconds > 0 (E_CONFIG_INVALID naming targetRoundSeconds otherwise). */
export function targetRoundSecondsFlag(values: FlagValues): number | undefined {
  const raw = values['target-round-seconds'];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 86_400) {
    throw new CohortError('E_CONFIG_INVALID', `targetRoundSeconds: --target-round-seconds expects seconds above 0 and at most 86400, got '${String(raw)}'`);
  }
  return value;
}

/** A bad bound is a bad run configuration: E_CONFIG_INVALID, naming the field and the flag. */
function maxExamplesFlag(values: FlagValues, fallback: number): number {
  try {
    return intFlag(values, 'max-examples-per-worker', fallback, 1, 1e9);
  } catch (error) {
    throw new CohortError('E_CONFIG_INVALID', `maxExamplesPerWorker: ${error instanceof Error ? error.message : String(error)}`);
  }
}
