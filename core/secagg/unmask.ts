/**
 * The coordinator's last step: from the revealed shares, reconstruct every survivor's self-mask
 * seed b and every dropped worker's mask key s_sk (each checked against what its owner committed
 * to), remove all masks from the masked sum, and decode Σ w·x and Σ w (Bonawitz et al. §4, round 4).
 * Under groupScoring the same masks are also removed from each scoring group's masked sum
 * (group-unmask.ts), which yields each group's Σ w·x and Σ w; the total is the same either way.
 *
 * Pure over its inputs, so the benchmark can time exactly this on synthetic key material.
 */
import type { KeyAgreement } from '../protocol/secagg.js';
import { decodeGroups, planGroupUnmask, removeMasksByGroup, type GroupUnmaskInputs, type SecAggGroupSum } from './group-unmask.js';
import { removeMasks, type DroppedWorkerKey, type PeerMaskKey } from './masking.js';
import { dequantizeSum, type QuantizationParams } from './quantize.js';
import { reconstructMaskKey, reconstructSelfMaskSeed } from './shares.js';
import type { RoundContext } from './transcript.js';

export type { SecAggGroupSum };

/** The only thing secure aggregation reveals: the total and, under groupScoring, each scoring group's sum. */
export interface SecAggResult {
  /** Σ w·clip(x) over contributors, dequantized. */
  sum: Float32Array;
  /** Σ w over contributors. */
  totalWeight: number;
  /** Workers whose masked input is in the sum. */
  contributors: number;
  /** Under groupScoring: each scoring group's sorted members, Σ w·clip(x) and Σ w (core/secagg/scoring-groups.ts). */
  groups?: SecAggGroupSum[];
  /** Under groupScoring, when `groups` is absent: why (the total above is exact all the same). */
  groupsUnavailable?: string;
}

export interface UnmaskInputs {
  ctx: RoundContext;
  alg: KeyAgreement;
  threshold: number;
  quantization: QuantizationParams;
  /** Σ y over survivors; consumed (unmasked in place). */
  maskedSum: Uint32Array;
  /** Every worker whose masked input is in the sum: its b commitment and the b shares revealed. */
  survivors: readonly { id: string; bCommit: Uint8Array; bShares: readonly Uint8Array[] }[];
  /** Every worker that shared keys but sent no masked input, with surviving neighbours that masked with it. */
  dropped: readonly { id: string; sPk: Uint8Array; sShares: readonly Uint8Array[]; survivingPeers: readonly PeerMaskKey[] }[];
  /** Under groupScoring: the groups, their members' masked vectors and one seed per cross-group edge, or why the groups cannot be unmasked. */
  scoring?: GroupUnmaskInputs | { unavailable: string };
}

/**
 * Throws CohortError E_SECAGG_THRESHOLD (fewer than t shares of some secret) or E_SECAGG_INVALID
 * (shares that do not reconstruct the committed secret).
 */
export async function unmaskAggregate(p: UnmaskInputs): Promise<SecAggResult> {
  const selfSeeds = await Promise.all(p.survivors.map((u) => reconstructSelfMaskSeed(p.ctx, u.id, u.bShares, p.threshold, u.bCommit)));
  const dropped: DroppedWorkerKey[] = await Promise.all(
    p.dropped
      .filter((u) => u.survivingPeers.length > 0) // nobody masked with it: nothing to remove, nothing to reconstruct
      .map(async (u) => ({
        id: u.id,
        maskKey: await reconstructMaskKey(p.alg, u.id, u.sShares, p.threshold, u.sPk),
        survivingPeers: u.survivingPeers,
      })),
  );
  const ids = p.survivors.map((u) => u.id);
  const plan = p.scoring && !('unavailable' in p.scoring) ? planGroupUnmask(p.scoring, ids, p.maskedSum.length) : p.scoring;
  try {
    if (plan && 'accs' in plan) await removeMasksByGroup({ ctx: p.ctx, alg: p.alg, maskedSum: p.maskedSum, plan, survivors: ids, selfSeeds, dropped });
    else await removeMasks({ ctx: p.ctx, alg: p.alg, maskedSum: p.maskedSum, selfSeeds, dropped });
  } finally {
    for (const b of selfSeeds) b.fill(0);
  }
  const { sum, totalWeight } = dequantizeSum(p.maskedSum, p.quantization);
  const result: SecAggResult = { sum, totalWeight, contributors: p.survivors.length };
  if (!plan) return result;
  return { ...result, ...('accs' in plan ? decodeGroups(plan, p.maskedSum, p.quantization) : { groupsUnavailable: plan.unavailable }) };
}
