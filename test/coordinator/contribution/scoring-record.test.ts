// The RoundScored record round-trips every number to the bit (a replay must see what the
// coordinator's estimator saw), its assignment root proves membership, and bytes that are not a
// record of this version are refused with E_LEDGER_INPUT.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { AbiCoder, ZeroHash, getAddress } from 'ethers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ESTIMATOR_OPTIONS } from '../../../coordinator/contribution/quality-estimator.js';
import { parseQualityRule } from '../../../coordinator/contribution/quality-rule.js';
import { SCORING_RECORD_ABI_TYPE, SCORING_RECORD_VERSION, assignmentRoot, decodeScoringRecord, encodeScoringRecord, type ScoringRecord } from '../../../coordinator/contribution/scoring-record.js';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';
const C = '0x3333333333333333333333333333333333333333';

const record: ScoringRecord = {
  rule: parseQualityRule({ floor: 1 / 3, margin: 0.1 + 0.2 }),
  estimator: { ...DEFAULT_ESTIMATOR_OPTIONS, ridge: 1 / 25 },
  observation: { relative: true, groups: [{ members: [A, B], score: Math.PI / 7 }, { members: [C], score: -1e-300 }] },
  work: [{ address: A, work: 600 }, { address: C, work: 2 ** 40 }],
  roundReward: 10n ** 17n,
  perWorkerContributionCap: undefined,
  perAddressRewardCapWei: 5n,
};

describe('scoring record', () => {
  it('round-trips every field, floats to the bit', () => {
    const decoded = decodeScoringRecord(encodeScoringRecord(record));
    expect(decoded).toEqual(record);
    expect(Object.is(decoded.observation!.groups[1]!.score, -1e-300)).toBe(true);
    expect(decoded.rule.margin).toBe(0.1 + 0.2);
    expect(decodeScoringRecord(encodeScoringRecord({ ...record, observation: undefined })).observation).toBeUndefined();
  });

  it('roots the assignment over (worker, group) leaves', () => {
    const root = assignmentRoot(record.observation!.groups);
    const tree = StandardMerkleTree.of([[getAddress(A), 0], [getAddress(B), 0], [getAddress(C), 1]], ['address', 'uint32']);
    expect(root).toBe(tree.root);
    expect(assignmentRoot([])).toBe(ZeroHash);
    expect(assignmentRoot([{ members: [A] }, { members: [B, C] }])).not.toBe(root);
  });

  it('refuses bytes that are not a record of this version', () => {
    expect(() => decodeScoringRecord('0x1234')).toThrow(expect.objectContaining({ code: 'E_LEDGER_INPUT' }));
    const encoded = encodeScoringRecord(record);
    const [value] = AbiCoder.defaultAbiCoder().decode([SCORING_RECORD_ABI_TYPE], encoded);
    const future = AbiCoder.defaultAbiCoder().encode([SCORING_RECORD_ABI_TYPE], [[SCORING_RECORD_VERSION + 1, ...[...value].slice(1)]]);
    expect(() => decodeScoringRecord(future)).toThrow(expect.objectContaining({ code: 'E_LEDGER_INPUT', message: expect.stringContaining(`version ${SCORING_RECORD_VERSION + 1}`) }));
  });
});
