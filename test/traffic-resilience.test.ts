// Retries, timeouts, fault injection and mirroring through real proxies, asserted at the caller and
// counted at the apps. One mesh per file: client 127.0.31.1 → backend-1/2 (127.0.31.2-3), and
// shadow-1 (127.0.31.4) behind the Service `shadow`, the mirror target.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { yamlDocs } from './mesh-yaml.ts';
import {
  assertBetween,
  describeReply,
  httpService,
  type Reply,
  type SendOptions,
  startTrafficMesh,
  TestHeader,
  type TrafficMesh,
  testKey,
  virtualService,
} from './traffic-fixture.ts';

const BACKEND = { app: 'backend' };

/** A Service `host` over the backends, routed by a VirtualService whose one route adds `extra` (YAML). */
function backendRoute(host: string, extra = ''): string {
  return yamlDocs(
    httpService(host, BACKEND),
    virtualService(host, [host], `- route: [{destination: {host: ${host}}}]\n${extra.replace(/^\n/, '')}`),
  );
}

const YAML = yamlDocs(
  httpService('shadow', { app: 'shadow' }),
  // No VirtualService at all: Istio's default retry policy applies.
  httpService('plain', BACKEND),
  // A VirtualService route without retries: Istio's default retry policy applies too.
  backendRoute('vs-default'),
  // backend-1 and an endpoint that refuses connections (no proxy at 127.0.31.9).
  httpService('ghosted', { ghosted: 'yes' }),
  `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ghost, namespace: shop}
spec: {address: 127.0.31.9, labels: {ghosted: 'yes'}, serviceAccount: ghost}
`,
  backendRoute('retry-5xx', '  retries: {attempts: 3, retryOn: 5xx}'),
  backendRoute('retry-off', '  retries: {attempts: 0}'),
  backendRoute('retry-gateway', '  retries: {attempts: 2, retryOn: gateway-error}'),
  backendRoute('retry-status', '  retries: {attempts: 1, retryOn: "500"}'),
  backendRoute('per-try', '  timeout: 5s\n  retries: {attempts: 2, perTryTimeout: 300ms, retryOn: 5xx}'),
  backendRoute('timeout', '  timeout: 500ms'),
  backendRoute(
    'timeout-retries',
    '  timeout: 1s\n  retries: {attempts: 10, perTryTimeout: 300ms, retryOn: 5xx}',
  ),
  backendRoute(
    'delay-abort',
    '  fault:\n    delay: {fixedDelay: 300ms, percentage: {value: 100}}\n    abort: {httpStatus: 503, percentage: {value: 100}}',
  ),
  backendRoute('abort', '  fault: {abort: {httpStatus: 418, percentage: {value: 100}}}'),
  backendRoute('delay', '  fault: {delay: {fixedDelay: 400ms, percentage: {value: 100}}}'),
  backendRoute('abort-half', '  fault: {abort: {httpStatus: 503, percentage: {value: 50}}}'),
  backendRoute('delay-half', '  fault: {delay: {fixedDelay: 300ms, percentage: {value: 50}}}'),
  backendRoute('mirror', '  mirrors: [{destination: {host: shadow}, percentage: {value: 100}}]'),
  backendRoute('mirror-legacy', '  mirror: {host: shadow}\n  mirrorPercentage: {value: 100}'),
  backendRoute('mirror-half', '  mirrors: [{destination: {host: shadow}, percentage: {value: 50}}]'),
);

