import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MeshSettings, type ProxyIdentity, type Snapshot, WIRE_VERSION } from '../../wire/index.ts';
import { cluster, endpoints } from '../balance/test-support.ts';
import { buildRuntime, retireRuntime } from './runtime.ts';

const PROXY: ProxyIdentity = {
  namespace: 'default',
  workload: 'client',
  serviceAccount: 'client',
  spiffeId: 'spiffe://cluster.local/ns/default/sa/client',
  address: '127.0.2.9',
  labels: { app: 'client' },
  locality: 'eu/a',
};
const MESH: MeshSettings = {
  trustDomain: 'cluster.local',
  outboundTrafficPolicy: 'REGISTRY_ONLY',
  protocolDetection: { enabled: false, timeoutMs: 100 },
  connectTimeoutMs: 10_000,
  accessLog: { enabled: false, encoding: 'JSON' },
  http: {
    headersWithUnderscoresAction: 'ALLOW',
    extensionMethods: [],
    maxMethodBytes: 32,
    numTrustedProxies: 0,
  },
  pathNormalization: 'BASE',
};

function snapshot(version: string, clusters: Snapshot['clusters'], proxy = PROXY): Snapshot {
  return {
    wireVersion: WIRE_VERSION,
    version,
    proxy,
    mesh: MESH,
    listeners: [],
    clusters,
    routeTables: [],
    tls: undefined,
  };
}

describe('runtime', () => {
  const reviews = cluster({ kind: 'ROUND_ROBIN' }, endpoints(3));
  const ratings = { ...cluster({ kind: 'ROUND_ROBIN' }, endpoints(2)), name: 'outbound|9080||ratings' };

  it('runtime: a cluster handed over as the same object keeps its runtime; a changed one gets a new one', () => {
    const first = buildRuntime(snapshot('1', [reviews, ratings]));
    const moved = { ...ratings, endpoints: endpoints(4) };
    const second = buildRuntime(snapshot('2', [reviews, moved]), first);
    retireRuntime(first, second);
    assert.equal(
      second.clusters.get(reviews.name),
      first.clusters.get(reviews.name),
      'want reviews kept whole',
    );
    const had = first.clusters.get(ratings.name);
    const now = second.clusters.get(ratings.name);
    assert.notEqual(now, had, 'want a new runtime for ratings, whose endpoints changed');
    assert.equal(now?.outlier, had?.outlier, 'want its outlier state carried over');
  });

  it("runtime: every cluster is planned again when the proxy's labels or locality change", () => {
    const first = buildRuntime(snapshot('1', [reviews]));
    for (const proxy of [
      { ...PROXY, locality: 'eu/b' },
      { ...PROXY, labels: { app: 'client', version: 'v2' } },
    ]) {
      const next = buildRuntime(snapshot('2', [reviews], proxy), first);
      assert.notEqual(
        next.clusters.get(reviews.name),
        first.clusters.get(reviews.name),
        `want a new runtime for ${JSON.stringify(proxy.labels)} ${proxy.locality}`,
      );
    }
  });

  it("runtime: peer connections leave from the workload's loopback address, decided once; pools follow it", () => {
    const first = buildRuntime(snapshot('1', [reviews]));
    assert.equal(first.tunnels.sourceAddress, '127.0.2.9', "want the workload's own loopback address");
    const same = buildRuntime(snapshot('2', [ratings]), first);
    assert.equal(same.pools, first.pools, 'want the pools kept while the address stays');
    assert.equal(same.tunnels, first.tunnels, 'want the tunnels kept while the address stays');
    const moved = buildRuntime(snapshot('3', [ratings], { ...PROXY, address: '127.0.2.10' }), same);
    assert.notEqual(moved.pools, same.pools, 'want new pools for a new source address');
    assert.equal(moved.tunnels.sourceAddress, '127.0.2.10', 'want the new address as the source');
    const host = buildRuntime(snapshot('4', [ratings], { ...PROXY, address: '10.0.0.5' }), moved);
    assert.equal(host.tunnels.sourceAddress, undefined, "want the kernel's choice on a host address");
  });

  it('runtime: MeshConfig pathNormalization becomes the normalizer, built once per snapshot', () => {
    const base = buildRuntime(snapshot('1', []));
    assert.equal(base.normalizePath('/public/../admin'), '/admin', 'want BASE to remove dot segments');
    const none = buildRuntime({ ...snapshot('2', []), mesh: { ...MESH, pathNormalization: 'NONE' } }, base);
    assert.equal(none.normalizePath('/public/../admin'), '/public/../admin', 'want NONE to leave the path');
  });
});
