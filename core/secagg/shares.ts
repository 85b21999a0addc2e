/**
 * Shamir t-of-m secret sharing of a worker's two secrets (the self-mask seed b and the mask
 * private key s_sk), the plaintext that carries one holder's pair of shares, and reconstruction
 * that checks its result: the library does not detect bad shares (its README says so), so b is
 * checked against the worker's signed commitment and s_sk against its advertised public key.
 *
 * Sharing is `shamir-secret-sharing` (audited; GF(2^8), so at most 255 shares; each share is the
 * secret's length plus one byte holding its x coordinate).
 */
import { combine, split } from 'shamir-secret-sharing';
import { CohortError } from '../protocol/errors.js';
import type { KeyAgreement } from '../protocol/secagg.js';
import { bytesEqual, importPrivateScalar, privateKeyMatches } from './crypto.js';
import { selfMaskCommitment, type RoundContext } from './transcript.js';

/** Split `secret` into `holders` shares, any `threshold` of which reconstruct it. */
export async function dealShares(secret: Uint8Array, holders: number, threshold: number): Promise<Uint8Array[]> {
  if (threshold < 2 || holders < threshold || holders > 255) {
    throw new CohortError('E_SECAGG_THRESHOLD', `cannot deal ${threshold}-of-${holders} shares`);
  }
  return split(secret, holders, threshold);
}

/** The plaintext a dealer encrypts to one holder: u16 length of the b share ‖ b share ‖ s_sk share. */
export function encodeSharePair(bShare: Uint8Array, sShare: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + bShare.byteLength + sShare.byteLength);
  new DataView(out.buffer).setUint16(0, bShare.byteLength);
  out.set(bShare, 2);
  out.set(sShare, 2 + bShare.byteLength);
  return out;
}

export function decodeSharePair(plain: Uint8Array): { bShare: Uint8Array; sShare: Uint8Array } {
  if (plain.byteLength < 2) throw new CohortError('E_SECAGG_INVALID', 'share plaintext is truncated');
  const bLength = new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getUint16(0);
  if (bLength < 2 || plain.byteLength < 2 + bLength + 2) throw new CohortError('E_SECAGG_INVALID', 'share plaintext is malformed');
  return { bShare: plain.slice(2, 2 + bLength), sShare: plain.slice(2 + bLength) };
}

/** Combine `threshold` of the given shares (all must have one length and distinct x coordinates). */
async function combineShares(shares: readonly Uint8Array[], threshold: number, what: string): Promise<Uint8Array> {
  if (shares.length < threshold) {
    throw new CohortError('E_SECAGG_THRESHOLD', `${what}: ${shares.length} shares revealed, ${threshold} needed`);
  }
  try {
    // The library insists on plain Uint8Arrays; a share decoded by Node's msgpackr may be a Buffer
    // (browsers send binary fields as msgpack `bin`, which Node decodes to Buffer).
    return await combine(shares.slice(0, threshold).map((share) => Uint8Array.from(share)));
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', `${what}: shares do not combine`, { cause });
  }
}

/** Reconstruct worker `dealer`'s self-mask seed b and check it against its commitment. */
export async function reconstructSelfMaskSeed(
  ctx: RoundContext,
  dealer: string,
  shares: readonly Uint8Array[],
  threshold: number,
  bCommit: Uint8Array,
): Promise<Uint8Array> {
  const b = await combineShares(shares, threshold, `self-mask seed of ${dealer}`);
  if (b.byteLength !== 32 || !bytesEqual(await selfMaskCommitment(ctx, dealer, b), bCommit)) {
    throw new CohortError('E_SECAGG_INVALID', `shares of ${dealer}'s self-mask seed do not reconstruct its commitment`, {
      details: { dealer },
    });
  }
  return b;
}

/** Reconstruct worker `dealer`'s mask private key s_sk and check it against its advertised s_pk. */
export async function reconstructMaskKey(
  alg: KeyAgreement,
  dealer: string,
  shares: readonly Uint8Array[],
  threshold: number,
  sPk: Uint8Array,
): Promise<CryptoKey> {
  const scalar = await combineShares(shares, threshold, `mask key of ${dealer}`);
  let key: CryptoKey;
  try {
    key = await importPrivateScalar(alg, scalar);
  } catch (cause) {
    throw new CohortError('E_SECAGG_INVALID', `shares of ${dealer}'s mask key do not reconstruct a valid key`, { cause, details: { dealer } });
  } finally {
    scalar.fill(0);
  }
  if (!(await privateKeyMatches(alg, key, sPk))) {
    throw new CohortError('E_SECAGG_INVALID', `shares of ${dealer}'s mask key do not reconstruct its advertised public key`, {
      details: { dealer },
    });
  }
  return key;
}
