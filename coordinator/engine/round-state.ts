/**
 * The one typed state a round's steps work on, and what they may use of the engine. A round is a
 * sequence of steps (see round-kinds.ts); each step reads what earlier steps wrote into the
 * RoundState and adds its own part. `need` names the step that should have run when a part is
 * missing, so a mis-ordered sequence fails loudly instead of half-running a round.
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig } from '../../core/protocol/messages.js';
import type { SecAggGroupSum } from '../../core/secagg/group-unmask.js';
import type { GroupScore } from '../contribution/group-score.js';
import type { QualityEstimator } from '../contribution/quality-estimator.js';
import type { QualityRule } from '../contribution/quality-rule.js';
import type { RoundScoringRecord, ScoringObservation } from '../contribution/scoring-record.js';
import type { DpRoundPlan } from '../privacy/dp-round.js';
import type { RoundAggregate, Strategy } from '../strategy/strategy.js';
import type { RunStore } from '../store/run-store.js';
import type { ReadyWorker } from '../transport/channel.js';
import type { RoundCollector } from './collector.js';
import type { EngineEvent } from './events.js';
import type { RunConfig } from './run-config.js';
import type { RunPrivacy } from './run-privacy.js';
import type { RoundSecAgg } from './secure-config.js';
import type { WorkerStats } from './worker-stats.js';

/** What a completed round hands to observers that must commit with it (the ledger outbox). */
export interface RoundCommit {
  runId: string;
  round: number;
  /** Credited work per surviving worker: the examples it processed over all its local epochs, clamped to the run's bound. */
  contributions: ReadonlyArray<{ address: string; examples: number; amount: number }>;
  weights: Float32Array;
  /** Under a quality rule: what the estimator observed this round, with the rule and its settings, for the ledger to publish. */
  scoring?: RoundScoringRecord | undefined;
}


/** A worker that contributed to the round, with what it declared. */
export interface Survivor {
  address: string;
  /** Declared examples processed this round (unverified; clamped before use). */
  examples: number;
  trainLoss: number;
  /** Declared training time, in milliseconds. */
  trainMs: number;
  steps: number;
}

/** What `collect` produced: the sum the coordinator may know, who contributed and who dropped. */
export interface RoundOutcome {
  aggregate: RoundAggregate;
  survivors: Survivor[];
  dropped: Array<{ address: string; reason: string }>;
  /**
   * Over-selection: selected workers the round closed without, because enough results were in
   * first. They were sent a `cancel`; they are stragglers, not dropouts (their stats do not count it).
   */
  cut?: string[] | undefined;
  /** Why the collection itself failed (a SecAgg+ stage), if it did. */
  failure?: string | undefined;
  /**
   * Contribution scoring (rewards.quality): the sums of the round's scoring groups, which SecAgg+
   * reveals instead of nothing finer; undefined with `groupsUnavailable` saying why when it could not.
   */
  groups?: SecAggGroupSum[] | undefined;
  groupsUnavailable?: string | undefined;
}

/** Step `configure`'s output: who gets which instructions, and the round's aggregation rules. */
export interface RoundPlan {
  /** The selected workers the strategy gave work to, each with its own instructions. */
  assignments: ReadonlyArray<{ worker: ReadyWorker; config: TrainConfig }>;
  /** Values per update: the model's, plus what differential privacy appends. */
  updateLength: number;
  /** Most work one worker is credited with (weight and reward): maxRoundWork(config). */
  maxWork: number;
  /** Largest aggregation weight one contributor can have (plain: maxWork, or 1 under DP; secure: 1). */
  maxWeight: number;
  /** Per-coordinate bound on each contributor's value that the aggregation path guarantees (∞ if none). */
  coordinateBound: number;
  dp?: DpRoundPlan | undefined;
  secure?: RoundSecAgg | undefined;
}

