import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster } from '../wire/index.ts';
import { cluster, compile, REVIEWS } from './compile.test-kit.ts';

const ALL = `outbound|9080||${REVIEWS}`;
const V1 = `outbound|9080|v1|${REVIEWS}`;
const V2 = `outbound|9080|v2|${REVIEWS}`;

function dr(meta: string, spec: string): string {
  return `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: ${meta}
spec:
${spec}
`;
}

describe('compile: DestinationRule subsets and lookup', () => {
  it('subset: one cluster per port and subset, endpoints filtered by the subset labels', () => {
    const snap = compile(
      dr(
        '{name: reviews, namespace: shop}',
        '  host: reviews\n  subsets:\n  - {name: v1, labels: {version: v1}}\n  - {name: v2, labels: {version: v2}}',
      ),
    );
    assert.deepEqual(
      [ALL, V1, V2, `outbound|5432|v2|${REVIEWS}`].map((n) =>
        cluster(snap, n).endpoints.map((e) => e.workload),
      ),
      [['reviews-v1', 'reviews-v2'], ['reviews-v1'], ['reviews-v2'], ['reviews-v2']],
    );
    assert.equal(cluster(snap, V2).subset, 'v2');
  });

  it('endpoints carry the WorkloadEntry locality and weight (1 by default), the proxy its own locality', () => {
    const snap = compile('');
    assert.deepEqual(
      cluster(snap, ALL).endpoints.map((e) => [e.workload, e.locality, e.weight]),
      [
        ['reviews-v1', 'us-east/zone-a', 1],
        ['reviews-v2', '', 3],
      ],
    );
    assert.equal(snap.proxy.locality, 'us-east/zone-b/rack-1');
  });

  const lb = (simple: string) => `  trafficPolicy: {loadBalancer: {simple: ${simple}}}`;
  const lookups: { name: string; rules: string; want: string | undefined }[] = [
    { name: 'none', rules: '', want: undefined },
    {
      name: "the service's namespace",
      rules: dr('{name: svc, namespace: shop}', `  host: reviews\n${lb('RANDOM')}`),
      want: 'shop/svc',
    },
    {
      name: "the client's namespace over the service's and the root's",
      rules:
        dr('{name: svc, namespace: shop}', `  host: reviews\n${lb('RANDOM')}`) +
        dr('{name: client, namespace: books}', `  host: ${REVIEWS}\n${lb('RANDOM')}`) +
        dr('{name: root, namespace: alder-system}', `  host: ${REVIEWS}\n${lb('RANDOM')}`),
      want: 'books/client',
    },
    {
      name: 'the root namespace when nothing nearer',
      rules: dr('{name: root, namespace: alder-system}', `  host: "*.svc.cluster.local"\n${lb('RANDOM')}`),
      want: 'alder-system/root',
    },
    {
      name: 'the exact host over a wildcard in the same namespace',
      rules:
        dr('{name: wild, namespace: shop}', `  host: "*.shop.svc.cluster.local"\n${lb('RANDOM')}`) +
        dr('{name: exact, namespace: shop}', `  host: reviews\n${lb('RANDOM')}`),
      want: 'shop/exact',
    },
    {
      name: "not one in the service's namespace exported only there",
      rules: dr('{name: svc, namespace: shop}', `  host: reviews\n  exportTo: ["."]\n${lb('RANDOM')}`),
      want: undefined,
    },
    {
      name: 'not one in a third namespace, even exported everywhere',
      rules: dr('{name: other, namespace: elsewhere}', `  host: ${REVIEWS}\n${lb('RANDOM')}`),
      want: undefined,
    },
    {
      name: 'the oldest top-level policy of two for one host',
      rules:
        dr(
          "{name: b-new, namespace: shop, creationTimestamp: '2026-02-01T00:00:00Z'}",
          `  host: reviews\n${lb('RANDOM')}`,
        ) +
        dr(
          "{name: a-old, namespace: shop, creationTimestamp: '2026-01-01T00:00:00Z'}",
          `  host: reviews\n${lb('RANDOM')}`,
        ),
      want: 'shop/a-old',
    },
  ];
  for (const l of lookups) {
    it(`destination rule lookup from another namespace: ${l.name}`, () => {
      const snap = compile(l.rules, { namespace: 'books', name: 'details-v1' });
      assert.equal(cluster(snap, ALL).policyOrigin?.destinationRule, l.want);
    });
  }

  it('destination rule lookup: one with a workloadSelector wins for the workloads it selects only', () => {
    const rules =
      dr(
        "{name: a-all, namespace: shop, creationTimestamp: '2026-01-01T00:00:00Z'}",
        `  host: reviews\n${lb('RANDOM')}`,
      ) +
      dr(
        "{name: b-web, namespace: shop, creationTimestamp: '2026-02-01T00:00:00Z'}",
        `  host: reviews\n  workloadSelector: {matchLabels: {tier: web}}\n  exportTo: ["."]\n${lb('LEAST_REQUEST')}`,
      );
    const kindFor = (name: string) => cluster(compile(rules, { namespace: 'shop', name }), ALL).lb.kind;
    assert.deepEqual([kindFor('client'), kindFor('ratings-v1')], ['LEAST_REQUEST', 'RANDOM']);
  });

  it('destination rule lookup: rules for one host merge their subsets, the first of a name wins', () => {
    const snap = compile(
      dr(
        "{name: a, namespace: shop, creationTimestamp: '2026-01-01T00:00:00Z'}",
        '  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]',
      ) +
        dr(
          "{name: b, namespace: shop, creationTimestamp: '2026-02-01T00:00:00Z'}",
          '  host: reviews\n  subsets: [{name: v1, labels: {version: v2}}, {name: v2, labels: {version: v2}}]',
        ),
    );
    assert.deepEqual(
      [V1, V2].map((n) => cluster(snap, n).endpoints.map((e) => e.workload)),
      [['reviews-v1'], ['reviews-v2']],
    );
  });
});

