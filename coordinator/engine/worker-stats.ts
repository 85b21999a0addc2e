/**
 * Per-worker participation counters and speed, for the run summary, the dashboard, /metrics and
 * capability-aware work (targetRoundSeconds, round-work.ts).
 *
 * The speed estimate starts from the steps/s the worker's backend benchmark reported in `ready`
 * and follows what the coordinator itself measures: steps done ÷ seconds from `train` sent to the
 * result received (`update`, or `trained` under SecAgg+), as an exponentially weighted average.
 * Measuring whole rounds, not the worker's own trainMs, folds in transfer and setup time, so the
 * steps assigned from it fit the round's wall-clock target (see README, capability-aware work).
 */
import type { ReadyWorker } from '../transport/channel.js';

export interface WorkerStats {
  address: string;
  kind: ReadyWorker['channel']['kind'];
  backend: string;
  roundsParticipated: number;
  /** Credited examples over the run (each round's clamped to the run's per-worker bound). */
  examples: number;
  dropouts: number;
  /** Estimated training steps per second (benchmark, then measured rounds); undefined: unknown. */
  stepsPerSecond?: number | undefined;
  /** maxLocalSteps of the worker's last assignment under targetRoundSeconds. */
  assignedSteps?: number | undefined;
  /** Date.now() when the engine last received a training result (update/trained) from it. */
  lastResultAt?: number | undefined;
}

/** Weight of the newest measurement in the running estimate. */
export const SPEED_EWMA_ALPHA = 0.5;

/** The stats of a worker that (re)joined: a new session keeps the counters of its address. */
export function statsForReady(worker: ReadyWorker, existing: WorkerStats | undefined): WorkerStats {
  // A rejoin on the same backend keeps the measured speed; a new backend starts from its benchmark.
  const reported = worker.backend.stepsPerSecond;
  const benchmark = reported !== undefined && reported > 0 ? reported : undefined;
  const keep = existing !== undefined && existing.backend === worker.backend.backend && existing.stepsPerSecond !== undefined;
  return {
    address: worker.channel.address,
    kind: worker.channel.kind,
    backend: worker.backend.backend,
    roundsParticipated: existing?.roundsParticipated ?? 0,
    examples: existing?.examples ?? 0,
    dropouts: existing?.dropouts ?? 0,
    stepsPerSecond: keep ? existing.stepsPerSecond : benchmark,
    assignedSteps: existing?.assignedSteps,
  };
}

/** The engine saw a training result from `address` (whether or not the round accepts it). */
export function noteResultArrived(stats: ReadonlyMap<string, WorkerStats>, address: string, now = Date.now()): void {
  const s = stats.get(address);
  if (s) s.lastResultAt = now;
}

/** The running estimate after one measured round: `steps` done in `seconds`. */
export function observeSpeed(stats: WorkerStats, steps: number, seconds: number): void {
  if (!(steps > 0) || !(seconds > 0)) return;
  const measured = steps / seconds;
  stats.stepsPerSecond = stats.stepsPerSecond === undefined ? measured : SPEED_EWMA_ALPHA * measured + (1 - SPEED_EWMA_ALPHA) * stats.stepsPerSecond;
}

/**
 * A worker the round closed without (over-selection) had not finished `steps` after `seconds`:
 * its speed is below steps ÷ seconds. An estimate above that bound moves towards it, so a worker
 * whose benchmark promised too much gets less work next time instead of being cut forever.
 */
export function observeTooSlow(stats: WorkerStats, steps: number, seconds: number): void {
  if (!(steps > 0) || !(seconds > 0) || stats.stepsPerSecond === undefined) return;
  const bound = steps / seconds;
  if (stats.stepsPerSecond > bound) stats.stepsPerSecond = SPEED_EWMA_ALPHA * bound + (1 - SPEED_EWMA_ALPHA) * stats.stepsPerSecond;
}
