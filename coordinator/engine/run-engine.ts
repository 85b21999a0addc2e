/**
 * The run engine owns the run's lifecycle around its rounds:
 *
 *   wait for minClients → one attempt of the round (a sequence of named steps, round-kinds.ts:
 *   select → configure → collect → aggregate → check → evaluate → commit → broadcast) → retry or
 *   next round.
 *
 * A round whose attempt fails (too few survivors, a failed SecAgg+ stage, an aggregate the check
 * refuses) leaves the model unchanged; its reason is stored and it is retried, up to
 * maxRoundRetries times, then the run stops with the reason. Workers' round messages go to the
 * one active collector (collector.ts), whatever its kind.
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig, TrainedMessage, UpdateMessage, WelcomeMessage } from '../../core/protocol/messages.js';
import type { SecAggReply } from '../../core/protocol/secagg.js';
import type { Strategy } from '../strategy/strategy.js';
import type { RunStore } from '../store/run-store.js';
import type { ReadyWorker, WorkerChannel } from '../transport/channel.js';
import type { RoundCollector } from './collector.js';
import type { EngineEvent, EngineListener } from './events.js';
import type { RunPrivacy } from './run-privacy.js';
import type { FederatedEvaluation } from '../evaluation/federated.js';
import type { EvaluationMessage } from '../../core/protocol/evaluate.js';
import type { PrivacyReport } from '../privacy/budget.js';
import type { RunConfig } from './run-config.js';
import type { RoundCommit, RoundContext, RunQuality } from './round-state.js';
import { runRoundSteps, SCORED_SYNC_ROUND, SYNC_ROUND } from './round-kinds.js';
import { openRunQuality } from './run-quality.js';
import { runAsyncVersions } from './async-runner.js';
import { WakeSignal } from './wake-signal.js';
import { noteResultArrived, statsForReady, type WorkerStats } from './worker-stats.js';

export type { RoundCommit } from './round-state.js';
export type { WorkerStats } from './worker-stats.js';

export interface Evaluator {
  evaluate(weights: Float32Array): Promise<{ accuracy: number; loss: number }>;
  /** ∇ of the held-out mean loss at `weights`, flat; when present, contribution scoring scores to first order with it. */
  lossGradient?(weights: Float32Array): Promise<Float32Array>;
  /** The coordinator's own update from `weights` on its held-out data; when present, contribution scoring scores groups against it. */
  referenceUpdate?(weights: Float32Array, config: TrainConfig, examples: number): Promise<Float32Array>;
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

export interface RunEngineOptions {
  /**
   * Called inside the store transaction that completes a round (the ledger writes its outbox row
   * through the store's own methods); a throw rolls the whole round back.
   */
  onRoundCommit?: ((commit: RoundCommit) => void) | undefined;
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
  /** The open rounds' collectors (one in sync mode; one per group in async), by the round their messages name. */
  private readonly collectors = new Map<number, RoundCollector>();
  private stopRequested: string | undefined;
  private suspended = false;
  private paused = false;
  private readonly wake = new WakeSignal();
  private lastMetrics: { accuracy: number | null; loss: number | null } = { accuracy: null, loss: null };
  private summary: RunSummary | undefined;
  /** Contribution scoring, when the run has a quality rule. */
  private readonly quality: RunQuality | undefined;

  constructor(private readonly options: RunEngineOptions) {
    this.runId = options.runId;
    this.config = options.config;
    this.global = options.initialWeights;
    this.round = options.resumeAfterRound;
    const last = options.store.rounds(this.runId).at(-1);
    if (last) this.lastMetrics = { accuracy: last.accuracy, loss: last.loss };
    this.quality = openRunQuality(options.config, options.store, this.runId, options.evaluator);
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
    this.stats.set(worker.channel.address, statsForReady(worker, this.stats.get(worker.channel.address)));
    this.emit({ type: 'worker-ready', address: worker.channel.address, kind: worker.channel.kind, backend: worker.backend, examples: worker.examples });
    this.wake.signal();
  }

  /** A worker's connection ended (or was replaced): it leaves the pool and any open round. */
  removeWorker(channel: WorkerChannel, reason: string): void {
    const current = this.ready.get(channel.address);
    if (current?.channel.sessionId !== channel.sessionId) return;
    this.ready.delete(channel.address);
    this.options.federatedEvaluation?.onDisconnect(channel.address);
    for (const collector of this.collectors.values()) collector.onDisconnect(channel.address, reason);
    this.emit({ type: 'worker-left', address: channel.address, reason });
  }

  /** Route an update to the open round; throws a CohortError the gateway reports to the worker. */
  onUpdate(channel: WorkerChannel, update: UpdateMessage): void {
    this.onResult(channel, update);
  }

  /** Federated evaluation: a worker's scalars for the model it was asked to evaluate. */
  onEvaluation(channel: WorkerChannel, message: EvaluationMessage): void {
    if (!this.options.federatedEvaluation) throw new CohortError('E_UNEXPECTED_MESSAGE', 'this run does not evaluate on workers');
    this.options.federatedEvaluation.onEvaluation(channel, message);
  }

