// Table tests of the circuit breaker: each limit refuses the request past it and counts the
// overflow, releases give slots back, and the retry budget caps retries under maxRetries.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionPool } from '../../wire/index.ts';
import { type CircuitBreaker, createCircuitBreaker } from './circuit-breaker.ts';

const POOL: ConnectionPool = {
  maxConnections: 2,
  maxPendingRequests: 3,
  maxRequests: 4,
  maxRequestsPerConnection: 0,
  maxRetries: 100,
};

const limitCases: {
  name: string;
  limit: number;
  acquire: (b: CircuitBreaker) => (() => void) | null;
  overflow: 'connections' | 'pendingRequests' | 'requests';
}[] = [
  { name: 'maxConnections', limit: 2, acquire: (b) => b.tryAcquireConnection(), overflow: 'connections' },
  {
    name: 'maxPendingRequests',
    limit: 3,
    acquire: (b) => b.tryAcquirePending(),
    overflow: 'pendingRequests',
  },
  { name: 'maxRequests', limit: 4, acquire: (b) => b.tryAcquireRequest(), overflow: 'requests' },
];
for (const c of limitCases) {
  test(`circuit breaker: ${c.name} ${c.limit} refuses the next one until a release`, () => {
    const b = createCircuitBreaker(POOL);
    const releases = Array.from({ length: c.limit }, () => c.acquire(b));
    assert.ok(
      releases.every((r) => r !== null),
      `the first ${c.limit} are admitted`,
    );
    assert.equal(c.acquire(b), null, `number ${c.limit + 1}: want null (503 UO)`);
    assert.equal(b.stats().overflows[c.overflow], 1);
    releases[0]!();
    assert.notEqual(c.acquire(b), null, 'after one release there is room again');
  });
}

const budgetCases: {
  name: string;
  maxRetries: number;
  requests: number;
  pending: number;
  budget?: false;
  want: number;
}[] = [
  { name: 'few requests: the minimum concurrency 3', maxRetries: 100, requests: 4, pending: 0, want: 3 },
  { name: '20% of 50 requests and pending', maxRetries: 100, requests: 40, pending: 10, want: 10 },
  { name: '20% of 24 truncates to 4', maxRetries: 100, requests: 24, pending: 0, want: 4 },
  { name: 'maxRetries lower than the budget', maxRetries: 2, requests: 100, pending: 0, want: 2 },
  { name: 'budget off: maxRetries alone', maxRetries: 7, requests: 1, pending: 0, budget: false, want: 7 },
];
for (const c of budgetCases) {
  test(`circuit breaker: retry limit with ${c.name} is ${c.want}`, () => {
    const pool = { ...POOL, maxRetries: c.maxRetries, maxRequests: 1000, maxPendingRequests: 1000 };
    const b = createCircuitBreaker(pool, c.budget === false ? { retryBudget: false } : {});
    for (let i = 0; i < c.requests; i++) b.tryAcquireRequest();
    for (let i = 0; i < c.pending; i++) b.tryAcquirePending();
    let admitted = 0;
    while (b.tryAcquireRetry() !== null) admitted++;
    assert.equal(admitted, c.want);
    assert.equal(b.stats().retryLimit, c.want);
    assert.equal(b.stats().overflows.retries, 1);
  });
}

test('circuit breaker: the budget shrinks as requests finish, so retries cannot outgrow the load', () => {
  const b = createCircuitBreaker({ ...POOL, maxRequests: 1000, maxRetries: 1000 });
  const requests = Array.from({ length: 50 }, () => b.tryAcquireRequest()!);
  const retries = Array.from({ length: 10 }, () => b.tryAcquireRetry());
  assert.ok(
    retries.every((r) => r !== null),
    '20% of 50: ten retries',
  );
  for (const release of requests.slice(0, 40)) release();
  assert.equal(b.tryAcquireRetry(), null, '10 requests left: the limit is 3 and 10 are in flight');
  for (const release of retries.slice(0, 8)) release!();
  assert.notEqual(b.tryAcquireRetry(), null, 'two retries in flight, limit 3: one more');
});

test('circuit breaker: counts never go below zero on an extra release', () => {
  const b = createCircuitBreaker(POOL);
  const release = b.tryAcquireRequest()!;
  release();
  release();
  assert.equal(b.stats().requests, 0);
});
