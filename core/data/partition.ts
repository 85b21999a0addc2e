/**
 * Splitting one labelled dataset among simulated clients, as in the FL literature:
 * - iid: shuffle, then equal parts;
 * - shards: McMahan et al.'s pathological non-IID split (sort by label, cut into
 *   numClients × shardsPerClient shards, deal shardsPerClient random shards to each client);
 * - dirichlet: per class, proportions across clients drawn from Dir(alpha) (Hsu et al. 2019).
 *
 * Every index is assigned exactly once, no client is empty, and the result depends only on the
 * labels, numClients and the spec (its seed included), so every worker can compute its own part.
 */
import { CohortError } from '../protocol/errors.js';
import type { PartitionSpec } from '../protocol/messages.js';
import { createRandom, deriveSeed, dirichlet, permutation, randomInt, type Rng } from './random.js';

function badConfig(message: string): never {
  throw new CohortError('E_CONFIG_INVALID', message);
}

/** Splits `order` into `parts` contiguous runs whose lengths differ by at most one. */
function splitEven(order: ArrayLike<number>, parts: number): number[][] {
  const out: number[][] = [];
  const n = order.length;
  for (let p = 0; p < parts; p++) {
    const start = Math.floor((p * n) / parts);
    const end = Math.floor(((p + 1) * n) / parts);
    const part: number[] = [];
    for (let i = start; i < end; i++) part.push(order[i] as number);
    out.push(part);
  }
  return out;
}

function iid(n: number, numClients: number, rng: Rng): number[][] {
  return splitEven(permutation(n, rng), numClients);
}

function shards(labels: ArrayLike<number>, numClients: number, shardsPerClient: number, rng: Rng): number[][] {
  const n = labels.length;
  const numShards = numClients * shardsPerClient;
  if (numShards > n) badConfig(`${numClients} clients × ${shardsPerClient} shards need at least ${numShards} examples, have ${n}`);
  // Stable sort by label (ties keep index order), as in McMahan et al.
  const byLabel = Array.from({ length: n }, (_, i) => i).sort((a, b) => (labels[a] as number) - (labels[b] as number) || a - b);
  const shardList = splitEven(byLabel, numShards);
  const dealt = permutation(numShards, rng);
  const out: number[][] = [];
  for (let c = 0; c < numClients; c++) {
    const part: number[] = [];
    for (let s = 0; s < shardsPerClient; s++) part.push(...(shardList[dealt[c * shardsPerClient + s] as number] as number[]));
    out.push(part);
  }
  return out;
}

function dirichletSplit(labels: ArrayLike<number>, numClients: number, alpha: number, seed: number): number[][] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    let list = byClass.get(label);
    if (list === undefined) byClass.set(label, (list = []));
    list.push(i);
  }
  const out: number[][] = Array.from({ length: numClients }, () => []);
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  for (const label of classes) {
    // One stream per class, so adding a class does not reshuffle the others.
    const rng = createRandom(deriveSeed(seed, label + 1));
    const members = byClass.get(label) as number[];
    const order = permutation(members.length, rng);
    const p = dirichlet(rng, alpha, numClients);
    // Cumulative rounding: the counts always sum to the class size.
    let cumulative = 0;
    let start = 0;
    for (let c = 0; c < numClients; c++) {
      cumulative += p[c] as number;
      const end = c === numClients - 1 ? members.length : Math.min(members.length, Math.round(cumulative * members.length));
      const part = out[c] as number[];
      for (let i = start; i < end; i++) part.push(members[order[i] as number] as number);
      start = Math.max(start, end);
    }
  }
  fillEmpty(out, createRandom(deriveSeed(seed, 0)));
  return out;
}

/** Small alpha can leave clients empty; give each one example taken from the largest client. */
function fillEmpty(parts: number[][], rng: Rng): void {
  for (const part of parts) {
    if (part.length > 0) continue;
    let largest = parts[0] as number[];
    for (const other of parts) if (other.length > largest.length) largest = other;
    const k = randomInt(rng, largest.length);
    part.push(largest[k] as number);
    largest[k] = largest[largest.length - 1] as number;
    largest.pop();
  }
}

/**
 * Assigns each of `labels.length` examples to one of `numClients` clients. Returns one ascending
 * index list per client.
 */
export function partitionIndices(labels: ArrayLike<number>, numClients: number, spec: PartitionSpec): number[][] {
  const n = labels.length;
  if (!Number.isInteger(numClients) || numClients < 1) badConfig(`numClients must be a positive integer, got ${numClients}`);
  if (numClients > n) badConfig(`cannot split ${n} examples among ${numClients} clients without leaving some empty`);
  for (let i = 0; i < n; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0) throw new CohortError('E_DATA_INVALID', `label ${label} at ${i} is not a non-negative integer`);
  }
  const rng = createRandom(spec.seed);
  let parts: number[][];
  switch (spec.kind) {
    case 'iid':
      parts = iid(n, numClients, rng);
      break;
    case 'shards':
      parts = shards(labels, numClients, spec.shardsPerClient ?? 2, rng);
      break;
    case 'dirichlet': {
      const alpha = spec.alpha ?? 0.5;
      if (!(alpha > 0) || !Number.isFinite(alpha)) badConfig(`dirichlet alpha must be positive, got ${alpha}`);
      parts = dirichletSplit(labels, numClients, alpha, spec.seed);
      break;
    }
    default:
      badConfig(`unknown partition kind ${String((spec as { kind: unknown }).kind)}`);
  }
  for (const part of parts) part.sort((a, b) => a - b);
  return parts;
}
