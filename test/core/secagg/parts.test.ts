// The pieces of SecAgg+ on their own: config checks, quantization, the neighbour graph, the
// WebCrypto primitives, Shamir reconstruction checks, and the wire schemas through msgpackr.
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage } from '../../../core/protocol/codec.js';
import { CohortError } from '../../../core/protocol/errors.js';
import { SECAGG_STAGES, nextSecAggStage, secAggReplySchema, secAggRequestSchema } from '../../../core/protocol/secagg.js';
import { defaultSecAggConfig, effectiveNeighbours, validateSecAggConfig } from '../../../core/secagg/config.js';
import {
  addMasks,
  aesGcmDecrypt,
  aesGcmEncrypt,
  agree,
  exportPrivateScalar,
  expandMask,
  generateAgreementKeyPair,
  importPrivateScalar,
  privateKeyMatches,
  randomBytes,
} from '../../../core/secagg/crypto.js';
import { buildNeighbourGraph } from '../../../core/secagg/graph.js';
import { dequantizeSum, quantizationBound, quantizeWeighted, randomWords } from '../../../core/secagg/quantize.js';
import { dealShares, reconstructMaskKey, reconstructSelfMaskSeed } from '../../../core/secagg/shares.js';
import { selfMaskCommitment } from '../../../core/secagg/transcript.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof CohortError ? e.code : 'not a CohortError';
  }
  return undefined;
};

describe('config', () => {
  it('defaults: k ≈ 4·log2 n, t a strict majority of the k + 1 holders', () => {
    expect(defaultSecAggConfig(500)).toEqual({ neighbours: 36, threshold: 19, clipRange: 1, bits: 16 });
    expect(defaultSecAggConfig(10)).toMatchObject({ neighbours: 16, threshold: 6 }); // complete graph, k = 9
    expect(defaultSecAggConfig(3)).toMatchObject({ threshold: 2 });
    for (const n of [3, 10, 100, 500, 5000]) expect(() => validateSecAggConfig(defaultSecAggConfig(n), { maxWorkers: n, maxWeight: 1 })).not.toThrow();
  });

  it('refuses a sum that could overflow 2^32', () => {
    const cfg = defaultSecAggConfig(1000, { bits: 24 });
    expect(() => validateSecAggConfig(cfg, { maxWorkers: 1000, maxWeight: 1 })).toThrow(/exceeds 32/);
    expect(codeOf(() => validateSecAggConfig(cfg, { maxWorkers: 1000, maxWeight: 1 }))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig(defaultSecAggConfig(300), { maxWorkers: 300, maxWeight: 1000 }))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig(defaultSecAggConfig(1000, { bits: 22 }), { maxWorkers: 1000, maxWeight: 1 }))).toBeUndefined();
  });

  it('refuses thresholds above the neighbour count, non-majorities, too few workers and bad values', () => {
    const bounds = { maxWorkers: 100, maxWeight: 1 };
    expect(codeOf(() => validateSecAggConfig({ ...defaultSecAggConfig(100), threshold: 40 }, bounds))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig({ ...defaultSecAggConfig(100), threshold: 14 }, bounds))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig(defaultSecAggConfig(2), { maxWorkers: 2, maxWeight: 1 }))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig({ ...defaultSecAggConfig(100), clipRange: 0 }, bounds))).toBe('E_SECAGG_CONFIG');
    expect(codeOf(() => validateSecAggConfig({ ...defaultSecAggConfig(100), bits: 40 }, bounds))).toBe('E_SECAGG_CONFIG');
    expect(effectiveNeighbours(7, 100)).toBe(8);
    expect(effectiveNeighbours(30, 10)).toBe(9);
  });

  it('groupScoring: refuses a minGroupSize that is not an integer from 3 (the privacy floor) to the participant limit', () => {
    const bounds = { maxWorkers: 100, maxWeight: 1 };
    const withMin = (minGroupSize: number) => defaultSecAggConfig(100, { groupScoring: { minGroupSize } });
    for (const m of [2, 0, -3, 3.5, NaN, 10_001]) expect(codeOf(() => validateSecAggConfig(withMin(m), bounds))).toBe('E_SECAGG_CONFIG');
    expect(() => validateSecAggConfig(withMin(2), bounds)).toThrow(/^groupScoring\.minGroupSize must be an integer from 3 .* got 2$/);
    expect(codeOf(() => validateSecAggConfig(withMin(3), bounds))).toBeUndefined();
    expect(codeOf(() => validateSecAggConfig(withMin(50), bounds))).toBeUndefined();
    expect(withMin(5).groupScoring).toEqual({ minGroupSize: 5 });
    expect(defaultSecAggConfig(100)).not.toHaveProperty('groupScoring');
  });
});

