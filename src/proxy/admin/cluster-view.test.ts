// The endpoint and cluster views: the registry's declared health kept apart from what the proxy
// observed (healthy, failing, ejected with why and until when), and a cluster's TLS mode in words.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster, Endpoint, OutlierDetection } from '../../wire/index.ts';
import { buildClusterRuntime, stopSweep } from '../upstream/index.ts';
import { endpointViews, policyWords } from './cluster-view.ts';

const self = {
  namespace: 'default',
  workload: 'client',
  serviceAccount: 'client',
  spiffeId: '',
  address: '10.0.0.1',
  labels: {},
  locality: '',
};

function endpoint(address: string): Endpoint {
  return { address, port: 9080, spiffeId: '', labels: {}, workload: `w-${address}`, locality: '', weight: 1 };
}

function cluster(
  o: {
    tlsMode?: Cluster['tlsMode'];
    originate?: Cluster['originate'];
    outlier?: Partial<OutlierDetection>;
  } = {},
): Cluster {
  return {
    name: 'outbound|9080||reviews.default.svc.cluster.local',
    service: 'reviews.default.svc.cluster.local',
    port: 9080,
    protocol: 'HTTP',
    traffic: 'http',
    lb: { kind: 'ROUND_ROBIN' },
    connectTimeoutMs: 1000,
    tlsMode: o.tlsMode ?? 'ISTIO_MUTUAL',
    ...(o.originate === undefined ? {} : { originate: o.originate }),
    connectionPool: {
      maxConnections: 4294967295,
      maxPendingRequests: 4294967295,
      maxRequests: 4294967295,
      maxRequestsPerConnection: 0,
      maxRetries: 4294967295,
    },
    ...(o.outlier === undefined
      ? {}
      : {
          outlierDetection: {
            consecutive5xxErrors: 2,
            consecutiveGatewayErrors: 0,
            consecutiveLocalOriginFailures: 5,
            splitExternalLocalOriginErrors: false,
            intervalMs: 10_000,
            baseEjectionTimeMs: 30_000,
            maxEjectionPercent: 100,
            minHealthPercent: 0,
            ...o.outlier,
          },
        }),
    policyOrigin: { destinationRule: 'default/reviews', levels: ['trafficPolicy'] },
    endpoints: ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map(endpoint),
  };
}

test('endpoint views: declared health stays HEALTHY; observed says healthy, failing or ejected and why', () => {
  const rt = buildClusterRuntime(cluster({ outlier: {} }), self, undefined);
  try {
    const [fine, failing, ejected] = rt.cluster.endpoints as [Endpoint, Endpoint, Endpoint];
    rt.observed.report(fine, { kind: 'success' });
    rt.observed.report(failing, { kind: 'failure', reason: 'connect failure: connection refused' });
    for (let i = 0; i < 2; i++) {
      rt.outlier.report(ejected, { kind: 'response', status: 503 });
      rt.observed.report(ejected, { kind: 'failure', reason: '503 response' });
    }
    const views = endpointViews(rt);
    assert.deepEqual(
      views.map((v) => [
        v.endpoint,
        v.status,
        v.outlierCheck,
        v.observed.state,
        v.observed.consecutiveFailures,
      ]),
      [
        ['10.0.0.2:9080', 'HEALTHY', 'OK', 'HEALTHY', 0],
        ['10.0.0.3:9080', 'HEALTHY', 'OK', 'FAILING', 1],
        ['10.0.0.4:9080', 'HEALTHY', 'FAILED', 'EJECTED', 2],
      ],
    );
    assert.equal(views[0]?.observed.summary, 'HEALTHY');
    assert.match(
      views[1]?.observed.summary ?? '',
      /^FAILING: the last try failed; last failure at \S+Z: connect failure: connection refused$/,
    );
    const until = views[2]?.ejection?.until ?? '';
    assert.equal(
      views[2]?.ejection?.reason,
      'outlier detection: 2 consecutive 5xx responses or connect failures',
    );
    assert.equal(
      views[2]?.observed.summary,
      `EJECTED until ${until} (outlier detection: 2 consecutive 5xx responses or connect failures); last failure at ${views[2]?.observed.lastFailure?.at}: 503 response`,
    );
  } finally {
    stopSweep(rt);
  }
});

test('endpoint views: ejection reasons follow the detector that ejected', () => {
  const cases: { name: string; outlier: Partial<OutlierDetection>; want: string }[] = [
    {
      name: 'gateway errors',
      outlier: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 },
      want: 'outlier detection: 2 consecutive gateway errors (502, 503, 504, connect failures)',
    },
    {
      name: '5xx, local-origin errors split',
      outlier: { consecutive5xxErrors: 2, splitExternalLocalOriginErrors: true },
      want: 'outlier detection: 2 consecutive 5xx responses',
    },
  ];
  for (const c of cases) {
    const rt = buildClusterRuntime(cluster({ outlier: c.outlier }), self, undefined);
    try {
      const target = rt.cluster.endpoints[0] as Endpoint;
      for (let i = 0; i < 2; i++) rt.outlier.report(target, { kind: 'response', status: 503 });
      assert.equal(endpointViews(rt)[0]?.ejection?.reason, c.want, c.name);
    } finally {
      stopSweep(rt);
    }
  }
});

test('cluster policy words: the TLS mode as configured, never SIMPLE or MUTUAL shown as plaintext', () => {
  const cases: { mode: Cluster['tlsMode']; originate?: Cluster['originate']; want: string }[] = [
    { mode: 'ISTIO_MUTUAL', want: 'mTLS ISTIO_MUTUAL' },
    { mode: 'DISABLE', want: 'plaintext (tls DISABLE)' },
    {
      mode: 'SIMPLE',
      originate: { sni: 'api.example.com', caFile: '/ca.pem' },
      want: 'TLS origination SIMPLE (SNI api.example.com, server checked against /ca.pem for api.example.com)',
    },
    {
      mode: 'MUTUAL',
      originate: { sni: 'api.example.com', certFile: '/c.pem', keyFile: '/k.pem', insecureSkipVerify: true },
      want: 'TLS origination MUTUAL (SNI api.example.com, server NOT verified (insecureSkipVerify), client certificate /c.pem)',
    },
    {
      mode: 'SIMPLE',
      originate: {
        sni: 'api.example.com',
        unsupported: 'caCrl (a certificate revocation list) is not supported yet',
      },
      want: 'TLS origination SIMPLE (impossible: caCrl (a certificate revocation list) is not supported yet; every request is refused, 503 UF)',
    },
  ];
  for (const c of cases) {
    assert.equal(
      policyWords(
        cluster({ tlsMode: c.mode, ...(c.originate === undefined ? {} : { originate: c.originate }) }),
      ),
      `DestinationRule default/reviews (trafficPolicy): ROUND_ROBIN, ${c.want}`,
      `tls.mode ${c.mode}`,
    );
  }
});
