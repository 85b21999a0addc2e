/**
 * The worker's side of SecAgg+: a state machine over one typed state object. The caller moves the
 * messages: each coordinator request goes to `handle`, whose reply goes back to the coordinator.
 *
 * Errors: a request for another run or round, or for a stage that is not the next one, is refused
 * with E_SECAGG_STAGE, and a malformed one with E_SECAGG_INVALID; both leave the state as it was (a
 * replay cannot derail the worker). A check that fails inside a stage — a bad signature, a tampered
 * share, a lying coordinator — aborts the worker for this round (`stage` becomes 'aborted', error
 * E_SECAGG_INVALID / E_SECAGG_THRESHOLD / E_SECAGG_CONFIG); the coordinator then counts it as dropped.
 * Shares whose hashes their dealer misreported do not abort: the worker complains in its masked
 * input (share-exchange.ts), and the coordinator drops the dealer.
 * @example
 * const client = new SecAggClient({ id: address, runId, round, sign, verify });
 * client.setInput(delta, Math.min(1, examples / cap));
 * ws.on('secagg-request', async (req) => send(await client.handle(req)));
 */
import { CohortError } from '../protocol/errors.js';
import {
  SECAGG_REPLY_TYPE,
  SECAGG_STAGE,
  nextSecAggStage,
  secAggRequestSchema,
  type AdvertiseKeysRequest,
  type ConsistencyCheckRequest,
  type DealerComplaint,
  type KeyAgreement,
  type MaskedInputRequest,
  type SecAggReply,
  type SecAggReplyOf,
  type SecAggStage,
  type SecAggWireConfig,
  type ShareKeysRequest,
  type UnmaskRequest,
} from '../protocol/secagg.js';
import { validateSecAggConfig } from './config.js';
import {
  bytesEqual,
  exportPrivateScalar,
  generateAgreementKeyPair,
  publicKeyLength,
  randomBytes,
  supportsKeyAgreement,
  type AgreementKeyPair,
} from './crypto.js';
import { buildNeighbourGraph, isSortedUnique, type NeighbourGraph } from './graph.js';
import { scoringParamsOf, scoringReveal } from './group-reveal.js';
import { maskInput, shareEncryptionKey } from './masking.js';
import { quantizeWeighted, randomWords } from './quantize.js';
import { checkSharePair, openSharePair, sealSharePair, signDealtShares, type SharePair } from './share-exchange.js';
import { dealShares } from './shares.js';
import {
  advertisementBytes,
  selfMaskCommitment,
  shareHash,
  survivorSetBytes,
  type RoundContext,
  type SecAggSign,
  type SecAggVerify,
} from './transcript.js';

export type { SecAggSign, SecAggVerify };

export type SecAggClientStage = SecAggStage | 'done' | 'aborted';

export interface SecAggClientOptions {
  /** This worker's identity (its address); must be in the round's participant list. */
  id: string;
  runId: string;
  round: number;
  sign: SecAggSign;
  verify: SecAggVerify;
  /** The update and its normalised weight, if already known; else call setInput() before masked-input. */
  input?: { vector: Float32Array; weight: number };
}

interface Peer {
  readonly id: string;
  readonly sPk: Uint8Array;
  /** AES-GCM key for shares exchanged with this peer. */
  readonly shareKey: Uint8Array;
}

/** Everything the worker knows in one round; each field is set by the stage named beside it. */
export interface SecAggClientState {
  stage: SecAggClientStage;
  readonly ctx: RoundContext;
  readonly id: string;
  input?: { vector: Float32Array; weight: number };
  /** advertise-keys */
  round?: {
    participants: ReadonlySet<string>;
    graph: NeighbourGraph;
    alg: KeyAgreement;
    config: SecAggWireConfig;
    maxWeight: number;
    dimension: number;
    scoringParams?: Uint8Array | undefined; // groupScoring: what survivors sign besides their set (transcript.ts)
  };
  /** advertise-keys: c (share encryption), s (masks; extractable, it is secret-shared), b. */
  secrets?: { c: AgreementKeyPair; s: AgreementKeyPair; b: Uint8Array };
  /** share-keys: neighbours whose signed advertisement was forwarded. */
  peers?: Map<string, Peer>;
  /** share-keys: this worker's own share of b (it is one of its k + 1 holders). */
  selfBShare?: Uint8Array;
  /** masked-input: shares received; exactly the neighbours this worker masked with. */
  held?: Map<string, SharePair>;
  /** consistency-check: the survivor set this worker signed. */
  signed?: { survivors: ReadonlySet<string>; bytes: Uint8Array };
  error?: CohortError;
}

