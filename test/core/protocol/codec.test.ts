import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { decodeCoordinatorMessage, decodeWorkerMessage, encodeMessage } from '../../../core/protocol/codec.js';
import { CohortError, ERROR_CODES } from '../../../core/protocol/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof CohortError ? error.code : `not a CohortError: ${String(error)}`;
  }
  return undefined;
}

const validUpdate = () => ({
  type: 'update',
  runId: 'run-1',
  round: 3,
  delta: Float32Array.from([0.5, -1.25, 3]),
  examples: 100,
  steps: 4,
  loss: 0.3,
  accuracy: 0.9,
  trainMs: 12,
});

describe('codec', () => {
  it('round-trips weights as an aligned Float32Array', () => {
    // Prepare
    const weights = new Float32Array(1000).map((_, i) => Math.sin(i));
    // Execute
    const decoded = decodeCoordinatorMessage(
      encodeMessage({ type: 'train', runId: 'r', round: 1, weights, config: { localEpochs: 1, batchSize: 32, optimizer: 'adam', lr: 0.001, seed: 7 }, deadline: 1 }),
    );
    // Assert
    expect(decoded.type).toBe('train');
    if (decoded.type !== 'train') return;
    expect(decoded.weights).toBeInstanceOf(Float32Array);
    expect(decoded.weights.byteOffset % 4).toBe(0);
    expect(Array.from(decoded.weights)).toEqual(Array.from(weights));
  });

  it('accepts a valid update', () => {
    const decoded = decodeWorkerMessage(encodeMessage(validUpdate()));
    expect(decoded).toMatchObject({ type: 'update', round: 3, examples: 100 });
  });

  it('refuses malformed msgpack with E_FRAME_DECODE', () => {
    expect(codeOf(() => decodeWorkerMessage(Uint8Array.from([0xc1, 0xff, 0x00])))).toBe('E_FRAME_DECODE');
  });

  it('refuses unknown message types with E_MESSAGE_UNKNOWN_TYPE', () => {
    expect(codeOf(() => decodeWorkerMessage(pack({ type: 'steal-weights' })))).toBe('E_MESSAGE_UNKNOWN_TYPE');
    expect(codeOf(() => decodeWorkerMessage(pack([1, 2, 3])))).toBe('E_MESSAGE_INVALID');
    expect(codeOf(() => decodeWorkerMessage(pack('hello')))).toBe('E_MESSAGE_INVALID');
  });

  it('refuses wrong field types with E_MESSAGE_INVALID naming the field', () => {
    const bad = { ...validUpdate(), examples: 'many' };
    let error: unknown;
    try {
      decodeWorkerMessage(encodeMessage(bad));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CohortError);
    expect((error as CohortError).code).toBe('E_MESSAGE_INVALID');
    expect((error as CohortError).message).toContain('examples');
  });

  it('refuses weights sent as a plain number array', () => {
    const bad = { ...validUpdate(), delta: [0.5, -1.25, 3] };
    expect(codeOf(() => decodeWorkerMessage(encodeMessage(bad)))).toBe('E_MESSAGE_INVALID');
  });

  it('refuses frames over the size limit with E_FRAME_TOO_LARGE', () => {
    const bytes = encodeMessage({ ...validUpdate(), delta: new Float32Array(10_000) });
    expect(codeOf(() => decodeWorkerMessage(bytes, 1024))).toBe('E_FRAME_TOO_LARGE');
  });

  it('refuses a non-finite loss', () => {
    expect(codeOf(() => decodeWorkerMessage(encodeMessage({ ...validUpdate(), loss: Number.NaN })))).toBe('E_MESSAGE_INVALID');
  });
});

describe('error codes', () => {
  it('are E_-prefixed with distinct close codes in 4000–4999', () => {
    const closes = Object.entries(ERROR_CODES).map(([code, { close }]) => {
      expect(code).toMatch(/^E_[A-Z0-9_]+$/);
      expect(close).toBeGreaterThanOrEqual(4000);
      expect(close).toBeLessThanOrEqual(4999);
      return close;
    });
    expect(new Set(closes).size).toBe(closes.length);
  });
});
