/**
 * Federated evaluation's pieces: the held-out split a worker never trains on, the worker's answer,
 * and the coordinator's example-weighted mean over the answers it gets in time.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Batch, LocalDataset } from '../../../core/data/dataset.js';
import { splitHeldOut } from '../../../core/data/held-out.js';
import { InMemoryDataset } from '../../../core/data/in-memory.js';
import { createRandom } from '../../../core/data/random.js';
import { CohortError } from '../../../core/protocol/errors.js';
import { evaluationSchema, evaluateSchema, type EvaluateMessage } from '../../../core/protocol/evaluate.js';
import { answerEvaluate } from '../../../core/train/federated-evaluate.js';
import { evaluateModel } from '../../../core/train/evaluate.js';
import { getFlatWeights, setFlatWeights } from '../../../core/train/weights.js';
import type { ReadyWorker, WorkerChannel } from '../../../coordinator/transport/channel.js';
import { FederatedEvaluation, weightedEvaluation } from '../../../coordinator/evaluation/federated.js';

const SHAPE = [4, 4, 1];

function randomDataset(n: number, seed: number, duplicateFirst = 0): InMemoryDataset {
  const rng = createRandom(seed);
  const pixels = new Uint8Array(n * 16);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(rng() * 256);
  // The last `duplicateFirst` examples copy the first ones exactly.
  for (let i = 0; i < duplicateFirst; i++) pixels.copyWithin((n - duplicateFirst + i) * 16, i * 16, (i + 1) * 16);
  const labels = Array.from({ length: n }, (_, i) => (i >= n - duplicateFirst ? (i - (n - duplicateFirst)) % 3 : i % 3));
  return new InMemoryDataset({ pixels, labels, inputShape: SHAPE, numClasses: 3 });
}

/** Every example of `data` as a string of its values and label, in order of one epoch. */
function contents(data: LocalDataset, batchSize = 7, seed = 1): string[] {
  const out: string[] = [];
  for (const b of data.batches(batchSize, seed)) for (let i = 0; i < b.size; i++) out.push(`${Array.from(b.xs.subarray(i * 16, (i + 1) * 16)).join(',')}|${b.ys[i]}`);
  return out;
}

describe('held-out split', () => {
  const data = randomDataset(2000, 7);
  const { train, heldOut } = splitHeldOut(data, 0.1);

  it('holds out about the fraction asked for, and the two sides make up the whole', () => {
    expect(train.size + heldOut.size).toBe(2000);
    expect(heldOut.size).toBeGreaterThan(150);
    expect(heldOut.size).toBeLessThan(250);
    expect(contents(train).length).toBe(train.size);
    expect(contents(heldOut).length).toBe(heldOut.size);
  });

  it('never puts one example on both sides', () => {
    const trainSet = new Set(contents(train));
    for (const example of contents(heldOut)) expect(trainSet.has(example)).toBe(false);
    expect([...contents(train), ...contents(heldOut)].sort()).toEqual(contents(data).sort());
  });

  it('does not depend on the order or batch size the data is read in', () => {
    expect(contents(heldOut, 3, 11).sort()).toEqual(contents(heldOut, 50, 2).sort());
  });

  it('puts exact duplicates on the same side', () => {
    const dup = randomDataset(1000, 3, 300);
    const split = splitHeldOut(dup, 0.2);
    const held = new Set(contents(split.heldOut));
    const trained = new Set(contents(split.train));
    for (const example of held) expect(trained.has(example)).toBe(false);
  });

  it('re-packs the kept examples into full batches', () => {
    const sizes = [...train.batches(32, 5)].map((b: Batch) => b.size);
    expect(sizes.slice(0, -1).every((s) => s === 32)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(train.size);
  });

  it('refuses a fraction outside (0, 1)', () => {
    expect(() => splitHeldOut(data, 0)).toThrow(/held-out fraction must be in \(0, 1\)/);
    expect(() => splitHeldOut(data, 1)).toThrow(CohortError);
  });
});

describe("a worker's evaluation", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is the global model on its held-out split, as the protocol message', async () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: SHAPE }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const weights = await getFlatWeights(model);
    const heldOut = splitHeldOut(randomDataset(500, 9), 0.2).heldOut;
    setFlatWeights(model, new Float32Array(weights.length)); // answerEvaluate must set the weights itself
    const message: EvaluateMessage = evaluateSchema.parse({ type: 'evaluate', runId: 'r', round: 3, weights, deadline: Date.now() + 1000 });
    const answer = evaluationSchema.parse(await answerEvaluate(model, heldOut, message));
    setFlatWeights(model, weights);
    const expected = await evaluateModel(model, heldOut);
    expect(answer).toEqual({ type: 'evaluation', runId: 'r', round: 3, examples: heldOut.size, loss: expected.loss, accuracy: expected.accuracy });
    model.dispose();
  });
});

