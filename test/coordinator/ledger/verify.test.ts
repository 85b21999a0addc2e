// `cohort ledger verify` against a real anvil: a run whose three rounds went through the store's
// outbox to the chain verifies `ok`, from the chain alone and against the store; the same store
// edited after the fact (one contribution raised in round 2, with raw SQL as an intruder would)
// is caught at round 2, and the command exits 1 naming it.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { connectChain, connectLedger, walletSigner } from '../../../contracts/ledger-client.js';
import { rewardPolicyOf } from '../../../coordinator/ledger/ledger-config.js';
import { bindRun, enqueueRound, type LedgerBinding } from '../../../coordinator/ledger/outbox.js';
import { deliver } from '../../../coordinator/ledger/sender.js';
import { verifyRun } from '../../../coordinator/ledger/verify.js';
import { RunStore } from '../../../coordinator/store/run-store.js';
import { ledgerCommand } from '../../../bin/ledger-commands.js';
import { startLedgerChain, type LedgerChain } from './chain-fixture.js';
import { completeRound, tempStore, work, type TempStore } from './helpers.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';

let chain: LedgerChain | undefined;
let t: TempStore | undefined;
afterEach(async () => {
  t?.cleanup();
  await chain?.stop();
  [chain, t] = [undefined, undefined];
});

describe('cohort ledger verify', () => {
  it('says ok for an honest run, and names the first round of a store edited afterwards', async () => {
    // Prepare: three rounds committed through the outbox and recorded on the chain
    chain = await startLedgerChain({ rounds: 3 });
    t = tempStore('run-1');
    const binding: LedgerBinding = {
      chainId: chain.anvil.chainId, ledgerAddress: chain.config.ledgerAddress, chainRunId: chain.chainRunId,
      fromBlock: chain.config.fromBlock, policy: rewardPolicyOf(chain.config),
    };
    const store = t.store;
    bindRun(store.ledger, 'run-1', binding);
    for (const round of [1, 2, 3]) completeRound(store, 'run-1', round, [work(A, 10 * round), work(B, 5)], (commit) => void enqueueRound(store.ledger, { ...commit, binding }));
    const provider = await connectChain(chain.anvil.rpcUrl);
    const coordinator = connectLedger(chain.config.ledgerAddress, walletSigner(chain.coordinatorKey, provider), { fromBlock: chain.config.fromBlock });
    for (const row of store.ledger.outboxRows('run-1')) await deliver(coordinator, row);
    provider.destroy();
    const out: string[] = [];
    const io = { out: (line: string) => void out.push(line) };
    const flags = ['--rpc-url', chain.anvil.rpcUrl, '--ledger', chain.config.ledgerAddress, '--run', chain.chainRunId.toString(), '--store', t.path];

    // Execute + Assert: honest
    expect(await verifyRun(chain.reader, chain.chainRunId)).toEqual({ ok: true, rounds: 3, scoredRounds: 0 });
    expect(await verifyRun(chain.reader, chain.chainRunId, store)).toEqual({ ok: true, rounds: 3, scoredRounds: 0, storeRunId: 'run-1' });
    expect(await ledgerCommand(['verify', ...flags], io)).toBe(0);
    expect(out).toEqual(['ok']);

    // Execute: an intruder raises A's round-2 contribution in the store file
    store.close();
    const raw = new Database(t.path);
    raw.prepare("UPDATE contributions SET examples = 200, amount = 200 WHERE run_id = 'run-1' AND round = 2 AND address = ?").run(A);
    raw.close();
    t.store = new RunStore(t.path);

    // Assert: caught at round 2, with exit 1
    const tampered = await verifyRun(chain.reader, chain.chainRunId, t.store);
    expect(tampered.ok).toBe(false);
    expect(tampered.mismatch).toEqual({ round: 2, reason: expect.stringMatching(/^the store's contributions do not give the recorded list: the chain records 0x/) });
    out.length = 0;
    expect(await ledgerCommand(['verify', ...flags], io)).toBe(1);
    expect(out).toEqual([expect.stringMatching(/^round 2: /)]);
  }, 60_000);

  it('refuses bad flags with E_CLI_USAGE before touching the network', async () => {
    const io = { out: () => undefined };
    await expect(ledgerCommand(['verify', '--rpc-url', 'http://127.0.0.1:1'], io)).rejects.toMatchObject({ code: 'E_CLI_USAGE' });
    await expect(ledgerCommand(['verify', '--rpc-url', 'http://127.0.0.1:1', '--ledger', '0x12', '--run', '1'], io)).rejects.toMatchObject({ code: 'E_CLI_USAGE' });
    await expect(ledgerCommand(['verify', '--rpc-url', 'http://127.0.0.1:1', '--ledger', A, '--run', '0'], io)).rejects.toMatchObject({ code: 'E_CLI_USAGE' });
    await expect(ledgerCommand(['verify', '--rpc-url', 'http://127.0.0.1:1', '--ledger', A, '--run', '1', '--store', '/nonexistent/run.sqlite'], io)).rejects.toMatchObject({ code: 'E_CLI_USAGE', message: expect.stringContaining('no run store') });
  });
});
