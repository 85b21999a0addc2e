/**
 * Attack: one address takes every connection slot (issue 13, point 7). The coordinator's
 * connection cap used to be global only, so one host could hold all 2,000 of them.
 *
 * Against a real coordinator over real WebSockets, from loopback addresses 127.0.0.x: one address
 * gets `maxConnectionsPerIp` (default 32) connections and the next is refused with
 * E_TOO_MANY_CONNECTIONS; other addresses are still served; a slot comes back when a connection ends.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeFor } from '../../core/protocol/errors.js';
import { DEFAULT_LIMITS } from '../../core/protocol/limits.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { eventually, scratchDir } from '../e2e/helpers.js';
import { RawWsClient } from './raw-ws-client.js';

const config = parseRunConfig({
  model: { kind: 'builtin', name: '2nn' },
  rounds: 1,
  minClients: 1,
  roundTimeoutMs: 60_000,
  maxRoundRetries: 1,
  localEpochs: 1,
  batchSize: 32,
  optimizer: 'adam',
  lr: 0.001,
  maxLocalSteps: 5,
  partition: { kind: 'iid', seed: 1 },
  seed: 1,
  evaluation: 'none',
  keepCheckpoints: 1,
  secureAggregation: false,
});

async function challenged(url: string, from: string): Promise<RawWsClient> {
  const client = await RawWsClient.connect(url, from);
  await client.next('challenge');
  return client;
}

async function expectRefused(url: string, from: string): Promise<void> {
  const client = await RawWsClient.connect(url, from);
  expect((await client.next('error')).code).toBe('E_TOO_MANY_CONNECTIONS');
  expect((await client.closed).code).toBe(closeCodeFor('E_TOO_MANY_CONNECTIONS'));
}

describe('connections per IP address', () => {
  let dir: string;
  let coordinator: Coordinator;
  const open: RawWsClient[] = [];

  beforeAll(async () => {
    dir = scratchDir();
    // Default limits: the per-address cap applies to loopback too.
    coordinator = await startCoordinator({ host: '127.0.0.1', port: 0, storePath: join(dir, 'store.sqlite'), config });
  });

  afterAll(async () => {
    for (const client of open) client.destroy();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives one address 32 connections by default and refuses the next', async () => {
    for (let i = 0; i < 32; i++) open.push(await challenged(coordinator.wsUrl, '127.0.0.1'));
    await expectRefused(coordinator.wsUrl, '127.0.0.1');
    expect(DEFAULT_LIMITS.maxConnectionsPerIp).toBe(32);
  });

  it('still serves other addresses while one is at its limit', async () => {
    const other = await challenged(coordinator.wsUrl, '127.0.0.2');
    open.push(other);
    expect(other.isOpen).toBe(true);
  });

  it('gives a slot back when one of that address’s connections ends', async () => {
    open.shift()?.destroy();
    // The slot returns once the coordinator has seen the close; until then the cap still holds.
    const again = await eventually(async () => {
      const client = await RawWsClient.connect(coordinator.wsUrl, '127.0.0.1');
      try {
        await client.next('challenge', 2_000);
        return client;
      } catch {
        client.destroy();
        return undefined;
      }
    }, 20_000);
    open.push(again);
    await expectRefused(coordinator.wsUrl, '127.0.0.1');
  });
});
