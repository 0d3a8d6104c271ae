import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dest, randoms } from './routing.test-kit.ts';
import { compileWeights } from './weighted-picker.ts';

// [weights, random value, cluster index chosen (undefined: none)]
const cases: [number[], number, number | undefined][] = [
  [[90, 10], 0, 0],
  [[90, 10], 0.899, 0],
  [[90, 10], 0.9, 1],
  [[90, 10], 0.9999, 1],
  [[1, 1, 1], 0.5, 1],
  [[0, 100], 0, 1],
  [[100, 0], 0.9999, 0],
  [[0, 0], 0.5, undefined],
  [[3, 7], 0.29, 0],
  [[3, 7], 0.3, 1],
  [[0], 0.5, 0],
];

describe('weighted picker', () => {
  for (const [weights, r, want] of cases) {
    it(`weights: ${weights.join('/')} with random ${r} picks ${want ?? 'nothing'}`, () => {
      const items = weights.map((w, k) => dest(`c${k}`, w));
      const got = compileWeights(items).pick(randoms(r));
      assert.equal(got === undefined ? undefined : items.indexOf(got), want);
    });
  }
  it('weights: 10,000 picks split 80/20 within 2%', () => {
    const items = [dest('a', 80), dest('b', 20)];
    const p = compileWeights(items);
    let seed = 1;
    const lcg = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let a = 0;
    for (let k = 0; k < 10_000; k++) if (p.pick(lcg) === items[0]) a++;
    assert.ok(Math.abs(a / 10_000 - 0.8) < 0.02, `a chosen ${a} times of 10000`);
  });
});