describe('quantize', () => {
  const p = { clipRange: 0.5, bits: 12 };

  it('round-trips a weighted sum within the bound, clipping first', () => {
    // Prepare
    const xs = [Float32Array.from([0.1, -0.2, 0.7, -3]), Float32Array.from([0.3, 0.25, -0.49, 0])];
    const ws = [0.5, 1];
    const acc = new Uint32Array(5);

    // Execute
    xs.forEach((x, j) => quantizeWeighted(x, ws[j]!, p, randomWords(5)).forEach((q, i) => (acc[i] = acc[i]! + q)));
    const { sum, totalWeight } = dequantizeSum(acc, p);

    // Assert
    const exact = [0.5 * 0.1 + 0.3, 0.5 * -0.2 + 0.25, 0.5 * 0.5 - 0.49, 0.5 * -0.5 + 0];
    const bound = quantizationBound({ ...p, contributors: 2 });
    exact.forEach((e, i) => expect(Math.abs(sum[i]! - e)).toBeLessThanOrEqual(bound.perCoordinate));
    expect(Math.abs(totalWeight - 1.5)).toBeLessThanOrEqual(bound.totalWeight);
  });

  it('stochastic rounding is unbiased', () => {
    const x = new Float32Array(20_000).fill(0.123456);
    const q = quantizeWeighted(x, 1, p, randomWords(x.length + 1));
    let s = 0;
    for (let i = 0; i < x.length; i++) s += q[i]! | 0;
    const mean = (s / x.length) * (p.clipRange / 2047);
    expect(Math.abs(mean - 0.123456)).toBeLessThan(2e-5);
  });

  it('refuses NaN updates and non-positive weights', () => {
    expect(codeOf(() => quantizeWeighted(Float32Array.from([Number.NaN]), 1, p, randomWords(2)))).toBe('E_UPDATE_NOT_FINITE');
    expect(codeOf(() => quantizeWeighted(Float32Array.from([0]), 0, p, randomWords(2)))).toBe('E_SECAGG_INVALID');
  });
});

describe('neighbour graph', () => {
  const ids = Array.from({ length: 60 }, (_, i) => `id${String(i).padStart(2, '0')}`);

  it('is k-regular, symmetric and the same for the same seed', async () => {
    const seed = new Uint8Array(32).fill(3);
    const g = await buildNeighbourGraph(ids, seed, 10);
    const again = await buildNeighbourGraph(ids, seed, 10);
    for (const id of ids) {
      const ns = g.neighboursOf(id);
      expect(ns).toHaveLength(10);
      expect(ns).not.toContain(id);
      for (const v of ns) expect(g.neighboursOf(v)).toContain(id);
      for (const v of ns) expect(g.areNeighbours(id, v)).toBe(true);
      expect(again.neighboursOf(id)).toEqual(ns);
    }
    const other = await buildNeighbourGraph(ids, new Uint8Array(32).fill(4), 10);
    expect(ids.some((id) => other.neighboursOf(id).join() !== g.neighboursOf(id).join())).toBe(true);
  });

  it('is complete when n ≤ k + 1, and refuses unsorted participants', async () => {
    const g = await buildNeighbourGraph(ids.slice(0, 6), new Uint8Array(32), 10);
    expect(g.degree).toBe(5);
    expect(g.neighboursOf(ids[0]!)).toEqual(ids.slice(1, 6));
    await expect(buildNeighbourGraph([ids[1]!, ids[0]!, ids[2]!], new Uint8Array(32), 2)).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
  });
});

describe('crypto', () => {
  it('expands seeds deterministically across the chunk boundary, and masks cancel', async () => {
    // 2^21 + 5 words crosses the 8 MiB chunk size; the tail must continue the same keystream.
    const seed = randomBytes(32);
    const long = await expandMask(seed, 2 ** 21 + 5);
    const short = await expandMask(seed, 1000);
    expect(long.subarray(0, 1000)).toEqual(short);
    expect(long[2 ** 21 + 4]).not.toBe(long[2 ** 21 + 3]);
    const seeds = Array.from({ length: 6 }, () => randomBytes(32));
    const acc = Uint32Array.from([1, 2, 3]);
    await addMasks(acc, seeds.map((s, i) => ({ seed: s, sign: i % 2 ? 1 : -1 })));
    await addMasks(acc, seeds.map((s, i) => ({ seed: s, sign: i % 2 ? -1 : 1 })));
    expect([...acc]).toEqual([1, 2, 3]);
    const one = new Uint32Array(3);
    await addMasks(one, [{ seed, sign: 1 }]);
    expect([...one]).toEqual([...short.subarray(0, 3)]);
  });

  it.each(['X25519', 'P-256'] as const)('%s: agreement is symmetric and an exported private key is recognised', async (alg) => {
    const a = await generateAgreementKeyPair(alg, true);
    const b = await generateAgreementKeyPair(alg, false);
    expect(await agree(alg, a.privateKey, b.publicRaw)).toEqual(await agree(alg, b.privateKey, a.publicRaw));
    const back = await importPrivateScalar(alg, await exportPrivateScalar(a.privateKey));
    expect(await privateKeyMatches(alg, back, a.publicRaw)).toBe(true);
    expect(await privateKeyMatches(alg, back, b.publicRaw)).toBe(false);
  });

  it('AES-GCM refuses a flipped bit or the wrong associated data', async () => {
    const key = randomBytes(32);
    const aad = new Uint8Array([1, 2, 3]);
    const sealed = await aesGcmEncrypt(key, new Uint8Array([9, 9, 9]), aad);
    expect(await aesGcmDecrypt(key, sealed, aad)).toEqual(new Uint8Array([9, 9, 9]));
    const bad = sealed.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    await expect(aesGcmDecrypt(key, bad, aad)).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
    await expect(aesGcmDecrypt(key, sealed, new Uint8Array([1, 2]))).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
  });
});

