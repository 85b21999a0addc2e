/**
 * The coordinator's side of SecAgg+: it runs a sequence of stage units (core/secagg/stages/*.ts,
 * advertise keys → share keys → masked input → consistency check → unmask) over the round's one
 * typed state object (stages/state.ts). This file only sequences them: it checks each reply's
 * envelope (run, round, stage, sender, duplicates), drops workers, and opens the next stage when
 * one closes. What a stage sends, accepts and decides lives in that stage's file.
 *
 * No field, parameter or return type here carries one worker's unmasked update; the only
 * plaintext it ever produces is Σ w·x (Bonawitz et al. §4) and, when config.groupScoring is set,
 * each scoring group's Σ w·x (core/secagg/scoring-groups.ts).
 *
 * Driving it, per stage (the caller owns sockets and deadlines):
 * @example
 * const server = await SecAggServer.create({ runId, round, participants, config, dimension, verify });
 * for (;;) {
 *   for (const { to, request } of server.requests()) send(to, request);
 *   // on each reply: const r = await server.receive(from, reply); if (!r.accepted) sendError(from, r.error);
 *   // when server.pending() is empty (everyone answered, or the stage needs nobody else) or the deadline passes:
 *   const outcome = await server.closeStage();
 *   if (outcome.status === 'done') return outcome.result;   // { sum, totalWeight, contributors, groups? | groupsUnavailable? }
 *   if (outcome.status === 'failed') throw outcome.error;   // E_SECAGG_THRESHOLD / E_SECAGG_INVALID
 * }
 */
import { CohortError, type ErrorCode } from '../protocol/errors.js';
import { secAggReplySchema, type KeyAgreement, type SecAggReply, type SecAggRequest, type SecAggStage } from '../protocol/secagg.js';
import { validateSecAggConfig, type SecAggConfig } from './config.js';
import { detectKeyAgreement, randomBytes } from './crypto.js';
import { buildNeighbourGraph, type NeighbourGraph } from './graph.js';
import type { MaskedInputOptions } from './stages/masked-input.js';
import { checkStageSequence, secAggPlusStages } from './stages/sequence.js';
import { acceptReply, type AnyServerStage } from './stages/stage.js';
import { createRoundState, invalid, recordDropout, type Dropout, type SecAggRoundState, type SecAggServerStage } from './stages/state.js';
import type { SecAggVerify } from './transcript.js';
import type { SecAggResult } from './unmask.js';

export type { Dropout, SecAggResult, SecAggServerStage };

export interface SecAggServerOptions {
  runId: string;
  round: number;
  /** The selected workers (any order; sorted here). */
  participants: readonly string[];
  config: SecAggConfig;
  /** Model parameters d. */
  dimension: number;
  /** Checks identity signatures (advertisements, consistency check, disputed share hashes). */
  verify: SecAggVerify;
  /** Largest normalised weight (default 1). */
  maxWeight?: number;
  /** Key agreement for the round (default: X25519 if this runtime has it). Pick P-256 if any worker lacks X25519. */
  keyAgreement?: KeyAgreement;
  /** 32-byte seed of the neighbour graph (default: random). */
  graphSeed?: Uint8Array;
  /** Options of the standard masked-input stage, e.g. `closeAfter: K` for over-selection. */
  maskedInput?: MaskedInputOptions;
  /** A custom sequence of stage units (default: secAggPlusStages({ maskedInput })), in protocol order. */
  stages?: readonly AnyServerStage[];
}

export type StageOutcome =
  | { status: 'next'; stage: SecAggStage }
  | { status: 'done'; result: SecAggResult }
  | { status: 'failed'; error: CohortError };
export type ReceiveOutcome = { accepted: true } | { accepted: false; error: CohortError; dropped: boolean };

export class SecAggServer {
  readonly #s: SecAggRoundState;
  readonly #stages: readonly AnyServerStage[];
  #index = 0;
  readonly #inflight = new Set<Promise<unknown>>();

