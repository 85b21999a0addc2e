/**
 * The `collect` step's seam: how a round gets from "instructions sent" to "the sum the
 * coordinator may know". Two implementations share one request type and one message path:
 * collect-plain.ts (workers send their deltas; the coordinator sums them as they arrive) and
 * collect-secure.ts (SecAgg+: the coordinator learns only the sum). The engine routes every
 * round message to the active collector without knowing which kind it is; a collector refuses
 * the messages its kind does not take, with the code a worker can act on.
 */
import type { TrainConfig, TrainedMessage, UpdateMessage } from '../../core/protocol/messages.js';
import type { SecAggReply } from '../../core/protocol/secagg.js';
import type { ReadyWorker, WorkerChannel } from '../transport/channel.js';
import type { RoundOutcome } from './round-state.js';

/** What both collectors are given. */
export interface CollectRequest {
  runId: string;
  round: number;
  global: Float32Array;
  /** The workers given work, each with its instructions. */
  assignments: ReadonlyArray<{ worker: ReadyWorker; config: TrainConfig }>;
  /** Deadline for training (and, when secure, the masked input), ms since the epoch. */
  deadline: number;
  /** Values per update: the model's, plus what differential privacy appends. */
  updateLength: number;
  /**
   * Over-selection: close once this many results are in (plain: updates; SecAgg+: masked inputs)
   * and cancel the rest. Undefined: wait for every assigned worker or the deadline.
   */
  closeAfter?: number | undefined;
  /** Called when a stage of the collection ends, with how long it took in seconds. */
  onStage?: ((stage: string, seconds: number) => void) | undefined;
}

/** A collection in progress. */
export interface RoundCollector {
  readonly outcome: Promise<RoundOutcome>;
  /** A worker's training result: its update (plain) or its declared metrics (secure). Throws a CohortError to refuse it. */
  onResult(channel: WorkerChannel, message: UpdateMessage | TrainedMessage): void;
  /** A worker's reply to a protocol stage (SecAgg+); rejects with a CohortError to refuse it. */
  onStageReply(channel: WorkerChannel, reply: SecAggReply): Promise<void>;
  onDisconnect(address: string, reason: string): void;
  /** Ends the collection now (stop and pause). */
  cancel(reason: string): void;
}

/** Sends every assigned worker the round's global weights and its own training instructions. */
export function sendTrainInstructions(request: CollectRequest, secureAggregation?: { weightCap: number }): void {
  for (const { worker, config } of request.assignments) {
    worker.channel.send({
      type: 'train',
      runId: request.runId,
      round: request.round,
      weights: request.global,
      config,
      deadline: request.deadline,
      ...(secureAggregation ? { secureAggregation } : {}),
    });
  }
}

/** Tells each straggler the round closed without it, so that it stops training at once. */
export function sendCancel(request: CollectRequest, addresses: readonly string[], reason: string): void {
  const byAddress = new Map(request.assignments.map(({ worker }) => [worker.channel.address, worker]));
  for (const address of addresses) byAddress.get(address)?.channel.send({ type: 'cancel', runId: request.runId, round: request.round, reason });
}

/** An outcome with nothing in it, for a collection that failed. */
export function emptyOutcome(dropped: RoundOutcome['dropped'], failure: string): RoundOutcome {
  return { aggregate: { weightedDeltaSum: new Float32Array(0), totalWeight: 0, contributors: 0 }, survivors: [], dropped, failure };
}
