/**
 * A scripted protocol client for tests that must send what a well-behaved worker never would:
 * it speaks raw frames over a real WebSocket and records every message and the close code.
 */
import { Wallet } from 'ethers';
import WebSocket from 'ws';
import { decodeCoordinatorMessage, encodeMessage } from '../../core/protocol/codec.js';
import { challengeText } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type CoordinatorMessage } from '../../core/protocol/messages.js';

export class WireClient {
  readonly messages: CoordinatorMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: WebSocket;
  private readonly waiters: Array<{ test: (m: CoordinatorMessage) => boolean; resolve: (m: CoordinatorMessage) => void }> = [];

  constructor(url: string, readonly wallet: Wallet = new Wallet(Wallet.createRandom().privateKey)) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data: Buffer) => {
      const message = decodeCoordinatorMessage(new Uint8Array(data));
      this.messages.push(message);
      for (const w of [...this.waiters]) {
        if (w.test(message)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(message);
        }
      }
    });
    this.closed = new Promise((resolve) => this.socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === WebSocket.OPEN) return resolve();
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }

  next<T extends CoordinatorMessage['type']>(type: T, timeoutMs = 60_000): Promise<Extract<CoordinatorMessage, { type: T }>> {
    const seen = this.messages.find((m) => m.type === type);
    if (seen) {
      this.messages.splice(this.messages.indexOf(seen), 1);
      return Promise.resolve(seen as Extract<CoordinatorMessage, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test: (m) => m.type === type,
        resolve: (m) => {
          clearTimeout(timer);
          this.messages.splice(this.messages.indexOf(m), 1);
          resolve(m as Extract<CoordinatorMessage, { type: T }>);
        },
      });
    });
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' });
  }

  send(message: object): void {
    this.sendRaw(encodeMessage(message));
  }

  /** Complete the sign-in handshake; resolves with the welcome message. */
  async signIn(): Promise<Extract<CoordinatorMessage, { type: 'welcome' }>> {
    const challenge = await this.next('challenge');
    this.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      address: this.wallet.address,
      signature: await this.wallet.signMessage(challengeText(challenge)),
      coordinatorId: challenge.coordinatorId,
      coordinatorUrl: challenge.coordinatorUrl,
      nonce: challenge.nonce,
      kind: 'node',
    });
    return this.next('welcome');
  }

  close(): void {
    this.socket.close();
  }
}
