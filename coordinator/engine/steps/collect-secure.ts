/**
 * `collect` under secure aggregation (SecAgg+). The workers train, declare their metrics
 * (`trained`), and then take part in the five SecAgg+ stages; the coordinator drives
 * core/secagg's server state machine through them, each stage with its own deadline.
 *
 * Over-selection (`closeAfter`): the masked-input stage closes once that many masked inputs are
 * in (core/secagg's maskedInput.closeAfter). Workers without one in the sum by then are ordinary
 * SecAgg+ dropouts, whose masks the unmask stage removes; here they are also stragglers the round
 * cut, and are sent `cancel`.
 *
 * The only update-shaped value this file ever holds is the server's result: Σ w·delta over the
 * survivors and Σ w. Neither the types here nor SecAggServer's give it a way to hold one worker's
 * unmasked update.
 */
import { verifyMessage } from 'ethers';
import { CohortError } from '../../../core/protocol/errors.js';
import type { TrainedMessage } from '../../../core/protocol/messages.js';
import { SECAGG_STAGE } from '../../../core/protocol/secagg.js';
import type { SecAggConfig } from '../../../core/secagg/config.js';
import { SecAggServer } from '../../../core/secagg/server.js';
import type { SecAggResult } from '../../../core/secagg/unmask.js';
import { emptyOutcome, sendCancel, sendTrainInstructions, type CollectRequest, type RoundCollector } from '../collector.js';
import type { RoundOutcome } from '../round-state.js';

export interface SecureCollectRequest extends CollectRequest {
  /** Deadline of each stage other than training + masked input, from the moment it opens. */
  stageTimeoutMs: number;
  secagg: SecAggConfig;
  /** A worker's weight is min(examples, weightCap) ÷ weightCap; from the run's configuration. */
  weightCap: number;
}

/** ethers' EIP-191 check, the same one the sign-in uses. */
export function verifyIdentitySignature(bytes: Uint8Array, signature: string, address: string): boolean {
  try {
    return verifyMessage(bytes, signature).toLowerCase() === address.toLowerCase();
  } catch {
    return false;
  }
}

/** What the stage loop and the message handlers share. */
interface Progress {
  readonly gone: Set<string>;
  cancelled: string | undefined;
  /** Re-checks whether the open stage can close (set while a stage waits). */
  wake: (() => void) | undefined;
}

/** Resolves when every worker the stage waits for has answered or gone, or at `until`. */
function stageSettled(server: SecAggServer, until: number, progress: Progress): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (progress.cancelled !== undefined || server.pending().every((id) => progress.gone.has(id))) done();
    };
    const timer = setTimeout(() => done(), Math.max(0, until - Date.now()));
    const done = (): void => {
      clearTimeout(timer);
      progress.wake = undefined;
      resolve();
    };
    progress.wake = check;
    check();
  });
}

/** The unmasked result: the sum, and each survivor's declared metrics. */
function resultOutcome(
  server: SecAggServer,
  result: SecAggResult,
  trained: ReadonlyMap<string, TrainedMessage>,
  dropped: RoundOutcome['dropped'],
  cut: readonly string[],
): RoundOutcome {
  const survivors = server.survivors().map((address) => {
    const m = trained.get(address);
    return { address, examples: m?.examples ?? 0, trainLoss: m?.loss ?? 0, trainMs: m?.trainMs ?? 0, steps: m?.steps ?? 0 };
  });
  const isCut = new Set(cut);
  return {
    aggregate: { weightedDeltaSum: result.sum, totalWeight: result.totalWeight, contributors: result.contributors },
    survivors,
    dropped: dropped.filter((d) => !isCut.has(d.address)),
    cut: [...cut],
    groups: result.groups,
    groupsUnavailable: result.groupsUnavailable,
  };
}

/**
 * Once masked input has closed with `closeAfter` inputs in the sum: the workers it refused for
 * coming late (when the stage is full, everyone still owing an input is dropped for that, with no
 * error code) and that are still connected are the stragglers the round cut.
 */
