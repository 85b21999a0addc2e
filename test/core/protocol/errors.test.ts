// core/protocol/errors.ts ERROR_EFFECTS: the one list both sides read to decide what an error does
// to the connection (the coordinator's transport/worker-registry.ts closes; the worker's core/worker/client.ts stops).
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_EFFECTS, closeCodeFor, closesConnection, finalErrorOfClose, type ErrorCode } from '../../../core/protocol/errors.js';

describe('error effects', () => {
  it('closes on protocol violations and answers ordinary refusals', () => {
    expect(closesConnection('E_MESSAGE_INVALID')).toBe(true);
    expect(closesConnection('E_INTERNAL')).toBe(true);
    expect(closesConnection('E_UPDATE_STALE')).toBe(false);
    expect(closesConnection('E_SECAGG_STAGE')).toBe(false);
  });

  it('maps the close code of every final error back to it, and no other', () => {
    const finals = (Object.keys(ERROR_EFFECTS) as ErrorCode[]).filter((code) => ERROR_EFFECTS[code as keyof typeof ERROR_EFFECTS] === 'final');
    // Refused sign-ins a retry cannot fix, and being replaced by a newer connection of the same key.
    expect(finals).toEqual(expect.arrayContaining(['E_AUTH_BAD_SIGNATURE', 'E_AUTH_WRONG_COORDINATOR', 'E_NOT_ALLOWED', 'E_PROTOCOL_VERSION', 'E_SESSION_REPLACED']));
    for (const code of finals) expect(finalErrorOfClose(closeCodeFor(code))).toBe(code);
    // A closing but not final error (a worker reconnects after it), an unknown code, a normal close.
    expect(finalErrorOfClose(closeCodeFor('E_RATE_LIMITED'))).toBeUndefined();
    expect(finalErrorOfClose(4999)).toBeUndefined();
    expect(finalErrorOfClose(1000)).toBeUndefined();
  });

  it('lists only known codes', () => {
    for (const code of Object.keys(ERROR_EFFECTS)) expect(Object.hasOwn(ERROR_CODES, code)).toBe(true);
  });
});
