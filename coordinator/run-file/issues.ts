/**
 * Turns a zod validation failure into one line a researcher can act on: the PATH of the bad field,
 * what was expected, and what the file holds there, e.g.
 *
 *   strategy.serverLr: expected a positive number, got "fast"
 *
 * "Expected" is read off the schema at that path (its `.describe()` text, or its type and bounds),
 * so every field gets a precise sentence without a hand-written message per field.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;
// zod's schema internals, as far as this file reads them.
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  options?: AnySchema[];
  discriminator?: string;
  element?: AnySchema;
  valueType?: AnySchema;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: Array<{ _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string; minimum?: number } } }>;
}
interface AnySchema {
  def: Def;
  description?: string;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** `strategy.serverLr`, `rewards.schedule[2]`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly PathKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** How a value from the file is shown after "got". */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return 'an object';
}

/**
 * The schema that validates `path` below `schema`, following the input through unions. At the leaf
 * a union is kept whole (its own text, or all of its branches) unless `intoLeafUnion`.
 */
function schemaAt(schema: AnySchema, path: readonly PathKey[], input: unknown, intoLeafUnion = false): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  let value = input;
  for (let i = 0; i <= path.length && s; i++) {
    const key = path[i];
    s = unwrapToBranch(s, value, i < path.length || intoLeafUnion, key);
    if (key === undefined || !s) break;
    const def: Def = s.def;
    if (def.type === 'object') s = def.shape?.[String(key)];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else return undefined;
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return s;
}

/**
 * Through wrappers and pipes, and (with `intoUnions`) into the union branch meant for `value`: the
 * one its discriminator names, else an object branch that has the `next` key, else the first
 * branch of the value's kind.
 */
function unwrapToBranch(schema: AnySchema, value: unknown, intoUnions: boolean, next?: PathKey): AnySchema | undefined {
  let s = schema;
  for (;;) {
    const def = s.def;
    if (s.description && !intoUnions) return s;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else if (def.type === 'union' && def.options && intoUnions) {
      const options = def.options;
      const record = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
      const kind = (o: AnySchema): string => unwrap(o).def.type;
      let branch: AnySchema | undefined;
      if (def.discriminator !== undefined && record) {
        branch = options.find((o) => literalValues(unwrap(o).def.shape?.[def.discriminator!]).includes(record[def.discriminator!]));
      }
      if (next !== undefined && typeof next !== 'number') branch ??= options.find((o) => kind(o) === 'object' && unwrap(o).def.shape?.[String(next)] !== undefined);
      if (typeof next === 'number' || Array.isArray(value)) branch ??= options.find((o) => kind(o) === 'array');
      branch ??= options.find((o) => (record ? kind(o) === 'object' || kind(o) === 'record' : kind(o) !== 'object'));
      if (!branch) return s;
      s = branch;
    } else return s;
  }
}

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  while ((WRAPPERS.has(s.def.type) && s.def.innerType) || (s.def.type === 'pipe' && s.def.in)) s = (s.def.innerType ?? s.def.in)!;
  return s;
}

function literalValues(schema: AnySchema | undefined): unknown[] {
  if (!schema) return [];
  const def = unwrap(schema).def;
  if (def.type === 'literal') return def.values ?? [];
  if (def.type === 'enum') return Object.values(def.entries ?? {});
  return [];
}

