// Table tests of Envoy's priority load: overprovisioning 1.4, normalisation when total health is
// under 100, the panic threshold per priority, and total panic by host count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computePriorityLoad, type PriorityHealth } from './priority-load.ts';

const cases: {
  name: string;
  levels: PriorityHealth[];
  threshold: number;
  want: { loads: number[]; isPanic: boolean[] };
}[] = [
  {
    name: 'all healthy: everything to P0',
    levels: [
      { hosts: 4, healthy: 4 },
      { hosts: 4, healthy: 4 },
    ],
    threshold: 0,
    want: { loads: [100, 0], isPanic: [false, false] },
  },
  {
    name: 'P0 at 75% healthy still takes all (1.4 × 75 ≥ 100)',
    levels: [
      { hosts: 4, healthy: 3 },
      { hosts: 4, healthy: 4 },
    ],
    threshold: 0,
    want: { loads: [100, 0], isPanic: [false, false] },
  },
  {
    name: 'P0 at 50% healthy keeps 70, P1 takes 30',
    levels: [
      { hosts: 2, healthy: 1 },
      { hosts: 1, healthy: 1 },
    ],
    threshold: 0,
    want: { loads: [70, 30], isPanic: [false, false] },
  },
  {
    name: 'P0 gone: P1 takes all',
    levels: [
      { hosts: 2, healthy: 0 },
      { hosts: 2, healthy: 2 },
    ],
    threshold: 0,
    want: { loads: [0, 100], isPanic: [false, false] },
  },
  {
    name: 'total health under 100 is normalised (28 + 42 → 40/60)',
    levels: [
      { hosts: 5, healthy: 1 },
      { hosts: 10, healthy: 3 },
    ],
    threshold: 0,
    want: { loads: [40, 60], isPanic: [false, false] },
  },
  {
    name: 'under the threshold with total health under 100: that priority panics',
    levels: [
      { hosts: 5, healthy: 1 },
      { hosts: 10, healthy: 3 },
    ],
    threshold: 25,
    want: { loads: [40, 60], isPanic: [true, false] },
  },
  {
    name: 'total health 100: no panic however low P0 is',
    levels: [
      { hosts: 10, healthy: 1 },
      { hosts: 2, healthy: 2 },
    ],
    threshold: 50,
    want: { loads: [14, 86], isPanic: [false, false] },
  },
  {
    name: 'every priority panics: load by host count',
    levels: [
      { hosts: 3, healthy: 0 },
      { hosts: 1, healthy: 0 },
    ],
    threshold: 50,
    want: { loads: [75, 25], isPanic: [true, true] },
  },
  {
    name: 'nothing healthy and no threshold: all to P0, no panic',
    levels: [
      { hosts: 3, healthy: 0 },
      { hosts: 1, healthy: 0 },
    ],
    threshold: 0,
    want: { loads: [100, 0], isPanic: [false, false] },
  },
];
for (const c of cases) {
  test(`priority load: ${c.name}`, () => {
    assert.deepEqual(computePriorityLoad(c.levels, c.threshold), c.want);
  });
}
