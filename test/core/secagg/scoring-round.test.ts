// Whole SecAgg+ rounds with groupScoring: one instance whose unmasking yields each scoring group's
// Σ w·x and Σ w besides the unchanged total; dropouts, a sparse graph, and wrong revealed seeds
// (the groups become unavailable with a reason; the total stays exact).
import { describe, expect, it } from 'vitest';
import type { SecAggReply } from '../../../core/protocol/secagg.js';
import { defaultSecAggConfig, type SecAggConfig } from '../../../core/secagg/config.js';
import { createSecAggSimulation, runSecAggRound, type SimulatedInput } from '../../../core/secagg/in-process-round.js';
import type { SecAggResult } from '../../../core/secagg/unmask.js';
import { expectWithinBound, makeIdentities, makeInputs } from './fixtures.js';

const D = 100;

/** Every group within the quantization bound of its members' exact Σ w·x; groups partition the contributors. */
function expectGroupSums(result: SecAggResult, contributors: readonly SimulatedInput[], config: SecAggConfig): void {
  const groups = result.groups!;
  expect(groups.flatMap((g) => g.members).sort()).toEqual(contributors.map((i) => i.id).sort());
  for (const g of groups) {
    expect(g.members.length).toBeGreaterThanOrEqual(config.groupScoring!.minGroupSize);
    expectWithinBound({ ...g, contributors: g.members.length }, contributors.filter((i) => g.members.includes(i.id)), config);
  }
  const weights = groups.reduce((sum, g) => sum + g.totalWeight, 0);
  expect(Math.abs(weights - result.totalWeight)).toBeLessThan(1e-9);
}

/** Flip one bit of the seed `from` revealed for `peer` (or its first one). */
function withWrongSeed(reply: SecAggReply, peer?: string): SecAggReply {
  if (reply.stage !== 'unmask' || !reply.crossSeeds?.length) return reply;
  const at = peer === undefined ? 0 : reply.crossSeeds.findIndex((x) => x.peer === peer);
  return { ...reply, crossSeeds: reply.crossSeeds.map((x, i) => (i === at ? { ...x, seed: x.seed.map((b, j) => (j === 0 ? b ^ 1 : b)) } : x)) };
}

