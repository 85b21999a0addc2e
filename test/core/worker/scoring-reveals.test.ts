/**
 * A worker's scoring seeds go out once per round of a run: a retried round's unmask reply is sent
 * without them (the coordinator could otherwise difference two groupings of nearly the same updates).
 */
import { describe, expect, it } from 'vitest';
import type { SecAggReply } from '../../../core/protocol/secagg.js';
import { ScoringRevealGuard } from '../../../core/worker/scoring-reveals.js';

const unmask = (round: number): SecAggReply =>
  ({ type: 'secagg-reply', runId: 'r', round, stage: 'unmask', bShares: [], sShares: [], crossSeeds: [{ peer: '0xb', seed: new Uint8Array(32) }] }) as unknown as SecAggReply;

describe('ScoringRevealGuard', () => {
  it('passes the first unmask reply of a round whole and strips crossSeeds from a retry', () => {
    const guard = new ScoringRevealGuard();
    expect(guard.pass('r', 3, unmask(3))).toHaveProperty('crossSeeds');
    const retry = guard.pass('r', 3, unmask(3));
    expect(retry).not.toHaveProperty('crossSeeds');
    expect(retry).toMatchObject({ stage: 'unmask', bShares: [], sShares: [] });
    // Another round, or another run, is its own first time
    expect(guard.pass('r', 4, unmask(4))).toHaveProperty('crossSeeds');
    expect(guard.pass('other', 3, unmask(3))).toHaveProperty('crossSeeds');
  });

  it('leaves other stages and replies without seeds alone', () => {
    const guard = new ScoringRevealGuard();
    const plain = { type: 'secagg-reply', runId: 'r', round: 1, stage: 'unmask', bShares: [], sShares: [] } as unknown as SecAggReply;
    expect(guard.pass('r', 1, plain)).toBe(plain);
    expect(guard.pass('r', 1, unmask(1))).toHaveProperty('crossSeeds');
  });
});
