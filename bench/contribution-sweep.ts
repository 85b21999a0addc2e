/**
 * The quality rule's margin against what it costs (issue 11): replays one finished simulated run's
 * stored group scores (a `cohort simulate examples/adversaries.yaml --store PATH` run store)
 * through the quality estimator and reward split under each margin, and prints the adversaries'
 * share of what was paid and the share of the budget paid at all. No training: the scores are the
 * run's own, so every margin sees the same groups (selection, which excluded flagged workers under
 * the run's own rule, is not replayed).
 *
 *   node --import tsx bench/contribution-sweep.ts STORE [FILE]
 */
import { fileURLToPath } from 'node:url';
import { normalizeAddress } from '../contracts/merkle.js';
import { QualityEstimator } from '../coordinator/contribution/quality-estimator.js';
import { estimatorOptionsFor, parseQualityRule, qualityAdjustedContributions } from '../coordinator/contribution/quality-rule.js';
import { roundReward, splitRound } from '../coordinator/ledger/rewards.js';
import { loadRunFile } from '../coordinator/run-file/load.js';
import { toRunPlan } from '../coordinator/run-file/to-run-config.js';
import { drawFleet } from '../coordinator/simulate/fleet-spec.js';
import { classByAddress } from '../coordinator/simulate/fleet-report.js';
import { RunStore } from '../coordinator/store/run-store.js';

const MARGINS = [1, 1.5, 2, 2.5, 3];
const BUDGET = 10n ** 18n;

export function sweep(storePath: string, file: string, clients = 100): string {
  const plan = toRunPlan(loadRunFile(file), { population: clients });
  const classes = classByAddress(drawFleet(plan.simulation, clients, plan.config.seed), plan.config.seed);
  const store = new RunStore(storePath);
  try {
    const runId = store.listRuns()[0]!.id;
    const rounds = plan.config.rounds;
    const saved = store.quality.state(runId)!.state as { rounds: Array<{ round: number; scale: number; pooled: boolean; groups: Array<{ members: number[]; raw: number }> }>; workers: string[] };
    const contributions = store.contributions(runId);
    const lines = ['| margin | adversaries\' share of what was paid | share of the budget paid |', '|---|---|---|'];
    for (const margin of MARGINS) {
      const rule = parseQualityRule({ ...plan.config.quality, margin });
      const estimator = new QualityEstimator(estimatorOptionsFor(rule));
      let paid = 0n;
      let adversaries = 0n;
      for (let round = 1; round <= rounds; round++) {
        const record = saved.rounds.find((r) => r.round === round);
        if (record) estimator.observeRound(round, record.groups.map((g) => ({ members: g.members.map((m) => saved.workers[m]!), score: g.raw })), record.pooled ? undefined : record.scale);
        const list = contributions.filter((c) => c.round === round).map((c) => ({ address: c.address, amount: c.examples }));
        const adjusted = qualityAdjustedContributions(list, estimator, rule);
        const split = splitRound({ reward: roundReward({ budgetWei: BUDGET * BigInt(rounds), rounds }, round), contributions: adjusted.map((a, i) => ({ ...a, unscaledAmount: list[i]!.amount })) });
        for (const entry of split.entries) if ((classes.get(normalizeAddress(entry.account)) ?? 'honest') !== 'honest') adversaries += entry.amount;
        paid += split.total;
      }
      const share = paid === 0n ? 0 : Number((adversaries * 10_000n) / paid) / 10_000;
      lines.push(`| ${margin} | ${share.toFixed(3)} | ${(Number((paid * 10_000n) / (BUDGET * BigInt(rounds))) / 10_000).toFixed(3)} |`);
    }
    return lines.join('\n');
  } finally {
    store.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [storePath, file = fileURLToPath(new URL('../examples/adversaries.yaml', import.meta.url))] = process.argv.slice(2);
  if (!storePath) throw new Error('usage: node --import tsx bench/contribution-sweep.ts STORE [FILE]');
  console.log(sweep(storePath, file));
}
