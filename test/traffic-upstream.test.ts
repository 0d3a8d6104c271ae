// DestinationRule traffic policies through real proxies: load balancing (round robin, least request,
// random, consistent hashing on a header, a cookie or a query parameter), connection-pool limits and
// outlier detection, and TLS origination the proxy cannot do refused rather than sent in plaintext. One mesh per file:
// client 127.0.32.1 → pool-1/2/3 (127.0.32.2-4).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from './mesh-fixture.ts';
import { yamlDocs } from './mesh-yaml.ts';
import {
  assertBetween,
  countByWorkload,
  describeReply,
  destinationRule,
  httpService,
  type Reply,
  startTrafficMesh,
  TestHeader,
  type TrafficMesh,
  testKey,
  virtualService,
} from './traffic-fixture.ts';

const POOL = { app: 'pool' };
const WORKLOADS = ['pool-1', 'pool-2', 'pool-3'];

/** A Service `host` over the three pool workloads with a DestinationRule trafficPolicy (YAML). */
function policy(host: string, trafficPolicy: string): string {
  return yamlDocs(httpService(host, POOL), destinationRule(host, { trafficPolicy }));
}

const YAML = yamlDocs(
  policy('lb-round-robin', 'loadBalancer: {simple: ROUND_ROBIN}'),
  policy('lb-least-request', 'loadBalancer: {simple: LEAST_REQUEST}'),
  policy('lb-random', 'loadBalancer: {simple: RANDOM}'),
  policy('hash-header', 'loadBalancer: {consistentHash: {httpHeaderName: x-user}}'),
  policy(
    'hash-ring',
    'loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}}',
  ),
  policy(
    'hash-maglev',
    'loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}',
  ),
  policy(
    'hash-cookie',
    'loadBalancer: {consistentHash: {httpCookie: {name: user-session, path: /, ttl: 60s}}}',
  ),
  policy('hash-query', 'loadBalancer: {consistentHash: {httpQueryParameterName: user}}'),
  policy(
    'pool-limited',
    `connectionPool:
  tcp: {maxConnections: 1}
  http: {http1MaxPendingRequests: 1, http2MaxRequests: 1}`,
  ),
  policy(
    'port-level',
    `loadBalancer: {simple: ROUND_ROBIN}
portLevelSettings:
- port: {number: 9080}
  loadBalancer: {consistentHash: {httpHeaderName: x-user}}`,
  ),
  httpService('subset-policy', POOL),
  `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: subset-policy, namespace: shop}
spec:
  host: subset-policy
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
  subsets:
  - name: sticky
    labels: {app: pool}
    trafficPolicy:
      loadBalancer: {consistentHash: {httpHeaderName: x-user}}
`,
  virtualService(
    'subset-policy',
    ['subset-policy'],
    '- route: [{destination: {host: subset-policy, subset: sticky}}]',
  ),
  policy(
    'outlier-gateway',
    `loadBalancer: {simple: ROUND_ROBIN}
outlierDetection: {consecutiveGatewayErrors: 2, interval: 500ms, baseEjectionTime: 30s, maxEjectionPercent: 100}`,
  ),
  policy(
    'outlier',
    `loadBalancer: {simple: ROUND_ROBIN}
outlierDetection: {consecutive5xxErrors: 2, interval: 500ms, baseEjectionTime: 3s, maxEjectionPercent: 100}`,
  ),
  policy('tls-simple', 'tls: {mode: SIMPLE, credentialName: api-cert}'),
  virtualService(
    'tls-simple',
    ['tls-simple'],
    '- retries: {attempts: 0}\n  route: [{destination: {host: tls-simple}}]',
  ),
  policy(
    'tls-mutual',
    'tls: {mode: MUTUAL, clientCertificate: /etc/certs/c.pem, privateKey: /etc/certs/k.pem}',
  ),
);

