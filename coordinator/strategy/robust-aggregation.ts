/**
 * Byzantine-robust aggregation maths, as pure functions over the workers' individual deltas:
 * - coordinate-wise median and trimmed mean (Yin, Chen, Ramchandran and Bartlett, "Byzantine-
 *   Robust Distributed Learning: Towards Optimal Statistical Rates", ICML 2018);
 * - Krum and Multi-Krum scores (Blanchard, El Mhamdi, Guerraoui and Stainer, "Machine Learning
 *   with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017).
 *
 * All of them ignore the example weights when ranking, as the papers do: a weight is exactly what
 * a Byzantine worker would lie about.
 */

/**
 * Sorts values[0..n) ascending in place. Insertion sort: n is the number of workers in a round, a
 * few dozen at most for these strategies, and this runs once per model coordinate.
 */
function sortSmall(values: Float64Array, n: number): void {
  if (n > 64) {
    values.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
}

function checkVectors(vectors: readonly Float32Array[]): number {
  if (vectors.length === 0) throw new RangeError('no vectors to aggregate');
  const length = vectors[0]!.length;
  for (const v of vectors) {
    if (v.length !== length) throw new RangeError(`length mismatch: ${length} vs ${v.length}`);
  }
  return length;
}

/** Coordinate-wise median; with an even count, the mean of the two middle values (as numpy). */
export function coordinateMedian(vectors: readonly Float32Array[]): Float32Array {
  const length = checkVectors(vectors);
  const n = vectors.length;
  const column = new Float64Array(n);
  const out = new Float32Array(length);
  const mid = n >> 1;
  for (let i = 0; i < length; i++) {
    for (let k = 0; k < n; k++) column[k] = vectors[k]![i]!;
    sortSmall(column, n);
    out[i] = n % 2 === 1 ? column[mid]! : (column[mid - 1]! + column[mid]!) / 2;
  }
  return out;
}

/** How many values each side a β-trimmed mean drops: ⌊β·n⌋ (Yin et al.; scipy's trim_mean). */
export function trimCount(n: number, beta: number): number {
  return Math.floor(beta * n);
}

/**
 * Coordinate-wise β-trimmed mean: per coordinate, drop the ⌊β·n⌋ largest and ⌊β·n⌋ smallest
 * values and average the rest. Needs β < 1/2 so that something is left.
 */
export function coordinateTrimmedMean(vectors: readonly Float32Array[], beta: number): Float32Array {
  if (!(beta >= 0 && beta < 0.5)) throw new RangeError(`trim fraction β must be in [0, 0.5), got ${beta}`);
  const length = checkVectors(vectors);
  const n = vectors.length;
  const k = trimCount(n, beta);
  const column = new Float64Array(n);
  const out = new Float32Array(length);
  const kept = n - 2 * k;
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < n; j++) column[j] = vectors[j]![i]!;
    sortSmall(column, n);
    let sum = 0;
    for (let j = k; j < n - k; j++) sum += column[j]!;
    out[i] = sum / kept;
  }
  return out;
}

/**
 * Krum scores (Blanchard et al. 2017, §4): for each vector i, the sum of its squared distances to
 * its n − f − 2 nearest other vectors. An honest update sits among many honest ones, so its
 * score is low; a Byzantine one far from the crowd scores high.
 */
export function krumScores(vectors: readonly Float32Array[], byzantine: number): number[] {
  checkVectors(vectors);
  const n = vectors.length;
  const neighbours = n - byzantine - 2;
  if (neighbours < 1) throw new RangeError(`Krum needs n − f − 2 ≥ 1 neighbours, got n = ${n}, f = ${byzantine}`);
  const distance: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let d = 0;
      const a = vectors[i]!;
      const b = vectors[j]!;
      for (let c = 0; c < a.length; c++) {
        const diff = a[c]! - b[c]!;
        d += diff * diff;
      }
      distance[i]![j] = d;
      distance[j]![i] = d;
    }
  }
  return distance.map((row, i) => {
    const others = row.filter((_, j) => j !== i).sort((x, y) => x - y);
    let score = 0;
    for (let j = 0; j < neighbours; j++) score += others[j]!;
    return score;
  });
}

/**
 * Multi-Krum's choice (El Mhamdi et al. 2018 named it; Blanchard et al. §5 sketch it): the indices
 * of the `keep` lowest scores, ties broken by index so the choice is deterministic. keep = 1 is Krum.
 */
export function krumSelect(scores: readonly number[], keep: number): number[] {
  return scores
    .map((score, index) => ({ score, index }))
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .slice(0, keep)
    .map((s) => s.index);
}