describe('shares', () => {
  const ctx = { runId: 'r', round: 1 };

  it('reconstruct checks the result: shares that do not reconstruct are E_SECAGG_INVALID', async () => {
    // Prepare
    const b = randomBytes(32);
    const commit = await selfMaskCommitment(ctx, 'u', b);
    const shares = await dealShares(b, 5, 3);
    const corrupt = shares.map((s, i) => (i === 1 ? s.map((x, j) => (j === 0 ? x ^ 1 : x)) : s));
    const key = await generateAgreementKeyPair('X25519', true);
    const skShares = await dealShares(await exportPrivateScalar(key.privateKey), 5, 3);
    const other = await generateAgreementKeyPair('X25519', false);

    // Execute + Assert
    expect(await reconstructSelfMaskSeed(ctx, 'u', shares.slice(2), 3, commit)).toEqual(b);
    await expect(reconstructSelfMaskSeed(ctx, 'u', corrupt, 3, commit)).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
    await expect(reconstructSelfMaskSeed(ctx, 'u', shares.slice(0, 2), 3, commit)).rejects.toMatchObject({ code: 'E_SECAGG_THRESHOLD' });
    await expect(reconstructMaskKey('X25519', 'u', skShares.slice(1, 4), 3, key.publicRaw)).resolves.toBeDefined();
    await expect(reconstructMaskKey('X25519', 'u', skShares.slice(1, 4), 3, other.publicRaw)).rejects.toMatchObject({ code: 'E_SECAGG_INVALID' });
  });
});

describe('wire schemas', () => {
  it('stages are ordered and typed arrays survive msgpackr', () => {
    expect(SECAGG_STAGES.map(nextSecAggStage)).toEqual(['share-keys', 'masked-input', 'consistency-check', 'unmask', null]);
    const masked = Uint32Array.from([1, 2, 4_294_967_295]);
    const back = decodeFrame(encodeMessage({ type: 'secagg-reply', runId: 'r', round: 1, stage: 'masked-input', masked }));
    const parsed = secAggReplySchema.parse(back);
    expect(parsed.stage === 'masked-input' && [...parsed.masked]).toEqual([1, 2, 4_294_967_295]);
    const req = { type: 'secagg-request', runId: 'r', round: 1, stage: 'masked-input', ciphertexts: [{ from: 'a', ciphertext: randomBytes(64), bShareHash: randomBytes(32), sShareHash: randomBytes(32), proof: [randomBytes(32)], dealtSignature: '0xab' }] };
    expect(secAggRequestSchema.parse(decodeFrame(encodeMessage(req)))).toMatchObject({ stage: 'masked-input' });
    expect(secAggRequestSchema.safeParse({ ...req, stage: 'nope' }).success).toBe(false);
  });

  it('groupScoring travels in the advertise-keys config, bounded; crossSeeds in the unmask reply are 32-byte seeds, bounded', () => {
    const config = { ...defaultSecAggConfig(10), groupScoring: { minGroupSize: 4 } };
    const ad = { type: 'secagg-request', runId: 'r', round: 1, stage: 'advertise-keys', participants: ['a', 'b', 'c'], graphSeed: randomBytes(32), keyAgreement: 'X25519', config, maxWeight: 1, dimension: 3 };
    expect(secAggRequestSchema.parse(decodeFrame(encodeMessage(ad)))).toMatchObject({ config: { groupScoring: { minGroupSize: 4 } } });
    for (const minGroupSize of [2, 3.5, 10_001]) expect(secAggRequestSchema.safeParse({ ...ad, config: { ...config, groupScoring: { minGroupSize } } }).success).toBe(false);
    const reply = { type: 'secagg-reply', runId: 'r', round: 1, stage: 'unmask', bShares: [], sShares: [], crossSeeds: [{ peer: 'b', seed: randomBytes(32) }] };
    const parsed = secAggReplySchema.parse(decodeFrame(encodeMessage(reply)));
    expect(parsed.stage === 'unmask' && parsed.crossSeeds?.[0]?.seed).toEqual(reply.crossSeeds[0]!.seed);
    expect(secAggReplySchema.safeParse({ ...reply, crossSeeds: [{ peer: 'b', seed: randomBytes(31) }] }).success).toBe(false);
    expect(secAggReplySchema.safeParse({ ...reply, crossSeeds: Array.from({ length: 255 }, () => reply.crossSeeds[0]) }).success).toBe(false);
  });
});
