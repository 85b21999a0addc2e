/**
 * `cohort worker`: a headless Node worker. It signs in with its key, picks the fastest tfjs backend
 * that can train the run's model, loads only its own data (a demo shard or `--data DIR`), and
 * answers each round with its weight delta. Reconnects with backoff when the coordinator goes away.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { verifyMessage } from 'ethers';
import type { LocalDataset } from '../core/data/dataset.js';
import { buildModel } from '../core/models/builtin.js';
import { modelNumClasses } from '../core/models/layers-json.js';
import { checkDataFitsModel } from '../core/train/batch-ops.js';
import { splitHeldOut } from '../core/data/held-out.js';
import { evaluateWeights } from '../core/train/federated-evaluate.js';
import type { TrainMessage, WorkerKind } from '../core/protocol/messages.js';
import { trainLocally } from '../core/train/local-train.js';
import { getFlatWeights, setFlatWeights } from '../core/train/weights.js';
import { WorkerClient, type SessionEnd, type TrainResult, type WorkerEvent } from '../core/worker/client.js';
import { selectBackend, type BackendRequest } from './backends/select.js';
import { loadDirectoryDataset } from './data/directory.js';
import { mnistShard } from './data/mnist.js';
import { wsSocket } from './ws-socket.js';
import { loadOrCreateKey } from './key-file.js';
import { recordUpdate, slowdownPacer, updateRecordDir } from './test-hooks.js';

export interface WorkerOptions {
  coordinator: string;
  keyFile: string;
  shard?: { index: number; count: number } | undefined;
  dataDir?: string | undefined;
  backend: BackendRequest;
  /** Refuse a run whose welcome does not announce secure aggregation (E_SECAGG_REQUIRED). */
  requireSecureAggregation?: boolean | undefined;
  /** Print one line per event to stderr. */
  log: (line: string) => void;
  kind?: WorkerKind;
  /** Test only (`--test-slowdown F`): every local step takes F× as long (worker-node/test-hooks.ts). */
  testSlowdown?: number | undefined;
  /** Test only (`--test-freeloader`): declare an honest round's examples, send a zero delta, never train. */
  testFreeloader?: boolean | undefined;
}

export async function runWorker(options: WorkerOptions): Promise<SessionEnd> {
  const { wallet, created } = loadOrCreateKey(options.keyFile);
  options.log(`${created ? 'created' : 'loaded'} key ${options.keyFile}: address ${wallet.address}`);

  let model: tfTypes.LayersModel | undefined;
  let data: LocalDataset | undefined;
  let heldOut: LocalDataset | undefined;
  const recordDir = updateRecordDir();

  const session = new WorkerClient({
    url: options.coordinator,
    kind: options.kind ?? 'node',
    client: 'cohort-worker-node/0.1',
    requireSecureAggregation: options.requireSecureAggregation === true,
    signer: { address: wallet.address, signMessage: (message) => wallet.signMessage(message) },
    verifySignature: (bytes, signature, address) => {
      try {
        return verifyMessage(bytes, signature).toLowerCase() === address.toLowerCase();
      } catch {
        return false;
      }
    },
    socketFactory: (url) => wsSocket(url, { maxPayload: 256 * 1024 * 1024 }),
    hooks: {
      async prepare(run) {
        const backend = await selectBackend({ requested: options.backend, model: run.model, log: options.log });
        model?.dispose();
        model = buildModel(run.model);
        // A worker's own data must fit the run's model: same input shape, labels within its classes.
        const local = options.dataDir
          ? await loadDirectoryDataset(options.dataDir, { numClasses: modelNumClasses(model) })
          : mnistShard(options.shard?.index ?? 0, options.shard?.count ?? 1, run.partition);
        checkDataFitsModel(model, local);
        // Federated evaluation: a share of the local data is held out, never trained on.
        const split = run.federatedEvaluation ? splitHeldOut(local, run.federatedEvaluation.heldOutFraction) : undefined;
        data = split ? split.train : local;
        heldOut = split?.heldOut;
        return {
          backend: { backend: backend.backend, reason: backend.reason, adapter: backend.adapter, stepsPerSecond: backend.stepsPerSecond },
          examples: data.size,
        };
      },
      async evaluate(message) {
        if (!model || !heldOut) return { examples: 0, loss: 0, accuracy: 0 };
        return evaluateWeights(model, heldOut, message.weights);
      },
      async train(message, signal) {
        if (!model || !data) throw new Error('train before prepare');
        if (options.testFreeloader) return freeloaderResult(message, data.size);
        setFlatWeights(model, message.weights);
        const slowdown = options.testSlowdown;
        const result = await trainLocally(model, data, message.config, { signal, ...(slowdown && slowdown > 1 ? { afterStep: slowdownPacer(slowdown, signal) } : {}) });
        const local = await getFlatWeights(model);
        const delta = new Float32Array(local.length);
        for (let i = 0; i < local.length; i++) delta[i] = local[i]! - message.weights[i]!;
        if (recordDir) recordUpdate(recordDir, wallet.address, message.round, message.weights, delta, result);
        return { delta, examples: result.examples, steps: result.steps, loss: result.loss, accuracy: result.accuracy, trainMs: result.trainMs };
      },
    },
    onEvent: (event) => options.log(describe(event)),
  });
  session.start();
  const stopOnSignal = (): void => void session.stop('worker interrupted');
  process.once('SIGTERM', stopOnSignal);
  process.once('SIGINT', stopOnSignal);
  const end = await session.done;
  process.off('SIGTERM', stopOnSignal);
  process.off('SIGINT', stopOnSignal);
  model?.dispose();
  return end;
}

function describe(event: WorkerEvent): string {
  switch (event.kind) {
    case 'connecting':
      return event.attempt === 0 ? `connecting to ${event.url}` : `reconnecting to ${event.url} (attempt ${event.attempt})`;
    case 'connected':
      return `connected to coordinator ${event.coordinatorId}`;
    case 'welcome':
      return `signed in as ${event.address}; run ${event.run.runId} (${event.run.parameterCount} parameters)`;
    case 'ready':
      return `ready: backend ${event.backend.backend} (${event.backend.reason}); ${event.examples} local examples`;
    case 'training':
      return `round ${event.round}: training`;
    case 'submitted':
      return `round ${event.round}: trained (${event.examples} examples, ${Math.round(event.trainMs)} ms)`;
    case 'secagg':
      return `round ${event.round}: secure aggregation stage ${event.stage}`;
    case 'cancelled':
      return `round ${event.round}: cancelled (${event.reason})`;
    case 'round':
      return `round ${event.summary.round} ${event.summary.status}${event.summary.accuracy === undefined ? '' : `: accuracy ${event.summary.accuracy.toFixed(4)}`}`;
    case 'disconnected':
      return `disconnected (${event.code}${event.reason ? ` ${event.reason}` : ''})${event.willRetry ? '; will reconnect' : ''}`;
    case 'error':
      return `error ${event.code}: ${event.message}`;
    case 'run-end':
      return `run ended: ${event.reason}`;
  }
}

/** The test-only freeloader's reply: the examples an honest round would process, a zero delta. */
function freeloaderResult(message: TrainMessage, examples: number): TrainResult {
  const { localEpochs, batchSize, maxLocalSteps } = message.config;
  const steps = Math.min(localEpochs * Math.ceil(examples / batchSize), maxLocalSteps ?? Number.POSITIVE_INFINITY);
  return { delta: new Float32Array(message.weights.length), examples: Math.min(localEpochs * examples, steps * batchSize), steps, loss: 0, accuracy: 0, trainMs: 0 };
}
