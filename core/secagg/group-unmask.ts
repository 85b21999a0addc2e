/**
 * The coordinator's part of contribution scoring (core/secagg/scoring-groups.ts): check each
 * survivor's revealed cross-group seeds, pick one seed per cross-group edge, and unmask every
 * group's sum together with the total, expanding each mask once:
 *
 *   Σ_{u∈g} y_u − Σ_{u∈g} PRG(b_u) − Σ_{u∈g, v∈N(u) cross-group survivor} σ(u,v)·PRG(s_uv)
 *              − Σ_{u∈g, w∈N(u) dropped} σ(u,w)·PRG(s_uw)   =   Σ_{u∈g} q_u
 *
 * Each self mask and each dropped worker's pairwise mask is subtracted from both the total and its
 * member's group, so the total gets exactly the subtractions masking.ts removeMasks makes; the
 * cross-group masks cancel in the total and are subtracted from the two groups only. Nothing here
 * can change the total: a seed that is missing, revealed twice differently, or wrong only makes the
 * groups unavailable. A wrong seed revealed by the only live end of its edge shows up as groups out
 * of the range their members can produce (each wrong word lands in range with probability
 * ≈ 2·|g|·maxWeight·2^(bits−1) / 2^32), and a group sum that does not add up to the total in the
 * ring is refused too.
 */
import type { KeyAgreement } from '../protocol/secagg.js';
import { bytesEqual, expandMask } from './crypto.js';
import type { CrossSeed } from './group-reveal.js';
import { pairSign, pairwiseMaskSeed, type DroppedWorkerKey } from './masking.js';
import { dequantizeSum, quantizationScale, type QuantizationParams } from './quantize.js';
import { groupIndex } from './scoring-groups.js';
import type { RoundContext } from './transcript.js';

/** One scoring group's unmasked sum (what SecAggResult.groups holds). */
export interface SecAggGroupSum {
  /** Sorted. */
  members: string[];
  /** Σ w·clip(x) over the members, dequantized. */
  sum: Float32Array;
  /** Σ w over the members. */
  totalWeight: number;
}

/** One survivor's cross-group reveal as the coordinator keeps it. */
export interface CrossReveal {
  /** Peer → s_uv, only for the peers it was expected to reveal. */
  seeds: Map<string, Uint8Array>;
  /** Why this reveal cannot be used (a seed for an unexpected peer, a repeat, or a missing one). */
  fault?: string;
}

/** The surviving neighbours of `self` in another scoring group: those whose seeds it must reveal. */
export function crossGroupPeers(self: string, maskedWith: readonly string[], groupOf: ReadonlyMap<string, number>): string[] {
  const own = groupOf.get(self);
  return maskedWith.filter((v) => groupOf.has(v) && groupOf.get(v) !== own);
}

/** Keep the seeds a survivor revealed for exactly its `expected` peers; anything else is a fault, never used. */
export function checkCrossSeeds(revealed: readonly CrossSeed[] | undefined, expected: readonly string[]): CrossReveal {
  const want = new Set(expected);
  const seeds = new Map<string, Uint8Array>();
  const stray: string[] = [];
  for (const { peer, seed } of revealed ?? []) {
    if (want.has(peer) && !seeds.has(peer)) seeds.set(peer, seed);
    else stray.push(peer);
  }
  const missing = expected.filter((v) => !seeds.has(v));
  if (stray.length > 0) return { seeds, fault: `revealed a seed for ${stray[0]}, which is not a surviving neighbour in another group, or repeated it` };
  if (missing.length > 0) return { seeds, fault: `revealed no seed for its cross-group neighbour ${missing[0]}${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}` };
  return { seeds };
}

/** A cross-group edge between two survivors, u < v, with the seed to remove. */
export interface CrossEdge {
  u: string;
  v: string;
  seed: Uint8Array;
}

/**
 * One seed per cross-group edge between survivors: u's reveal, or v's when u did not answer. Unavailable
 * when an answering survivor's reveal is faulty, both ends revealed different seeds, or neither revealed one.
 */
export function resolveCrossSeeds(
  survivors: readonly string[],
  maskedWith: (id: string) => readonly string[],
  groupOf: ReadonlyMap<string, number>,
  reveals: ReadonlyMap<string, CrossReveal>,
): { edges: CrossEdge[] } | { unavailable: string } {
  for (const [id, r] of reveals) if (r.fault) return { unavailable: `${id} ${r.fault}` };
  const edges: CrossEdge[] = [];
  for (const u of survivors) {
    for (const v of crossGroupPeers(u, maskedWith(u), groupOf)) {
      if (!(u < v)) continue;
      const [fromU, fromV] = [reveals.get(u)?.seeds.get(v), reveals.get(v)?.seeds.get(u)];
      if (fromU && fromV && !bytesEqual(fromU, fromV)) return { unavailable: `${u} and ${v} revealed different seeds for their pair` };
      const seed = fromU ?? fromV;
      if (!seed) return { unavailable: `no seed for the cross-group pair ${u}–${v}: neither answered unmask` };
      edges.push({ u, v, seed });
    }
  }
  return { edges };
}

/** What unmaskAggregate needs to unmask the groups (built by the unmask stage). */
export interface GroupUnmaskInputs {
  groups: readonly (readonly string[])[];
  /** Each contributor's masked vector y (d + 1 words). */
  masked: ReadonlyMap<string, Uint32Array>;
  maxWeight: number;
  edges: readonly CrossEdge[];
}

