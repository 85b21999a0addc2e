/**
 * Stage 1, share keys: forward to each worker the advertisements of its neighbours in U1; keep
 * what each dealer sent (one sealed share pair per holder, the share hashes, and its signature over their tree). Closing
 * it fixes U2 and who masks with whom, and opens the running sum.
 */
import { SECAGG_STAGE } from '../../protocol/secagg.js';
import { checkDealtShares } from '../replies.js';
import type { ServerStage } from './stage.js';
import { pruneThin, requestBase } from './state.js';

export function shareKeysStage(): ServerStage<'share-keys'> {
  return {
    name: SECAGG_STAGE.shareKeys,
    request: (s, to) => ({
      ...requestBase(s),
      stage: SECAGG_STAGE.shareKeys,
      peers: s.graph
        .neighboursOf(to)
        .filter((v) => s.u1.has(v))
        .map((v) => {
          const ad = s.adverts.get(v)!;
          return { id: v, cPk: ad.cPk, sPk: ad.sPk, bCommit: ad.bCommit, signature: ad.signature };
        }),
    }),
    async accept(s, from, r) {
      const dealt = await checkDealtShares(s.ctx, from, r, new Set(s.graph.neighboursOf(from).filter((v) => s.u1.has(v))));
      if (!s.dropouts.has(from)) s.dealt.set(from, dealt); // not if it was dropped meanwhile
    },
    forget: (s, id) => s.dealt.delete(id),
    async close(s) {
      s.u2 = pruneThin(s, new Set(s.dealt.keys()), 'shared keys');
      for (const v of s.u2) s.maskedWith.set(v, s.graph.neighboursOf(v).filter((u) => s.u2.has(u)));
      s.maskedSum = new Uint32Array(s.dimension + 1);
      return { next: s.u2 };
    },
  };
}
