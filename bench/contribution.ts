/**
 * Contribution scoring (issue 11's benchmark): `examples/adversaries.yaml` (100 simulated clients,
 * 20 a round, IID MNIST, the 2NN, SecAgg+, 20 rounds; 10% zero, 10% noise, 10% labelflip) run with
 * scoring groups of 5 and of 10, in one run: the share of the paid budget each class earns
 * (`rewardShare`), the accuracy, and the coordinator's extra time per round, estimated as the
 * G + 2 held-out evaluations the score step makes (G groups: ⌊20 ÷ minGroupSize⌋), each timed
 * here on the coordinator's own model host and MNIST test set.
 */
import { fileURLToPath } from 'node:url';
import { ModelHost } from '../coordinator/evaluation/model-host.js';
import { loadMnistTestSet } from '../coordinator/evaluation/mnist-test-set.js';
import { toRunPlan } from '../coordinator/run-file/to-run-config.js';
import { loadRunFile } from '../coordinator/run-file/load.js';
import { simulate } from '../coordinator/simulate/simulate.js';

const FILE = fileURLToPath(new URL('../examples/adversaries.yaml', import.meta.url));
const CLIENTS = 100;
const PER_ROUND = 20;

/** Median milliseconds of one held-out evaluation of the 2NN on MNIST's 10k test images. */
async function evaluationMs(): Promise<number> {
  const host = await ModelHost.create({ kind: 'builtin', name: '2nn' }, await loadMnistTestSet());
  const weights = await host.initialWeights();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await host.evaluate(weights);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2]!;
}

async function runWith(minGroupSize: number): Promise<string> {
  const loaded = loadRunFile(FILE);
  const file = { ...loaded, rewards: { ...loaded.rewards, quality: { ...loaded.rewards?.quality, minGroupSize } } };
  const plan = { ...toRunPlan(file as typeof loaded, { population: CLIENTS }), ledger: undefined };
  const summary = await simulate({ plan, clients: CLIENTS, print: (line) => console.error(`contribution ${minGroupSize}: ${line}`) });
  const share = summary.rewardShare;
  const adversaries = Object.entries(share).filter(([k]) => k !== 'honest').reduce((s, [, v]) => s + v, 0);
  const parts = ['labelflip', 'zero', 'noise'].map((k) => `${k} ${(share[k] ?? 0).toFixed(3)}`).join(', ');
  const perRound = summary.history.reduce((s, h) => s + h.durationMs, 0) / Math.max(1, summary.history.length) / 1000;
  return `| ${minGroupSize} | ${Math.floor(PER_ROUND / minGroupSize)} | **${adversaries.toFixed(3)}** (${parts}) | ${(share.honest ?? 0).toFixed(3)} | ${summary.accuracy === null ? '—' : `${(summary.accuracy * 100).toFixed(2)}%`} | ${perRound.toFixed(1)} s | ${(summary.elapsedMs / 60_000).toFixed(1)} min |`;
}

export async function run(): Promise<string> {
  const evalMs = await evaluationMs();
  const rows = [await runWith(5), await runWith(10)];
  const extra = (groups: number) => (((groups + 2) * evalMs) / 1000).toFixed(2);
  return [
    '`examples/adversaries.yaml`: 100 clients, 20 a round, IID MNIST, the 2NN (E = 5, B = 10, SGD 0.1), SecAgg+, 20 rounds; 10% zero, 10% noise, 10% labelflip; rewards.quality with its defaults but minGroupSize. Issue 11\'s target: the adversaries together ≤ 0.05 of the paid budget.',
    '',
    '| minGroupSize | groups a round | adversaries\' share | honest | accuracy | mean round time | wall time |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `One held-out evaluation (2NN, 10k MNIST test images, this machine): ${evalMs.toFixed(0)} ms, so scoring adds about ${extra(4)} s a round with groups of 5 (4 groups: G + 2 = 6 evaluations) and ${extra(2)} s with groups of 10 (4 evaluations), besides the per-group unmasking.`,
  ].join('\n');
}
