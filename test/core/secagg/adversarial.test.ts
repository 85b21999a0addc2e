// Misbehaviour: tampered ciphertexts, bad shares, replays, duplicates, forged signatures and a lying
// coordinator. Each bad message is refused with a code; the round goes on without its sender, or —
// for the lying coordinator — no worker reveals anything.
import { describe, expect, it } from 'vitest';
import type { CohortError } from '../../../core/protocol/errors.js';
import { SECAGG_REQUEST_TYPE, type SecAggReply, type SecAggRequest } from '../../../core/protocol/secagg.js';
import { SecAggClient } from '../../../core/secagg/client.js';
import { defaultSecAggConfig } from '../../../core/secagg/config.js';
import { survivorSetBytes } from '../../../core/secagg/transcript.js';
import { createSecAggSimulation, runSecAggRound } from '../../../core/secagg/in-process-round.js';
import { expectWithinBound, makeIdentities, makeInputs } from './fixtures.js';

const n = 8;
const D = 64;
const config = defaultSecAggConfig(n); // complete graph, k = 7, t = 5
const { ids, identity, wallets } = makeIdentities(n);
const inputs = makeInputs(ids, D, 5);
const [victim, other] = [ids[3]!, ids[5]!];
const without = (...gone: string[]) => inputs.filter((i) => !gone.includes(i.id));

function flipped(bytes: Uint8Array, at = 20): Uint8Array {
  const copy = bytes.slice();
  const i = at % copy.length;
  copy[i] = copy[i]! ^ 0x01;
  return copy;
}

async function rejects(p: Promise<unknown>): Promise<CohortError> {
  try {
    await p;
  } catch (e) {
    return e as CohortError;
  }
  throw new Error('expected a rejection');
}

describe('SecAgg+ under tampering', () => {
  it('a tampered share ciphertext is refused by its recipient, which drops out; the round completes without it', async () => {
    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        request: (stage, to, req) =>
          stage === 'masked-input' && to === victim && req.stage === 'masked-input'
            ? { ...req, ciphertexts: req.ciphertexts.map((c, i) => (i === 0 ? { ...c, ciphertext: flipped(c.ciphertext) } : c)) }
            : req,
      },
    });

    // Assert
    expect(simulation.events).toEqual([expect.objectContaining({ stage: 'masked-input', id: victim, side: 'worker', code: 'E_SECAGG_INVALID' })]);
    expect(simulation.clients.get(victim)!.stage).toBe('aborted');
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, without(victim), config);
  });

  it('a revealed share that differs from the dealt one is refused and its sender dropped; the sum is still exact', async () => {
    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        reply: (stage, from, r) =>
          stage === 'unmask' && from === victim && r.stage === 'unmask'
            ? { ...r, bShares: r.bShares.map((s, i) => (i === 1 ? { ...s, share: flipped(s.share, 3) } : s)) }
            : r,
      },
    });

    // Assert
    expect(simulation.events).toEqual([expect.objectContaining({ stage: 'unmask', id: victim, side: 'server', code: 'E_SECAGG_INVALID' })]);
    expect(simulation.server.dropouts().get(victim)).toMatchObject({ stage: 'unmask', code: 'E_SECAGG_INVALID' });
    expect(outcome.status).toBe('done');
    // Its masked input was already summed, so it still counts as a contributor.
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs, config);
  });

  it('an advertisement signed by someone else is refused; the round goes on without that worker', async () => {
    // Prepare
    const impostor = wallets.get(other)!;

    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        reply: (stage, from, r) => (stage === 'advertise-keys' && from === victim ? { ...r, signature: impostor.signMessageSync('x') } : r),
      },
    });

    // Assert
    expect(simulation.events).toEqual([expect.objectContaining({ stage: 'advertise-keys', id: victim, side: 'server', code: 'E_SECAGG_INVALID' })]);
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, without(victim), config);
  });

  it('a worker refuses a forwarded advertisement whose signature does not verify', async () => {
    // Execute
    const { simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        request: (stage, to, req) =>
          to === victim && req.stage === 'share-keys' ? { ...req, peers: req.peers.map((p, i) => (i === 0 ? { ...p, sPk: flipped(p.sPk, 5) } : p)) } : req,
      },
    });

    // Assert
    expect(simulation.events[0]).toMatchObject({ stage: 'share-keys', id: victim, side: 'worker', code: 'E_SECAGG_INVALID' });
  });
});

