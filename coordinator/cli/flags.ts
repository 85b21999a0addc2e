/**
 * Flag parsing for every `cohort` command, on node:util's parseArgs (strict: unknown flags are
 * errors). Each value is checked here, so a bad flag fails with one line and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CohortError } from '../../core/protocol/errors.js';

export type FlagSpec = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | undefined>;

export function parseFlags(command: string, argv: string[], options: FlagSpec): FlagValues {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true, allowNegative: true });
    if (positionals.length > 0) throw new Error(`unexpected argument '${positionals[0]}'`);
    return values as FlagValues;
  } catch (error) {
    throw new CohortError('E_CLI_USAGE', `cohort ${command}: ${(error as Error).message.split('\n')[0]} (see cohort ${command} --help)`);
  }
}

function usage(flag: string, expected: string, got: unknown): CohortError {
  return new CohortError('E_CLI_USAGE', `--${flag}: expected ${expected}, got '${String(got)}'`);
}

export function intFlag(values: FlagValues, flag: string, fallback: number, min: number, max?: number): number;
export function intFlag(values: FlagValues, flag: string, fallback: undefined, min: number, max?: number): number | undefined;
export function intFlag(values: FlagValues, flag: string, fallback: number | undefined, min: number, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) throw usage(flag, 'an integer', raw);
  const n = Number(raw);
  if (n < min || n > max) throw usage(flag, `an integer from ${min} to ${max}`, raw);
  return n;
}

export function numberFlag(values: FlagValues, flag: string, fallback: number, min: number, max: number): number;
export function numberFlag(values: FlagValues, flag: string, fallback: undefined, min: number, max: number): number | undefined;
export function numberFlag(values: FlagValues, flag: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > max) throw usage(flag, `a number from ${min} to ${max}`, raw);
  return n;
}

export function enumFlag<T extends string>(values: FlagValues, flag: string, choices: readonly T[], fallback: T): T {
  const raw = values[flag];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) throw usage(flag, `one of ${choices.join('|')}`, raw);
  return raw as T;
}

export function stringFlag(values: FlagValues, flag: string): string | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '') throw usage(flag, 'a value', raw);
  return raw;
}

/** `i/n` with 0 ≤ i < n. */
export function shardFlag(values: FlagValues, flag: string): { index: number; count: number } | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const match = typeof raw === 'string' ? /^(\d+)\/(\d+)$/.exec(raw) : null;
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw usage(flag, 'i/n with 0 ≤ i < n, like 0/4', raw);
  return { index, count };
}

/** A repeatable flag whose values may also be comma-separated: `--f a --f b,c` → [a, b, c]. */
export function listFlag(values: FlagValues, flag: string): string[] | undefined {
  const raw = (values as Record<string, unknown>)[flag];
  if (raw === undefined) return undefined;
  const given = Array.isArray(raw) ? raw : [raw];
  const items = given.flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])).map((v) => (typeof v === 'string' ? v.trim() : v));
  if (items.length === 0 || items.some((v) => typeof v !== 'string' || v === '')) throw usage(flag, 'one or more comma-separated values', given.join(','));
  return items as string[];
}

/** `listFlag` of ws:// or wss:// URLs. */
export function wsUrlListFlag(values: FlagValues, flag: string): string[] | undefined {
  const urls = listFlag(values, flag);
  for (const url of urls ?? []) {
    if (!URL.canParse(url) || !/^wss?:$/.test(new URL(url).protocol)) throw usage(flag, 'ws:// or wss:// URLs', url);
  }
  return urls;
}
