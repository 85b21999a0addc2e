/**
 * The coordinator's side of federated evaluation (core/protocol/evaluate.ts): after a round it
 * asks a seeded sample of ready workers to evaluate the new global model on their held-out
 * splits, waits until each has answered, left, or the deadline passed, and reports the
 * example-weighted mean of their losses and accuracies.
 *
 * @example
 *   const federated = new FederatedEvaluation({ heldOutFraction: 0.1, clients: 20, timeoutMs: 60_000 }, config.seed);
 *   // engine, after aggregating round r:  metrics = await federated.evaluate(runId, r, next, [...ready.values()]);
 *   // gateway, on an `evaluation` message: federated.onEvaluation(channel, message);
 *   // engine.removeWorker:                 federated.onDisconnect(address);
 */
import { CohortError } from '../../core/protocol/errors.js';
import { EVALUATE_TYPE, type EvaluateMessage, type EvaluationMessage } from '../../core/protocol/evaluate.js';
import type { ReadyWorker, WorkerChannel } from '../transport/channel.js';
import { selectWorkers } from '../engine/selection.js';

export interface FederatedEvaluationPlan {
  /** Share of each worker's examples held out (told to workers at sign-in). */
  heldOutFraction: number;
  /** Workers asked per round; undefined asks every ready worker. */
  clients?: number | undefined;
  /** How long to wait for answers. */
  timeoutMs: number;
}

export interface FederatedMetrics {
  /** Example-weighted mean accuracy over the answers. */
  accuracy: number;
  /** Example-weighted mean loss over the answers. */
  loss: number;
  /** Held-out examples behind the means. */
  examples: number;
  /** Workers that answered with at least one example. */
  responders: number;
  asked: number;
}

export interface WorkerEvaluation {
  examples: number;
  loss: number;
  accuracy: number;
}

/** The example-weighted means; undefined when no answer carried an example. */
export function weightedEvaluation(results: Iterable<WorkerEvaluation>, asked: number): FederatedMetrics | undefined {
  let examples = 0;
  let lossSum = 0;
  let correctSum = 0;
  let responders = 0;
  for (const r of results) {
    if (r.examples === 0) continue;
    examples += r.examples;
    lossSum += r.loss * r.examples;
    correctSum += r.accuracy * r.examples;
    responders++;
  }
  if (examples === 0) return undefined;
  return { accuracy: correctSum / examples, loss: lossSum / examples, examples, responders, asked };
}

interface Pending {
  runId: string;
  round: number;
  /** Who was asked, by address, with the session that was asked (a reconnect cannot answer for it). */
  asked: Map<string, string>;
  results: Map<string, WorkerEvaluation>;
  finish: () => void;
}

/** Sampled separately from training, so the evaluators are not just the round's trainers. */
const EVALUATION_SEED_OFFSET = 104_729;

export class FederatedEvaluation {
  private pending: Pending | undefined;

  constructor(
    readonly plan: FederatedEvaluationPlan,
    private readonly seed: number,
  ) {}

  /**
   * Asks a sample of `ready` to evaluate `weights` (the global model after `round`). Resolves with
   * the weighted means once every asked worker answered or left, or at the deadline; undefined when
   * no held-out example was reported.
   */
  async evaluate(runId: string, round: number, weights: Float32Array, ready: readonly ReadyWorker[]): Promise<FederatedMetrics | undefined> {
    this.cancel();
    const chosen = selectWorkers(ready, this.plan.clients, this.seed + EVALUATION_SEED_OFFSET, round);
    if (chosen.length === 0) return undefined;
    const deadline = Date.now() + this.plan.timeoutMs;
    const pending: Pending = { runId, round, asked: new Map(), results: new Map(), finish: () => undefined };
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.plan.timeoutMs);
      pending.finish = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.pending = pending;
    const message: EvaluateMessage = { type: EVALUATE_TYPE, runId, round, weights, deadline };
    for (const worker of chosen) {
      pending.asked.set(worker.channel.address, worker.channel.sessionId);
      // The channel's type predates `evaluate`; it encodes any message object it is given.
      worker.channel.send(message as unknown as Parameters<WorkerChannel['send']>[0]);
    }
    await done;
    if (this.pending === pending) this.pending = undefined;
    return weightedEvaluation(pending.results.values(), chosen.length);
  }

  /** A worker's answer; E_UPDATE_STALE when no evaluation of that round is waiting for it. */
  onEvaluation(channel: WorkerChannel, message: EvaluationMessage): void {
    const pending = this.pending;
    if (!pending || pending.runId !== message.runId || pending.round !== message.round || pending.asked.get(channel.address) !== channel.sessionId) {
      throw new CohortError('E_UPDATE_STALE', `no evaluation of round ${message.round} is waiting for this worker`);
    }
    if (pending.results.has(channel.address)) throw new CohortError('E_UNEXPECTED_MESSAGE', `already evaluated round ${message.round}`);
    pending.results.set(channel.address, { examples: message.examples, loss: message.loss, accuracy: message.accuracy });
    this.settleIfComplete(pending);
  }

  /** A worker left: stop waiting for its answer. */
  onDisconnect(address: string): void {
    const pending = this.pending;
    if (!pending || !pending.asked.has(address) || pending.results.has(address)) return;
    pending.asked.delete(address);
    this.settleIfComplete(pending);
  }

  /** Stop waiting (the run is stopping); the evaluation in progress resolves with what it has. */
  cancel(): void {
    this.pending?.finish();
    this.pending = undefined;
  }

  private settleIfComplete(pending: Pending): void {
    for (const address of pending.asked.keys()) if (!pending.results.has(address)) return;
    pending.finish();
  }
}
