/**
 * Attack (issue 13.6): a dealer publishes wrong share hashes in share-keys. Before the fix the
 * coordinator took them on trust, so at unmask every honest holder's (correct) share "differed
 * from the one dealt": each was dropped as invalid, the attacker stayed, and the round failed.
 *
 * Now holders check their shares against the forwarded hashes in masked-input and complain; the
 * coordinator judges the complaint from evidence and drops the liar. Shown over a real coordinator
 * and real WebSockets with real workers (one of them rewriting its own share-keys reply), and with
 * the real SecAgg+ client and server in one process for the cases a socket cannot stage.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, verifyMessage } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import type { SecAggReply, SecAggRequest } from '../../core/protocol/secagg.js';
import { defaultSecAggConfig } from '../../core/secagg/config.js';
import { createSecAggSimulation, runSecAggRound } from '../../core/secagg/in-process-round.js';
import { quantizationBound } from '../../core/secagg/quantize.js';
import { signDealtShares } from '../../core/secagg/share-exchange.js';
import { WorkerClient } from '../../core/worker/client.js';
import type { EngineEvent } from '../../coordinator/engine/events.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { expectWithinBound, makeIdentities, makeInputs } from '../core/secagg/fixtures.js';
import { scratchDir } from '../e2e/helpers.js';
import { tamperingSocket } from './tampering-socket.js';

const flipped = (bytes: Uint8Array): Uint8Array => bytes.map((b, i) => (i === 0 ? b ^ 0xff : b));

type ShareKeysReply = Extract<SecAggReply, { stage: 'share-keys' }>;

/** The attack: every published hash is wrong; `sign` re-signs them (a careful attacker) or the old signature stays. */
async function lieAboutHashes(reply: ShareKeysReply, dealer: string, sign?: (bytes: Uint8Array) => Promise<string>): Promise<ShareKeysReply> {
  const shares = reply.shares.map((x) => ({ ...x, bShareHash: flipped(x.bShareHash), sShareHash: flipped(x.sShareHash) }));
  const dealtSignature = sign ? await signDealtShares({ runId: reply.runId, round: reply.round }, dealer, shares, sign) : reply.dealtSignature;
  return { ...reply, shares, dealtSignature };
}

