/**
 * Stable error codes. A code never changes meaning once released: tools, tests and users match on it.
 * Every protocol error is sent to the peer as `{ type: 'error', code, message }`; the fatal ones are
 * followed by a WebSocket close whose code (4000–4999) is given here.
 */
export const ERROR_CODES = {
  // Wire frames
  E_FRAME_TEXT: { close: 4001, summary: 'text frames are not accepted; send binary msgpack frames' },
  E_FRAME_TOO_LARGE: { close: 4002, summary: 'frame exceeds the maximum frame size' },
  E_FRAME_DECODE: { close: 4003, summary: 'frame is not valid msgpack' },
  E_MESSAGE_INVALID: { close: 4004, summary: 'message does not match its schema' },
  E_MESSAGE_UNKNOWN_TYPE: { close: 4005, summary: 'unknown message type' },
  E_RATE_LIMITED: { close: 4006, summary: 'too many messages in too short a time' },
  E_TOO_MANY_CONNECTIONS: { close: 4007, summary: 'the coordinator is at its connection limit' },
  E_PROTOCOL_VERSION: { close: 4008, summary: 'unsupported protocol version' },
  E_UNEXPECTED_MESSAGE: { close: 4009, summary: 'message is not valid in the current state' },
  // Identity
  E_AUTH_BAD_SIGNATURE: { close: 4010, summary: 'signature does not recover to the claimed address' },
  E_AUTH_REPLAY: { close: 4011, summary: 'challenge nonce was not issued to this connection or was already used' },
  E_AUTH_WRONG_COORDINATOR: { close: 4012, summary: 'challenge was signed for another coordinator' },
  E_AUTH_TIMEOUT: { close: 4013, summary: 'no signed hello before the handshake deadline' },
  E_SESSION_REPLACED: { close: 4014, summary: 'a newer connection with the same identity replaced this one' },
  E_NOT_ALLOWED: { close: 4015, summary: 'this address is not on the run allowlist' },
  // Updates
  E_UPDATE_LENGTH: { close: 4020, summary: 'update length does not match the model' },
  E_UPDATE_NOT_FINITE: { close: 4021, summary: 'update contains NaN or Infinity' },
  E_UPDATE_STALE: { close: 4022, summary: 'update is for a round that is not open for this worker' },
  // Secure aggregation
  E_SECAGG_STAGE: { close: 4030, summary: 'secure-aggregation message arrived out of order' },
  E_SECAGG_INVALID: { close: 4031, summary: 'secure-aggregation message failed verification' },
  E_SECAGG_CONFIG: { close: 4032, summary: 'secure-aggregation configuration is unsafe or inconsistent' },
  E_SECAGG_THRESHOLD: { close: 4033, summary: 'too few workers survived to reach the threshold' },
  E_SECAGG_DOWNGRADE: { close: 4034, summary: 'a train message would weaken the secure aggregation the run announced' },
  E_SECAGG_REQUIRED: { close: 4035, summary: 'this worker requires secure aggregation and the run does not use it' },
  // Server / lifecycle
  E_SHUTTING_DOWN: { close: 4090, summary: 'the coordinator is shutting down' },
  E_INTERNAL: { close: 4099, summary: 'internal error' },
  // Local (never on the wire): CLI, config and files
  E_CLI_USAGE: { close: 4100, summary: 'bad command-line usage' },
  E_CONFIG_INVALID: { close: 4101, summary: 'invalid configuration' },
  E_DATA_INVALID: { close: 4102, summary: 'invalid or unreadable dataset' },
  E_MODEL_INVALID: { close: 4103, summary: 'invalid model definition' },
  E_BACKEND_UNAVAILABLE: { close: 4104, summary: 'requested tfjs backend cannot be used here' },
  E_KEY_FILE: { close: 4105, summary: 'key file is missing, unreadable or insecure' },
  E_STORE: { close: 4106, summary: 'run store error' },
  E_STORE_VERSION: { close: 4107, summary: 'the run store was written by a newer Cohort; upgrade to open it' },
  // Local (never on the wire): the chain and the contribution ledger
  E_CHAIN_UNAVAILABLE: { close: 4110, summary: 'the chain RPC endpoint cannot be reached' },
  E_CHAIN_NODE: { close: 4111, summary: 'the local anvil chain failed to start or stopped' },
  E_LEDGER_ARTIFACT: { close: 4112, summary: 'contract artifact missing or invalid; run npm run build' },
  E_LEDGER_REVERTED: { close: 4113, summary: 'the ledger contract reverted the transaction' },
  E_LEDGER_ROUND_CONFLICT: { close: 4114, summary: 'this round is already recorded on-chain with a different root' },
  E_LEDGER_INPUT: { close: 4115, summary: 'invalid ledger input (address, amount or round list)' },
  E_LEDGER_NOT_IN_TREE: { close: 4116, summary: 'this address has no reward in the run' },
  E_LEDGER_RUN_FROZEN: { close: 4117, summary: 'a challenge rejected a root of this run; recording waits for its researcher to unfreeze it' },
  E_LEDGER_CHALLENGE_INVALID: { close: 4118, summary: 'the fraud proof does not show a lowered cumulative reward, or no root is open to challenge' },
  // Local (never on the wire): strategies and differential privacy
  E_STRATEGY_NEEDS_UPDATES: { close: 4120, summary: 'this strategy needs the individual updates, which secure aggregation hides' },
  E_STRATEGY_INPUT: { close: 4121, summary: "the round's updates do not meet the strategy's requirements" },
  E_STRATEGY_STATE: { close: 4122, summary: 'saved strategy state does not fit this strategy or model' },
  E_PRIVACY_BUDGET: { close: 4130, summary: 'running another round would exceed the privacy budget' },
  // Local (never on the wire): `cohort setup-native`
  E_NATIVE_LIBRARY_MISSING: { close: 4140, summary: 'the folder does not exist or holds no libtensorflow (libraries and C headers)' },
  E_NATIVE_BUILD_FAILED: { close: 4141, summary: 'rebuilding the tfjs-node binding against that libtensorflow failed' },
  E_NATIVE_LOAD_FAILED: { close: 4142, summary: 'the rebuilt tensorflow backend does not load or cannot train a step' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The one error class of the project: a stable code, a one-line message, optional details. */
export class CohortError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options?: { details?: unknown; cause?: unknown }) {
    super(message ?? ERROR_CODES[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CohortError';
    this.code = code;
    this.details = options?.details;
  }

  /** WebSocket close code (4000–4999) that goes with this error. */
  get closeCode(): number {
    return ERROR_CODES[this.code].close;
  }
}

export function closeCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code].close;
}