function quoteAll(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  return shown.length <= 1 ? (shown[0] ?? 'nothing') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

function describeNumber(def: Def): string {
  let lo: { value: number; inclusive: boolean } | undefined;
  let hi: { value: number; inclusive: boolean } | undefined;
  let int = false;
  for (const check of def.checks ?? []) {
    const c = check._zod.def;
    if (c.check === 'greater_than' && c.value !== undefined) lo = { value: c.value, inclusive: c.inclusive === true };
    else if (c.check === 'less_than' && c.value !== undefined) hi = { value: c.value, inclusive: c.inclusive === true };
    else if (c.check === 'number_format' && (c.format === 'safeint' || c.format === 'int32' || c.format === 'uint32')) int = true;
  }
  if (int) {
    // Integer bounds read best inclusive: > 0 is ≥ 1.
    const min = lo === undefined ? undefined : lo.inclusive ? lo.value : Math.floor(lo.value) + 1;
    const max = hi === undefined || hi.value >= Number.MAX_SAFE_INTEGER ? undefined : hi.inclusive ? hi.value : Math.ceil(hi.value) - 1;
    const minShown = min !== undefined && min > Number.MIN_SAFE_INTEGER ? min : undefined;
    if (minShown !== undefined && max !== undefined) return `an integer from ${minShown} to ${max}`;
    if (minShown === 1) return 'a positive integer';
    if (minShown === 0) return 'a non-negative integer';
    if (minShown !== undefined) return `an integer ≥ ${minShown}`;
    if (max !== undefined) return `an integer ≤ ${max}`;
    return 'an integer';
  }
  if (lo?.value === 0 && hi && hi.value > 1) return `a ${lo.inclusive ? 'non-negative' : 'positive'} number up to ${hi.value}`;
  if (lo && hi) return lo.inclusive && hi.inclusive ? `a number from ${lo.value} to ${hi.value}` : `a number in ${lo.inclusive ? '[' : '('}${lo.value}, ${hi.value}${hi.inclusive ? ']' : ')'}`;
  if (lo) return lo.value === 0 ? (lo.inclusive ? 'a non-negative number' : 'a positive number') : `a number ${lo.inclusive ? '≥' : '>'} ${lo.value}`;
  if (hi) return `a number ${hi.inclusive ? '≤' : '<'} ${hi.value}`;
  return 'a number';
}

/** A short noun phrase for what `schema` accepts. */
export function describeSchema(schema: AnySchema): string {
  let s = schema;
  for (;;) {
    if (s.description) return s.description;
    const def = s.def;
    if ((WRAPPERS.has(def.type) && def.innerType) || (def.type === 'pipe' && def.in)) {
      s = (def.innerType ?? def.in)!;
      continue;
    }
    switch (def.type) {
      case 'number':
        return describeNumber(def);
      case 'string':
        return 'a string';
      case 'boolean':
        return 'true or false';
      case 'enum':
        return `one of ${quoteAll(Object.values(def.entries ?? {}))}`;
      case 'literal':
        return quoteAll(def.values ?? []);
      case 'array':
        return def.element ? `a list of ${describeSchema(def.element).replace(/^an? /, '')}s` : 'a list';
      case 'object':
        return def.shape && Object.keys(def.shape).length <= 4 ? `an object with ${quoteAll(Object.keys(def.shape))}` : 'an object';
      case 'record':
        return 'an object';
      case 'union':
        return (def.options ?? []).map(describeSchema).join(', or ');
      case 'bigint':
        return 'an integer';
      default:
        return def.type;
    }
  }
}

/** The most specific issue inside a union failure: the branch the value was closest to matching. */
function innermost(issue: Issue): { issue: Issue; path: PathKey[] } {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { issue, path: [...issue.path] };
  // The branch the value got furthest into (its first issue below the union's level), with the
  // fewest complaints: a branch that also finds unknown fields matched worse.
  let best: Issue | undefined;
  let bestCount = Number.POSITIVE_INFINITY;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (!first || first.path.length === 0) continue;
    if (branch.length < bestCount || (branch.length === bestCount && best && first.path.length > best.path.length)) {
      best = first;
      bestCount = branch.length;
    }
  }
  if (!best) return { issue, path: [...issue.path] };
  const inner = innermost(best);
  return { issue: inner.issue, path: [...issue.path, ...inner.path] };
}

/** One line for the first issue: `PATH: expected …, got …` (or the schema's own sentence). */
export function describeIssue(schema: z.ZodType, input: unknown, first: Issue): string {
  const root = schema as unknown as AnySchema;
  const { issue, path } = innermost(first);
  const where = formatPath(path);
  const got = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const parent = schemaAt(root, path, input, true);
      const known = parent?.def.type === 'object' ? Object.keys(parent.def.shape ?? {}) : [];
      const key = issue.keys[0] ?? '?';
      return `${formatPath([...path, key])}: unknown field${known.length ? ` (expected one of ${quoteAll(known)})` : ''}`;
    }
    case 'invalid_type':
    case 'invalid_value':
    case 'too_small':
    case 'too_big':
    case 'invalid_union': {
      const leaf = schemaAt(root, path, input);
      // A discriminated union names its valid discriminator values itself.
      const options = 'options' in issue && Array.isArray(issue.options) ? (issue.options as unknown[]) : undefined;
      const expected = options ? `one of ${quoteAll(options)}` : leaf ? describeSchema(leaf) : issue.message;
      return got === undefined ? `${where}: missing; expected ${expected}` : `${where}: expected ${expected}, got ${describeValue(got)}`;
    }
    default:
      // Formats, refinements and cross-field checks carry their own sentence.
      return `${where}: ${issue.message}${got === undefined || typeof got === 'object' ? '' : `, got ${describeValue(got)}`}`;
  }
}
