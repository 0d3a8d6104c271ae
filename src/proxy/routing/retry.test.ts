import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../../wire/index.ts';
import { compileRetry, type TryOutcome } from './retry.ts';
import { randoms } from './routing.test-kit.ts';

const policy = (retryOn: string[], retriableStatusCodes: number[] = []): RetryPolicy => ({
  attempts: 2,
  retryOn,
  retriableStatusCodes,
  retryRemoteLocalities: false,
  backoff: { baseMs: 25, maxMs: 250 },
});

const res = (status: number, grpcStatus?: number): TryOutcome =>
  grpcStatus === undefined ? { kind: 'response', status } : { kind: 'response', status, grpcStatus };

// [retryOn, retriableStatusCodes, outcome, retried]
const cases: [string[], number[], TryOutcome, boolean][] = [
  [['5xx'], [], res(500), true],
  [['5xx'], [], res(503), true],
  [['5xx'], [], res(404), false],
  [['5xx'], [], { kind: 'connect-failure' }, true],
  [['5xx'], [], { kind: 'reset', beforeResponse: true }, true],
  [['5xx'], [], { kind: 'timeout' }, true],
  [['5xx'], [], { kind: 'refused-stream' }, true],
  [['gateway-error'], [], res(502), true],
  [['gateway-error'], [], res(504), true],
  [['gateway-error'], [], res(500), false],
  [['gateway-error'], [], { kind: 'timeout' }, true],
  [['connect-failure'], [], { kind: 'connect-failure' }, true],
  [['connect-failure'], [], { kind: 'reset', beforeResponse: true }, false],
  [['connect-failure'], [], res(503), false],
  [['refused-stream'], [], { kind: 'refused-stream' }, true],
  [['refused-stream'], [], { kind: 'reset', beforeResponse: true }, false],
  [['reset'], [], { kind: 'reset', beforeResponse: true }, true],
  [['reset'], [], { kind: 'timeout' }, true],
  [['reset'], [], { kind: 'reset', beforeResponse: false }, false],
  [['reset'], [], res(503), false],
  [['reset-before-request'], [], { kind: 'reset', beforeResponse: true, requestStarted: false }, true],
  [['reset-before-request'], [], { kind: 'reset', beforeResponse: true }, false],
  [['reset-before-request'], [], { kind: 'connect-failure' }, true],
  [['retriable-4xx'], [], res(409), true],
  [['retriable-4xx'], [], res(429), false],
  [['retriable-status-codes'], [503, 429], res(429), true],
  [['retriable-status-codes'], [503], res(500), false],
  [['connect-failure'], [503], res(503), true],
  [['connect-failure'], [], res(503), false],
  [['cancelled'], [], res(200, 1), true],
  [['deadline-exceeded'], [], res(200, 4), true],
  [['resource-exhausted'], [], res(200, 8), true],
  [['unavailable'], [], res(200, 14), true],
  [['internal'], [], res(200, 13), true],
  [['unavailable'], [], res(200, 13), false],
  [['unavailable'], [], res(200), false],
  [['envoy-ratelimited', 'retriable-headers'], [], res(503), false],
  [[], [], { kind: 'connect-failure' }, false],
];

describe('retry', () => {
  for (const [retryOn, codes, outcome, want] of cases) {
    it(`retry: ${retryOn.join(',') || 'nothing'} ${want ? 'retries' : 'does not retry'} ${JSON.stringify(outcome)}`, () => {
      assert.equal(compileRetry(policy(retryOn, codes)).shouldRetry(outcome), want);
    });
  }

  // [retry n, random, want ms] with base 25, max 250
  const backoff: [number, number, number][] = [
    [0, 0, 0],
    [0, 0.9999, 24],
    [1, 0.9999, 49],
    [2, 0.5, 50],
    [3, 0.9999, 199],
    [4, 0.9999, 249],
    [10, 0.9999, 249],
  ];
  for (const [n, r, want] of backoff) {
    it(`retry: back-off before retry ${n} with random ${r} is ${want}ms`, () => {
      assert.equal(compileRetry(policy(['5xx'])).backoffMs(n, randoms(r)), want);
    });
  }
  it('retry: back-off stays in [0, min(base·2ⁿ, max)) over many draws', () => {
    const c = compileRetry(policy(['5xx']));
    for (let n = 0; n < 8; n++) {
      const bound = Math.min(25 * 2 ** n, 250);
      for (let k = 0; k < 200; k++) {
        const ms = c.backoffMs(n, Math.random);
        assert.ok(ms >= 0 && ms < bound && Number.isInteger(ms), `retry ${n}: ${ms}ms outside [0, ${bound})`);
      }
    }
  });
});
