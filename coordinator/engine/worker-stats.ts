/** Per-worker participation counters, for the run summary, the dashboard and /metrics. */
import type { ReadyWorker } from '../transport/channel.js';

export interface WorkerStats {
  address: string;
  kind: ReadyWorker['channel']['kind'];
  backend: string;
  roundsParticipated: number;
  /** Credited examples over the run (each round's clamped to the run's per-worker bound). */
  examples: number;
  dropouts: number;
}

/** The stats of a worker that (re)joined: a new session keeps the counters of its address. */
export function statsForReady(worker: ReadyWorker, existing: WorkerStats | undefined): WorkerStats {
  return {
    address: worker.channel.address,
    kind: worker.channel.kind,
    backend: worker.backend.backend,
    roundsParticipated: existing?.roundsParticipated ?? 0,
    examples: existing?.examples ?? 0,
    dropouts: existing?.dropouts ?? 0,
  };
}
