import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSnapshot, encodeSnapshot } from './codec.ts';
import type { Snapshot } from './snapshot.ts';

const good: Snapshot = {
  wireVersion: 1,
  version: 'abc',
  proxy: {
    namespace: 'shop',
    workload: 'client',
    serviceAccount: 'client',
    spiffeId: 'spiffe://cluster.local/ns/shop/sa/client',
    address: '127.0.2.9',
    labels: {},
  },
  mesh: {
    trustDomain: 'cluster.local',
    outboundTrafficPolicy: 'REGISTRY_ONLY',
    protocolDetection: { enabled: false, timeoutMs: 100 },
    connectTimeoutMs: 10_000,
    accessLog: { enabled: true, encoding: 'JSON' },
  },
  listeners: [
    {
      kind: 'outbound-proxy',
      name: 'outbound-proxy',
      address: '127.0.0.1',
      port: 15001,
      routeTable: 'outbound',
    },
  ],
  clusters: [
    {
      name: 'outbound|9080||reviews.shop.svc.cluster.local',
      service: 'reviews.shop.svc.cluster.local',
      port: 9080,
      protocol: 'HTTP',
      traffic: 'http',
      lb: 'ROUND_ROBIN',
      connectTimeoutMs: 1000,
      tlsMode: 'ISTIO_MUTUAL',
      endpoints: [
        {
          address: '127.0.2.1',
          port: 9080,
          spiffeId: 'spiffe://cluster.local/ns/shop/sa/reviews',
          labels: {},
          workload: 'r1',
        },
      ],
    },
  ],
  routeTables: [
    {
      name: 'outbound',
      virtualHosts: [
        {
          name: 'reviews',
          domains: ['reviews:9080'],
          traffic: 'http',
          routes: [
            {
              name: 'default',
              match: { prefix: '/' },
              cluster: 'outbound|9080||reviews.shop.svc.cluster.local',
              timeoutMs: undefined,
            },
          ],
        },
      ],
    },
  ],
  tls: undefined,
};

describe('snapshot codec', () => {
  it('codec: round-trips a snapshot', () => {
    const back = decodeSnapshot(encodeSnapshot(good));
    assert.equal(back.version, 'abc');
    assert.deepEqual(back.clusters, good.clusters);
  });

  const bad: { name: string; mutate: (s: Record<string, unknown>) => void; want: RegExp }[] = [
    {
      name: 'a newer wire version',
      mutate: (s) => {
        s.wireVersion = 2;
      },
      want: /wireVersion: must be between 1 and 1, got 2/,
    },
    {
      name: 'a listener without a port',
      mutate: (s) => void delete (s.listeners as Record<string, unknown>[])[0]?.port,
      want: /listeners\[0\]\.port: is required/,
    },
    {
      name: 'a route naming a missing cluster',
      mutate: (s) => {
        s.clusters = [];
      },
      want: /routeTables\[0\]\.virtualHosts\[0\]\.routes\[0\]\.cluster: names cluster "outbound\|9080\|\|reviews\.shop\.svc\.cluster\.local", which the snapshot lacks/,
    },
    {
      name: 'an unknown TLS mode',
      mutate: (s) => {
        const cluster = (s.clusters as Record<string, unknown>[])[0] as Record<string, unknown>;
        cluster.tlsMode = 'SOMETIMES';
      },
      want: /clusters\[0\]\.tlsMode: must be one of/,
    },
  ];
  for (const b of bad) {
    it(`codec: refuses a snapshot with ${b.name}, naming the field`, () => {
      const copy = JSON.parse(encodeSnapshot(good)) as Record<string, unknown>;
      b.mutate(copy);
      assert.throws(
        () => decodeSnapshot(JSON.stringify(copy)),
        (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ALDER_SNAPSHOT_INVALID');
          assert.match(err.message, b.want);
          return true;
        },
      );
    });
  }
});
