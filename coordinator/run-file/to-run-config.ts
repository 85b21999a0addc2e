/**
 * A loaded run file → a RunPlan: the RunConfig the engine takes today, plus the blocks the engine
 * is being taught to take (strategy, privacy, federated evaluation, ledger). Everything that can be
 * checked before a coordinator starts is checked here, and each refusal names the run-file field:
 * strategy vs secure aggregation, DP vs the rest of the run, the reward settings.
 *
 * @example
 *   const plan = toRunPlan(loadRunFile('examples/mnist-fedadam-dp.json'), { localWorkers: 4, population: 4 });
 *   await runServe({ ..., config: plan.config, runPlan: plan });
 */
import { CohortError } from '../../core/protocol/errors.js';
import { runConfigSchema, type RunConfig } from '../engine/run-config.js';
import type { FederatedEvaluationPlan } from '../evaluation/federated.js';
import { LEDGER_KEY_ENV, ledgerConfigSchema, type LedgerConfig } from '../ledger/ledger-config.js';
import { selectionSize } from '../engine/over-selection.js';
import { OVER_SELECT_DEFAULT } from '../engine/run-config.js';
import { RunPrivacy } from '../engine/run-privacy.js';
import { DEFAULT_LOCAL_MAX_EXAMPLES_PER_WORKER, defaultMnistMaxExamplesPerWorker } from '../engine/work-bound.js';
import { resolvePrivacy, type PrivacyConfig } from '../privacy/dp-config.js';
import type { SimulationSpec } from '../simulate/fleet-spec.js';
import { createStrategy } from '../strategy/create-strategy.js';
import { assertCompatibleWithSecureAggregation } from '../strategy/secure-compatibility.js';
import type { StrategySpec } from '../strategy/strategy-spec.js';
import { describeIssue, formatPath } from './issues.js';
import type { LoadedRunFile } from './load.js';
import { RUN_FILE_DEFAULTS } from './schema.js';

export type EvaluationPlan = { kind: 'mnist' } | { kind: 'none' } | ({ kind: 'federated' } & FederatedEvaluationPlan);

export interface RunPlan {
  /** The run file's absolute path, when it came from one. */
  source?: string | undefined;
  description?: string | undefined;
  /** What the engine runs (federated evaluation included, in `evaluation` and `federatedEvaluation`). */
  config: RunConfig;
  /** Validated, every hyperparameter filled in (the same as `config.strategy`). */
  strategy: StrategySpec;
  /** The privacy block as the engine takes it (the same as `config.privacy`); undefined when DP is off. */
  privacy?: PrivacyConfig | undefined;
  evaluation: EvaluationPlan;
  /** `demo`: workers train on MNIST shards made by `config.partition`; `local`: on their own data. */
  data: 'demo' | 'local';
  /** Rewards recorded on a chain; undefined for an unpaid run. */
  ledger?: LedgerConfig | undefined;
  /** The run file's `simulation` block: read by `cohort simulate` only. */
  simulation?: SimulationSpec | undefined;
}

export interface RunPlanContext {
  /** Node workers this command starts (`--local-workers`): the default for minClients. */
  localWorkers?: number | undefined;
  /** Workers rounds are sampled from, when the command knows it for sure (the simulated clients): wins over the file's `population`. */
  population?: number | undefined;
  /** Command-line overrides. */
  rounds?: number | undefined;
  clientsPerRound?: number | undefined;
  overSelect?: number | undefined;
  mode?: 'sync' | 'async' | undefined;
}

function invalid(message: string): never {
  throw new CohortError('E_CONFIG_INVALID', message);
}

/** The file's data block, with the options that only one partition uses checked against it. */
function dataOf(file: LoadedRunFile): Exclude<LoadedRunFile['data'], string> {
  const data = typeof file.data === 'string' ? { partition: file.data } : file.data;
  if (data.alpha !== undefined && data.partition !== 'dirichlet') invalid(`data.alpha: only used with partition "dirichlet", not "${data.partition}"`);
  if (data.shardsPerClient !== undefined && data.partition !== 'shards') invalid(`data.shardsPerClient: only used with partition "shards", not "${data.partition}"`);
  return data;
}

