/**
 * `collect` without secure aggregation: send the global weights, collect each assigned worker's
 * delta until every one has answered, dropped out, or the deadline passed (or, over-selected,
 * until `closeAfter` updates are in: the rest are sent `cancel`), and sum them as they
 * arrive (nothing per worker is kept beyond its running contribution to the sum, unless the
 * strategy needs the individual updates).
 *
 * A worker's weight is its declared examples clamped to the run's per-worker bound (maxWork), so
 * one worker that declares 10^12 examples counts as one worker with the most work a round allows.
 */
import { CohortError } from '../../../core/protocol/errors.js';
import type { UpdateMessage } from '../../../core/protocol/messages.js';
import { addScaledInto, allFinite } from '../../strategy/vector-math.js';
import { sendCancel, sendTrainInstructions, type CollectRequest, type RoundCollector } from '../collector.js';
import { fedNovaShares } from '../fednova.js';
import type { RoundOutcome } from '../round-state.js';
import { creditedWork } from '../work-bound.js';

export interface PlainCollectRequest extends CollectRequest {
  /** Keep each update as well as the sum: only for strategies that need them (median, Krum). */
  keepIndividualUpdates: boolean;
  /** Most weight one worker can have: maxWork, or 1 under differential privacy. */
  maxWeight: number;
  /** Differential privacy weights every worker 1 (its clip norm bounds its share). */
  unitWeights: boolean;
}

export function startPlainCollect(request: PlainCollectRequest): RoundCollector {
  const length = request.updateLength;
  const pending = new Map(request.assignments.map(({ worker }) => [worker.channel.address, worker]));
  const sum = new Float32Array(length);
  let totalWeight = 0;
  const survivors: RoundOutcome['survivors'] = [];
  const individual: Array<{ delta: Float32Array; weight: number; address: string }> = [];
  const dropped: RoundOutcome['dropped'] = [];
  let settle!: (outcome: RoundOutcome) => void;
  const outcome = new Promise<RoundOutcome>((resolve) => (settle = resolve));
  let settled = false;
  const started = Date.now();
  const cut: string[] = [];
  const missed: string[] = [];
  const fedNova = fedNovaShares(request.assignments);
  const enough = (): boolean => request.closeAfter !== undefined && survivors.length >= request.closeAfter;

  const finish = (): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    // Closed early with enough updates: whoever is still training is a straggler, cancelled.
    for (const [address] of pending) (enough() ? cut : missed).push(address);
    for (const address of missed) dropped.push({ address, reason: 'missed the round deadline' });
    pending.clear();
    if (cut.length > 0) sendCancel(request, cut, `round ${request.round} closed with the first ${survivors.length} updates`);
    request.onStage?.('train', (Date.now() - started) / 1000);
    const aggregate = { weightedDeltaSum: sum, totalWeight, contributors: survivors.length };
    settle({ aggregate: request.keepIndividualUpdates ? { ...aggregate, individualUpdates: individual } : aggregate, survivors, dropped, cut });
  };
  const timer = setTimeout(finish, Math.max(0, request.deadline - Date.now()));

  const refuse = (address: string, code: 'E_UPDATE_LENGTH' | 'E_UPDATE_NOT_FINITE', message: string): never => {
    dropped.push({ address, reason: code });
    if (pending.size === 0) finish();
    throw new CohortError(code, message);
  };

  const accept = (update: UpdateMessage, address: string): void => {
    if (update.delta.length !== length) refuse(address, 'E_UPDATE_LENGTH', `update has ${update.delta.length} values; the model has ${length}`);
    if (!allFinite(update.delta)) refuse(address, 'E_UPDATE_NOT_FINITE', 'update contains NaN or Infinity');
    // FedAvg weighs each worker by the examples it trained this round (FedNova: its assigned share), up to the run's bound.
    const weight = request.unitWeights ? 1 : creditedWork(fedNova.get(address) ?? update.examples, request.maxWeight);
    addScaledInto(sum, update.delta, weight);
    totalWeight += weight;
    if (request.keepIndividualUpdates) individual.push({ delta: update.delta, weight, address });
    survivors.push({ address, examples: update.examples, trainLoss: update.loss, trainMs: update.trainMs, steps: update.steps });
    if (pending.size === 0 || enough()) finish();
  };

  sendTrainInstructions(request);
  if (pending.size === 0) finish();

  return {
    outcome,
    onResult(channel, message) {
      const expected = pending.get(channel.address);
      if (settled || !expected || expected.channel.sessionId !== channel.sessionId || message.round !== request.round || message.runId !== request.runId) {
        throw new CohortError('E_UPDATE_STALE', `no open round ${message.round} for this worker`);
      }
      if (message.type !== 'update') throw new CohortError('E_UPDATE_STALE', `round ${message.round} is not securely aggregated: send an update`);
      pending.delete(channel.address);
      accept(message, channel.address);
    },
    onStageReply(_channel, reply) {
      return Promise.reject(new CohortError('E_SECAGG_STAGE', `no secure round is open (round ${reply.round})`));
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
