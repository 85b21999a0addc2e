/**
 * `cohort ledger verify`: checks a run's recorded rounds, first against themselves (every list
 * sums to its roundTotal and every cumulative root is the one the lists build, from the chain's
 * events alone: contracts/ledger-events.ts auditRun); then, for a run paid by a quality rule,
 * against its published scoring (RoundScored): every list and root recomputed from the group
 * scores, the rule and the credited work the chain carries (contribution/scoring-replay.ts), so
 * no store is needed to check how each payout was computed; then, given the coordinator's run
 * store, against what the coordinator says it paid for: each round's list re-derived from the
 * store's credited work and quality factors under the run's reward rule (the same splitRound the
 * outbox used), and the cumulative root rebuilt from those lists. A store edited after the fact,
 * or a chain record that does not follow from the store or from its own published scoring, is
 * caught at its first round.
 */
import { auditRun, roundRecords, scoringRecords, type RoundRecord } from '../../contracts/ledger-events.js';
import type { Ledger } from '../../contracts/ledger-tx.js';
import { RewardTree, accumulate, normalizeAddress, type RewardEntry } from '../../contracts/merkle.js';
import { CohortError } from '../../core/protocol/errors.js';
import { ScoringReplay } from '../contribution/scoring-replay.js';
import { assignmentRoot, decodeScoringRecord } from '../contribution/scoring-record.js';
import type { RunStore } from '../store/run-store.js';
import { storedBinding, type LedgerBinding } from './outbox.js';
import { allowlistOf, roundReward, splitRound } from './rewards.js';

export interface VerifyRunResult {
  ok: boolean;
  /** Rounds recorded on chain for the run. */
  rounds: number;
  /** Rounds whose lists were recomputed from their published scoring (RoundScored). */
  scoredRounds: number;
  /** The store run checked against, when a store was given. */
  storeRunId?: string | undefined;
  /** The first round that does not match, and why. */
  mismatch?: { round: number; reason: string } | undefined;
}

/** The one run in `store` that pays through `chainRunId` of `ledgerAddress`. */
function boundRun(store: RunStore, ledgerAddress: string, chainRunId: bigint): { runId: string; binding: LedgerBinding } {
  const bound = store
    .listRuns()
    .map((run) => ({ runId: run.id, binding: storedBinding(store.ledger, run.id) }))
    .filter((r): r is { runId: string; binding: LedgerBinding } => r.binding !== undefined && r.binding.chainRunId === chainRunId && normalizeAddress(r.binding.ledgerAddress) === normalizeAddress(ledgerAddress));
  if (bound.length === 0) throw new CohortError('E_LEDGER_INPUT', `no run in this store pays through run ${chainRunId} of ${ledgerAddress}`);
  if (bound.length > 1) throw new CohortError('E_LEDGER_INPUT', `${bound.length} runs in this store pay through run ${chainRunId}; verify checks one store run per chain run`);
  return bound[0]!;
}

function sameEntries(a: readonly RewardEntry[], b: readonly RewardEntry[], source = 'the store'): string | undefined {
  const key = (e: RewardEntry) => `${normalizeAddress(e.account)}=${e.amount}`;
  const left = a.map(key).sort();
  const right = b.map(key).sort();
  const first = left.findIndex((v, i) => v !== right[i]);
  if (first < 0 && left.length === right.length) return undefined;
  const at = first < 0 ? left.length : first;
  return `the chain records ${right[at] ?? 'nothing'} where ${source} gives ${left[at] ?? 'nothing'}`;
}