const invalid = (message: string): CohortError => new CohortError('E_SECAGG_INVALID', message);

export class SecAggClient {
  readonly #state: SecAggClientState;
  readonly #sign: SecAggSign;
  readonly #verify: SecAggVerify;
  #busy = false;

  constructor(options: SecAggClientOptions) {
    this.#state = { stage: SECAGG_STAGE.advertiseKeys, ctx: { runId: options.runId, round: options.round }, id: options.id };
    this.#sign = options.sign;
    this.#verify = options.verify;
    if (options.input) this.setInput(options.input.vector, options.input.weight);
  }

  /** The next stage this worker accepts, or 'done' / 'aborted'. */
  get stage(): SecAggClientStage {
    return this.#state.stage;
  }

  /** Why the worker aborted, if it did. */
  get error(): CohortError | undefined {
    return this.#state.error;
  }

  /** Set the update x and weight w ∈ (0, maxWeight] to aggregate; allowed until masked-input is handled. */
  setInput(vector: Float32Array, weight: number): void {
    const s = this.#state;
    const past = s.stage === 'done' || s.stage === 'aborted' || s.stage === SECAGG_STAGE.consistencyCheck || s.stage === SECAGG_STAGE.unmask;
    if (past || (this.#busy && s.stage === SECAGG_STAGE.maskedInput)) {
      throw new CohortError('E_SECAGG_STAGE', `input can no longer be set (stage ${s.stage})`);
    }
    if (!Number.isFinite(weight) || weight <= 0) throw new CohortError('E_SECAGG_INVALID', `weight must be positive, got ${weight}`);
    if (s.round) checkInput(vector, weight, s.round);
    s.input = { vector, weight };
  }

  /**
   * Handle one coordinator request and return the reply to send back. Throws CohortError: for a
   * malformed or out-of-order request with the state unchanged, otherwise after aborting.
   */
  async handle(request: unknown): Promise<SecAggReply> {
    const s = this.#state;
    const parsed = secAggRequestSchema.safeParse(request);
    if (!parsed.success) throw new CohortError('E_SECAGG_INVALID', `malformed secure-aggregation request: ${parsed.error.issues[0]?.message}`);
    const req = parsed.data;
    if (req.runId !== s.ctx.runId || req.round !== s.ctx.round) {
      throw new CohortError('E_SECAGG_STAGE', `request for run ${req.runId} round ${req.round}; this worker is in run ${s.ctx.runId} round ${s.ctx.round}`);
    }
    if (this.#busy) throw new CohortError('E_SECAGG_STAGE', `${req.stage} arrived while the previous stage is still being handled`);
    if (req.stage !== s.stage) throw new CohortError('E_SECAGG_STAGE', `expected ${s.stage}, got ${req.stage}`);
    if (req.stage === SECAGG_STAGE.maskedInput && !s.input) {
      throw new CohortError('E_SECAGG_STAGE', 'masked-input arrived before the update was set (call setInput first)');
    }
    this.#busy = true;
    try {
      const reply = await this.#dispatch(req);
      s.stage = nextSecAggStage(req.stage) ?? 'done';
      return reply;
    } catch (cause) {
      const error = cause instanceof CohortError ? cause : new CohortError('E_SECAGG_INVALID', String(cause), { cause });
      this.#abort(error);
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  #dispatch(req: AdvertiseKeysRequest | ShareKeysRequest | MaskedInputRequest | ConsistencyCheckRequest | UnmaskRequest): Promise<SecAggReply> {
    switch (req.stage) {
      case SECAGG_STAGE.advertiseKeys:
        return this.#advertiseKeys(req);
      case SECAGG_STAGE.shareKeys:
        return this.#shareKeys(req);
      case SECAGG_STAGE.maskedInput:
        return this.#maskedInput(req);
      case SECAGG_STAGE.consistencyCheck:
        return this.#consistencyCheck(req);
      case SECAGG_STAGE.unmask:
        return this.#unmask(req);
    }
  }

  #reply<S extends SecAggStage>(stage: S, body: Omit<SecAggReplyOf<S>, 'type' | 'runId' | 'round' | 'stage'>): SecAggReplyOf<S> {
    return { type: SECAGG_REPLY_TYPE, runId: this.#state.ctx.runId, round: this.#state.ctx.round, stage, ...body } as SecAggReplyOf<S>;
  }

  /** Round 0: check the round's parameters, make keys c, s and seed b, sign the advertisement. */
  async #advertiseKeys(req: AdvertiseKeysRequest): Promise<SecAggReplyOf<'advertise-keys'>> {
    const s = this.#state;
    if (!isSortedUnique(req.participants) || !req.participants.includes(s.id)) {
      throw invalid('participants must be sorted, unique and include this worker');
    }
    validateSecAggConfig(req.config, { maxWorkers: req.participants.length, maxWeight: req.maxWeight });
    if (!(await supportsKeyAgreement(req.keyAgreement))) {
      throw new CohortError('E_SECAGG_CONFIG', `this runtime has no ${req.keyAgreement} key agreement`);
    }
    const graph = await buildNeighbourGraph(req.participants, req.graphSeed, req.config.neighbours);
    const round = {
      participants: new Set(req.participants),
      graph,
      alg: req.keyAgreement,
      config: req.config,
      maxWeight: req.maxWeight,
      dimension: req.dimension,
      scoringParams: await scoringParamsOf(req),
    };
    if (s.input) checkInput(s.input.vector, s.input.weight, round);
    const c = await generateAgreementKeyPair(round.alg, false);
    const sk = await generateAgreementKeyPair(round.alg, true);
    const b = randomBytes(32);
    const bCommit = await selfMaskCommitment(s.ctx, s.id, b);
    const ad = { id: s.id, keyAgreement: round.alg, cPk: c.publicRaw, sPk: sk.publicRaw, bCommit };
    const signature = await this.#sign(advertisementBytes(s.ctx, ad));
    s.round = round;
    s.secrets = { c, s: sk, b };
    return this.#reply(SECAGG_STAGE.advertiseKeys, { keyAgreement: round.alg, cPk: ad.cPk, sPk: ad.sPk, bCommit, signature });
  }

  /** Round 1: verify neighbours' advertisements; deal t-of-(k+1) shares of b and s_sk, encrypt each pair. */
  async #shareKeys(req: ShareKeysRequest): Promise<SecAggReplyOf<'share-keys'>> {
    const s = this.#state;
    const round = must(s.round);
    const secrets = must(s.secrets);
    const keyLength = publicKeyLength(round.alg);
    const seenKeys = [secrets.c.publicRaw, secrets.s.publicRaw];
    const peers = new Map<string, Peer>();
    for (const ad of req.peers) {
      if (!round.graph.areNeighbours(s.id, ad.id)) throw invalid(`${ad.id} is not a neighbour of this worker in this round's graph`);
      if (peers.has(ad.id)) throw invalid(`${ad.id} is listed twice`);
      if (ad.cPk.byteLength !== keyLength || ad.sPk.byteLength !== keyLength) throw invalid(`${ad.id} advertised keys of the wrong length`);
      const bytes = advertisementBytes(s.ctx, { id: ad.id, keyAgreement: round.alg, cPk: ad.cPk, sPk: ad.sPk, bCommit: ad.bCommit });
      if (!this.#verify(bytes, ad.signature, ad.id)) throw invalid(`advertisement of ${ad.id} is not signed by ${ad.id}`);
      // Bonawitz et al. require all advertised keys to differ: a copied key would be a copied mask.
      if (seenKeys.some((k) => bytesEqual(k, ad.cPk) || bytesEqual(k, ad.sPk)) || bytesEqual(ad.cPk, ad.sPk)) {
        throw invalid(`${ad.id} advertised a key that is already in use`);
      }
      seenKeys.push(ad.cPk, ad.sPk);
      peers.set(ad.id, { id: ad.id, sPk: ad.sPk, shareKey: await shareEncryptionKey(s.ctx, round.alg, secrets.c.privateKey, s.id, ad.id, ad.cPk) });
    }
    const holders = [s.id, ...[...peers.keys()].sort()];
    const t = round.config.threshold;
    if (holders.length < t) {
      throw new CohortError('E_SECAGG_THRESHOLD', `only ${holders.length - 1} neighbours advertised keys; ${t - 1} are needed`);
    }
    const skBytes = await exportPrivateScalar(secrets.s.privateKey);
    const bShares = await dealShares(secrets.b, holders.length, t);
    const sShares = await dealShares(skBytes, holders.length, t);
    skBytes.fill(0);
    const shares = await Promise.all(
      holders.slice(1).map(async (to, j) => ({
        to,
        ...(await sealSharePair(s.ctx, s.id, to, { bShare: bShares[j + 1]!, sShare: sShares[j + 1]! }, peers.get(to)!.shareKey)),
      })),
    );
    const dealtSignature = await signDealtShares(s.ctx, s.id, shares, this.#sign);
    s.peers = peers;
    s.selfBShare = bShares[0]!;
    for (const share of [...bShares.slice(1), ...sShares]) share.fill(0);
    const selfShareHash = await shareHash(s.ctx, 'b', s.id, s.id, s.selfBShare);
    return this.#reply(SECAGG_STAGE.shareKeys, { shares, selfShareHash, dealtSignature });
  }

  /** Round 2: decrypt the shares sent to us, then send y = q + PRG(b) + Σ ±PRG(s_uv). */
  async #maskedInput(req: MaskedInputRequest): Promise<SecAggReplyOf<'masked-input'>> {
    const s = this.#state;
    const round = must(s.round);
    const secrets = must(s.secrets);
    const peers = must(s.peers);
    const input = must(s.input);
    const held = new Map<string, SharePair>();
    const complaints: DealerComplaint[] = [];
    for (const dealt of req.ciphertexts) {
      const peer = peers.get(dealt.from);
      if (!peer) throw invalid(`shares from ${dealt.from}, which is not a neighbour that advertised keys`);
      if (held.has(dealt.from)) throw invalid(`two share ciphertexts from ${dealt.from}`);
      const pair = await openSharePair(s.ctx, dealt.from, s.id, dealt.ciphertext, peer.shareKey);
      // A dealer whose hashes lie would get this worker blamed at unmask: say so now (issue 13.6).
      const complaint = await checkSharePair(s.ctx, dealt.from, s.id, pair, dealt, peer.shareKey, this.#verify);
      if (complaint) complaints.push(complaint);
      held.set(dealt.from, pair);
    }
    const t = round.config.threshold;
    if (held.size + 1 < t) throw new CohortError('E_SECAGG_THRESHOLD', `only ${held.size} neighbours shared keys; ${t - 1} are needed`);
    const quantized = quantizeWeighted(input.vector, input.weight, round.config, randomWords(input.vector.length + 1));
    const masked = await maskInput({
      ctx: s.ctx,
      alg: round.alg,
      self: s.id,
      quantized,
      selfSeed: secrets.b,
      maskKey: secrets.s.privateKey,
      peers: [...held.keys()].map((id) => ({ id, sPk: peers.get(id)!.sPk })),
    });
    s.held = held;
    delete s.input; // the plaintext update is no longer needed
    return this.#reply(SECAGG_STAGE.maskedInput, complaints.length > 0 ? { masked, complaints } : { masked });
  }

  /** Round 3: sign the survivor set we are told, after checking it is plausible. */
  async #consistencyCheck(req: ConsistencyCheckRequest): Promise<SecAggReplyOf<'consistency-check'>> {
    const s = this.#state;
    const round = must(s.round);
    const held = must(s.held);
    const list = req.survivors;
    if (!isSortedUnique(list) || !list.includes(s.id)) throw invalid('survivor set must be sorted, unique and include this worker');
    for (const id of list) {
      if (!round.participants.has(id)) throw invalid(`survivor ${id} is not a participant`);
      // A neighbour that sent masked input must have shared keys with us first.
      if (round.graph.areNeighbours(s.id, id) && !held.has(id)) throw invalid(`survivor ${id} is a neighbour that never shared keys with this worker`);
    }
    const t = round.config.threshold;
    if (list.length < t) throw new CohortError('E_SECAGG_THRESHOLD', `only ${list.length} survivors; at least ${t} are needed`);
    const bytes = await survivorSetBytes(s.ctx, list, round.scoringParams);
    const signature = await this.#sign(bytes);
    s.signed = { survivors: new Set(list), bytes };
    return this.#reply(SECAGG_STAGE.consistencyCheck, { signature });
  }

  /**
   * Round 4: given t signatures (ours included) over the same survivor set, reveal for each
   * neighbour either its b share (it survived) or its s_sk share (it dropped) — never both; under
   * groupScoring also s_uv of surviving neighbours in other scoring groups (group-reveal.ts).
   */
  async #unmask(req: UnmaskRequest): Promise<SecAggReplyOf<'unmask'>> {
    const s = this.#state;
    const round = must(s.round);
    const held = must(s.held);
    const signed = must(s.signed);
    const selfBShare = must(s.selfBShare);
    const signers = new Set<string>([s.id]);
    for (const { id, signature } of req.signatures) {
      if (signers.has(id) || !held.has(id) || !signed.survivors.has(id)) continue;
      if (this.#verify(signed.bytes, signature, id)) signers.add(id);
    }
    const t = round.config.threshold;
    if (signers.size < t) {
      const shown = `the coordinator showed ${signers.size - 1} valid neighbour signatures over the survivor set this worker signed`;
      throw new CohortError('E_SECAGG_THRESHOLD', `${shown}; ${t - 1} are needed`);
    }
    const dropped = new Set<string>();
    for (const id of req.dropped) {
      if (signed.survivors.has(id)) throw invalid(`coordinator asked for the key share of ${id}, which it called a survivor: refusing both shares of one worker`);
      if (!held.has(id)) throw invalid(`coordinator asked for shares of ${id}, which this worker does not hold`);
      dropped.add(id);
    }
    const bShares = [{ of: s.id, share: selfBShare }];
    const sShares: { of: string; share: Uint8Array }[] = [];
    for (const [id, pair] of held) {
      if (signed.survivors.has(id)) bShares.push({ of: id, share: pair.bShare });
      else if (dropped.has(id)) sShares.push({ of: id, share: pair.sShare });
    }
    // Belt and braces: one kind of share per worker, whatever the loops above become.
    if (sShares.some((x) => bShares.some((b) => b.of === x.of))) throw invalid('refusing to reveal both shares of one worker');
    const crossSeeds = await scoringReveal(s, signers); // contribution scoring only (group-reveal.ts); may refuse
    this.#wipe();
    return this.#reply(SECAGG_STAGE.unmask, crossSeeds ? { bShares, sShares, crossSeeds } : { bShares, sShares });
  }

  #abort(error: CohortError): void {
    this.#state.stage = 'aborted';
    this.#state.error = error;
    this.#wipe();
  }

  /** Drop the secrets and the update; shares already copied into a reply stay with the reply. */
  #wipe(): void {
    const s = this.#state;
    s.secrets?.b.fill(0);
    delete s.secrets;
    delete s.input;
    delete s.peers;
    delete s.held;
    delete s.selfBShare;
  }
}

/** A state field that an earlier stage must have set (the stage order guarantees it). */
function must<T>(value: T | undefined): T {
  if (value === undefined) throw new CohortError('E_INTERNAL', 'secure-aggregation client state is missing a field set by an earlier stage');
  return value;
}

function checkInput(vector: Float32Array, weight: number, round: { dimension: number; maxWeight: number }): void {
  if (vector.length !== round.dimension) {
    throw new CohortError('E_UPDATE_LENGTH', `update has ${vector.length} values; the round aggregates ${round.dimension}`);
  }
  if (weight > round.maxWeight) throw new CohortError('E_SECAGG_INVALID', `weight ${weight} exceeds the round's maxWeight ${round.maxWeight}`);
}
