/**
 * Reading a run file: JSON (`.json`) or YAML (`.yaml`, `.yml`), validated against schema.ts, with
 * every relative path in it (a Layers model file, an allowlist file, a key file) resolved against
 * the run file's own folder, so a run file and what it names can move together.
 *
 * Every failure is E_CONFIG_INVALID with one line naming the field's path:
 *   strategy.serverLr: expected a positive number, got "fast"
 *
 * @example
 *   const run = loadRunFile('examples/mnist-fedavg.yaml');
 *   const plan = toRunPlan(run, { localWorkers: 4 });
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { getAddress, isAddress } from 'ethers';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CohortError } from '../../core/protocol/errors.js';
import type { ModelSpec } from '../../core/protocol/messages.js';
import { describeIssue } from './issues.js';
import { runFileSchema, type RunFile } from './schema.js';

/** A validated run file with its model made a ModelSpec and every path resolved. */
export type LoadedRunFile = Omit<RunFile, 'model' | 'rewards' | 'chain'> & {
  model: ModelSpec;
  rewards?: Omit<NonNullable<RunFile['rewards']>, 'allowlist'> & { allowlist?: string[] | undefined };
  chain?: NonNullable<RunFile['chain']>;
  /** Absolute path of the file it came from (undefined when parsed from text). */
  source?: string | undefined;
};

export type RunFileFormat = 'json' | 'yaml';

function invalid(message: string, cause?: unknown): never {
  throw new CohortError('E_CONFIG_INVALID', message, cause === undefined ? undefined : { cause });
}

export function formatOf(path: string): RunFileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return invalid(`${path}: a run file must end in .json, .yaml or .yml`);
}

/** Parses run-file text; a syntax error names the file and, where it can, the line. */
export function parseRunFileText(text: string, format: RunFileFormat, name = 'run file'): unknown {
  try {
    return format === 'json' ? (JSON.parse(text) as unknown) : (parseYaml(text, { uniqueKeys: true, strict: true, prettyErrors: true }) as unknown);
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      return invalid(`${name}: not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${error.message.split('\n')[0]}`, error);
    }
    return invalid(`${name}: not valid JSON: ${(error as Error).message}`, error);
  }
}

/** Validates a parsed run file and resolves its paths against `baseDir`. */
export function validateRunFile(value: unknown, baseDir: string, source?: string): LoadedRunFile {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid(`${source ?? 'run file'}: expected an object of run settings at the top level`);
  const parsed = runFileSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    invalid(first ? describeIssue(runFileSchema, value, first) : 'invalid run file');
  }
  const file = parsed.data;
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const { rewards, chain } = file;
  return {
    ...file,
    source,
    model: modelSpecOf(file.model, at),
    rewards: rewards && { ...rewards, allowlist: typeof rewards.allowlist === 'string' ? readAllowlist(at(rewards.allowlist)) : rewards.allowlist },
    chain: chain && { ...chain, keyFile: chain.keyFile === undefined ? undefined : at(chain.keyFile) },
  };
}

/** Reads, parses and validates the run file at `path`. */
export function loadRunFile(path: string): LoadedRunFile {
  const format = formatOf(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return invalid(`${path}: cannot read the run file (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  const absolute = resolve(path);
  return validateRunFile(parseRunFileText(text, format, path), dirname(absolute), absolute);
}

function modelSpecOf(model: RunFile['model'], at: (path: string) => string): ModelSpec {
  if (typeof model === 'string') return { kind: 'builtin', name: model };
  if ('builtin' in model) return { kind: 'builtin', name: model.builtin };
  if (typeof model.layers !== 'string') return { kind: 'layers', topology: topologyOf(model.layers, 'model.layers') };
  const path = at(model.layers);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return invalid(`model.layers: cannot read the model file ${path} (${why})`, error);
  }
  return { kind: 'layers', topology: topologyOf(json, `model.layers (${path})`) };
}

/** The modelTopology of a model.json, or a bare topology; weights in the file are not used. */
function topologyOf(json: unknown, where: string): Record<string, unknown> {
  const record = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const topology = record && 'modelTopology' in record ? record.modelTopology : record;
  if (topology === null || typeof topology !== 'object' || Array.isArray(topology)) {
    return invalid(`${where}: expected a tfjs model.json (with "modelTopology") or a Layers topology object`);
  }
  const t = topology as Record<string, unknown>;
  const inner = (t.model_config ?? t) as Record<string, unknown>;
  if (typeof inner.class_name !== 'string' || typeof inner.config !== 'object') {
    return invalid(`${where}: expected a Layers topology with "class_name" and "config" (the modelTopology of a model.json)`);
  }
  return t;
}

/** Addresses, one per line; blank lines and # comments skipped. */
function readAllowlist(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return invalid(`rewards.allowlist: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const shown = JSON.stringify(line.slice(0, 60));
    if (!isAddress(line)) invalid(`rewards.allowlist: ${path} line ${i + 1}: expected a 0x-prefixed 20-byte address, got ${shown}`);
    out.push(getAddress(line));
  });
  return out;
}
