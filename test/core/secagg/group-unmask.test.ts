// The coordinator's group unmasking on synthetic key material: the total gets exactly the words
// removeMasks gives, each group exactly its members' Σ q, and every bad input (a stray, missing or
// disputed seed, a wrong seed, a group sum that does not add up) makes the groups unavailable.
import { describe, expect, it } from 'vitest';
import { detectKeyAgreement, generateAgreementKeyPair, randomBytes, type AgreementKeyPair } from '../../../core/secagg/crypto.js';
import {
  checkCrossSeeds,
  decodeGroups,
  planGroupUnmask,
  removeMasksByGroup,
  resolveCrossSeeds,
  type CrossEdge,
  type GroupPlan,
} from '../../../core/secagg/group-unmask.js';
import { maskInput, pairwiseMaskSeed, removeMasks } from '../../../core/secagg/masking.js';
import { dequantizeSum, quantizeWeighted, randomWords } from '../../../core/secagg/quantize.js';

const ctx = { runId: 'run', round: 2 };
const q = { clipRange: 1, bits: 16 };
const D = 40;
const survivors = ['a', 'b', 'c', 'd', 'e', 'f'];
const groups = [
  ['a', 'b', 'c'],
  ['d', 'e', 'f'],
];
const dropped = 'w'; // shared keys with everyone, sent no masked input

interface Round {
  alg: Awaited<ReturnType<typeof detectKeyAgreement>>;
  keys: Map<string, AgreementKeyPair>;
  selfSeeds: Uint8Array[];
  quantized: Map<string, Uint32Array>;
  masked: Map<string, Uint32Array>;
  maskedSum: Uint32Array;
  edges: CrossEdge[];
}

/** Six survivors on a complete graph with one dropped worker, masked for real. */
async function maskedRound(): Promise<Round> {
  const alg = await detectKeyAgreement();
  const keys = new Map<string, AgreementKeyPair>();
  for (const id of [...survivors, dropped]) keys.set(id, await generateAgreementKeyPair(alg, false));
  const selfSeeds = survivors.map(() => randomBytes(32));
  const quantized = new Map<string, Uint32Array>();
  const masked = new Map<string, Uint32Array>();
  const maskedSum = new Uint32Array(D + 1);
  for (const [i, u] of survivors.entries()) {
    const x = Float32Array.from({ length: D }, (_, j) => Math.sin(i * 7 + j));
    const qu = quantizeWeighted(x, 0.2 + 0.1 * i, q, randomWords(D + 1));
    quantized.set(u, qu.slice());
    const peers = [...survivors, dropped].filter((v) => v !== u).map((v) => ({ id: v, sPk: keys.get(v)!.publicRaw }));
    const y = await maskInput({ ctx, alg, self: u, quantized: qu, selfSeed: selfSeeds[i]!, maskKey: keys.get(u)!.privateKey, peers });
    masked.set(u, y);
    for (let j = 0; j <= D; j++) maskedSum[j] = maskedSum[j]! + y[j]!;
  }
  const edges: CrossEdge[] = [];
  for (const u of groups[0]!) {
    for (const v of groups[1]!) edges.push({ u, v, seed: await pairwiseMaskSeed(ctx, alg, keys.get(u)!.privateKey, u, v, keys.get(v)!.publicRaw) });
  }
  return { alg, keys, selfSeeds, quantized, masked, maskedSum, edges };
}

const droppedKeys = (r: Round) => [
  { id: dropped, maskKey: r.keys.get(dropped)!.privateKey, survivingPeers: survivors.map((v) => ({ id: v, sPk: r.keys.get(v)!.publicRaw })) },
];

async function unmaskGroups(r: Round, edges = r.edges): Promise<{ total: Uint32Array; plan: GroupPlan }> {
  const plan = planGroupUnmask({ groups, masked: r.masked, maxWeight: 1, edges }, survivors, D + 1);
  if ('unavailable' in plan) throw new Error(plan.unavailable);
  const total = r.maskedSum.slice();
  await removeMasksByGroup({ ctx, alg: r.alg, maskedSum: total, plan, survivors, selfSeeds: r.selfSeeds.map((b) => b.slice()), dropped: droppedKeys(r) });
  return { total, plan };
}

