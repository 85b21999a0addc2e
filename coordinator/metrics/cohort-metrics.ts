/**
 * Prometheus metrics of one coordinator, on its own prom-client Registry (never the global one:
 * a test process may run several coordinators, and each must count only its own rounds).
 *
 * Most metrics are driven by engine events (`attach`). Those that another part owns are read
 * when scraped, through callbacks: the gateway's byte and error counters, and the ledger's outbox
 * length (0 until a ledger provides it).
 *
 * @example
 * const metrics = new CohortMetrics({ gateway: () => gateway, ledgerOutboxPending: () => ledger.pending() });
 * metrics.attach(engine);
 * registerMetricsRoute(routes, { metrics });
 */
/* eslint-disable max-lines-per-function -- the constructor declares every metric (name, help, labels) in one list, the way Prometheus users read them. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineEvent } from '../engine/events.js';
import type { RunEngine } from '../engine/run-engine.js';

/** The gateway's running totals (the WebSocket gateway or its in-memory twin). */
export interface GatewayTotals {
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly errors: Readonly<Partial<Record<string, number>>>;
}

export interface MetricsGatewayView {
  readonly counters: GatewayTotals;
  connectedCount(): number;
}

export interface CohortMetricsOptions {
  /** Read lazily at scrape time: the gateway is usually created after the metrics. */
  gateway?: (() => MetricsGatewayView | undefined) | undefined;
  /** Rounds written to the ledger outbox but not yet confirmed on-chain. */
  ledgerOutboxPending?: (() => number) | undefined;
  /** Node's process metrics (CPU, memory, event loop lag, GC); default true. */
  processMetrics?: boolean | undefined;
  now?: () => number;
}