describe('traffic upstream: load balancing, connection pools and outlier detection through real proxies', () => {
  let t: TrafficMesh;

  before(async () => {
    t = await startTrafficMesh({
      prefix: 'traffic-upstream',
      clientAddress: '127.0.32.1',
      servers: WORKLOADS.map((name, i) => ({ name, address: `127.0.32.${i + 2}`, labels: POOL })),
      ports: [9080],
      yaml: YAML,
    });
  });

  after(async () => {
    await t?.stop();
  });

  function url(host: string, path = '/lb'): string {
    return `http://${host}.shop:9080${path}`;
  }

  /** Asserts every reply is an app's 200 and returns who answered. */
  function served(replies: readonly Reply[]): Record<string, number> {
    for (const r of replies)
      assert.equal(r.status, 200, `want every request served, got ${describeReply(r)}`);
    return countByWorkload(replies);
  }

  it('lb: ROUND_ROBIN spreads 30 sequential requests evenly (10 ± 1 each)', async () => {
    const counts = served(await t.client.sendMany(30, 1, () => [url('lb-round-robin')]));
    for (const w of WORKLOADS) assertBetween(counts[w] ?? 0, 9, 11, `requests at ${w} of 30 (round robin)`);
  });

  it('lb: LEAST_REQUEST sends fewer requests to a slow endpoint', async () => {
    const slow = { [TestHeader.delayMs]: '300', [TestHeader.on]: 'pool-1' };
    const counts = served(
      await t.client.sendMany(120, 9, () => [url('lb-least-request'), { headers: slow }]),
    );
    // Round robin would give pool-1 a third (40); least request keeps its in-flight count level
    // with the fast endpoints', so it gets a small share of the throughput.
    assert.ok(
      (counts['pool-1'] ?? 0) < 24,
      `want the slow pool-1 under 20% of 120, got ${JSON.stringify(counts)}`,
    );
    assert.ok(
      (counts['pool-2'] ?? 0) > 0 && (counts['pool-3'] ?? 0) > 0,
      `want both fast endpoints used, got ${JSON.stringify(counts)}`,
    );
  });

  it('lb: RANDOM reaches every endpoint over 60 requests', async () => {
    const counts = served(await t.client.sendMany(60, 4, () => [url('lb-random')]));
    // Each gets Binomial(60, 1/3): mean 20, sd 3.7; 5 is four standard deviations below.
    for (const w of WORKLOADS)
      assert.ok((counts[w] ?? 0) >= 5, `want ${w} hit at least 5 times, got ${JSON.stringify(counts)}`);
  });

  for (const [host, table] of [
    ['hash-header', 'the default ring'],
    ['hash-ring', 'ringHash'],
    ['hash-maglev', 'maglev'],
  ] as const) {
    it(`lb: consistentHash on a header (${table}) keeps one value on one endpoint and spreads different values`, async () => {
      const same = served(
        await t.client.sendMany(20, 4, () => [url(host), { headers: { 'x-user': 'alice' } }]),
      );
      assert.equal(
        Object.keys(same).length,
        1,
        `want x-user: alice always at one endpoint, got ${JSON.stringify(same)}`,
      );
      const spread = served(
        await t.client.sendMany(30, 4, (i) => [url(host), { headers: { 'x-user': `user-${i}` } }]),
      );
      assert.ok(
        Object.keys(spread).length >= 2,
        `want 30 different users on several endpoints, got ${JSON.stringify(spread)}`,
      );
    });
  }

  it('lb: consistentHash on a query parameter keeps one value on one endpoint and spreads different values', async () => {
    const same = served(await t.client.sendMany(20, 4, () => [url('hash-query', '/lb?user=alice&page=1')]));
    assert.equal(
      Object.keys(same).length,
      1,
      `want user=alice always at one endpoint, got ${JSON.stringify(same)}`,
    );
    const spread = served(await t.client.sendMany(30, 4, (i) => [url('hash-query', `/lb?user=u${i}`)]));
    assert.ok(
      Object.keys(spread).length >= 2,
      `want 30 different users on several endpoints, got ${JSON.stringify(spread)}`,
    );
  });

  it('lb: consistentHash on a cookie sets the cookie when absent (ttl, path), and the cookie then sticks', async () => {
    const first = await t.client.send(url('hash-cookie'));
    assert.equal(first.status, 200, describeReply(first));
    const setCookie = first.headers['set-cookie'] ?? [];
    assert.equal(setCookie.length, 1, `want one Set-Cookie, got ${JSON.stringify(setCookie)}`);
    const cookie = setCookie[0] as string;
    assert.match(cookie, /^user-session=[^;]+/, `want the user-session cookie, got ${cookie}`);
    assert.match(cookie, /;\s*Max-Age=60(;|$)/i, `want Max-Age=60 from ttl 60s, got ${cookie}`);
    assert.match(cookie, /;\s*Path=\/(;|$)/i, `want Path=/, got ${cookie}`);
    const pair = cookie.split(';')[0] as string;
    const counts = served(
      await t.client.sendMany(20, 4, () => [url('hash-cookie'), { headers: { cookie: pair } }]),
    );
    assert.deepEqual(
      counts,
      { [first.workload as string]: 20 },
      `want every request with ${pair} at ${first.workload}`,
    );
    const again = await t.client.send(url('hash-cookie'), { headers: { cookie: pair } });
    assert.equal(again.headers['set-cookie'], undefined, 'want no new cookie when the request carries one');
  });

  for (const [host, level] of [
    ['port-level', 'portLevelSettings'],
    ['subset-policy', "a subset's own trafficPolicy"],
  ] as const) {
    it(`lb: ${level} overrides the DestinationRule's loadBalancer (consistentHash over ROUND_ROBIN)`, async () => {
      const counts = served(
        await t.client.sendMany(20, 4, () => [url(host), { headers: { 'x-user': 'bob' } }]),
      );
      assert.equal(
        Object.keys(counts).length,
        1,
        `want x-user: bob always at one endpoint, got ${JSON.stringify(counts)}`,
      );
    });
  }

  it('pool: beyond http2MaxRequests 1 / http1MaxPendingRequests 1, concurrent requests get 503 UO at once', async () => {
    const key = testKey('overflow');
    const headers = { [TestHeader.key]: key, [TestHeader.delayMs]: '1000' };
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => t.client.send(url('pool-limited'), { headers })),
    );
    const ok = replies.filter((r) => r.status === 200 && r.workload !== undefined);
    const shed = replies.filter((r) => r.status === 503 && r.flags.includes('UO'));
    assert.equal(
      ok.length + shed.length,
      10,
      `want each reply a 200 or a 503 UO, got ${replies.map(describeReply).join('\n')}`,
    );
    assert.ok(ok.length >= 1, 'want at least one request served');
    assert.ok(shed.length >= 5, `want most of 10 concurrent requests shed, got ${shed.length}`);
    for (const r of shed) {
      assert.ok(
        r.elapsedMs < 800,
        `want a shed request answered at once, not queued behind the 1s one: ${describeReply(r)}`,
      );
      assert.notEqual(r.body.trim(), '', 'want a reason in words');
    }
    assert.equal(t.fleet.hits(key), ok.length, 'want the apps to see only the requests that were served');
  });

  it('outlier: consecutiveGatewayErrors ejects on 502s but not on 500s', async () => {
    const on = { [TestHeader.on]: 'pool-2' };
    const k500 = testKey('gateway-500');
    await t.client.sendMany(15, 1, () => [
      url('outlier-gateway'),
      { headers: { [TestHeader.key]: k500, [TestHeader.status]: '500', ...on } },
    ]);
    assert.equal(
      t.fleet.hits(k500, 'pool-2'),
      5,
      'want pool-2 kept in rotation through 500s (5 of 15, round robin)',
    );
    const k502 = testKey('gateway-502');
    const replies = await t.client.sendMany(15, 1, () => [
      url('outlier-gateway'),
      { headers: { [TestHeader.key]: k502, [TestHeader.status]: '502', ...on } },
    ]);
    assert.ok(
      t.fleet.hits(k502, 'pool-2') <= 3,
      `want pool-2 ejected after 2 consecutive 502s, it got ${t.fleet.hits(k502, 'pool-2')}`,
    );
    for (const r of replies.slice(-6))
      assert.equal(r.status, 200, `want pool-2 out of rotation, got ${describeReply(r)}`);
  });

  // Refused before any try, and final: no retry policy tries it again (no URX).
  const origination = [
    {
      mode: 'SIMPLE',
      host: 'tls-simple',
      route: 'without retries',
      wantFlags: ['UF'],
      why: 'credentialName api-cert (certificates from a secret) is not supported yet',
    },
    {
      mode: 'MUTUAL',
      host: 'tls-mutual',
      route: 'with the default retries',
      wantFlags: ['UF'],
      why: 'cannot load its TLS files',
    },
  ] as const;
  for (const c of origination) {
    const reason = `impossible: DestinationRule shop/${c.host} sets tls.mode ${c.mode}, and its ${c.why}`;

    it(`tls: ${c.mode} that the proxy cannot originate is refused with 503 UF naming the DestinationRule (${c.route}), never sent in plaintext`, async () => {
      const key = testKey(c.host);
      const r = await t.client.send(url(c.host), { headers: { [TestHeader.key]: key } });
      assert.equal(r.status, 503, `want 503 for tls.mode ${c.mode}, got ${describeReply(r)}`);
      assert.deepEqual(r.flags, c.wantFlags, `want flags ${c.wantFlags.join(',')}, got ${describeReply(r)}`);
      assert.ok(r.body.includes(reason), `want the body to say "${reason}", got ${JSON.stringify(r.body)}`);
      assert.equal(t.fleet.hits(key), 0, 'want no request to reach an app in plaintext');
    });

    it(`tls: ${c.mode} that the proxy cannot originate is refused inside a CONNECT tunnel through the forward proxy too`, async () => {
      const { reply } = await rawExchange(
        '127.0.32.1',
        15001,
        `CONNECT ${c.host}.shop:9080 HTTP/1.1\r\nhost: ${c.host}.shop:9080\r\n\r\n` +
          `GET / HTTP/1.1\r\nhost: ${c.host}.shop:9080\r\n\r\n`,
      );
      const inner = reply.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, '');
      assert.match(inner, /^HTTP\/1\.1 503 /, `want 503 inside the tunnel, got ${JSON.stringify(reply)}`);
      assert.match(
        inner,
        /\r\nx-alder-response-flags: UF[,\r]/i,
        `want flag UF, got ${JSON.stringify(reply)}`,
      );
      assert.ok(reply.includes(reason), `want the reply to say "${reason}", got ${JSON.stringify(reply)}`);
    });
  }

  it('outlier: an endpoint failing twice in a row is ejected, the others serve, and it returns after baseEjectionTime', async () => {
    const key = testKey('outlier');
    const failing = { [TestHeader.key]: key, [TestHeader.status]: '500', [TestHeader.on]: 'pool-2' };
    const replies = await t.client.sendMany(30, 1, () => [url('outlier'), { headers: failing }]);
    const failures = replies.filter((r) => r.status === 500);
    assert.ok(
      t.fleet.hits(key, 'pool-2') <= 3,
      `want pool-2 ejected after 2 consecutive 500s, it got ${t.fleet.hits(key, 'pool-2')} requests`,
    );
    assert.equal(failures.length, t.fleet.hits(key, 'pool-2'), 'want only pool-2 to fail');
    for (const r of replies.slice(-15)) {
      assert.ok(
        r.workload === 'pool-1' || r.workload === 'pool-3',
        `want pool-1 or pool-3 once pool-2 is out, got ${describeReply(r)}`,
      );
      assert.equal(r.status, 200, describeReply(r));
    }
    const ejectedAt = t.fleet.requests(key, 'pool-2').at(-1)?.atMs ?? Date.now();
    // pool-2 is healthy now; poll until the proxy sends it traffic again.
    const back = testKey('outlier-back');
    const deadline = Date.now() + 10_000;
    while (t.fleet.hits(back, 'pool-2') === 0) {
      assert.ok(
        Date.now() < deadline,
        'want pool-2 back in rotation within 10s of its ejection (baseEjectionTime 3s)',
      );
      await t.client.sendMany(3, 3, () => [url('outlier'), { headers: { [TestHeader.key]: back } }]);
      await t.fleet
        .waitFor((s) => s.key === back && s.workload === 'pool-2', 'pool-2 back', 100)
        .catch(() => undefined);
    }
    const returnedAfterMs = (t.fleet.requests(back, 'pool-2')[0]?.atMs ?? 0) - ejectedAt;
    assert.ok(
      returnedAfterMs >= 2500,
      `want pool-2 kept out for about baseEjectionTime (3s), it returned after ${returnedAfterMs}ms`,
    );
  });
});
