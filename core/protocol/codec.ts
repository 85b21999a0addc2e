/**
 * Binary codec for the wire: msgpackr with `moreTypes`, so typed arrays round-trip as real,
 * aligned Float32Arrays instead of Buffer views (the default returns an unaligned view).
 *
 * decodeWorkerMessage / decodeCoordinatorMessage validate before returning: a caller never sees
 * an unvalidated frame. Each failure is a CohortError with a stable code.
 */
import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { CohortError } from './errors.js';
import { COORDINATOR_MESSAGE_SCHEMAS, WORKER_MESSAGE_SCHEMAS, helloSchema, type CoordinatorMessage, type HelloMessage, type WorkerMessage } from './messages.js';

const packr = new Packr({ moreTypes: true, useRecords: false, mapsAsObjects: true });

export function encodeMessage(message: object): Uint8Array {
  return packr.pack(message);
}

/** Decode msgpack bytes without validation (E_FRAME_DECODE on garbage). */
export function decodeFrame(bytes: Uint8Array, maxFrameBytes = Number.POSITIVE_INFINITY): unknown {
  if (bytes.byteLength > maxFrameBytes) {
    throw new CohortError('E_FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  try {
    return packr.unpack(bytes);
  } catch (cause) {
    throw new CohortError('E_FRAME_DECODE', 'frame is not valid msgpack', { cause });
  }
}

function validate<T>(value: unknown, schemas: ReadonlyMap<string, z.ZodType<T>>): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CohortError('E_MESSAGE_INVALID', 'message must be a msgpack map with a "type" field');
  }
  const type = (value as { type?: unknown }).type;
  const schema = typeof type === 'string' ? schemas.get(type) : undefined;
  if (typeof type !== 'string' || !schema) {
    throw new CohortError('E_MESSAGE_UNKNOWN_TYPE', `unknown message type ${JSON.stringify(String(type)).slice(0, 80)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(message)';
    throw new CohortError('E_MESSAGE_INVALID', `${type}: ${where}: ${issue?.message ?? 'invalid'}`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** Decode and validate a frame sent by a worker (used by the coordinator). */
export function decodeWorkerMessage(bytes: Uint8Array, maxFrameBytes?: number): WorkerMessage {
  return validate(decodeFrame(bytes, maxFrameBytes), WORKER_MESSAGE_SCHEMAS);
}

/** The only messages a peer may send before it has signed in. */
const SIGN_IN_SCHEMAS: ReadonlyMap<string, z.ZodType<HelloMessage>> = new Map([['hello', helloSchema]]);

/**
 * Decode a frame from a peer that has not signed in yet (used by the coordinator). Only a `hello`
 * is validated; any other known type is refused with E_UNEXPECTED_MESSAGE before its schema runs,
 * so an anonymous peer gets no further into the decoder than the sign-in.
 */
export function decodeSignInMessage(bytes: Uint8Array, maxFrameBytes: number): HelloMessage {
  const value = decodeFrame(bytes, maxFrameBytes);
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && !SIGN_IN_SCHEMAS.has(type) && WORKER_MESSAGE_SCHEMAS.has(type)) {
    throw new CohortError('E_UNEXPECTED_MESSAGE', `expected hello, got ${type}`);
  }
  return validate(value, SIGN_IN_SCHEMAS);
}

/** Decode and validate a frame sent by the coordinator (used by workers). */
export function decodeCoordinatorMessage(bytes: Uint8Array, maxFrameBytes?: number): CoordinatorMessage {
  return validate(decodeFrame(bytes, maxFrameBytes), COORDINATOR_MESSAGE_SCHEMAS);
}
