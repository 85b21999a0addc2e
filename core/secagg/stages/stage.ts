/**
 * What one SecAgg+ stage is on the coordinator: a unit with `request`, `accept`, `forget` and
 * `close` over the round's one state object (./state.ts), in the spirit of Flower's
 * secaggplus_workflow (a tuple of stage steps over one WorkflowState). The server
 * (core/secagg/server.ts) only sequences stages and checks the envelope of each reply; everything
 * a stage means lives in its own file. A new round kind composes stages (or wraps one) instead of
 * adding branches: e.g. maskedInputStage({ closeAfter: K }) for over-selection.
 */
import { CohortError } from '../../protocol/errors.js';
import type { SecAggReply, SecAggReplyOf, SecAggRequestOf, SecAggStage } from '../../protocol/secagg.js';
import type { SecAggResult } from '../unmask.js';
import type { SecAggRoundState } from './state.js';

/** How a stage ends: the workers the next stage opens for, or (last stage) the round's result. */
export type StageEnd = { next: Iterable<string> } | { result: SecAggResult };

export interface ServerStage<S extends SecAggStage = SecAggStage> {
  readonly name: S;
  /** The request for `to`, one of the workers the stage was opened for. */
  request(state: SecAggRoundState, to: string): SecAggRequestOf<S>;
  /**
   * Check and keep one reply whose envelope the server has checked (right run, round, stage and
   * sender, first reply). Throws CohortError to refuse it; the server then drops the sender.
   */
  accept(state: SecAggRoundState, from: string, reply: SecAggReplyOf<S>): void | Promise<void>;
  /** Forget what `id` sent in this stage: it was dropped while the stage was open. */
  forget(state: SecAggRoundState, id: string): void;
  /** True once the stage needs nobody else's reply (default: everyone expected answered). */
  complete?(state: SecAggRoundState): boolean;
  /** Why a worker still owed a reply is dropped at close (default: it missed the deadline). */
  readonly lateReason?: string;
  /** End the stage (workers still owing a reply are already dropped). Throws CohortError to fail the round. */
  close(state: SecAggRoundState): Promise<StageEnd>;
}

/** Any one of the five stage units (what a sequence of stages holds). */
export type AnyServerStage = { [S in SecAggStage]: ServerStage<S> }[SecAggStage];

/** Hand a parsed reply to the stage it belongs to (E_SECAGG_STAGE if it is another stage's). */
export function acceptReply(stage: AnyServerStage, state: SecAggRoundState, from: string, reply: SecAggReply): void | Promise<void> {
  if (reply.stage !== stage.name) throw new CohortError('E_SECAGG_STAGE', `${reply.stage} reply during ${stage.name}`);
  // reply.stage === stage.name, so this is the reply type the stage takes; TypeScript cannot relate the two unions.
  return (stage as ServerStage).accept(state, from, reply);
}