describe('compile: DestinationRule traffic policy', () => {
  const spec = `  host: reviews
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 10}}
    portLevelSettings:
    - port: {number: 5432}
      connectionPool: {tcp: {maxConnections: 3}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      connectionPool: {http: {http2MaxRequests: 7}}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      portLevelSettings:
      - port: {number: 9080}
        loadBalancer: {simple: LEAST_REQUEST}`;
  const merges: { name: string; cluster: string; want: [string, number, number, string[]] }[] = [
    { name: 'top level', cluster: ALL, want: ['RANDOM', 10, 4294967295, ['trafficPolicy']] },
    {
      name: 'port level replaces the top level wholesale',
      cluster: `outbound|5432||${REVIEWS}`,
      want: ['ROUND_ROBIN', 3, 4294967295, ['portLevelSettings[5432]']],
    },
    {
      name: 'a subset overrides the groups it sets, the rest inherited',
      cluster: V1,
      want: ['RANDOM', 4294967295, 7, ['trafficPolicy', 'subsets[v1]']],
    },
    {
      name: 'a subset port level replaces every group',
      cluster: V2,
      want: ['LEAST_REQUEST', 4294967295, 4294967295, ['subsets[v2].portLevelSettings[9080]']],
    },
  ];
  for (const m of merges) {
    it(`traffic policy merge: ${m.name}`, () => {
      const c = cluster(compile(dr('{name: reviews, namespace: shop}', spec)), m.cluster);
      assert.deepEqual(
        [c.lb.kind, c.connectionPool.maxConnections, c.connectionPool.maxRequests, c.policyOrigin?.levels],
        m.want,
      );
    });
  }

  const policies: { name: string; policy: string; pick: (c: Cluster) => unknown; want: unknown }[] = [
    { name: 'no rule: round robin', policy: '', pick: (c) => c.lb, want: { kind: 'ROUND_ROBIN' } },
    {
      name: 'LEAST_CONN is LEAST_REQUEST',
      policy: 'loadBalancer: {simple: LEAST_CONN}',
      pick: (c) => c.lb,
      want: { kind: 'LEAST_REQUEST' },
    },
    {
      name: 'UNSPECIFIED is round robin',
      policy: 'loadBalancer: {simple: UNSPECIFIED}',
      pick: (c) => c.lb,
      want: { kind: 'ROUND_ROBIN' },
    },
    {
      name: 'PASSTHROUGH drops the endpoints',
      policy: 'loadBalancer: {simple: PASSTHROUGH}',
      pick: (c) => [c.lb, c.endpoints],
      want: [{ kind: 'PASSTHROUGH' }, []],
    },
    {
      name: 'warmup',
      policy: 'loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 30s}}',
      pick: (c) => c.lb,
      want: { kind: 'ROUND_ROBIN', warmupMs: 30000 },
    },
    {
      name: 'ring hash on a header, default ring size',
      policy: 'loadBalancer: {consistentHash: {httpHeaderName: X-User}}',
      pick: (c) => c.lb,
      want: { kind: 'RING_HASH', hashOn: { header: 'x-user' }, minimumRingSize: 1024 },
    },
    {
      name: 'ring hash on a cookie with the legacy minimumRingSize',
      policy: 'loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 60s}, minimumRingSize: 2048}}',
      pick: (c) => c.lb,
      want: { kind: 'RING_HASH', hashOn: { cookie: { name: 's', ttlMs: 60000 } }, minimumRingSize: 2048 },
    },
    {
      name: 'maglev on the source IP',
      policy: 'loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 251}}}',
      pick: (c) => c.lb,
      want: { kind: 'MAGLEV', hashOn: { sourceIp: true }, tableSize: 251 },
    },
    {
      name: 'locality failover only with outlier detection',
      policy: 'loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-west}]}}',
      pick: (c) => c.lb,
      want: { kind: 'ROUND_ROBIN' },
    },
    {
      name: 'locality failover with outlier detection',
      policy:
        'loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-west}]}}\n    outlierDetection: {consecutive5xxErrors: 3}',
      pick: (c) => c.lb.locality,
      want: { failover: [{ from: 'us-east', to: 'us-west' }] },
    },
    {
      name: 'locality distribute without outlier detection',
      policy:
        'loadBalancer: {localityLbSetting: {distribute: [{from: "us-east/*", to: {"us-east/*": 80, "us-west/*": 20}}]}}',
      pick: (c) => c.lb.locality,
      want: { distribute: [{ from: 'us-east/*', to: { 'us-east/*': 80, 'us-west/*': 20 } }] },
    },
    {
      name: 'connection pool defaults (effectively unlimited)',
      policy: 'loadBalancer: {simple: RANDOM}',
      pick: (c) => [c.connectionPool, c.connectTimeoutMs],
      want: [
        {
          maxConnections: 4294967295,
          maxPendingRequests: 4294967295,
          maxRequests: 4294967295,
          maxRequestsPerConnection: 0,
          maxRetries: 4294967295,
        },
        10000,
      ],
    },
    {
      name: 'connection pool settings and connect timeout',
      policy:
        'connectionPool: {tcp: {maxConnections: 100, connectTimeout: 250ms}, http: {http1MaxPendingRequests: 5, http2MaxRequests: 50, maxRequestsPerConnection: 1, maxRetries: 2, idleTimeout: 30s}}',
      pick: (c) => [c.connectionPool, c.connectTimeoutMs],
      want: [
        {
          maxConnections: 100,
          maxPendingRequests: 5,
          maxRequests: 50,
          maxRequestsPerConnection: 1,
          maxRetries: 2,
          idleTimeoutMs: 30000,
        },
        250,
      ],
    },
    {
      name: "outlier detection with Envoy's defaults",
      policy: 'outlierDetection: {interval: 1s}',
      pick: (c) => c.outlierDetection,
      want: {
        consecutive5xxErrors: 5,
        consecutiveGatewayErrors: 0,
        consecutiveLocalOriginFailures: 5,
        splitExternalLocalOriginErrors: false,
        intervalMs: 1000,
        baseEjectionTimeMs: 30000,
        maxEjectionPercent: 10,
        minHealthPercent: 0,
      },
    },
    {
      name: 'outlier detection as configured',
      policy:
        'outlierDetection: {consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3, baseEjectionTime: 1m, maxEjectionPercent: 50, minHealthPercent: 20}',
      pick: (c) => c.outlierDetection,
      want: {
        consecutive5xxErrors: 0,
        consecutiveGatewayErrors: 2,
        consecutiveLocalOriginFailures: 3,
        splitExternalLocalOriginErrors: true,
        intervalMs: 10000,
        baseEjectionTimeMs: 60000,
        maxEjectionPercent: 50,
        minHealthPercent: 20,
      },
    },
    {
      name: 'tls ISTIO_MUTUAL',
      policy: 'tls: {mode: ISTIO_MUTUAL}',
      pick: (c) => c.tlsMode,
      want: 'ISTIO_MUTUAL',
    },
    { name: 'tls DISABLE', policy: 'tls: {mode: DISABLE}', pick: (c) => c.tlsMode, want: 'DISABLE' },
    {
      name: 'tls SIMPLE, recorded (not plaintext) with the DestinationRule that asked for it',
      policy: 'tls: {mode: SIMPLE}',
      pick: (c) => [c.tlsMode, c.policyOrigin?.destinationRule],
      want: ['SIMPLE', 'shop/reviews'],
    },
    {
      name: 'tls MUTUAL, recorded (not plaintext)',
      policy: 'tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}',
      pick: (c) => c.tlsMode,
      want: 'MUTUAL',
    },
  ];
  for (const p of policies) {
    it(`traffic policy: ${p.name}`, () => {
      const rule =
        p.policy === ''
          ? ''
          : dr('{name: reviews, namespace: shop}', `  host: reviews\n  trafficPolicy:\n    ${p.policy}`);
      assert.deepEqual(p.pick(cluster(compile(rule), ALL)), p.want);
    });
  }
});

