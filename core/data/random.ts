/**
 * Small seeded randomness for data handling. Partitions and shuffles must be reproducible from a
 * seed on every worker and in the browser alike, so nothing here touches Math.random.
 */

/** A generator of uniform floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: 32-bit state, fast, and good enough for shuffling and sampling (not for crypto). */
export function createRandom(seed: number): Rng {
  // Mix the seed once (splitmix-style) so nearby seeds (0, 1, 2…) give unrelated streams.
  let s = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  s = (s ^ (s >>> 16)) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a sub-stream, e.g. one per epoch or per class. */
export function deriveSeed(seed: number, stream: number): number {
  let h = Math.imul((seed | 0) ^ 0x27d4eb2f, 0x165667b1) ^ Math.imul(stream | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) | 0;
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: { [index: number]: T; length: number }, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}

/** A random permutation of 0..n-1. */
export function permutation(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  shuffleInPlace(out, rng);
  return out;
}

/** Standard normal by Box–Muller (one of the pair is discarded: simplicity over speed). */
export function normal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma(shape, 1) by Marsaglia–Tsang; shapes below 1 use the U^(1/shape) boost. */
export function gamma(rng: Rng, shape: number): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`gamma shape must be positive, got ${shape}`);
  if (shape < 1) {
    let u = 0;
    while (u === 0) u = rng();
    return gamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * A sample of the symmetric Dirichlet(alpha, …, alpha) over k categories. With tiny alpha every
 * gamma draw can underflow to 0; then all mass goes to one random category, which is the limit.
 */
export function dirichlet(rng: Rng, alpha: number, k: number): Float64Array {
  const out = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const g = gamma(rng, alpha);
    out[i] = g;
    sum += g;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) {
    out.fill(0);
    out[randomInt(rng, k)] = 1;
    return out;
  }
  for (let i = 0; i < k; i++) out[i] = (out[i] as number) / sum;
  return out;
}
