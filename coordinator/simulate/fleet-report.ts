/**
 * What the simulated fleet adds to the `--json` summary: fleet time per round (from the fleet
 * clock, at each round's start and completion) and `rewardShare`, the share of the paid budget
 * each class of client (honest, and each adversary kind present) would earn under the run's
 * reward rule: each round's reward split by credited work (coordinator/ledger/rewards.ts, the
 * same split the ledger pays), over the contributions the commit step stored. Computed, not paid.
 */
import { Wallet } from 'ethers';
import { normalizeAddress } from '../../contracts/merkle.js';
import type { EngineEvent } from '../engine/events.js';
import { roundReward, splitRound } from '../ledger/rewards.js';
import type { FleetClock } from './fleet-clock.js';
import type { ClientClass, FleetMember } from './fleet-spec.js';
import { simulatedKey } from './sim-client.js';

/** The budget rewards are computed against when the file names none; only shares are reported. */
const NOMINAL_BUDGET_WEI = 10n ** 18n;

export class FleetRounds {
  private readonly startedAt = new Map<number, number>();
  readonly seconds = new Map<number, number>();
  private lastVersionAt = 0;

  constructor(
    private readonly clock: FleetClock,
    private readonly mode: 'sync' | 'async' = 'sync',
  ) {}

  /** Feed every engine event; a retried round is timed from its last attempt. */
  readonly onEvent = (event: EngineEvent): void => {
    if (this.mode === 'async') {
      // Groups overlap: a version's fleet time is the time since the version before it.
      if (event.type !== 'round-completed') return;
      this.seconds.set(event.round, this.clock.now - this.lastVersionAt);
      this.lastVersionAt = this.clock.now;
      return;
    }
    if (event.type === 'round-started') {
      this.startedAt.set(event.round, this.clock.now);
      this.clock.released.delete(event.round);
    }
    if (event.type !== 'round-completed') return;
    const start = this.startedAt.get(event.round) ?? this.clock.now;
    const end = roundEnd(this.clock.released.get(event.round) ?? [], event.participants, (event.stragglersCut ?? 0) > 0) ?? this.clock.now;
    this.clock.settle(end);
    this.seconds.set(event.round, end - start);
  };
}

/**
 * When a round closed in fleet time: replies arrive in finish order and the survivors are the
 * first `participants` of them, so the round closed at the last survivor's reply. Unless it cut
 * stragglers, it also waited for every client that vanished (detected when it went).
 */
export function roundEnd(released: ReadonlyArray<{ kind: 'reply' | 'vanish'; finish: number }>, participants: number, cut: boolean): number | undefined {
  const replies = released.filter((r) => r.kind === 'reply').map((r) => r.finish);
  if (replies.length === 0) return undefined;
  let end = replies[Math.min(replies.length, Math.max(1, participants)) - 1]!;
  if (!cut) for (const r of released) if (r.kind === 'vanish') end = Math.max(end, r.finish);
  return end;
}

export interface RewardRule {
  rounds: number;
  budgetWei?: bigint | undefined;
  perWorkerContributionCap?: number | undefined;
}

/** Every simulated client's address → its class. */
export function classByAddress(fleet: readonly FleetMember[], seed: number): Map<string, ClientClass> {
  return new Map(fleet.map((member, index) => [normalizeAddress(new Wallet(simulatedKey(seed, index)).address), member.role]));
}

type CommittedContribution = { round: number; address: string; amount: number; examples?: number };

/** Share of everything paid that each class earned; classes present in the fleet, summing to 1 (all 0 if nothing was paid). */
export function rewardShares(contributions: ReadonlyArray<CommittedContribution>, classes: ReadonlyMap<string, ClientClass>, rule: RewardRule): Record<string, number> {
  return rewardTally(contributions, classes, rule).shares;
}

/**
 * What a quality rule leaves unallocated, seen from the other side: the share of the run's
 * budget (its rounds' rewards) that was paid at all, in [0, 1]. 1 under declared work alone.
 */
export function rewardPaid(contributions: ReadonlyArray<CommittedContribution>, classes: ReadonlyMap<string, ClientClass>, rule: RewardRule): number {
  return rewardTally(contributions, classes, rule).paid;
}

function rewardTally(
  contributions: ReadonlyArray<CommittedContribution>,
  classes: ReadonlyMap<string, ClientClass>,
  rule: RewardRule,
): { shares: Record<string, number>; paid: number } {
  const earned = new Map<string, bigint>([['honest', 0n]]);
  for (const role of classes.values()) earned.set(role, 0n);
  const byRound = new Map<number, Array<{ address: string; amount: number; unscaledAmount?: number | undefined }>>();
  // examples is the credited work before any quality factor, amount after it (equal without a quality rule).
  for (const c of contributions) byRound.set(c.round, [...(byRound.get(c.round) ?? []), { address: c.address, amount: c.amount, unscaledAmount: c.examples }]);
  let total = 0n;
  const budgetWei = rule.budgetWei ?? NOMINAL_BUDGET_WEI * BigInt(rule.rounds);
  for (const [round, list] of byRound) {
    const reward = roundReward({ budgetWei, rounds: rule.rounds }, round);
    const split = splitRound({ reward, contributions: list, perWorkerContributionCap: rule.perWorkerContributionCap });
    for (const entry of split.entries) {
      const role = classes.get(normalizeAddress(entry.account)) ?? 'honest';
      earned.set(role, (earned.get(role) ?? 0n) + entry.amount);
    }
    total += split.total;
  }
  const shares: Record<string, number> = {};
  for (const [role, wei] of earned) shares[role] = total === 0n ? 0 : Number((wei * 1_000_000n) / total) / 1_000_000;
  return { shares, paid: budgetWei === 0n ? 0 : Number((total * 1_000_000n) / budgetWei) / 1_000_000 };
}
