// Table tests of how a failed connection is worded by the hop that made it: inbound, the app of a
// named workload and service; outbound, the cluster and the endpoint with its workload.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster, Endpoint, InboundListener, ProxyIdentity } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import { type ClusterRuntime, ConnectError, type ConnectFailure } from '../upstream/index.ts';
import { appConnectError, peerConnectError } from './connect-words.ts';

const proxy = { workload: 'reviews-v1', namespace: 'default' } as ProxyIdentity;

function listener(services: string[]): InboundListener {
  return {
    kind: 'inbound',
    name: 'inbound|9080',
    address: '10.0.0.5',
    port: 9080,
    protocol: 'HTTP',
    traffic: 'http',
    mtlsMode: 'STRICT',
    app: { address: '127.0.0.1', port: 8080 },
    services,
  };
}

const refused: ConnectFailure = { target: '127.0.0.1:8080', kind: 'refused', reason: 'connection refused' };
const REVIEWS = 'reviews.default.svc.cluster.local';

const appCases: { name: string; failure: ConnectFailure; services: string[]; want: string }[] = [
  {
    name: 'refused: the app is not running or not listening',
    failure: refused,
    services: [REVIEWS],
    want: `upstream connect error: app of workload reviews-v1 (ns default) for ${REVIEWS}:9080 refused the connection at 127.0.0.1:8080 — is it running and listening there?`,
  },
  {
    name: 'a port serving two services names both',
    failure: refused,
    services: [REVIEWS, 'reviews-canary.default.svc.cluster.local'],
    want: `upstream connect error: app of workload reviews-v1 (ns default) for ${REVIEWS}:9080, reviews-canary.default.svc.cluster.local:9080 refused the connection at 127.0.0.1:8080 — is it running and listening there?`,
  },
  {
    name: 'timeout',
    failure: { target: '127.0.0.1:8080', kind: 'timeout', reason: 'connect timeout after 10000ms' },
    services: [REVIEWS],
    want: `upstream connect error: app of workload reviews-v1 (ns default) for ${REVIEWS}:9080 at 127.0.0.1:8080: connect timeout after 10000ms — is it running, and accepting connections?`,
  },
  {
    name: 'a reset keeps its reason',
    failure: { target: '127.0.0.1:8080', kind: 'reset', reason: 'connection reset during connect' },
    services: [],
    want: 'upstream connect error: app of workload reviews-v1 (ns default) for port 9080 at 127.0.0.1:8080: connection reset during connect',
  },
];

for (const c of appCases) {
  test(`app connect error: ${c.name}`, () => {
    const got = appConnectError(new ConnectError(c.failure), listener(c.services), proxy);
    assert.ok(got instanceof ProxyError, 'want a ProxyError');
    assert.equal(got.message, c.want);
    assert.equal(got.flag, 'UF', 'want the flag kept');
  });
}

test('app connect error: anything but a connect failure passes through', () => {
  const overflow = new ProxyError(Reply.Overflow, 'upstream overflow');
  assert.equal(appConnectError(overflow, listener([REVIEWS]), proxy), overflow);
});

function clusterRuntime(tlsMode: Cluster['tlsMode']): ClusterRuntime {
  return { cluster: { name: `outbound|9080||${REVIEWS}`, tlsMode } } as ClusterRuntime;
}
const endpoint = (workload: string) => ({ address: '10.0.0.5', port: 9080, workload }) as Endpoint;

const peerCases: {
  name: string;
  failure: ConnectFailure;
  tlsMode: Cluster['tlsMode'];
  workload: string;
  want: string;
}[] = [
  {
    name: "refused at the peer's tunnel port: is its proxy running?",
    failure: {
      target: '10.0.0.5:9080',
      via: 'tunnel port 15008',
      kind: 'refused',
      reason: 'connection refused',
    },
    tlsMode: 'ISTIO_MUTUAL',
    workload: 'reviews-v1',
    want: `upstream connect error for reviews:9080: cluster outbound|9080||${REVIEWS}: endpoint 10.0.0.5:9080 (workload reviews-v1, tunnel port 15008): connection refused — is the proxy of workload reviews-v1 running?`,
  },
  {
    name: 'refused by a plaintext endpoint outside the mesh',
    failure: { target: '10.0.0.5:9080', kind: 'refused', reason: 'connection refused' },
    tlsMode: 'DISABLE',
    workload: '',
    want: `upstream connect error for reviews:9080: cluster outbound|9080||${REVIEWS}: endpoint 10.0.0.5:9080: connection refused — is it running and listening there?`,
  },
  {
    name: 'a TLS failure keeps its reason, with no guess',
    failure: { target: '10.0.0.5:9080', kind: 'tls', reason: 'TLS: peer is spiffe://x, want spiffe://y' },
    tlsMode: 'ISTIO_MUTUAL',
    workload: 'reviews-v1',
    want: `upstream connect error for reviews:9080: cluster outbound|9080||${REVIEWS}: endpoint 10.0.0.5:9080 (workload reviews-v1): TLS: peer is spiffe://x, want spiffe://y`,
  },
];

for (const c of peerCases) {
  test(`peer connect error: ${c.name}`, () => {
    const got = peerConnectError(new ConnectError(c.failure), {
      hostName: 'reviews:9080',
      cluster: clusterRuntime(c.tlsMode),
      endpoint: endpoint(c.workload),
    });
    assert.ok(got instanceof ProxyError, 'want a ProxyError');
    assert.equal(got.message, c.want);
    assert.equal(got.flag, 'UF');
  });
}

test('peer connect error: another ProxyError gets the host as a prefix; other errors pass through', () => {
  const o = { hostName: 'reviews:9080', cluster: clusterRuntime('ISTIO_MUTUAL'), endpoint: endpoint('r') };
  const got = peerConnectError(new ProxyError(Reply.Overflow, 'upstream overflow: 10 connections'), o);
  assert.ok(got instanceof ProxyError);
  assert.equal(got.message, 'upstream connect error for reviews:9080: upstream overflow: 10 connections');
  assert.equal(got.flag, 'UO');
  const plain = new Error('x');
  assert.equal(peerConnectError(plain, o), plain);
});
