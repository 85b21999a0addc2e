import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { CohortError } from '../../../core/protocol/errors.js';
import { challengeText } from '../../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type ChallengeMessage, type HelloMessage } from '../../../core/protocol/messages.js';
import { verifyHello } from '../../../coordinator/transport/verify-hello.js';

const challenge = (nonce: string, coordinatorId = 'cohort-A'): ChallengeMessage => ({
  type: 'challenge',
  protocol: PROTOCOL_VERSION,
  coordinatorId,
  coordinatorUrl: 'ws://127.0.0.1:8787/ws',
  nonce,
});

async function helloFor(wallet: { address: string; signMessage(m: string): Promise<string> }, signed: ChallengeMessage): Promise<HelloMessage> {
  return {
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    address: wallet.address,
    signature: await wallet.signMessage(challengeText(signed)),
    coordinatorId: signed.coordinatorId,
    coordinatorUrl: signed.coordinatorUrl,
    nonce: signed.nonce,
    kind: 'node',
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CohortError ? error.code : String(error);
  }
  return undefined;
}

describe('verifyHello', () => {
  const wallet = Wallet.createRandom();

  it('recovers the signer as the worker identity', async () => {
    const c = challenge('0x01');
    expect(verifyHello(await helloFor(wallet, c), c, false)).toBe(wallet.address);
  });

  it('refuses a forged signature (signed by another key) with E_AUTH_BAD_SIGNATURE', async () => {
    const c = challenge('0x02');
    const forged = { ...(await helloFor(Wallet.createRandom(), c)), address: wallet.address };
    expect(codeOf(() => verifyHello(forged, c, false))).toBe('E_AUTH_BAD_SIGNATURE');
  });

  it('refuses a malformed signature with E_AUTH_BAD_SIGNATURE', async () => {
    const c = challenge('0x03');
    const hello = { ...(await helloFor(wallet, c)), signature: '0x1234' };
    expect(codeOf(() => verifyHello(hello, c, false))).toBe('E_AUTH_BAD_SIGNATURE');
  });

  it('refuses a replayed signature (made for an earlier nonce) with E_AUTH_REPLAY', async () => {
    const old = challenge('0xaaaa');
    const replay = await helloFor(wallet, old);
    expect(codeOf(() => verifyHello(replay, challenge('0xbbbb'), false))).toBe('E_AUTH_REPLAY');
    // A second attempt with the right nonce on the same connection is a replay too.
    expect(codeOf(() => verifyHello(replay, old, true))).toBe('E_AUTH_REPLAY');
  });

  it('refuses a signature made for another coordinator with E_AUTH_WRONG_COORDINATOR', async () => {
    const other = challenge('0x04', 'cohort-B');
    const hello = await helloFor(wallet, other);
    expect(codeOf(() => verifyHello(hello, challenge('0x04', 'cohort-A'), false))).toBe('E_AUTH_WRONG_COORDINATOR');
  });

  it('refuses a hello that claims another coordinator id than it signed', async () => {
    const signedForB = await helloFor(wallet, challenge('0x05', 'cohort-B'));
    const relabelled = { ...signedForB, coordinatorId: 'cohort-A' };
    expect(codeOf(() => verifyHello(relabelled, challenge('0x05', 'cohort-A'), false))).toBe('E_AUTH_BAD_SIGNATURE');
  });

  it('refuses another protocol version', async () => {
    const c = challenge('0x06');
    const hello = { ...(await helloFor(wallet, c)), protocol: 99 };
    expect(codeOf(() => verifyHello(hello, c, false))).toBe('E_PROTOCOL_VERSION');
  });
});
