/**
 * One round without secure aggregation: send the global weights, collect each selected worker's
 * delta until every one has answered, dropped out, or the deadline passed, and sum them as they
 * arrive (nothing per worker is kept beyond its running contribution to the sum).
 */
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig, UpdateMessage } from '../../core/protocol/messages.js';
import { addScaledInto, allFinite } from '../strategy/vector-math.js';
import type { RoundAggregate } from '../strategy/strategy.js';
import type { ReadyWorker, WorkerChannel } from './channel.js';

export interface RoundOutcome {
  aggregate: RoundAggregate;
  /** Per surviving worker: what it declared (examples) — used for contributions and stats. */
  survivors: Array<{ address: string; examples: number; trainLoss: number; trainMs: number; steps: number }>;
  dropped: Array<{ address: string; reason: string }>;
}

export interface RoundRequest {
  runId: string;
  round: number;
  global: Float32Array;
  selected: readonly ReadyWorker[];
  configFor: (worker: ReadyWorker) => TrainConfig;
  deadline: number;
  /** Keep each update as well as the sum: only for strategies that need them (median, Krum). */
  keepIndividualUpdates?: boolean;
  /** Values per update (default: the model's; differential privacy may add one). */
  updateLength?: number;
  /** FedAvg weights by examples; differential privacy weights every worker 1. */
  weightOf?: (update: UpdateMessage) => number;
}

/** A round in progress. The engine forwards updates and disconnects to it. */
export interface ActiveRound {
  readonly outcome: Promise<RoundOutcome>;
  onUpdate(channel: WorkerChannel, update: UpdateMessage): void;
  onDisconnect(address: string, reason: string): void;
  /** Ends the round now with whatever has arrived (used by stop and pause). */
  cancel(reason: string): void;
}

/** Sends every selected worker the round's global weights and its own training instructions. */
export function sendTrainInstructions(request: RoundRequest, secureAggregation?: { weightCap: number }): void {
  for (const worker of request.selected) {
    worker.channel.send({
      type: 'train',
      runId: request.runId,
      round: request.round,
      weights: request.global,
      config: request.configFor(worker),
      deadline: request.deadline,
      ...(secureAggregation ? { secureAggregation } : {}),
    });
  }
}

export function startPlainRound(request: RoundRequest): ActiveRound {
  const length = request.updateLength ?? request.global.length;
  const pending = new Map(request.selected.map((w) => [w.channel.address, w]));
  const sum = new Float32Array(length);
  let totalWeight = 0;
  const survivors: RoundOutcome['survivors'] = [];
  const individual: Array<{ delta: Float32Array; weight: number; address: string }> = [];
  const dropped: RoundOutcome['dropped'] = [];
  let settle!: (outcome: RoundOutcome) => void;
  const outcome = new Promise<RoundOutcome>((resolve) => (settle = resolve));
  let settled = false;

  const finish = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    for (const [address] of pending) dropped.push({ address, reason: 'missed the round deadline' });
    pending.clear();
    const aggregate = { weightedDeltaSum: sum, totalWeight, contributors: survivors.length };
    settle({ aggregate: request.keepIndividualUpdates ? { ...aggregate, individualUpdates: individual } : aggregate, survivors, dropped });
  };
  const timer = setTimeout(finish, Math.max(0, request.deadline - Date.now()));

  sendTrainInstructions(request);
  if (pending.size === 0) finish();

  return {
    outcome,
    onUpdate(channel, update) {
      const expected = pending.get(channel.address);
      if (settled || !expected || expected.channel.sessionId !== channel.sessionId || update.round !== request.round || update.runId !== request.runId) {
        throw new CohortError('E_UPDATE_STALE', `no open round ${update.round} for this worker`);
      }
      pending.delete(channel.address);
      if (update.delta.length !== length) {
        dropped.push({ address: channel.address, reason: 'E_UPDATE_LENGTH' });
        if (pending.size === 0) finish();
        throw new CohortError('E_UPDATE_LENGTH', `update has ${update.delta.length} values; the model has ${length}`);
      }
      if (!allFinite(update.delta)) {
        dropped.push({ address: channel.address, reason: 'E_UPDATE_NOT_FINITE' });
        if (pending.size === 0) finish();
        throw new CohortError('E_UPDATE_NOT_FINITE', 'update contains NaN or Infinity');
      }
      // FedAvg weights each worker by the examples it trained on this round.
      const weight = request.weightOf ? request.weightOf(update) : update.examples;
      addScaledInto(sum, update.delta, weight);
      totalWeight += weight;
      if (request.keepIndividualUpdates) individual.push({ delta: update.delta, weight, address: channel.address });
      survivors.push({ address: channel.address, examples: update.examples, trainLoss: update.loss, trainMs: update.trainMs, steps: update.steps });
      if (pending.size === 0) finish();
    },
    onDisconnect(address, reason) {
      if (settled || !pending.has(address)) return;
      pending.delete(address);
      dropped.push({ address, reason });
      if (pending.size === 0) finish();
    },
    cancel(reason) {
      for (const [address] of pending) dropped.push({ address, reason });
      pending.clear();
      finish();
    },
  };
}