  private constructor(state: SecAggRoundState, stages: readonly AnyServerStage[]) {
    this.#s = state;
    this.#stages = stages;
  }

  /** Validate the config for this many workers (E_SECAGG_CONFIG) and open the advertise-keys stage. */
  static async create(o: SecAggServerOptions): Promise<SecAggServer> {
    const participants = [...o.participants].sort();
    if (new Set(participants).size !== participants.length) throw new CohortError('E_SECAGG_CONFIG', 'participants contain duplicates');
    const maxWeight = o.maxWeight ?? 1;
    validateSecAggConfig(o.config, { maxWorkers: participants.length, maxWeight });
    if (!Number.isInteger(o.dimension) || o.dimension < 1) throw new CohortError('E_SECAGG_CONFIG', `dimension must be a positive integer, got ${o.dimension}`);
    const k = o.maskedInput?.closeAfter;
    if (k !== undefined && (!Number.isInteger(k) || k < o.config.threshold || k > participants.length)) {
      throw new CohortError('E_SECAGG_CONFIG', `maskedInput.closeAfter must be an integer from the threshold ${o.config.threshold} to ${participants.length}, got ${k}`);
    }
    const stages = o.stages ?? secAggPlusStages({ ...(o.maskedInput ? { maskedInput: o.maskedInput } : {}) });
    checkStageSequence(stages);
    const alg = o.keyAgreement ?? (await detectKeyAgreement());
    const graphSeed = o.graphSeed ?? randomBytes(32);
    const graph = await buildNeighbourGraph(participants, graphSeed, o.config.neighbours);
    const ctx = { runId: o.runId, round: o.round };
    const state = createRoundState({ ctx, config: o.config, dimension: o.dimension, maxWeight, alg, graphSeed, graph, members: new Set(graph.participants), verify: o.verify });
    return new SecAggServer(state, stages);
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
    return this.#s.graph;
  }

  /** Workers that were dropped, with the stage and reason. */
  dropouts(): ReadonlyMap<string, Dropout> {
    return this.#s.dropouts;
  }

  /**
   * Workers whose masked input is in the sum (known once masked-input has closed): the round's
   * contributors, e.g. for the contribution record. Identities only, never their inputs. A bad
   * dealer whose input was summed before it was caught is among them (see badDealers()).
   */
  survivors(): readonly string[] {
    return this.#s.survivors;
  }

  /**
   * Under groupScoring, the contributors' scoring groups once masked-input has closed (sorted
   * members); the 'done' result carries their sums, or groupsUnavailable says why not.
   */
  scoringGroups(): readonly (readonly string[])[] | undefined {
    return this.#s.scoring?.groups;
  }

  /** Dealers proven to have dealt shares that differ from the hashes they signed (all also in dropouts()). */
  badDealers(): ReadonlySet<string> {
    return this.#s.badDealers;
  }

