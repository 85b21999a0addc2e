/**
 * A WebSocket client on a bare TCP socket, for attacks a real client library will not make: a
 * frame header that announces more than it sends, from a chosen loopback address (127.0.0.x).
 * It speaks just enough RFC 6455: the upgrade, masked client frames, unmasked server frames.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { Wallet } from 'ethers';
import { decodeCoordinatorMessage, encodeMessage } from '../../core/protocol/codec.js';
import { challengeText } from '../../core/protocol/identity.js';
import { PROTOCOL_VERSION, type CoordinatorMessage } from '../../core/protocol/messages.js';

export interface RawClose {
  code: number;
  reason: string;
}

export class RawWsClient {
  readonly messages: CoordinatorMessage[] = [];
  /** The server's close frame (code 1005 when it had none), or 1006 when TCP ended without one. */
  readonly closed: Promise<RawClose>;
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closeFrame: RawClose | undefined;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => resolve(this.closeFrame ?? { code: 1006, reason: '' }));
    });
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parseFrames();
    });
    socket.on('error', () => undefined);
  }

  /** Opens `ws://host:port/ws`, from `localAddress` if given; resolves once the upgrade is done. */
  static async connect(url: string, localAddress?: string): Promise<RawWsClient> {
    const { hostname, port, pathname } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const head = await new Promise<Buffer>((resolve, reject) => {
      let seen = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        seen = Buffer.concat([seen, chunk]);
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        if (!seen.subarray(0, end).toString().startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${seen.subarray(0, end).toString()}`));
        resolve(seen.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the upgrade')));
    });
    const client = new RawWsClient(socket);
    if (head.byteLength > 0) socket.emit('data', head);
    return client;
  }

  /** Writes a binary frame's header announcing `payloadLength` bytes (mask key 0, so payload bytes go as they are). */
  writeHeader(payloadLength: number): boolean {
    let header: Buffer;
    if (payloadLength < 126) {
      header = Buffer.from([0x82, 0x80 | payloadLength]);
    } else if (payloadLength < 65_536) {
      header = Buffer.alloc(4);
      header.writeUInt8(0x82, 0);
      header.writeUInt8(0x80 | 126, 1);
      header.writeUInt16BE(payloadLength, 2);
    } else {
      header = Buffer.alloc(10);
      header.writeUInt8(0x82, 0);
      header.writeUInt8(0x80 | 127, 1);
      header.writeBigUInt64BE(BigInt(payloadLength), 2);
    }
    return this.socket.write(Buffer.concat([header, Buffer.alloc(4)]));
  }

  /** Writes payload bytes of the frame whose header was written last. */
  writePayload(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  /** Waits until the socket can take more (backpressure), or it closed. */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('drain', resolve);
      this.socket.once('close', resolve);
    });
  }

  get isOpen(): boolean {
    return !this.socket.destroyed && this.closeFrame === undefined;
  }

  send(message: object): void {
    const bytes = encodeMessage(message);
    this.writeHeader(bytes.byteLength);
    this.writePayload(bytes);
  }

  /** Waits for the next message of `type` (or rejects after `timeoutMs`, or if the socket closes first). */
  async next<T extends CoordinatorMessage['type']>(type: T, timeoutMs = 15_000): Promise<Extract<CoordinatorMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<CoordinatorMessage, { type: T }>;
      if (this.socket.destroyed || this.closeFrame) throw new Error(`closed (${this.closeFrame?.code ?? 1006}) before a ${type} message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Answers the challenge with a signed hello; resolves with the welcome. */
  async signIn(wallet: Wallet): Promise<Extract<CoordinatorMessage, { type: 'welcome' }>> {
    const challenge = await this.next('challenge');
    this.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      address: wallet.address,
      signature: await wallet.signMessage(challengeText(challenge)),
      coordinatorId: challenge.coordinatorId,
      coordinatorUrl: challenge.coordinatorUrl,
      nonce: challenge.nonce,
      kind: 'node',
    });
    return this.next('welcome');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private parseFrames(): void {
    for (;;) {
      if (this.buffer.byteLength < 2) break;
      const opcode = (this.buffer[0] as number) & 0x0f;
      let length = (this.buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.byteLength < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.byteLength < 10) break;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.byteLength < offset + length) break;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x2) this.messages.push(decodeCoordinatorMessage(new Uint8Array(payload)));
      if (opcode === 0x8) {
        this.closeFrame = payload.byteLength >= 2 ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() } : { code: 1005, reason: '' };
        this.socket.destroy();
      }
    }
    this.wake?.();
  }
}
