// `cohort ledger verify` for a run paid by a quality rule, against a real anvil and no store: each
// round is scored (groups of 3 over six workers, reshuffled), paid by declared work × quality
// factor through the store's outbox, and recorded with its RoundScored publication. The chain
// alone then recomputes every list and root. A coordinator that publishes scores its list does
// not follow from (a freeloader's group raised after the fact) is caught at that round.
import { afterEach, describe, expect, it } from 'vitest';
import { connectChain, connectLedger, walletSigner } from '../../../contracts/ledger-client.js';
import { scoringRecords } from '../../../contracts/ledger-events.js';
import { QualityEstimator } from '../../../coordinator/contribution/quality-estimator.js';
import { estimatorOptionsFor, parseQualityRule, qualityAdjustedContributions } from '../../../coordinator/contribution/quality-rule.js';
import { decodeScoringRecord, encodeScoringRecord } from '../../../coordinator/contribution/scoring-record.js';
import { rewardPolicyOf } from '../../../coordinator/ledger/ledger-config.js';
import { bindRun, enqueueRound, type LedgerBinding } from '../../../coordinator/ledger/outbox.js';
import { deliver } from '../../../coordinator/ledger/sender.js';
import { verifyRun } from '../../../coordinator/ledger/verify.js';
import type { OutboxRow } from '../../../coordinator/store/ledger-tables.js';
import { startLedgerChain, type LedgerChain } from './chain-fixture.js';
import { completeRound, tempStore, type TempStore } from './helpers.js';

const WORKERS = Array.from({ length: 6 }, (_, i) => `0x${String(i + 1).repeat(40)}`);
const FREELOADER = WORKERS[5]!;
/** Round r's two groups of three: a rotation, so every worker meets different co-members. */
const GROUPS = [[0, 1, 5, 2, 3, 4], [0, 2, 4, 1, 3, 5], [1, 2, 5, 0, 3, 4], [0, 3, 5, 1, 2, 4]];

let chain: LedgerChain | undefined;
let t: TempStore | undefined;
afterEach(async () => {
  t?.cleanup();
  await chain?.stop();
  [chain, t] = [undefined, undefined];
});

describe('cohort ledger verify, quality-paid run', () => {
  it('recomputes every list from the chain alone, and catches scores the list does not follow from', async () => {
    // Prepare: four scored rounds; a group's score is the share of its members that are not the freeloader
    chain = await startLedgerChain({ rounds: 4 });
    t = tempStore('run-q');
    const binding: LedgerBinding = {
      chainId: chain.anvil.chainId, ledgerAddress: chain.config.ledgerAddress, chainRunId: chain.chainRunId,
      fromBlock: chain.config.fromBlock, policy: rewardPolicyOf(chain.config),
    };
    const store = t.store;
    bindRun(store.ledger, 'run-q', binding);
    const rule = parseQualityRule({ minGroupSize: 3, margin: 0.5 });
    const estimator = new QualityEstimator(estimatorOptionsFor(rule));
    GROUPS.forEach((order, index) => {
      const round = index + 1;
      const groups = [order.slice(0, 3), order.slice(3)].map((g) => ({
        members: g.map((i) => WORKERS[i]!),
        score: g.filter((i) => WORKERS[i] !== FREELOADER).length / 3 + 0.01 * round,
      }));
      const observation = { groups, relative: true };
      estimator.observe(round, observation);
      const declared = WORKERS.map((address) => ({ address, amount: address === FREELOADER ? 600 : 300 + 10 * round }));
      const paid = qualityAdjustedContributions(declared, estimator, rule);
      const contributions = declared.map((d, i) => ({ address: d.address, examples: d.amount, amount: paid[i]!.amount }));
      completeRound(store, 'run-q', round, contributions, (commit) => void enqueueRound(store.ledger, {
        ...commit, binding, scoring: { observation, rule, estimator: estimator.settings },
      }));
    });
    const rows = store.ledger.outboxRows('run-q');
    const provider = await connectChain(chain.anvil.rpcUrl);
    const coordinator = connectLedger(chain.config.ledgerAddress, walletSigner(chain.coordinatorKey, provider), { fromBlock: chain.config.fromBlock });
    for (const row of rows.slice(0, 2)) await deliver(coordinator, row);

    // Execute + Assert: honest so far, from the chain alone
    expect(await verifyRun(chain.reader, chain.chainRunId)).toEqual({ ok: true, rounds: 2, scoredRounds: 2 });
    const published = await scoringRecords(chain.reader, chain.chainRunId);
    expect(published.map((p) => p.round)).toEqual([1, 2]);
    expect(decodeScoringRecord(published[1]!.record).observation?.groups[0]?.members).toEqual(GROUPS[1]!.slice(0, 3).map((i) => WORKERS[i]));

    // Execute: round 3 goes out with the freeloader's group scored as if it were the best
    const round3 = rows[2]!;
    const scoring = decodeScoringRecord(round3.payload.scoring!.record);
    const raised = scoring.observation!.groups.map((g) => (g.members.some((m) => m.toLowerCase() === FREELOADER) ? { ...g, score: 3 } : g));
    const forged: OutboxRow = {
      ...round3,
      payload: { ...round3.payload, scoring: { ...round3.payload.scoring!, record: encodeScoringRecord({ ...scoring, observation: { ...scoring.observation!, groups: raised } }) } },
    };
    await deliver(coordinator, forged);
    provider.destroy();

    // Assert: the list was paid as the true scores say, so the published scores do not give it
    const result = await verifyRun(chain.reader, chain.chainRunId);
    expect(result).toEqual({ ok: false, rounds: 3, scoredRounds: 2, mismatch: { round: 3, reason: expect.stringMatching(/^its published scoring does not give the recorded list/) } });
  }, 60_000);
});
