/** The live model: many events become one delta of changed rows; providers fill rewards, tx and ε. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveRunState } from '../../../coordinator/dashboard/live-state.js';
import { reportOnce, type DashboardProviders } from '../../../coordinator/dashboard/providers.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { scratchDir } from '../../e2e/helpers.js';
import { address, FakeEngine, RUN_CONFIG } from './fake-engine.js';

describe('LiveRunState', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function setup(providers: DashboardProviders = {}) {
    const dir = scratchDir('cohort-live-');
    const store = new RunStore(join(dir, 'run.sqlite'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
    const engine = new FakeEngine('run-1');
    store.createRun(engine.runId, RUN_CONFIG);
    const reports: string[] = [];
    let clock = 1_000;
    const gateway = { counters: { bytesIn: 10, bytesOut: 20, errors: { E_RATE_LIMITED: 2 } }, connectedCount: () => 3 };
    const state = new LiveRunState({ engine, store, gateway: () => gateway, providers, report: reportOnce((message) => reports.push(message)), now: () => clock });
    cleanups.push(() => state.close());
    return { store, engine, state, reports, gateway, tick: (ms: number) => (clock += ms) };
  }

  const ready = (engine: FakeEngine, i: number) =>
    engine.emit({ type: 'worker-ready', address: address(i), kind: 'browser', backend: { backend: 'webgpu', reason: 'fastest', adapter: 'Apple M2', stepsPerSecond: 2 }, examples: 600 });

  it('turns 1,000 worker events into one delta, then nothing until something changes', () => {
    const { engine, state } = setup();
    for (let i = 0; i < 1_000; i++) ready(engine, i);
    for (let i = 0; i < 1_000; i++) ready(engine, i); // a reconnect of each, before the flush

    const delta = state.takeDelta();

    expect(delta?.workers).toHaveLength(1_000);
    expect(delta?.workers?.[0]).toMatchObject({ kind: 'browser', backend: 'webgpu', adapter: 'Apple M2', examplesPerSecond: 64, connected: true });
    expect(state.takeDelta()).toBeUndefined();
    engine.emit({ type: 'worker-left', address: address(7), reason: 'tab closed' });
    const next = state.takeDelta();
    expect(next?.workers?.map((w) => [w.address, w.connected, w.leftReason])).toEqual([[address(7), false, 'tab closed']]);
    expect(next?.incidents?.map((i) => [i.kind, i.reason])).toEqual([['left', 'tab closed']]);
  });

  it('measures examples/s from the updates workers send', () => {
    const { engine, state } = setup();
    ready(engine, 1);
    state.takeDelta();

    state.observe(address(1), { type: 'update', runId: 'run-1', round: 1, delta: new Float32Array(1), examples: 320, steps: 10, loss: 0.5, accuracy: 0.8, trainMs: 500 });

    expect(state.takeDelta()?.workers?.[0]?.examplesPerSecond).toBe(640); // 10 steps × 32 / 0.5 s
  });

  it('follows the round and its stage, and records dropped workers with their reasons', () => {
    const { engine, store, state } = setup();
    ready(engine, 1);
    ready(engine, 2);
    engine.emit({ type: 'round-started', runId: 'run-1', round: 1, attempt: 1, selected: [address(1), address(2)], deadline: 9_000 });
    expect(state.takeDelta()?.stage).toMatchObject({ round: 1, stage: 'training', deadline: 9_000 });
    engine.emit({ type: 'stage-completed', runId: 'run-1', round: 1, stage: 'advertise-keys', seconds: 0.5 });
    expect(state.takeDelta()?.stage).toMatchObject({ stage: 'share-keys', detail: 'advertise-keys took 0.5 s' });

    store.completeRound(
      { runId: 'run-1', round: 1, completedAt: 5, durationMs: 4, participants: 1, examples: 600, accuracy: 0.5, loss: 1.5, trainLoss: 1.7, secure: false },
      [{ address: address(1), examples: 600, amount: 600 }],
      new Float32Array(2),
    );
    engine.emit({
      type: 'round-completed', runId: 'run-1', round: 1, participants: 1, examples: 600, accuracy: 0.5, loss: 1.5, trainLoss: 1.7, durationMs: 4,
      dropped: [{ address: address(2), reason: 'deadline passed' }], backends: ['webgpu'],
    });
    const delta = state.takeDelta();

    expect(delta?.rounds).toEqual([expect.objectContaining({ round: 1, accuracy: 0.5, dropped: 1, txHash: null })]);
    expect(delta?.incidents?.map((i) => [i.kind, i.round, i.address, i.reason])).toEqual([['dropped', 1, address(2), 'deadline passed']]);
    expect(delta?.contributions).toEqual([{ address: address(1), rounds: 1, examples: 600, amount: 600, reward: null, txHash: null }]);
    expect(delta?.run).toMatchObject({ completedRounds: 1, live: true });
    expect(delta?.stage).toMatchObject({ stage: 'completed' });
  });

  it('fills rewards, tx hashes and ε from the providers when they change, and survives a failing one', () => {
    let tx = new Map<number, string>();
    const { engine, store, state, reports } = setup({
      // Keyed upper-case on purpose: addresses match whatever their case.
      rewards: () => new Map([[address(0xbeef).toUpperCase().replace('0X', '0x'), '0.5 ETH']]),
      roundTransactions: () => tx,
      privacy: () => {
        throw new Error('accountant offline');
      },
    });
    ready(engine, 0xbeef);
    store.completeRound(
      { runId: 'run-1', round: 1, completedAt: 5, durationMs: 4, participants: 1, examples: 600, accuracy: null, loss: null, trainLoss: null, secure: true },
      [{ address: address(0xbeef), examples: 600, amount: 600 }],
      new Float32Array(2),
    );
    engine.emit({ type: 'round-completed', runId: 'run-1', round: 1, participants: 1, examples: 600, accuracy: null, loss: null, trainLoss: null, durationMs: 4, dropped: [], backends: ['webgpu'] });
    expect(state.takeDelta()?.contributions?.[0]).toMatchObject({ reward: '0.5 ETH', txHash: null });

    tx = new Map([[1, '0xfeed']]);
    state.refresh(true);
    const delta = state.takeDelta();

    expect(delta?.rounds?.[0]?.txHash).toBe('0xfeed');
    expect(delta?.contributions?.[0]).toMatchObject({ reward: '0.5 ETH', txHash: '0xfeed' });
    expect(state.snapshot().privacy).toBeNull();
    // Reported once, however often it is read.
    expect(reports).toEqual(['dashboard: provider privacy failed (shown as empty): accountant offline']);
  });

  it('reports traffic and protocol errors from the gateway only when they move', () => {
    const { state, gateway } = setup();
    state.refresh(false);
    expect(state.takeDelta()).toMatchObject({ traffic: { bytesIn: 10, bytesOut: 20, connected: 3 }, errors: { E_RATE_LIMITED: 2 } });
    state.refresh(false);
    expect(state.takeDelta()).toBeUndefined();
    gateway.counters.bytesIn = 99;
    state.refresh(false);
    expect(state.takeDelta()).toEqual({ traffic: { bytesIn: 99, bytesOut: 20, connected: 3 }, serverTime: 1_000 });
  });
});
