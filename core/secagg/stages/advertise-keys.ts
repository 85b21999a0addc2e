/**
 * Stage 0, advertise keys: send every worker the round's parameters; keep each signed
 * advertisement (two public keys and a commitment to b). Closing it fixes U1, after dropping
 * workers with too few advertising neighbours to ever reach the threshold.
 */
import { SECAGG_STAGE } from '../../protocol/secagg.js';
import { checkAdvertisement } from '../replies.js';
import type { ServerStage } from './stage.js';
import { pruneThin, requestBase } from './state.js';

export function advertiseKeysStage(): ServerStage<'advertise-keys'> {
  return {
    name: SECAGG_STAGE.advertiseKeys,
    request: (s) => ({
      ...requestBase(s),
      stage: SECAGG_STAGE.advertiseKeys,
      participants: [...s.graph.participants],
      graphSeed: s.graphSeed,
      keyAgreement: s.alg,
      config: { ...s.config },
      maxWeight: s.maxWeight,
      dimension: s.dimension,
    }),
    accept(s, from, r) {
      checkAdvertisement(s.ctx, s.alg, from, r, s.verify);
      s.adverts.set(from, r);
    },
    forget: (s, id) => s.adverts.delete(id),
    async close(s) {
      s.u1 = pruneThin(s, new Set(s.adverts.keys()), 'advertised keys');
      return { next: s.u1 };
    },
  };
}
