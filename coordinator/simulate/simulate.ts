/**
 * `cohort simulate`: a run file's training run on N simulated clients, through the SAME engine,
 * strategies and secure aggregation as a real run. A coordinator is started exactly as `cohort
 * serve` starts one (startCoordinator, port 0); the clients are real WorkerRegistry over the
 * in-memory twin of the WebSocket; only training is moved into a small pool of threads.
 *
 * Memory stays flat in N: one shared copy of MNIST, one model per thread, an index list and a
 * session per client. Rounds stay short with clientsPerRound (default: 10% of the clients, as
 * McMahan et al.'s C = 0.1).
 *
 * @example
 *   const plan = toRunPlan(loadRunFile('examples/simulate-1000.yaml'), { population: 1000, clientsPerRound: 50 });
 *   const summary = await simulate({ plan, clients: 1000 });
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CohortError } from '../../core/protocol/errors.js';
import type { WorkerClient } from '../../core/worker/client.js';
import { formatEvent } from '../cli/progress.js';
import type { RunEngine } from '../engine/run-engine.js';
import { simulationSummary, type SimulationSummary } from '../run-file/summary.js';
import type { RunPlan } from '../run-file/to-run-config.js';
import { startCoordinator, type CoordinatorOptions, type Logger } from '../app/start-coordinator.js';
import { AsyncPacer } from './async-pacer.js';
import { FleetClock } from './fleet-clock.js';
import { FleetRounds, classByAddress, rewardPaid, rewardShares } from './fleet-report.js';
import { DEFAULT_BASE_STEP_SECONDS, drawFleet } from './fleet-spec.js';
import { SharedVerifier, createSimulatedClient, type SimulatedClientOptions } from './sim-client.js';
import { clientShards, loadSharedMnist } from './sim-data.js';
import { TrainingPool } from './training-pool.js';

export interface SimulateOptions {
  plan: RunPlan;
  clients: number;
  /** Training threads (default os.availableParallelism()). */
  threads?: number | undefined;
  /** Keep the run store here (default: a temporary file, removed afterwards). */
  storePath?: string | undefined;
  /** Progress lines: one per round, plus start and end. */
  print?: ((line: string) => void) | undefined;
  log?: Logger | undefined;
  /** Aborting stops the run after the round in progress is cancelled. */
  signal?: AbortSignal | undefined;
  /** The reward rule's per-round cap on credited work (the file's rewards.contributionCap), for `rewardShare`. */
  contributionCap?: number | undefined;
}

/** Connections beyond the clients: room for a dashboard or a stray real worker. */
const SPARE_CONNECTIONS = 64;

export function simulationNeeds(plan: RunPlan, clients: number): void {
  if (plan.data === 'local') {
    throw new CohortError('E_CONFIG_INVALID', 'data: simulate splits MNIST among its clients; use partition "iid", "shards" or "dirichlet", not "local"');
  }
  const needed = Math.max(plan.config.minClients, plan.config.clientsPerRound ?? 0);
  if (needed > clients) {
    const field = plan.config.clientsPerRound !== undefined && plan.config.clientsPerRound >= plan.config.minClients ? 'clientsPerRound' : 'minClients';
    throw new CohortError('E_CONFIG_INVALID', `${field}: ${needed} is more than the ${clients} simulated clients (--clients)`);
  }
}

