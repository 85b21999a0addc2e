/**
 * The admin token that guards the researcher's actions (pause, resume, stop). The coordinator
 * makes a fresh one at every start and writes it to a file only its user can read (0600); whoever
 * can read that file may act on the run. It travels only in a request header
 * (`authorization: Bearer …` or `x-cohort-admin-token: …`), never in a URL, where it would end up
 * in logs, history and Referer headers.
 *
 * @example
 * const adminToken = createAdminToken(`${storePath}.admin-token`);
 * // curl -X POST -H "authorization: Bearer $(cat run.sqlite.admin-token)" http://127.0.0.1:8080/api/runs/ID/pause
 */
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname } from 'node:path';
import { CohortError } from '../../core/protocol/errors.js';

export const ADMIN_TOKEN_HEADER = 'x-cohort-admin-token';

/** 256 random bits, base64url: safe in a header and in a shell. */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes `token` to `path` with mode 0600. The file is written beside the target and renamed over
 * it, so a reader never sees a half-written token and an older, looser file never keeps its mode.
 */
export function writeAdminTokenFile(path: string, token: string): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (cause) {
    rmSync(temporary, { force: true });
    throw new CohortError('E_CONFIG_INVALID', `cannot write the admin token file ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Makes a new token, writes it to `path` (0600) and returns it. */
export function createAdminToken(path: string): string {
  const token = generateAdminToken();
  writeAdminTokenFile(path, token);
  return token;
}

/** The token a request carries in its headers, if any. */
export function tokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const explicit = headers[ADMIN_TOKEN_HEADER];
  const value = Array.isArray(explicit) ? explicit[0] : explicit;
  if (value !== undefined && value.trim() !== '') return value.trim();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export type AdminCheck = 'ok' | 'missing' | 'wrong';

/** 'missing' answers 401, 'wrong' answers 403. Compared in constant time. */
export function checkAdminToken(headers: IncomingHttpHeaders, expected: string): AdminCheck {
  const given = tokenFromHeaders(headers);
  if (given === undefined) return 'missing';
  // Hash both sides so the comparison neither fails fast nor leaks the token's length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected !== '' ? 'ok' : 'wrong';
}
