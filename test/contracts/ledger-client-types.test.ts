// The viem-style types of contracts/ledger-client.ts: each operation's XParameters, XReturnType
// and XErrorType describe the function itself (checked by the compiler: a drift fails typecheck
// and this file), and the error types admit only the codes the operation can reject with.
import { describe, expectTypeOf, it } from 'vitest';
import type { CohortError } from '../../core/protocol/errors.js';
import {
  challengeRoot, claim, createRun, endRun, unfreezeRun, fundRun, paidOf, recordRound, runCount, runStatus, withdraw,
  type ClaimParameters, type ClaimReturnType, type CreateRunErrorType, type CreateRunParameters, type CreateRunReturnType,
  type EndRunParameters, type EndRunReturnType, type FundRunErrorType, type FundRunParameters, type FundRunReturnType,
  type Ledger, type PaidOfParameters, type PaidOfReturnType, type RecordRoundErrorType, type RecordRoundParameters,
  type RecordRoundReturnType, type RunCountReturnType, type RunStatusParameters, type RunStatusReturnType,
  type WithdrawParameters, type WithdrawReturnType, type ChallengeRootErrorType, type ChallengeRootParameters,
  type ChallengeRootReturnType, type UnfreezeRunParameters, type UnfreezeRunReturnType,
} from '../../contracts/ledger-client.js';

describe('ledger client types', () => {
  it('name each operation\'s parameters and result', () => {
    expectTypeOf(createRun).parameters.toEqualTypeOf<[Ledger, CreateRunParameters]>();
    expectTypeOf(createRun).returns.resolves.toEqualTypeOf<CreateRunReturnType>();
    expectTypeOf(fundRun).parameters.toEqualTypeOf<[Ledger, FundRunParameters]>();
    expectTypeOf(fundRun).returns.resolves.toEqualTypeOf<FundRunReturnType>();
    expectTypeOf(recordRound).parameters.toEqualTypeOf<[Ledger, RecordRoundParameters]>();
    expectTypeOf(recordRound).returns.resolves.toEqualTypeOf<RecordRoundReturnType>();
    expectTypeOf(claim).parameters.toEqualTypeOf<[Ledger, ClaimParameters]>();
    expectTypeOf(claim).returns.resolves.toEqualTypeOf<ClaimReturnType>();
    expectTypeOf(endRun).parameters.toEqualTypeOf<[Ledger, EndRunParameters]>();
    expectTypeOf(endRun).returns.resolves.toEqualTypeOf<EndRunReturnType>();
    expectTypeOf(withdraw).parameters.toEqualTypeOf<[Ledger, WithdrawParameters]>();
    expectTypeOf(withdraw).returns.resolves.toEqualTypeOf<WithdrawReturnType>();
    expectTypeOf(runStatus).parameters.toEqualTypeOf<[Ledger, ...RunStatusParameters]>();
    expectTypeOf(runStatus).returns.resolves.toEqualTypeOf<RunStatusReturnType>();
    expectTypeOf(paidOf).parameters.toEqualTypeOf<[Ledger, ...PaidOfParameters]>();
    expectTypeOf(paidOf).returns.resolves.toEqualTypeOf<PaidOfReturnType>();
    expectTypeOf(challengeRoot).parameters.toEqualTypeOf<[Ledger, ChallengeRootParameters]>();
    expectTypeOf(challengeRoot).returns.resolves.toEqualTypeOf<ChallengeRootReturnType>();
    expectTypeOf(unfreezeRun).parameters.toEqualTypeOf<[Ledger, UnfreezeRunParameters]>();
    expectTypeOf(unfreezeRun).returns.resolves.toEqualTypeOf<UnfreezeRunReturnType>();
    expectTypeOf(runCount).returns.resolves.toEqualTypeOf<RunCountReturnType>();
  });

  it('admit only the codes each operation can fail with', () => {
    expectTypeOf<CreateRunErrorType['code']>().toEqualTypeOf<'E_LEDGER_REVERTED' | 'E_CHAIN_UNAVAILABLE' | 'E_LEDGER_INPUT'>();
    expectTypeOf<FundRunErrorType['code']>().toEqualTypeOf<'E_LEDGER_REVERTED' | 'E_CHAIN_UNAVAILABLE' | 'E_LEDGER_INPUT'>();
    expectTypeOf<RecordRoundErrorType['code']>().toEqualTypeOf<'E_LEDGER_REVERTED' | 'E_CHAIN_UNAVAILABLE' | 'E_LEDGER_ROUND_CONFLICT' | 'E_LEDGER_RUN_FROZEN'>();
    expectTypeOf<ChallengeRootErrorType['code']>().toEqualTypeOf<'E_LEDGER_REVERTED' | 'E_CHAIN_UNAVAILABLE' | 'E_LEDGER_CHALLENGE_INVALID' | 'E_LEDGER_INPUT'>();
    expectTypeOf<RecordRoundErrorType>().toExtend<CohortError>();
  });
});
