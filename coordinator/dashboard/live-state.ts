/**
 * The dashboard's model of the run the engine is running now, kept up to date from engine events
 * and from the messages workers send. It records WHAT changed (dirty keys), not each change, so
 * `takeDelta()` turns any number of events into one message of changed rows: at 1,000 workers a
 * round produces one delta per flush, not thousands of messages.
 */
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { nextSecAggStage, SECAGG_STAGES, type SecAggStage } from '../../core/protocol/secagg.js';
import type { EngineEvent } from '../engine/events.js';
import type { RunEngine } from '../engine/run-engine.js';
import type { ContributionRow, Incident, IncidentKind, RoundRow, RunDelta, RunListItem, RunSnapshot, StageInfo, Traffic, WorkerRow } from './api-types.js';
import { configFacts, runListItem, storedContributions, storedFailures, storedRounds, type StoreView } from './history.js';
import { readProviders, type DashboardProviders, type ProviderReadings } from './providers.js';

/** The part of the run engine the dashboard reads. */
export type EngineView = Pick<RunEngine, 'runId' | 'on' | 'workerStats' | 'isPaused' | 'runInfo'>;

/** The part of the WebSocket gateway (or its in-memory twin) the dashboard reads. */
export interface GatewayView {
  readonly counters: { readonly bytesIn: number; readonly bytesOut: number; readonly errors: Readonly<Partial<Record<string, number>>> };
  connectedCount(): number;
}

/** How many incidents (drops, departures, failures) the live view keeps; older ones are dropped. */
export const DEFAULT_MAX_INCIDENTS = 1_000;

export interface LiveStateOptions {
  engine: EngineView;
  store: StoreView;
  gateway: () => GatewayView | undefined;
  providers: DashboardProviders;
  report: (what: string, error: unknown) => void;
  maxIncidents?: number;
  now?: () => number;
}

export class LiveRunState {
  readonly runId: string;
  private readonly now: () => number;
  private readonly maxIncidents: number;
  private readonly batchSize: number | null;
  private readonly unsubscribe: () => void;

  private run: RunListItem;
  private paused: boolean;
  private stage: StageInfo | null = null;
  private readonly workers = new Map<string, WorkerRow>();
  private readonly rounds = new Map<number, RoundRow>();
  private contributions = new Map<string, ContributionRow>();
  private incidents: Incident[] = [];
  private errors: Record<string, number> = {};
  private traffic: Traffic | null = null;
  private readings: ProviderReadings;
  private nextIncidentId = 0;
  private contributionsStale = false;

  private readonly dirtyWorkers = new Set<string>();
  private readonly dirtyRounds = new Set<number>();
  private readonly dirtyContributions = new Set<string>();
  private pendingIncidents: Incident[] = [];
  private dirty = new Set<'run' | 'paused' | 'stage' | 'errors' | 'traffic' | 'privacy'>();

  constructor(private readonly options: LiveStateOptions) {
    const { engine, store } = options;
    this.runId = engine.runId;
    this.now = options.now ?? Date.now;
    this.maxIncidents = options.maxIncidents ?? DEFAULT_MAX_INCIDENTS;
    const row = store.getRun(this.runId);
    this.batchSize = configFacts(row?.config).batchSize;
    this.run = this.readRun();
    this.paused = engine.isPaused;
    this.readings = readProviders(options.providers, this.runId, options.report);
    for (const r of storedRounds(store, this.runId, this.readings)) this.rounds.set(r.round, r);
    this.contributions = new Map(storedContributions(store, this.runId, this.readings).map((c) => [c.address, c]));
    this.incidents = storedFailures(store, this.runId, () => ++this.nextIncidentId).slice(-this.maxIncidents);
    this.seedWorkers();
    this.unsubscribe = engine.on((event) => this.onEvent(event));
  }

  close(): void {
    this.unsubscribe();
  }