/** The round mode (`--mode` over the file's) and the async settings a sync run ignores. */
function asyncInput(file: LoadedRunFile, ctx: RunPlanContext): Record<string, unknown> {
  return { mode: ctx.mode ?? file.mode, bufferSize: file.bufferSize, maxStaleness: file.maxStaleness, maxConcurrentGroups: file.maxConcurrentGroups };
}

export function toRunPlan(file: LoadedRunFile, ctx: RunPlanContext = {}): RunPlan {
  const secureAggregation: RunConfig['secureAggregation'] = file.secureAggregation === true ? {} : file.secureAggregation;
  const secure = secureAggregation !== false;
  const clientsPerRound = ctx.clientsPerRound ?? file.clientsPerRound;
  // As `cohort demo`: all selected workers by default, or all local workers; SecAgg+ needs 3.
  const minClients = file.minClients ?? clientsPerRound ?? Math.max(secure ? 3 : 1, ctx.localWorkers ?? 0);
  const data = dataOf(file);
  const evaluation = evaluationPlan(file, clientsPerRound);
  if (file.targetAccuracy !== undefined && evaluation.kind === 'none') {
    invalid('targetAccuracy: needs an evaluation ("mnist" or "federated") to measure accuracy on');
  }

  // Local workers are a lower bound on the population: q = m/P is then an upper bound, and ε conservative.
  const population = ctx.population ?? file.population ?? (ctx.localWorkers || undefined);
  const configInput = {
    runId: file.runId,
    model: file.model,
    rounds: ctx.rounds ?? file.rounds,
    minClients,
    clientsPerRound,
    overSelect: ctx.overSelect ?? file.overSelect,
    ...asyncInput(file, ctx),
    roundTimeoutMs: file.roundTimeoutMs, maxRoundRetries: file.maxRoundRetries,
    localEpochs: file.localEpochs,
    batchSize: file.batchSize,
    optimizer: file.optimizer,
    lr: file.lr,
    maxLocalSteps: file.maxLocalSteps, targetRoundSeconds: file.targetRoundSeconds,
    maxExamplesPerWorker: file.maxExamplesPerWorker ?? defaultMaxExamples(data.partition, ctx),
    // `local` data needs no split; the engine's spec is then unused but must be valid.
    partition: {
      kind: data.partition === 'local' ? 'iid' : data.partition,
      alpha: data.alpha ?? RUN_FILE_DEFAULTS.alpha,
      shardsPerClient: data.shardsPerClient ?? RUN_FILE_DEFAULTS.shardsPerClient,
      seed: file.seed,
    },
    seed: file.seed,
    targetAccuracy: file.targetAccuracy,
    evaluation: evaluation.kind,
    federatedEvaluation:
      evaluation.kind === 'federated' ? { heldOutFraction: evaluation.heldOutFraction, clients: evaluation.clients, timeoutMs: evaluation.timeoutMs } : undefined,
    keepCheckpoints: file.keepCheckpoints,
    secureAggregation,
    strategy: file.strategy,
    privacy: privacyInput(file, clientsPerRound, selectionSize({ clientsPerRound, overSelect: ctx.overSelect ?? file.overSelect ?? OVER_SELECT_DEFAULT }), population),
    quality: file.rewards?.quality,
  };
  const parsed = runConfigSchema.safeParse(configInput);
  if (!parsed.success) {
    // RunConfig names the data split `partition`; the run file calls it `data`.
    // … and the quality rule sits under `rewards`.
    invalid(describeIssue(runConfigSchema, configInput, parsed.error.issues[0]!).replace(/^partition\b/, 'data').replace(/^quality\b/, 'rewards.quality'));
  }
  const config = parsed.data;

  // The engine's own start-up checks, run now so that a bad combination names its run-file field.
  const strategy = createStrategy(config.strategy);
  try {
    assertCompatibleWithSecureAggregation(strategy, secure);
  } catch (error) {
    if (error instanceof CohortError) throw new CohortError(error.code, `strategy.name: ${error.message}`);
    throw error;
  }
  RunPrivacy.create(config, strategy);
  if (config.privacy && population !== undefined) {
    // Also what the engine cannot know: δ against the population (δ < 1/P).
    resolvePrivacy(config.privacy, { clientsPerRound: config.clientsPerRound ?? population, population, secureAggregation: secure, strategy });
  }

  return {
    source: file.source,
    description: file.description,
    config,
    strategy: config.strategy,
    privacy: config.privacy,
    evaluation,
    data: data.partition === 'local' ? 'local' : 'demo',
    ledger: ledgerOf(file, config.rounds), simulation: file.simulation,
  };
}

