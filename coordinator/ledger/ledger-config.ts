/**
 * A run's ledger settings, and where the keys that sign for it come from.
 *
 * A key never travels as a command-line literal (it would sit in `ps` output and shell history):
 * it comes from an environment variable, or from a file only its owner can read (mode 0600, as
 * ssh insists for its keys). A file that the group or others can read is refused with E_KEY_FILE.
 *
 * @example
 *   const config = parseLedgerConfig({
 *     rpcUrl: 'https://rpc.example.org', ledgerAddress: '0x…', chainRunId: '7',
 *     budgetWei: '1000000000000000000', rounds: 10, key: { source: 'file', path: 'coordinator.key' },
 *   });
 *   const privateKey = loadLedgerKey(config.key);
 */
import { readFileSync, statSync } from 'node:fs';
import { getAddress, isAddress, keccak256, toUtf8Bytes } from 'ethers';
import { z } from 'zod';
import { CohortError } from '../../core/protocol/errors.js';
import { MAX_ROUND_AMOUNT } from '../../contracts/merkle.js';
import { roundReward, type RewardPolicy } from './rewards.js';

/** The coordinator's default key variable (`cohort serve`, `cohort demo` on a real network). */
export const LEDGER_KEY_ENV = 'COHORT_LEDGER_KEY';
/** The researcher's and the worker's default key variable (`cohort ledger`, `cohort rewards`). */
export const USER_KEY_ENV = 'COHORT_KEY';

const PRIVATE_KEY = /^(0x)?[0-9a-fA-F]{64}$/;

const addressSchema = z
  .string()
  .refine((s) => isAddress(s), { message: 'expected a 0x-prefixed 20-byte address' })
  .transform((s) => getAddress(s));

/** An amount in wei (or the token's base unit): a bigint, a decimal string, or a safe integer. */
const weiSchema = z
  .union([z.bigint(), z.string().regex(/^\d+$/, 'expected a decimal integer string'), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n, { message: 'must not be negative' });

const urlSchema = z.string().refine(
  (s) => {
    try {
      return ['http:', 'https:', 'ws:', 'wss:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { message: 'expected an http(s):// or ws(s):// URL' },
);

export const keySourceSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('env'), variable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default(LEDGER_KEY_ENV) }),
  z.object({ source: z.literal('file'), path: z.string().min(1) }),
]);
export type KeySource = z.infer<typeof keySourceSchema>;

export const ledgerConfigSchema = z
  .object({
    rpcUrl: urlSchema,
    ledgerAddress: addressSchema,
    /** The run's id in the contract (createRun's result), not the run store's id. */
    chainRunId: z
      .union([z.bigint(), z.string().regex(/^[1-9]\d*$/, 'expected a positive integer'), z.number().int().positive()])
      .transform((v) => BigInt(v)),
    /** First block to scan for the ledger's events (its deployment block); 0 scans from genesis. */
    fromBlock: z.number().int().min(0).default(0),
    /** The whole run's reward; each round gets budget ÷ rounds unless `schedule` says otherwise. */
    budgetWei: weiSchema.refine((v) => v > 0n, { message: 'must be positive' }),
    rounds: z.number().int().min(1).max(100_000),
    /** Reward of each round, round 1 first; overrides budget ÷ rounds. Must sum to at most the budget. */
    schedule: z.array(weiSchema).optional(),
    /** Largest declared work (examples × local epochs) one worker is credited with in one round. */
    perWorkerContributionCap: z.number().int().min(1).optional(),
    /** Largest cumulative reward one address can earn over the run. */
    perAddressRewardCapWei: weiSchema.refine((v) => v > 0n, { message: 'must be positive' }).optional(),
    /** Only these addresses may sign in (E_NOT_ALLOWED otherwise) or earn. */
    allowlist: z.array(addressSchema).max(1_000_000).optional(),
    key: keySourceSchema.default({ source: 'env', variable: LEDGER_KEY_ENV }),
  })
  .superRefine((c, ctx) => {
    // zod 4 may run this after a field failed, with that field untransformed.
    if (typeof c.budgetWei !== 'bigint' || (c.schedule && c.schedule.some((v) => typeof v !== 'bigint'))) return;
    if (c.schedule !== undefined) {
      if (c.schedule.length !== c.rounds) {
        ctx.addIssue({ code: 'custom', path: ['schedule'], message: `has ${c.schedule.length} entries for ${c.rounds} rounds` });
      }
      const total = c.schedule.reduce((a, b) => a + b, 0n);
      if (total > c.budgetWei) ctx.addIssue({ code: 'custom', path: ['schedule'], message: `sums to ${total}, more than budgetWei ${c.budgetWei}` });
    }
    // One worker may get a whole round's reward, and the contract packs amounts as uint96.
    for (let round = 1; round <= c.rounds; round++) {
      if (roundReward(c, round) > MAX_ROUND_AMOUNT) {
        ctx.addIssue({ code: 'custom', path: ['budgetWei'], message: `round ${round}'s reward exceeds 2^96-1 base units` });
        break;
      }
    }
  });

