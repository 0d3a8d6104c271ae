import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultPolicy } from '../../wire/index.ts';
import { compileFault, type FaultDecision } from './fault.ts';
import { randoms } from './routing.test-kit.ts';

// [case, policy, random values (delay draw first, then abort), decision]
const cases: [string, FaultPolicy, number[], FaultDecision][] = [
  ['delay sampled', { delay: { fixedMs: 5000, percent: 10 } }, [0.05], { delayMs: 5000, abort: undefined }],
  ['delay not sampled', { delay: { fixedMs: 5000, percent: 10 } }, [0.1], { delayMs: 0, abort: undefined }],
  ['delay at 100%', { delay: { fixedMs: 7, percent: 100 } }, [0.9999], { delayMs: 7, abort: undefined }],
  ['fractional percent', { delay: { fixedMs: 1, percent: 0.5 } }, [0.004], { delayMs: 1, abort: undefined }],
  [
    'abort http',
    { abort: { httpStatus: 503, percent: 50 } },
    [0.2],
    { delayMs: 0, abort: { kind: 'http', status: 503 } },
  ],
  ['abort not sampled', { abort: { httpStatus: 503, percent: 50 } }, [0.5], { delayMs: 0, abort: undefined }],
  [
    'abort grpc',
    { abort: { grpcStatus: 'UNAVAILABLE', percent: 100 } },
    [0],
    { delayMs: 0, abort: { kind: 'grpc', grpcStatus: 14 } },
  ],
  [
    'delay and abort drawn apart',
    { delay: { fixedMs: 100, percent: 50 }, abort: { httpStatus: 500, percent: 50 } },
    [0.9, 0.1],
    { delayMs: 0, abort: { kind: 'http', status: 500 } },
  ],
  ['0% never', { abort: { httpStatus: 500, percent: 0 } }, [0], { delayMs: 0, abort: undefined }],
];

describe('fault', () => {
  for (const [name, policy, values, want] of cases) {
    it(`fault: ${name}`, () => {
      assert.deepEqual(compileFault(policy).decide(randoms(...values)), want);
    });
  }
  it('fault: refuses a gRPC status Istio does not name', () => {
    assert.throws(
      () => compileFault({ abort: { grpcStatus: 'BROKEN', percent: 1 } }),
      /unknown gRPC status "BROKEN"; use one of OK, CANCELLED/,
    );
  });
});
