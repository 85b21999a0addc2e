/**
 * From declared work to wei: pure integer maths over bigint, so that the coordinator, a test and
 * anyone re-deriving a round from the store get the same amounts to the wei.
 *
 * A surviving worker's contribution in a round is the work it declared, examples × local epochs,
 * capped by the run's per-worker limit. Secure aggregation hides each update, so nothing better
 * than the declaration can be measured per worker (see README.md, "Rewards on an EVM chain" on what that cannot prove).
 * The round's reward is split in proportion to contributions by the largest-remainder method,
 * so the shares sum to exactly the reward. A per-address cap on cumulative rewards is applied by
 * water-filling: a capped worker gets its headroom, the rest is split among the others, and what
 * nobody can take stays unallocated (the researcher withdraws it when the run ends).
 *
 * @example
 *   const reward = roundReward({ budgetWei: 10n ** 18n, rounds: 5 }, 1); // 0.2 ETH
 *   const { entries } = splitRound({ reward, contributions, cumulative });
 */
import { CohortError } from '../../core/protocol/errors.js';
import { normalizeAddress, type RewardEntry } from '../../contracts/merkle.js';

export interface RewardPolicy {
  readonly budgetWei: bigint;
  readonly rounds: number;
  /** Reward of each round, round 1 first; overrides budget ÷ rounds. */
  readonly schedule?: readonly bigint[] | undefined;
  /** Largest declared work credited to one worker in one round. */
  readonly perWorkerContributionCap?: number | undefined;
  /** Largest cumulative reward of one address over the run. */
  readonly perAddressRewardCapWei?: bigint | undefined;
}

/**
 * The reward of round `round` (1-based, as the engine numbers rounds). Without a schedule each
 * round gets ⌊budget ÷ rounds⌋ and the last one also the remainder, so the rounds sum to the
 * budget exactly. Rounds beyond the run's count get nothing.
 */
export function roundReward(policy: Pick<RewardPolicy, 'budgetWei' | 'rounds' | 'schedule'>, round: number): bigint {
  if (!Number.isInteger(round) || round < 1 || round > policy.rounds) return 0n;
  if (policy.schedule) return policy.schedule[round - 1] ?? 0n;
  const each = policy.budgetWei / BigInt(policy.rounds);
  return round === policy.rounds ? policy.budgetWei - each * BigInt(policy.rounds - 1) : each;
}

/** Declared work → credited work: a non-negative integer, at most the per-worker cap. */
export function creditedWork(declared: number, cap?: number): bigint {
  if (!Number.isFinite(declared) || declared <= 0) return 0n;
  const work = BigInt(Math.floor(declared));
  return cap !== undefined && work > BigInt(cap) ? BigInt(cap) : work;
}

export interface SplitInput {
  readonly reward: bigint;
  /**
   * Surviving workers with their credited work (examples processed over the local epochs). Under a
   * quality rule `amount` is that work × the worker's quality factor and `unscaledAmount` the work
   * itself: the round's reward is then first scaled by Σ amount ÷ Σ unscaledAmount, so what the
   * factors withhold stays unallocated instead of going to the few who qualify (no windfall for a
   * worker in a round where the others have no evidence yet).
   */
  readonly contributions: ReadonlyArray<{ readonly address: string; readonly amount: number; readonly unscaledAmount?: number | undefined }>;
  /** Every address's cumulative reward before this round (for the per-address cap). */
  readonly cumulative?: ReadonlyMap<string, bigint> | undefined;
  readonly perWorkerContributionCap?: number | undefined;
  readonly perAddressRewardCapWei?: bigint | undefined;
  /** When given, addresses not on it earn nothing (the gateway should have refused them already). */
  readonly allowlist?: ReadonlySet<string> | undefined;
}

export interface RoundSplit {
  /** (address, wei) for every worker paid this round, sorted by address; no zero amounts. */
  readonly entries: RewardEntry[];
  /** Σ entries; never more than the reward. */
  readonly total: bigint;
  /** reward − total: left for the researcher because of caps or an empty round. */
  readonly unallocated: bigint;
}