export interface RoundState {
  readonly round: number;
  readonly attempt: number;
  /** Date.now() when the round started. */
  readonly startedAt: number;
  /** Deadline for training (and the masked input), ms since the epoch. */
  readonly deadline: number;
  /** The global model the round starts from. */
  readonly global: Float32Array;
  selected?: ReadyWorker[];
  plan?: RoundPlan;
  outcome?: RoundOutcome;
  /** The sum the strategy aggregated (after differential privacy's central noise). */
  aggregate?: RoundAggregate;
  /** Async mode: the applied group's staleness (versions since it started), its weight 1/√(1 + s), and its group id. */
  staleness?: { versions: number; weight: number; group: number } | undefined;
  /** The candidate next global model. */
  next?: Float32Array;
  /** Undo what `aggregate` did to the strategy's server state, for a round refused after it. */
  rollback?: () => void;
  metrics?: { accuracy: number | null; loss: number | null };
  /** Step `score`'s verdict on the round's groups and the quality each survivor is credited with. */
  scoring?: RoundScoring;
  /** Step `commit`'s record of what the round credited. */
  committed?: { durationMs: number; examples: number; trainLoss: number; contributions: RoundCommit['contributions'] };
}

/** A scored round: its groups' scores (empty when it could not score) and every survivor's quality. */
export interface RoundScoring {
  groups: GroupScore[];
  /** Why the round's groups were not scored, when they were not. */
  skipped?: string | undefined;
  workers: Map<string, { estimate: number; confidence: number; observations: number; factor: number; flagged: boolean }>;
  /** What the estimator observed (absent when the round was not scored). */
  observation?: ScoringObservation | undefined;
}

/** Contribution scoring's part of a run: its rule, its estimator, and the held-out loss it scores with. */
export interface RunQuality {
  readonly rule: QualityRule;
  /** Replaced, not mutated, when a refused round's observation is undone. */
  estimator: QualityEstimator;
  /** Loss and accuracy on the coordinator's held-out set (the scoring needs one). */
  evaluate(weights: Float32Array): Promise<{ loss: number; accuracy: number }>;
  /** ∇ of the held-out mean loss, when the evaluator has it: scores are then first-order marginals. */
  lossGradient?: ((weights: Float32Array) => Promise<Float32Array>) | undefined;
  /** The coordinator's reference update for `round` from `weights`, when the evaluator can train: groups are then scored against it. */
  referenceUpdate?: ((weights: Float32Array, round: number) => Promise<Float32Array>) | undefined;
}

/** What the steps may use of the engine. */
export interface RoundContext {
  readonly runId: string;
  readonly config: RunConfig;
  readonly store: RunStore;
  readonly strategy: Strategy;
  readonly privacy: RunPrivacy | undefined;
  /** The workers ready now (selection's pool, broadcast's audience). */
  readyWorkers(): ReadyWorker[];
  stats: Map<string, WorkerStats>;
  emit(event: EngineEvent): void;
  /** Routes workers' messages for `round` to `collector` (undefined: none). Async groups each have their own. */
  setCollector(round: number, collector: RoundCollector | undefined): void;
  /** Why the run is stopping, once stop() was called. */
  stopReason(): string | undefined;
  evaluate(round: number, weights: Float32Array): Promise<{ accuracy: number | null; loss: number | null }>;
  /** The committed round's model and metrics become the run's (before anyone hears of the round). */
  adopt(round: number, weights: Float32Array, metrics: { accuracy: number | null; loss: number | null }): void;
  /** Contribution scoring, when the run has a `rewards.quality` rule. */
  readonly quality?: RunQuality | undefined;
  /** Called inside the store transaction that completes a round; a throw rolls the round back. */
  onRoundCommit: ((commit: RoundCommit) => void) | undefined;
}

/** A step's verdict: undefined to go on, or why the round failed (it is then retried). */
export type StepResult = { failure: string } | undefined;

export interface RoundStep {
  readonly name: string;
  run(state: RoundState, ctx: RoundContext): StepResult | Promise<StepResult>;
}

/** A part of the state an earlier step should have set. */
export function need<T>(value: T | undefined, part: string, step: string): T {
  if (value === undefined) throw new CohortError('E_INTERNAL', `round step "${step}" needs "${part}", which no earlier step set`);
  return value;
}
