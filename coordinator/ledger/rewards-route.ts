/**
 * GET /api/rewards/:address: what a worker has earned, been paid and may claim, with the proof it
 * needs, for the browser worker page's Rewards panel (and anyone else; the data is public on chain).
 *
 * The proof is against the CLAIMABLE root on chain: the tree is rebuilt from the outbox rows the
 * sender has marked sent, never from rounds still pending, whose root the contract does not know
 * yet (a claim with such a proof would revert). On a run with a challenge window the claimable
 * root trails the last sent one until its window passes, so the tree stops at the sent round whose
 * root the chain reports as claimable (the last sent one when the chain does not answer). `claimed` is the ledger's paidOf, read live; when
 * the chain does not answer, `claimed` and `claimable` are left out rather than guessed.
 *
 * @example
 *   registerRewardsRoutes(routes, { ledger, store, runId, rpcUrl: options.ledger?.config.rpcUrl });
 *   // GET /api/rewards/0xabc… → { enabled: true, chain: {...}, account, round, cumulative, proof, claimed, claimable }
 */
import { getAddress, isAddress } from 'ethers';
import { paidOf, runStatus } from '../../contracts/ledger-client.js';
import { RewardTree, accumulate } from '../../contracts/merkle.js';
import type { HttpRoutes } from '../server/http.js';
import { sendJson } from '../server/http.js';
import type { RunStore } from '../store/run-store.js';
import type { RewardsBody, RewardsChainInfo } from '../../core/protocol/http-api.js';
import type { AttachedLedger } from './attach.js';
import { payloadEntries } from './outbox.js';

export interface RewardsRouteDeps {
  /** The coordinator's ledger; undefined when the run records no rewards. */
  readonly ledger: AttachedLedger | undefined;
  readonly store: RunStore;
  /** The run store's run id. */
  readonly runId: string;
  /**
   * The JSON-RPC URL pages send their claims through. It is published as is: a provider URL with
   * an API key in it would be published too, so pass a public one.
   */
  readonly rpcUrl: string | undefined;
  /** How long to wait for the chain before leaving `claimed` out (default 5 000 ms). */
  readonly chainTimeoutMs?: number | undefined;
}

export const REWARDS_PREFIX = '/api/rewards/';
const EMPTY = { round: 0, root: RewardTree.build(new Map()).root, tree: RewardTree.build(new Map()) };

export function registerRewardsRoutes(routes: HttpRoutes, deps: RewardsRouteDeps): HttpRoutes {
  const timeoutMs = deps.chainTimeoutMs ?? 5_000;
  // Rebuilding is O(rounds × workers): keep the tree until another round goes out.
  let cached: { round: number; root: string; tree: RewardTree } | undefined;
  let token: string | undefined;

  const onChainTree = (claimableRoot: string | undefined): { round: number; root: string; tree: RewardTree } => {
    const rows = deps.store.ledger.outboxRows(deps.runId);
    // Rows go out strictly in round order, so the sent ones are a prefix.
    const unsent = rows.findIndex((r) => r.status !== 'sent');
    let sent = unsent < 0 ? rows : rows.slice(0, unsent);
    if (claimableRoot !== undefined && claimableRoot !== sent.at(-1)?.payload.cumulativeRoot) {
      let upTo = sent.length - 1;
      while (upTo >= 0 && sent[upTo]?.payload.cumulativeRoot !== claimableRoot) upTo--;
      sent = sent.slice(0, upTo + 1); // empty when nothing this store sent is claimable yet
    }
    const last = sent.at(-1);
    if (!last) return EMPTY;
    if (cached?.round === last.round) return cached;
    let cumulative = new Map<string, bigint>();
    for (const row of sent) cumulative = accumulate(cumulative, payloadEntries(row.payload));
    const tree = RewardTree.build(cumulative);
    if (tree.root !== last.payload.cumulativeRoot) {
      throw new Error(`outbox of ${deps.runId}: rounds 1..${last.round} rebuild root ${tree.root}, not the recorded ${last.payload.cumulativeRoot}`);
    }
    cached = { round: last.round, root: tree.root, tree };
    return cached;
  };

  routes.prefix(REWARDS_PREFIX, async (req, res, url) => {
    // Public data: a page served from another origin (?coordinator=…) may read it too.
    res.setHeader('access-control-allow-origin', '*');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { error: 'E_MESSAGE_INVALID', message: 'use GET' });
    }
    const { ledger } = deps;
    if (!ledger) return sendJson(res, 200, { enabled: false });
    const text = url.pathname.slice(REWARDS_PREFIX.length);
    if (!isAddress(text)) return sendJson(res, 400, { error: 'E_LEDGER_INPUT', message: `not an address: ${JSON.stringify(text)}` });
    const account = getAddress(text);

    const { binding } = ledger;
    const chain: RewardsChainInfo = {
      rpcUrl: deps.rpcUrl,
      chainId: binding.chainId,
      ledger: binding.ledgerAddress,
      run: binding.chainRunId.toString(),
      ...(token === undefined ? {} : { token }),
    };
    const [paid, status] = await Promise.all([
      withTimeout(paidOf(ledger.ledger, binding.chainRunId, account), timeoutMs),
      withTimeout(runStatus(ledger.ledger, binding.chainRunId), timeoutMs),
    ]);
    if (status) token = chain.token = status.token;
    const { round, root, tree } = onChainTree(status?.root);
    const cumulative = tree.amountOf(account);
    if (cumulative === 0n) {
      return sendJson(res, 404, { error: 'E_LEDGER_NOT_IN_TREE', message: `${account} has no claimable reward on chain yet`, chain, account, round });
    }
    const { proof } = tree.proof(account);

    const body: RewardsBody = { enabled: true, chain, account, round, root, cumulative: cumulative.toString(), proof: [...proof] };
    if (paid !== undefined) {
      body.claimed = paid.toString();
      body.claimable = (cumulative > paid ? cumulative - paid : 0n).toString();
    }
    sendJson(res, 200, body);
  });
  return routes;
}

/** The value, or undefined when the chain fails or takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}
