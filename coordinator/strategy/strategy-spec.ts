/**
 * The `strategy` block of a run file: a strategy name plus its hyperparameters, each with a
 * documented default (strategy-defaults.ts). Unknown keys are refused, so a misspelt
 * hyperparameter is an error that names it instead of a silently ignored default.
 *
 * | name            | hyperparameters (default)                                                  |
 * |-----------------|----------------------------------------------------------------------------|
 * | `fedavg`        | none                                                                       |
 * | `fedavgm`       | `serverLr` η (1), `momentum` β (0.9)                                       |
 * | `fedprox`       | `mu` μ (0.01)                                                              |
 * | `fedadam`       | `serverLr` η (0.01), `beta1` (0.9), `beta2` (0.99), `tau` τ (0.001)        |
 * | `fedyogi`       | `serverLr` η (0.01), `beta1` (0.9), `beta2` (0.99), `tau` τ (0.001)        |
 * | `fedadagrad`    | `serverLr` η (0.1), `beta1` (0), `tau` τ (0.001)                           |
 * | `fedmedian`     | none (needs individual updates)                                            |
 * | `fedtrimmedavg` | `beta` β, trimmed from each end (0.2) (needs individual updates)           |
 * | `krum`          | `byzantine` f (0), `keep` m (1; > 1 is Multi-Krum) (needs individual updates) |
 *
 * @example
 * const spec = parseStrategySpec({ name: 'fedadam', serverLr: 0.03 });
 * // { name: 'fedadam', serverLr: 0.03, beta1: 0.9, beta2: 0.99, tau: 0.001 }
 */
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { STRATEGY_DEFAULTS as D } from './strategy-defaults.js';

const lr = z.number().positive().max(1e3);
const decay = z.number().min(0).lt(1);
const tau = z.number().positive().max(1);

const fedOpt = (defaults: { serverLr: number; beta1: number; beta2: number; tau: number }) => ({
  serverLr: lr.default(defaults.serverLr),
  beta1: decay.default(defaults.beta1),
  beta2: decay.default(defaults.beta2),
  tau: tau.default(defaults.tau),
});

export const strategySpecSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('fedavg') }),
  z.strictObject({
    name: z.literal('fedavgm'),
    serverLr: lr.default(D.fedavgm.serverLr),
    momentum: decay.default(D.fedavgm.momentum),
  }),
  z.strictObject({ name: z.literal('fedprox'), mu: z.number().min(0).max(1e3).default(D.fedprox.mu) }),
  z.strictObject({ name: z.literal('fedadam'), ...fedOpt(D.fedadam) }),
  z.strictObject({ name: z.literal('fedyogi'), ...fedOpt(D.fedyogi) }),
  z.strictObject({
    name: z.literal('fedadagrad'),
    serverLr: lr.default(D.fedadagrad.serverLr),
    beta1: decay.default(D.fedadagrad.beta1),
    tau: tau.default(D.fedadagrad.tau),
  }),
  z.strictObject({ name: z.literal('fedmedian') }),
  z.strictObject({ name: z.literal('fedtrimmedavg'), beta: z.number().min(0).lt(0.5).default(D.fedtrimmedavg.beta) }),
  z.strictObject({
    name: z.literal('krum'),
    byzantine: z.number().int().min(0).max(10_000).default(D.krum.byzantine),
    keep: z.number().int().min(1).max(10_000).default(D.krum.keep),
  }),
]);

/** A strategy spec with every default filled in. */
export type StrategySpec = z.infer<typeof strategySpecSchema>;
/** What a run file may write: hyperparameters optional. */
export type StrategySpecInput = z.input<typeof strategySpecSchema>;
export type StrategyName = StrategySpec['name'];

export const STRATEGY_NAMES: readonly StrategyName[] = strategySpecSchema.options.map((o) => o.shape.name.value);

/**
 * Validates a strategy block and fills in its defaults. An error names the bad field's path (under
 * `where`, e.g. "strategy") and what was expected.
 */
export function parseStrategySpec(input: unknown, where = 'strategy'): StrategySpec {
  const parsed = strategySpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = [where, ...(issue?.path ?? []).map(String)].join('.');
  const badName = issue?.path.length === 1 && issue.path[0] === 'name';
  const message = badName ? `expected one of ${STRATEGY_NAMES.join(', ')}` : (issue?.message ?? 'invalid strategy');
  throw new CohortError('E_CONFIG_INVALID', `${path}: ${message}`, { details: parsed.error.issues });
}
