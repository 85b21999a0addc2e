/**
 * The coordinator's half of FedNova (Wang et al. 2020) for rounds whose workers were given
 * different numbers of local steps (targetRoundSeconds). Worker i sends its normalised update
 * aᵢ = dᵢ/τᵢ (core/train/step-normalization.ts), aggregated with weight pᵢ; the new model is
 *
 *     x + τ_eff · Σ pᵢ·aᵢ / Σ pᵢ,        τ_eff = Σ pᵢ·τᵢ / Σ pᵢ.
 *
 * pᵢ is the worker's share of the round's data, fixed by the coordinator before the round from
 * what the worker declared when it became ready: the examples FedAvg would weigh it by had it done
 * all the work the run's base instructions ask for (examples × localEpochs, within the step cap
 * and the per-worker bound). It does not depend on the steps it was given, which is what removes
 * FedAvg's bias toward fast workers (with weights ∝ examples processed ∝ τᵢ, FedAvg minimises a
 * mix of the workers' objectives weighted by how fast they are). With every τᵢ equal, the formula
 * is FedAvg's Σ pᵢ·dᵢ / Σ pᵢ.
 *
 * Under SecAgg+ the coordinator only learns Σ pᵢ·aᵢ and Σ pᵢ; τ_eff needs the pᵢ (its own) and
 * the τᵢ, which are the declared steps, each capped at the steps that worker was assigned.
 */
import type { TrainConfig } from '../../core/protocol/messages.js';
import { secureInputWeight } from '../../core/train/step-normalization.js';
import type { RoundAggregate } from '../strategy/strategy.js';
import { creditedWork } from './work-bound.js';

/** pᵢ in examples: min(examples × localEpochs, maxLocalSteps × batchSize), clamped to the run's per-worker bound. */
export function fedNovaShare(base: Pick<TrainConfig, 'localEpochs' | 'batchSize' | 'maxLocalSteps'>, examples: number, maxWork: number): number {
  const byData = Math.max(0, examples) * base.localEpochs;
  const bySteps = base.maxLocalSteps === undefined ? Number.POSITIVE_INFINITY : base.maxLocalSteps * base.batchSize;
  return Math.round(creditedWork(Math.min(byData, bySteps), maxWork));
}

/** The aggregation weight a contributor's share stands for: examples (plain) or, under SecAgg+, what the worker computed. */
export function fedNovaWeight(share: number, secure: { weightCap: number } | undefined, maxWeight: number): number {
  return secure ? secureInputWeight({ fedNova: { weightExamples: share } }, 0, secure.weightCap) : creditedWork(share, maxWeight);
}

/** The weightExamples each FedNova assignment carries, by worker address (empty when the round is not FedNova). */
export function fedNovaShares(assignments: ReadonlyArray<{ worker: { channel: { address: string } }; config: TrainConfig }>): Map<string, number> {
  const shares = new Map<string, number>();
  for (const { worker, config } of assignments) if (config.fedNova) shares.set(worker.channel.address, config.fedNova.weightExamples);
  return shares;
}

/** τᵢ as the coordinator counts it: the declared steps, in [1, assigned]. */
export function countedSteps(declared: number, assigned: number | undefined): number {
  return Math.max(1, Math.min(Math.floor(declared), assigned ?? Number.POSITIVE_INFINITY));
}

/** τ_eff = Σ pᵢτᵢ / Σ pᵢ over the contributors (1 when there are none). */
export function effectiveSteps(contributors: ReadonlyArray<{ weight: number; steps: number }>): number {
  let weight = 0;
  let weighted = 0;
  for (const c of contributors) {
    weight += c.weight;
    weighted += c.weight * c.steps;
  }
  return weight > 0 ? weighted / weight : 1;
}

/** The round's sum of normalised updates scaled by τ_eff: what the strategy aggregates. */
export function scaleByEffectiveSteps(aggregate: RoundAggregate, tauEff: number): RoundAggregate {
  const scale = (v: Float32Array): Float32Array => v.map((x) => x * tauEff);
  return {
    ...aggregate,
    weightedDeltaSum: scale(aggregate.weightedDeltaSum),
    ...(aggregate.individualUpdates ? { individualUpdates: aggregate.individualUpdates.map((u) => ({ ...u, delta: scale(u.delta) })) } : {}),
  };
}
