/**
 * The aggregation maths, as pure functions over Float32Arrays. Loops are plain indexed loops:
 * V8 compiles them to tight machine code, and they allocate nothing per element.
 */

/** acc += weight · x, in place. */
export function addScaledInto(acc: Float32Array, x: Float32Array, weight: number): Float32Array {
  if (acc.length !== x.length) throw new RangeError(`length mismatch: ${acc.length} vs ${x.length}`);
  for (let i = 0; i < acc.length; i++) acc[i]! += weight * x[i]!;
  return acc;
}

/** Σ weightᵢ · xᵢ over the given vectors (a new array). */
export function weightedSum(vectors: ReadonlyArray<{ vector: Float32Array; weight: number }>, length: number): Float32Array {
  const sum = new Float32Array(length);
  for (const { vector, weight } of vectors) addScaledInto(sum, vector, weight);
  return sum;
}

/** base + scale · delta (a new array). */
export function applyDelta(base: Float32Array, delta: Float32Array, scale = 1): Float32Array {
  if (base.length !== delta.length) throw new RangeError(`length mismatch: ${base.length} vs ${delta.length}`);
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) out[i] = base[i]! + scale * delta[i]!;
  return out;
}

/** True when every element is a finite number (no NaN, no ±Infinity). */
export function allFinite(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) return false;
  }
  return true;
}

/** scale · x (a new array). */
export function scaled(x: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = scale * x[i]!;
  return out;
}

/** ‖a − b‖², accumulated in double precision. */
export function squaredDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return sum;
}
