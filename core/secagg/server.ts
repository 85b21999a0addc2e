/**
 * The coordinator's side of SecAgg+: a state machine over one typed state object. It collects each
 * stage's replies, drops workers that miss a deadline or misbehave, routes encrypted shares, and in
 * the last stage reconstructs seeds and keys, removes the masks and returns only the aggregate.
 *
 * What it can hold: signed public keys, ciphertexts it cannot read, share hashes, ONE running sum of
 * masked vectors (each reply is added on arrival and not kept), and reconstructed seeds and keys
 * (b of survivors, s_sk of workers that dropped). No field, parameter or return type carries one
 * worker's unmasked update; the only plaintext it ever produces is Σ w·x (Bonawitz et al. §4).
 *
 * Driving it, per stage (the caller owns sockets and deadlines):
 * @example
 * const server = await SecAggServer.create({ runId, round, participants, config, dimension, verify });
 * for (;;) {
 *   for (const { to, request } of server.requests()) send(to, request);
 *   // on each reply: const r = await server.receive(from, reply); if (!r.accepted) sendError(from, r.error);
 *   // when every worker answered (server.pending().length === 0) or the stage's deadline passes:
 *   const outcome = await server.closeStage();
 *   if (outcome.status === 'done') return outcome.result;   // { sum, totalWeight, contributors }
 *   if (outcome.status === 'failed') throw outcome.error;   // E_SECAGG_THRESHOLD / E_SECAGG_INVALID
 * }
 */
import { CohortError, type ErrorCode } from '../protocol/errors.js';
import {
  SECAGG_REQUEST_TYPE,
  SECAGG_STAGE,
  secAggReplySchema,
  type AdvertiseKeysReply,
  type KeyAgreement,
  type SecAggReply,
  type SecAggRequest,
  type SecAggStage,
} from '../protocol/secagg.js';
import { validateSecAggConfig, type SecAggConfig } from './config.js';
import { detectKeyAgreement, randomBytes } from './crypto.js';
import { buildNeighbourGraph, type NeighbourGraph } from './graph.js';
import { checkAdvertisement, checkDealtShares, checkRevealedShares, type ByWorker, type DealtShares } from './replies.js';
import { findUnrecoverable, pruneThinNeighbourhoods } from './survival.js';
import { survivorSetBytes, type RoundContext, type SecAggVerify } from './transcript.js';
import { unmaskAggregate, type SecAggResult } from './unmask.js';

export type { SecAggResult };

export interface SecAggServerOptions {
  runId: string;
  round: number;
  /** The selected workers (any order; sorted here). */
  participants: readonly string[];
  config: SecAggConfig;
  /** Model parameters d. */
  dimension: number;
  /** Checks identity signatures (advertisements, consistency check). */
  verify: SecAggVerify;
  /** Largest normalised weight (default 1). */
  maxWeight?: number;
  /** Key agreement for the round (default: X25519 if this runtime has it). Pick P-256 if any worker lacks X25519. */
  keyAgreement?: KeyAgreement;
  /** 32-byte seed of the neighbour graph (default: random). */
  graphSeed?: Uint8Array;
}

export type SecAggServerStage = SecAggStage | 'done' | 'failed';
export type StageOutcome =
  | { status: 'next'; stage: SecAggStage }
  | { status: 'done'; result: SecAggResult }
  | { status: 'failed'; error: CohortError };
export type ReceiveOutcome = { accepted: true } | { accepted: false; error: CohortError; dropped: boolean };
export interface Dropout {
  stage: SecAggStage;
  reason: string;
  /** Absent for a plain timeout or disconnect. */
  code?: ErrorCode;
}

/** Everything the coordinator holds in one round. U1…U5 are Bonawitz et al.'s survivor sets. */
interface ServerState {
  stage: SecAggServerStage;
  expected: Set<string>;
  replied: Set<string>;
  dropouts: Map<string, Dropout>;
  adverts: Map<string, AdvertiseKeysReply>;
  u1: ReadonlySet<string>;
  dealt: Map<string, DealtShares>;
  u2: ReadonlySet<string>;
  /** v → the neighbours whose shares were routed to v: exactly those v masks with (symmetric). */
  maskedWith: Map<string, readonly string[]>;
  maskedSum: Uint32Array;
  /** U3: their masked input is in maskedSum; irrevocable. */
  contributors: Set<string>;
  survivors: readonly string[];
  survivorBytes: Uint8Array;
  signatures: Map<string, string>;
  u4: ReadonlySet<string>;
  revealed: Map<string, { b: ByWorker; s: ByWorker }>;
  failure?: CohortError;
}

