/**
 * Judging a holder's complaint against a dealer (issue 13.6). A dealer that published wrong share
 * hashes used to get every honest holder blamed at unmask, since each revealed share "differed
 * from the one dealt". Now holders check their shares in masked-input and complain; the coordinator
 * decides who lied from evidence, so neither a lying dealer nor a lying holder can get an honest
 * worker dropped:
 *
 * - the dealer's signature over the tree of its (ciphertext, hashes) entries is bad: the dealer is at fault;
 * - the holder disclosed the pair key: the coordinator opens the ciphertext it routed itself. If
 *   the shares inside miss the signed hashes, the dealer lied; if they match, or the key does not
 *   open it, the holder lied;
 * - no key, yet the signature verifies: the holder lied (an honest holder discloses the key then).
 *
 * An upheld complaint also gives the hashes the holder's reveals are checked against at unmask: the
 * true shares' (or none, when there was no key to open them). What the key discloses, one share of
 * each of the dealer's secrets and the holder's pair for the dealer, the dealer already knew.
 */
import type { DealerComplaint } from '../protocol/secagg.js';
import { bytesEqual } from './crypto.js';
import { dealerSigned, hashSharePair, openSharePair, type PublishedSharePair } from './share-exchange.js';
import type { RoundContext, SecAggVerify } from './transcript.js';

export type ComplaintVerdict =
  | { guilty: 'dealer'; reason: string; hashes: { b: Uint8Array; s: Uint8Array } | null }
  | { guilty: 'holder'; reason: string };

export async function judgeComplaint(
  ctx: RoundContext,
  holder: string,
  complaint: DealerComplaint,
  sealed: PublishedSharePair,
  verify: SecAggVerify,
): Promise<ComplaintVerdict> {
  const { dealer, pairKey } = complaint;
  const signed = await dealerSigned(ctx, dealer, holder, sealed, verify);
  const pair = pairKey ? await openSharePair(ctx, dealer, holder, sealed.ciphertext, pairKey).catch(() => undefined) : undefined;
  if (pair) {
    const hashes = await hashSharePair(ctx, dealer, holder, pair);
    pair.bShare.fill(0);
    pair.sShare.fill(0);
    if (!bytesEqual(hashes.b, sealed.bShareHash) || !bytesEqual(hashes.s, sealed.sShareHash)) {
      return { guilty: 'dealer', reason: `dealt ${holder} shares that differ from the hashes it published`, hashes };
    }
    if (!signed) return { guilty: 'dealer', reason: `its signature over the shares dealt to ${holder} does not verify`, hashes };
    return { guilty: 'holder', reason: `complained about ${dealer}, whose shares match the hashes it signed` };
  }
  if (!signed) return { guilty: 'dealer', reason: `its signature over the shares dealt to ${holder} does not verify`, hashes: null };
  return {
    guilty: 'holder',
    reason: pairKey ? `the pair key it disclosed does not open the shares of ${dealer}` : `complained about ${dealer} without the pair key, though ${dealer} signed its hashes`,
  };
}