  /** Sees every validated message a signed-in worker sends (the gateway's `observe` hook). */
  observe(address: string, message: WorkerMessage): void {
    const row = this.workers.get(address);
    if (!row) return;
    row.lastSeen = this.now();
    // Plain rounds send `update`, secure rounds `trained`: both carry the steps and time trained.
    if ((message.type === 'update' || message.type === 'trained') && message.trainMs > 0 && this.batchSize !== null) {
      row.examplesPerSecond = (message.steps * this.batchSize * 1000) / message.trainMs;
    }
    this.dirtyWorkers.add(address);
  }

  /** Re-reads the gateway's counters and (when `providers`) the ledger and DP providers. */
  refresh(providers: boolean): void {
    const gateway = this.options.gateway();
    if (gateway) {
      const traffic = { bytesIn: gateway.counters.bytesIn, bytesOut: gateway.counters.bytesOut, connected: gateway.connectedCount() };
      if (!sameJson(traffic, this.traffic)) {
        this.traffic = traffic;
        this.dirty.add('traffic');
      }
      const errors = Object.fromEntries(Object.entries(gateway.counters.errors).filter(([, n]) => (n ?? 0) > 0)) as Record<string, number>;
      if (!sameJson(errors, this.errors)) {
        this.errors = errors;
        this.dirty.add('errors');
      }
    }
    if (!providers) return;
    const previous = this.readings;
    this.readings = readProviders(this.options.providers, this.runId, this.options.report);
    if (!sameJson(previous.privacy, this.readings.privacy)) this.dirty.add('privacy');
    if (!sameMap(previous.roundTransactions, this.readings.roundTransactions) || !sameMap(previous.rewards, this.readings.rewards)) {
      for (const row of this.rounds.values()) {
        const tx = this.readings.roundTransactions.get(row.round) ?? null;
        if (tx !== row.txHash) {
          row.txHash = tx;
          this.dirtyRounds.add(row.round);
        }
      }
      this.contributionsStale = true;
    }
  }

  snapshot(): RunSnapshot {
    this.refreshContributions();
    return {
      run: this.run,
      paused: this.paused,
      stage: this.stage,
      rounds: [...this.rounds.values()],
      workers: [...this.workers.values()],
      contributions: [...this.contributions.values()],
      incidents: this.incidents,
      errors: this.errors,
      privacy: this.readings.privacy,
      traffic: this.traffic,
      serverTime: this.now(),
    };
  }

  /** Everything that changed since the previous call, or undefined when nothing did. */
  takeDelta(): RunDelta | undefined {
    this.refreshContributions();
    const changed =
      this.dirty.size + this.dirtyWorkers.size + this.dirtyRounds.size + this.dirtyContributions.size + this.pendingIncidents.length > 0;
    if (!changed) return undefined;
    const delta: RunDelta = { serverTime: this.now() };
    if (this.dirty.has('run')) delta.run = this.run;
    if (this.dirty.has('paused')) delta.paused = this.paused;
    if (this.dirty.has('stage')) delta.stage = this.stage;
    if (this.dirty.has('errors')) delta.errors = this.errors;
    if (this.dirty.has('traffic')) delta.traffic = this.traffic;
    if (this.dirty.has('privacy')) delta.privacy = this.readings.privacy;
    if (this.dirtyWorkers.size) delta.workers = pick(this.workers, this.dirtyWorkers);
    if (this.dirtyRounds.size) delta.rounds = pick(this.rounds, this.dirtyRounds);
    if (this.dirtyContributions.size) delta.contributions = pick(this.contributions, this.dirtyContributions);
    if (this.pendingIncidents.length) delta.incidents = this.pendingIncidents;
    this.dirty = new Set();
    this.dirtyWorkers.clear();
    this.dirtyRounds.clear();
    this.dirtyContributions.clear();
    this.pendingIncidents = [];
    return delta;
  }