describe("the coordinator's federated metric", () => {
  it('is the example-weighted mean of the answers that carry examples', () => {
    const metrics = weightedEvaluation(
      [
        { examples: 10, loss: 1, accuracy: 0.5 },
        { examples: 30, loss: 2, accuracy: 0.9 },
        { examples: 0, loss: 0, accuracy: 0 },
      ],
      4,
    );
    expect(metrics).toEqual({ examples: 40, loss: 1.75, accuracy: 0.8, responders: 2, asked: 4 });
    expect(weightedEvaluation([{ examples: 0, loss: 0, accuracy: 0 }], 1)).toBeUndefined();
  });

  function fakeWorkers(n: number): { ready: ReadyWorker[]; sent: Map<string, unknown[]> } {
    const sent = new Map<string, unknown[]>();
    const ready = Array.from({ length: n }, (_, i): ReadyWorker => {
      const address = `0x${String(i).padStart(40, '0')}`;
      sent.set(address, []);
      const channel: WorkerChannel = { sessionId: `s${i}`, address, kind: 'node', send: (m) => void sent.get(address)!.push(m), close: () => undefined };
      return { channel, backend: { backend: 'test', reason: 'test' }, examples: 100 };
    });
    return { ready, sent };
  }

  it('asks a sample of workers, and combines their answers', async () => {
    const { ready, sent } = fakeWorkers(10);
    const federated = new FederatedEvaluation({ heldOutFraction: 0.1, clients: 4, timeoutMs: 5_000 }, 1);
    const weights = new Float32Array([1, 2, 3]);
    const result = federated.evaluate('run', 2, weights, ready);
    const asked = ready.filter((w) => sent.get(w.channel.address)!.length > 0);
    expect(asked).toHaveLength(4);
    expect(sent.get(asked[0]!.channel.address)![0]).toMatchObject({ type: 'evaluate', runId: 'run', round: 2, weights });
    asked.forEach((w, i) => federated.onEvaluation(w.channel, { type: 'evaluation', runId: 'run', round: 2, examples: 10 * (i + 1), loss: i, accuracy: 0.1 * i }));
    expect(await result).toMatchObject({ examples: 100, responders: 4, asked: 4, loss: (0 * 10 + 1 * 20 + 2 * 30 + 3 * 40) / 100 });
  });

  it('refuses answers nobody asked for, and stops waiting for workers that leave or miss the deadline', async () => {
    const { ready, sent } = fakeWorkers(3);
    const federated = new FederatedEvaluation({ heldOutFraction: 0.1, timeoutMs: 300 }, 1);
    const result = federated.evaluate('run', 1, new Float32Array(2), ready);
    const [a, b, c] = ready.map((w) => w.channel);
    expect(() => federated.onEvaluation(a!, { type: 'evaluation', runId: 'run', round: 9, examples: 1, loss: 1, accuracy: 1 })).toThrow(/no evaluation of round 9/);
    federated.onEvaluation(a!, { type: 'evaluation', runId: 'run', round: 1, examples: 5, loss: 1, accuracy: 1 });
    expect(() => federated.onEvaluation(a!, { type: 'evaluation', runId: 'run', round: 1, examples: 5, loss: 1, accuracy: 1 })).toThrow(/already evaluated/);
    federated.onDisconnect(b!.address);
    const started = Date.now();
    // c never answers: the deadline ends the wait with a's answer alone.
    expect(await result).toMatchObject({ examples: 5, responders: 1, asked: 3, accuracy: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(sent.get(c!.address)).toHaveLength(1);
  });
});
