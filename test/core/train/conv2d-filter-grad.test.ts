import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conv2dFilterGradient,
  isConv2DFilterGradientRegistered,
  registerConv2DFilterGradient,
  unregisterConv2DFilterGradient,
} from '../../../core/train/conv2d-filter-grad.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});
afterAll(() => unregisterConv2DFilterGradient());

/** max |a − b| relative to the largest magnitude in b. */
async function relativeMaxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [diff, scale] = await Promise.all([tf.max(tf.abs(tf.sub(a, b))).data(), tf.max(tf.abs(b)).data()]);
  return (diff[0] as number) / Math.max(scale[0] as number, 1e-12);
}

type Pad = 'same' | 'valid';
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  stride: number;
  pad: Pad;
}

const cases: Case[] = [
  { x: [3, 9, 9, 2], k: [5, 5], cout: 4, stride: 1, pad: 'same' },
  { x: [3, 9, 9, 2], k: [5, 5], cout: 4, stride: 1, pad: 'valid' },
  { x: [2, 8, 7, 3], k: [4, 2], cout: 5, stride: 1, pad: 'same' }, // even kernel: asymmetric padding
  { x: [2, 11, 10, 3], k: [3, 3], cout: 2, stride: 2, pad: 'same' },
  { x: [2, 11, 10, 3], k: [3, 3], cout: 2, stride: 2, pad: 'valid' }, // the last row is never read
];

describe('Conv2D filter gradient as a forward conv2d', () => {
  for (const c of cases) {
    it(`matches tfjs's gradient: x ${c.x.join('x')}, kernel ${c.k.join('x')}, stride ${c.stride}, ${c.pad}`, async () => {
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 7) as tf.Tensor4D;
      const filter = tf.randomNormal([c.k[0], c.k[1], c.x[3], c.cout], 0, 1, 'float32', 11) as tf.Tensor4D;
      const loss = (...args: tf.Tensor[]): tf.Scalar => {
        const y = tf.conv2d(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, c.stride, c.pad);
        // A non-uniform upstream gradient, so every position matters.
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape)))) as tf.Scalar;
      };
      const grads = tf.grads(loss);
      unregisterConv2DFilterGradient();
      expect(isConv2DFilterGradientRegistered()).toBe(false);
      const [dxRef, dwRef] = grads([x, filter]) as [tf.Tensor, tf.Tensor];
      registerConv2DFilterGradient();
      registerConv2DFilterGradient(); // idempotent
      expect(isConv2DFilterGradientRegistered()).toBe(true);
      const [dx, dw] = grads([x, filter]) as [tf.Tensor, tf.Tensor];
      expect(dw.shape).toEqual(dwRef.shape);
      expect(dx.shape).toEqual(dxRef.shape);
      expect(await relativeMaxDiff(dw, dwRef)).toBeLessThan(1e-5);
      expect(await relativeMaxDiff(dx, dxRef)).toBeLessThan(1e-5);
      tf.dispose([x, filter, dxRef, dwRef, dx, dw]);
    });
  }

  it('equals the definition computed by brute force', async () => {
    const [n, h, w, cin, kh, kw, cout] = [2, 5, 4, 2, 3, 3, 2];
    const x = tf.randomUniform([n, h, w, cin], -1, 1, 'float32', 3) as tf.Tensor4D;
    const dy = tf.randomUniform([n, h, w, cout], -1, 1, 'float32', 4) as tf.Tensor4D; // 'same', stride 1
    const ours = await conv2dFilterGradient(x, dy, [kh, kw, cin, cout], 1, 'same').data();
    const xv = await x.data();
    const dyv = await dy.data();
    const [pt, pl] = [1, 1];
    let worst = 0;
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) {
      let sum = 0;
      for (let bn = 0; bn < n; bn++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
        const r = i + a - pt;
        const c = j + b - pl;
        if (r < 0 || r >= h || c < 0 || c >= w) continue;
        sum += (xv[((bn * h + r) * w + c) * cin + ci] as number) * (dyv[((bn * h + i) * w + j) * cout + co] as number);
      }
      const got = ours[((a * kw + b) * cin + ci) * cout + co] as number;
      worst = Math.max(worst, Math.abs(got - sum));
    }
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([x, dy]);
  });

  it('on wasm, the stride-1 input gradient agrees with wasm\'s own Conv2DBackpropInput', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    expect(await tf.setBackend('wasm')).toBe(true);
    try {
      for (const c of [{ k: [5, 5], pad: 'same' }, { k: [4, 2], pad: 'same' }, { k: [3, 3], pad: 'valid' }] as const) {
        const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
        const filter = tf.randomNormal([c.k[0], c.k[1], 3, 4], 0, 1, 'float32', 12) as tf.Tensor4D;
        const dxOf = () => tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, filter, 1, c.pad))))(x);
        unregisterConv2DFilterGradient();
        const reference = await dxOf().data();
        registerConv2DFilterGradient();
        const replaced = await dxOf().data();
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < reference.length; i++) {
          worst = Math.max(worst, Math.abs((replaced[i] as number) - (reference[i] as number)));
          scale = Math.max(scale, Math.abs(reference[i] as number));
        }
        expect(worst / scale).toBeLessThan(1e-5);
        tf.dispose([x, filter]);
      }
    } finally {
      expect(await tf.setBackend('cpu')).toBe(true);
    }
  });

  it('lets the wasm backend (no Conv2DBackpropFilter kernel) train convolutions', async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    registerConv2DFilterGradient();
    const x = tf.randomNormal([2, 7, 7, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const gradOf = (xx: tf.Tensor4D) => tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx, f as tf.Tensor4D, 1, 'same'))));
    const onCpu = await gradOf(x)(filter).data();
    const [xv, fv] = [await x.data(), await filter.data()];
    tf.dispose([x, filter]);
    expect(await tf.setBackend('wasm')).toBe(true);
    try {
      const xw = tf.tensor4d(xv, [2, 7, 7, 2]);
      const fw = tf.tensor4d(fv, [3, 3, 2, 3]);
      // Without the replacement, tfjs's own gradient needs a kernel wasm lacks.
      unregisterConv2DFilterGradient();
      expect(() => gradOf(xw)(fw)).toThrow(/Conv2DBackpropFilter/);
      registerConv2DFilterGradient();
      const onWasm = await gradOf(xw)(fw).data();
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < onCpu.length; i++) {
        worst = Math.max(worst, Math.abs((onWasm[i] as number) - (onCpu[i] as number)));
        scale = Math.max(scale, Math.abs(onCpu[i] as number));
      }
      expect(worst / scale).toBeLessThan(1e-5);
      tf.dispose([xw, fw]);
    } finally {
      expect(await tf.setBackend('cpu')).toBe(true);
    }
  });

  it('does not leak tensors', () => {
    registerConv2DFilterGradient();
    const x = tf.randomNormal([2, 8, 8, 2]) as tf.Tensor4D;
    const filter = tf.variable(tf.randomNormal([3, 3, 2, 4]));
    const before = tf.memory().numTensors;
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same')) as tf.Scalar, [filter]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, filter]);
  });
});
