// Table tests of the downstream connection cap: the configured maximum, lowered so that under a low
// open-file limit half of what the reserve leaves stays for upstream connections; and the budget.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionBudget, downstreamCap, FD_RESERVE, openFileLimit } from './connection-budget.ts';

const cases = [
  { name: 'no known limit', configured: 10_000, fdLimit: undefined, want: 10_000 },
  { name: 'a roomy limit', configured: 10_000, fdLimit: 1_048_576, want: 10_000 },
  { name: 'a low limit', configured: 10_000, fdLimit: 300, want: (300 - FD_RESERVE) / 2 },
  {
    name: 'an odd remainder rounds down',
    configured: 10_000,
    fdLimit: 1025,
    want: Math.floor((1025 - FD_RESERVE) / 2),
  },
  { name: 'a limit below the reserve still seats one', configured: 10_000, fdLimit: 20, want: 1 },
];

for (const c of cases) {
  test(`downstream cap: ${c.name} → ${c.want}`, () => {
    assert.equal(downstreamCap(c.configured, c.fdLimit), c.want);
  });
}

test('connection budget: refuses past its limit until a slot is released', () => {
  const budget = new ConnectionBudget(2);
  assert.deepEqual([budget.tryTake(), budget.tryTake(), budget.tryTake()], [true, true, false]);
  budget.release();
  assert.equal(budget.tryTake(), true, 'want a released slot taken again');
  assert.equal(budget.open, 2);
});

test('open-file limit: read on Linux as a positive whole number', {
  skip: process.platform !== 'linux',
}, () => {
  const limit = openFileLimit();
  assert.ok(limit !== undefined && Number.isSafeInteger(limit) && limit > 0, `want a limit, got ${limit}`);
});