/** The groups' masked sums Y_g, ready to unmask. */
export interface GroupPlan extends GroupUnmaskInputs {
  groupOf: Map<string, number>;
  accs: Uint32Array[];
}

/** Y_g = Σ_{u∈g} y_u, if the groups partition exactly the survivors and every vector is there; else why not. */
export function planGroupUnmask(p: GroupUnmaskInputs, survivors: readonly string[], words: number): GroupPlan | { unavailable: string } {
  const groupOf = groupIndex(p.groups);
  const members = p.groups.reduce((n, g) => n + g.length, 0);
  if (members !== survivors.length || groupOf.size !== members || survivors.some((u) => !groupOf.has(u))) {
    return { unavailable: 'the scoring groups do not partition the contributors' };
  }
  const accs = p.groups.map(() => new Uint32Array(words));
  for (const u of survivors) {
    const y = p.masked.get(u);
    if (!y || y.length !== words) return { unavailable: `the masked input of ${u} was not kept` };
    const acc = accs[groupOf.get(u)!]!;
    for (let i = 0; i < words; i++) acc[i] = acc[i]! + y[i]!;
  }
  return { ...p, groupOf, accs };
}

interface Removal {
  seed: Uint8Array;
  targets: readonly { acc: Uint32Array; sign: 1 | -1 }[];
}

export interface GroupRemoveParams {
  ctx: RoundContext;
  alg: KeyAgreement;
  /** Σ y over survivors; unmasked in place, exactly as removeMasks would. */
  maskedSum: Uint32Array;
  plan: GroupPlan;
  /** Every survivor, with its reconstructed b at the same index of selfSeeds. */
  survivors: readonly string[];
  selfSeeds: readonly Uint8Array[];
  dropped: readonly DroppedWorkerKey[];
}

/** Remove every mask from the total and from the plan's group sums, each mask expanded once. */
export async function removeMasksByGroup(p: GroupRemoveParams): Promise<void> {
  const { plan, maskedSum: total } = p;
  const accOf = (id: string): Uint32Array => plan.accs[plan.groupOf.get(id)!]!;
  const removals: Removal[] = p.survivors.map((u, i) => ({ seed: p.selfSeeds[i]!, targets: [{ acc: total, sign: -1 }, { acc: accOf(u), sign: -1 }] }));
  const droppedPairs = await Promise.all(
    p.dropped.flatMap((w) =>
      w.survivingPeers.map(async (v): Promise<Removal> => {
        const sign = pairSign(v.id, w.id) === 1 ? -1 : 1; // v added σ(v,w)·PRG(s_vw)
        const seed = await pairwiseMaskSeed(p.ctx, p.alg, w.maskKey, w.id, v.id, v.sPk);
        return { seed, targets: [{ acc: total, sign }, { acc: accOf(v.id), sign }] };
      }),
    ),
  );
  // u < v: u added +PRG(s_uv), v added −PRG(s_uv); they cancel in the total.
  const cross = plan.edges.map((e): Removal => ({ seed: e.seed, targets: [{ acc: accOf(e.u), sign: -1 }, { acc: accOf(e.v), sign: 1 }] }));
  try {
    await applyRemovals([...removals, ...droppedPairs, ...cross], total.length);
  } finally {
    for (const r of droppedPairs) r.seed.fill(0);
  }
}

const BATCH = 4;

/** Expand each seed once (the next batch while this one is added) and add it, signed, to each target. */
async function applyRemovals(removals: readonly Removal[], length: number): Promise<void> {
  const expand = (from: number) => Promise.all(removals.slice(from, from + BATCH).map((r) => expandMask(r.seed, length)));
  let next = removals.length > 0 ? expand(0) : undefined;
  for (let from = 0; next; from += BATCH) {
    const batch = await next;
    next = from + BATCH < removals.length ? expand(from + BATCH) : undefined;
    batch.forEach((mask, j) => {
      for (const { acc, sign } of removals[from + j]!.targets) for (let i = 0; i < length; i++) acc[i] = acc[i]! + sign * mask[i]!;
    });
  }
}

/**
 * Check the unmasked groups against the unmasked total (Σ_g words = total words, mod 2^32) and
 * against what |g| members can produce, then dequantize them; or say why they are unavailable.
 */
export function decodeGroups(
  plan: GroupPlan,
  total: Uint32Array,
  p: QuantizationParams,
): { groups: SecAggGroupSum[] } | { groupsUnavailable: string } {
  const ring = new Uint32Array(total.length);
  for (const acc of plan.accs) for (let i = 0; i < ring.length; i++) ring[i] = ring[i]! + acc[i]!;
  if (ring.some((w, i) => w !== total[i])) return { groupsUnavailable: 'the group sums do not add up to the total' };
  // Per member and word at most ⌈maxWeight·S⌉ in absolute value (stochastic rounding), plus one for float rounding.
  const perMember = Math.ceil(plan.maxWeight * quantizationScale(p.bits)) + 1;
  const d = total.length - 1;
  for (let g = 0; g < plan.accs.length; g++) {
    const acc = plan.accs[g]!;
    const limit = plan.groups[g]!.length * perMember;
    const bad = acc.findIndex((w, i) => (w | 0) > limit || (w | 0) < (i === d ? 0 : -limit));
    if (bad >= 0) return { groupsUnavailable: `group ${g} (${plan.groups[g]![0]}, …) is out of range at word ${bad}: a revealed seed is wrong` };
  }
  return {
    groups: plan.groups.map((members, g) => ({ members: [...members], ...dequantizeSum(plan.accs[g]!, p) })),
  };
}
