/**
 * Kinds of round, each a sequence of named steps over one RoundState (round-state.ts), run in
 * order until one fails. The engine owns the loop around them (waiting for workers, retries,
 * stop and pause); a kind owns what happens inside one attempt.
 *
 *   synchronous:
 *     select → configure → collect → observe-speed → aggregate → check → evaluate → commit → broadcast
 *   synchronous with contribution scoring (a run with rewards.quality):
 *     … → check → score → evaluate → commit → broadcast
 *
 * A new kind of round is a different sequence, not more branches in these steps. For example:
 *   - over-selection with early close: `select` over-samples, and a `collect` that closes once
 *     clientsPerRound results are in (under SecAgg+, at the masked-input stage) and cancels
 *     the rest: [selectOver, configure, collectUntilEnough, aggregate, check, evaluate, commit, broadcast];
 *   - asynchronous FedBuff groups: a group is formed from workers that fetched the same model
 *     version, collected like a round, then its sum is weighted by staleness before `check`:
 *     [formGroup, configure, collect, weighByStaleness, aggregate, check, commit, broadcast];
 *   - scored groups (group-wise secure aggregation for contribution scoring): several `collect`s
 *     over disjoint groups, a scoring step over the group sums, then aggregate and commit.
 * Steps that need a new part of the state add an optional field to RoundState; `need` makes a
 * step fail loudly when it runs in a sequence that lacks the step providing it.
 */
import type { RoundContext, RoundState, RoundStep } from './round-state.js';
import { aggregate } from './steps/aggregate.js';
import { broadcast } from './steps/broadcast.js';
import { check } from './steps/check.js';
import { collect } from './steps/collect.js';
import { commit } from './steps/commit.js';
import { configure } from './steps/configure.js';
import { evaluate } from './steps/evaluate.js';
import { observeSpeedStep } from './steps/observe-speed.js';
import { score } from './steps/score.js';
import { select } from './steps/select.js';

export type RoundKind = readonly RoundStep[];

export const SYNC_ROUND: RoundKind = [select, configure, collect, observeSpeedStep, aggregate, check, evaluate, commit, broadcast];

/** Synchronous, with contribution scoring (rewards.quality): the checked round's groups are scored before it commits. */
export const SCORED_SYNC_ROUND: RoundKind = [select, configure, collect, observeSpeedStep, aggregate, check, score, evaluate, commit, broadcast];

/**
 * Runs one attempt of a round: the steps in order, until one fails. Returns the failure reason,
 * or undefined when every step succeeded. A failed (or throwing) attempt undoes the strategy's
 * server-state change, so the retry starts from the same strategy as this attempt did.
 */
export async function runRoundSteps(kind: RoundKind, state: RoundState, ctx: RoundContext): Promise<string | undefined> {
  let committed = false;
  try {
    for (const step of kind) {
      const result = await step.run(state, ctx);
      if (result !== undefined) return result.failure;
      if (state.committed) committed = true;
    }
    return undefined;
  } finally {
    if (!committed) state.rollback?.();
  }
}
