/**
 * Contribution scoring (issue 11's benchmark): `examples/adversaries.yaml` (100 simulated clients,
 * 20 a round, IID MNIST, the 2NN, SecAgg+, 20 rounds; 10% zero, 10% noise, 10% labelflip) run with
 * scoring groups of 5 and of 10, and the same file with every client honest, in one run: the
 * share of the paid budget each class earns (`rewardShare`) under the quality rule and under
 * declared work alone (today's rule, from the same rounds' credited work), the accuracy, and the
 * coordinator's extra time per round: the score step's reference update (one local training on
 * rewards.quality.referenceExamples held-out examples), timed here on the coordinator's own model
 * host and MNIST test set, beside the held-out gradient and evaluation of the older scorings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drawFleet } from '../coordinator/simulate/fleet-spec.js';
import { classByAddress, rewardShares } from '../coordinator/simulate/fleet-report.js';
import { RunStore } from '../coordinator/store/run-store.js';
import { sweep } from './contribution-sweep.js';
import { ModelHost } from '../coordinator/evaluation/model-host.js';
import { loadMnistTestSet } from '../coordinator/evaluation/mnist-test-set.js';
import { toRunPlan } from '../coordinator/run-file/to-run-config.js';
import { loadRunFile } from '../coordinator/run-file/load.js';
import { simulate } from '../coordinator/simulate/simulate.js';

const FILE = fileURLToPath(new URL('../examples/adversaries.yaml', import.meta.url));
const CLIENTS = 100;
const PER_ROUND = 20;

/** Median milliseconds of one held-out evaluation, one held-out gradient and one reference update of the 2NN on MNIST's test images. */
async function heldOutMs(): Promise<{ evaluation: number; gradient: number; reference: number; referenceExamples: number }> {
  const host = await ModelHost.create({ kind: 'builtin', name: '2nn' }, await loadMnistTestSet());
  const weights = await host.initialWeights();
  const median = async (f: () => Promise<unknown>): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await f();
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[2]!;
  };
  const plan = toRunPlan(loadRunFile(FILE), { population: CLIENTS }).config;
  const train = { localEpochs: plan.localEpochs, batchSize: plan.batchSize, optimizer: plan.optimizer, lr: plan.lr, seed: 1 };
  const reference = await median(() => host.referenceUpdate(weights, train, plan.quality!.referenceExamples));
  return { evaluation: await median(() => host.evaluate(weights)), gradient: await median(() => host.lossGradient(weights)), reference, referenceExamples: plan.quality!.referenceExamples };
}

const adversaryShare = (share: Record<string, number>): number => Object.entries(share).filter(([k]) => k !== 'honest').reduce((s, [, v]) => s + v, 0);

async function runWith(minGroupSize: number, honestOnly = false): Promise<{ row: string; accuracy: number | null; margins: string }> {
  const loaded = loadRunFile(FILE);
  const simulation = honestOnly && loaded.simulation ? { ...loaded.simulation, adversaries: [] } : loaded.simulation;
  const file = { ...loaded, simulation, rewards: { ...loaded.rewards, quality: { ...loaded.rewards?.quality, minGroupSize } } };
  const plan = { ...toRunPlan(file as typeof loaded, { population: CLIENTS }), ledger: undefined };
  const scratch = mkdtempSync(join(tmpdir(), 'cohort-bench-contribution-'));
  try {
    const storePath = join(scratch, 'run.sqlite');
    const label = honestOnly ? 'all honest' : String(minGroupSize);
    const summary = await simulate({ plan, clients: CLIENTS, storePath, print: (line) => console.error(`contribution ${label}: ${line}`) });
    const share = summary.rewardShare;
    const store = new RunStore(storePath);
    // Today's rule on the same rounds: each survivor's credited work, before any quality factor.
    const declaredWork = store.contributions(summary.runId).map((c) => ({ ...c, amount: c.examples }));
    store.close();
    const declared = rewardShares(declaredWork, classByAddress(drawFleet(plan.simulation, CLIENTS, plan.config.seed), plan.config.seed), { rounds: plan.config.rounds });
    const parts = ['labelflip', 'zero', 'noise'].map((k) => `${k} ${(share[k] ?? 0).toFixed(3)}`).join(', ');
    const perRound = summary.history.reduce((s, h) => s + h.durationMs, 0) / Math.max(1, summary.history.length) / 1000;
    const accuracy = summary.accuracy === null ? '—' : `${(summary.accuracy * 100).toFixed(2)}%`;
    const row = `| ${label} | ${Math.floor(PER_ROUND / minGroupSize)} | **${adversaryShare(share).toFixed(3)}** (${parts}) | ${adversaryShare(declared).toFixed(3)} | ${(share.honest ?? 0).toFixed(3)} | ${(summary.rewardPaid * 100).toFixed(1)}% | ${accuracy} | ${perRound.toFixed(1)} s | ${(summary.elapsedMs / 60_000).toFixed(1)} min |`;
    return { row, accuracy: summary.accuracy, margins: honestOnly ? '' : sweep(storePath, FILE, CLIENTS) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export async function run(): Promise<string> {
  const timing = await heldOutMs();
  const runs = [await runWith(5), await runWith(10), await runWith(5, true)];
  const gap = runs[0]!.accuracy !== null && runs[2]!.accuracy !== null ? ((runs[2]!.accuracy - runs[0]!.accuracy) * 100).toFixed(2) : '—';
  return [
    '`examples/adversaries.yaml`: 100 clients, 20 a round, IID MNIST, the 2NN (E = 5, B = 10, SGD 0.1), SecAgg+, 20 rounds; 10% zero, 10% noise, 10% labelflip; rewards.quality with its defaults but minGroupSize; the last row is the same file with every client honest. Issue 11\'s target: the adversaries together ≤ 0.05 of the paid budget, accuracy within 0.5 points of the all-honest run.',
    '',
    '| minGroupSize | groups a round | adversaries\' share, quality rule | adversaries\' share, declared work | honest | budget paid | accuracy | mean round time | wall time |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => r.row),
    '',
    `Accuracy, all honest minus groups of 5 with adversaries: ${gap} points.`,
    '',
    'The margin against what it costs, replayed from the groups-of-5 run\'s stored group scores (bench/contribution-sweep.ts):',
    '',
    runs[0]!.margins,
    '',
    `Scoring's extra time per round on this machine: one reference update (the 2NN trained on ${timing.referenceExamples} held-out examples, E = 5, B = 10) ${timing.reference.toFixed(0)} ms, whatever the number of groups, besides the per-group unmasking; the first-order scoring it replaced took one held-out gradient (10k MNIST test images) of ${timing.gradient.toFixed(0)} ms, and leave-one-group-out G + 2 evaluations of ${timing.evaluation.toFixed(0)} ms each (${((6 * timing.evaluation) / 1000).toFixed(2)} s with groups of 5).`,
  ].join('\n');
}