  /** Workers the current stage still waits for (none once it needs nobody else, or the round is over). */
  pending(): string[] {
    const stage = this.#open();
    return stage && !stage.complete?.(this.#s) ? this.#outstanding() : [];
  }

  /** The current stage's request for every worker still expected to answer it. */
  requests(): { to: string; request: SecAggRequest }[] {
    return this.pending().map((to) => ({ to, request: this.requestFor(to) }));
  }

  /** The current stage's request for one worker (E_SECAGG_STAGE if it is not part of this stage). */
  requestFor(id: string): SecAggRequest {
    const stage = this.#open();
    if (!stage || !this.#s.expected.has(id)) throw new CohortError('E_SECAGG_STAGE', `${id} takes no part in stage ${this.#s.stage}`);
    return stage.request(this.#s, id);
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
    const stage = this.#open();
    if (!stage) return refused(new CohortError('E_SECAGG_STAGE', `the round is ${s.stage}`), false);
    if (!s.members.has(from)) return refused(invalid(`${from} is not a participant of this round`), false);
    if (s.dropouts.has(from)) return refused(new CohortError('E_SECAGG_STAGE', `${from} was dropped earlier in this round`), false);
    const checked = this.#checkEnvelope(from, stage, reply);
    if (checked instanceof CohortError) return this.#refuse(from, checked);
    s.replied.add(from);
    try {
      await acceptReply(stage, s, from, checked);
    } catch (cause) {
      const e = cause instanceof CohortError ? cause : invalid(String(cause));
      return this.#open() === stage ? this.#refuse(from, e) : refused(e, false);
    }
    return { accepted: true };
  }

  /** The parsed reply if it belongs to this run, round and open stage and is `from`'s first; else why not. */
  #checkEnvelope(from: string, stage: AnyServerStage, reply: unknown): SecAggReply | CohortError {
    const s = this.#s;
    const parsed = secAggReplySchema.safeParse(reply);
    if (!parsed.success) return invalid(`malformed ${stage.name} reply: ${parsed.error.issues[0]?.message}`);
    const r = parsed.data;
    if (r.runId !== s.ctx.runId || r.round !== s.ctx.round) return new CohortError('E_SECAGG_STAGE', `reply for run ${r.runId} round ${r.round} (replayed?)`);
    if (r.stage !== stage.name) return new CohortError('E_SECAGG_STAGE', `${r.stage} reply during ${stage.name}`);
    if (!s.expected.has(from)) return new CohortError('E_SECAGG_STAGE', `${from} takes no part in ${stage.name}`);
    if (s.replied.has(from)) return new CohortError('E_SECAGG_STAGE', `duplicate ${stage.name} reply from ${from}`);
    return r;
  }

  #refuse(from: string, error: CohortError): ReceiveOutcome {
    this.drop(from, error.message, error.code);
    return refused(error, true);
  }

  /** Drop a worker from the current stage on (the caller's deadline, disconnect, or error report). */
  drop(id: string, reason = 'no reply before the deadline', code?: ErrorCode): void {
    const stage = this.#open();
    // Forget what it sent in this stage only: earlier stages' data is still needed to unmask.
    if (stage && recordDropout(this.#s, id, reason, code)) stage.forget(this.#s, id);
  }

  /**
   * End the current stage: whoever still owes a reply is dropped, the stage decides (threshold,
   * survivor sets), and the next stage opens — or, after unmask, the aggregate is returned.
   */
  async closeStage(): Promise<StageOutcome> {
    const s = this.#s;
    await Promise.allSettled([...this.#inflight]);
    if (s.stage === 'failed') return { status: 'failed', error: s.failure! };
    const stage = this.#open();
    if (!stage) return { status: 'failed', error: new CohortError('E_SECAGG_STAGE', 'the round is already complete') };
    for (const id of this.#outstanding()) this.drop(id, stage.lateReason);
    try {
      const end = await stage.close(s);
      if ('result' in end) {
        s.stage = 'done';
        s.expected = new Set();
        return { status: 'done', result: end.result };
      }
      const next = this.#stages[++this.#index]!;
      s.stage = next.name;
      s.expected = new Set([...end.next].filter((id) => !s.dropouts.has(id)));
      s.replied = new Set();
      return { status: 'next', stage: next.name };
    } catch (cause) {
      const error = cause instanceof CohortError ? cause : new CohortError('E_INTERNAL', String(cause), { cause });
      s.stage = 'failed';
      s.failure = error;
      s.expected = new Set();
      s.maskedSum = new Uint32Array(0);
      s.maskedInputs.clear();
      return { status: 'failed', error };
    }
  }

  /** The open stage's unit, or undefined once the round is done or failed. */
  #open(): AnyServerStage | undefined {
    return this.#s.stage === 'done' || this.#s.stage === 'failed' ? undefined : this.#stages[this.#index];
  }

  #outstanding(): string[] {
    return [...this.#s.expected].filter((id) => !this.#s.replied.has(id));
  }
}

function refused(error: CohortError, dropped: boolean): ReceiveOutcome {
  return { accepted: false, error, dropped };
}
