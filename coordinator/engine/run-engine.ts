/**
 * The run engine owns the round loop:
 *
 *   wait for minClients → select (seeded) → send weights + instructions → collect until the
 *   deadline → aggregate (Strategy) → evaluate → persist round + checkpoint in one transaction
 *   → broadcast → next round.
 *
 * A round with fewer than minClients survivors fails: the model stays unchanged and the round is
 * retried, up to maxRoundRetries times, then the run stops with the reason.
 */
import type Database from 'better-sqlite3';
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig, TrainedMessage, UpdateMessage, WelcomeMessage } from '../../core/protocol/messages.js';
import type { SecAggReply } from '../../core/protocol/secagg.js';
import type { Strategy } from '../strategy/strategy.js';
import type { RunStore } from '../store/run-store.js';
import type { ReadyWorker, WorkerChannel } from './channel.js';
import type { EngineEvent, EngineListener } from './events.js';
import { startPlainRound, type ActiveRound, type RoundOutcome } from './plain-round.js';
import { startSecureRound, type ActiveSecureRound } from './secure-round.js';
import { secureAggregationFor } from './secure-config.js';
import type { RunPrivacy } from './run-privacy.js';
import type { FederatedEvaluation } from '../evaluation/federated.js';
import type { EvaluationMessage } from '../../core/protocol/evaluate.js';
import type { PrivacyReport } from '../privacy/budget.js';
import type { RunConfig } from './run-config.js';
import { selectWorkers } from './selection.js';

export interface Evaluator {
  evaluate(weights: Float32Array): Promise<{ accuracy: number; loss: number }>;
}

export interface WorkerStats {
  address: string;
  kind: ReadyWorker['channel']['kind'];
  backend: string;
  roundsParticipated: number;
  examples: number;
  dropouts: number;
}

export interface RunSummary {
  runId: string;
  status: 'completed' | 'failed' | 'stopped';
  reason: string;
  rounds: number;
  accuracy: number | null;
  loss: number | null;
  workers: WorkerStats[];
  secureAggregation: boolean;
  /** (ε, δ) spent, when differential privacy is on. */
  privacy?: { epsilon: number; delta: number } | undefined;
}

/** What a completed round hands to observers that must commit with it (the ledger outbox). */
export interface RoundCommit {
  runId: string;
  round: number;
  /** Declared work per surviving worker: examples × local epochs. */
  contributions: ReadonlyArray<{ address: string; examples: number; amount: number }>;
  weights: Float32Array;
}

export interface RunEngineOptions {
  /** Called inside the store transaction that completes a round; a throw rolls the round back. */
  onRoundCommit?: ((commit: RoundCommit, db: Database.Database) => void) | undefined;
  runId: string;
  config: RunConfig;
  store: RunStore;
  strategy: Strategy;
  initialWeights: Float32Array;
  /** Round after which to resume (0 for a fresh run). */
  resumeAfterRound: number;
  evaluator?: Evaluator | undefined;
  /** The run's differential privacy, when it has a privacy block. */
  privacy?: RunPrivacy | undefined;
  /** Evaluation on the workers' own held-out data, for runs without a coordinator test set. */
  federatedEvaluation?: FederatedEvaluation | undefined;
}

export class RunEngine {
  readonly runId: string;
  private readonly config: RunConfig;
  private global: Float32Array;
  private round: number;
  private readonly ready = new Map<string, ReadyWorker>();
  private readonly stats = new Map<string, WorkerStats>();
  private readonly listeners = new Set<EngineListener>();
  private active: { plain: ActiveRound } | { secure: ActiveSecureRound } | undefined;
  private stopRequested: string | undefined;
  private suspended = false;
  private paused = false;
  private wakeUp: (() => void) | undefined;
  private lastMetrics: { accuracy: number | null; loss: number | null } = { accuracy: null, loss: null };
  private summary: RunSummary | undefined;

  constructor(private readonly options: RunEngineOptions) {
    this.runId = options.runId;
    this.config = options.config;
    this.global = options.initialWeights;
    this.round = options.resumeAfterRound;
    const last = options.store.rounds(this.runId).at(-1);
    if (last) this.lastMetrics = { accuracy: last.accuracy, loss: last.loss };
  }

  get parameterCount(): number {
    return this.global.length;
  }

  get completedRounds(): number {
    return this.round;
  }

  get weights(): Float32Array {
    return this.global;
  }

  /** What a newly authenticated worker is told about this run. */
  runInfo(): WelcomeMessage['run'] {
    return {
      runId: this.runId,
      model: this.config.model,
      parameterCount: this.global.length,
      partition: this.config.partition,
      secureAggregation: this.config.secureAggregation !== false,
      ...(this.options.federatedEvaluation ? { federatedEvaluation: { heldOutFraction: this.options.federatedEvaluation.plan.heldOutFraction } } : {}),
    };
  }