describe('group unmasking', () => {
  it('the total has exactly the words removeMasks gives, and each group exactly its members’ Σ q', async () => {
    // Prepare
    const r = await maskedRound();
    const plainTotal = r.maskedSum.slice();
    await removeMasks({ ctx, alg: r.alg, maskedSum: plainTotal, selfSeeds: r.selfSeeds.map((b) => b.slice()), dropped: droppedKeys(r) });

    // Execute
    const { total, plan } = await unmaskGroups(r);
    const decoded = decodeGroups(plan, total, q);

    // Assert
    expect(total).toEqual(plainTotal);
    groups.forEach((members, g) => {
      const exact = new Uint32Array(D + 1);
      for (const u of members) for (let j = 0; j <= D; j++) exact[j] = exact[j]! + r.quantized.get(u)![j]!;
      expect(plan.accs[g]).toEqual(exact);
    });
    expect('groups' in decoded && decoded.groups.map((g) => g.members)).toEqual(groups);
    if ('groups' in decoded) expect(decoded.groups[0]).toEqual({ members: groups[0], ...dequantizeSum(plan.accs[0]!, q) });
  });

  it('a wrong seed on one cross-group edge leaves the total exact and the groups out of range', async () => {
    // Prepare
    const r = await maskedRound();
    const edges = r.edges.map((e, i) => (i === 4 ? { ...e, seed: randomBytes(32) } : e));

    // Execute
    const { total, plan } = await unmaskGroups(r, edges);
    const decoded = decodeGroups(plan, total, q);

    // Assert
    const plainTotal = r.maskedSum.slice();
    await removeMasks({ ctx, alg: r.alg, maskedSum: plainTotal, selfSeeds: r.selfSeeds, dropped: droppedKeys(r) });
    expect(total).toEqual(plainTotal);
    expect(decoded).toEqual({ groupsUnavailable: expect.stringMatching(/^group 0 \(a, …\) is out of range at word \d+/) });
  });

  it('refuses group sums that do not add up to the total, and groups that do not partition the contributors', async () => {
    // Prepare
    const r = await maskedRound();
    const { total, plan } = await unmaskGroups(r);
    plan.accs[1]![3] = plan.accs[1]![3]! + 1;

    // Execute
    const decoded = decodeGroups(plan, total, q);
    const overlapping = planGroupUnmask({ groups: [['a', 'b', 'c'], ['c', 'd', 'e', 'f']], masked: r.masked, maxWeight: 1, edges: [] }, survivors, D + 1);
    const vectorMissing = planGroupUnmask({ groups, masked: new Map([...r.masked].slice(1)), maxWeight: 1, edges: [] }, survivors, D + 1);

    // Assert
    expect(decoded).toEqual({ groupsUnavailable: 'the group sums do not add up to the total' });
    expect(overlapping).toEqual({ unavailable: 'the scoring groups do not partition the contributors' });
    expect(vectorMissing).toEqual({ unavailable: 'the masked input of a was not kept' });
  });
});

describe('cross-group seeds: checking reveals and picking one seed per edge', () => {
  const groupOf = new Map(groups.flatMap((g, i) => g.map((id) => [id, i] as const)));
  const all = (id: string) => survivors.filter((v) => v !== id);
  const seed = (fill: number) => new Uint8Array(32).fill(fill);
  const crossPeers = (u: string) => all(u).filter((v) => groupOf.get(v) !== groupOf.get(u));
  /** Every survivor reveals the seed fill(11) for each of its cross-group peers. */
  const honest = () => new Map(survivors.map((u) => [u, checkCrossSeeds(crossPeers(u).map((peer) => ({ peer, seed: seed(11) })), crossPeers(u))]));

  it('keeps exactly the expected peers; a stray, repeated or missing peer is a fault', () => {
    // Execute
    const ok = checkCrossSeeds([{ peer: 'd', seed: seed(1) }], ['d']);
    const stray = checkCrossSeeds([{ peer: 'd', seed: seed(1) }, { peer: 'b', seed: seed(2) }], ['d']);
    const repeated = checkCrossSeeds([{ peer: 'd', seed: seed(1) }, { peer: 'd', seed: seed(1) }], ['d']);
    const missing = checkCrossSeeds(undefined, ['d', 'e']);

    // Assert
    expect(ok).toEqual({ seeds: new Map([['d', seed(1)]]) });
    expect(stray.fault).toMatch(/seed for b, which is not a surviving neighbour in another group/);
    expect(stray.seeds.has('b')).toBe(false); // never kept, never used
    expect(repeated.fault).toMatch(/repeated/);
    expect(missing.fault).toBe('revealed no seed for its cross-group neighbour d (and 1 more)');
  });

  it('one seed per edge from either end; unavailable when both ends differ, neither revealed, or a reveal is faulty', () => {
    // Prepare
    const reveals = honest();
    const withoutA = new Map([...reveals].filter(([u]) => u !== 'a'));
    const disputed = new Map(reveals);
    disputed.set('e', { seeds: new Map([...reveals.get('e')!.seeds].map(([p, s]) => [p, p === 'b' ? seed(12) : s])) });
    const nobody = new Map([...reveals].filter(([u]) => u !== 'a' && u !== 'd'));
    const faulty = new Map(reveals);
    faulty.set('c', { seeds: new Map(), fault: 'revealed no seed for its cross-group neighbour d' });

    // Execute
    const resolved = resolveCrossSeeds(survivors, all, groupOf, reveals);
    const oneEnd = resolveCrossSeeds(survivors, all, groupOf, withoutA);

    // Assert
    expect('edges' in resolved && resolved.edges.map((e) => `${e.u}${e.v}`)).toEqual(['ad', 'ae', 'af', 'bd', 'be', 'bf', 'cd', 'ce', 'cf']);
    expect('edges' in oneEnd && oneEnd.edges.length).toBe(9);
    expect(resolveCrossSeeds(survivors, all, groupOf, disputed)).toEqual({ unavailable: 'b and e revealed different seeds for their pair' });
    expect(resolveCrossSeeds(survivors, all, groupOf, nobody)).toEqual({ unavailable: 'no seed for the cross-group pair a–d: neither answered unmask' });
    expect(resolveCrossSeeds(survivors, all, groupOf, faulty)).toEqual({ unavailable: 'c revealed no seed for its cross-group neighbour d' });
  });
});