  private onEvent(event: EngineEvent): void {
    const now = this.now();
    switch (event.type) {
      case 'run-started':
        this.setStage({ round: event.resumedAfterRound + 1, attempt: 1, stage: 'starting', detail: '', since: now, deadline: null });
        return;
      case 'waiting':
        this.setStage({ round: event.round, attempt: 1, stage: 'waiting', detail: `${event.ready}/${event.needed} workers ready`, since: now, deadline: null });
        return;
      case 'round-started':
        this.setStage({ round: event.round, attempt: event.attempt, stage: 'training', detail: `${event.selected.length} workers selected`, since: now, deadline: event.deadline });
        return;
      case 'round-completed':
        this.onRoundCompleted(event, now);
        return;
      case 'round-failed':
        this.addIncident('round-failed', event.round, null, `attempt ${event.attempt}: ${event.reason}${event.willRetry ? ' (retrying)' : ''}`);
        this.setStage({ round: event.round, attempt: event.attempt, stage: 'failed', detail: event.reason, since: now, deadline: null });
        return;
      case 'worker-ready':
        this.workers.set(event.address, {
          address: event.address,
          kind: event.kind,
          backend: event.backend.backend,
          adapter: event.backend.adapter ?? null,
          backendReason: event.backend.reason,
          // Until the first update measures it, the backend's own benchmark is the best estimate.
          examplesPerSecond: event.backend.stepsPerSecond !== undefined && this.batchSize !== null ? event.backend.stepsPerSecond * this.batchSize : null,
          localExamples: event.examples,
          rounds: this.workers.get(event.address)?.rounds ?? 0,
          dropouts: this.workers.get(event.address)?.dropouts ?? 0,
          connected: true,
          lastSeen: now,
          leftReason: null,
        });
        this.dirtyWorkers.add(event.address);
        return;
      case 'worker-left': {
        const row = this.workers.get(event.address);
        if (row) {
          row.connected = false;
          row.leftReason = event.reason;
          row.lastSeen = now;
          this.dirtyWorkers.add(event.address);
        }
        this.addIncident('left', null, event.address, event.reason);
        return;
      }
      case 'run-paused':
      case 'run-resumed':
        this.paused = event.type === 'run-paused';
        this.dirty.add('paused');
        this.addIncident('admin', null, null, this.paused ? 'run paused: no new round starts until it is resumed' : 'run resumed');
        return;
      case 'run-ended':
        this.setStage({ round: this.stage?.round ?? 0, attempt: 1, stage: 'ended', detail: `${event.status}: ${event.reason}`, since: now, deadline: null });
        if (event.status !== 'completed') this.addIncident('run-ended', null, null, `${event.status}: ${event.reason}`);
        this.run = this.readRun();
        this.dirty.add('run');
        return;
      case 'work-assigned':
        for (const w of event.workers) this.updateWorker(w.address, { stepsPerSecond: w.stepsPerSecond, assignedSteps: w.maxLocalSteps });
        return;
      case 'worker-quality':
        for (const w of event.workers) this.updateWorker(w.address, { quality: w.estimate, qualityConfidence: w.confidence, flagged: w.flagged });
        return;
      case 'stage-completed': {
        // A SecAgg+ stage (or plain training) finished: the round moves on to the next stage.
        const next = isSecAggStage(event.stage) ? (nextSecAggStage(event.stage) ?? 'aggregating') : 'aggregating';
        this.setStage({ round: event.round, attempt: this.stage?.attempt ?? 1, stage: next, detail: `${event.stage} took ${event.seconds.toFixed(1)} s`, since: now, deadline: null });
        return;
      }
    }
  }

  /** Changes a known worker's row (an unknown address is ignored) and marks it for the next delta. */
  private updateWorker(address: string, change: Partial<WorkerRow>): void {
    const row = this.workers.get(address);
    if (!row) return;
    Object.assign(row, change);
    this.dirtyWorkers.add(address);
  }

