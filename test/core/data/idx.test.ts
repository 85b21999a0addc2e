import { describe, expect, it } from 'vitest';
import { parseIdxImages, parseIdxLabels } from '../../../core/data/idx.js';

function header(magic: number, dims: number[], payload: number): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * dims.length + payload);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, magic);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  for (let i = 0; i < payload; i++) bytes[4 + 4 * dims.length + i] = i % 256;
  return bytes;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('IDX parsing', () => {
  it('parses images and labels', () => {
    const images = parseIdxImages(header(0x803, [2, 3, 4], 24));
    expect(images).toMatchObject({ count: 2, rows: 3, cols: 4 });
    expect(images.pixels.length).toBe(24);
    expect(images.pixels[23]).toBe(23);
    const labels = parseIdxLabels(header(0x801, [5], 5));
    expect(Array.from(labels)).toEqual([0, 1, 2, 3, 4]);
  });

  it('rejects bad magic numbers', () => {
    expect(code(() => parseIdxImages(header(0x801, [2, 3, 4], 24)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxLabels(header(0x803, [5], 5)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxImages(header(0x80d, [2, 3, 4], 96)))).toBe('E_DATA_INVALID'); // float data
  });

  it('rejects lengths that do not match the header', () => {
    expect(code(() => parseIdxImages(header(0x803, [2, 3, 4], 23)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxImages(header(0x803, [2, 3, 4], 25)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxLabels(header(0x801, [5], 4)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxImages(new Uint8Array(10)))).toBe('E_DATA_INVALID');
    expect(code(() => parseIdxLabels(new Uint8Array(3)))).toBe('E_DATA_INVALID');
  });

  it('names the file in the message', () => {
    expect(() => parseIdxLabels(header(0x803, [5], 5), 'train-labels')).toThrow(/train-labels/);
  });
});
