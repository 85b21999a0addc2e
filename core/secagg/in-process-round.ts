/**
 * One SecAgg+ round in a single process: real clients and a real server, with the caller's
 * identities and a scripted set of dropouts, for tests and the benchmark. Messages are handed over
 * directly (no codec, no sockets); hooks let a test tamper with them on the way. (Not to be
 * confused with coordinator/simulate/, which simulates whole federated runs.)
 *
 * The core stays free of ethers: pass sign/verify functions (tests use ethers wallets).
 *
 * @example
 * const { outcome } = await runSecAggRound({ inputs, config, identity, dropouts: { afterShareKeys: [ids[0]] } });
 * if (outcome.status === 'done') console.log(outcome.result.sum, outcome.result.totalWeight);
 */
import type { CohortError, ErrorCode } from '../protocol/errors.js';
import { SECAGG_STAGE, type KeyAgreement, type SecAggReply, type SecAggRequest, type SecAggStage } from '../protocol/secagg.js';
import { SecAggClient, type SecAggSign, type SecAggVerify } from './client.js';
import type { SecAggConfig } from './config.js';
import { SecAggServer, type ReceiveOutcome, type StageOutcome } from './server.js';
import type { MaskedInputOptions } from './stages/masked-input.js';
import type { AnyServerStage } from './stages/stage.js';

export interface SimulatedInput {
  id: string;
  vector: Float32Array;
  /** Normalised weight in (0, maxWeight]. */
  weight: number;
}

/** Workers that stop answering from a given point (they never reply again). */
export interface SimulatedDropouts {
  /** Never answer advertise-keys. */
  beforeAdvertise?: readonly string[];
  /** Advertise keys, then never answer share-keys. */
  beforeShareKeys?: readonly string[];
  /** Share keys, then never send masked input. */
  afterShareKeys?: readonly string[];
  /** Send masked input, then never answer the consistency check or unmask. */
  afterMaskedInput?: readonly string[];
}

export interface SimulationHooks {
  /** Change (or replace) a request before worker `to` sees it; return undefined to drop it. */
  request?: (stage: SecAggStage, to: string, request: SecAggRequest) => SecAggRequest | undefined;
  /** Change (or replace) a reply before the server sees it; return undefined to drop it. */
  reply?: (stage: SecAggStage, from: string, reply: SecAggReply) => SecAggReply | undefined | Promise<SecAggReply | undefined>;
}

export interface SimulationOptions {
  inputs: readonly SimulatedInput[];
  config: SecAggConfig;
  /** Signs for worker `id`, and verifies any worker's signature. */
  identity: { sign: (id: string) => SecAggSign; verify: SecAggVerify };
  dropouts?: SimulatedDropouts;
  hooks?: SimulationHooks;
  runId?: string;
  round?: number;
  maxWeight?: number;
  keyAgreement?: KeyAgreement;
  graphSeed?: Uint8Array;
  /** Options of the server's masked-input stage (e.g. closeAfter for over-selection). */
  maskedInput?: MaskedInputOptions;
  /** A custom sequence of server stage units (see SecAggServerOptions.stages). */
  stages?: readonly AnyServerStage[];
}

export interface SimulationEvent {
  stage: SecAggStage;
  id: string;
  side: 'worker' | 'server';
  code: ErrorCode;
  message: string;
}

export interface SecAggSimulation {
  readonly server: SecAggServer;
  readonly clients: ReadonlyMap<string, SecAggClient>;
  /** Every refusal: by a worker (it aborted or rejected a request) or by the server. */
  readonly events: SimulationEvent[];
  /** The replies delivered in the last stage, by sender (to replay them in tests). */
  readonly lastReplies: Map<string, SecAggReply>;
  /** Deliver the current stage's requests and the replies they produce (without closing the stage). */
  deliver(): Promise<void>;
  /** deliver() then server.closeStage(). */
  step(): Promise<StageOutcome>;
  /** Steps until the round is done or failed. */
  run(): Promise<StageOutcome>;
}

