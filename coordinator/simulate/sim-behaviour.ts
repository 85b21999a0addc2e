/**
 * What one simulated client does with a `train` message: an honest client trains on its shard;
 * an adversary (fleet-spec.ts) cheats in its documented way. Each reply is held by the fleet clock
 * until the client's simulated finish time: its local steps × its speed factor × baseStepSeconds.
 *
 *   zero       declares the most work the round credits (maxExamplesPerWorker examples over every
 *              local epoch) and sends an all-zero delta;
 *   noise      trains (for a plausible norm), then sends a random direction of that norm — or of
 *              the DP clip norm when DP clips — each coordinate within SecAgg+'s clip range;
 *   labelflip  trains on permuted labels (y → (y + 1) mod classes);
 *   replay     resends its previous round's update (its first round is honest).
 */
import type { TrainMessage } from '../../core/protocol/messages.js';
import type { TrainResult } from '../../core/worker/client.js';
import type { FleetClock } from './fleet-clock.js';
import { seededRandom, type FleetMember } from './fleet-spec.js';
import type { TrainingPool } from './training-pool.js';

export interface BehaviourOptions {
  index: number;
  seed: number;
  member: FleetMember;
  indices: Int32Array;
  trainExamples: number;
  pool: TrainingPool;
  clock: FleetClock;
  baseStepSeconds: number;
  /** The run's per-worker cap on declared examples (what a freeloader declares). */
  maxExamplesPerWorker: number;
  /** SecAgg+'s per-coordinate clip range, when secure aggregation is on. */
  clipRange?: number | undefined;
  /** Called when a vanishing client goes away: it ends its session. */
  vanish: () => void;
}

/** Local steps a round asks of a client with `examples` examples. */
export function localSteps(config: TrainMessage['config'], examples: number): number {
  const full = config.localEpochs * Math.ceil(Math.max(1, examples) / config.batchSize);
  return config.maxLocalSteps === undefined ? full : Math.min(full, config.maxLocalSteps);
}

function l2(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}

/** A random direction (seeded) scaled to `norm`, each coordinate within ±clip. */
export function noiseDelta(length: number, norm: number, seed: number, clip?: number): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random() * 2 - 1;
  const scale = norm / Math.max(1e-12, l2(out));
  for (let i = 0; i < length; i++) {
    const v = out[i]! * scale;
    out[i] = clip === undefined ? v : Math.max(-clip, Math.min(clip, v));
  }
  return out;
}

export class ClientBehaviour {
  private previous: TrainResult | undefined;
  private vanished = false;

  constructor(private readonly o: BehaviourOptions) {}

  /** The `train` hook: the client's reply, held until its simulated time. */
  train(message: TrainMessage, signal: AbortSignal): Promise<TrainResult> {
    const { member, clock } = this.o;
    const seconds = localSteps(message.config, this.o.trainExamples) * member.speedFactor * this.o.baseStepSeconds;
    if (member.vanishes && !this.vanished) {
      this.vanished = true;
      // Halfway through its round, in simulated time, it goes: an ordinary dropout.
      void clock.hold(seconds / 2, Promise.resolve(), signal, { round: message.round, kind: 'vanish' }).then(this.o.vanish, () => undefined);
      return new Promise<TrainResult>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    }
    return clock.hold(seconds, this.work(message, signal), signal, { round: message.round, kind: 'reply' });
  }

  private async work(message: TrainMessage, signal: AbortSignal): Promise<TrainResult> {
    const { pool, indices, member } = this.o;
    switch (member.role) {
      case 'zero': {
        // The most work a round credits: the cap's worth of examples over every local epoch (an
        // honest client declares the examples it processed over its epochs, so one epoch's worth would be a fifth of it).
        const steps = localSteps(message.config, this.o.maxExamplesPerWorker);
        return { delta: new Float32Array(message.weights.length), examples: this.o.maxExamplesPerWorker * message.config.localEpochs, steps, loss: 0, accuracy: 0, trainMs: 0 };
      }
      case 'noise': {
        const honest = await pool.train(message.weights, indices, message.config, signal);
        const norm = message.config.dp?.clipNorm ?? l2(honest.delta);
        const delta = noiseDelta(honest.delta.length, norm, (this.o.seed * 7919 + this.o.index * 104729 + message.round) | 0, this.o.clipRange);
        return { ...honest, delta };
      }
      case 'labelflip':
        return pool.train(message.weights, indices, message.config, signal, { flipLabels: true });
      case 'replay': {
        if (this.previous) return { ...this.previous, delta: this.previous.delta.slice() };
        const first = await pool.train(message.weights, indices, message.config, signal);
        this.previous = { ...first, delta: first.delta.slice() };
        return first;
      }
      default:
        return pool.train(message.weights, indices, message.config, signal);
    }
  }
}