/** Splits one round's reward; see the file comment for the rules. */
export function splitRound(input: SplitInput): RoundSplit {
  if (input.reward < 0n) throw new CohortError('E_LEDGER_INPUT', `negative round reward ${input.reward}`);
  const weights = new Map<string, bigint>();
  let unscaledTotal = 0n;
  let scaledTotal = 0n;
  for (const c of input.contributions) {
    const account = normalizeAddress(c.address);
    if (weights.has(account)) throw new CohortError('E_LEDGER_INPUT', `${account} contributes twice in one round`);
    if (input.allowlist && !input.allowlist.has(account)) continue;
    // The cap applies to the work first and the quality factor (amount ÷ unscaledAmount) after it,
    // so a worker over the cap cannot regain by volume what its factor takes away.
    const unscaled = c.unscaledAmount === undefined ? undefined : Math.max(c.unscaledAmount, c.amount);
    const capped = creditedWork(unscaled ?? c.amount, input.perWorkerContributionCap);
    const whole = unscaled === undefined ? 0n : creditedWork(unscaled);
    const work = unscaled === undefined ? capped : whole === 0n ? 0n : (capped * creditedWork(c.amount)) / whole;
    scaledTotal += work;
    unscaledTotal += capped;
    if (work > 0n) weights.set(account, work);
  }
  // Quality factors scale the round's reward down instead of redistributing it (see SplitInput).
  const reward = unscaledTotal === 0n ? input.reward : (input.reward * scaledTotal) / unscaledTotal;
  const headroom = (account: string): bigint | undefined => {
    const cap = input.perAddressRewardCapWei;
    if (cap === undefined) return undefined;
    const sofar = cumulativeOf(input.cumulative, account);
    return sofar >= cap ? 0n : cap - sofar;
  };

  const shares = new Map<string, bigint>();
  let active = [...weights.keys()].filter((a) => headroom(a) !== 0n).sort(byAddress);
  let remaining = reward;
  // Water-filling: each pass either settles everyone or removes at least one capped worker.
  while (active.length > 0 && remaining > 0n) {
    const tentative = apportion(remaining, active.map((a) => [a, weights.get(a) ?? 0n] as const));
    const capped = active.filter((a) => {
      const room = headroom(a);
      return room !== undefined && (tentative.get(a) ?? 0n) > room;
    });
    if (capped.length === 0) {
      for (const [a, v] of tentative) shares.set(a, v);
      remaining = 0n;
      break;
    }
    for (const a of capped) {
      const room = headroom(a) ?? 0n;
      shares.set(a, room);
      remaining -= room;
    }
    active = active.filter((a) => !capped.includes(a));
  }

  const entries = [...shares].filter(([, v]) => v > 0n).sort(([a], [b]) => byAddress(a, b)).map(([account, amount]) => ({ account, amount }));
  const total = entries.reduce((s, e) => s + e.amount, 0n);
  return { entries, total, unallocated: input.reward - total };
}

/**
 * Hamilton's largest-remainder apportionment: ⌊total·wᵢ/W⌋ each, then one more unit to the
 * largest remainders (ties to the lower address), so the parts sum to `total` exactly.
 */
export function apportion(total: bigint, weights: ReadonlyArray<readonly [string, bigint]>): Map<string, bigint> {
  const sum = weights.reduce((s, [, w]) => s + w, 0n);
  const out = new Map<string, bigint>();
  if (sum === 0n) return out;
  const rows = weights.map(([account, w]) => ({ account, share: (total * w) / sum, rest: (total * w) % sum }));
  let left = total - rows.reduce((s, r) => s + r.share, 0n);
  rows.sort((x, y) => (x.rest === y.rest ? byAddress(x.account, y.account) : x.rest > y.rest ? -1 : 1));
  for (const row of rows) {
    if (left > 0n) {
      row.share += 1n;
      left -= 1n;
    }
    out.set(row.account, row.share);
  }
  return out;
}

/** A normalised allowlist, or undefined when the run admits everyone. */
export function allowlistOf(addresses: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return addresses === undefined ? undefined : new Set(addresses.map(normalizeAddress));
}

export function isAllowed(allowlist: ReadonlySet<string> | undefined, address: string): boolean {
  if (allowlist === undefined) return true;
  try {
    return allowlist.has(normalizeAddress(address));
  } catch {
    return false;
  }
}

/** For the gateway's sign-in: throws E_NOT_ALLOWED (close 4015) for an address not on the allowlist. */
export function checkAllowed(allowlist: ReadonlySet<string> | undefined, address: string): void {
  if (!isAllowed(allowlist, address)) throw new CohortError('E_NOT_ALLOWED', `${address} is not on this run's allowlist`);
}

function cumulativeOf(cumulative: ReadonlyMap<string, bigint> | undefined, account: string): bigint {
  if (!cumulative) return 0n;
  return cumulative.get(account) ?? cumulative.get(account.toLowerCase()) ?? 0n;
}

function byAddress(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}
