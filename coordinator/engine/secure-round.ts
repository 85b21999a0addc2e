/**
 * One round under secure aggregation (SecAgg+). The workers train, declare their metrics
 * (`trained`), and then take part in the five SecAgg+ stages; the coordinator drives
 * core/secagg's server state machine through them, each stage with its own deadline.
 *
 * The only update-shaped value this file ever holds is the server's result: Σ w·delta over the
 * survivors and Σ w. Neither the types here nor SecAggServer's give it a way to hold one worker's
 * unmasked update.
 */
import { verifyMessage } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import type { TrainConfig, TrainedMessage } from '../../core/protocol/messages.js';
import { SECAGG_STAGE, type SecAggReply } from '../../core/protocol/secagg.js';
import type { SecAggConfig } from '../../core/secagg/config.js';
import { SecAggServer } from '../../core/secagg/server.js';
import type { ReadyWorker, WorkerChannel } from './channel.js';
import { sendTrainInstructions, type RoundOutcome } from './plain-round.js';

export interface SecureRoundRequest {
  runId: string;
  round: number;
  global: Float32Array;
  selected: readonly ReadyWorker[];
  configFor: (worker: ReadyWorker) => TrainConfig;
  /** Deadline for training and the masked input. */
  deadline: number;
  /** Deadline of each of the other stages, from the moment it opens. */
  stageTimeoutMs: number;
  secagg: SecAggConfig;
  /** A worker's weight is min(examples, weightCap) ÷ weightCap. */
  weightCap: number;
  onStage?: (stage: string, durationMs: number) => void;
  /** Values per update (default: the model's; differential privacy may add one). */
  dimension?: number;
}

export interface ActiveSecureRound {
  readonly outcome: Promise<RoundOutcome & { failure?: string }>;
  onTrained(channel: WorkerChannel, message: TrainedMessage): void;
  onReply(channel: WorkerChannel, reply: SecAggReply): Promise<void>;
  onDisconnect(address: string, reason: string): void;
  cancel(reason: string): void;
}

/** ethers' EIP-191 check, the same one the sign-in uses. */
export function verifyIdentitySignature(bytes: Uint8Array, signature: string, address: string): boolean {
  try {
    return verifyMessage(bytes, signature).toLowerCase() === address.toLowerCase();
  } catch {
    return false;
  }
}

export function startSecureRound(request: SecureRoundRequest): ActiveSecureRound {
  const byAddress = new Map(request.selected.map((w) => [w.channel.address, w]));
  const trained = new Map<string, TrainedMessage>();
  const gone = new Set<string>();
  let cancelled: string | undefined;
  let wake: (() => void) | undefined;
  let serverRef: SecAggServer | undefined;
  const nudge = (): void => wake?.();

  sendTrainInstructions(request, { weightCap: request.weightCap });

  /** Resolves when every worker the stage waits for has answered or gone, or at `until`. */
  const stageSettled = (server: SecAggServer, until: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (cancelled !== undefined || server.pending().every((id) => gone.has(id))) done();
      };
      const timer = setTimeout(() => done(), Math.max(0, until - Date.now()));
      const done = (): void => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      wake = check;
      check();
    });

  const run = async (): Promise<RoundOutcome & { failure?: string }> => {
    const server = await SecAggServer.create({
      runId: request.runId,
      round: request.round,
      participants: [...byAddress.keys()],
      config: request.secagg,
      dimension: request.dimension ?? request.global.length,
      verify: verifyIdentitySignature,
      maxWeight: 1,
    });
    serverRef = server;
    for (;;) {
      const stage = server.stage;
      const opened = Date.now();
      for (const { to, request: message } of server.requests()) byAddress.get(to)?.channel.send(message);
      // Training happens before the masked input, so that stage gets the round's deadline.
      const until = stage === SECAGG_STAGE.maskedInput ? Math.max(request.deadline, opened + request.stageTimeoutMs) : opened + request.stageTimeoutMs;
      await stageSettled(server, until);
      const result = await server.closeStage();
      request.onStage?.(stage, (Date.now() - opened) / 1000);
      const dropped = [...server.dropouts()].map(([address, d]) => ({ address, reason: `${d.stage}: ${d.reason}` }));
      if (result.status === 'failed') {
        return { aggregate: { weightedDeltaSum: new Float32Array(0), totalWeight: 0, contributors: 0 }, survivors: [], dropped, failure: result.error.message };
      }
      if (result.status === 'done') {
        const survivors = server.survivors().map((address) => {
          const m = trained.get(address);
          return { address, examples: m?.examples ?? 0, trainLoss: m?.loss ?? 0, trainMs: m?.trainMs ?? 0, steps: m?.steps ?? 0 };
        });
        return {
          aggregate: { weightedDeltaSum: result.result.sum, totalWeight: result.result.totalWeight, contributors: result.result.contributors },
          survivors,
          dropped,
        };
      }
      if (cancelled !== undefined) {
        return { aggregate: { weightedDeltaSum: new Float32Array(0), totalWeight: 0, contributors: 0 }, survivors: [], dropped, failure: cancelled };
      }
    }
  };

  const outcome = run().catch((error: unknown) => ({
    aggregate: { weightedDeltaSum: new Float32Array(0), totalWeight: 0, contributors: 0 },
    survivors: [],
    dropped: [],
    failure: error instanceof Error ? error.message : String(error),
  }));

  return {
    outcome,
    onTrained(channel, message) {
      if (!byAddress.has(channel.address) || message.round !== request.round || message.runId !== request.runId || trained.has(channel.address)) {
        throw new CohortError('E_UPDATE_STALE', `no open round ${message.round} for this worker`);
      }
      trained.set(channel.address, message);
    },
    async onReply(channel, reply) {
      const server = serverRef;
      if (!server || !byAddress.has(channel.address)) throw new CohortError('E_SECAGG_STAGE', 'no secure-aggregation round is open for this worker');
      const received = await server.receive(channel.address, reply);
      nudge();
      if (!received.accepted) throw received.error;
    },
    onDisconnect(address) {
      if (!byAddress.has(address)) return;
      gone.add(address);
      nudge();
    },
    cancel(reason) {
      cancelled = reason;
      nudge();
    },
  };
}
