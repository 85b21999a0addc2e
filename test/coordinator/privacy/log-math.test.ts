import { describe, expect, it } from 'vitest';
import { erfc, logAdd, logErfc, logSub } from '../../../coordinator/privacy/log-math.js';

// [x, erfc(x), log erfc(x)] from Python 3.11's math.erfc (CPython's own erfc) and math.log.
const ERFC: ReadonlyArray<[number, number, number]> = [
  [-30, 2.0, 0.6931471805599453],
  [-5, 1.9999999999984626, 0.6931471805591766],
  [-2.5, 1.999593047982555, 0.6929436838471712],
  [-2, 1.9953222650189528, 0.6908055736465877],
  [-1, 1.842700792949715, 0.6112323176780705],
  [-0.3, 1.3286267594591274, 0.28414589714140825],
  [0, 1.0, 0.0],
  [0.3, 0.6713732405408726, -0.3984300514400853],
  [0.5, 0.4795001221869535, -0.7350111298370844],
  [1, 0.15729920705028513, -1.8496055099332482],
  [1.5, 0.033894853524689274, -3.3844920895515527],
  [1.99, 0.004888586800383003, -5.320852015139977],
  [2, 0.004677734981047265, -5.364941264616638],
  [2.01, 0.004475150644751763, -5.409215264190247],
  [2.5, 0.0004069520174449589, -7.806815272727264],
  [3, 2.2090496998585438e-5, -10.720363041981113],
  [4, 1.541725790028002e-8, -17.987778312103007],
  [5, 1.5374597944280351e-12, -27.200889545537436],
  [7, 4.183825607779414e-23, -51.528231093710154],
  [10, 2.088487583762545e-45, -102.87988902484489],
  [20, 5.3958656116079005e-176, -403.56934333410425],
];

// Where erfc underflows: log(2) + scipy.special.log_ndtr(−x·√2), scipy 1.17.1.
const LOG_ERFC_TAIL: ReadonlyArray<[number, number]> = [
  [30, -903.9741171106442],
  [100, -10005.177585122668],
  [1000, -1000007.4801207221],
  [1e5, -10000000012.085293],
];

describe('erfc and log erfc', () => {
  it.each(ERFC)('erfc(%d) to 1e-13 relative', (x, value, log) => {
    expect(Math.abs(erfc(x) / value - 1)).toBeLessThan(1e-13);
    expect(Math.abs(logErfc(x) - log)).toBeLessThan(1e-13 * Math.max(1, Math.abs(log)));
  });

  it.each(LOG_ERFC_TAIL)('log erfc(%d) stays finite and exact in the far tail', (x, log) => {
    expect(Math.abs(logErfc(x) / log - 1)).toBeLessThan(1e-14);
  });

  it('handles the infinities', () => {
    expect(logErfc(Number.POSITIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(erfc(Number.NEGATIVE_INFINITY)).toBe(2);
  });
});

describe('log-space addition and subtraction', () => {
  it('adds and subtracts without overflow', () => {
    expect(logAdd(1000, 1000)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(logAdd(Number.NEGATIVE_INFINITY, 3)).toBe(3);
    expect(logSub(1000 + Math.LN2, 1000)).toBeCloseTo(1000, 12);
    expect(logSub(5, 5)).toBe(Number.NEGATIVE_INFINITY);
    expect(logSub(5, Number.NEGATIVE_INFINITY)).toBe(5);
  });

  it('refuses a negative difference', () => {
    expect(() => logSub(1, 2)).toThrow(RangeError);
  });
});