/** Verifies chain run `chainRunId` (see the file comment); with `store`, against that store too. */
export async function verifyRun(ledger: Ledger, chainRunId: bigint, store?: RunStore): Promise<VerifyRunResult> {
  const audit = await auditRun(ledger, chainRunId);
  const rounds = audit.rounds.length;
  const broken = audit.rounds.find((r) => !r.sumMatches || !r.rootMatches);
  if (broken) {
    const reason = !broken.sumMatches ? 'its list does not sum to its recorded roundTotal' : 'its recorded cumulative root is not the one the recorded lists build';
    return { ok: false, rounds, scoredRounds: 0, mismatch: { round: broken.round, reason } };
  }
  const records = await roundRecords(ledger, chainRunId);
  const scored = await replayPublishedScoring(ledger, chainRunId, records);
  if (scored.mismatch) return { ok: false, rounds, scoredRounds: scored.rounds, mismatch: scored.mismatch };
  const scoredRounds = scored.rounds;
  if (!store) return { ok: true, rounds, scoredRounds };

  const { runId, binding } = boundRun(store, ledger.address, chainRunId);
  const contributions = store.contributions(runId);
  const unfactored = amountsWithoutTheirFactor(store, runId, contributions);
  const allowlist = allowlistOf(binding.allowlist);
  let cumulative = new Map<string, bigint>();
  for (const record of records) {
    const bad = unfactored.find((c) => c.round === record.round);
    if (bad) return { ok: false, rounds, scoredRounds, storeRunId: runId, mismatch: { round: record.round, reason: `${bad.address}'s credited amount ${bad.amount} is not its work ${bad.examples} × its quality factor ${bad.factor}` } };
    const ofRound = contributions.filter((c) => c.round === record.round).map((c) => ({ address: c.address, amount: c.amount, unscaledAmount: c.examples }));
    const split = splitRound({
      reward: roundReward(binding.policy, record.round),
      contributions: ofRound,
      cumulative,
      perWorkerContributionCap: binding.policy.perWorkerContributionCap,
      perAddressRewardCapWei: binding.policy.perAddressRewardCapWei,
      allowlist,
    });
    const differs = sameEntries(split.entries, record.entries);
    if (differs) return { ok: false, rounds, scoredRounds, storeRunId: runId, mismatch: { round: record.round, reason: `the store's contributions do not give the recorded list: ${differs}` } };
    cumulative = accumulate(cumulative, split.entries);
    if (RewardTree.build(cumulative).root !== record.cumulativeRoot) {
      return { ok: false, rounds, scoredRounds, storeRunId: runId, mismatch: { round: record.round, reason: 'the root rebuilt from the store differs from the recorded one' } };
    }
  }
  return { ok: true, rounds, scoredRounds, storeRunId: runId };
}

/**
 * Recomputes every round of a quality-paid run from its RoundScored record. A run with no such
 * record was paid by declared work (nothing to replay); in one that has them, every recorded
 * round must have its own, or its list could not be recomputed by anyone.
 */
async function replayPublishedScoring(
  ledger: Ledger,
  chainRunId: bigint,
  records: readonly RoundRecord[],
): Promise<{ rounds: number; mismatch?: { round: number; reason: string } }> {
  const published = new Map((await scoringRecords(ledger, chainRunId)).map((r) => [r.round, r]));
  if (published.size === 0) return { rounds: 0 };
  const replay = new ScoringReplay();
  let rounds = 0;
  for (const record of records) {
    const event = published.get(record.round);
    if (!event) return { rounds, mismatch: { round: record.round, reason: 'the run publishes its scoring, but not for this round' } };
    let split;
    try {
      const scoring = decodeScoringRecord(event.record);
      if (assignmentRoot(scoring.observation?.groups ?? []) !== event.assignmentRoot) {
        return { rounds, mismatch: { round: record.round, reason: 'its published group assignment root is not the root of its published groups' } };
      }
      split = replay.replayRound(record.round, scoring);
    } catch (err) {
      if (!(err instanceof CohortError)) throw err;
      return { rounds, mismatch: { round: record.round, reason: `its published scoring cannot be replayed: ${err.message}` } };
    }
    const differs = sameEntries(split.entries, record.entries, 'the replay');
    if (differs) return { rounds, mismatch: { round: record.round, reason: `its published scoring does not give the recorded list: ${differs}` } };
    if (replay.root !== record.cumulativeRoot) return { rounds, mismatch: { round: record.round, reason: 'the root replayed from the published scoring differs from the recorded one' } };
    rounds += 1;
  }
  return { rounds };
}

/**
 * Under contribution scoring, the contributions whose amount is not ⌊work × the quality factor
 * the store recorded for that worker and round⌋ (none without scoring: amount = work).
 */
function amountsWithoutTheirFactor(
  store: RunStore,
  runId: string,
  contributions: ReadonlyArray<{ round: number; address: string; examples: number; amount: number }>,
): Array<{ round: number; address: string; examples: number; amount: number; factor: number }> {
  const factors = new Map(store.quality.workerQuality(runId).map((q) => [`${q.round}:${q.address}`, q.factor]));
  if (factors.size === 0) return contributions.filter((c) => c.amount !== c.examples).map((c) => ({ ...c, factor: 1 }));
  return contributions
    .map((c) => ({ ...c, factor: factors.get(`${c.round}:${c.address}`) ?? 0 }))
    .filter((c) => c.amount !== Math.floor(c.examples * c.factor));
}
