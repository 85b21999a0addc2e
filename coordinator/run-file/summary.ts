/**
 * The one-line JSON summaries of `cohort run --json` and `cohort simulate --json`: the engine's
 * RunSummary plus what the run file decided. With DP on, the engine's `privacy` carries the
 * accountant's (ε, δ) after the last completed round.
 */
import type { RunSummary, WorkerStats } from '../engine/run-engine.js';
import type { CompletedRound } from '../store/run-store.js';
import type { RunPlan } from './to-run-config.js';

export type RunFileSummary = RunSummary & {
  strategy: string;
  evaluation: RunPlan['evaluation']['kind'];
};

/** The engine's summary (its `privacy` is the accountant's (ε, δ) when DP is on) plus the run file's choices. */
export function runFileSummary(summary: RunSummary, plan: RunPlan): RunFileSummary {
  return { ...summary, strategy: plan.strategy.name, evaluation: plan.evaluation.kind };
}

export interface SimulationSummary extends Omit<RunFileSummary, 'workers'> {
  clients: number;
  clientsPerRound: number;
  threads: number;
  backend: string;
  elapsedMs: number;
  /** Seconds from the first client connecting until every client was ready. */
  signInSeconds: number;
  /** One entry per completed round (in async mode, per model version); `fleetSeconds`: the simulated fleet's time for it (async: since the version before). */
  history: Array<Pick<CompletedRound, 'round' | 'accuracy' | 'loss' | 'trainLoss' | 'participants' | 'examples' | 'durationMs'> & { fleetSeconds: number }>;
  /** "sync" rounds, or "async" FedBuff model versions. */
  mode: 'sync' | 'async';
  /** Simulated seconds a real fleet of these speeds would have taken until the run ended. */
  fleetSeconds: number;
  /** Share of the paid budget each class earned under the run's reward rule: `honest` and each adversary kind present. */
  rewardShare: Record<string, number>;
  /** Share of the budget paid at all (a quality rule leaves the rest unallocated); 1 under declared work. */
  rewardPaid: number;
  /** Clients that took part in at least one round. */
  participatingClients: number;
  storePath?: string | undefined;
}

export function simulationSummary(
  summary: RunSummary,
  plan: RunPlan,
  extra: Pick<SimulationSummary, 'clients' | 'clientsPerRound' | 'threads' | 'backend' | 'elapsedMs' | 'signInSeconds' | 'storePath'>,
  completed: readonly CompletedRound[],
  fleet: Pick<SimulationSummary, 'mode' | 'fleetSeconds' | 'rewardShare' | 'rewardPaid'> & { roundFleetSeconds: ReadonlyMap<number, number> },
): SimulationSummary {
  const { workers, ...rest } = runFileSummary(summary, plan);
  return {
    ...rest,
    ...extra,
    mode: fleet.mode,
    fleetSeconds: fleet.fleetSeconds,
    rewardShare: fleet.rewardShare,
    rewardPaid: fleet.rewardPaid,
    participatingClients: workers.filter((w: WorkerStats) => w.roundsParticipated > 0).length,
    history: completed.map((r) => ({ round: r.round, accuracy: r.accuracy, loss: r.loss, trainLoss: r.trainLoss, participants: r.participants, examples: r.examples, durationMs: r.durationMs, fleetSeconds: fleet.roundFleetSeconds.get(r.round) ?? 0 })),
  };
}
