/**
 * How the coordinator talks to one worker. Implementations: a WebSocket connection (the gateway)
 * and an in-memory twin for unit tests and large simulations.
 */
import type { ErrorCode } from '../../core/protocol/errors.js';
import type { BackendReport, CoordinatorMessage, WorkerKind } from '../../core/protocol/messages.js';

export interface WorkerChannel {
  /** Unique per connection. */
  readonly sessionId: string;
  /** The worker's proven Ethereum address: its identity and reward address. */
  readonly address: string;
  readonly kind: WorkerKind;
  send(message: CoordinatorMessage): void;
  /** Send an error message, then close with the code's close code. */
  close(code: ErrorCode, message: string): void;
}

/** A channel whose worker has prepared the run and can be selected. */
export interface ReadyWorker {
  channel: WorkerChannel;
  backend: BackendReport;
  examples: number;
}