describe('SecAgg+ replays, reordering and duplicates', () => {
  it('a replayed earlier-stage reply is refused with E_SECAGG_STAGE and its sender dropped', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity });
    await sim.step(); // advertise-keys
    const old = sim.lastReplies.get(victim)!;

    // Execute
    const refused = await sim.server.receive(victim, old);
    const outcome = await sim.run();

    // Assert
    expect(refused).toMatchObject({ accepted: false, dropped: true, error: { code: 'E_SECAGG_STAGE' } });
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, without(victim), config);
  });

  it('a reply from another round is refused with E_SECAGG_STAGE', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity, hooks: { reply: (_s, from, r) => (from === victim ? { ...r, round: 0 } : r) } });

    // Execute
    const outcome = await sim.run();

    // Assert
    expect(sim.events).toEqual([expect.objectContaining({ id: victim, side: 'server', code: 'E_SECAGG_STAGE' })]);
    expect(outcome.status).toBe('done');
  });

  it('a duplicate reply is refused; a duplicate masked input leaves the first one counted', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity });
    await sim.step(); // advertise-keys
    await sim.step(); // share-keys
    await sim.deliver(); // masked-input, not closed yet

    // Execute
    const again = await sim.server.receive(victim, sim.lastReplies.get(victim)!);
    const outcome = await sim.run();

    // Assert
    expect(again).toMatchObject({ accepted: false, dropped: true, error: { code: 'E_SECAGG_STAGE' } });
    expect(sim.server.dropouts().get(victim)?.stage).toBe('masked-input');
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs, config);
  });

  it('a second session for the same worker (fresh keys) cannot advertise twice', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity });
    const request = sim.server.requestFor(victim);
    await sim.deliver();
    const second = new SecAggClient({ id: victim, runId: 'sim', round: 1, sign: identity.sign(victim), verify: identity.verify });

    // Execute
    const refused = await sim.server.receive(victim, await second.handle(request));
    const outcome = await sim.run();

    // Assert
    expect(refused).toMatchObject({ accepted: false, error: { code: 'E_SECAGG_STAGE' } });
    expect(outcome.status).toBe('done');
    if (outcome.status === 'done') expectWithinBound(outcome.result, without(victim), config);
  });

  it('a replies from a non-participant is refused without touching the round', async () => {
    const sim = await createSecAggSimulation({ inputs, config, identity });
    await sim.deliver();
    const r = await sim.server.receive('0x0000000000000000000000000000000000000001', sim.lastReplies.get(victim)!);
    expect(r).toMatchObject({ accepted: false, dropped: false, error: { code: 'E_SECAGG_INVALID' } });
    expect(sim.server.dropouts().size).toBe(0);
  });

  it('a worker rejects out-of-order, replayed and other-round requests and keeps its state', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity });
    const client = sim.clients.get(victim)!;
    const advertise = sim.server.requestFor(victim);
    await sim.step(); // advertise-keys handled
    const shareKeys = sim.server.requestFor(victim);
    const early: SecAggRequest = { type: SECAGG_REQUEST_TYPE, runId: 'sim', round: 1, stage: 'unmask', signatures: [], dropped: [] };

    // Execute
    const errors = [
      await rejects(client.handle(advertise)), // replay
      await rejects(client.handle(early)), // out of order
      await rejects(client.handle({ ...shareKeys, round: 2 })), // another round
      await rejects(client.handle({ ...shareKeys, runId: 'other' })), // another run
    ];

    // Assert
    expect(errors.map((e) => e.code)).toEqual(['E_SECAGG_STAGE', 'E_SECAGG_STAGE', 'E_SECAGG_STAGE', 'E_SECAGG_STAGE']);
    expect(client.stage).toBe('share-keys');
    const outcome = await sim.run();
    expect(outcome.status).toBe('done');
  });
});

describe('SecAgg+ against a lying coordinator', () => {
  it('workers told different survivor sets see too few matching signatures and reveal nothing', async () => {
    // Prepare: an honest run up to the consistency check, then the coordinator lies.
    const sim = await createSecAggSimulation({ inputs, config, identity });
    for (let i = 0; i < 3; i++) await sim.step();
    expect(sim.server.stage).toBe('consistency-check');
    const everyone = [...ids].sort();
    const groupA = ids.slice(0, 4); // told everyone survived
    const groupB = ids.slice(4); // told ids[0] dropped, so they would reveal its key share
    const setFor = (id: string) => (groupA.includes(id) ? everyone : everyone.filter((x) => x !== ids[0]));
    const signatures: { id: string; signature: string }[] = [];
    for (const id of ids) {
      const reply = (await sim.clients.get(id)!.handle({ type: SECAGG_REQUEST_TYPE, runId: 'sim', round: 1, stage: 'consistency-check', survivors: setFor(id) })) as SecAggReply;
      if (reply.stage === 'consistency-check') signatures.push({ id, signature: reply.signature });
    }

    // Execute: show every worker all the signatures it could want.
    const results = await Promise.allSettled(
      ids.map((id) =>
        sim.clients.get(id)!.handle({
          type: SECAGG_REQUEST_TYPE,
          runId: 'sim',
          round: 1,
          stage: 'unmask',
          signatures: signatures.filter((s) => s.id !== id),
          dropped: groupB.includes(id) ? [ids[0]!] : [],
        }),
      ),
    );

    // Assert: 4 + 4 signers < t = 5 on each side: nobody reveals a single share.
    for (const r of results) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect((r.reason as CohortError).code).toBe('E_SECAGG_THRESHOLD');
    }
    for (const id of ids) expect(sim.clients.get(id)!.stage).toBe('aborted');
  });

  it('a worker refuses to reveal the key share of a worker the agreed set calls a survivor', async () => {
    // Prepare: honest consistency check.
    const sim = await createSecAggSimulation({ inputs, config, identity });
    for (let i = 0; i < 4; i++) await sim.step();
    expect(sim.server.stage).toBe('unmask');
    const honest = sim.server.requestFor(victim);
    if (honest.stage !== 'unmask') throw new Error('unreachable');

    // Execute
    const error = await rejects(sim.clients.get(victim)!.handle({ ...honest, dropped: [other] }));

    // Assert
    expect(error.code).toBe('E_SECAGG_INVALID');
    expect(sim.clients.get(victim)!.stage).toBe('aborted');
  });

  it('the coordinator refuses a consistency signature over a different set', async () => {
    // Prepare
    const sim = await createSecAggSimulation({ inputs, config, identity });
    for (let i = 0; i < 3; i++) await sim.step();
    const wrong = await survivorSetBytes({ runId: 'sim', round: 1 }, ids.slice(1));
    const reply: SecAggReply = { type: 'secagg-reply', runId: 'sim', round: 1, stage: 'consistency-check', signature: await wallets.get(victim)!.signMessage(wrong) };

    // Execute
    const r = await sim.server.receive(victim, reply);

    // Assert
    expect(r).toMatchObject({ accepted: false, dropped: true, error: { code: 'E_SECAGG_INVALID' } });
  });
});
