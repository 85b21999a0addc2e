/**
 * Contribution scoring end to end (issue 11's check): a real anvil with a deployed and funded
 * ledger, a coordinator on 127.0.0.1 with SecAgg+ scoring groups of 3 (rewards.quality) recording
 * every round through its outbox, and six real `cohort worker` processes training MNIST shards,
 * one of them a freeloader (`--test-freeloader`, test only: it declares an honest round's examples
 * and sends a zero delta). After 5 rounds the freeloader's reward is below a tenth of an honest
 * worker's; `cohort ledger verify` says ok against the chain and the store, and from the chain
 * alone recomputes every round's list from its published scoring; everyone claims, and
 * what was claimed is exactly what was allocated, within what was funded.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet, parseEther } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { claim, connectLedger, runStatus, walletSigner } from '../../contracts/ledger-client.js';
import { auditRun, claimRecords } from '../../contracts/ledger-events.js';
import { ledgerCommand } from '../../bin/ledger-commands.js';
import { startCoordinator } from '../../coordinator/app/start-coordinator.js';
import { parseRunConfig } from '../../coordinator/engine/run-config.js';
import { startLedgerChain, type LedgerChain } from '../coordinator/ledger/chain-fixture.js';
import { eventually, scratchDir, spawnCohort, type CohortProcess } from './helpers.js';

const WORKERS = 6;
const ROUNDS = 5;
const FREELOADER = 5;

describe('a freeloader under contribution scoring, over real sockets and a real chain', () => {
  const processes: CohortProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  let chain: LedgerChain | undefined;
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    for (const c of cleanups.splice(0)) await c();
    await chain?.stop();
    chain = undefined;
  });

  it('pays the freeloader under a tenth of an honest worker, verifies, and pays every claim', async () => {
    // Prepare: the chain, a coordinator that records to it, and six worker keys (funded for gas by anvil's dev accounts)
    chain = await startLedgerChain({ rounds: ROUNDS, budgetWei: parseEther('0.5') });
    const dir = scratchDir();
    const storePath = join(dir, 'run.sqlite');
    const coordinator = await startCoordinator({
      host: '127.0.0.1',
      port: 0,
      storePath,
      ledger: { config: chain.config, privateKey: chain.coordinatorKey },
      config: parseRunConfig({
        model: { kind: 'builtin', name: '2nn' },
        rounds: ROUNDS,
        minClients: WORKERS,
        clientsPerRound: WORKERS,
        overSelect: 1,
        roundTimeoutMs: 180_000,
        maxRoundRetries: 1,
        localEpochs: 1,
        batchSize: 32,
        optimizer: 'sgd',
        lr: 0.05,
        maxLocalSteps: 30,
        partition: { kind: 'iid', seed: 11 },
        seed: 11,
        evaluation: 'mnist',
        keepCheckpoints: 2,
        secureAggregation: { stageTimeoutMs: 30_000 },
        // Groups of 3 (two a round) and a short run: a smaller margin than the default lets five rounds of evidence pay.
        quality: { minGroupSize: 3, margin: 0.5, floor: 0.1 },
      }),
    });
    cleanups.push(async () => {
      await coordinator.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const keys = Array.from({ length: WORKERS }, (_, i) => {
      const privateKey = chain!.anvil.privateKeys[2 + i]!;
      const file = join(dir, `w${i}.key`);
      writeFileSync(file, `${privateKey}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      return { file, privateKey, address: new Wallet(privateKey).address };
    });
    coordinator.engine.pause();

    // Execute: train five scored rounds, let the outbox reach the chain, then verify and claim
    for (const [i, key] of keys.entries()) {
      const args = ['worker', '--coordinator', coordinator.wsUrl, '--key', key.file, '--shard', `${i}/${WORKERS}`, '--backend', 'wasm'];
      processes.push(spawnCohort(i === FREELOADER ? [...args, '--test-freeloader'] : args));
    }
    await eventually(() => (coordinator.engine.readyCount() === WORKERS ? true : undefined), 180_000);
    coordinator.engine.resume();
    const summary = await coordinator.done;
    await eventually(() => (coordinator.ledger?.pendingCount() === 0 ? true : undefined), 60_000);
    const qualities = coordinator.store.quality.workerQuality(coordinator.engine.runId);
    await coordinator.close();
    const out: string[] = [];
    const verified = await ledgerCommand(
      ['verify', '--rpc-url', chain.anvil.rpcUrl, '--ledger', chain.config.ledgerAddress, '--run', chain.chainRunId.toString(), '--store', storePath],
      { out: (line) => void out.push(line) },
    );
    // From the chain alone: every round's list recomputed from its published scoring (RoundScored)
    const chainOnly: string[] = [];
    await ledgerCommand(
      ['verify', '--rpc-url', chain.anvil.rpcUrl, '--ledger', chain.config.ledgerAddress, '--run', chain.chainRunId.toString(), '--json'],
      { out: (line) => void chainOnly.push(line) },
    );
    const audit = await auditRun(chain.reader, chain.chainRunId);
    const earned = keys.map((k) => audit.tree.amountOf(k.address));
    for (const [i, key] of keys.entries()) {
      if (earned[i]! === 0n) continue;
      const worker = connectLedger(chain.config.ledgerAddress, walletSigner(key.privateKey, chain.provider), { fromBlock: chain.config.fromBlock });
      await claim(worker, { runId: chain.chainRunId, ...audit.tree.proof(key.address) });
    }
    const status = await runStatus(chain.reader, chain.chainRunId);
    const claims = await claimRecords(chain.reader, chain.chainRunId);

    // Assert: the run completed and every round was scored
    expect(summary.status).toBe('completed');
    expect(new Set(qualities.map((q) => q.round)).size).toBe(ROUNDS);
    // The freeloader earned under a tenth of the honest workers' mean
    const honest = earned.filter((_, i) => i !== FREELOADER);
    const meanHonest = honest.reduce((a, b) => a + b, 0n) / BigInt(honest.length);
    expect(meanHonest).toBeGreaterThan(0n);
    expect(earned[FREELOADER]! * 10n).toBeLessThan(meanHonest);
    // cohort ledger verify: ok against the chain and the store
    expect([verified, out]).toEqual([0, ['ok']]);
    expect(JSON.parse(chainOnly[0] ?? '{}')).toEqual({ ok: true, rounds: ROUNDS, scoredRounds: ROUNDS });
    // Claimed = allocated ≤ funded
    const claimed = claims.reduce((s, c) => s + c.amount, 0n);
    expect(claimed).toBe(status.allocated);
    expect(status.allocated).toBeLessThanOrEqual(status.funded);
    expect(claimed).toBe(earned.reduce((a, b) => a + b, 0n));
  }, 420_000);
});