describe('a dealer that publishes wrong share hashes (real SecAgg+ client and server)', () => {
  const n = 8;
  const config = defaultSecAggConfig(n); // complete graph, k = 7, t = 5
  const { ids, identity, wallets } = makeIdentities(n);
  const inputs = makeInputs(ids, 64, 13);
  const dealer = ids[2]!;
  const signAsDealer = (bytes: Uint8Array) => wallets.get(dealer)!.signMessage(bytes);
  const onlyDealerDropped = (dropouts: ReadonlyMap<string, { stage: string; code?: string }>) => {
    expect([...dropouts.keys()]).toEqual([dealer]);
    expect(dropouts.get(dealer)).toMatchObject({ stage: 'masked-input', code: 'E_SECAGG_INVALID' });
  };

  it.each([
    ['re-signed', signAsDealer, /differ from the hashes it published/], // holders disclose the pair key; the coordinator opens the shares
    ['unsigned', undefined, /signature over the shares dealt to .* does not verify/],
  ])('hashes %s: the dealer is dropped, no honest holder is, and the round completes exactly', async (_kind, sign, reason) => {
    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: { reply: (stage, from, r) => (stage === 'share-keys' && from === dealer && r.stage === 'share-keys' ? lieAboutHashes(r, dealer, sign) : r) },
    });

    // Assert
    expect(outcome.status).toBe('done');
    onlyDealerDropped(simulation.server.dropouts());
    expect(simulation.server.dropouts().get(dealer)?.reason).toMatch(reason);
    expect([...simulation.server.badDealers()]).toEqual([dealer]);
    expect(simulation.events.every((e) => e.id === dealer)).toBe(true);
    for (const id of ids.filter((x) => x !== dealer)) expect(simulation.clients.get(id)!.stage).toBe('done');
    const survivors = simulation.server.survivors();
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => survivors.includes(i.id)), config);
  });

  it.each([
    ['after', true],
    ['before', false],
  ])('the dealer caught %s its own masked input is summed: exact over exactly the summed inputs', async (_when, dealerFirst) => {
    // Prepare: hold the dealer's masked-input request back, to deliver it first or last
    let held: SecAggRequest | undefined;
    const sim = await createSecAggSimulation({
      inputs,
      config,
      identity,
      hooks: {
        reply: (stage, from, r) => (stage === 'share-keys' && from === dealer && r.stage === 'share-keys' ? lieAboutHashes(r, dealer, signAsDealer) : r),
        request: (stage, to, req) => (stage === 'masked-input' && to === dealer ? ((held = req), undefined) : req),
      },
    });
    await sim.step(); // advertise-keys
    await sim.step(); // share-keys
    const dealerTurn = async () => sim.server.receive(dealer, await sim.clients.get(dealer)!.handle(held ?? sim.server.requestFor(dealer)));

    // Execute
    const early = dealerFirst ? await dealerTurn() : undefined;
    await sim.deliver(); // the honest holders' masked inputs and complaints (and, at first, the withheld request)
    const late = dealerFirst ? undefined : await dealerTurn();
    const outcome = await sim.run();

    // Assert
    expect(outcome.status).toBe('done');
    onlyDealerDropped(sim.server.dropouts());
    if (dealerFirst) expect(early).toEqual({ accepted: true });
    else expect(late).toMatchObject({ accepted: false, error: { code: 'E_SECAGG_STAGE' } });
    expect(sim.server.survivors().includes(dealer)).toBe(dealerFirst);
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => dealerFirst || i.id !== dealer), config);
  });

  it.each([
    ['without the pair key', undefined],
    ['with a key that does not open the shares', new Uint8Array(32).fill(7)],
  ])('a holder that falsely complains about an honest dealer (%s) is the one dropped', async (_how, pairKey) => {
    // Prepare
    const liar = ids[5]!;
    const honest = ids[1]!;

    // Execute
    const { outcome, simulation } = await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        reply: (stage, from, r) =>
          stage === 'masked-input' && from === liar && r.stage === 'masked-input' ? { ...r, complaints: [{ dealer: honest, ...(pairKey ? { pairKey } : {}) }] } : r,
      },
    });

    // Assert
    expect(outcome.status).toBe('done');
    expect([...simulation.server.dropouts().keys()]).toEqual([liar]);
    expect(simulation.server.dropouts().get(liar)).toMatchObject({ stage: 'masked-input', code: 'E_SECAGG_INVALID' });
    expect(simulation.server.badDealers().size).toBe(0);
    if (outcome.status === 'done') expectWithinBound(outcome.result, inputs.filter((i) => i.id !== liar), config);
  });

  it('a coordinator that forges hashes gets a complaint but never the pair key', async () => {
    // Prepare
    const victim = ids[6]!;
    const complaints: unknown[] = [];

    // Execute
    await runSecAggRound({
      inputs,
      config,
      identity,
      hooks: {
        request: (stage, to, req) =>
          stage === 'masked-input' && to === victim && req.stage === 'masked-input'
            ? { ...req, ciphertexts: req.ciphertexts.map((c, i) => (i === 0 ? { ...c, bShareHash: flipped(c.bShareHash) } : c)) }
            : req,
        reply: (stage, from, r) => {
          if (stage === 'masked-input' && from === victim && r.stage === 'masked-input') complaints.push(...(r.complaints ?? []));
          return r;
        },
      },
    });

    // Assert: the forged hash is not signed by its dealer, so the victim discloses nothing
    expect(complaints).toHaveLength(1);
    expect(complaints[0]).not.toHaveProperty('pairKey');
  });
});

