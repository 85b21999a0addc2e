/**
 * A worker's side of the protocol, written once for Node and the browser: connect, prove the
 * identity (EIP-191 over the coordinator's challenge), prepare the run, then answer each `train`
 * with an `update`. It reconnects with backoff when the coordinator goes away.
 *
 * What "training" means is the caller's business (hooks): this file only speaks the protocol.
 */
import { decodeCoordinatorMessage, encodeMessage } from '../protocol/codec.js';
import { CohortError, ERROR_EFFECTS, finalErrorOfClose } from '../protocol/errors.js';
import { challengeText, normalizeCoordinatorUrl } from '../protocol/identity.js';
import {
  PROTOCOL_VERSION,
  type BackendReport,
  type CancelMessage,
  type ChallengeMessage,
  type CoordinatorMessage,
  type RoundSummaryMessage,
  type TrainMessage,
  type UpdateMessage,
  type WelcomeMessage,
  type WorkerKind,
} from '../protocol/messages.js';
import type { EvaluateMessage } from '../protocol/evaluate.js';
import { SECAGG_STAGE, type SecAggRequest } from '../protocol/secagg.js';
import { privatizeUpdate } from '../privacy/client-dp.js';
import { SecAggClient } from '../secagg/client.js';
import { secureInputWeight, withNormalizedDelta } from '../train/step-normalization.js';
import { backoffDelayMs } from './backoff.js';
import { ScoringRevealGuard } from './scoring-reveals.js';
import { SOCKET_OPEN, messageBytes, type SocketFactory, type SocketLike } from './socket.js';

export interface WorkerSigner {
  readonly address: string;
  /** EIP-191 personal_sign of a UTF-8 text or of raw bytes. */
  signMessage(message: string | Uint8Array): Promise<string>;
}

/** True when `signature` (EIP-191) over `bytes` recovers to `address`: checks peers' SecAgg+ keys. */
export type SignatureVerifier = (bytes: Uint8Array, signature: string, address: string) => boolean;

export type RunInfo = WelcomeMessage['run'];
export type TrainResult = Omit<UpdateMessage, 'type' | 'runId' | 'round'>;

export interface WorkerHooks {
  /** Build the model, load this worker's data and pick a backend for `run`. Called once per run. */
  prepare(run: RunInfo): Promise<{ backend: BackendReport; examples: number }>;
  /** Train one round from the global weights in `message`; resolve with the delta and metrics. */
  train(message: TrainMessage, signal: AbortSignal): Promise<TrainResult>;
  /** Federated evaluation: the given weights on this worker's held-out share (scalars only). */
  evaluate?(message: EvaluateMessage): Promise<{ examples: number; loss: number; accuracy: number }>;
}

export type WorkerEvent =
  | { kind: 'connecting'; url: string; attempt: number }
  | { kind: 'connected'; coordinatorId: string }
  | { kind: 'welcome'; address: string; run: RunInfo }
  | { kind: 'ready'; backend: BackendReport; examples: number }
  | { kind: 'training'; round: number }
  | { kind: 'submitted'; round: number; examples: number; trainMs: number }
  /** The coordinator closed the round without this worker (over-selection): its training stopped. */
  | { kind: 'cancelled'; round: number; reason: string }
  | { kind: 'secagg'; round: number; stage: string }
  | { kind: 'round'; summary: RoundSummaryMessage }
  | { kind: 'disconnected'; code: number; reason: string; willRetry: boolean }
  | { kind: 'error'; code: string; message: string }
  | { kind: 'run-end'; reason: string };

export interface WorkerClientOptions {
  url: string;
  signer: WorkerSigner;
  kind: WorkerKind;
  hooks: WorkerHooks;
  socketFactory: SocketFactory;
  client?: string;
  /** Reconnect with backoff when the connection drops (default true). */
  reconnect?: boolean;
  onEvent?: (event: WorkerEvent) => void;
  /** Needed for secure aggregation: checks the identity signatures of peers' advertised keys. */
  verifySignature?: SignatureVerifier;
  /**
   * Refuse (E_SECAGG_REQUIRED) to join a run whose welcome does not announce secure aggregation.
   * Whatever this says, a run that announced it can never be downgraded (E_SECAGG_DOWNGRADE).
   */
  requireSecureAggregation?: boolean;
}

