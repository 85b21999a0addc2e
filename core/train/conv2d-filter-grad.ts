/**
 * A replacement gradient for tfjs's Conv2D kernel that computes the filter gradient as an ordinary
 * forward conv2d over transposed tensors, instead of the Conv2DBackpropFilter kernel.
 *
 * Why: the wasm backend has no Conv2DBackpropFilter kernel at all (so it cannot train conv
 * models), and on cpu that kernel is a naive loop that takes ~97% of a CNN step, while conv2d
 * itself is an im2col matmul. Same maths, about 1e-6 apart.
 *
 * The identity (NHWC, dilation 1, stride s, top/left padding pt/pl):
 *   dW[a, b, ci, co] = Σ_{n,i,j} x[n, s·i + a − pt, s·j + b − pl, ci] · dy[n, i, j, co]
 * Read x as a batch of C_in images with N channels, xT = [C_in, H, W, N], and dy as a filter of
 * size Ho×Wo from N to C_out channels, dyT = [Ho, Wo, N, C_out]. Then
 *   conv2d(xT, dyT, strides 1, dilations s, the forward padding)[ci, a, b, co] = dW[a, b, ci, co]
 * for a < kh, b < kw (extra rows/columns that padding may add are sliced off), and a final
 * transpose gives [kh, kw, C_in, C_out].
 *
 * The input gradient at stride 1 is also a forward conv2d: dy convolved with the filter rotated by
 * 180° and its channels swapped ([kh, kw, C_out, C_in]), padded by (k − 1 − forward padding) on
 * each side. On wasm this runs on XNNPACK instead of the naive Conv2DBackpropInput loop, which took
 * 43% of a McMahan CNN step (190 of 452 ms at batch 32). Other strides keep conv2dTranspose.
 *
 * Only the gradient of the plain Conv2D op changes. tfjs's fused conv2d (used by layers with a
 * linear activation, or none) keeps its own gradient and still calls Conv2DBackpropFilter.
 */
import * as tf from '@tensorflow/tfjs';

type GradConfig = NonNullable<ReturnType<typeof tf.getGradient>>;

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

let original: GradConfig | undefined;
let registered = false;

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** The filter gradient of a stride-s, dilation-1 NHWC conv2d, as a forward conv2d. */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: readonly [number, number, number, number],
  strides: number | [number, number],
  pad: Conv2DAttrs['pad'],
  dimRoundingMode?: Conv2DAttrs['dimRoundingMode'],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, cin, cout] = filterShape;
    const info = tf.backend_util.computeConv2DInfo(x.shape, [...filterShape], strides, 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const xT = tf.transpose(x, [3, 1, 2, 0]);
    const dyT = tf.transpose(dy, [1, 2, 0, 3]);
    let g = tf.conv2d(xT, dyT, 1, [[0, 0], [top, bottom], [left, right], [0, 0]], 'NHWC', [info.strideHeight, info.strideWidth]);
    if (g.shape[1] !== kh || g.shape[2] !== kw) g = tf.slice(g, [0, 0, 0, 0], [cin, kh, kw, cout]);
    return tf.transpose(g, [1, 2, 0, 3]);
  });
}

/** The input gradient of a stride-1, dilation-1 NHWC conv2d, as a forward conv2d. */
export function conv2dInputGradient(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: readonly [number, number, number, number],
  pad: Conv2DAttrs['pad'],
  dimRoundingMode?: Conv2DAttrs['dimRoundingMode'],
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filter.shape;
    const { top, bottom, left, right } = tf.backend_util.computeConv2DInfo([...xShape], filter.shape, 1, 1, pad, dimRoundingMode).padInfo;
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(dy, rotated, 1, [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]]);
  });
}

/** Whether the replacement covers these attributes; otherwise tfjs's own gradient runs. */
function supported(attrs: Conv2DAttrs): boolean {
  const [dh, dw] = pair(attrs.dilations);
  return attrs.dataFormat === 'NHWC' && dh === 1 && dw === 1;
}

/**
 * Whether the stride-1 input gradient is the forward conv2d (the default) or conv2dTranspose, as
 * before that change: `npm run bench -- backends` measures both in one run.
 */
let forwardInputGradient = true;

/**
 * Registers the replacement Conv2D gradient (globally, for every backend). Idempotent. Call it
 * before training any conv model; unsupported cases (NCHW, dilation > 1) fall back to tfjs's own.
 */
export function registerConv2DFilterGradient(options: { forwardInputGradient?: boolean } = {}): void {
  forwardInputGradient = options.forwardInputGradient ?? true;
  if (registered) return;
  const previous = tf.getGradient('Conv2D');
  if (previous === undefined) throw new Error('tfjs has no Conv2D gradient to replace');
  original = previous;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const conv = attrs as unknown as Conv2DAttrs;
      // TensorFlow's native Conv2DBackprop* kernels beat the replacement there (19 against 15 CNN steps/s, BENCHMARKS.md).
      if (!supported(conv) || original === undefined || tf.getBackend() === 'tensorflow') return (original as GradConfig).gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      const filterShape = filter.shape as [number, number, number, number];
      return {
        x: () => {
          const [sh, sw] = pair(conv.strides);
          const xShape = x.shape as [number, number, number, number];
          if (forwardInputGradient && sh === 1 && sw === 1) return conv2dInputGradient(dy4, filter, xShape, conv.pad, conv.dimRoundingMode);
          return tf.conv2dTranspose(dy4, filter, xShape, conv.strides, conv.pad, conv.dimRoundingMode);
        },
        filter: () => conv2dFilterGradient(x, dy4, filterShape, conv.strides, conv.pad, conv.dimRoundingMode),
      };
    },
  });
  registered = true;
}

/** Restores tfjs's own Conv2D gradient (benchmarks compare the two). */
export function unregisterConv2DFilterGradient(): void {
  if (!registered || original === undefined) return;
  tf.registerGradient(original);
  registered = false;
}

export function isConv2DFilterGradientRegistered(): boolean {
  return registered;
}