/**
 * What an error does to the connection, for both sides, in one list:
 * - 'close': the coordinator closes the connection instead of only answering (the peer broke the
 *   protocol); the worker reconnects with backoff;
 * - 'final': closed too, and reconnecting cannot help (the same attempt would be refused again), so
 *   the worker ends its session.
 * Codes not listed are answered with an `error` message and the connection stays open.
 */
export const ERROR_EFFECTS = {
  E_FRAME_TEXT: 'close',
  E_FRAME_TOO_LARGE: 'close',
  E_FRAME_DECODE: 'close',
  E_MESSAGE_INVALID: 'close',
  E_MESSAGE_UNKNOWN_TYPE: 'close',
  E_RATE_LIMITED: 'close',
  E_UNEXPECTED_MESSAGE: 'close',
  E_AUTH_REPLAY: 'close',
  E_UPDATE_LENGTH: 'close',
  E_UPDATE_NOT_FINITE: 'close',
  E_INTERNAL: 'close',
  E_PROTOCOL_VERSION: 'final',
  E_AUTH_BAD_SIGNATURE: 'final',
  E_AUTH_WRONG_COORDINATOR: 'final',
  E_NOT_ALLOWED: 'final',
  E_SESSION_REPLACED: 'final',
  // Raised by a worker: the coordinator asked it to weaken or skip secure aggregation; it leaves.
  E_SECAGG_DOWNGRADE: 'final',
  E_SECAGG_REQUIRED: 'final',
} as const satisfies Partial<Record<ErrorCode, 'close' | 'final'>>;

/** True if the coordinator closes the connection after this error (ERROR_EFFECTS). */
export function closesConnection(code: ErrorCode): boolean {
  return Object.hasOwn(ERROR_EFFECTS, code);
}

const FINAL_BY_CLOSE_CODE = new Map<number, ErrorCode>(
  (Object.entries(ERROR_EFFECTS) as Array<[ErrorCode, 'close' | 'final']>).filter(([, effect]) => effect === 'final').map(([code]) => [ERROR_CODES[code].close, code]),
);

/** The 'final' error a WebSocket close code stands for, if any: a worker seeing it does not reconnect. */
export function finalErrorOfClose(closeCode: number): ErrorCode | undefined {
  return FINAL_BY_CLOSE_CODE.get(closeCode);
}
