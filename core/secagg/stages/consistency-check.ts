/**
 * Stage 3, consistency check (the malicious setting of Bonawitz et al.): every live contributor
 * signs the survivor set it is told; closing it fixes U4 and drops any worker that would be shown
 * fewer than t signatures (it would refuse to unmask anyway).
 */
import { SECAGG_STAGE } from '../../protocol/secagg.js';
import type { ServerStage } from './stage.js';
import { alive, invalid, recordDropout, requestBase, requireRecoverable, requireThreshold } from './state.js';

export function consistencyCheckStage(): ServerStage<'consistency-check'> {
  return {
    name: SECAGG_STAGE.consistencyCheck,
    request: (s) => ({ ...requestBase(s), stage: SECAGG_STAGE.consistencyCheck, survivors: [...s.survivors] }),
    accept(s, from, r) {
      if (!s.verify(s.survivorBytes, r.signature, from)) throw invalid(`consistency signature of ${from} is not over the survivor set`);
      s.signatures.set(from, r.signature);
    },
    forget: (s, id) => s.signatures.delete(id),
    async close(s) {
      s.u4 = new Set(s.signatures.keys());
      requireThreshold(s, s.u4.size, 'workers signed the survivor set');
      const t = s.config.threshold;
      for (const v of s.u4) {
        const signers = s.maskedWith.get(v)!.filter((u) => s.u4.has(u)).length + 1; // its own included
        if (signers < t) recordDropout(s, v, `only ${signers} of its holders signed the survivor set; ${t} needed`, 'E_SECAGG_THRESHOLD', SECAGG_STAGE.unmask);
      }
      const next = alive(s, s.u4);
      requireRecoverable(s, next);
      return { next };
    },
  };
}