  on(listener: EngineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  readyCount(): number {
    return this.ready.size;
  }

  workerStats(): WorkerStats[] {
    return [...this.stats.values()];
  }

  /** A worker prepared the run and may be selected. Replaces any earlier session of its address. */
  addReady(worker: ReadyWorker): void {
    this.ready.set(worker.channel.address, worker);
    const existing = this.stats.get(worker.channel.address);
    this.stats.set(worker.channel.address, {
      address: worker.channel.address,
      kind: worker.channel.kind,
      backend: worker.backend.backend,
      roundsParticipated: existing?.roundsParticipated ?? 0,
      examples: existing?.examples ?? 0,
      dropouts: existing?.dropouts ?? 0,
    });
    this.emit({ type: 'worker-ready', address: worker.channel.address, kind: worker.channel.kind, backend: worker.backend, examples: worker.examples });
    this.wakeUp?.();
  }

  /** A worker's connection ended (or was replaced): it leaves the pool and any open round. */
  removeWorker(channel: WorkerChannel, reason: string): void {
    const current = this.ready.get(channel.address);
    if (current?.channel.sessionId !== channel.sessionId) return;
    this.ready.delete(channel.address);
    this.options.federatedEvaluation?.onDisconnect(channel.address);
    if (this.active) ('plain' in this.active ? this.active.plain : this.active.secure).onDisconnect(channel.address, reason);
    this.emit({ type: 'worker-left', address: channel.address, reason });
  }

  /** Route an update to the open round; throws a CohortError the gateway reports to the worker. */
  onUpdate(channel: WorkerChannel, update: UpdateMessage): void {
    if (!this.active || !('plain' in this.active)) {
      throw new CohortError('E_UPDATE_STALE', `no plain round is open (got an update for round ${update.round})`);
    }
    this.active.plain.onUpdate(channel, update);
  }

  /** Federated evaluation: a worker's scalars for the model it was asked to evaluate. */
  onEvaluation(channel: WorkerChannel, message: EvaluationMessage): void {
    if (!this.options.federatedEvaluation) throw new CohortError('E_UNEXPECTED_MESSAGE', 'this run does not evaluate on workers');
    this.options.federatedEvaluation.onEvaluation(channel, message);
  }

  /** Under secure aggregation: a worker's declared metrics after training. */
  onTrained(channel: WorkerChannel, message: TrainedMessage): void {
    if (!this.active || !('secure' in this.active)) throw new CohortError('E_UPDATE_STALE', `no secure round is open (round ${message.round})`);
    this.active.secure.onTrained(channel, message);
  }

  /** Under secure aggregation: a worker's reply to a SecAgg+ stage. */
  async onSecAggReply(channel: WorkerChannel, reply: SecAggReply): Promise<void> {
    if (!this.active || !('secure' in this.active)) throw new CohortError('E_SECAGG_STAGE', `no secure round is open (round ${reply.round})`);
    await this.active.secure.onReply(channel, reply);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Finish the round in progress, then start no new round until resume(). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.emit({ type: 'run-paused', runId: this.runId });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.emit({ type: 'run-resumed', runId: this.runId });
    this.wakeUp?.();
  }

  /**
   * Stop the run. With `suspend`, the run stays resumable (the coordinator is shutting down and a
   * restart on the same store carries on); without it, the run ends as 'stopped'.
   */
  stop(reason = 'stopped by request', suspend = false): void {
    this.stopRequested = reason;
    this.suspended = suspend;
    this.options.federatedEvaluation?.cancel();
    if (this.active) ('plain' in this.active ? this.active.plain : this.active.secure).cancel(reason);
    this.wakeUp?.();
  }

  get result(): RunSummary | undefined {
    return this.summary;
  }

  /** Runs rounds until the run is done, the target accuracy is reached, or it is stopped. */
  async run(): Promise<RunSummary> {
    this.emit({ type: 'run-started', runId: this.runId, resumedAfterRound: this.round, parameterCount: this.global.length });
    let status: RunSummary['status'] = 'completed';
    let reason = `completed ${this.config.rounds} rounds`;
    if (this.reachedTarget()) reason = `target accuracy ${this.config.targetAccuracy} reached`;
    while (this.round < this.config.rounds && !this.reachedTarget()) {
      const roundNumber = this.round + 1;
      // A run with an ε budget stops before the round that would exceed it, and says why.
      const check = this.options.privacy?.checkNextRound();
      if (check && !check.ok) {
        reason = `stopped before round ${roundNumber}: ${check.reason}`;
        break;
      }
      const ok = await this.runRoundWithRetries(roundNumber);
      if (this.stopRequested !== undefined) {
        status = 'stopped';
        reason = this.stopRequested;
        break;
      }
      if (!ok) {
        status = 'failed';
        reason = `round ${roundNumber} failed ${this.config.maxRoundRetries + 1} times`;
        break;
      }
      if (this.reachedTarget()) reason = `target accuracy ${this.config.targetAccuracy} reached after round ${this.round}`;
    }
    if (!this.suspended) this.options.store.endRun(this.runId, status, reason);
    this.summary = {
      runId: this.runId,
      status,
      reason,
      rounds: this.round,
      accuracy: this.lastMetrics.accuracy,
      loss: this.lastMetrics.loss,
      workers: this.workerStats(),
      secureAggregation: this.config.secureAggregation !== false,
      privacy: this.privacyReport(),
    };
    // Suspended runs resume on restart, so their workers are not told to leave.
    if (!this.suspended) for (const worker of this.ready.values()) worker.channel.send({ type: 'run-end', runId: this.runId, reason });
    this.emit({ type: 'run-ended', runId: this.runId, status, reason });
    return this.summary;
  }

  /** (ε, δ) spent so far, when differential privacy is on. */
  privacyReport(): { epsilon: number; delta: number } | undefined {
    const report: PrivacyReport | undefined = this.options.privacy?.report();
    return report ? { epsilon: report.epsilon, delta: report.delta } : undefined;
  }

  /** The coordinator's held-out set where it has one, else the workers' (federated), else nothing. */
  private async evaluate(round: number, weights: Float32Array): Promise<{ accuracy: number | null; loss: number | null }> {
    if (this.options.evaluator) return this.options.evaluator.evaluate(weights);
    const federated = await this.options.federatedEvaluation?.evaluate(this.runId, round, weights, [...this.ready.values()]);
    return federated ? { accuracy: federated.accuracy, loss: federated.loss } : { accuracy: null, loss: null };
  }

  private reachedTarget(): boolean {
    const target = this.config.targetAccuracy;
    return target !== undefined && this.lastMetrics.accuracy !== null && this.lastMetrics.accuracy >= target;
  }

  /**
   * Waits until enough workers are ready: minClients, or clientsPerRound when that is larger (as
   * Flower's client manager does), since one cannot select more workers than are there.
   */
  private async waitForWorkers(round: number): Promise<void> {
    const needed = Math.max(this.config.minClients, this.config.clientsPerRound ?? 0);
    let announced = -1;
    while (this.stopRequested === undefined && (this.paused || this.ready.size < needed)) {
      if (announced !== this.ready.size) {
        announced = this.ready.size;
        this.emit({ type: 'waiting', runId: this.runId, round, ready: this.ready.size, needed });
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = undefined;
    }
  }

  private async runRoundWithRetries(round: number): Promise<boolean> {
    for (let attempt = 1; attempt <= this.config.maxRoundRetries + 1; attempt++) {
      await this.waitForWorkers(round);
      if (this.stopRequested !== undefined) return false;
      const failure = await this.runRound(round, attempt);
      if (failure === undefined) return true;
      if (this.stopRequested !== undefined) return false;
      const willRetry = attempt <= this.config.maxRoundRetries;
      this.options.store.recordRoundFailure(this.runId, round, attempt, failure);
      this.emit({ type: 'round-failed', runId: this.runId, round, attempt, reason: failure, willRetry });
      for (const worker of this.ready.values()) {
        worker.channel.send({ type: 'round', runId: this.runId, round, status: 'failed', participants: 0, reason: failure });
      }
    }
    return false;
  }

  /** One attempt at a round; returns the failure reason, or undefined when it completed. */
  private async runRound(round: number, attempt: number): Promise<string | undefined> {
    const started = Date.now();
    const selected = selectWorkers([...this.ready.values()], this.config.clientsPerRound, this.config.seed + attempt * 7_919, round);
    const deadline = started + this.config.roundTimeoutMs;
    this.emit({ type: 'round-started', runId: this.runId, round, attempt, selected: selected.map((w) => w.channel.address), deadline });
    const base: TrainConfig = {
      localEpochs: this.config.localEpochs,
      batchSize: this.config.batchSize,
      optimizer: this.config.optimizer,
      lr: this.config.lr,
      maxLocalSteps: this.config.maxLocalSteps,
      seed: 0,
    };
    const secure = secureAggregationFor(this.config, selected.map((w) => w.examples));
    const privacy = this.options.privacy;
    const dpPlan = privacy?.plan(secure ? secure.secagg.threshold : 1);
    if (secure && privacy && dpPlan) secure.secagg.clipRange = privacy.secAggClipRange(dpPlan, secure.secagg.clipRange);
    const updateLength = this.global.length + (dpPlan?.extraValues ?? 0);
    const configFor = (worker: ReadyWorker): TrainConfig => ({
      ...this.options.strategy.configureRound(round, base),
      // Each worker shuffles differently, but reproducibly.
      seed: (this.config.seed * 31 + round * 1_009 + hashAddress(worker.channel.address)) | 0,
      ...(dpPlan ? { dp: dpPlan.client } : {}),
    });
    let outcome: RoundOutcome & { failure?: string };
    if (secure) {
      const active = startSecureRound({
        runId: this.runId,
        round,
        global: this.global,
        selected,
        deadline,
        configFor,
        secagg: secure.secagg,
        weightCap: secure.weightCap,
        stageTimeoutMs: secure.stageTimeoutMs,
        dimension: updateLength,
        onStage: (stage, seconds) => this.emit({ type: 'stage-completed', runId: this.runId, round, stage, seconds }),
      });
      this.active = { secure: active };
      outcome = await active.outcome;
    } else {
      const active = startPlainRound({
        runId: this.runId,
        round,
        global: this.global,
        selected,
        deadline,
        configFor,
        keepIndividualUpdates: this.options.strategy.needsIndividualUpdates,
        updateLength,
        ...(dpPlan ? { weightOf: () => 1 } : {}),
      });
      this.active = { plain: active };
      outcome = await active.outcome;
      this.emit({ type: 'stage-completed', runId: this.runId, round, stage: 'train', seconds: (Date.now() - started) / 1000 });
    }
    this.active = undefined;
    for (const drop of outcome.dropped) {
      const s = this.stats.get(drop.address);
      if (s) s.dropouts += 1;
    }
    if (this.stopRequested !== undefined) return this.stopRequested;
    if (outcome.failure !== undefined) return `secure aggregation failed: ${outcome.failure}`;
    if (outcome.survivors.length < this.config.minClients) {
      return `only ${outcome.survivors.length} of ${selected.length} selected workers returned an update (minClients ${this.config.minClients})`;
    }

    // Differential privacy: central noise and the adaptive clip update happen on the sum.
    const finished = privacy && dpPlan ? privacy.finish(outcome.aggregate, dpPlan) : undefined;
    let next: Float32Array;
    try {
      next = this.options.strategy.aggregate(round, this.global, finished?.aggregate ?? outcome.aggregate);
    } catch (error) {
      // A strategy that cannot use this round's updates (e.g. Krum with too few) fails the round.
      if (error instanceof CohortError) return `${this.options.strategy.name}: ${error.message}`;
      throw error;
    }
    const metrics = await this.evaluate(round, next);
    const examples = outcome.survivors.reduce((n, s) => n + s.examples, 0);
    const trainLoss = outcome.survivors.reduce((n, s) => n + s.trainLoss * s.examples, 0) / Math.max(1, examples);
    const durationMs = Date.now() - started;
    const contributions = outcome.survivors.map((s) => ({ address: s.address, examples: s.examples, amount: s.examples * this.config.localEpochs }));
    this.options.store.completeRound(
      {
        runId: this.runId,
        round,
        completedAt: Date.now(),
        durationMs,
        participants: outcome.survivors.length,
        examples,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        trainLoss,
        secure: secure !== undefined,
      },
      contributions,
      next,
      (db) => {
        // The server optimizer's state commits with the round, so a resumed run continues with it.
        const state = this.options.strategy.state?.();
        if (state) this.options.store.saveStrategyState(this.runId, round, state);
        this.options.onRoundCommit?.({ runId: this.runId, round, contributions, weights: next }, db);
      },
    );
    this.global = next;
    this.round = round;
    this.lastMetrics = metrics;
    for (const s of outcome.survivors) {
      const stat = this.stats.get(s.address);
      if (stat) {
        stat.roundsParticipated += 1;
        stat.examples += s.examples;
      }
    }
    const backends = [...new Set(outcome.survivors.map((s) => this.stats.get(s.address)?.backend ?? '?'))];
    this.emit({
      type: 'round-completed',
      runId: this.runId,
      round,
      participants: outcome.survivors.length,
      examples,
      accuracy: metrics.accuracy,
      loss: metrics.loss,
      trainLoss,
      durationMs,
      dropped: outcome.dropped,
      backends,
    });
    const summary = {
      type: 'round' as const,
      runId: this.runId,
      round,
      status: 'completed' as const,
      participants: outcome.survivors.length,
      ...(metrics.accuracy === null ? {} : { accuracy: metrics.accuracy }),
      ...(metrics.loss === null ? {} : { loss: metrics.loss }),
    };
    for (const worker of this.ready.values()) worker.channel.send(summary);
    return undefined;
  }
}

function hashAddress(address: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < address.length; i++) h = Math.imul(h ^ address.charCodeAt(i), 16_777_619);
  return h >>> 0;
}
