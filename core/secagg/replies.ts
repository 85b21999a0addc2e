/**
 * The coordinator's checks on worker replies that carry keys or shares. Each returns what the
 * coordinator keeps, or throws CohortError E_SECAGG_INVALID; the server then drops the sender.
 *
 * Share hashes (published by each dealer in share-keys) are what make a bad reveal attributable:
 * Shamir shares carry no authentication of their own, so without them a single wrong share would
 * spoil a reconstruction without saying who sent it.
 */
import { CohortError } from '../protocol/errors.js';
import type { KeyAgreement, SecAggReplyOf } from '../protocol/secagg.js';
import { bytesEqual, publicKeyLength } from './crypto.js';
import { advertisementBytes, shareHash, type RoundContext, type SecAggVerify } from './transcript.js';

/** Keyed by worker id. */
export type ByWorker = Map<string, Uint8Array>;

/** What a dealer sent in share-keys: one ciphertext per holder and the hash of every share. */
export interface DealtShares {
  ciphertexts: ByWorker;
  /** Holder → hash of its b share (the dealer itself included). */
  bHashes: ByWorker;
  /** Holder → hash of its s_sk share. */
  sHashes: ByWorker;
}

const invalid = (m: string) => new CohortError('E_SECAGG_INVALID', m);

/** advertise-keys: right algorithm, right key lengths, signed by `from`. */
export function checkAdvertisement(
  ctx: RoundContext,
  alg: KeyAgreement,
  from: string,
  r: SecAggReplyOf<'advertise-keys'>,
  verify: SecAggVerify,
): void {
  const len = publicKeyLength(alg);
  if (r.keyAgreement !== alg) throw invalid(`${from} advertised ${r.keyAgreement} keys; this round uses ${alg}`);
  if (r.cPk.byteLength !== len || r.sPk.byteLength !== len) throw invalid(`${from} advertised keys of the wrong length`);
  const bytes = advertisementBytes(ctx, { id: from, keyAgreement: r.keyAgreement, cPk: r.cPk, sPk: r.sPk, bCommit: r.bCommit });
  if (!verify(bytes, r.signature, from)) throw invalid(`advertisement signature does not verify for ${from}`);
}

/** share-keys: exactly one ciphertext for each holder the dealer was shown. */
export function checkDealtShares(from: string, r: SecAggReplyOf<'share-keys'>, holders: ReadonlySet<string>): DealtShares {
  const dealt: DealtShares = { ciphertexts: new Map(), bHashes: new Map([[from, r.selfShareHash]]), sHashes: new Map() };
  for (const x of r.shares) {
    if (!holders.has(x.to) || dealt.ciphertexts.has(x.to)) throw invalid(`${from} sent a share for ${x.to}, which is not one of its holders or is repeated`);
    dealt.ciphertexts.set(x.to, x.ciphertext);
    dealt.bHashes.set(x.to, x.bShareHash);
    dealt.sHashes.set(x.to, x.sShareHash);
  }
  if (dealt.ciphertexts.size !== holders.size) throw invalid(`${from} shared with ${dealt.ciphertexts.size} of its ${holders.size} neighbours`);
  return dealt;
}

/**
 * unmask: exactly the b shares and s_sk shares asked for (disjoint sets, so never both of one
 * worker), each equal to the share its dealer committed to for this holder.
 */
export async function checkRevealedShares(
  ctx: RoundContext,
  from: string,
  r: SecAggReplyOf<'unmask'>,
  want: { b: readonly string[]; s: readonly string[] },
  dealtBy: (dealer: string) => DealtShares | undefined,
): Promise<{ b: ByWorker; s: ByWorker }> {
  const b: ByWorker = new Map(r.bShares.map((x) => [x.of, x.share]));
  const s: ByWorker = new Map(r.sShares.map((x) => [x.of, x.share]));
  const same = (got: ByWorker, n: number, ids: readonly string[]) => got.size === n && got.size === ids.length && ids.every((id) => got.has(id));
  if (!same(b, r.bShares.length, want.b) || !same(s, r.sShares.length, want.s)) {
    throw invalid(`${from} revealed a different set of shares than asked for`);
  }
  const check = async (kind: 'b' | 's', dealer: string, share: Uint8Array): Promise<void> => {
    const dealt = dealtBy(dealer);
    const expected = (kind === 'b' ? dealt?.bHashes : dealt?.sHashes)?.get(from);
    if (!expected || !bytesEqual(expected, await shareHash(ctx, kind, dealer, from, share))) {
      throw invalid(`${from} revealed a ${kind === 'b' ? 'self-mask' : 'key'} share of ${dealer} that differs from the one dealt`);
    }
  };
  await Promise.all([...[...b].map(([d, x]) => check('b', d, x)), ...[...s].map(([d, x]) => check('s', d, x))]);
  return { b, s };
}