/** The SecAgg+ client of the round in progress, and the training its masked input waits for. */
interface SecureRoundState {
  runId: string;
  round: number;
  client: SecAggClient;
  trained: Promise<void>;
  /** Aborted when the round's training stops (cancel, a newer round, a lost connection). */
  signal: AbortSignal;
}

/** The round this worker is training for, and how to stop it. */
interface TrainingRound {
  runId: string;
  round: number;
  controller: AbortController;
}


export interface SessionEnd {
  reason: string;
  /** Set when the session ended because of an error rather than the run's end or stop(). */
  error?: CohortError;
}

export class WorkerClient {
  readonly done: Promise<SessionEnd>;
  private resolveDone!: (end: SessionEnd) => void;
  private socket: SocketLike | undefined;
  private attempt = 0;
  private stopped = false;
  private preparedRunId: string | undefined;
  private preparing: Promise<{ backend: BackendReport; examples: number }> | undefined;
  private training: TrainingRound | undefined;
  /** The last round the coordinator cancelled: its late SecAgg+ requests are ignored, not errors. */
  private cancelled: { runId: string; round: number } | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private secure: SecureRoundState | undefined;
  private readonly scoringReveals = new ScoringRevealGuard();
  /**
   * Each run's secure-aggregation setting as its welcome announced it, kept across reconnects:
   * a later `train` or welcome may never weaken it (a downgrade would leak the raw delta).
   */
  private readonly announcedSecure = new Map<string, boolean>();

  constructor(private readonly options: WorkerClientOptions) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  start(): void {
    this.connect();
  }

  /** Leave: close the connection and stop reconnecting. */
  stop(reason = 'stopped'): Promise<SessionEnd> {
    this.finish({ reason });
    return this.done;
  }

  private emit(event: WorkerEvent): void {
    this.options.onEvent?.(event);
  }

