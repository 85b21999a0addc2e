import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InMemoryDataset } from '../../../core/data/in-memory.js';
import { loadDirectoryDataset } from '../../../worker-node/data/directory.js';
import { decodePngGray } from '../../../worker-node/data/png.js';
import { encodePng } from './png-encoder.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cohort-data-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A 28×28 image whose pixels encode (label, index) so the test can recognise it after loading. */
function grayDigit(value: number): Uint8Array {
  const px = new Uint8Array(28 * 28);
  for (let i = 0; i < px.length; i++) px[i] = (value * 37 + i * 11) & 0xff;
  return px;
}

function expand(gray: Uint8Array, colorType: 0 | 2 | 4 | 6): Uint8Array {
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
  const out = new Uint8Array(gray.length * channels);
  for (let i = 0; i < gray.length; i++) {
    const g = gray[i]!;
    if (colorType === 0) out[i] = g;
    if (colorType === 4) out.set([g, 200], i * 2);
    if (colorType === 2) out.set([g, g, g], i * 3);
    if (colorType === 6) out.set([g, g, g, 128], i * 4);
  }
  return out;
}

function allExamples(ds: InMemoryDataset): { label: number; first: number }[] {
  const out: { label: number; first: number }[] = [];
  for (const batch of ds.batches(100, 0)) {
    for (let b = 0; b < batch.size; b++) out.push({ label: batch.ys[b]!, first: Math.round(batch.xs[b * 784]! * 255) });
  }
  return out.sort((a, b) => a.first - b.first);
}

describe('PNG decoding', () => {
  it('decodes gray, gray+alpha, RGB and RGBA through all five row filters', () => {
    const gray = new Uint8Array(7 * 6).map((_, i) => (i * 53) & 0xff);
    for (const colorType of [0, 2, 4, 6] as const) {
      const img = decodePngGray(encodePng(7, 6, colorType, expand(gray, colorType)), 'x.png');
      expect(img.width).toBe(7);
      expect(img.height).toBe(6);
      expect(Array.from(img.pixels)).toEqual(Array.from(gray));
    }
  });

  it('converts colour to luma', () => {
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255]);
    const img = decodePngGray(encodePng(3, 1, 2, rgb), 'rgb.png');
    expect(Array.from(img.pixels)).toEqual([76, 150, 29]);
  });

  it('rejects what it does not support, naming the file', () => {
    const px = new Uint8Array(4);
    expect(() => decodePngGray(encodePng(2, 2, 0, px, { interlace: true }), 'a.png')).toThrow(/a\.png.*interlaced/);
    expect(() => decodePngGray(encodePng(2, 2, 0, px, { bitDepth: 16 }), 'b.png')).toThrow(/b\.png.*bit depth/);
    expect(() => decodePngGray(Buffer.from('not a png at all'), 'c.png')).toThrow(expect.objectContaining({ code: 'E_DATA_INVALID' }));
    const truncated = encodePng(2, 2, 0, px).subarray(0, 40);
    expect(() => decodePngGray(truncated, 'd.png')).toThrow(/d\.png/);
  });
});

describe('loadDirectoryDataset', () => {
  it('loads PNGs from one folder per integer label', async () => {
    const dir = await tempDir();
    const colorTypes = [0, 2, 4, 6] as const;
    let n = 0;
    for (const label of [0, 3]) {
      await mkdir(join(dir, String(label)));
      for (let k = 0; k < 2; k++, n++) {
        const gray = grayDigit(n);
        await writeFile(join(dir, String(label), `img${k}.png`), encodePng(28, 28, colorTypes[n % 4]!, expand(gray, colorTypes[n % 4]!)));
      }
    }
    await writeFile(join(dir, '3', 'notes.txt'), 'ignored');
    const ds = await loadDirectoryDataset(dir);
    expect(ds.size).toBe(4);
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.numClasses).toBe(4);
    const got = allExamples(ds);
    const want = [0, 1, 2, 3].map((i) => ({ label: i < 2 ? 0 : 3, first: grayDigit(i)[0]! })).sort((a, b) => a.first - b.first);
    expect(got).toEqual(want);
    expect((await loadDirectoryDataset(dir, { numClasses: 10 })).numClasses).toBe(10);
  });

  it('rejects images of the wrong size, naming the file', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '1'));
    await writeFile(join(dir, '1', 'big.png'), encodePng(32, 32, 0, new Uint8Array(32 * 32)));
    await expect(loadDirectoryDataset(dir)).rejects.toThrow(/big\.png.*32x32/);
    await expect(loadDirectoryDataset(dir)).rejects.toMatchObject({ code: 'E_DATA_INVALID' });
  });

  it('rejects non-integer class folders and empty directories', async () => {
    const dir = await tempDir();
    await expect(loadDirectoryDataset(dir)).rejects.toMatchObject({ code: 'E_DATA_INVALID' });
    await mkdir(join(dir, 'cats'));
    await expect(loadDirectoryDataset(dir)).rejects.toThrow(/cats/);
    await expect(loadDirectoryDataset(join(dir, 'missing'))).rejects.toMatchObject({ code: 'E_DATA_INVALID' });
  });

  it('loads an IDX images/labels pair', async () => {
    const dir = await tempDir();
    const count = 3;
    const images = Buffer.alloc(16 + count * 4);
    images.writeUInt32BE(0x803, 0);
    images.writeUInt32BE(count, 4);
    images.writeUInt32BE(2, 8);
    images.writeUInt32BE(2, 12);
    for (let i = 0; i < count * 4; i++) images[16 + i] = i * 10;
    const labels = Buffer.alloc(8 + count);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(count, 4);
    labels.set([2, 0, 1], 8);
    await writeFile(join(dir, 'my-images-idx3-ubyte'), images);
    await writeFile(join(dir, 'my-labels-idx1-ubyte'), labels);
    const ds = await loadDirectoryDataset(dir);
    expect(ds.size).toBe(3);
    expect(ds.inputShape).toEqual([2, 2, 1]);
    expect(ds.numClasses).toBe(3);
    expect(Array.from(ds.labelArray())).toEqual([2, 0, 1]);
    // A corrupt label file is reported with its name.
    await writeFile(join(dir, 'my-labels-idx1-ubyte'), labels.subarray(0, 9));
    await expect(loadDirectoryDataset(dir)).rejects.toThrow(/my-labels-idx1-ubyte/);
  });
});
