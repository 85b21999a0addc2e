// A round kind may hand the server its own list of stage units, but only in the order every
// worker enforces; anything else is refused before the round starts.
import { describe, expect, it } from 'vitest';
import { defaultSecAggConfig } from '../../../../core/secagg/config.js';
import { SecAggServer } from '../../../../core/secagg/server.js';
import { secAggPlusStages } from '../../../../core/secagg/stages/sequence.js';
import { runSecAggRound } from '../../../../core/secagg/in-process-round.js';
import { expectWithinBound, makeIdentities, makeInputs } from '../fixtures.js';

const { ids, identity } = makeIdentities(5);
const config = defaultSecAggConfig(5);
const base = { runId: 'r', round: 1, participants: ids, config, dimension: 4, verify: identity.verify };

describe('stage sequences', () => {
  it('refuses stages out of protocol order, or missing one, with E_SECAGG_CONFIG', async () => {
    // Prepare
    const [advertise, share, masked, check, unmask] = secAggPlusStages();

    // Execute
    const swapped = SecAggServer.create({ ...base, stages: [advertise!, masked!, share!, check!, unmask!] });
    const missing = SecAggServer.create({ ...base, stages: [advertise!, share!, masked!, unmask!] });

    // Assert
    await expect(swapped).rejects.toMatchObject({ code: 'E_SECAGG_CONFIG' });
    await expect(missing).rejects.toMatchObject({ code: 'E_SECAGG_CONFIG' });
  });

  it('runs a round over a composed sequence: a wrapped masked-input stage sees exactly the summed inputs', async () => {
    // Prepare: wrap one unit the way a new round kind would, keeping the others as they are
    const inputs = makeInputs(ids, 50, 4);
    const [advertise, share, masked, check, unmask] = secAggPlusStages();
    if (masked?.name !== 'masked-input') throw new Error('unreachable');
    const seen: string[] = [];
    const observed: typeof masked = {
      ...masked,
      async accept(state, from, reply) {
        await masked.accept(state, from, reply);
        seen.push(from);
      },
    };

    // Execute
    const { outcome, simulation } = await runSecAggRound({ inputs, config, identity, stages: [advertise!, share!, observed, check!, unmask!], dropouts: { afterShareKeys: [ids[1]!] } });

    // Assert
    expect(outcome.status).toBe('done');
    expect(seen.sort()).toEqual([...simulation.server.survivors()]);
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => i.id !== ids[1]), config);
  });
});
