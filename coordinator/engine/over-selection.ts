/**
 * Over-selection with early close (issue 10.1): a round selects ⌈clientsPerRound × overSelect⌉
 * workers and closes as soon as clientsPerRound of them have answered, so it runs at the pace of
 * the clientsPerRound-th fastest worker rather than the slowest. The others are cancelled: they
 * are stragglers the round cut, not dropouts (they did nothing wrong).
 */
import type { RunConfig } from './run-config.js';

/** Workers a round selects: ⌈clientsPerRound × overSelect⌉; undefined (every ready worker) without clientsPerRound. */
export function selectionSize(config: Pick<RunConfig, 'clientsPerRound' | 'overSelect'>): number | undefined {
  if (config.clientsPerRound === undefined) return undefined;
  // 10 × 1.1 is 11.000000000000002 in floating point: that still means 11.
  return Math.max(config.clientsPerRound, Math.ceil(config.clientsPerRound * config.overSelect - 1e-9));
}

/**
 * Results after which a round with `assigned` workers closes: clientsPerRound, but never more
 * than were assigned, and under SecAgg+ never fewer than its threshold t (the sum can only be
 * unmasked with t survivors). Without clientsPerRound every assigned worker is waited for.
 */
export function closeAfterResults(config: Pick<RunConfig, 'clientsPerRound'>, assigned: number, threshold = 0): number {
  if (config.clientsPerRound === undefined) return assigned;
  return Math.min(assigned, Math.max(config.clientsPerRound, threshold));
}
