/**
 * One simulated client: the real worker protocol (core/worker/client.ts: EIP-191 sign-in,
 * `ready`, `train`, SecAgg+ stages) over the in-memory twin of a WebSocket, with training done by
 * the shared thread pool on the client's shard. A client holds a key, an index list and a session:
 * no model and no copy of its data.
 *
 * Its key is derived from the run's seed and the client's number, so the same run file simulates
 * the same identities, and the engine (which orders workers by address) selects the same clients.
 */
import { Wallet, id, verifyMessage } from 'ethers';
import type { EvaluateMessage } from '../../core/protocol/evaluate.js';
import type { TrainMessage } from '../../core/protocol/messages.js';
import { WorkerClient, type RunInfo, type TrainResult, type WorkerEvent, type WorkerHooks } from '../../core/worker/client.js';
import { connectInMemory } from '../transport/in-memory-transport.js';
import type { WorkerRegistry } from '../transport/worker-registry.js';
import type { FleetClock } from './fleet-clock.js';
import type { FleetMember } from './fleet-spec.js';
import { ClientBehaviour } from './sim-behaviour.js';
import type { SimulatedShard } from './sim-data.js';
import type { TrainingPool } from './training-pool.js';

export interface SimulatedClientOptions {
  index: number;
  seed: number;
  shard: SimulatedShard;
  pool: TrainingPool;
  registry: WorkerRegistry;
  verifier: SharedVerifier;
  onEvent?: ((index: number, event: WorkerEvent) => void) | undefined;
  /** The simulated fleet: this client's speed, vanishing and role, and the clock its replies wait on. */
  fleet: { member: FleetMember; clock: FleetClock; baseStepSeconds: number; maxExamplesPerWorker: number; clipRange?: number | undefined };
}

/**
 * EIP-191 verification shared by all simulated clients. In SecAgg+ each of a worker's k neighbours
 * checks the same signature over the same bytes; real workers each do that work, simulated ones
 * in one process need do it once. The answer is the same, so the protocol is unchanged, and the
 * main thread (where every simulated client runs) saves k − 1 of every k secp256k1 recoveries.
 */
export class SharedVerifier {
  private readonly seen = new Map<string, boolean>();

  constructor(private readonly maxEntries = 200_000) {}

  verify(bytes: Uint8Array, signature: string, address: string): boolean {
    const key = `${address.toLowerCase()}:${signature}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
    const known = this.seen.get(key);
    if (known !== undefined) return known;
    let ok: boolean;
    try {
      ok = verifyMessage(bytes, signature).toLowerCase() === address.toLowerCase();
    } catch {
      ok = false;
    }
    // Entries are only useful within a round; dropping them all now and then bounds memory.
    if (this.seen.size >= this.maxEntries) this.seen.clear();
    this.seen.set(key, ok);
    return ok;
  }
}

/** The private key of simulated client `index` in a run seeded with `seed`. */
export function simulatedKey(seed: number, index: number): string {
  return id(`cohort-simulate:${seed}:${index}`);
}

export function createSimulatedClient(options: SimulatedClientOptions): WorkerClient {
  const { pool, shard } = options;
  const wallet = new Wallet(simulatedKey(options.seed, options.index));
  const behaviour = new ClientBehaviour({
    ...options.fleet,
    index: options.index,
    seed: options.seed,
    indices: shard.indices,
    trainExamples: shard.trainExamples,
    pool,
    vanish: () => void session.stop('vanished mid-round (simulated)'),
  });
  const hooks = {
    prepare: async (_run: RunInfo) => ({
      backend: { backend: pool.backend, reason: `simulated client ${options.index}: trains in a pool of ${pool.threads} worker_threads` },
      // A freeloader declares the cap from the start, as it will in every round.
      examples: options.fleet.member.role === 'zero' ? options.fleet.maxExamplesPerWorker : shard.trainExamples,
    }),
    train: (message: TrainMessage, signal: AbortSignal): Promise<TrainResult> => behaviour.train(message, signal),
    // Federated evaluation: used once core/worker/client.ts has the `evaluate` hook.
    evaluate: async (message: EvaluateMessage, signal?: AbortSignal) => pool.evaluate(message.weights, shard.indices, signal),
  };
  const session: WorkerClient = new WorkerClient({
    url: 'memory://coordinator',
    kind: 'node',
    client: 'cohort-simulate/0.1',
    signer: { address: wallet.address, signMessage: (message) => wallet.signMessage(message) },
    verifySignature: (bytes, signature, address) => options.verifier.verify(bytes, signature, address),
    socketFactory: () => connectInMemory(options.registry),
    hooks: hooks satisfies WorkerHooks,
    reconnect: false,
    onEvent: options.onEvent && ((event) => options.onEvent?.(options.index, event)),
  });
  return session;
}