export type LedgerConfig = z.output<typeof ledgerConfigSchema>;
export type LedgerConfigInput = z.input<typeof ledgerConfigSchema>;

export function parseLedgerConfig(input: unknown): LedgerConfig {
  const parsed = ledgerConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `ledger.${issue.path.join('.')}` : 'ledger';
    throw new CohortError('E_CONFIG_INVALID', `${where}: ${issue?.message ?? 'invalid'}`, { details: parsed.error.issues });
  }
  return parsed.data;
}

/** The reward maths' view of the settings. */
export function rewardPolicyOf(config: LedgerConfig): RewardPolicy {
  return {
    budgetWei: config.budgetWei,
    rounds: config.rounds,
    schedule: config.schedule,
    perWorkerContributionCap: config.perWorkerContributionCap,
    perAddressRewardCapWei: config.perAddressRewardCapWei,
  };
}

/**
 * A commitment to the settings that decide who earns what, for createRun's `configHash`: anyone
 * holding the settings can check that the researcher announced these and not others.
 */
export function ledgerConfigHash(config: Pick<LedgerConfig, 'budgetWei' | 'rounds' | 'schedule' | 'perWorkerContributionCap' | 'perAddressRewardCapWei' | 'allowlist'>): string {
  const canonical = {
    budgetWei: config.budgetWei.toString(),
    rounds: config.rounds,
    schedule: config.schedule?.map(String) ?? null,
    perWorkerContributionCap: config.perWorkerContributionCap ?? null,
    perAddressRewardCapWei: config.perAddressRewardCapWei?.toString() ?? null,
    allowlist: config.allowlist ? [...config.allowlist].map((a) => a.toLowerCase()).sort() : null,
  };
  return keccak256(toUtf8Bytes(JSON.stringify(canonical)));
}

/** The private key a key source names, as 0x-prefixed hex. */
export function loadLedgerKey(source: KeySource, env: NodeJS.ProcessEnv = process.env): string {
  if (source.source === 'file') return readKeyFile(source.path);
  const value = env[source.variable]?.trim();
  if (!value) throw new CohortError('E_KEY_FILE', `no key: set ${source.variable} to a 0x-prefixed private key, or use a 0600 key file`);
  if (!PRIVATE_KEY.test(value)) throw new CohortError('E_KEY_FILE', `${source.variable} does not hold a 32-byte hex private key`);
  return value.startsWith('0x') ? value : `0x${value}`;
}

/** Reads a key file that only its owner can read; E_KEY_FILE if missing, malformed or readable by others. */
export function readKeyFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (cause) {
    throw new CohortError('E_KEY_FILE', `cannot read key file ${path}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CohortError('E_KEY_FILE', `${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
  }
  const text = readFileSync(path, 'utf8').trim();
  if (!PRIVATE_KEY.test(text)) throw new CohortError('E_KEY_FILE', `${path} does not hold a 32-byte hex private key`);
  return text.startsWith('0x') ? text : `0x${text}`;
}

/**
 * The key source a command's flags name: `--key-file FILE` (or whatever `fileFlag` is), else the
 * environment variable. A value that looks like a key itself is refused, so that it is not left in
 * shell history. Undefined when neither is given.
 */
export function keySourceFromFlag(file: string | undefined, variable: string, flag: string, env: NodeJS.ProcessEnv = process.env): KeySource | undefined {
  if (file !== undefined) {
    if (PRIVATE_KEY.test(file)) {
      throw new CohortError('E_CLI_USAGE', `--${flag} takes a FILE, never the key itself (a key on the command line shows in ps and shell history); use a 0600 file or ${variable}`);
    }
    return { source: 'file', path: file };
  }
  return env[variable] ? { source: 'env', variable } : undefined;
}