describe('compile: ServiceEntry clusters', () => {
  const se = (name: string, spec: string) => `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: shop}
spec:
${spec}
`;
  const cases: { name: string; yaml: string; cluster: string; want: unknown }[] = [
    {
      name: 'STATIC endpoints, with their own ports, labels, locality and weight',
      yaml: se(
        'vm',
        `  hosts: [db.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 3306, name: tcp-mysql, protocol: TCP, targetPort: 13306}]
  endpoints:
  - {address: 10.0.0.1, labels: {version: v1}, locality: eu/west, weight: 2, serviceAccount: db}
  - {address: 10.0.0.2, ports: {tcp-mysql: 23306}}`,
      ),
      cluster: 'outbound|3306||db.internal',
      want: {
        tlsMode: 'ISTIO_MUTUAL',
        endpoints: [
          ['10.0.0.1', 13306, 'spiffe://cluster.local/ns/shop/sa/db', 'eu/west', 2],
          ['10.0.0.2', 23306, 'spiffe://cluster.local/ns/shop/sa/default', '', 1],
        ],
      },
    },
    {
      name: 'STATIC through a workloadSelector over WorkloadEntries',
      yaml: se(
        'sel',
        `  hosts: [reviews.vm]
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: reviews}}`,
      ),
      cluster: 'outbound|9080||reviews.vm',
      want: {
        tlsMode: 'ISTIO_MUTUAL',
        endpoints: [
          ['127.0.2.1', 9080, 'spiffe://cluster.local/ns/shop/sa/reviews', 'us-east/zone-a', 1],
          ['127.0.2.2', 9080, 'spiffe://cluster.local/ns/shop/sa/reviews', '', 3],
        ],
      },
    },
    {
      name: 'DNS without endpoints: the host itself, plaintext outside the mesh',
      yaml: se(
        'ext',
        `  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: https, protocol: HTTPS}]`,
      ),
      cluster: 'outbound|443||api.example.com',
      want: { tlsMode: 'DISABLE', endpoints: [['api.example.com', 443, '', '', 1]] },
    },
    {
      name: 'DNS inside the mesh without endpoints: plaintext, since no proxy is known there',
      yaml: se(
        'internal',
        `  hosts: [legacy.internal]
  location: MESH_INTERNAL
  resolution: DNS
  ports: [{number: 8080, name: http, protocol: HTTP}]`,
      ),
      cluster: 'outbound|8080||legacy.internal',
      want: { tlsMode: 'DISABLE', endpoints: [['legacy.internal', 8080, '', '', 1]] },
    },
    {
      name: 'DNS with endpoints: one per address',
      yaml: se(
        'ext',
        `  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: a.example.net}, {address: b.example.net, ports: {http: 8080}}]`,
      ),
      cluster: 'outbound|80||api.example.com',
      want: {
        tlsMode: 'DISABLE',
        endpoints: [
          ['a.example.net', 80, '', '', 1],
          ['b.example.net', 8080, '', '', 1],
        ],
      },
    },
    {
      name: 'NONE: passthrough, no endpoints',
      yaml: se(
        'any',
        `  hosts: ["*.example.org"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]`,
      ),
      cluster: 'outbound|443||*.example.org',
      want: { tlsMode: 'DISABLE', endpoints: [], lb: 'PASSTHROUGH' },
    },
  ];
  for (const c of cases) {
    it(`service entry: ${c.name}`, () => {
      const got = cluster(compile(c.yaml), c.cluster);
      const view: Record<string, unknown> = {
        tlsMode: got.tlsMode,
        endpoints: got.endpoints.map((e) => [e.address, e.port, e.spiffeId, e.locality, e.weight]),
      };
      if (got.lb.kind === 'PASSTHROUGH') view.lb = got.lb.kind;
      assert.deepEqual(view, c.want);
    });
  }

  it('service entry: one exported only to its own namespace is not seen from another', () => {
    const yaml = se(
      'private',
      `  hosts: [private.example.com]
  exportTo: ["."]
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]`,
    );
    const names = (ns: string, name: string) =>
      compile(yaml, { namespace: ns, name }).clusters.map((c) => c.name);
    assert.ok(names('shop', 'client').includes('outbound|80||private.example.com'), 'want it seen from shop');
    assert.ok(
      !names('books', 'details-v1').includes('outbound|80||private.example.com'),
      'want it hidden from books',
    );
  });
});
