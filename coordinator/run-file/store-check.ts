/**
 * What `cohort run FILE` may do with its run store, decided before a coordinator starts.
 *
 * A coordinator resumes the store's unfinished run with the config stored for it, whatever it is
 * told (crash recovery). That is right for `cohort serve`, but `cohort run FILE` must then be
 * continuing THIS file's run: an unfinished run from other settings is refused, naming the first
 * setting that differs, rather than silently run in place of the file.
 */
import { existsSync } from 'node:fs';
import { CohortError } from '../../core/protocol/errors.js';
import { runConfigSchema, type RunConfig } from '../engine/run-config.js';
import { RunStore } from '../store/run-store.js';

export interface StoreCheck {
  /** The unfinished run of this file that the coordinator will resume, if any. */
  resumes?: string | undefined;
}

/** The first path at which two JSON values differ, or undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (a === b) return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return path || '(config)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of [...keys].sort()) {
    const diff = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

/** JSON's view of a value (undefined fields dropped), as the store keeps configs. */
function asStored(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

export function checkStoreForRunFile(storePath: string, config: RunConfig): StoreCheck {
  if (!existsSync(storePath)) return {};
  const store = new RunStore(storePath);
  try {
    const unfinished = store.unfinishedRun();
    if (unfinished) {
      // Compare what the coordinator will resume with: the stored config with today's defaults filled in.
      const parsed = runConfigSchema.safeParse(unfinished.config);
      const { runId: storedId, ...stored } = parsed.success ? parsed.data : (unfinished.config as RunConfig);
      const { runId: fileId, ...wanted } = config;
      const diff = firstDifference(asStored(stored), asStored(wanted));
      if (diff !== undefined || (fileId !== undefined && fileId !== (storedId ?? unfinished.id))) {
        throw new CohortError(
          'E_CONFIG_INVALID',
          `run store ${storePath} holds unfinished run ${unfinished.id}, started with other settings (${diff ?? 'runId'} differs); ` +
            `finish it with \`cohort serve --store ${storePath}\`, or give this run another --store`,
        );
      }
      return { resumes: unfinished.id };
    }
    if (config.runId !== undefined && store.getRun(config.runId)) {
      throw new CohortError('E_CONFIG_INVALID', `runId: run ${config.runId} already exists in ${storePath}; choose a new runId, or leave it out to have one generated`);
    }
    return {};
  } finally {
    store.close();
  }
}