const invalid = (m: string) => new CohortError('E_SECAGG_INVALID', m);

export class SecAggServer {
  readonly #ctx: RoundContext;
  readonly #config: SecAggConfig;
  readonly #dimension: number;
  readonly #maxWeight: number;
  readonly #alg: KeyAgreement;
  readonly #seed: Uint8Array;
  readonly #graph: NeighbourGraph;
  readonly #members: ReadonlySet<string>;
  readonly #verify: SecAggVerify;
  readonly #s: ServerState;
  readonly #inflight = new Set<Promise<unknown>>();

  private constructor(o: SecAggServerOptions, alg: KeyAgreement, seed: Uint8Array, graph: NeighbourGraph) {
    this.#ctx = { runId: o.runId, round: o.round };
    this.#config = o.config;
    this.#dimension = o.dimension;
    this.#maxWeight = o.maxWeight ?? 1;
    this.#alg = alg;
    this.#seed = seed;
    this.#graph = graph;
    this.#members = new Set(graph.participants);
    this.#verify = o.verify;
    const empty = new Set<string>();
    this.#s = {
      stage: SECAGG_STAGE.advertiseKeys,
      expected: new Set(graph.participants),
      replied: new Set(),
      dropouts: new Map(),
      adverts: new Map(),
      u1: empty,
      dealt: new Map(),
      u2: empty,
      maskedWith: new Map(),
      maskedSum: new Uint32Array(0),
      contributors: new Set(),
      survivors: [],
      survivorBytes: new Uint8Array(0),
      signatures: new Map(),
      u4: empty,
      revealed: new Map(),
    };
  }

  /** Validate the config for this many workers (E_SECAGG_CONFIG) and open the advertise-keys stage. */
  static async create(o: SecAggServerOptions): Promise<SecAggServer> {
    const participants = [...o.participants].sort();
    if (new Set(participants).size !== participants.length) throw new CohortError('E_SECAGG_CONFIG', 'participants contain duplicates');
    validateSecAggConfig(o.config, { maxWorkers: participants.length, maxWeight: o.maxWeight ?? 1 });
    if (!Number.isInteger(o.dimension) || o.dimension < 1) throw new CohortError('E_SECAGG_CONFIG', `dimension must be a positive integer, got ${o.dimension}`);
    const alg = o.keyAgreement ?? (await detectKeyAgreement());
    const seed = o.graphSeed ?? randomBytes(32);
    return new SecAggServer(o, alg, seed, await buildNeighbourGraph(participants, seed, o.config.neighbours));
  }

  get stage(): SecAggServerStage {
    return this.#s.stage;
  }

  /** Why the round failed, once it has. */
  get failure(): CohortError | undefined {
    return this.#s.failure;
  }

  /** The neighbour graph of this round (for logs and tests). */
  get graph(): NeighbourGraph {
    return this.#graph;
  }

  /** Workers that were dropped, with the stage and reason. */
  dropouts(): ReadonlyMap<string, Dropout> {
    return this.#s.dropouts;
  }

  /**
   * Workers whose masked input is in the sum (known once masked-input has closed): the round's
   * contributors, e.g. for the contribution record. Identities only, never their inputs.
   */
  survivors(): readonly string[] {
    return this.#s.survivors;
  }

  /** Workers the current stage still waits for (none once the round is done or failed). */
  pending(): string[] {
    if (this.#s.stage === 'done' || this.#s.stage === 'failed') return [];
    return [...this.#s.expected].filter((id) => !this.#s.replied.has(id));
  }

  /** The current stage's request for every worker still expected to answer it. */
  requests(): { to: string; request: SecAggRequest }[] {
    return this.pending().map((to) => ({ to, request: this.requestFor(to) }));
  }

  /** The current stage's request for one worker (E_SECAGG_STAGE if it is not part of this stage). */
  requestFor(id: string): SecAggRequest {
    const s = this.#s;
    if (s.stage === 'done' || s.stage === 'failed' || !s.expected.has(id)) {
      throw new CohortError('E_SECAGG_STAGE', `${id} takes no part in stage ${s.stage}`);
    }
    const base = { type: SECAGG_REQUEST_TYPE, ...this.#ctx } as const;
    switch (s.stage) {
      case SECAGG_STAGE.advertiseKeys:
        return {
          ...base,
          stage: s.stage,
          participants: [...this.#graph.participants],
          graphSeed: this.#seed,
          keyAgreement: this.#alg,
          config: { ...this.#config },
          maxWeight: this.#maxWeight,
          dimension: this.#dimension,
        };
      case SECAGG_STAGE.shareKeys:
        return {
          ...base,
          stage: s.stage,
          peers: this.#graph.neighboursOf(id).filter((v) => s.u1.has(v)).map((v) => {
            const ad = s.adverts.get(v)!;
            return { id: v, cPk: ad.cPk, sPk: ad.sPk, bCommit: ad.bCommit, signature: ad.signature };
          }),
        };
      case SECAGG_STAGE.maskedInput:
        return { ...base, stage: s.stage, ciphertexts: s.maskedWith.get(id)!.map((u) => ({ from: u, ciphertext: s.dealt.get(u)!.ciphertexts.get(id)! })) };
      case SECAGG_STAGE.consistencyCheck:
        return { ...base, stage: s.stage, survivors: [...s.survivors] };
      case SECAGG_STAGE.unmask: {
        const group = s.maskedWith.get(id)!;
        return {
          ...base,
          stage: s.stage,
          signatures: group.filter((v) => s.signatures.has(v)).map((v) => ({ id: v, signature: s.signatures.get(v)! })),
          dropped: group.filter((v) => !s.contributors.has(v)),
        };
      }
    }
  }

  /**
   * Take one worker's reply. A bad one is refused with a code and its sender dropped (the round goes
   * on); a worker whose masked input is already in the sum stays a contributor but takes no further part.
   */
  receive(from: string, reply: unknown): Promise<ReceiveOutcome> {
    const work = this.#receive(from, reply);
    this.#inflight.add(work);
    return work.finally(() => this.#inflight.delete(work));
  }

  async #receive(from: string, reply: unknown): Promise<ReceiveOutcome> {
    const s = this.#s;
    if (s.stage === 'done' || s.stage === 'failed') return refused(new CohortError('E_SECAGG_STAGE', `the round is ${s.stage}`), false);
    if (!this.#members.has(from)) return refused(invalid(`${from} is not a participant of this round`), false);
    if (s.dropouts.has(from)) return refused(new CohortError('E_SECAGG_STAGE', `${from} was dropped earlier in this round`), false);
    const parsed = secAggReplySchema.safeParse(reply);
    let error: CohortError | undefined;
    if (!parsed.success) error = invalid(`malformed ${s.stage} reply: ${parsed.error.issues[0]?.message}`);
    else if (parsed.data.runId !== this.#ctx.runId || parsed.data.round !== this.#ctx.round) {
      error = new CohortError('E_SECAGG_STAGE', `reply for run ${parsed.data.runId} round ${parsed.data.round} (replayed?)`);
    } else if (parsed.data.stage !== s.stage) error = new CohortError('E_SECAGG_STAGE', `${parsed.data.stage} reply during ${s.stage}`);
    else if (!s.expected.has(from)) error = new CohortError('E_SECAGG_STAGE', `${from} takes no part in ${s.stage}`);
    else if (s.replied.has(from)) error = new CohortError('E_SECAGG_STAGE', `duplicate ${s.stage} reply from ${from}`);
    if (!parsed.success || error) return this.#refuse(from, error ?? invalid('malformed reply'));
    s.replied.add(from);
    const stage = s.stage;
    try {
      await this.#accept(from, parsed.data);
    } catch (cause) {
      const e = cause instanceof CohortError ? cause : invalid(String(cause));
      return s.stage === stage ? this.#refuse(from, e) : refused(e, false);
    }
    return { accepted: true };
  }

  #refuse(from: string, error: CohortError): ReceiveOutcome {
    this.drop(from, error.message, error.code);
    return refused(error, true);
  }

  /** Drop a worker from the current stage on (the caller's deadline, disconnect, or error report). */
  drop(id: string, reason = 'no reply before the deadline', code?: ErrorCode): void {
    const s = this.#s;
    if (s.stage === 'done' || s.stage === 'failed' || s.dropouts.has(id) || !this.#members.has(id)) return;
    s.dropouts.set(id, { stage: s.stage, reason, ...(code ? { code } : {}) });
    s.expected.delete(id);
    // Forget what it sent in this stage only (earlier stages' data is still needed to unmask);
    // a masked input already summed cannot be taken back: its sender stays in U3.
    if (s.stage === SECAGG_STAGE.advertiseKeys) s.adverts.delete(id);
    else if (s.stage === SECAGG_STAGE.shareKeys) s.dealt.delete(id);
    else if (s.stage === SECAGG_STAGE.consistencyCheck) s.signatures.delete(id);
    else if (s.stage === SECAGG_STAGE.unmask) s.revealed.delete(id);
  }

  async #accept(from: string, r: SecAggReply): Promise<void> {
    const s = this.#s;
    switch (r.stage) {
      case SECAGG_STAGE.advertiseKeys:
        checkAdvertisement(this.#ctx, this.#alg, from, r, this.#verify);
        s.adverts.set(from, r);
        return;
      case SECAGG_STAGE.shareKeys:
        s.dealt.set(from, checkDealtShares(from, r, new Set(this.#graph.neighboursOf(from).filter((v) => s.u1.has(v)))));
        return;
      case SECAGG_STAGE.maskedInput: {
        if (r.masked.length !== this.#dimension + 1) throw invalid(`masked input of ${r.masked.length} words; expected ${this.#dimension + 1}`);
        const sum = s.maskedSum;
        for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + r.masked[i]!;
        s.contributors.add(from);
        return;
      }
      case SECAGG_STAGE.consistencyCheck:
        if (!this.#verify(s.survivorBytes, r.signature, from)) throw invalid(`consistency signature of ${from} is not over the survivor set`);
        s.signatures.set(from, r.signature);
        return;
      case SECAGG_STAGE.unmask: {
        const group = s.maskedWith.get(from)!;
        const want = { b: [from, ...group.filter((v) => s.contributors.has(v))], s: group.filter((v) => !s.contributors.has(v)) };
        const revealed = await checkRevealedShares(this.#ctx, from, r, want, (dealer) => s.dealt.get(dealer));
        if (s.stage === SECAGG_STAGE.unmask && !s.dropouts.has(from)) s.revealed.set(from, revealed);
        return;
      }
    }
  }

  /**
   * End the current stage: whoever has not answered is dropped, the survivor set is checked against
   * the threshold, and the next stage opens — or, after unmask, the aggregate is computed.
   */
  async closeStage(): Promise<StageOutcome> {
    const s = this.#s;
    await Promise.allSettled([...this.#inflight]);
    if (s.stage === 'failed') return { status: 'failed', error: s.failure! };
    if (s.stage === 'done') return { status: 'failed', error: new CohortError('E_SECAGG_STAGE', 'the round is already complete') };
    for (const id of this.pending()) this.drop(id);
    const t = this.#config.threshold;
    const alive = (ids: Iterable<string>) => [...ids].filter((id) => !s.dropouts.has(id));
    try {
      switch (s.stage) {
        case SECAGG_STAGE.advertiseKeys:
          s.u1 = this.#prune(new Set(s.adverts.keys()), 'advertised keys');
          return this.#open(SECAGG_STAGE.shareKeys, s.u1);
        case SECAGG_STAGE.shareKeys: {
          s.u2 = this.#prune(new Set(s.dealt.keys()), 'shared keys');
          for (const v of s.u2) s.maskedWith.set(v, this.#graph.neighboursOf(v).filter((u) => s.u2.has(u)));
          s.maskedSum = new Uint32Array(this.#dimension + 1);
          return this.#open(SECAGG_STAGE.maskedInput, s.u2);
        }
        case SECAGG_STAGE.maskedInput:
          this.#atLeast(s.contributors.size, 'workers sent masked input');
          s.survivors = [...s.contributors].sort();
          s.survivorBytes = await survivorSetBytes(this.#ctx, s.survivors);
          this.#checkRecoverable(alive(s.contributors));
          return this.#open(SECAGG_STAGE.consistencyCheck, alive(s.contributors));
        case SECAGG_STAGE.consistencyCheck: {
          s.u4 = new Set(s.signatures.keys());
          this.#atLeast(s.u4.size, 'workers signed the survivor set');
          const next = this.#open(SECAGG_STAGE.unmask, s.u4);
          // A worker shown fewer than t signatures (its own included) would refuse to unmask.
          for (const v of s.u4) {
            const signers = s.maskedWith.get(v)!.filter((u) => s.u4.has(u)).length + 1;
            if (signers < t) this.drop(v, `only ${signers} of its holders signed the survivor set; ${t} needed`, 'E_SECAGG_THRESHOLD');
          }
          this.#checkRecoverable(alive(s.u4));
          return next;
        }
        case SECAGG_STAGE.unmask:
          return { status: 'done', result: await this.#unmask() };
      }
    } catch (cause) {
      const error = cause instanceof CohortError ? cause : new CohortError('E_INTERNAL', String(cause), { cause });
      s.stage = 'failed';
      s.failure = error;
      s.expected = new Set();
      s.maskedSum = new Uint32Array(0);
      return { status: 'failed', error };
    }
  }

  #open(stage: SecAggStage, recipients: Iterable<string>): StageOutcome {
    this.#s.stage = stage;
    this.#s.expected = new Set([...recipients].filter((id) => !this.#s.dropouts.has(id)));
    this.#s.replied = new Set();
    return { status: 'next', stage };
  }

  #atLeast(count: number, what: string): void {
    const t = this.#config.threshold;
    if (count < t) throw new CohortError('E_SECAGG_THRESHOLD', `only ${count} ${what}; the threshold is ${t}`);
  }

  /** Drop workers left with fewer than t − 1 neighbours in `set` (see survival.ts); the rest must still reach t. */
  #prune(set: Set<string>, what: string): Set<string> {
    const t = this.#config.threshold;
    pruneThinNeighbourhoods(set, (id) => this.#graph.neighboursOf(id), t, (u, left) =>
      this.drop(u, `only ${left} of its neighbours ${what}; ${t - 1} needed`, 'E_SECAGG_THRESHOLD'),
    );
    this.#atLeast(set.size, what);
    return set;
  }

  /** Fail early if some secret could no longer be reconstructed by the workers still taking part. */
  #checkRecoverable(responders: readonly string[]): void {
    const s = this.#s;
    const t = this.#config.threshold;
    const lost = findUnrecoverable(s.u2, s.maskedWith, s.contributors, new Set(responders), t);
    if (lost) throw new CohortError('E_SECAGG_THRESHOLD', `only ${lost.holders} holders of ${lost.id}'s ${lost.secret} shares remain; ${t} needed`);
  }

  /** Gather the revealed shares per dealer and hand everything to unmaskAggregate. */
  async #unmask(): Promise<SecAggResult> {
    const s = this.#s;
    const sharesOf = (kind: 'b' | 's', dealer: string) => [...s.revealed.values()].flatMap((r) => r[kind].get(dealer) ?? []);
    const sum = s.maskedSum;
    s.maskedSum = new Uint32Array(0);
    const result = await unmaskAggregate({
      ctx: this.#ctx,
      alg: this.#alg,
      threshold: this.#config.threshold,
      quantization: this.#config,
      maskedSum: sum,
      survivors: s.survivors.map((u) => ({ id: u, bCommit: s.adverts.get(u)!.bCommit, bShares: sharesOf('b', u) })),
      dropped: [...s.u2]
        .filter((u) => !s.contributors.has(u))
        .map((u) => ({
          id: u,
          sPk: s.adverts.get(u)!.sPk,
          sShares: sharesOf('s', u),
          survivingPeers: s.maskedWith.get(u)!.filter((v) => s.contributors.has(v)).map((v) => ({ id: v, sPk: s.adverts.get(v)!.sPk })),
        })),
    });
    s.stage = 'done';
    s.expected = new Set();
    return result;
  }
}

function refused(error: CohortError, dropped: boolean): ReceiveOutcome {
  return { accepted: false, error, dropped };
}
