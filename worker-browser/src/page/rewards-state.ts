/**
 * What the Rewards panel shows (rewards.ts computes it, view.ts renders it). Types only, so the
 * Node-side launcher can name `window.cohort.rewards()` without compiling the panel's browser code.
 */
import type { RewardsChainInfo } from '../../../core/protocol/http-api.js';

export type RewardsStatus =
  /** No address yet: an injected wallet is asked only on Join or Claim. */
  | 'no address'
  | 'loading'
  /** The run records no rewards. */
  | 'disabled'
  /** Nothing recorded on chain for this address yet. */
  | 'none'
  | 'ready'
  | 'unreachable';

export interface RewardsState {
  status: RewardsStatus;
  account: string | undefined;
  /** The latest round on chain, which the numbers are for. */
  round: number | undefined;
  /** Wei (or the token's base units), as decimal strings; claimed/claimable are undefined when the coordinator could not read the chain. */
  earned: string | undefined;
  claimed: string | undefined;
  claimable: string | undefined;
  chain: RewardsChainInfo | undefined;
  claiming: boolean;
  /** The last claim's transaction. */
  txHash: string | undefined;
  error: string | undefined;
}
