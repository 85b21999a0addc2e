/**
 * Checks a worker's signed hello against the challenge this connection was sent. The order of the
 * checks decides which code a bad hello gets, so a client learns what it did wrong.
 */
import { getAddress, verifyMessage } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { challengeText } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type ChallengeMessage, type HelloMessage } from '../../core/protocol/messages.js';

/** Returns the worker's checksummed address: its identity and reward address. */
export function verifyHello(hello: HelloMessage, challenge: ChallengeMessage, nonceAlreadyUsed: boolean): string {
  if (hello.protocol !== PROTOCOL_VERSION) {
    throw new CohortError('E_PROTOCOL_VERSION', `worker speaks protocol ${hello.protocol}; this coordinator speaks ${PROTOCOL_VERSION}`);
  }
  if (hello.coordinatorId !== challenge.coordinatorId) {
    throw new CohortError('E_AUTH_WRONG_COORDINATOR', `signed for coordinator ${hello.coordinatorId.slice(0, 64)}, not this one`);
  }
  if (nonceAlreadyUsed || hello.nonce.toLowerCase() !== challenge.nonce.toLowerCase()) {
    throw new CohortError('E_AUTH_REPLAY', 'the signed nonce is not the one issued to this connection');
  }
  let recovered: string;
  try {
    recovered = verifyMessage(
      challengeText({ coordinatorId: challenge.coordinatorId, coordinatorUrl: hello.coordinatorUrl, nonce: challenge.nonce, protocol: PROTOCOL_VERSION }),
      hello.signature,
    );
  } catch {
    throw new CohortError('E_AUTH_BAD_SIGNATURE', 'signature is malformed');
  }
  if (recovered.toLowerCase() !== hello.address.toLowerCase()) {
    throw new CohortError('E_AUTH_BAD_SIGNATURE', 'signature does not recover to the claimed address');
  }
  return getAddress(recovered);
}
