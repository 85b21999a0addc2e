/**
 * The text a worker signs (EIP-191 personal_sign) to prove its address to one coordinator.
 * It names the coordinator (id and URL) so a signature made for one coordinator is useless at
 * another, and carries the connection's fresh nonce so it cannot be replayed.
 */
export function challengeText(fields: { coordinatorId: string; coordinatorUrl: string; nonce: string; protocol: number }): string {
  return [
    'Cohort worker sign-in',
    `coordinator: ${fields.coordinatorId}`,
    `url: ${fields.coordinatorUrl}`,
    `nonce: ${fields.nonce}`,
    `protocol: ${fields.protocol}`,
  ].join('\n');
}