export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  const started = Date.now();
  const { plan, clients } = options;
  const print = options.print ?? (() => undefined);
  simulationNeeds(plan, clients);

  const heldOutFraction = plan.evaluation.kind === 'federated' ? plan.evaluation.heldOutFraction : undefined;
  const data = loadSharedMnist();
  const shards = clientShards(data, clients, plan.config.partition, heldOutFraction);
  const pool = await TrainingPool.start({ threads: options.threads, model: plan.config.model, data, heldOutFraction });
  const scratch = options.storePath === undefined ? mkdtempSync(join(tmpdir(), 'cohort-simulate-')) : undefined;
  const storePath = options.storePath ?? join(scratch!, 'run.sqlite');
  try {
    // `runPlan` is the seam through which the engine will take strategy, privacy and evaluation.
    const coordinatorOptions: CoordinatorOptions & { runPlan: RunPlan } = {
      host: '127.0.0.1',
      port: 0,
      storePath,
      config: plan.config,
      // A thousand sign-ins contend for one event loop; the defaults are for the open internet.
      limits: { maxConnections: clients + SPARE_CONNECTIONS, handshakeTimeoutMs: Math.max(60_000, clients * 100) },
      log: options.log,
      runPlan: plan,
    };
    const coordinator = await startCoordinator(coordinatorOptions);
    const { engine } = coordinator;
    const clientsPerRound = plan.config.clientsPerRound ?? clients;
    const { fleet, clock, fleetOf } = simulatedFleet(plan, clients);
    const fleetRounds = new FleetRounds(clock, plan.config.mode);
    engine.on(fleetRounds.onEvent);
    if (plan.config.mode === 'async') engine.on(new AsyncPacer(clock, plan.config).onEvent);
    // Every client signs in before round 1, so the first selection draws from all of them.
    engine.pause();
    engine.on((event) => {
      if (event.type === 'worker-ready' || event.type === 'worker-left' || event.type === 'run-paused' || event.type === 'run-resumed' || event.type === 'waiting') return;
      const line = formatEvent(event, plan.config.rounds);
      if (line) print(line);
    });
    const stop = (): void => engine.stop('interrupted');
    options.signal?.addEventListener('abort', stop, { once: true });
    let sessions: WorkerClient[] = [];
    try {
      print(`simulating ${clients} clients (${clientsPerRound} per round) on ${pool.threads} ${pool.backend} training threads; run store ${options.storePath ?? '(temporary)'}`);
      const signInStarted = Date.now();
      const verifier = new SharedVerifier();
      sessions = shards.map((shard, index) => createSimulatedClient({ index, seed: plan.config.seed, shard, pool, registry: coordinator.workers, verifier, fleet: fleetOf(index) }));
      await allReady(engine, sessions, clients, options.signal);
      const signInSeconds = (Date.now() - signInStarted) / 1000;
      print(`${clients} clients signed in and ready in ${signInSeconds.toFixed(1)} s`);
      engine.resume();
      const summary = await coordinator.done;
      const committed = coordinator.store.contributions(summary.runId);
      const classes = classByAddress(fleet, plan.config.seed);
      const rule = { rounds: plan.config.rounds, perWorkerContributionCap: options.contributionCap };
      const rewardShare = rewardShares(committed, classes, rule);
      const fleetExtra = { mode: plan.config.mode, fleetSeconds: clock.now, rewardShare, rewardPaid: rewardPaid(committed, classes, rule), roundFleetSeconds: fleetRounds.seconds };
      return simulationSummary(
        summary,
        plan,
        { clients, clientsPerRound, threads: pool.threads, backend: pool.backend, elapsedMs: Date.now() - started, signInSeconds, storePath: options.storePath },
        coordinator.store.rounds(summary.runId),
        fleetExtra,
      );
    } finally {
      options.signal?.removeEventListener('abort', stop);
      await Promise.all(sessions.map((s) => s.stop('simulation over')));
      await coordinator.close();
    }
  } finally {
    await pool.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** The fleet's speeds, vanishing and roles (seeded), its clock, and each client's share of it. */
function simulatedFleet(plan: RunPlan, clients: number) {
  const fleet = drawFleet(plan.simulation, clients, plan.config.seed);
  const clock = new FleetClock();
  const secure = plan.config.secureAggregation;
  const fleetOf = (index: number): SimulatedClientOptions['fleet'] => ({
    member: fleet[index]!,
    clock,
    baseStepSeconds: plan.simulation?.baseStepSeconds ?? DEFAULT_BASE_STEP_SECONDS,
    maxExamplesPerWorker: plan.config.maxExamplesPerWorker,
    clipRange: secure === false ? undefined : secure.clipRange,
  });
  return { fleet, clock, fleetOf };
}

/** Starts every session and resolves once all are ready; rejects if one fails to sign in. */
function allReady(engine: RunEngine, sessions: readonly WorkerClient[], clients: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const onAbort = (): void => finish(new CohortError('E_INTERNAL', 'interrupted while clients were signing in'));
    const unsubscribe = engine.on((event) => {
      if (event.type === 'worker-ready' && engine.readyCount() >= clients) finish();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    sessions.forEach((session, index) => {
      void session.done.then((end) => finish(new CohortError(end.error?.code ?? 'E_INTERNAL', `simulated client ${index} left before the run started: ${end.error?.message ?? end.reason}`)));
      session.start();
    });
  });
}