describe('traffic resilience: retries, timeouts, faults and mirrors through real proxies', () => {
  let t: TrafficMesh;

  before(async () => {
    t = await startTrafficMesh({
      prefix: 'traffic-resilience',
      clientAddress: '127.0.31.1',
      servers: [
        { name: 'backend-1', address: '127.0.31.2', labels: { ...BACKEND, ghosted: 'yes' } },
        { name: 'backend-2', address: '127.0.31.3', labels: BACKEND },
        { name: 'shadow-1', address: '127.0.31.4', labels: { app: 'shadow' } },
      ],
      ports: [9080],
      yaml: YAML,
    });
  });

  after(async () => {
    await t?.stop();
  });

  /** GET `http://<host>.shop:9080<path>` with `x-test-key: key` and more headers. */
  function send(host: string, key: string, headers: Record<string, string> = {}, more: SendOptions = {}) {
    return t.client.send(`http://${host}.shop:9080/r`, {
      ...more,
      headers: { [TestHeader.key]: key, ...headers },
    });
  }

  /** Fails the first `times` tries of `key`, wherever they land. */
  function failing(times: number, status: number | 'reset' = 503, delayMs = 0): Record<string, string> {
    return {
      [TestHeader.failTimes]: String(times),
      [TestHeader.failStatus]: String(status),
      [TestHeader.failDelayMs]: String(delayMs),
    };
  }

  it('retries: attempts 3 on 5xx turn two failures into a 200 after three tries', async () => {
    const key = testKey('retry-ok');
    const r = await send('retry-5xx', key, failing(2));
    assert.equal(r.status, 200, `want 200 after two retried 503s, got ${describeReply(r)}`);
    assert.ok(r.workload?.startsWith('backend-'), `want a backend to answer, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 3, 'want the backends to see 3 tries');
  });

  it("retries: when attempts run out, the backend's last 503 reaches the caller after attempts+1 tries", async () => {
    const key = testKey('retry-exhausted');
    const r = await send('retry-5xx', key, failing(100));
    assert.equal(r.status, 503, `want the backend's 503, got ${describeReply(r)}`);
    assert.ok(r.workload?.startsWith('backend-'), `want the app's own 503 body, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 4, 'want 1 try + 3 retries at the backends');
  });

  for (const [host, how] of [
    ['plain', 'without a VirtualService'],
    ['vs-default', 'on a VirtualService route without retries'],
  ] as const) {
    it(`retries: ${how}, Istio's default policy passes an app's 503 and 500 on after one try`, async () => {
      // Istio 1.24 took 503 out of the default retriable status codes (EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY).
      for (const status of [503, 500]) {
        const key = testKey(`${host}-${status}`);
        const r = await send(host, key, failing(100, status));
        assert.equal(r.status, status, `want the app's ${status}, got ${describeReply(r)}`);
        assert.equal(t.fleet.hits(key), 1, `want a ${status} tried once by the default policy`);
      }
    });
  }

  it("retries: Istio's default policy retries a refused connection on another endpoint", async () => {
    // Service `ghosted`: backend-1, and a WorkloadEntry at 127.0.31.9 where nothing listens.
    const key = testKey('ghosted');
    const replies = await t.client.sendMany(10, 1, () => [
      'http://ghosted.shop:9080/r',
      { headers: { [TestHeader.key]: key } },
    ]);
    for (const r of replies) {
      assert.equal(
        r.status,
        200,
        `want every request served by backend-1 (connect-failure retried), got ${describeReply(r)}`,
      );
      assert.equal(r.workload, 'backend-1', describeReply(r));
    }
  });

  it('retries: a retried POST carries its body to every try', async () => {
    const key = testKey('retry-body');
    const r = await t.client.send('http://retry-5xx.shop:9080/r', {
      method: 'POST',
      headers: { [TestHeader.key]: key, 'content-type': 'text/plain', ...failing(2) },
      body: 'the body',
    });
    assert.equal(r.status, 200, describeReply(r));
    const tries = t.fleet.requests(key);
    assert.equal(tries.length, 3, 'want 3 tries');
    for (const s of tries)
      assert.equal(s.body, 'the body', `want the whole body at try ${tries.indexOf(s) + 1}`);
  });

  it('retries: an app that closes the connection is retried on 5xx (the peer proxy answers 503 UC)', async () => {
    const key = testKey('retry-reset');
    const r = await send('retry-5xx', key, failing(1, 'reset'), { timeoutMs: 5000 });
    assert.equal(r.status, 200, `want 200 from the retry, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 2, 'want 2 tries');
    const off = testKey('reset-no-retry');
    const lost = await send('retry-off', off, failing(1, 'reset'), { timeoutMs: 5000 });
    assert.equal(lost.status, 503, `want 503 when the app closes the connection, got ${describeReply(lost)}`);
    assert.ok(
      lost.flags.includes('UC'),
      `want flag UC (upstream connection termination), got ${describeReply(lost)}`,
    );
    assert.equal(t.fleet.hits(off), 1, 'want 1 try with retries off');
  });

  it('retries: attempts 0 turns retries off', async () => {
    const key = testKey('retry-off');
    const r = await send('retry-off', key, failing(100, 503));
    assert.equal(r.status, 503, describeReply(r));
    assert.equal(t.fleet.hits(key), 1, 'want exactly one try');
  });

  it('retries: retryOn gateway-error retries 502 but not 500', async () => {
    const k502 = testKey('gateway-502');
    const r502 = await send('retry-gateway', k502, failing(1, 502));
    assert.equal(r502.status, 200, `want 200 after a retried 502, got ${describeReply(r502)}`);
    assert.equal(t.fleet.hits(k502), 2, 'want 2 tries');
    const k500 = testKey('gateway-500');
    const r500 = await send('retry-gateway', k500, failing(1, 500));
    assert.equal(r500.status, 500, `want the 500 passed on, got ${describeReply(r500)}`);
    assert.equal(t.fleet.hits(k500), 1, 'want 1 try: 500 is not a gateway error');
  });

  it('retries: a status code in retryOn is retried', async () => {
    const key = testKey('retry-status');
    const r = await send('retry-status', key, failing(1, 500));
    assert.equal(r.status, 200, `want 200 after a retried 500, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 2, 'want 2 tries');
  });

  it('retries: perTryTimeout abandons a slow try and the retry answers quickly', async () => {
    const key = testKey('per-try-ok');
    const r = await send('per-try', key, failing(1, 200, 3000));
    assert.equal(r.status, 200, `want 200 from the second try, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 2, 'want 2 tries: the slow one and its retry');
    assert.ok(
      r.elapsedMs < 1500,
      `want an answer soon after the 300ms per-try timeout, took ${r.elapsedMs}ms`,
    );
  });

  it('retries: when every try is slower than perTryTimeout, 504 with flag UT after attempts+1 tries', async () => {
    const key = testKey('per-try-exhausted');
    const r = await send('per-try', key, { [TestHeader.delayMs]: '3000' });
    assert.equal(r.status, 504, `want 504, got ${describeReply(r)}`);
    assert.ok(r.flags.includes('UT'), `want flag UT, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 3, 'want 1 try + 2 retries, each cut at 300ms');
    assert.ok(r.elapsedMs < 2500, `want the 504 after about 3 × 300ms, took ${r.elapsedMs}ms`);
  });

  it('timeout: a route timeout answers 504 with flag UT quickly, with a reason in words', async () => {
    const key = testKey('timeout');
    const r = await send('timeout', key, { [TestHeader.delayMs]: '3000' });
    assert.equal(r.status, 504, `want 504, got ${describeReply(r)}`);
    assert.deepEqual(r.flags, ['UT'], `want flag UT, got ${describeReply(r)}`);
    assert.match(r.body, /timeout/i, 'want the body to say it timed out');
    assertBetween(Math.round(r.elapsedMs), 450, 2000, 'ms until the 504 (timeout 500ms)');
    const fast = await send('timeout', testKey('timeout-fast'));
    assert.equal(fast.status, 200, `want a fast request unaffected, got ${describeReply(fast)}`);
  });

  it('timeout: the route timeout bounds all tries together, retries included', async () => {
    const key = testKey('timeout-retries');
    const r = await send('timeout-retries', key, { [TestHeader.delayMs]: '3000' });
    assert.equal(r.status, 504, `want 504, got ${describeReply(r)}`);
    assert.ok(r.flags.includes('UT'), `want flag UT, got ${describeReply(r)}`);
    assertBetween(Math.round(r.elapsedMs), 950, 1800, 'ms until the 504 (timeout 1s over tries of 300ms)');
    assertBetween(t.fleet.hits(key), 3, 4, 'tries within 1s at 300ms each (not all 11)');
  });

  it('fault: abort at 100% answers its status with flag FI and no app sees the request', async () => {
    const key = testKey('abort');
    const r = await send('abort', key);
    assert.equal(r.status, 418, `want the fault's 418, got ${describeReply(r)}`);
    assert.deepEqual(r.flags, ['FI'], `want flag FI, got ${describeReply(r)}`);
    assert.notEqual(r.body.trim(), '', 'want a reason in words');
    assert.equal(t.fleet.hits(key), 0, 'want no app to see an aborted request');
  });

  it('fault: delay at 100% holds the request for at least the delay, then the app answers', async () => {
    const key = testKey('delay');
    const r = await send('delay', key);
    assert.equal(r.status, 200, describeReply(r));
    assert.ok(r.workload?.startsWith('backend-'), `want a backend to answer, got ${describeReply(r)}`);
    assert.ok(r.elapsedMs >= 395, `want at least the 400ms delay, took ${r.elapsedMs}ms`);
    assert.equal(t.fleet.hits(key), 1, 'want the app to see the request once');
  });

  it('fault: delay and abort together: the delay is served first, then the abort', async () => {
    const key = testKey('delay-abort');
    const r = await send('delay-abort', key);
    assert.equal(r.status, 503, `want the abort's 503, got ${describeReply(r)}`);
    assert.ok(r.flags.includes('FI'), `want flag FI, got ${describeReply(r)}`);
    assert.ok(r.elapsedMs >= 295, `want the 300ms delay before the abort, took ${r.elapsedMs}ms`);
    assert.equal(t.fleet.hits(key), 0, 'want no app to see an aborted request');
  });

  it('fault: abort at 50% over 200 requests aborts 100 ± 30, and the app sees the rest', async () => {
    const key = testKey('abort-half');
    const replies = await t.client.sendMany(200, 20, () => [
      'http://abort-half.shop:9080/r',
      { headers: { [TestHeader.key]: key } },
    ]);
    const aborted = replies.filter((r) => r.status === 503 && r.flags.includes('FI'));
    const served = replies.filter((r) => r.status === 200 && r.workload !== undefined);
    assert.equal(
      aborted.length + served.length,
      200,
      'want every reply to be an abort (503 FI) or an app 200',
    );
    // Binomial(200, 0.5): sd 7.1, so ±30 is over four standard deviations.
    assertBetween(aborted.length, 70, 130, 'aborted requests of 200 at 50%');
    assert.equal(t.fleet.hits(key), served.length, 'want the apps to see exactly the requests not aborted');
  });

  it('fault: delay at 50% over 100 requests delays 50 ± 22', async () => {
    const replies = await t.client.sendMany(100, 50, () => ['http://delay-half.shop:9080/r']);
    for (const r of replies) assert.equal(r.status, 200, describeReply(r));
    const delayed = replies.filter((r) => r.elapsedMs >= 280).length;
    // Binomial(100, 0.5): sd 5, so ±22 is over four standard deviations.
    assertBetween(delayed, 28, 72, 'requests taking at least 280ms (delay 300ms at 50%)');
  });

  for (const host of ['mirror', 'mirror-legacy']) {
    it(`mirror: the primary answers, and the mirror gets a copy with Host ${host}.shop-shadow:9080 (${host === 'mirror' ? 'mirrors' : 'mirror + mirrorPercentage'})`, async () => {
      const key = testKey(host);
      const r = await t.client.send(`http://${host}.shop:9080/copy?x=1`, {
        method: 'POST',
        headers: { [TestHeader.key]: key, 'content-type': 'text/plain' },
        body: 'payload',
      });
      assert.equal(r.status, 200, describeReply(r));
      assert.ok(r.workload?.startsWith('backend-'), `want the primary to answer, got ${describeReply(r)}`);
      const copy = await t.fleet.waitFor(
        (s) => s.key === key && s.workload === 'shadow-1',
        `the mirrored copy of ${key} at shadow-1`,
      );
      assert.equal(copy.method, 'POST', 'want the same method at the mirror');
      assert.equal(copy.path, '/copy?x=1', 'want the same path at the mirror');
      assert.equal(copy.body, 'payload', 'want the same body at the mirror');
      assert.equal(
        copy.headers.host,
        `${host}.shop-shadow:9080`,
        "want -shadow appended to the host (Envoy's rule)",
      );
      assert.equal(
        t.fleet.hits(key, 'backend-1') + t.fleet.hits(key, 'backend-2'),
        1,
        'want one primary request',
      );
    });
  }

  it('mirror: a mirror that takes 2s does not slow the caller', async () => {
    const key = testKey('mirror-slow');
    const r = await send('mirror', key, { [TestHeader.delayMs]: '2000', [TestHeader.on]: 'shadow-1' });
    assert.equal(r.status, 200, describeReply(r));
    assert.ok(r.workload?.startsWith('backend-'), `want the primary to answer, got ${describeReply(r)}`);
    assert.ok(
      r.elapsedMs < 1000,
      `want the caller answered without waiting for the mirror, took ${r.elapsedMs}ms`,
    );
    await t.fleet.waitFor(
      (s) => s.key === key && s.workload === 'shadow-1',
      'the slow mirror to get its copy',
    );
  });

  it('mirror: a failing mirror does not change the answer', async () => {
    const key = testKey('mirror-failing');
    const r = await send('mirror', key, { [TestHeader.status]: '500', [TestHeader.on]: 'shadow-1' });
    assert.equal(r.status, 200, `want the primary's 200, got ${describeReply(r)}`);
    await t.fleet.waitFor((s) => s.key === key && s.workload === 'shadow-1', 'the mirror to get its copy');
  });

  it('mirror: percentage 50 mirrors 50 ± 22 of 100 requests', async () => {
    const key = testKey('mirror-half');
    const replies: Reply[] = await t.client.sendMany(100, 20, () => [
      'http://mirror-half.shop:9080/r',
      { headers: { [TestHeader.key]: key } },
    ]);
    for (const r of replies) assert.equal(r.status, 200, describeReply(r));
    // Mirrors are sent without waiting for them: let the copies still on their way arrive.
    await t.fleet.waitQuiet(300);
    assertBetween(t.fleet.hits(key, 'shadow-1'), 28, 72, 'mirrored copies of 100 at 50%');
  });
});