function stragglersCut(server: SecAggServer, closeAfter: number | undefined, gone: ReadonlySet<string>): string[] {
  if (closeAfter === undefined || server.survivors().length < closeAfter) return [];
  const cut: string[] = [];
  for (const [address, d] of server.dropouts()) {
    if (d.stage === SECAGG_STAGE.maskedInput && d.code === undefined && !gone.has(address)) cut.push(address);
  }
  return cut;
}

export function startSecureCollect(request: SecureCollectRequest): RoundCollector {
  const byAddress = new Map(request.assignments.map(({ worker }) => [worker.channel.address, worker]));
  const trained = new Map<string, TrainedMessage>();
  const progress: Progress = { gone: new Set(), cancelled: undefined, wake: undefined };
  let serverRef: SecAggServer | undefined;
  let cut: string[] = [];
  // closeAfter = every participant would change nothing but the refusal message: leave it off.
  const closeAfter = request.closeAfter !== undefined && request.closeAfter < byAddress.size ? request.closeAfter : undefined;
  const nudge = (): void => progress.wake?.();

  sendTrainInstructions(request, { weightCap: request.weightCap });

  const run = async (): Promise<RoundOutcome> => {
    const server = await SecAggServer.create({
      runId: request.runId,
      round: request.round,
      participants: [...byAddress.keys()],
      config: request.secagg,
      dimension: request.updateLength,
      verify: verifyIdentitySignature,
      maxWeight: 1,
      ...(closeAfter !== undefined ? { maskedInput: { closeAfter } } : {}),
    });
    serverRef = server;
    for (;;) {
      const stage = server.stage;
      const opened = Date.now();
      for (const { to, request: message } of server.requests()) byAddress.get(to)?.channel.send(message);
      // Training happens before the masked input, so that stage gets the round's deadline.
      const until = stage === SECAGG_STAGE.maskedInput ? Math.max(request.deadline, opened + request.stageTimeoutMs) : opened + request.stageTimeoutMs;
      await stageSettled(server, until, progress);
      const result = await server.closeStage();
      request.onStage?.(stage, (Date.now() - opened) / 1000);
      if (stage === SECAGG_STAGE.maskedInput) {
        cut = stragglersCut(server, closeAfter, progress.gone);
        if (cut.length > 0) sendCancel(request, cut, `round ${request.round} closed with the first ${closeAfter} masked inputs`);
      }
      const dropped = [...server.dropouts()].map(([address, d]) => ({ address, reason: `${d.stage}: ${d.reason}` }));
      if (result.status === 'failed') return emptyOutcome(dropped, result.error.message);
      if (result.status === 'done') return resultOutcome(server, result.result, trained, dropped, cut);
      if (progress.cancelled !== undefined) return emptyOutcome(dropped, progress.cancelled);
    }
  };

  const outcome = run().catch((error: unknown) => emptyOutcome([], error instanceof Error ? error.message : String(error)));

  return {
    outcome,
    onResult(channel, message) {
      if (message.type !== 'trained') throw new CohortError('E_UPDATE_STALE', `no plain round is open (got an update for round ${message.round})`);
      if (!byAddress.has(channel.address) || message.round !== request.round || message.runId !== request.runId || trained.has(channel.address)) {
        throw new CohortError('E_UPDATE_STALE', `no open round ${message.round} for this worker`);
      }
      trained.set(channel.address, message);
    },
    async onStageReply(channel, reply) {
      const server = serverRef;
      if (!server || !byAddress.has(channel.address)) throw new CohortError('E_SECAGG_STAGE', 'no secure-aggregation round is open for this worker');
      const received = await server.receive(channel.address, reply);
      nudge();
      if (!received.accepted) throw received.error;
    },
    onDisconnect(address) {
      if (!byAddress.has(address)) return;
      progress.gone.add(address);
      nudge();
    },
    cancel(reason) {
      progress.cancelled = reason;
      nudge();
    },
  };
}