  private finish(end: SessionEnd): void {
    if (this.stopped) return;
    this.stopped = true;
    this.training?.controller.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= SOCKET_OPEN) socket.close(1000, end.reason.slice(0, 100));
    this.resolveDone(end);
  }

  private connect(): void {
    if (this.stopped) return;
    this.emit({ kind: 'connecting', url: this.options.url, attempt: this.attempt });
    let socket: SocketLike;
    try {
      socket = this.options.socketFactory(this.options.url);
    } catch (cause) {
      this.emit({ kind: 'error', code: 'E_INTERNAL', message: `cannot open ${this.options.url}: ${String(cause)}` });
      this.scheduleReconnect();
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      void this.onFrame(socket, event.data);
    };
    socket.onerror = () => undefined; // the close event that follows carries what matters
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.training?.controller.abort();
      const fatalCode = finalErrorOfClose(event.code);
      const fatal = fatalCode !== undefined;
      const willRetry = !this.stopped && !fatal && this.options.reconnect !== false;
      this.emit({ kind: 'disconnected', code: event.code, reason: event.reason, willRetry });
      if (fatalCode) {
        this.finish({ reason: event.reason || fatalCode, error: new CohortError(fatalCode, event.reason || undefined) });
      } else if (willRetry) {
        this.scheduleReconnect();
      } else {
        this.finish({ reason: `connection closed (${event.code})` });
      }
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelayMs(this.attempt++);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private send(socket: SocketLike, message: object): void {
    if (socket.readyState === SOCKET_OPEN) socket.send(encodeMessage(message));
  }

  private async onFrame(socket: SocketLike, data: unknown): Promise<void> {
    const bytes = messageBytes(data);
    let message: CoordinatorMessage;
    try {
      if (!bytes) throw new CohortError('E_FRAME_TEXT');
      message = decodeCoordinatorMessage(bytes);
    } catch (error) {
      const e = error instanceof CohortError ? error : new CohortError('E_INTERNAL', String(error));
      this.emit({ kind: 'error', code: e.code, message: e.message });
      return;
    }
    try {
      await this.dispatch(socket, message);
    } catch (error) {
      const e = error instanceof CohortError ? error : new CohortError('E_INTERNAL', error instanceof Error ? error.message : String(error));
      this.emit({ kind: 'error', code: e.code, message: e.message });
      this.send(socket, { type: 'error', code: e.code, message: e.message.slice(0, 4000) });
      // A 'final' refusal (a downgrade, a run without required secure aggregation, another
      // protocol): this worker closes with the error's code and does not come back.
      if ((ERROR_EFFECTS as Partial<Record<string, string>>)[e.code] === 'final') {
        if (socket.readyState === SOCKET_OPEN) socket.close(e.closeCode, e.code);
        this.finish({ reason: e.message, error: e });
      }
    }
  }

  private async dispatch(socket: SocketLike, message: CoordinatorMessage): Promise<void> {
    switch (message.type) {
      case 'challenge':
        return this.answerChallenge(socket, message);
      case 'welcome':
        return this.onWelcome(socket, message);
      case 'train':
        return this.onTrain(socket, message);
      case 'cancel':
        return this.onCancel(message);
      case 'secagg-request':
        return this.onSecAggRequest(socket, message);
      case 'evaluate': {
        // A worker with no held-out data answers with 0 examples: it then counts for nothing.
        const result = this.options.hooks.evaluate ? await this.options.hooks.evaluate(message) : { examples: 0, loss: 0, accuracy: 0 };
        if (socket === this.socket) this.send(socket, { type: 'evaluation', runId: message.runId, round: message.round, ...result });
        return;
      }
      case 'round':
        this.emit({ kind: 'round', summary: message });
        return;
      case 'run-end':
        this.emit({ kind: 'run-end', reason: message.reason });
        this.finish({ reason: message.reason });
        return;
      case 'error':
        this.emit({ kind: 'error', code: message.code, message: message.message });
        return;
    }
  }

  private async answerChallenge(socket: SocketLike, challenge: ChallengeMessage): Promise<void> {
    if (challenge.protocol !== PROTOCOL_VERSION) {
      throw new CohortError('E_PROTOCOL_VERSION', `coordinator speaks protocol ${challenge.protocol}, this worker ${PROTOCOL_VERSION}`);
    }
    this.attempt = 0;
    this.emit({ kind: 'connected', coordinatorId: challenge.coordinatorId });
    // The signed URL is the one this worker dialled, never the one the challenge names: a relay
    // that forwards another coordinator's challenge then gets a signature that coordinator refuses.
    const dialled = normalizeCoordinatorUrl(this.options.url);
    const signed = { coordinatorId: challenge.coordinatorId, coordinatorUrl: dialled, nonce: challenge.nonce, protocol: PROTOCOL_VERSION };
    const signature = await this.options.signer.signMessage(challengeText(signed));
    this.send(socket, {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      address: this.options.signer.address,
      signature,
      coordinatorId: challenge.coordinatorId,
      coordinatorUrl: dialled,
      nonce: challenge.nonce,
      kind: this.options.kind,
      client: this.options.client,
    });
  }

  private async onWelcome(socket: SocketLike, welcome: WelcomeMessage): Promise<void> {
    const { runId, secureAggregation } = welcome.run;
    if (this.announcedSecure.get(runId) === true && !secureAggregation) {
      throw new CohortError('E_SECAGG_DOWNGRADE', `run ${runId} announced secure aggregation earlier and now says it has none`);
    }
    if (this.options.requireSecureAggregation && !secureAggregation) {
      throw new CohortError('E_SECAGG_REQUIRED', `run ${runId} does not use secure aggregation, so its coordinator would see this worker's individual updates; this worker requires it`);
    }
    this.announcedSecure.set(runId, secureAggregation);
    this.emit({ kind: 'welcome', address: welcome.address, run: welcome.run });
    if (this.preparedRunId !== welcome.run.runId || !this.preparing) {
      this.preparedRunId = welcome.run.runId;
      this.preparing = this.options.hooks.prepare(welcome.run);
    }
    const prepared = await this.preparing;
    this.emit({ kind: 'ready', ...prepared });
    this.send(socket, { type: 'ready', runId: welcome.run.runId, backend: prepared.backend, examples: prepared.examples });
  }

  private async onTrain(socket: SocketLike, message: TrainMessage): Promise<void> {
    checkTrainKeepsAnnouncedSetting(message, this.announcedSecure.get(message.runId));
    this.training?.controller.abort();
    const controller = new AbortController();
    this.training = { runId: message.runId, round: message.round, controller };
    this.emit({ kind: 'training', round: message.round });
    const train = (): Promise<TrainResult> => this.options.hooks.train(message, controller.signal).then((result) => privatize(withNormalizedDelta(result, message.config), message));
    try {
      await this.runTraining(socket, message, controller, train);
    } catch (error) {
      // Training stopped because the connection dropped or a newer round replaced it: not an error.
      if (controller.signal.aborted) return;
      throw error;
    }
  }

  private async runTraining(socket: SocketLike, message: TrainMessage, controller: AbortController, train: () => Promise<TrainResult>): Promise<void> {
    const secure = message.secureAggregation;
    if (!secure) {
      this.secure = undefined;
      const result = await train();
      if (controller.signal.aborted || socket !== this.socket) return;
      this.send(socket, { type: 'update', runId: message.runId, round: message.round, ...result });
      this.emit({ kind: 'submitted', round: message.round, examples: result.examples, trainMs: result.trainMs });
      return;
    }
    const verify = this.options.verifySignature;
    if (!verify) throw new CohortError('E_SECAGG_CONFIG', 'this worker cannot verify signatures, so it cannot take part in secure aggregation');
    const signer = this.options.signer;
    const client = new SecAggClient({ id: signer.address, runId: message.runId, round: message.round, sign: (bytes) => signer.signMessage(bytes), verify });
    // SecAgg+ key stages run while the model trains; only the masked input waits for the update.
    const trained = train().then((result) => {
      if (controller.signal.aborted) return;
      // Under secure aggregation the coordinator learns only Σ w·delta and Σ w, never this delta.
      // With differential privacy every weight is 1: the clip norm must bound each worker's share.
      const weight = secureInputWeight(message.config, result.examples, secure.weightCap);
      client.setInput(result.delta, weight);
      const { delta: _delta, ...metrics } = result;
      this.send(socket, { type: 'trained', runId: message.runId, round: message.round, ...metrics });
      this.emit({ kind: 'submitted', round: message.round, examples: result.examples, trainMs: result.trainMs });
    });
    this.secure = { runId: message.runId, round: message.round, client, trained, signal: controller.signal };
    await trained;
  }

  /**
   * Over-selection's cancel: stop training for that round now (local training checks the signal
   * between steps) and send nothing more for it. A cancel for another round is stale: ignored.
   */
  private onCancel(message: CancelMessage): void {
    const training = this.training;
    if (!training || training.runId !== message.runId || training.round !== message.round) return;
    this.cancelled = { runId: message.runId, round: message.round };
    training.controller.abort(new CohortError('E_UPDATE_STALE', `round ${message.round} was cancelled: ${message.reason}`));
    if (this.secure?.runId === message.runId && this.secure.round === message.round) this.secure = undefined;
    this.emit({ kind: 'cancelled', round: message.round, reason: message.reason });
  }

  private async onSecAggRequest(socket: SocketLike, request: SecAggRequest): Promise<void> {
    const secure = this.secure;
    if (this.cancelled?.runId === request.runId && this.cancelled.round === request.round) return;
    if (!secure || secure.runId !== request.runId || secure.round !== request.round) {
      throw new CohortError('E_SECAGG_STAGE', `no secure round ${request.round} in progress here`);
    }
    this.emit({ kind: 'secagg', round: request.round, stage: request.stage });
    if (request.stage === SECAGG_STAGE.maskedInput) {
      // Training stopped (cancelled, replaced or disconnected): nothing to mask, nothing to send.
      await secure.trained.catch((error: unknown) => {
        if (!secure.signal.aborted) throw error;
      });
      if (secure.signal.aborted) return;
    }
    const reply = await secure.client.handle(request);
    if (socket === this.socket && !secure.signal.aborted) this.send(socket, this.scoringReveals.pass(request.runId, request.round, reply));
  }
}

/**
 * A `train` is refused before any training when it is for a run this session was never welcomed
 * to, or when it drops the secure aggregation the run's welcome announced (a downgrade).
 */
function checkTrainKeepsAnnouncedSetting(message: TrainMessage, announced: boolean | undefined): void {
  if (announced === undefined) throw new CohortError('E_UNEXPECTED_MESSAGE', `train for run ${message.runId}, which this worker was not welcomed to`);
  if (announced && !message.secureAggregation) {
    throw new CohortError('E_SECAGG_DOWNGRADE', `round ${message.round} of run ${message.runId} asks for a plain update, but the run announced secure aggregation`);
  }
}

/** Differential privacy, where the round asks for it: clip (and noise) the delta on the worker. */
function privatize(result: TrainResult, message: TrainMessage): TrainResult {
  const dp = message.config.dp;
  return dp ? { ...result, delta: privatizeUpdate(result.delta, dp).update } : result;
}
