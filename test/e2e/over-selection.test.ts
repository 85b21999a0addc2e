/**
 * Over-selection over real sockets (issue 10, "Checks that must pass"): a coordinator on
 * 127.0.0.1 with real SQLite and SecAgg+, and four real `cohort worker` processes training MNIST
 * shards with tfjs, one of them slowed 20× (`--test-slowdown 20`, test only). With clientsPerRound 3
 * and overSelect 1.3 all four are selected and three are needed: every round closes with the three
 * fast workers' masked inputs, the slow one is cancelled (it sends nothing for the round), and the
 * securely aggregated model equals plaintext FedAvg of the survivors within the quantization bound.
 *
 * The survivors' private deltas come from the workers themselves (COHORT_TEST_RECORD_UPDATES,
 * test only): the coordinator never sees them.
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../../core/protocol/messages.js';
import { defaultSecAggConfig } from '../../core/secagg/config.js';
import { quantizationBound } from '../../core/secagg/quantize.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { eventually, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

const WEIGHT_CAP = 1000;
const ROUNDS = 2;

function writeKey(dir: string, name: string): { file: string; address: string } {
  const wallet = Wallet.createRandom();
  const file = join(dir, `${name}.key`);
  writeFileSync(file, `${wallet.privateKey}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, address: wallet.address };
}

function readF32(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

describe('over-selection with early close over real sockets', () => {
  const processes: CohortProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    for (const c of cleanups.splice(0)) await c();
  });

  it('closes rounds without the 20× slower worker; the secure aggregate is FedAvg of the survivors', async () => {
    // Prepare
    const dir = scratchDir();
    const records = join(dir, 'updates');
    const received: Array<{ address: string; message: WorkerMessage }> = [];
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath: join(dir, 'run.sqlite'),
      observe: (address, message) => received.push({ address, message }),
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: ROUNDS,
        minClients: 3,
        clientsPerRound: 3,
        overSelect: 1.3,
        roundTimeoutMs: 120_000,
        maxRoundRetries: 0,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.05,
        maxLocalSteps: 30,
        partition: { kind: 'iid', seed: 5 },
        seed: 5,
        evaluation: 'none',
        keepCheckpoints: 3,
        secureAggregation: { weightCap: WEIGHT_CAP, stageTimeoutMs: 30_000 },
      }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const globals: Float32Array[] = [coordinator.engine.weights.slice()];
    const cut: number[] = [];
    coordinator.engine.on((e) => {
      if (e.type === 'round-completed') {
        globals.push(coordinator.engine.weights.slice());
        cut.push(e.stragglersCut ?? 0);
      }
    });
    const keys = [0, 1, 2, 3].map((i) => writeKey(dir, `w${i}`));
    const slow = keys[3]!;
    // Paused until all four are ready (a round may start with three), so that four are selected.
    coordinator.engine.pause();

    // Execute
    for (const [i, key] of keys.entries()) {
      const args = ['worker', '--coordinator', coordinator.wsUrl, '--key', key.file, '--shard', `${i}/4`, '--backend', 'wasm'];
      processes.push(spawnCohort(i === 3 ? [...args, '--test-slowdown', '20'] : args, { COHORT_TEST_RECORD_UPDATES: records }));
    }
    await eventually(() => (coordinator.engine.readyCount() === 4 ? true : undefined), 120_000);
    coordinator.engine.resume();
    const summary = await coordinator.done;
    const contributions = coordinator.store.contributions(coordinator.engine.runId);
    const slowProcess = processes[3]!;
    for (let round = 1; round <= ROUNDS; round++) await slowProcess.waitForLine(new RegExp(`round ${round}: cancelled`), 30_000);

    // Assert: every round closed with the three fast workers; the slow one was cut and sent nothing for it
    expect(summary.status).toBe('completed');
    expect(cut).toEqual(Array(ROUNDS).fill(1));
    const fastAddresses = keys.slice(0, 3).map((k) => k.address).sort();
    for (let round = 1; round <= ROUNDS; round++) {
      expect(contributions.filter((c) => c.round === round).map((c) => c.address).sort()).toEqual(fastAddresses);
    }
    const fromSlow = received.filter((r) => r.address === slow.address).map((r) => r.message.type);
    expect(fromSlow).not.toContain('trained');
    expect(received.some((r) => r.message.type === 'update')).toBe(false);
    expect(existsSync(join(records, `${slow.address}-round-1.delta.f32`))).toBe(false);
    const metrics = await coordinator.metrics.render();
    expect(metrics).toMatch(new RegExp(`^cohort_round_stragglers_cut_total ${ROUNDS}$`, 'm'));

    // …and each round's model is plaintext FedAvg over the survivors, within the quantization bound
    const config = defaultSecAggConfig(4);
    const bound = quantizationBound({ clipRange: config.clipRange, bits: config.bits, contributors: 3, maxWeight: 1 });
    for (let round = 1; round <= ROUNDS; round++) {
      const global = globals[round - 1]!;
      const next = globals[round]!;
      const survivors = keys.slice(0, 3).map((k) => {
        const base = join(records, `${k.address}-round-${round}`);
        const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as { examples: number };
        return { global: readF32(`${base}.global.f32`), delta: readF32(`${base}.delta.f32`), weight: Math.min(meta.examples, WEIGHT_CAP) / WEIGHT_CAP };
      });
      for (const s of survivors) expect(s.global).toEqual(global);
      const totalWeight = survivors.reduce((n, s) => n + s.weight, 0);
      let worst = 0;
      let allowed = 0;
      for (let i = 0; i < global.length; i++) {
        let sum = 0;
        for (const s of survivors) sum += s.weight * Math.max(-config.clipRange, Math.min(config.clipRange, s.delta[i]!));
        const mean = sum / totalWeight;
        // |S'/W' − S/W| ≤ (eS + |S/W|·eW) / (W − eW), plus float32 rounding of the result
        const tolerance = (bound.perCoordinate + Math.abs(mean) * bound.totalWeight) / (totalWeight - bound.totalWeight) + (Math.abs(global[i]!) + Math.abs(mean)) * 2 ** -22;
        worst = Math.max(worst, Math.abs(next[i]! - (global[i]! + mean)) / tolerance);
        allowed = Math.max(allowed, tolerance);
      }
      expect(worst).toBeLessThanOrEqual(1);
      // The bound means something: far below the size of the updates.
      expect(allowed).toBeLessThan(0.001);
    }
  }, 300_000);
});
