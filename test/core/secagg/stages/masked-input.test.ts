// The masked-input stage unit: over-selection (close once K masked inputs are in). Late workers
// become ordinary dropouts whose masks unmask removes, so the sum stays exact over the first K.
import { describe, expect, it } from 'vitest';
import { defaultSecAggConfig } from '../../../../core/secagg/config.js';
import { createSecAggSimulation, runSecAggRound } from '../../../../core/secagg/in-process-round.js';
import { SecAggServer } from '../../../../core/secagg/server.js';
import { expectWithinBound, makeIdentities, makeInputs } from '../fixtures.js';

const n = 10;
const K = 7;
const config = defaultSecAggConfig(n); // complete graph: k = 9, t = 6
const { ids, identity } = makeIdentities(n);
const inputs = makeInputs(ids, 300, 21);

describe('masked-input stage: close after K inputs (over-selection)', () => {
  it('keeps the first K masked inputs, refuses the rest, and the sum is exact over those K', async () => {
    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, maskedInput: { closeAfter: K } });

    // Assert
    expect(outcome.status).toBe('done');
    const survivors = simulation.server.survivors();
    expect(survivors).toHaveLength(K);
    const late = ids.filter((id) => !survivors.includes(id));
    expect(simulation.events.map((e) => [e.id, e.side, e.code])).toEqual(expect.arrayContaining(late.map((id) => [id, 'server', 'E_SECAGG_STAGE'])));
    for (const id of late) expect(simulation.server.dropouts().get(id)).toMatchObject({ stage: 'masked-input', code: 'E_SECAGG_STAGE' });
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => survivors.includes(i.id)), config);
  });

  it('needs nobody else once K are in: workers still owing a reply are dropped at close as late', async () => {
    // Prepare: three workers share keys and then go silent
    const silent = ids.slice(0, 3);
    const sim = await createSecAggSimulation({ inputs, config, identity, maskedInput: { closeAfter: K }, dropouts: { afterShareKeys: silent } });
    await sim.step(); // advertise-keys
    await sim.step(); // share-keys

    // Execute
    await sim.deliver(); // masked-input: the other seven answer
    const pendingOnceFull = sim.server.pending();
    const outcome = await sim.run();

    // Assert
    expect(pendingOnceFull).toEqual([]);
    expect(outcome.status).toBe('done');
    for (const id of silent) expect(sim.server.dropouts().get(id)).toEqual({ stage: 'masked-input', reason: `not among the first ${K} masked inputs` });
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => !silent.includes(i.id)), config);
  });

  it.each([config.threshold - 1, n + 1, 6.5])('refuses closeAfter %s with E_SECAGG_CONFIG', async (closeAfter) => {
    // Execute
    const created = SecAggServer.create({ runId: 'r', round: 1, participants: ids, config, dimension: 3, verify: identity.verify, maskedInput: { closeAfter } });

    // Assert
    await expect(created).rejects.toMatchObject({ code: 'E_SECAGG_CONFIG' });
  });
});
