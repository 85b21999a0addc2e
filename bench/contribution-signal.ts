/**
 * What one update's first-order score looks like, per kind of client, round by round (issue 11):
 * the signal the contribution estimator has to work with, before groups blur it. A FedAvg run of
 * the adversaries' setup (the 2NN, IID MNIST, E = 5, B = 10, SGD 0.1) keeps its model honest
 * (only the honest updates are applied) while, each round, 20 clients train: 14 honest, 2 `zero`,
 * 2 `noise`, 2 `labelflip`, made exactly as the simulator makes them (sim-behaviour.ts). Each
 * update d is scored as the scoring step scores a group's mean delta (group-score.ts,
 * scoreGroupsFirstOrder): −∇L·d ÷ −∇L·Δ, ∇L the held-out loss gradient at the round's model
 * (MNIST's 10k test images, ModelHost.lossGradient), Δ the round's mean over all 20, so the
 * round's average client scores 1. Next to it, the same update's true held-out improvement
 * L(x) − L(x + d) ÷ that of Δ, which a first-order score approximates.
 *
 *   node --import tsx bench/contribution-signal.ts [ROUNDS]
 */
import { ModelHost } from '../coordinator/evaluation/model-host.js';
import { loadMnistTestSet } from '../coordinator/evaluation/mnist-test-set.js';
import { noiseDelta } from '../coordinator/simulate/sim-behaviour.js';
import { clientShards, loadSharedMnist } from '../coordinator/simulate/sim-data.js';
import { TrainingPool } from '../coordinator/simulate/training-pool.js';
import { machineLine } from './machine.js';

type Kind = 'honest' | 'zero' | 'noise' | 'labelflip';
const KINDS: Kind[] = ['honest', 'zero', 'noise', 'labelflip'];
const kindOf = (i: number): Kind => (i < 14 ? 'honest' : i < 16 ? 'zero' : i < 18 ? 'noise' : 'labelflip');

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);
const plus = (x: Float32Array, d: Float32Array): Float32Array => x.map((v, i) => v + d[i]!);
function meanSd(xs: number[]): string {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${m.toFixed(2)} ± ${sd.toFixed(2)}`;
}

const rounds = Number(process.argv[2] ?? 12);
const data = loadSharedMnist();
const shards = clientShards(data, 100, { kind: 'iid', alpha: 0.5, shardsPerClient: 2, seed: 1 });
const pool = await TrainingPool.start({ threads: 2, model: { kind: 'builtin', name: '2nn' }, data });
const host = await ModelHost.create({ kind: 'builtin', name: '2nn' }, await loadMnistTestSet());
let global = await host.initialWeights();
const lines = [
  `Command: \`node --import tsx bench/contribution-signal.ts ${rounds}\`  `,
  `Machine: ${machineLine()}`,
  '',
  '| round | accuracy | score | ' + KINDS.join(' | ') + ' |',
  '|---|---|---|' + KINDS.map(() => '---|').join(''),
];
try {
  for (let round = 1; round <= rounds; round++) {
    const config = { localEpochs: 5, batchSize: 10, optimizer: 'sgd' as const, lr: 0.1, seed: round };
    const clients = Array.from({ length: 20 }, (_, i) => (i * 7 + round * 13) % 100);
    const deltas = await Promise.all(
      clients.map(async (client, i) => {
        const kind = kindOf(i);
        if (kind === 'zero') return new Float32Array(global.length);
        const trained = await pool.train(global, shards[client]!.indices, config, undefined, { flipLabels: kind === 'labelflip' });
        return kind === 'noise' ? noiseDelta(global.length, Math.sqrt(dot(trained.delta, trained.delta)), round * 31 + i) : trained.delta;
      }),
    );
    const mean = new Float32Array(global.length);
    for (const d of deltas) d.forEach((v, k) => (mean[k]! += v / deltas.length));
    const gradient = await host.lossGradient(global);
    const start = await host.evaluate(global);
    const improvement = async (d: Float32Array): Promise<number> => start.loss - (await host.evaluate(plus(global, d))).loss;
    const roundImprovement = await improvement(mean);
    const firstOrder = deltas.map((d) => dot(gradient, d) / dot(gradient, mean));
    const actual: number[] = [];
    for (const d of deltas) actual.push((await improvement(d)) / roundImprovement);
    for (const [name, scores] of [['first-order', firstOrder], ['held-out loss', actual]] as const) {
      const cells = KINDS.map((kind) => meanSd(scores.filter((_, i) => kindOf(i) === kind)));
      lines.push(`| ${round} | ${(start.accuracy * 100).toFixed(2)}% | ${name} | ${cells.join(' | ')} |`);
    }
    // The model moves with the honest updates only, as a run that excluded every cheater would.
    const honest = new Float32Array(global.length);
    deltas.slice(0, 14).forEach((d) => d.forEach((v, k) => (honest[k]! += v / 14)));
    global = plus(global, honest);
    console.error(`round ${round} done`);
  }
} finally {
  await pool.close();
  host.dispose();
}
console.log(lines.join('\n'));
