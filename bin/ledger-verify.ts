/**
 * `cohort ledger verify --rpc-url URL --ledger ADDRESS --run N [--store PATH] [--json]`: prints
 * `ok`, or the first round that does not match and why (coordinator/ledger/verify.ts); exit 0
 * when everything matches, 1 when something does not. Needs no key: it only reads.
 */
import { existsSync } from 'node:fs';
import { CohortError } from '../core/protocol/errors.js';
import { intFlag, parseFlags, stringFlag } from '../coordinator/cli/flags.js';
import { verifyRun } from '../coordinator/ledger/verify.js';
import { RunStore } from '../coordinator/store/run-store.js';
import { connectChain, connectLedger } from '../contracts/ledger-client.js';

const VERIFY_HELP = `cohort ledger verify --rpc-url URL --ledger ADDRESS --run N [--store PATH] [--from-block N] [--json]

Rebuilds every recorded root of run N from the chain's events; for a run paid by a quality rule,
recomputes every recorded list from its published scoring (RoundScored events) alone; and, with
the coordinator's run store (--store), every recorded list from its contributions under the run's
reward rule. Prints ok, or the first round that does not match and why (exit 1). Needs no key.
--json prints { ok, rounds, scoredRounds, storeRunId, mismatch }.`;

export async function verifyCommand(argv: string[], io: { out(line: string): void }): Promise<number> {
  const values = parseFlags('ledger verify', argv, {
    'rpc-url': { type: 'string' },
    ledger: { type: 'string' },
    run: { type: 'string' },
    store: { type: 'string' },
    'from-block': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return io.out(VERIFY_HELP), 0;
  const rpcUrl = stringFlag(values, 'rpc-url');
  const address = stringFlag(values, 'ledger');
  const run = stringFlag(values, 'run');
  if (!rpcUrl || !address || !run) throw new CohortError('E_CLI_USAGE', 'cohort ledger verify: --rpc-url URL, --ledger ADDRESS and --run N are required');
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new CohortError('E_CLI_USAGE', `--ledger: expected a 0x-prefixed 20-byte address, got '${address}'`);
  if (!/^[1-9]\d*$/.test(run)) throw new CohortError('E_CLI_USAGE', `--run: expected a positive integer, got '${run}'`);
  const storePath = stringFlag(values, 'store');
  // Opening a store migrates it and narrows its mode: never create one from a mistyped path.
  if (storePath !== undefined && !existsSync(storePath)) throw new CohortError('E_CLI_USAGE', `--store: no run store at ${storePath}`);
  const store = storePath === undefined ? undefined : new RunStore(storePath);
  const provider = await connectChain(rpcUrl);
  try {
    const ledger = connectLedger(address, provider, { fromBlock: intFlag(values, 'from-block', 0, 0) });
    const result = await verifyRun(ledger, BigInt(run), store);
    if (values.json === true) io.out(JSON.stringify(result));
    else io.out(result.ok ? 'ok' : `round ${result.mismatch?.round}: ${result.mismatch?.reason}`);
    return result.ok ? 0 : 1;
  } finally {
    provider.destroy();
    store?.close();
  }
}
