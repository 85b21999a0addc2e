/**
 * The messages between the page and its dedicated Web Worker (postMessage, structured clone).
 *
 * The Web Worker owns everything heavy and long-lived: the protocol session (core's WorkerClient,
 * so frames are decoded and validated off the main thread), the data, the tfjs backend and the
 * training. The page owns the DOM and the identity (an injected EIP-1193 wallet exists only in
 * the page), so every signature is a `sign` request from the Web Worker answered by the page.
 *
 * Secure aggregation: the SecAgg+ stages arrive on the session's socket, inside the Web Worker,
 * where core/secagg's client runs (WorkerClient drives it). What crosses this bridge for them:
 * `sign` requests over bytes (the identity signature of the advertised keys) and the stage, as
 * `progress.stage` 'secagg:<stage>' and the session's 'secagg' event, which the page shows as is.
 */
import type { BackendReport } from '../../core/protocol/messages.js';
import type { WorkerEvent } from '../../core/worker/client.js';

export type BrowserBackend = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BROWSER_BACKENDS: readonly BrowserBackend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export function isBrowserBackend(value: unknown): value is BrowserBackend {
  return typeof value === 'string' && (BROWSER_BACKENDS as readonly string[]).includes(value);
}

/** Where this tab's examples come from. Local data never leaves the browser. */
export type DataSource =
  | { kind: 'demo-shard'; index: number; count: number; url: string }
  | { kind: 'local' };

/** What the page knows about the GPU, shown before and during training. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendChoice extends BackendReport {
  /** Every candidate that was measured, in steps per second. */
  measured: Array<{ backend: BrowserBackend; stepsPerSecond: number }>;
  /** Candidates left out, and why. */
  skipped: Array<{ backend: BrowserBackend; why: string }>;
  forced: boolean;
}

/** Stages shown to the volunteer; `secagg:<stage>` is reserved for SecAgg+ (see above). */
export type Stage = 'idle' | 'loading-data' | 'choosing-backend' | 'waiting' | 'training' | 'submitted' | `secagg:${string}`;

export interface StartRequest {
  type: 'start';
  coordinatorUrl: string;
  address: string;
  data: DataSource;
  backend?: BrowserBackend | undefined;
  /** This tab's own cap on local steps per round, below the run's maxLocalSteps. */
  maxLocalSteps?: number | undefined;
  /** URL prefix of the tfjs wasm binaries (setWasmPaths). */
  wasmPaths: string;
  /** Refuse a run without secure aggregation (E_SECAGG_REQUIRED); tabs do by default. */
  requireSecureAggregation: boolean;
}

export interface BenchmarkRequest {
  type: 'benchmark';
  id: number;
  models: Array<'2nn' | 'cnn'>;
  backends: BrowserBackend[];
  /** Timed steps per (model, backend) after one untimed warm-up step. */
  steps: Partial<Record<'2nn' | 'cnn', number>>;
  wasmPaths: string;
}

export type PageToWorker =
  | StartRequest
  | { type: 'stop'; reason: string }
  | { type: 'sign-result'; id: number; signature: string }
  | { type: 'sign-error'; id: number; message: string }
  /** Files the volunteer picked: parsed here, in the Web Worker, and stored in IndexedDB. */
  | { type: 'import-files'; id: number; format: 'csv' | 'images'; files: File[] }
  | { type: 'clear-local-data'; id: number }
  | BenchmarkRequest;

export interface LocalDataSummary {
  examples: number;
  classes: number;
  /** Examples per label, index = label. */
  perLabel: number[];
  source: string;
  storedAt: number;
}

export interface BenchmarkRow {
  model: '2nn' | 'cnn';
  backend: BrowserBackend;
  stepsPerSecond: number | null;
  note: string;
}

export type WorkerToPage =
  /** A WorkerClient event, as is. */
  | { type: 'session'; event: WorkerEvent }
  | { type: 'sign'; id: number; message: string | Uint8Array }
  | { type: 'backend'; choice: BackendChoice }
  | { type: 'data'; source: DataSource['kind']; examples: number }
  | {
      type: 'progress';
      stage: Stage;
      round?: number;
      step?: number;
      /** The tfjs backend the steps actually ran on (tf.getBackend() during training). */
      trainedOn?: string;
    }
  | { type: 'trained'; round: number; examples: number; steps: number; trainedOn: string; trainMs: number }
  | { type: 'import-result'; id: number; summary?: LocalDataSummary; error?: string }
  | { type: 'benchmark-result'; id: number; rows: BenchmarkRow[] }
  | { type: 'ended'; reason: string; error?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };
