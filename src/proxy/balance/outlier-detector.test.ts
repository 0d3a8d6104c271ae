// Table tests of outlier detection: which runs of outcomes eject (5xx, gateway errors, local-origin
// failures split or not), maxEjectionPercent, the ejection time base × n and its decay, carry-over.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierDetection } from '../../wire/index.ts';
import { createOutlierDetector, type Outcome } from './outlier-detector.ts';
import { endpoints, manualClock, outlierConfig } from './test-support.ts';

const r = (status: number): Outcome => ({ kind: 'response', status });
const LOCAL: Outcome = { kind: 'local-failure' };

const ejectionCases: {
  name: string;
  config: Partial<OutlierDetection>;
  outcomes: Outcome[];
  want: string | undefined;
}[] = [
  {
    name: '5 consecutive 5xx',
    config: {},
    outcomes: [r(500), r(502), r(500), r(503), r(500)],
    want: 'CONSECUTIVE_5XX',
  },
  { name: '4 consecutive 5xx', config: {}, outcomes: [r(500), r(500), r(500), r(500)], want: undefined },
  {
    name: 'a 2xx in the run resets the count',
    config: {},
    outcomes: [r(500), r(500), r(500), r(200), r(500), r(500)],
    want: undefined,
  },
  {
    name: 'a 4xx is not an error',
    config: {},
    outcomes: [r(500), r(404), r(500), r(500), r(500)],
    want: undefined,
  },
  {
    name: '3 gateway errors with consecutiveGatewayErrors 3',
    config: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 },
    outcomes: [r(502), r(503), r(504)],
    want: 'CONSECUTIVE_GATEWAY_FAILURE',
  },
  {
    name: 'a 500 breaks a run of gateway errors',
    config: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 },
    outcomes: [r(502), r(503), r(500), r(504)],
    want: undefined,
  },
  {
    name: 'gateway errors reach their threshold before 5xx',
    config: { consecutive5xxErrors: 3, consecutiveGatewayErrors: 2 },
    outcomes: [r(503), r(503)],
    want: 'CONSECUTIVE_GATEWAY_FAILURE',
  },
  {
    name: 'not split: connect failures count as 5xx',
    config: {},
    outcomes: [LOCAL, LOCAL, r(500), LOCAL, LOCAL],
    want: 'CONSECUTIVE_5XX',
  },
  {
    name: 'not split: connect failures count as gateway errors',
    config: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 },
    outcomes: [LOCAL, LOCAL],
    want: 'CONSECUTIVE_GATEWAY_FAILURE',
  },
  {
    name: 'split: local-origin failures have their own count',
    config: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 },
    outcomes: [LOCAL, LOCAL, LOCAL],
    want: 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE',
  },
  {
    name: 'split: local-origin failures are not 5xx',
    config: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 10 },
    outcomes: [LOCAL, r(500), LOCAL, r(500), LOCAL, r(500), LOCAL, r(500), LOCAL],
    want: undefined,
  },
  {
    name: 'split: any response resets the local-origin count',
    config: { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 },
    outcomes: [LOCAL, LOCAL, r(503), LOCAL, LOCAL],
    want: undefined,
  },
  {
    name: 'a threshold of 0 disables the detector',
    config: { consecutive5xxErrors: 0 },
    outcomes: Array.from({ length: 20 }, () => r(500)),
    want: undefined,
  },
];
for (const c of ejectionCases) {
  test(`outlier: ${c.name} → ${c.want ?? 'no ejection'}`, () => {
    const eps = endpoints(2);
    const d = createOutlierDetector(outlierConfig(c.config), { now: () => 0 });
    d.setEndpoints(eps);
    for (const o of c.outcomes) d.report(eps[0]!, o);
    assert.equal(d.snapshot().ejected[0]?.type, c.want);
    assert.equal(d.isEjected(eps[1]!), false, 'the other endpoint is untouched');
  });
}

