// The worker's contribution-scoring reveal: s_uv only for surviving neighbours in another scoring
// group, never for one in its own, and a refusal (E_SECAGG_CONFIG) when its own group is too small,
// holds none of its neighbours, or does not hold it at all.
import { describe, expect, it } from 'vitest';
import { detectKeyAgreement, generateAgreementKeyPair, type AgreementKeyPair } from '../../../core/secagg/crypto.js';
import { crossGroupSeeds, type CrossGroupSeedsParams } from '../../../core/secagg/group-reveal.js';
import { pairwiseMaskSeed } from '../../../core/secagg/masking.js';

const ctx = { runId: 'run', round: 4 };
const names = ['a', 'b', 'c', 'd', 'e', 'self'] as const;

async function setup(): Promise<{ keys: Map<string, AgreementKeyPair>; base: Omit<CrossGroupSeedsParams, 'groups' | 'peers'> }> {
  const alg = await detectKeyAgreement();
  const keys = new Map<string, AgreementKeyPair>();
  for (const id of names) keys.set(id, await generateAgreementKeyPair(alg, false));
  return { keys, base: { ctx, alg, self: 'self', maskKey: keys.get('self')!.privateKey, minGroupSize: 3 } };
}

const peersOf = (keys: Map<string, AgreementKeyPair>, ids: readonly string[]) => ids.map((id) => ({ id, sPk: keys.get(id)!.publicRaw }));

describe('crossGroupSeeds', () => {
  it('reveals s_uv for the peers outside its group only, the seed each peer derives from its own side', async () => {
    // Prepare
    const { keys, base } = await setup();
    const groups = [['a', 'b', 'self'], ['c', 'd', 'e']];

    // Execute
    const seeds = await crossGroupSeeds({ ...base, groups, peers: peersOf(keys, ['a', 'c', 'd']) });

    // Assert
    expect(seeds.map((x) => x.peer)).toEqual(['c', 'd']);
    for (const { peer, seed } of seeds) {
      const theirs = await pairwiseMaskSeed(ctx, base.alg, keys.get(peer)!.privateKey, peer, 'self', keys.get('self')!.publicRaw);
      expect(seed).toEqual(theirs);
    }
  });

  it('reveals nothing when there is a single group (no scoring), however small', async () => {
    // Prepare
    const { keys, base } = await setup();

    // Execute
    const seeds = await crossGroupSeeds({ ...base, minGroupSize: 5, groups: [['a', 'c', 'self']], peers: peersOf(keys, ['a', 'c']) });

    // Assert
    expect(seeds).toEqual([]);
  });

  it.each([
    ['its group has fewer than minGroupSize members', [['a', 'self'], ['b', 'c', 'd', 'e']], ['a', 'c'], /fewer than minGroupSize 3/],
    ['none of its neighbours is in its group', [['b', 'e', 'self'], ['a', 'c', 'd']], ['a', 'c'], /no neighbour of self is in its scoring group/],
    ['it is in no group', [['a', 'b', 'c'], ['d', 'e', 'a']], ['a', 'd'], /in none of the scoring groups/],
  ])('refuses with E_SECAGG_CONFIG when %s', async (_why, groups, peers, message) => {
    // Prepare
    const { keys, base } = await setup();

    // Execute
    const revealed = crossGroupSeeds({ ...base, groups, peers: peersOf(keys, peers) });

    // Assert
    await expect(revealed).rejects.toMatchObject({ code: 'E_SECAGG_CONFIG', message: expect.stringMatching(message) });
  });
});
