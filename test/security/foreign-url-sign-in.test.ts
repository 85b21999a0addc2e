/**
 * Attack: a sign-in signed for another coordinator's URL. The coordinator rebuilds the signed text
 * from its own public URLs, never from the URL a hello claims, so a hello signed for
 * `wss://evil.example/ws` is refused however it is labelled. Operators behind a proxy or a DNS
 * name list their URLs with `cohort serve --public-url`; the default is what the server listens on.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { challengeText } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type CoordinatorMessage } from '../../core/protocol/messages.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { freePort, scratchDir, spawnCohort, type CohortProcess } from '../e2e/helpers.js';
import { WireClient } from '../e2e/wire-client.js';

const EVIL = 'wss://evil.example/ws';

/** Sign in to the coordinator at `dial`, signing `signedUrl` and claiming `claimedUrl` in the hello. */
async function signInSignedFor(dial: string, signedUrl: string, claimedUrl = signedUrl): Promise<{ client: WireClient; reply: CoordinatorMessage; close: { code: number } }> {
  const client = new WireClient(dial);
  const challenge = await client.next('challenge');
  client.send({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    address: client.wallet.address,
    signature: await client.wallet.signMessage(challengeText({ ...challenge, coordinatorUrl: signedUrl })),
    coordinatorId: challenge.coordinatorId,
    coordinatorUrl: claimedUrl,
    nonce: challenge.nonce,
    kind: 'node',
  });
  const outcomes = [client.next('welcome', 20_000), client.next('error', 20_000)];
  for (const outcome of outcomes) outcome.catch(() => undefined); // the one that never comes times out quietly
  const reply: CoordinatorMessage = await Promise.any(outcomes);
  if (reply.type === 'welcome') {
    client.close();
  }
  return { client, reply, close: await client.closed };
}

describe('a hello signed for a foreign URL', () => {
  const cleanups: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function coordinator(publicUrls?: string[]): Promise<Coordinator> {
    const dir = scratchDir('cohort-foreign-');
    const started = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      publicUrls,
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' }, rounds: 1, minClients: 2, roundTimeoutMs: 60_000, maxRoundRetries: 0, localEpochs: 1,
        batchSize: 32, optimizer: 'adam', lr: 0.001, partition: { kind: 'iid', seed: 1 }, seed: 1, evaluation: 'none', keepCheckpoints: 1,
        secureAggregation: false,
      }),
    });
    cleanups.push(async () => {
      await started.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return started;
  }

  it('is refused: E_AUTH_WRONG_COORDINATOR (4012) as labelled, E_AUTH_BAD_SIGNATURE (4010) relabelled with the real URL', async () => {
    const real = await coordinator();
    const labelled = await signInSignedFor(real.wsUrl, EVIL);
    expect(labelled.reply.type === 'error' && labelled.reply.code).toBe('E_AUTH_WRONG_COORDINATOR');
    expect(labelled.close.code).toBe(4012);
    const relabelled = await signInSignedFor(real.wsUrl, EVIL, real.wsUrl);
    expect(relabelled.reply.type === 'error' && relabelled.reply.code).toBe('E_AUTH_BAD_SIGNATURE');
    expect(relabelled.close.code).toBe(4010);
    expect(real.workers.connectedCount()).toBe(0);
  }, 30_000);

  it('a coordinator given public URLs accepts a sign-in for them and refuses its listen URL', async () => {
    const real = await coordinator(['wss://FL.example.org:443/ws']);
    expect(real.publicUrls).toEqual(['wss://fl.example.org/ws']);
    const proxied = await signInSignedFor(real.wsUrl, 'wss://fl.example.org/ws');
    expect(proxied.reply.type).toBe('welcome');
    const direct = await signInSignedFor(real.wsUrl, real.wsUrl);
    expect(direct.reply.type === 'error' && direct.reply.code).toBe('E_AUTH_WRONG_COORDINATOR');
  }, 30_000);

  describe('cohort serve --public-url', () => {
    let serve: CohortProcess | undefined;
    const dir = scratchDir('cohort-public-url-');
    afterEach(async () => {
      serve?.kill('SIGKILL');
      await serve?.exited;
      rmSync(dir, { recursive: true, force: true });
    });

    it('binds sign-in to the listed URLs (repeatable and comma-separated)', async () => {
      const port = await freePort();
      const listen = `ws://127.0.0.1:${port}/ws`;
      serve = spawnCohort(['serve', '--port', String(port), '--store', join(dir, 'run.sqlite'), '--no-secure-agg', '--min-clients', '2', '--eval', 'none',
        '--public-url', 'wss://a.example/ws,wss://b.example/ws', '--public-url', listen]);
      await serve.waitForLine(/workers may sign in for: wss:\/\/a\.example\/ws, wss:\/\/b\.example\/ws, ws:\/\/127\.0\.0\.1:\d+\/ws/);
      for (const url of ['wss://a.example/ws', 'wss://b.example/ws', listen]) {
        expect((await signInSignedFor(listen, url)).reply.type, url).toBe('welcome');
      }
      const evil = await signInSignedFor(listen, EVIL);
      expect(evil.reply.type === 'error' && evil.reply.code).toBe('E_AUTH_WRONG_COORDINATOR');
    }, 90_000);
  });
});
