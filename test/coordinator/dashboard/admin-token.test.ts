import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkAdminToken, createAdminToken, tokenFromHeaders } from '../../../coordinator/dashboard/admin-token.js';
import { scratchDir } from '../../e2e/helpers.js';

describe('the admin token', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is written to a 0600 file, replacing a looser older one', () => {
    const dir = scratchDir('cohort-token-');
    dirs.push(dir);
    const file = join(dir, 'run.sqlite.admin-token');
    writeFileSync(file, 'old\n', { mode: 0o644 });

    const token = createAdminToken(file);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(`${token}\n`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(createAdminToken(file)).not.toBe(token);
  });

  it('is read from either header and never from anywhere else', () => {
    expect(tokenFromHeaders({ authorization: 'Bearer abc' })).toBe('abc');
    expect(tokenFromHeaders({ authorization: 'bearer  abc ' })).toBe('abc');
    expect(tokenFromHeaders({ 'x-cohort-admin-token': 'xyz' })).toBe('xyz');
    expect(tokenFromHeaders({ authorization: 'Basic abc' })).toBeUndefined();
    expect(tokenFromHeaders({ cookie: 'token=abc' })).toBeUndefined();
  });

  it('tells a missing token (401) from a wrong one (403)', () => {
    expect(checkAdminToken({}, 'secret')).toBe('missing');
    expect(checkAdminToken({ authorization: 'Bearer nope' }, 'secret')).toBe('wrong');
    expect(checkAdminToken({ authorization: 'Bearer secre' }, 'secret')).toBe('wrong');
    expect(checkAdminToken({ authorization: 'Bearer secret' }, 'secret')).toBe('ok');
    expect(checkAdminToken({ 'x-cohort-admin-token': 'secret' }, 'secret')).toBe('ok');
    // An empty expected token never authorizes anyone.
    expect(checkAdminToken({ 'x-cohort-admin-token': ' ' }, '')).toBe('missing');
  });
});
