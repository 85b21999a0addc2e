/**
 * Stage 4, unmask: show each signer its neighbours' consistency signatures and ask for the b
 * shares of surviving neighbours (and its own) or the s_sk shares of dropped ones, never both;
 * check every revealed share against its dealer's hash. Closing it reconstructs the secrets,
 * removes the masks and yields Σ w·x and Σ w, the only plaintext of the round — and, under
 * groupScoring, each scoring group's Σ w·x and Σ w from the cross-group seeds the survivors
 * revealed (core/secagg/scoring-groups.ts). The request is the same with or without scoring:
 * workers compute the groups themselves.
 */
import { SECAGG_STAGE } from '../../protocol/secagg.js';
import { checkCrossSeeds, crossGroupPeers, resolveCrossSeeds } from '../group-unmask.js';
import { checkRevealedShares } from '../replies.js';
import { unmaskAggregate, type SecAggResult, type UnmaskInputs } from '../unmask.js';
import type { ServerStage } from './stage.js';
import { requestBase, type SecAggRoundState } from './state.js';

export function unmaskStage(): ServerStage<'unmask'> {
  return {
    name: SECAGG_STAGE.unmask,
    request(s, to) {
      const group = s.maskedWith.get(to)!;
      return {
        ...requestBase(s),
        stage: SECAGG_STAGE.unmask,
        signatures: group.filter((v) => s.signatures.has(v)).map((v) => ({ id: v, signature: s.signatures.get(v)! })),
        dropped: group.filter((v) => !s.contributors.has(v)),
      };
    },
    async accept(s, from, r) {
      const group = s.maskedWith.get(from)!;
      const want = { b: [from, ...group.filter((v) => s.contributors.has(v))], s: group.filter((v) => !s.contributors.has(v)) };
      const revealed = await checkRevealedShares(s.ctx, from, r, want, (dealer) => s.dealt.get(dealer));
      // A faulty cross-group reveal only makes the groups unavailable: the reply still counts for the total.
      const cross = s.scoring ? checkCrossSeeds(r.crossSeeds, crossGroupPeers(from, group, s.scoring.groupOf)) : undefined;
      if (s.stage === SECAGG_STAGE.unmask && !s.dropouts.has(from)) {
        s.revealed.set(from, revealed);
        if (cross) s.crossSeeds.set(from, cross);
      }
    },
    forget(s, id) {
      s.revealed.delete(id);
      s.crossSeeds.delete(id);
    },
    async close(s) {
      try {
        return { result: await unmask(s) };
      } finally {
        s.maskedInputs.clear();
        for (const r of s.crossSeeds.values()) for (const seed of r.seeds.values()) seed.fill(0);
        s.crossSeeds.clear();
      }
    },
  };
}

/** Gather the revealed shares per dealer and hand everything to unmaskAggregate. */
async function unmask(s: SecAggRoundState): Promise<SecAggResult> {
  const sharesOf = (kind: 'b' | 's', dealer: string) => [...s.revealed.values()].flatMap((r) => r[kind].get(dealer) ?? []);
  const sum = s.maskedSum;
  s.maskedSum = new Uint32Array(0);
  const scoring = s.scoring ? scoringInputs(s, s.scoring) : undefined;
  return unmaskAggregate({
    ctx: s.ctx,
    alg: s.alg,
    threshold: s.config.threshold,
    quantization: s.config,
    maskedSum: sum,
    survivors: s.survivors.map((u) => ({ id: u, bCommit: s.adverts.get(u)!.bCommit, bShares: sharesOf('b', u) })),
    dropped: [...s.u2]
      .filter((u) => !s.contributors.has(u))
      .map((u) => ({
        id: u,
        sPk: s.adverts.get(u)!.sPk,
        sShares: sharesOf('s', u),
        survivingPeers: s.maskedWith.get(u)!.filter((v) => s.contributors.has(v)).map((v) => ({ id: v, sPk: s.adverts.get(v)!.sPk })),
      })),
    ...(scoring ? { scoring } : {}),
  });
}

/** The groups with one seed per cross-group edge, or why they cannot be unmasked. */
function scoringInputs(s: SecAggRoundState, scoring: NonNullable<SecAggRoundState['scoring']>): NonNullable<UnmaskInputs['scoring']> {
  const { groups, groupOf } = scoring;
  if (groups.length < 2) {
    const m = s.config.groupScoring?.minGroupSize;
    return { unavailable: `the ${s.survivors.length} contributors form no two connected scoring groups of at least ${m}` };
  }
  const cross = resolveCrossSeeds(s.survivors, (id) => s.maskedWith.get(id)!, groupOf, s.crossSeeds);
  return 'unavailable' in cross ? cross : { groups, masked: s.maskedInputs, maxWeight: s.maxWeight, edges: cross.edges };
}
