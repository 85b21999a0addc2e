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
import { addMasks, agree, hkdf, type SignedSeed } from './crypto.js';
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
  const pairs = await Promise.all(
    p.peers.map(async (peer) => ({
      seed: await pairwiseMaskSeed(p.ctx, p.alg, p.maskKey, p.self, peer.id, peer.sPk),
      sign: pairSign(p.self, peer.id),
    })),
  );
  await addMasks(p.quantized, [{ seed: p.selfSeed, sign: 1 }, ...pairs]);
  return p.quantized;
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
  const pairs = await Promise.all(
    p.dropped.flatMap((u) =>
      u.survivingPeers.map(async (v): Promise<SignedSeed> => ({
        // v added σ(v,u)·PRG(s_uv); the same seed comes from u's private key and v's public key.
        seed: await pairwiseMaskSeed(p.ctx, p.alg, u.maskKey, u.id, v.id, v.sPk),
        sign: pairSign(v.id, u.id) === 1 ? -1 : 1,
      })),
    ),
  );
  await addMasks(p.maskedSum, [...p.selfSeeds.map((seed): SignedSeed => ({ seed, sign: -1 })), ...pairs]);
}
