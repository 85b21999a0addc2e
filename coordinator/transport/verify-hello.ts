/**
 * Checks a worker's signed hello against the challenge this connection was sent. The order of the
 * checks decides which code a bad hello gets, so a client learns what it did wrong.
 */
import { getAddress, verifyMessage } from 'ethers';
import { CohortError } from '../../core/protocol/errors.js';
import { challengeText, normalizeCoordinatorUrl } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type ChallengeMessage, type HelloMessage } from '../../core/protocol/messages.js';

/**
 * Returns the worker's checksummed address: its identity and reward address.
 *
 * `publicUrls` (normalized, see normalizeCoordinatorUrl) are the URLs workers reach this
 * coordinator at. The worker signs the URL it dialled; a hello whose URL is not one of them was
 * made for someone else, such as a relay that forwarded this coordinator's challenge to a worker
 * that dialled the relay. The URL in the hello only says which of our own URLs to check against.
 */
export function verifyHello(hello: HelloMessage, challenge: ChallengeMessage, nonceAlreadyUsed: boolean, publicUrls: readonly string[] = [normalizeCoordinatorUrl(challenge.coordinatorUrl)]): string {
  if (hello.protocol !== PROTOCOL_VERSION) {
    throw new CohortError('E_PROTOCOL_VERSION', `worker speaks protocol ${hello.protocol}; this coordinator speaks ${PROTOCOL_VERSION}`);
  }
  if (hello.coordinatorId !== challenge.coordinatorId) {
    throw new CohortError('E_AUTH_WRONG_COORDINATOR', `signed for coordinator ${hello.coordinatorId.slice(0, 64)}, not this one`);
  }
  if (!publicUrls.includes(normalizeCoordinatorUrl(hello.coordinatorUrl))) {
    throw new CohortError(
      'E_AUTH_WRONG_COORDINATOR',
      `signed for ${hello.coordinatorUrl.slice(0, 200)}, which is not one of this coordinator's public URLs (${publicUrls.join(', ').slice(0, 1000)}); if workers reach it there, start it with --public-url`,
    );
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
