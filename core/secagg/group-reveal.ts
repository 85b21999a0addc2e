/**
 * The worker's part of contribution scoring (core/secagg/scoring-groups.ts): at unmask, compute
 * the scoring groups from the survivor set this worker signed, and reveal the pairwise mask seed
 * s_uv of each surviving neighbour in ANOTHER group, never of one in its own. It refuses
 * (E_SECAGG_CONFIG; the worker then aborts and reveals nothing at all) when its own group is
 * smaller than minGroupSize or holds none of its neighbours: the group's sum would then expose a
 * few workers' updates, or its own masked input would be unmasked outright.
 */
import { CohortError } from '../protocol/errors.js';
import type { KeyAgreement, SecAggWireConfig } from '../protocol/secagg.js';
import type { NeighbourGraph } from './graph.js';
import { pairwiseMaskSeed, type PeerMaskKey } from './masking.js';
import { scoringGroups } from './scoring-groups.js';
import { scoringGroupSeed, scoringParamsDigest, type RoundContext } from './transcript.js';

/** One revealed cross-group seed, as it goes in the unmask reply. */
export interface CrossSeed {
  peer: string;
  seed: Uint8Array;
}

export interface CrossGroupSeedsParams {
  ctx: RoundContext;
  alg: KeyAgreement;
  self: string;
  /** This worker's s_sk. */
  maskKey: CryptoKey;
  minGroupSize: number;
  /** The scoring groups of the round (scoringGroups over the signed survivor set). */
  groups: readonly (readonly string[])[];
  /** The surviving neighbours this worker masked with, with their mask public keys. */
  peers: readonly PeerMaskKey[];
}

const refuse = (sentence: string): CohortError => new CohortError('E_SECAGG_CONFIG', sentence);

/**
 * s_uv for every peer outside this worker's group ([] when there is a single group: no scoring).
 * Throws E_SECAGG_CONFIG when this worker is in no group, its group has fewer than minGroupSize
 * members, or none of its peers is in its group.
 */
export async function crossGroupSeeds(p: CrossGroupSeedsParams): Promise<CrossSeed[]> {
  if (p.groups.length < 2) return [];
  const own = p.groups.find((g) => g.includes(p.self));
  if (!own) throw refuse(`${p.self} is in none of the scoring groups: refusing to reveal seeds for scoring`);
  if (own.length < p.minGroupSize) {
    throw refuse(`the scoring group of ${p.self} has ${own.length} members, fewer than minGroupSize ${p.minGroupSize}: refusing to reveal seeds for scoring`);
  }
  const inside = new Set(own);
  if (!p.peers.some((v) => v.id !== p.self && inside.has(v.id))) {
    throw refuse(`no neighbour of ${p.self} is in its scoring group, so its own input would be unmasked: refusing to reveal seeds for scoring`);
  }
  const outside = p.peers.filter((v) => !inside.has(v.id));
  return Promise.all(outside.map(async (v) => ({ peer: v.id, seed: await pairwiseMaskSeed(p.ctx, p.alg, p.maskKey, p.self, v.id, v.sPk) })));
}

/** What scoringReveal reads: the fields of the worker's state (client.ts SecAggClientState) set before unmask. */
export interface ScoringRevealState {
  readonly ctx: RoundContext;
  readonly id: string;
  round?: { alg: KeyAgreement; config: SecAggWireConfig; graph: NeighbourGraph; scoringParams?: Uint8Array | undefined };
  secrets?: { s: { privateKey: CryptoKey } };
  peers?: ReadonlyMap<string, { sPk: Uint8Array }>;
  held?: ReadonlyMap<string, unknown>;
  signed?: { survivors: ReadonlySet<string> };
}

/**
 * The unmask reply's crossSeeds: undefined when the round has no groupScoring; else the groups are
 * computed from the signed survivor set and crossGroupSeeds decides (and may refuse).
 */
export async function scoringReveal(s: ScoringRevealState, signers: ReadonlySet<string>): Promise<CrossSeed[] | undefined> {
  const scoring = s.round?.config.groupScoring;
  if (!scoring) return undefined;
  const { round, secrets, peers, held, signed } = s;
  if (!round || !secrets || !peers || !held || !signed) {
    throw new CohortError('E_INTERNAL', 'secure-aggregation client state is missing a field set by an earlier stage');
  }
  const survivors = [...signed.survivors].sort();
  const groups = await scoringGroups({
    seed: await scoringGroupSeed(s.ctx, survivors, round.scoringParams),
    contributors: survivors,
    minGroupSize: scoring.minGroupSize,
    areNeighbours: (a, b) => round.graph.areNeighbours(a, b),
    neighboursOf: (id) => round.graph.neighboursOf(id),
  });
  // Only a neighbour whose consistency signature verified over the bytes this worker signed (the
  // same survivors, participants, graph and minGroupSize) computes the same groups: a seed is
  // revealed for it alone, so a coordinator that showed neighbours different parameters gets none.
  const surviving = [...held.keys()].filter((id) => signed.survivors.has(id) && signers.has(id));
  return crossGroupSeeds({
    ctx: s.ctx,
    alg: round.alg,
    self: s.id,
    maskKey: secrets.s.privateKey,
    minGroupSize: scoring.minGroupSize,
    groups,
    peers: surviving.map((id) => ({ id, sPk: peers.get(id)!.sPk })),
  });
}

/** At advertise-keys: the grouping parameters this worker will sign with its survivor set, under groupScoring. */
export async function scoringParamsOf(req: { participants: readonly string[]; graphSeed: Uint8Array; config: SecAggWireConfig }): Promise<Uint8Array | undefined> {
  const scoring = req.config.groupScoring;
  if (!scoring) return undefined;
  return scoringParamsDigest({ participants: req.participants, graphSeed: req.graphSeed, neighbours: req.config.neighbours, minGroupSize: scoring.minGroupSize });
}
