/**
 * Attack: one client fills the dashboard's event streams (issue 13, point 8). The 64 streams were
 * one global pool open to anyone, so a single anonymous host could hold all of them and leave the
 * researcher's own dashboard with 503s.
 *
 * Against a real coordinator over real HTTP, from loopback addresses 127.0.0.x: one address gets
 * its share (8 streams by default) and the next from it is refused with 429; another address still
 * gets a stream; a share comes back when one of its streams ends.
 */
import { rmSync } from 'node:fs';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STREAM_LIMITS } from '../../coordinator/dashboard/event-stream.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { eventually, scratchDir } from '../e2e/helpers.js';

interface Stream {
  status: number;
  body: string;
  request: ClientRequest;
}

/** GET the run's event stream from `localAddress`; resolves with the status once the first bytes arrive. */
function openStream(coordinator: Coordinator, localAddress: string): Promise<Stream> {
  const url = new URL(`${coordinator.httpUrl}/api/runs/${encodeURIComponent(coordinator.engine.runId)}/events`);
  return new Promise((resolve, reject) => {
    const request = get({ host: url.hostname, port: url.port, path: url.pathname, localAddress }, (response: IncomingMessage) => {
      response.setEncoding('utf8');
      response.once('data', (chunk: string) => resolve({ status: response.statusCode ?? 0, body: chunk, request }));
    });
    request.once('error', reject);
  });
}

describe('a per-address share of the dashboard event streams', () => {
  let dir: string;
  let coordinator: Coordinator;
  const open: Stream[] = [];

  beforeAll(async () => {
    dir = scratchDir();
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      config: parseRunConfig({
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
      }),
    });
  });

  afterAll(async () => {
    for (const stream of open) stream.request.destroy();
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives one address 8 streams and answers its 9th with 429', async () => {
    for (let i = 0; i < 8; i++) {
      const stream = await openStream(coordinator, '127.0.0.1');
      open.push(stream);
      expect(stream.status).toBe(200);
      expect(stream.body).toContain('event: snapshot');
    }
    const refused = await openStream(coordinator, '127.0.0.1');
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'E_BUSY' });
    expect(DEFAULT_STREAM_LIMITS.maxClientsPerIp).toBe(8);
  });

  it('still gives another address a stream', async () => {
    const other = await openStream(coordinator, '127.0.0.2');
    open.push(other);
    expect(other.status).toBe(200);
  });

  it('gives the share back when one of that address’s streams ends', async () => {
    open.shift()?.request.destroy();
    const again = await eventually(async () => {
      const stream = await openStream(coordinator, '127.0.0.1');
      if (stream.status === 200) return stream;
      stream.request.destroy();
      return undefined;
    }, 20_000);
    open.push(again);
    expect((await openStream(coordinator, '127.0.0.1')).status).toBe(429);
  });
});
