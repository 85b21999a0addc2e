/**
 * What the dashboard reads from parts built elsewhere: the contribution ledger (rewards and the
 * transactions that recorded rounds) and differential privacy (ε spent). Each is optional: a
 * coordinator without a ledger or DP shows those columns empty.
 *
 * Providers are polled (every `providerPollMs`), never awaited: a slow or failing ledger must not
 * stall the dashboard, so a provider that throws is reported once and treated as empty.
 *
 * @example
 * registerDashboardRoutes(routes, {
 *   ...,
 *   providers: {
 *     rewards: (runId) => ledger.rewardsByAddress(runId),        // Map<address, "0.0125 ETH">
 *     roundTransactions: (runId) => ledger.recordedRounds(runId), // Map<round, txHash>
 *     privacy: (runId) => accountant.spent(runId),               // { epsilon, delta } | null
 *   },
 * });
 */
import type { PrivacySpent } from './api-types.js';

export interface DashboardProviders {
  /** Reward earned so far per worker address (any case), formatted for display. */
  rewards?: ((runId: string) => ReadonlyMap<string, string> | undefined) | undefined;
  /** The transaction hash that recorded each round on-chain, once mined. */
  roundTransactions?: ((runId: string) => ReadonlyMap<number, string> | undefined) | undefined;
  /** Privacy budget spent so far, where DP is on; null when it is off. */
  privacy?: ((runId: string) => PrivacySpent | null | undefined) | undefined;
}

export interface ProviderReadings {
  rewards: ReadonlyMap<string, string>;
  roundTransactions: ReadonlyMap<number, string>;
  privacy: PrivacySpent | null;
}

const EMPTY_STRINGS: ReadonlyMap<string, string> = new Map();
const EMPTY_TX: ReadonlyMap<number, string> = new Map();

/** Reads every provider for `runId`; a throwing provider reads as empty and is reported once. */
export function readProviders(providers: DashboardProviders, runId: string, report: (what: string, error: unknown) => void): ProviderReadings {
  return {
    rewards: guarded('rewards', () => providers.rewards?.(runId), report) ?? EMPTY_STRINGS,
    roundTransactions: guarded('roundTransactions', () => providers.roundTransactions?.(runId), report) ?? EMPTY_TX,
    privacy: guarded('privacy', () => providers.privacy?.(runId), report) ?? null,
  };
}

/** A reporter that logs each failing provider once, so a broken ledger does not flood the log. */
export function reportOnce(log: (message: string) => void): (what: string, error: unknown) => void {
  const reported = new Set<string>();
  return (what, error) => {
    if (reported.has(what)) return;
    reported.add(what);
    log(`dashboard: provider ${what} failed (shown as empty): ${error instanceof Error ? error.message : String(error)}`);
  };
}

function guarded<T>(what: string, read: () => T | undefined, report: (what: string, error: unknown) => void): T | undefined {
  try {
    return read();
  } catch (error) {
    report(what, error);
    return undefined;
  }
}
