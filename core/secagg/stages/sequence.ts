/**
 * The SecAgg+ protocol as a sequence of stage units, in the order every worker enforces
 * (SECAGG_STAGES). A round kind picks its options here, or builds its own list from the same
 * units (each stage file exports one factory), and hands it to SecAggServer.create({ stages }).
 */
import { CohortError } from '../../protocol/errors.js';
import { SECAGG_STAGES } from '../../protocol/secagg.js';
import { advertiseKeysStage } from './advertise-keys.js';
import { consistencyCheckStage } from './consistency-check.js';
import { maskedInputStage, type MaskedInputOptions } from './masked-input.js';
import { shareKeysStage } from './share-keys.js';
import type { AnyServerStage } from './stage.js';
import { unmaskStage } from './unmask.js';

export interface SecAggPlusStageOptions {
  maskedInput?: MaskedInputOptions;
}

/** advertise keys → share keys → masked input → consistency check → unmask. */
export function secAggPlusStages(o: SecAggPlusStageOptions = {}): readonly AnyServerStage[] {
  return [advertiseKeysStage(), shareKeysStage(), maskedInputStage(o.maskedInput), consistencyCheckStage(), unmaskStage()];
}

/** E_SECAGG_CONFIG unless `stages` name the protocol's stages in order: workers refuse any other order. */
export function checkStageSequence(stages: readonly AnyServerStage[]): void {
  const names = stages.map((s) => s.name);
  if (names.length !== SECAGG_STAGES.length || names.some((n, i) => n !== SECAGG_STAGES[i])) {
    throw new CohortError('E_SECAGG_CONFIG', `stages must be ${SECAGG_STAGES.join(' → ')}, got ${names.join(' → ')}`);
  }
}
