/**
 * Mask arithmetic (Bonawitz et al. §4, with Bell et al.'s neighbour graph), mod 2^32:
 *
 *   worker u sends  y_u = q_u + PRG(b_u) + Σ_{v ∈ N(u)} σ(u,v) · PRG(s_uv),   σ(u,v) = +1 if u < v else −1
 *
 * Pairwise masks of two surviving neighbours cancel in Σ y. The coordinator removes PRG(b_u) of
 * every survivor and, for each worker u that dropped after sharing its keys, the now uncancelled
 * σ(v,u) · PRG(s_uv) of each surviving neighbour v, recomputed from u's reconstructed s_sk.
 *
 * The worker's masking and the coordinator's unmasking are the same functions the benchmark times.
 */
import type { KeyAgreement } from '../protocol/secagg.js';
import { addMask, agree, hkdf } from './crypto.js';
import { pairInfo, type RoundContext } from './transcript.js';

/** σ(self, peer): the lower id adds the pairwise mask, the higher subtracts it. */
export function pairSign(self: string, peer: string): 1 | -1 {
  return self < peer ? 1 : -1;
}

/** s_uv: HKDF of the Diffie–Hellman secret of the two mask keys, bound to the pair, run and round. */
export async function pairwiseMaskSeed(
  ctx: RoundContext,
  alg: KeyAgreement,
  privateKey: CryptoKey,
  self: string,
  peer: string,
  peerSPk: Uint8Array,
): Promise<Uint8Array> {
  return hkdf(await agree(alg, privateKey, peerSPk), pairInfo(ctx, 'mask', self, peer));
}

/** The AES-GCM key for shares between two workers, from their encryption keys (c). */
export async function shareEncryptionKey(
  ctx: RoundContext,
  alg: KeyAgreement,
  privateKey: CryptoKey,
  self: string,
  peer: string,
  peerCPk: Uint8Array,
): Promise<Uint8Array> {
  return hkdf(await agree(alg, privateKey, peerCPk), pairInfo(ctx, 'share-encryption', self, peer));
}

/** Run `fn` over `items` with at most `limit` in flight (WebCrypto work runs off the JS thread in Node). */
async function forEachConcurrent<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** How many PRG expansions run at once: enough to keep a small thread pool busy, few enough to bound memory. */
const CONCURRENCY = 4;

export interface PeerMaskKey {
  id: string;
  sPk: Uint8Array;
}

export interface MaskInputParams {
  ctx: RoundContext;
  alg: KeyAgreement;
  self: string;
  /** q_u from quantizeWeighted; masked in place and returned. */
  quantized: Uint32Array;
  /** b_u. */
  selfSeed: Uint8Array;
  /** s_sk of this worker. */
  maskKey: CryptoKey;
  /** The neighbours whose shares this worker received (the ones that also mask with it). */
  peers: readonly PeerMaskKey[];
}

/** y_u = q_u + PRG(b_u) + Σ σ(u,v)·PRG(s_uv), in place. */
export async function maskInput(p: MaskInputParams): Promise<Uint32Array> {
  const y = p.quantized;
  await addMask(y, p.selfSeed, 1);
  await forEachConcurrent(p.peers, CONCURRENCY, async (peer) => {
    const seed = await pairwiseMaskSeed(p.ctx, p.alg, p.maskKey, p.self, peer.id, peer.sPk);
    await addMask(y, seed, pairSign(p.self, peer.id));
  });
  return y;
}

export interface DroppedWorkerKey {
  id: string;
  /** The reconstructed s_sk of the dropped worker. */
  maskKey: CryptoKey;
  /** Its neighbours whose masked input is in the sum (they masked with it). */
  survivingPeers: readonly PeerMaskKey[];
}

export interface RemoveMasksParams {
  ctx: RoundContext;
  alg: KeyAgreement;
  /** Σ y over survivors; unmasked in place. */
  maskedSum: Uint32Array;
  /** Reconstructed b of every survivor. */
  selfSeeds: readonly Uint8Array[];
  /** Reconstructed s_sk of every worker that shared keys but sent no masked input. */
  dropped: readonly DroppedWorkerKey[];
}

/** Subtract every survivor's PRG(b) and every uncancelled pairwise mask, in place. */
export async function removeMasks(p: RemoveMasksParams): Promise<void> {
  const sum = p.maskedSum;
  await forEachConcurrent(p.selfSeeds, CONCURRENCY, (b) => addMask(sum, b, -1));
  const pairs = p.dropped.flatMap((u) => u.survivingPeers.map((v) => ({ u, v })));
  await forEachConcurrent(pairs, CONCURRENCY, async ({ u, v }) => {
    // v added σ(v,u)·PRG(s_uv); the same seed comes from u's private key and v's public key.
    const seed = await pairwiseMaskSeed(p.ctx, p.alg, u.maskKey, u.id, v.id, v.sPk);
    await addMask(sum, seed, pairSign(v.id, u.id) === 1 ? -1 : 1);
  });
}
