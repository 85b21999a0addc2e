/** A stand-in for the run engine that emits whatever events a test scripts (no sockets, no training). */
import type { EngineEvent, EngineListener } from '../../../coordinator/engine/events.js';
import type { RunEngine, WorkerStats } from '../../../coordinator/engine/run-engine.js';

export class FakeEngine implements Pick<RunEngine, 'runId' | 'on' | 'workerStats' | 'isPaused' | 'runInfo' | 'pause' | 'resume' | 'stop'> {
  private readonly listeners = new Set<EngineListener>();
  readonly stats = new Map<string, WorkerStats>();
  paused = false;
  stopped: string | undefined;

  constructor(readonly runId: string) {}

  on(listener: EngineListener): () => boolean {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: EngineEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  workerStats(): WorkerStats[] {
    return [...this.stats.values()];
  }

  get isPaused(): boolean {
    return this.paused;
  }

  runInfo(): ReturnType<RunEngine['runInfo']> {
    return { runId: this.runId, model: { kind: 'builtin', name: '2nn' }, parameterCount: 4, partition: { kind: 'iid', seed: 1 }, secureAggregation: false } as ReturnType<RunEngine['runInfo']>;
  }

  pause(): void {
    this.paused = true;
    this.emit({ type: 'run-paused', runId: this.runId });
  }

  resume(): void {
    this.paused = false;
    this.emit({ type: 'run-resumed', runId: this.runId });
  }

  stop(reason = 'stopped'): void {
    this.stopped = reason;
  }
}

export const RUN_CONFIG = {
  model: { kind: 'builtin', name: '2nn' },
  rounds: 10,
  minClients: 2,
  roundTimeoutMs: 60_000,
  maxRoundRetries: 1,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'adam',
  lr: 0.001,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  evaluation: 'none',
  keepCheckpoints: 1,
};

/** A deterministic, distinct, address-shaped string for worker `i`. */
export function address(i: number): string {
  return `0x${i.toString(16).padStart(40, '0')}`;
}
