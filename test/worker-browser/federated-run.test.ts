/**
 * Browser tabs as workers in a real run: headless Chromium tabs and a `cohort worker` process
 * train MNIST together against one coordinator, with secure aggregation (SecAgg+ runs inside each
 * tab's Web Worker). One tab is forced onto WebGPU (SwiftShader here,
 * ~0.4 s per step, so it caps its own local steps) and must really have trained there; the other is
 * forced onto wasm (the measured choice is covered by worker-page.test.ts: measuring every backend
 * costs ~10 s of this 2-core machine's CPU).
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowserWorkers, type BrowserWorkers } from '../../worker-browser/launch.js';
import { scratchDir, spawnCohort, type CohortProcess } from '../e2e/helpers.js';
import { browserTestConfig, PREPARE_TIMEOUT_MS, prepareBrowserTests, startTestCoordinator, waitForState, type TestCoordinator } from './helpers.js';

const ROUNDS = 3;
const RUN_STEPS = 20;
const WEBGPU_STEPS = 3;
const BATCH = 32;

describe('a run with 2 browser tabs and 1 Node worker', () => {
  let server: TestCoordinator;
  let tabs: BrowserWorkers | undefined;
  let node: CohortProcess | undefined;
  const dir = scratchDir('cohort-browser-run-');
  const tabLog: string[] = [];

  beforeAll(prepareBrowserTests, PREPARE_TIMEOUT_MS);
  afterAll(async () => {
    node?.kill('SIGKILL');
    await tabs?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes, improves test accuracy, and the WebGPU tab trained on WebGPU', async () => {
    // Prepare
    server = await startTestCoordinator(browserTestConfig({ rounds: ROUNDS, minClients: 3, maxLocalSteps: RUN_STEPS, roundTimeoutMs: 60_000, secureAggregation: {} }));
    const key = join(dir, 'node.key');
    writeFileSync(key, `${Wallet.createRandom().privateKey}\n`, { mode: 0o600 });
    chmodSync(key, 0o600);

    // Execute
    node = spawnCohort(['worker', '--coordinator', server.coordinator.wsUrl, '--key', key, '--shard', '2/3', '--backend', 'wasm']);
    tabs = await launchBrowserWorkers({
      pageUrl: server.pageUrl,
      coordinatorUrl: server.coordinatorUrl,
      count: 2,
      shards: [{ index: 0, count: 3 }, { index: 1, count: 3 }],
      forceBackend: ['webgpu', 'wasm'],
      maxLocalSteps: [WEBGPU_STEPS, undefined],
      log: (tab, line) => tabLog.push(`[tab ${tab}] ${line}`),
    });
    const summary = await server.coordinator.done;
    // The tabs hear the last round's outcome just before run-end.
    const [gpuTab, wasmTab] = await Promise.all(tabs.pages.map((page) => waitForState(page, (s) => s.connection === 'run ended')));

    // Assert: the run
    const failures = server.coordinator.store.roundFailures(summary.runId).map((f) => f.reason);
    expect(summary.status, `${summary.reason}; ${failures.join('; ')}`).toBe('completed');
    expect(summary.rounds).toBe(ROUNDS);
    const rounds = server.coordinator.store.rounds(summary.runId);
    expect(rounds).toHaveLength(ROUNDS);
    for (const r of rounds) {
      expect(r.participants).toBe(3);
      expect(r.secure).toBe(true);
    }
    const accuracy = rounds.map((r) => r.accuracy ?? 0);
    expect(accuracy.at(-1)!).toBeGreaterThan(accuracy[0]!);
    expect(accuracy.at(-1)!).toBeGreaterThan(0.6);

    // Assert: who took part, as the coordinator saw it
    const workers = summary.workers;
    expect(workers.map((w) => w.kind).sort()).toEqual(['browser', 'browser', 'node']);
    const gpuWorker = workers.find((w) => w.address === gpuTab?.address);
    expect(gpuWorker?.backend).toBe('webgpu');
    expect(gpuWorker?.roundsParticipated).toBe(ROUNDS);
    expect(gpuWorker?.examples).toBe(ROUNDS * WEBGPU_STEPS * BATCH);
    const wasmWorker = workers.find((w) => w.address === wasmTab?.address);
    expect(wasmWorker?.backend).toBe('wasm');
    expect(wasmWorker?.examples).toBe(ROUNDS * RUN_STEPS * BATCH);

    // Assert: the WebGPU tab's steps ran on WebGPU (tf.getBackend() inside its Web Worker)
    expect(gpuTab?.backend?.backend).toBe('webgpu');
    expect(gpuTab?.backend?.forced).toBe(true);
    expect(gpuTab?.trainedOn).toBe('webgpu');
    expect(gpuTab?.backend?.adapter).toMatch(/swiftshader|fallback|\w/i);
    expect(gpuTab?.roundsContributed).toBe(ROUNDS);
    expect(gpuTab?.examplesTrained).toBe(ROUNDS * WEBGPU_STEPS * BATCH);
    expect(gpuTab?.backend?.reason).toMatch(/^forced by \?backend=webgpu; measured webgpu [\d.]+ steps\/s/);
    expect(wasmTab?.trainedOn).toBe('wasm');
    expect(wasmTab?.roundsContributed).toBe(ROUNDS);

    expect(tabLog.filter((line) => /console\.error|page error/.test(line)), tabLog.join('\n')).toEqual([]);
  }, 90_000);
});