const SILENT_FROM: Record<keyof SimulatedDropouts, SecAggStage> = {
  beforeAdvertise: SECAGG_STAGE.advertiseKeys,
  beforeShareKeys: SECAGG_STAGE.shareKeys,
  afterShareKeys: SECAGG_STAGE.maskedInput,
  afterMaskedInput: SECAGG_STAGE.consistencyCheck,
};
const ORDER: readonly SecAggStage[] = Object.values(SECAGG_STAGE);

export async function createSecAggSimulation(o: SimulationOptions): Promise<SecAggSimulation> {
  const runId = o.runId ?? 'sim';
  const round = o.round ?? 1;
  const server = await SecAggServer.create({
    runId,
    round,
    participants: o.inputs.map((i) => i.id),
    config: o.config,
    dimension: o.inputs[0]?.vector.length ?? 1,
    verify: o.identity.verify,
    ...(o.maxWeight !== undefined ? { maxWeight: o.maxWeight } : {}),
    ...(o.keyAgreement ? { keyAgreement: o.keyAgreement } : {}),
    ...(o.graphSeed ? { graphSeed: o.graphSeed } : {}),
    ...(o.maskedInput ? { maskedInput: o.maskedInput } : {}),
    ...(o.stages ? { stages: o.stages } : {}),
  });
  const clients = new Map<string, SecAggClient>();
  for (const { id, vector, weight } of o.inputs) {
    clients.set(id, new SecAggClient({ id, runId, round, sign: o.identity.sign(id), verify: o.identity.verify, input: { vector, weight } }));
  }
  const silentFrom = new Map<string, number>();
  for (const [key, stage] of Object.entries(SILENT_FROM) as [keyof SimulatedDropouts, SecAggStage][]) {
    for (const id of o.dropouts?.[key] ?? []) silentFrom.set(id, ORDER.indexOf(stage));
  }
  const events: SimulationEvent[] = [];
  const lastReplies = new Map<string, SecAggReply>();
  const record = (stage: SecAggStage, id: string, side: 'worker' | 'server', e: CohortError) =>
    events.push({ stage, id, side, code: e.code, message: e.message });

  const deliverOne = async (stage: SecAggStage, to: string, original: SecAggRequest): Promise<void> => {
    if ((silentFrom.get(to) ?? Infinity) <= ORDER.indexOf(stage)) return;
    const request = o.hooks?.request ? o.hooks.request(stage, to, original) : original;
    if (!request) return;
    let reply: SecAggReply | undefined;
    try {
      reply = await clients.get(to)!.handle(request);
    } catch (e) {
      record(stage, to, 'worker', e as CohortError);
      return;
    }
    if (o.hooks?.reply) reply = await o.hooks.reply(stage, to, reply);
    if (!reply) return;
    lastReplies.set(to, reply);
    const outcome: ReceiveOutcome = await server.receive(to, reply);
    if (!outcome.accepted) record(stage, to, 'server', outcome.error);
  };

  const sim: SecAggSimulation = {
    server,
    clients,
    events,
    lastReplies,
    async deliver() {
      const stage = server.stage;
      if (stage === 'done' || stage === 'failed') return;
      lastReplies.clear();
      await Promise.all(server.requests().map(({ to, request }) => deliverOne(stage, to, request)));
    },
    async step() {
      await sim.deliver();
      return server.closeStage();
    },
    async run() {
      for (;;) {
        const outcome = await sim.step();
        if (outcome.status !== 'next') return outcome;
      }
    },
  };
  return sim;
}

export interface SimulationResult {
  outcome: StageOutcome;
  simulation: SecAggSimulation;
}

/** Run one whole round in memory. */
export async function runSecAggRound(o: SimulationOptions): Promise<SimulationResult> {
  const simulation = await createSecAggSimulation(o);
  return { outcome: await simulation.run(), simulation };
}
