// Whole SecAgg+ rounds in memory: exact weighted sums, dropouts at every stage, clean failure below
// the threshold, and the P-256 fallback.
import { describe, expect, it } from 'vitest';
import { defaultSecAggConfig } from '../../../core/secagg/config.js';
import { runSecAggRound } from '../../../core/secagg/in-process-round.js';
import { expectWithinBound, makeIdentities, makeInputs } from './fixtures.js';

const D = 1000;

describe('SecAgg+ round: exact weighted sums', () => {
  it.each([3, 10, 50])('n = %i workers, no dropouts', async (n) => {
    // Prepare
    const { ids, identity } = makeIdentities(n);
    const inputs = makeInputs(ids, D, n);
    const config = defaultSecAggConfig(n);

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity });

    // Assert
    expect(simulation.events).toEqual([]);
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs, config);
    if (n === 50) expect(simulation.server.graph.degree).toBeLessThan(n - 1); // sparse graph, not complete
  });
});

describe('SecAgg+ round: dropouts', () => {
  const n = 10;
  const config = defaultSecAggConfig(n); // complete graph: k = 9, t = 6
  const { ids, identity } = makeIdentities(n);
  const inputs = makeInputs(ids, D, 7);
  const tolerated = n - config.threshold;

  it.each([
    ['beforeShareKeys', false],
    ['afterShareKeys', false],
    ['afterMaskedInput', true],
  ] as const)('n − t = %s dropouts %s: exact over the survivors', async (when, stillContribute) => {
    // Prepare
    const gone = ids.slice(2, 2 + tolerated);

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, dropouts: { [when]: gone } });

    // Assert
    expect(outcome.status).toBe('done');
    const contributors = stillContribute ? inputs : inputs.filter((i) => !gone.includes(i.id));
    if (outcome.status === 'done') expectWithinBound(outcome.result, contributors, config);
    expect([...simulation.server.dropouts().keys()].sort()).toEqual([...gone].sort());
    expect(simulation.server.survivors()).toEqual(contributors.map((i) => i.id));
  });

  it('mixed dropouts at every stage on a sparse graph (n = 40)', async () => {
    // Prepare
    const big = makeIdentities(40);
    const bigInputs = makeInputs(big.ids, 200, 3);
    const cfg = defaultSecAggConfig(40);
    const [a, b, c, d] = [big.ids.slice(0, 1), big.ids.slice(5, 7), big.ids.slice(11, 13), big.ids.slice(20, 22)];

    // Execute
    const { outcome } = await runSecAggRound({
      inputs: bigInputs,
      config: cfg,
      identity: big.identity,
      graphSeed: new Uint8Array(32).fill(9),
      dropouts: { beforeAdvertise: a, beforeShareKeys: b, afterShareKeys: c, afterMaskedInput: d },
    });

    // Assert
    expect(outcome.status).toBe('done');
    const lost = new Set([...a, ...b, ...c]);
    if (outcome.status === 'done') expectWithinBound(outcome.result, bigInputs.filter((i) => !lost.has(i.id)), cfg);
  });

  it.each(['beforeShareKeys', 'afterShareKeys', 'afterMaskedInput'] as const)(
    'n − t + 1 dropouts %s: fails cleanly with E_SECAGG_THRESHOLD',
    async (when) => {
      // Execute
      const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, dropouts: { [when]: ids.slice(0, tolerated + 1) } });

      // Assert
      expect(outcome.status).toBe('failed');
      if (outcome.status === 'failed') expect(outcome.error.code).toBe('E_SECAGG_THRESHOLD');
      expect(simulation.server.stage).toBe('failed');
    },
  );
});

describe('SecAgg+ round: key agreement', () => {
  it('works with the P-256 ECDH fallback when forced', async () => {
    // Prepare
    const { ids, identity } = makeIdentities(5);
    const inputs = makeInputs(ids, 300, 11);
    const config = defaultSecAggConfig(5);

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, keyAgreement: 'P-256', dropouts: { afterShareKeys: [ids[1]!] } });

    // Assert
    expect(simulation.events).toEqual([]);
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => i.id !== ids[1]), config);
  });
});
