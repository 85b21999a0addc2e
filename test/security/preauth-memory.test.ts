/**
 * Attack: memory before sign-in (issue 13, point 7). An anonymous peer sends frames far larger
 * than any sign-in, or messages that only a signed-in worker may send, hoping the coordinator
 * buffers and decodes them; a signed-in peer sends frames between the limit and twice it.
 *
 * Against a real coordinator over real WebSockets: each such frame is refused with
 * E_FRAME_TOO_LARGE or E_UNEXPECTED_MESSAGE and its close code, an oversized frame on its header
 * (before its payload is even sent), and a real worker process still signs in and trains the run.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeCodeFor } from '../../core/protocol/errors.js';
import { DEFAULT_LIMITS } from '../../core/protocol/limits.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startCoordinator, type Coordinator } from '../../coordinator/app/start-coordinator.js';
import { scratchDir, spawnCohort, type CohortProcess } from '../e2e/helpers.js';
import { WireClient } from '../e2e/wire-client.js';
import { RawWsClient } from './raw-ws-client.js';

const MAX_FRAME = 1024 * 1024;

function runConfig(rounds: number) {
  return parseRunConfig({
    model: { kind: 'builtin', name: '2nn' },
    rounds,
    minClients: 1,
    roundTimeoutMs: 60_000,
    maxRoundRetries: 3,
    localEpochs: 1,
    batchSize: 32,
    optimizer: 'adam',
    lr: 0.001,
    maxLocalSteps: 5,
    partition: { kind: 'iid', seed: 1 },
    seed: 1,
    evaluation: 'none',
    keepCheckpoints: 2,
    secureAggregation: false,
  });
}

/** The frame: a msgpack array of `count` nils, which decodes to an array that size. */
function nilArrayFrame(count: number): Uint8Array {
  const bytes = new Uint8Array(5 + count).fill(0xc0);
  bytes[0] = 0xdd;
  new DataView(bytes.buffer).setUint32(1, count);
  return bytes;
}

describe('memory before sign-in', () => {
  let dir: string;
  let coordinator: Coordinator;

  beforeAll(async () => {
    dir = scratchDir();
    coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'store.sqlite'),
      limits: { maxFrameBytes: MAX_FRAME },
      config: runConfig(2),
    });
  });

  afterAll(async () => {
    await coordinator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has a sign-in frame limit of a few KB by default', () => {
    expect(DEFAULT_LIMITS.maxSignInFrameBytes).toBe(4096);
  });

  it('refuses a pre-sign-in frame over the sign-in limit on its header, before its payload arrives', async () => {
    const attacker = await RawWsClient.connect(coordinator.wsUrl);
    await attacker.next('challenge');
    // Announces the 24 MB frame but sends only 1 KB of it: a coordinator that waits to
    // buffer the frame before checking it never answers.
    attacker.writeHeader(24 * 1024 * 1024);
    attacker.writePayload(new Uint8Array(1024).fill(0xc0));
    const error = await attacker.next('error');
    expect(error.code).toBe('E_FRAME_TOO_LARGE');
    expect((await attacker.closed).code).toBe(closeCodeFor('E_FRAME_TOO_LARGE'));
  });

  it('refuses a frame just over the sign-in limit, though far under the frame limit', async () => {
    const client = new WireClient(coordinator.wsUrl);
    await client.next('challenge');
    client.sendRaw(nilArrayFrame(DEFAULT_LIMITS.maxSignInFrameBytes));
    expect((await client.next('error')).code).toBe('E_FRAME_TOO_LARGE');
    expect((await client.closed).code).toBe(closeCodeFor('E_FRAME_TOO_LARGE'));
  });

  it('refuses the whole 24 MB frame of nils with E_FRAME_TOO_LARGE, not by decoding it', async () => {
    const client = new WireClient(coordinator.wsUrl);
    await client.next('challenge');
    client.sendRaw(nilArrayFrame(24 * 1024 * 1024));
    expect((await client.next('error')).code).toBe('E_FRAME_TOO_LARGE');
    expect((await client.closed).code).toBe(closeCodeFor('E_FRAME_TOO_LARGE'));
  });

  it('refuses a worker-only message before sign-in without validating it', async () => {
    const client = new WireClient(coordinator.wsUrl);
    await client.next('challenge');
    // Not a valid update either: what matters is that only a hello is looked into before sign-in.
    client.send({ type: 'update', runId: 42, delta: 'not a delta' });
    expect((await client.next('error')).code).toBe('E_UNEXPECTED_MESSAGE');
    expect((await client.closed).code).toBe(closeCodeFor('E_UNEXPECTED_MESSAGE'));
  });

  it('holds a signed-in worker to the documented frame limit, not twice it', async () => {
    const client = await RawWsClient.connect(coordinator.wsUrl);
    await client.signIn(new Wallet(Wallet.createRandom().privateKey));
    // 1.5× the limit: `ws` itself used to accept up to 2×, buffering all of it first.
    client.writeHeader(MAX_FRAME + MAX_FRAME / 2);
    client.writePayload(new Uint8Array(1024));
    expect((await client.next('error')).code).toBe('E_FRAME_TOO_LARGE');
    expect((await client.closed).code).toBe(closeCodeFor('E_FRAME_TOO_LARGE'));
  });

  it('keeps serving: through a burst of oversized pre-sign-in frames, a real worker signs in and trains the run', async () => {
    // Each announces a 16 MB frame and is refused on its header; none finishes its frame.
    const stalled = await Promise.all(Array.from({ length: 8 }, () => RawWsClient.connect(coordinator.wsUrl)));
    for (const attacker of stalled) attacker.writeHeader(16 * 1024 * 1024);
    let worker: CohortProcess | undefined;
    try {
      worker = spawnCohort(['worker', '--coordinator', coordinator.wsUrl, '--key', join(dir, 'honest.key'), '--shard', '0/4', '--backend', 'wasm']);
      const summary = await coordinator.done;
      expect(summary.status).toBe('completed');
      expect(coordinator.store.rounds(coordinator.engine.runId).map((r) => r.round)).toEqual([1, 2]);
      expect(coordinator.gateway.counters.errors.E_FRAME_TOO_LARGE).toBeGreaterThanOrEqual(4 + stalled.length);
    } finally {
      for (const attacker of stalled) attacker.destroy();
      worker?.kill();
      await worker?.exited;
    }
  }, 120_000);
});