  /** Under secure aggregation: a worker's declared metrics after training. */
  onTrained(channel: WorkerChannel, message: TrainedMessage): void {
    this.onResult(channel, message);
  }

  /** Under secure aggregation: a worker's reply to a SecAgg+ stage. */
  async onSecAggReply(channel: WorkerChannel, reply: SecAggReply): Promise<void> {
    const collector = this.collectors.get(reply.round);
    if (!collector) throw new CohortError('E_SECAGG_STAGE', `no secure round ${reply.round} is open`);
    await collector.onStageReply(channel, reply);
  }

  /** A training result (update or declared metrics) goes to the open round, whatever its kind. */
  private onResult(channel: WorkerChannel, message: UpdateMessage | TrainedMessage): void {
    const collector = this.collectors.get(message.round);
    if (!collector) {
      const what = message.type === 'update' ? 'an update' : 'trained';
      // In async mode `round` names a group, each training on the model version it was given.
      const open = this.config.mode === 'async' ? `no group ${message.round} is open: this coordinator never gave that model to train, or no longer takes it` : `no round ${message.round} is open`;
      throw new CohortError('E_UPDATE_STALE', `${open} (got ${what})`);
    }
    noteResultArrived(this.stats, channel.address);
    collector.onResult(channel, message);
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
    this.wake.signal();
  }

  /**
   * Stop the run. With `suspend`, the run stays resumable (the coordinator is shutting down and a
   * restart on the same store carries on); without it, the run ends as 'stopped'.
   */
  stop(reason = 'stopped by request', suspend = false): void {
    this.stopRequested = reason;
    this.suspended = suspend;
    this.options.federatedEvaluation?.cancel();
    for (const collector of this.collectors.values()) collector.cancel(reason);
    this.wake.signal();
  }

  get result(): RunSummary | undefined {
    return this.summary;
  }

  /** Runs rounds until the run is done, the target accuracy is reached, or it is stopped. */
  async run(): Promise<RunSummary> {
    this.emit({ type: 'run-started', runId: this.runId, resumedAfterRound: this.round, parameterCount: this.global.length });
    const { status, reason } = this.config.mode === 'async' ? await this.runAsync() : await this.runSync();
    return this.finish(status, reason);
  }

  /** Synchronous rounds, one after another, each retried up to maxRoundRetries times. */
  private async runSync(): Promise<{ status: RunSummary['status']; reason: string }> {
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
    return { status, reason };
  }

  /** Asynchronous buffered aggregation (async-runner.ts): groups of free workers, applied as model versions. */
  private async runAsync(): Promise<{ status: RunSummary['status']; reason: string }> {
    const end = await runAsyncVersions({
      ctx: this.roundContext(),
      version: () => this.round,
      global: () => this.global,
      ready: () => [...this.ready.values()],
      done: () => this.round >= this.config.rounds || this.reachedTarget() || this.stopRequested !== undefined,
      waitForChange: (ms) => this.wake.wait(ms),
      paused: () => this.paused,
      cancelGroups: (reason) => {
        for (const collector of this.collectors.values()) collector.cancel(reason);
      },
    });
    if (end?.status === 'failed') return { status: 'failed', reason: end.reason };
    if (this.stopRequested !== undefined) return { status: 'stopped', reason: this.stopRequested };
    // As a sync run with an ε budget stops before the round that would exceed it, and says why.
    if (end?.status === 'budget') return { status: 'completed', reason: `stopped before version ${this.round + 1}: ${end.reason}` };
    const reached = this.reachedTarget();
    return { status: 'completed', reason: reached ? `target accuracy ${this.config.targetAccuracy} reached after version ${this.round}` : `completed ${this.config.rounds} versions` };
  }

  private finish(status: RunSummary['status'], reason: string): RunSummary {
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
      await this.wake.wait();
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
  private runRound(round: number, attempt: number): Promise<string | undefined> {
    const startedAt = Date.now();
    const state = { round, attempt, startedAt, deadline: startedAt + this.config.roundTimeoutMs, global: this.global };
    return runRoundSteps(this.quality ? SCORED_SYNC_ROUND : SYNC_ROUND, state, this.roundContext());
  }

  /** What the round's steps may use of the engine. */
  private roundContext(): RoundContext {
    return {
      runId: this.runId,
      config: this.config,
      store: this.options.store,
      strategy: this.options.strategy,
      privacy: this.options.privacy,
      quality: this.quality,
      stats: this.stats,
      onRoundCommit: this.options.onRoundCommit,
      readyWorkers: () => [...this.ready.values()],
      emit: (event) => this.emit(event),
      setCollector: (round, collector) => {
        if (collector) this.collectors.set(round, collector);
        else this.collectors.delete(round);
      },
      stopReason: () => this.stopRequested,
      evaluate: (round, weights) => this.evaluate(round, weights),
      adopt: (round, weights, metrics) => {
        this.global = weights;
        this.round = round;
        this.lastMetrics = metrics;
      },
    };
  }
}
