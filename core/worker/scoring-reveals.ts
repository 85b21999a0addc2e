/**
 * A worker reveals contribution-scoring seeds (SecAgg+ crossSeeds, core/secagg/group-reveal.ts) at
 * most once per round of a run. A retried round regroups updates that are nearly the same as the
 * first attempt's; two groupings of one set of updates let a coordinator difference the group sums
 * down to small intersections, so the second attempt's unmask reply goes without its seeds (that
 * round's groups are then unavailable, its total unaffected). Kept for the session: a coordinator
 * that forces a reconnect gets a fresh one (SECURITY.md names this limit).
 */
import type { SecAggReply } from '../protocol/secagg.js';

export class ScoringRevealGuard {
  private readonly revealed = new Set<string>();

  /** The reply to send: `reply` itself, or without crossSeeds when this round's were revealed before. */
  pass(runId: string, round: number, reply: SecAggReply): SecAggReply {
    if (reply.stage !== 'unmask' || reply.crossSeeds === undefined) return reply;
    const key = `${runId}\u0000${round}`;
    if (!this.revealed.has(key)) {
      this.revealed.add(key);
      return reply;
    }
    const { crossSeeds: _withheld, ...rest } = reply;
    return rest;
  }
}