describe('a dealer that publishes wrong share hashes (real coordinator, real WebSockets)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  function worker(url: string, examples: number, seed: number, lies: boolean) {
    const wallet = new Wallet(Wallet.createRandom().privateKey);
    const seen: { global?: Float32Array; delta?: Float32Array } = {};
    const rewrite = (m: Record<string, unknown>) =>
      lies && m.type === 'secagg-reply' && m.stage === 'share-keys'
        ? (lieAboutHashes(m as unknown as ShareKeysReply, wallet.address, (b) => wallet.signMessage(b)) as unknown as Promise<Record<string, unknown>>)
        : m;
    const session = new WorkerClient({
      url,
      kind: 'node',
      signer: { address: wallet.address, signMessage: (m) => wallet.signMessage(m) },
      verifySignature: (bytes, signature, address) => verifyMessage(bytes, signature) === address,
      socketFactory: (u) => tamperingSocket(u, rewrite),
      reconnect: false,
      hooks: {
        prepare: async () => ({ backend: { backend: 'scripted', reason: 'test' }, examples }),
        train: async (message) => {
          const delta = new Float32Array(message.weights.length).map((_, i) => Math.sin(seed * 5.3 + i * 0.41) * 0.01);
          seen.global = message.weights.slice();
          seen.delta = delta;
          return { delta, examples, steps: 1, loss: 0.5, accuracy: 0.5, trainMs: 1 };
        },
      },
    });
    return { wallet, session, seen, examples };
  }

  it('the round commits without the lying dealer, and the model is FedAvg over the contributors', async () => {
    // Prepare
    const dir = scratchDir();
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: 1,
        minClients: 3,
        clientsPerRound: 4,
        roundTimeoutMs: 60_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'adam',
        lr: 0.001,
        partition: { kind: 'iid', seed: 1 },
        seed: 1,
        evaluation: 'none',
        keepCheckpoints: 1,
        secureAggregation: { weightCap: 1000, stageTimeoutMs: 20_000 },
      }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const events: EngineEvent[] = [];
    coordinator.engine.on((e) => events.push(e));
    const workers = [200, 300, 400, 500].map((examples, i) => worker(coordinator.wsUrl, examples, i + 1, i === 0));
    const [liar, ...honest] = workers;

    // Execute
    for (const w of workers) w.session.start();
    const summary = await coordinator.done;
    for (const w of workers) await w.session.stop();

    // Assert: completed; the dealer is the one dropped, at masked-input, for its hashes
    expect(summary.status).toBe('completed');
    const completed = events.find((e) => e.type === 'round-completed');
    expect(completed?.type === 'round-completed' && completed.dropped).toEqual([
      { address: liar!.wallet.address, reason: expect.stringMatching(/^masked-input: .*differ from the hashes it published/) },
    ]);
    const contributors = coordinator.store.contributions(coordinator.engine.runId).map((c) => c.address);
    for (const w of honest) expect(contributors).toContain(w.wallet.address);

    // The new global is FedAvg over whoever's input is in the sum (weights examples / 1000)
    const summed = workers.filter((w) => contributors.includes(w.wallet.address));
    const weights = summed.map((w) => w.examples / 1000);
    const total = weights.reduce((a, b) => a + b, 0);
    const bound = quantizationBound({ clipRange: 1, bits: 16, contributors: summed.length, maxWeight: 1 });
    const global = honest[0]!.seen.global!;
    const next = coordinator.engine.weights;
    let worst = 0;
    for (let i = 0; i < global.length; i++) {
      const mean = summed.reduce((s, w, k) => s + weights[k]! * w.seen.delta![i]!, 0) / total;
      const tolerance = (bound.perCoordinate + Math.abs(mean) * bound.totalWeight) / (total - bound.totalWeight) + Math.abs(global[i]! + mean) * 2 ** -23;
      worst = Math.max(worst, Math.abs(next[i]! - (global[i]! + mean)) / tolerance);
    }
    expect(worst).toBeLessThanOrEqual(1);
  }, 120_000);
});