const percentCases: {
  name: string;
  hosts: number;
  maxEjectionPercent: number;
  alwaysEjectOneHost?: boolean;
  want: number;
}[] = [
  { name: '10% of 20 hosts: 2', hosts: 20, maxEjectionPercent: 10, want: 2 },
  {
    name: '10% of 5 hosts: none (Envoy counts the next ejection in)',
    hosts: 5,
    maxEjectionPercent: 10,
    want: 0,
  },
  {
    name: '10% of 5 with alwaysEjectOneHost: 1',
    hosts: 5,
    maxEjectionPercent: 10,
    alwaysEjectOneHost: true,
    want: 1,
  },
  { name: '50% of 4 hosts: 2', hosts: 4, maxEjectionPercent: 50, want: 2 },
  { name: '100% of 3 hosts: all', hosts: 3, maxEjectionPercent: 100, want: 3 },
];
for (const c of percentCases) {
  test(`outlier: maxEjectionPercent ${c.name}`, () => {
    const eps = endpoints(c.hosts);
    const d = createOutlierDetector(
      outlierConfig({ consecutive5xxErrors: 1, maxEjectionPercent: c.maxEjectionPercent }),
      {
        now: () => 0,
        ...(c.alwaysEjectOneHost === undefined ? {} : { alwaysEjectOneHost: c.alwaysEjectOneHost }),
      },
    );
    d.setEndpoints(eps);
    for (const e of eps) d.report(e, r(500));
    const s = d.snapshot();
    assert.equal(s.ejected.length, c.want);
    assert.equal(s.overflows, c.hosts - c.want, 'each refused ejection counts as an overflow');
  });
}

test('outlier: an ejected endpoint returns at the first tick after baseEjectionTime × times ejected', () => {
  const clock = manualClock(0);
  const eps = endpoints(2);
  const d = createOutlierDetector(
    outlierConfig({ consecutive5xxErrors: 1, baseEjectionTimeMs: 30_000 }),
    clock,
  );
  d.setEndpoints(eps);
  const steps: { afterMs: number; report?: boolean; wantEjected: boolean; wantUntil?: number }[] = [
    { afterMs: 0, report: true, wantEjected: true, wantUntil: 30_000 },
    { afterMs: 29_999, wantEjected: true },
    { afterMs: 30_000, wantEjected: false },
    // Ejected again before the backoff decays: twice the base.
    { afterMs: 31_000, report: true, wantEjected: true, wantUntil: 91_000 },
    { afterMs: 90_000, wantEjected: true },
    { afterMs: 91_000, wantEjected: false },
  ];
  for (const s of steps) {
    clock.advance(s.afterMs - clock.now());
    if (s.report === true) d.report(eps[0]!, r(500));
    d.tick();
    assert.equal(d.isEjected(eps[0]!), s.wantEjected, `at ${s.afterMs} ms: want ejected=${s.wantEjected}`);
    if (s.wantUntil !== undefined)
      assert.equal(d.snapshot().ejected[0]?.untilMs, s.wantUntil, `at ${s.afterMs} ms`);
  }
  assert.equal(d.snapshot().enforced.CONSECUTIVE_5XX, 2);
});

test('outlier: the multiplier decays by one per healthy interval, and is capped at 300 s', () => {
  const clock = manualClock(0);
  const eps = endpoints(1);
  const config = outlierConfig({ consecutive5xxErrors: 1, baseEjectionTimeMs: 100_000, intervalMs: 10_000 });
  const d = createOutlierDetector(config, clock);
  d.setEndpoints(eps);
  const ejectAndReturn = (): number => {
    d.report(eps[0]!, r(500));
    const until = d.snapshot().ejected[0]!.untilMs - clock.now();
    clock.advance(until);
    d.tick();
    return until;
  };
  assert.deepEqual(
    [ejectAndReturn(), ejectAndReturn(), ejectAndReturn(), ejectAndReturn()],
    [100_000, 200_000, 300_000, 300_000],
  );
  // Each interval it stays healthy after returning takes one off the multiplier: 4 → 1 in three.
  for (let i = 0; i < 3; i++) {
    clock.advance(10_000);
    d.tick();
  }
  assert.equal(
    ejectAndReturn(),
    200_000,
    'three healthy intervals took the multiplier from 4 to 1, ejection made it 2',
  );
});

test('outlier: records carry over by address:port when the endpoint set changes', () => {
  const d = createOutlierDetector(outlierConfig({ consecutive5xxErrors: 1 }), { now: () => 0 });
  const v1 = endpoints(3);
  d.setEndpoints(v1);
  d.report(v1[1]!, r(500));
  const generation = d.generation;
  const v2 = endpoints(3); // new objects, same addresses
  d.setEndpoints(v2);
  assert.equal(d.isEjected(v2[1]!), true);
  assert.equal(d.generation, generation, 'the same ejections: the generation stays');
  d.setEndpoints(v2.filter((_, i) => i !== 1));
  assert.equal(d.snapshot().ejected.length, 0);
  assert.notEqual(d.generation, generation, 'the ejected endpoint left: balancers must recompute');
});

test('outlier: without OutlierDetection nothing is ever ejected', () => {
  const d = createOutlierDetector(undefined, { now: () => 0 });
  const eps = endpoints(1);
  d.setEndpoints(eps);
  for (let i = 0; i < 50; i++) d.report(eps[0]!, r(503));
  assert.equal(d.isEnabled, false);
  assert.equal(d.isEjected(eps[0]!), false);
});