/**
 * maxExamplesPerWorker when the file leaves it out. Demo data: twice a demo worker's MNIST shard
 * (the shards are the simulated clients, or the local workers). Own data (`local`): a documented
 * default, since the coordinator cannot know the workers' data.
 */
function defaultMaxExamples(partition: string, ctx: RunPlanContext): number {
  return partition === 'local' ? DEFAULT_LOCAL_MAX_EXAMPLES_PER_WORKER : defaultMnistMaxExamplesPerWorker(ctx.population ?? ctx.localWorkers);
}

/**
 * The privacy block for RunConfig. The engine derives q only when every ready worker takes part;
 * with a sample per round it needs q, so it is filled in here from the population where the
 * command or the file knows it. q is the selection actually made, ⌈clientsPerRound × overSelect⌉
 * ÷ population (capped at 1): a worker's update can be in the sum only if it was selected, and
 * which selected workers finish first is not random, so the accountant may not count on it.
 */
function privacyInput(file: LoadedRunFile, clientsPerRound: number | undefined, selected: number | undefined, population: number | undefined): LoadedRunFile['privacy'] {
  const privacy = file.privacy;
  if (!privacy) return undefined;
  if (privacy.samplingRate !== undefined || clientsPerRound === undefined || selected === undefined || population === undefined) return privacy;
  if (clientsPerRound > population) invalid(`population: ${population} is fewer than clientsPerRound ${clientsPerRound}`);
  return { ...privacy, samplingRate: Math.min(1, selected / population) };
}

function evaluationPlan(file: LoadedRunFile, clientsPerRound: number | undefined): EvaluationPlan {
  const e = file.evaluation;
  if (e === 'mnist' || e === 'none') return { kind: e };
  const federated = e === 'federated' ? { kind: 'federated' as const, heldOutFraction: RUN_FILE_DEFAULTS.heldOutFraction, timeoutMs: RUN_FILE_DEFAULTS.federatedTimeoutMs } : e;
  return { ...federated, clients: federated.clients ?? clientsPerRound };
}

/** Where each LedgerConfig field lives in the run file, so its errors name the file's field. */
const LEDGER_FIELD_PATHS: Record<string, string[]> = {
  rpcUrl: ['chain', 'rpcUrl'],
  ledgerAddress: ['chain', 'ledger'],
  chainRunId: ['chain', 'ledgerRun'],
  fromBlock: ['chain', 'fromBlock'],
  key: ['chain', 'keyFile'],
  budgetWei: ['rewards', 'budget'],
  rounds: ['rounds'],
  schedule: ['rewards', 'schedule'],
  perWorkerContributionCap: ['rewards', 'contributionCap'],
  perAddressRewardCapWei: ['rewards', 'rewardCap'],
  allowlist: ['rewards', 'allowlist'],
};

function ledgerOf(file: LoadedRunFile, rounds: number): LedgerConfig | undefined {
  const { rewards, chain } = file;
  if (!rewards || !chain) return undefined;
  const input = {
    rpcUrl: chain.rpcUrl,
    ledgerAddress: chain.ledger,
    chainRunId: chain.ledgerRun,
    fromBlock: chain.fromBlock,
    budgetWei: rewards.budget,
    rounds,
    schedule: rewards.schedule,
    perWorkerContributionCap: rewards.contributionCap,
    perAddressRewardCapWei: rewards.rewardCap,
    allowlist: rewards.allowlist,
    key: chain.keyFile === undefined ? { source: 'env' as const, variable: chain.keyEnv ?? LEDGER_KEY_ENV } : { source: 'file' as const, path: chain.keyFile },
  };
  const parsed = ledgerConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const [field, ...rest] = issue?.path ?? [];
  const path = [...(LEDGER_FIELD_PATHS[String(field)] ?? ['chain', String(field)]), ...rest];
  return invalid(`${formatPath(path)}: ${issue?.message ?? 'invalid'}`);
}