/** Seconds: from a fast in-memory stage to a long GPU round. */
const STAGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export class CohortMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly ready = new Map<string, { kind: string; backend: string }>();
  /** Capability-aware work: each ready worker's last speed estimate and assigned maxLocalSteps. */
  private readonly work = new Map<string, { stepsPerSecond: number | null; maxLocalSteps: number | null }>();
  private waitingSince: number | undefined;

  private readonly roundsCompleted: Counter;
  private readonly roundsFailed: Counter;
  private readonly dropouts: Counter;
  private readonly stragglersCut: Counter;
  private readonly staleness: Histogram;
  private readonly stageDuration: Histogram<'stage'>;
  private readonly roundDuration: Histogram;
  private readonly lastRound: Gauge;
  private readonly accuracy: Gauge;
  private readonly loss: Gauge;
  private readonly paused: Gauge;

  constructor(options: CohortMetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    const registers = [this.registry];
    const gateway = options.gateway ?? (() => undefined);
    const ready = this.ready;
    const work = this.work;

    this.roundsCompleted = new Counter({ name: 'cohort_rounds_completed_total', help: 'Rounds completed (aggregated, evaluated and stored).', registers });
    this.roundsFailed = new Counter({ name: 'cohort_rounds_failed_total', help: 'Round attempts that failed (too few survivors); retried ones included.', registers });
    this.dropouts = new Counter({ name: 'cohort_worker_dropouts_total', help: 'Selected workers that did not return an update in their round.', registers });
    this.stragglersCut = new Counter({
      name: 'cohort_round_stragglers_cut_total',
      help: 'Over-selected workers a round closed without, because enough results were in first (sent cancel; not dropouts).',
      registers,
    });
    this.staleness = new Histogram({
      name: 'cohort_version_staleness',
      help: 'Async mode: versions each applied group lagged behind the model it was added to (its update counted 1/sqrt(1 + staleness)).',
      buckets: [0, 1, 2, 4, 8, 16, 32],
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'cohort_stage_duration_seconds',
      help: 'Time spent in each stage: wait-for-workers before a round (paused time included), train (plain rounds), and each SecAgg+ stage.',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.roundDuration = new Histogram({ name: 'cohort_round_duration_seconds', help: 'Duration of completed rounds, start to stored.', buckets: STAGE_BUCKETS, registers });
    this.lastRound = new Gauge({ name: 'cohort_round', help: 'Last completed round of the run.', registers });
    this.accuracy = new Gauge({ name: 'cohort_model_accuracy', help: 'Test accuracy of the global model after the last completed round.', registers });
    this.loss = new Gauge({ name: 'cohort_model_loss', help: 'Test loss of the global model after the last completed round.', registers });
    this.paused = new Gauge({ name: 'cohort_run_paused', help: '1 while the run is paused.', registers });

    new Gauge({
      name: 'cohort_workers_connected',
      help: 'Workers ready to train, by kind (node, browser) and tfjs backend.',
      labelNames: ['kind', 'backend'],
      registers,
      collect() {
        this.reset();
        for (const w of ready.values()) this.inc({ kind: w.kind, backend: w.backend });
      },
    });
    new Gauge({
      name: 'cohort_worker_speed_steps_per_second',
      help: 'Estimated local training steps per second of each ready worker (its benchmark, then its measured rounds), by address.',
      labelNames: ['address'],
      registers,
      collect() {
        this.reset();
        for (const [address, w] of work) if (w.stepsPerSecond !== null) this.set({ address }, w.stepsPerSecond);
      },
    });
    new Gauge({
      name: 'cohort_worker_assigned_steps',
      help: 'maxLocalSteps each ready worker was given in its last round (targetRoundSeconds; absent when uncapped), by address.',
      labelNames: ['address'],
      registers,
      collect() {
        this.reset();
        for (const [address, w] of work) if (w.maxLocalSteps !== null) this.set({ address }, w.maxLocalSteps);
      },
    });
    new Gauge({
      name: 'cohort_worker_sessions',
      help: 'Signed-in WebSocket sessions, ready or not.',
      registers,
      collect() {
        this.set(gateway()?.connectedCount() ?? 0);
      },
    });
    new Gauge({
      name: 'cohort_ledger_outbox_pending',
      help: 'Round records waiting in the ledger outbox to be confirmed on-chain.',
      registers,
      collect() {
        this.set(options.ledgerOutboxPending?.() ?? 0);
      },
    });
    // The gateway keeps running totals; these counters follow them at scrape time.
    const follow = (name: string, help: string, read: (c: GatewayTotals) => number): void => {
      let seen = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const counters = gateway()?.counters;
          const value = counters ? read(counters) : seen;
          if (value > seen) this.inc(value - seen);
          seen = Math.max(seen, value);
        },
      });
    };
    follow('cohort_bytes_received_total', 'WebSocket payload bytes received from workers.', (c) => c.bytesIn);
    follow('cohort_bytes_sent_total', 'WebSocket payload bytes sent to workers.', (c) => c.bytesOut);
    const errorsSeen = new Map<string, number>();
    new Counter({
      name: 'cohort_protocol_errors_total',
      help: 'Protocol errors answered to workers, by stable error code.',
      labelNames: ['code'],
      registers,
      collect() {
        for (const [code, value = 0] of Object.entries(gateway()?.counters.errors ?? {})) {
          const seen = errorsSeen.get(code) ?? 0;
          if (value > seen) this.inc({ code }, value - seen);
          errorsSeen.set(code, Math.max(seen, value));
        }
      },
    });

    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Follows `engine`'s events; returns the unsubscribe function. */
  attach(engine: Pick<RunEngine, 'on'>): () => void {
    return engine.on((event) => this.onEvent(event));
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'waiting':
        // Rounds report their own stages; the wait for enough workers before one is timed here.
        this.waitingSince ??= this.now();
        return;
      case 'round-started':
        this.endWaiting();
        return;
      case 'stage-completed':
        this.stageDuration.observe({ stage: event.stage }, event.seconds);
        return;
      case 'round-completed':
        this.roundsCompleted.inc();
        this.dropouts.inc(event.dropped.length);
        this.stragglersCut.inc(event.stragglersCut ?? 0);
        if (event.staleness !== undefined) this.staleness.observe(event.staleness);
        this.roundDuration.observe(event.durationMs / 1000);
        this.lastRound.set(event.round);
        if (event.accuracy !== null) this.accuracy.set(event.accuracy);
        if (event.loss !== null) this.loss.set(event.loss);
        return;
      case 'round-failed':
        this.roundsFailed.inc();
        return;
      case 'worker-ready':
        this.ready.set(event.address, { kind: event.kind, backend: event.backend.backend });
        // Until its first assignment, the worker's own benchmark is the estimate.
        this.work.set(event.address, { stepsPerSecond: event.backend.stepsPerSecond || null, maxLocalSteps: null });
        return;
      case 'worker-left':
        this.ready.delete(event.address);
        this.work.delete(event.address);
        return;
      case 'work-assigned':
        for (const w of event.workers) if (this.ready.has(w.address)) this.work.set(w.address, { stepsPerSecond: w.stepsPerSecond, maxLocalSteps: w.maxLocalSteps });
        return;
      case 'run-paused':
      case 'run-resumed':
        this.paused.set(event.type === 'run-paused' ? 1 : 0);
        return;
      case 'run-ended':
        this.endWaiting();
        this.paused.set(0);
        return;
      case 'run-started':
        return;
    }
  }

  private endWaiting(): void {
    if (this.waitingSince === undefined) return;
    this.stageDuration.observe({ stage: 'wait-for-workers' }, (this.now() - this.waitingSince) / 1000);
    this.waitingSince = undefined;
  }
}