  private onRoundCompleted(event: Extract<EngineEvent, { type: 'round-completed' }>, now: number): void {
    this.rounds.set(event.round, {
      round: event.round,
      completedAt: now,
      durationMs: event.durationMs,
      participants: event.participants,
      examples: event.examples,
      accuracy: event.accuracy,
      loss: event.loss,
      trainLoss: event.trainLoss,
      secure: this.options.engine.runInfo().secureAggregation,
      dropped: event.dropped.length,
      stragglersCut: event.stragglersCut ?? 0,
      staleness: event.staleness ?? null,
      txHash: this.readings.roundTransactions.get(event.round) ?? null,
    });
    this.dirtyRounds.add(event.round);
    for (const d of event.dropped) this.addIncident('dropped', event.round, d.address, d.reason);
    this.setStage({ round: event.round, attempt: 1, stage: 'completed', detail: `${event.participants} workers, ${event.examples} examples`, since: now, deadline: null });
    // The engine counts rounds and dropouts; take its numbers once per round, not per message.
    for (const s of this.options.engine.workerStats()) {
      const row = this.workers.get(s.address);
      if (row && (row.rounds !== s.roundsParticipated || row.dropouts !== s.dropouts)) {
        row.rounds = s.roundsParticipated;
        row.dropouts = s.dropouts;
        this.dirtyWorkers.add(s.address);
      }
    }
    this.contributionsStale = true;
    this.run = this.readRun();
    this.dirty.add('run');
  }

  private seedWorkers(): void {
    const open = new Set<string>();
    for (const s of this.options.store.sessions()) {
      if (s.runId === this.runId && s.disconnectedAt === null) open.add(s.address);
    }
    for (const s of this.options.engine.workerStats()) {
      this.workers.set(s.address, {
        address: s.address,
        kind: s.kind,
        backend: s.backend,
        adapter: null,
        backendReason: null,
        examplesPerSecond: null,
        localExamples: 0,
        rounds: s.roundsParticipated,
        dropouts: s.dropouts,
        connected: open.has(s.address),
        lastSeen: this.now(),
        leftReason: null,
      });
    }
  }

  private refreshContributions(): void {
    if (!this.contributionsStale) return;
    this.contributionsStale = false;
    const next = new Map(storedContributions(this.options.store, this.runId, this.readings).map((c) => [c.address, c]));
    for (const [address, row] of next) {
      if (!sameJson(row, this.contributions.get(address))) this.dirtyContributions.add(address);
    }
    this.contributions = next;
  }

  private readRun(): RunListItem {
    const row = this.options.store.getRun(this.options.engine.runId);
    if (!row) throw new Error(`run ${this.options.engine.runId} is not in the store`);
    return runListItem(this.options.store, row, this.runId);
  }

  private setStage(stage: StageInfo): void {
    this.stage = stage;
    this.dirty.add('stage');
  }

  private addIncident(kind: IncidentKind, round: number | null, address: string | null, reason: string): void {
    const incident: Incident = { id: ++this.nextIncidentId, at: this.now(), kind, round, address, reason };
    this.incidents.push(incident);
    // Trim in batches so a long run does not copy the array on every incident.
    if (this.incidents.length > this.maxIncidents * 1.25) this.incidents = this.incidents.slice(-this.maxIncidents);
    this.pendingIncidents.push(incident);
    if (this.pendingIncidents.length > this.maxIncidents) this.pendingIncidents = this.pendingIncidents.slice(-this.maxIncidents);
  }
}

function pick<K, V>(map: ReadonlyMap<K, V>, keys: ReadonlySet<K>): V[] {
  const out: V[] = [];
  for (const key of keys) {
    const value = map.get(key);
    if (value !== undefined) out.push({ ...value });
  }
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameMap<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function isSecAggStage(stage: string): stage is SecAggStage {
  return (SECAGG_STAGES as readonly string[]).includes(stage);
}
