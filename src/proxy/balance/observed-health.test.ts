// Table tests of what a proxy remembers of each endpoint: failures in a row, the last failure and
// when, the last success; carried across endpoint sets by address:port, dropped when an endpoint goes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createObservedHealth, type Observation } from './observed-health.ts';
import { endpoints, manualClock } from './test-support.ts';

const OK: Observation = { kind: 'success' };
const fail = (reason: string): Observation => ({ kind: 'failure', reason });

const cases: {
  name: string;
  /** One observation per step, 1 s apart from 1 s on. */
  steps: Observation[];
  want:
    | {
        consecutiveFailures: number;
        lastFailureAtMs?: number;
        lastFailureReason?: string;
        lastSuccessAtMs?: number;
      }
    | undefined;
}[] = [
  { name: 'no try yet: no record', steps: [], want: undefined },
  {
    name: 'a success',
    steps: [OK],
    want: { consecutiveFailures: 0, lastSuccessAtMs: 1000 },
  },
  {
    name: 'failures count in a row, the last one kept with its time',
    steps: [OK, fail('503 response'), fail('connect failure: connection refused')],
    want: {
      consecutiveFailures: 2,
      lastFailureAtMs: 3000,
      lastFailureReason: 'connect failure: connection refused',
      lastSuccessAtMs: 1000,
    },
  },
  {
    name: 'a success ends the run but the last failure stays known',
    steps: [fail('reset before the response'), fail('503 response'), OK],
    want: {
      consecutiveFailures: 0,
      lastFailureAtMs: 2000,
      lastFailureReason: '503 response',
      lastSuccessAtMs: 3000,
    },
  },
];

for (const c of cases) {
  test(`observed health: ${c.name}`, () => {
    const clock = manualClock(0);
    const o = createObservedHealth(clock);
    const eps = endpoints(2);
    o.setEndpoints(eps);
    for (const step of c.steps) {
      clock.advance(1000);
      o.report(eps[0]!, step);
    }
    const got = o.recordOf('10.0.0.1:9080');
    if (c.want === undefined) {
      assert.equal(got, undefined, 'want no record before any try');
      return;
    }
    assert.deepEqual(
      got,
      {
        lastFailureAtMs: undefined,
        lastFailureReason: '',
        lastSuccessAtMs: undefined,
        ...c.want,
      },
      `after ${c.steps.map((s) => (s.kind === 'success' ? 'ok' : s.reason)).join(', ')}`,
    );
    assert.equal(o.recordOf('10.0.0.2:9080'), undefined, 'want the other endpoint untouched');
  });
}

test('observed health: records carry over by address:port and go with their endpoint', () => {
  const o = createObservedHealth({ now: () => 5 });
  const v1 = endpoints(2);
  o.setEndpoints(v1);
  o.report(v1[1]!, fail('503 response'));
  const v2 = endpoints(2); // new objects, same addresses: a new snapshot version
  o.setEndpoints(v2);
  o.report(v2[1]!, fail('503 response'));
  assert.equal(o.recordOf('10.0.0.2:9080')?.consecutiveFailures, 2, 'want the run to go on across versions');
  o.setEndpoints(v2.slice(0, 1));
  assert.equal(o.recordOf('10.0.0.2:9080'), undefined, 'want the record dropped with its endpoint');
  o.report(v2[1]!, fail('late report from an older version'));
  assert.equal(o.recordOf('10.0.0.2:9080'), undefined, 'want reports about gone endpoints ignored');
  o.setEndpoints(v2);
  assert.equal(o.recordOf('10.0.0.2:9080'), undefined, 'want an endpoint that comes back to start afresh');
});