describe('SecAgg+ round with groupScoring', () => {
  const n = 20;
  const { ids, identity } = makeIdentities(n);
  const inputs = makeInputs(ids, D, 31);
  const config = defaultSecAggConfig(n, { groupScoring: { minGroupSize: 5 } }); // complete graph, k = 19

  it('n = 20, minGroupSize 5: four groups of five, each sum exact, weights adding up, total unchanged', async () => {
    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity });

    // Assert
    expect(simulation.events).toEqual([]);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    const { result } = outcome;
    expectWithinBound(result, inputs, config);
    expect(result.groupsUnavailable).toBeUndefined();
    expect(result.groups!.map((g) => g.members.length)).toEqual([5, 5, 5, 5]);
    expect(result.groups!.map((g) => g.members)).toEqual(simulation.server.scoringGroups());
    expectGroupSums(result, inputs, config);
    for (const reply of simulation.lastReplies.values()) if (reply.stage === 'unmask') expect(reply.crossSeeds).toHaveLength(15);
  });

  it('without groupScoring the result has neither groups nor groupsUnavailable, and no seed is revealed', async () => {
    // Prepare
    const plain = defaultSecAggConfig(n);

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config: plain, identity });

    // Assert
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expectWithinBound(outcome.result, inputs, plain);
    expect(Object.keys(outcome.result).sort()).toEqual(['contributors', 'sum', 'totalWeight']);
    expect(simulation.server.scoringGroups()).toBeUndefined();
    for (const reply of simulation.lastReplies.values()) expect(reply).not.toHaveProperty('crossSeeds');
  });

  it('two workers dropped after sharing keys and one at unmask: three groups of six over the 18 contributors, exact', async () => {
    // Prepare
    const [gone, silentAtUnmask] = [ids.slice(3, 5), ids[11]!];
    const contributors = inputs.filter((i) => !gone.includes(i.id));

    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      dropouts: { afterShareKeys: gone },
      hooks: { request: (stage, to, req) => (stage === 'unmask' && to === silentAtUnmask ? undefined : req) },
    });

    // Assert
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expect(simulation.server.dropouts().get(silentAtUnmask)).toMatchObject({ stage: 'unmask' });
    expectWithinBound(outcome.result, contributors, config);
    expect(outcome.result.groups!.map((g) => g.members.length)).toEqual([6, 6, 6]);
    expectGroupSums(outcome.result, contributors, config);
  });

  it('a coordinator that shows some workers another minGroupSize gets no seed between workers that disagree', async () => {
    // Prepare: 15 workers are told minGroupSize 5, five are told 3. Without the grouping parameters
    // in what survivors sign, the two camps would compute different groups and reveal seeds that
    // the other camp's groups need to stay masked: enough such seeds unmask one worker's update.
    const other: SecAggConfig = { ...config, groupScoring: { minGroupSize: 3 } };
    const told = new Map(ids.map((id, i) => [id, i < 15 ? 5 : 3]));

    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: { request: (stage, to, req) => (stage === 'advertise-keys' && told.get(to) === 3 && req.stage === 'advertise-keys' ? { ...req, config: other } : req) },
    });

    // Assert: the five signed other bytes, so nobody revealed a seed for them and they revealed none;
    // the round's total is still exact over all 20 masked inputs, and its groups are unavailable
    const seeds = [...simulation.lastReplies].flatMap(([from, reply]) => (reply.stage === 'unmask' ? (reply.crossSeeds ?? []).map((x) => [from, x.peer] as const) : []));
    expect(seeds.length).toBeGreaterThan(0);
    for (const [from, peer] of seeds) expect([told.get(from), told.get(peer)]).toEqual([5, 5]);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expectWithinBound(outcome.result, inputs, config);
    expect(outcome.result.groups).toBeUndefined();
    expect(outcome.result.groupsUnavailable).toBeDefined();
  });

  it('a worker revealing a wrong cross-group seed makes the groups unavailable, with a reason; the total is still exact', async () => {
    // Prepare
    const liar = ids[7]!;

    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: { reply: (stage, from, reply) => (stage === 'unmask' && from === liar ? withWrongSeed(reply) : reply) },
    });

    // Assert
    expect(simulation.events).toEqual([]); // the reply still counts for the total
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expectWithinBound(outcome.result, inputs, config);
    expect(outcome.result.groups).toBeUndefined();
    expect(outcome.result.groupsUnavailable).toMatch(/revealed different seeds for their pair/);
    expect(outcome.result.groupsUnavailable).toContain(liar);
  });

  it('a wrong seed from the only live end of a cross-group pair is caught by the range check; the total is still exact', async () => {
    // Prepare: the first contributor stays silent at unmask, and one worker of another group lies about their pair
    const silent = ids[0]!;
    let liar: string | undefined;
    const simulation = await createSecAggSimulation({
      inputs,
      config,
      identity,
      hooks: {
        request: (stage, to, req) => {
          if (stage !== 'unmask') return req;
          liar ??= simulation.server.scoringGroups()!.find((g) => !g.includes(silent))![0];
          return to === silent ? undefined : req;
        },
        reply: (stage, from, reply) => (stage === 'unmask' && from === liar ? withWrongSeed(reply, silent) : reply),
      },
    });

    // Execute
    const outcome = await simulation.run();

    // Assert
    expect(liar).toBeDefined();
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expectWithinBound(outcome.result, inputs, config);
    expect(outcome.result.groups).toBeUndefined();
    expect(outcome.result.groupsUnavailable).toMatch(/out of range at word \d+: a revealed seed is wrong/);
  });

  it('too few contributors for two groups: no groups, a reason, nothing revealed for scoring', async () => {
    // Prepare
    const small = makeIdentities(8);
    const smallInputs = makeInputs(small.ids, D, 2);
    const cfg = defaultSecAggConfig(8, { groupScoring: { minGroupSize: 5 } });

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs: smallInputs, config: cfg, identity: small.identity });

    // Assert
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expectWithinBound(outcome.result, smallInputs, cfg);
    expect(outcome.result.groups).toBeUndefined();
    expect(outcome.result.groupsUnavailable).toMatch(/form no two connected scoring groups of at least 5/);
    for (const reply of simulation.lastReplies.values()) if (reply.stage === 'unmask') expect(reply.crossSeeds).toEqual([]);
  });
});

describe('SecAgg+ round with groupScoring on a sparse graph', () => {
  it('n = 40, neighbours 8: connected groups of at least five, each sum exact', async () => {
    // Prepare
    const { ids, identity } = makeIdentities(40);
    const inputs = makeInputs(ids, D, 41);
    const config = defaultSecAggConfig(40, { neighbours: 8, groupScoring: { minGroupSize: 5 } });

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, graphSeed: new Uint8Array(32).fill(5) });

    // Assert
    expect(simulation.events).toEqual([]);
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    const graph = simulation.server.graph;
    expect(graph.degree).toBe(8);
    expectWithinBound(outcome.result, inputs, config);
    const groups = outcome.result.groups!;
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const g of groups) {
      const seen = new Set([g.members[0]!]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const v of g.members) if (!seen.has(v) && [...seen].some((u) => graph.areNeighbours(u, v))) grew = seen.add(v).size > 0;
      }
      expect(seen.size).toBe(g.members.length);
    }
    expectGroupSums(outcome.result, inputs, config);
  });
});
