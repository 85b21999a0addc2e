/**
 * Stage 2, masked input: route to each worker the sealed share pairs its neighbours dealt it, with
 * the hashes and signatures they published; add each masked input to the one running sum on
 * arrival. A worker may complain that a dealer's shares miss its hashes: the complaint is judged
 * here (core/secagg/complaints.ts) and the liar, dealer or holder, is dropped (issue 13.6).
 * Closing it fixes the survivor set U3: exactly the workers whose input is in the sum. Under
 * groupScoring each masked input is also kept, and closing fixes the scoring groups of U3
 * (core/secagg/scoring-groups.ts), which unmask then sums separately.
 *
 * Over-selection: with `closeAfter: K` the stage completes as soon as K inputs are in; later ones
 * are refused, and their senders become ordinary dropouts whose pairwise masks unmask removes.
 */
import { CohortError } from '../../protocol/errors.js';
import { SECAGG_STAGE, type DealerComplaint } from '../../protocol/secagg.js';
import { judgeComplaint, type ComplaintVerdict } from '../complaints.js';
import { groupIndex, scoringGroups } from '../scoring-groups.js';
import { scoringGroupSeed, scoringParamsDigest, survivorSetBytes } from '../transcript.js';
import type { ServerStage } from './stage.js';
import { alive, invalid, recordDropout, requestBase, requireRecoverable, requireThreshold, type SecAggRoundState } from './state.js';

export interface MaskedInputOptions {
  /** Complete the stage once this many masked inputs are in (at least the threshold). Default: wait for all or the deadline. */
  closeAfter?: number;
}

export function maskedInputStage(o: MaskedInputOptions = {}): ServerStage<'masked-input'> {
  const { closeAfter } = o;
  const full = (s: SecAggRoundState): boolean => closeAfter !== undefined && s.contributors.size >= closeAfter;
  const refuseIfFull = (s: SecAggRoundState): void => {
    if (full(s)) throw new CohortError('E_SECAGG_STAGE', `masked-input closed after the first ${closeAfter} inputs`);
  };
  const add = (s: SecAggRoundState, from: string, masked: Uint32Array): void => {
    const sum = s.maskedSum;
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + masked[i]!;
    s.contributors.add(from);
    if (s.config.groupScoring) s.maskedInputs.set(from, masked);
  };
  return {
    name: SECAGG_STAGE.maskedInput,
    request: (s, to) => ({
      ...requestBase(s),
      stage: SECAGG_STAGE.maskedInput,
      ciphertexts: s.maskedWith.get(to)!.map((u) => {
        const dealt = s.dealt.get(u)!;
        return { from: u, ...dealt.sealed.get(to)!, dealtSignature: dealt.dealtSignature };
      }),
    }),
    async accept(s, from, r) {
      refuseIfFull(s);
      if (r.masked.length !== s.dimension + 1) throw invalid(`masked input of ${r.masked.length} words; expected ${s.dimension + 1}`);
      if (!r.complaints?.length) return add(s, from, r.masked); // no await: checking K and adding are one step
      await judgeComplaints(s, from, r.complaints);
      if (s.dropouts.has(from)) throw new CohortError('E_SECAGG_STAGE', `${from} was dropped while its complaints were judged`);
      refuseIfFull(s);
      add(s, from, r.masked);
    },
    forget: () => {}, // a summed input cannot be taken back, and a refused one was never added
    complete: full,
    ...(closeAfter !== undefined ? { lateReason: `not among the first ${closeAfter} masked inputs` } : {}),
    async close(s) {
      requireThreshold(s, s.contributors.size, 'workers sent masked input');
      s.survivors = [...s.contributors].sort();
      const params = await roundScoringParams(s);
      s.survivorBytes = await survivorSetBytes(s.ctx, s.survivors, params);
      if (s.config.groupScoring) await fixScoringGroups(s, s.config.groupScoring.minGroupSize);
      const next = alive(s, s.contributors);
      requireRecoverable(s, next);
      return { next };
    },
  };
}

/**
 * Judge every complaint of `holder`. Each dealer proven to have lied is dropped, and the holder's
 * reveals of its shares are then checked against the true hashes; a false complaint refuses the
 * holder's whole reply (throws), so its input is not summed and it is dropped instead.
 */
async function judgeComplaints(s: SecAggRoundState, holder: string, complaints: readonly DealerComplaint[]): Promise<void> {
  const verdicts: { dealer: string; verdict: ComplaintVerdict }[] = [];
  for (const complaint of complaints) {
    const { dealer } = complaint;
    const dealt = s.maskedWith.get(holder)!.includes(dealer) ? s.dealt.get(dealer) : undefined;
    const sealed = dealt?.sealed.get(holder);
    if (!dealt || !sealed || verdicts.some((v) => v.dealer === dealer)) throw invalid(`${holder} complained about ${dealer}, which dealt it no shares, or twice`);
    const published = { ...sealed, dealtSignature: dealt.dealtSignature };
    verdicts.push({ dealer, verdict: await judgeComplaint(s.ctx, holder, complaint, published, s.verify) });
  }
  for (const { dealer, verdict } of verdicts) {
    if (verdict.guilty !== 'dealer') continue;
    const dealt = s.dealt.get(dealer)!;
    dealt.bHashes.set(holder, verdict.hashes?.b ?? null);
    dealt.sHashes.set(holder, verdict.hashes?.s ?? null);
    s.badDealers.add(dealer);
    recordDropout(s, dealer, verdict.reason, 'E_SECAGG_INVALID');
  }
  const lie = verdicts.find((v) => v.verdict.guilty === 'holder');
  if (lie) throw invalid(`${holder} ${lie.verdict.reason}`);
}

/** The scoring groups of the survivors, as every worker will compute them; with one group there is nothing to keep. */
async function fixScoringGroups(s: SecAggRoundState, minGroupSize: number): Promise<void> {
  const seed = await scoringGroupSeed(s.ctx, s.survivors, await roundScoringParams(s));
  const groups = await scoringGroups({
    seed,
    contributors: s.survivors,
    minGroupSize,
    areNeighbours: (a, b) => s.graph.areNeighbours(a, b),
    neighboursOf: (id) => s.graph.neighboursOf(id),
  });
  s.scoring = { groups, groupOf: groupIndex(groups) };
  if (groups.length < 2) s.maskedInputs.clear();
}

/** Under group scoring, the digest of the round's grouping parameters that survivors sign (transcript.ts). */
async function roundScoringParams(s: SecAggRoundState): Promise<Uint8Array | undefined> {
  const scoring = s.config.groupScoring;
  if (!scoring) return undefined;
  return scoringParamsDigest({ participants: s.graph.participants, graphSeed: s.graphSeed, neighbours: s.config.neighbours, minGroupSize: scoring.minGroupSize });
}
