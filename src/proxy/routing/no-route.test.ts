import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EgressScope, Snapshot } from '../../wire/index.ts';
import { noRoute } from './no-route.ts';
import { snapshotOf, vhost } from './routing.test-kit.ts';

/** A snapshot whose `outbound` table is empty and scoped by `scope`, when given. */
function snapshotWith(scope: EgressScope | undefined): Snapshot {
  return snapshotOf([
    { name: 'outbound', virtualHosts: [], ...(scope === undefined ? {} : { egressScope: scope }) },
  ]);
}

const SCOPE = { sidecar: 'shop/default', hosts: ['./*', 'istio-system/*'], moreHosts: 0 };

describe('no route', () => {
  const cases: { name: string; authority: string; scope: EgressScope | undefined; want: string }[] = [
    {
      name: 'without a Sidecar scope: the host is not in the registry',
      authority: 'example.com',
      scope: undefined,
      want: 'no route to example.com: it is not in the mesh registry and outboundTrafficPolicy is REGISTRY_ONLY; declare it with a ServiceEntry',
    },
    {
      name: 'a scope too large to list what it hides: the Sidecar, in words true either way',
      authority: 'ratings.shop:9080',
      scope: SCOPE,
      want: `no route to ratings.shop:9080: Sidecar shop/default limits this workload's egress to ["./*", "istio-system/*"]; add the host to its egress hosts, or declare it with a ServiceEntry if it is outside the mesh`,
    },
    {
      name: 'a mesh service the scope hides (any case)',
      authority: 'Ratings.Other:9080',
      scope: { ...SCOPE, hiddenDomains: ['ratings.other.svc.cluster.local:9080', 'ratings.other:9080'] },
      want: `no route to Ratings.Other:9080: Ratings.Other is a mesh service hidden by Sidecar shop/default, which limits this workload's egress to ["./*", "istio-system/*"]; add the host to its egress hosts`,
    },
    {
      name: 'a host the scope does not hide: outside the mesh, and the Sidecar must include it too',
      authority: 'api.example.com',
      scope: { ...SCOPE, hosts: ['./*'], moreHosts: 3, hiddenDomains: [] },
      want: 'no route to api.example.com: it is not in the mesh registry and outboundTrafficPolicy is REGISTRY_ONLY; declare it with a ServiceEntry, and include it in the egress hosts of Sidecar shop/default (["./*", and 3 more])',
    },
  ];
  for (const c of cases) {
    it(`no route: ${c.name}`, () => {
      const got = noRoute(c.authority, snapshotWith(c.scope), 'outbound');
      assert.deepEqual(
        { status: got.status, flag: got.flag, message: got.message },
        { status: 502, flag: 'NR', message: c.want },
        'want 502 NR with this reason',
      );
    });
  }

  it('no route: on an egress port, the port and (at most 8 of) its hosts, not a ServiceEntry', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const snapshot = snapshotOf([
      {
        name: 'egress|9091',
        virtualHosts: names.map((n) => ({ ...vhost([]), name: `${n}.shop.svc.cluster.local:9091` })),
        egressScope: { ...SCOPE, hosts: ['./*'], hiddenDomains: ['hidden.shop:9091'] },
      },
    ]);
    snapshot.listeners.push({
      kind: 'outbound-port',
      name: 'egress|9091',
      address: '127.0.0.1',
      port: 9091,
      traffic: 'http',
      routeTable: 'egress|9091',
    });
    const got = noRoute('127.0.0.1:9091', snapshot, 'egress|9091');
    const hosts = names.slice(0, 8).map((n) => `"${n}.shop:9091"`);
    assert.deepEqual(
      { status: got.status, flag: got.flag, message: got.message },
      {
        status: 502,
        flag: 'NR',
        message: `no route to 127.0.0.1:9091 on egress|9091 (127.0.0.1:9091): it serves [${hosts.join(', ')}, and 2 more] and routes by the Host header (the :authority of HTTP/2 and gRPC); send one of these hosts, or give the port a single service in Sidecar shop/default (a port with one service takes every request)`,
      },
      'want 502 NR naming the port and its hosts',
    );
    const hidden = noRoute('hidden.shop:9091', snapshot, 'egress|9091');
    assert.match(
      hidden.message,
      /hidden by Sidecar shop\/default/,
      'want a hidden mesh service to name the Sidecar',
    );
  });
});
