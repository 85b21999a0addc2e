/**
 * Stage 4, unmask: show each signer its neighbours' consistency signatures and ask for the b
 * shares of surviving neighbours (and its own) or the s_sk shares of dropped ones, never both;
 * check every revealed share against its dealer's hash. Closing it reconstructs the secrets,
 * removes the masks and yields Σ w·x and Σ w, the only plaintext of the round.
 */
import { SECAGG_STAGE } from '../../protocol/secagg.js';
import { checkRevealedShares } from '../replies.js';
import { unmaskAggregate, type SecAggResult } from '../unmask.js';
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
      if (s.stage === SECAGG_STAGE.unmask && !s.dropouts.has(from)) s.revealed.set(from, revealed);
    },
    forget: (s, id) => s.revealed.delete(id),
    close: async (s) => ({ result: await unmask(s) }),
  };
}

/** Gather the revealed shares per dealer and hand everything to unmaskAggregate. */
async function unmask(s: SecAggRoundState): Promise<SecAggResult> {
  const sharesOf = (kind: 'b' | 's', dealer: string) => [...s.revealed.values()].flatMap((r) => r[kind].get(dealer) ?? []);
  const sum = s.maskedSum;
  s.maskedSum = new Uint32Array(0);
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
  });
}
