import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cluster, Endpoint } from './clusters.ts';
import { fromEndpointRows, toEndpointRows } from './endpoint-rows.ts';
import {
  applyDelta,
  assembleSnapshot,
  diffResources,
  knownVersions,
  type ResourceSet,
  resourcesOf,
} from './resources.ts';
import type { RouteTable, VirtualHost } from './routes.ts';
import type { Listener, MeshSettings, ProxyIdentity } from './snapshot.ts';

const PROXY: ProxyIdentity = {
  namespace: 'shop',
  workload: 'client',
  serviceAccount: 'client',
  spiffeId: 'spiffe://cluster.local/ns/shop/sa/client',
  address: '127.0.2.9',
  labels: { app: 'client' },
  locality: '',
};
const MESH: MeshSettings = {
  trustDomain: 'cluster.local',
  outboundTrafficPolicy: 'REGISTRY_ONLY',
  protocolDetection: { enabled: false, timeoutMs: 100 },
  connectTimeoutMs: 10_000,
  accessLog: { enabled: true, encoding: 'JSON' },
  http: {
    headersWithUnderscoresAction: 'ALLOW',
    extensionMethods: [],
    maxMethodBytes: 32,
    numTrustedProxies: 0,
  },
  pathNormalization: 'BASE',
};
const POOL = {
  maxConnections: 100,
  maxPendingRequests: 100,
  maxRequests: 100,
  maxRequestsPerConnection: 0,
  maxRetries: 3,
};

function endpoint(n: number, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address: `10.0.0.${n}`,
    port: 9080,
    spiffeId: 'spiffe://cluster.local/ns/shop/sa/reviews',
    labels: { app: 'reviews', version: 'v1' },
    workload: `reviews-${n}`,
    locality: '',
    weight: 1,
    tunnelPort: 15008,
    ...extra,
  };
}

function cluster(name: string, endpoints: Endpoint[]): Cluster {
  return {
    name,
    service: 'reviews.shop.svc.cluster.local',
    port: 9080,
    protocol: 'HTTP',
    traffic: 'http',
    lb: { kind: 'ROUND_ROBIN' },
    connectTimeoutMs: 1000,
    tlsMode: 'ISTIO_MUTUAL',
    connectionPool: POOL,
    endpoints,
  };
}

function virtualHost(host: string, header: string): VirtualHost {
  const cluster = `outbound|9080||${host}`;
  return {
    name: `${host}:9080`,
    domains: [`${host}:9080`],
    traffic: 'http',
    routes: [
      {
        name: 'http[0]',
        origin: { kind: 'VirtualService', virtualServices: ['shop/x'], paths: ['http[0]'] },
        matches: [],
        action: { kind: 'forward', destinations: [{ cluster, weight: 100, host }] },
        headers: { response: { set: [['x-tag', header]] } },
      },
    ],
    tcpRoutes: [],
  };
}

const HOSTS = ['reviews', 'ratings', 'details'].map((h) => `${h}.shop.svc.cluster.local`);
const ALL = `outbound|9080||${HOSTS[0]}`;

function parts(opts: { header?: string; endpoints?: Endpoint[] } = {}) {
  const outbound: RouteTable = {
    name: 'outbound',
    virtualHosts: HOSTS.map((h, i) => virtualHost(h, i === 0 ? (opts.header ?? 'a') : 'b')),
  };
  const egress: RouteTable = {
    name: 'egress|9080',
    virtualHosts: outbound.virtualHosts.slice(1),
    egressScope: { sidecar: 'shop/default', hosts: ['./*'], moreHosts: 0 },
  };
  const listeners: Listener[] = [
    {
      kind: 'outbound-proxy',
      name: 'outbound-proxy',
      address: '127.0.0.1',
      port: 15001,
      routeTable: 'outbound',
    },
  ];
  return {
    proxy: PROXY,
    mesh: MESH,
    listeners,
    clusters: [
      cluster(ALL, opts.endpoints ?? [endpoint(1), endpoint(2)]),
      ...HOSTS.slice(1).map((h) => cluster(`outbound|9080||${h}`, [endpoint(9)])),
      cluster('outbound|9080|v2|reviews.shop.svc.cluster.local', []),
    ],
    routeTables: [outbound, egress],
  };
}

const sizeOf = (set: ResourceSet, from: ResourceSet) =>
  JSON.stringify(diffResources(knownVersions(from), set)).length;

describe('wire resources', () => {
  it('resources: an egress port of a workload with an app address of its own binds that address, not 127.0.0.1', () => {
    const p = parts();
    const egress: Listener = {
      kind: 'outbound-port',
      name: 'egress|6379',
      address: '127.0.0.1',
      port: 6379,
      traffic: 'tcp',
      routeTable: 'egress|9080',
    };
    const bound = { ...egress, name: 'egress|7000', port: 7000, address: '127.0.9.9' };
    const own = {
      ...p,
      proxy: { ...PROXY, appAddress: '127.100.0.5' },
      listeners: [...p.listeners, egress, bound],
    };
    const listeners = assembleSnapshot(resourcesOf(own), undefined).listeners;
    assert.equal(
      listeners.find((l) => l.name === 'egress|6379')?.address,
      '127.100.0.5',
      'want the app address',
    );
    assert.equal(listeners.find((l) => l.name === 'egress|7000')?.address, '127.0.9.9', 'want a bind kept');
    assert.equal(
      listeners.find((l) => l.name === 'outbound-proxy')?.address,
      '127.0.0.1',
      'want HTTP_PROXY kept',
    );
    const plain = assembleSnapshot(
      resourcesOf({ ...p, listeners: [...p.listeners, egress] }),
      undefined,
    ).listeners;
    assert.equal(
      plain.find((l) => l.name === 'egress|6379')?.address,
      '127.0.0.1',
      'want 127.0.0.1 without one',
    );
  });

  it('resources: assemble back into the same snapshot, order and key order kept', () => {
    const p = parts();
    const snap = assembleSnapshot(resourcesOf(p), undefined);
    assert.equal(JSON.stringify(snap.routeTables), JSON.stringify(p.routeTables));
    assert.equal(JSON.stringify(snap.clusters), JSON.stringify(p.clusters));
    assert.deepEqual(snap.listeners, p.listeners);
  });

  it('resources: a route table names one vhost resource per virtual host, in order', () => {
    const set = resourcesOf(parts());
    assert.deepEqual(
      set.route.get('outbound')?.body.virtualHosts,
      HOSTS.map((h) => `outbound/${h}:9080`),
    );
    assert.equal(set.vhost.size, HOSTS.length + HOSTS.length - 1, 'want each table its own virtual hosts');
  });

  it('resources: a route edit moves only the virtual host it changed', () => {
    const before = resourcesOf(parts());
    const after = resourcesOf(parts({ header: 'edited' }));
    const delta = diffResources(knownVersions(before), after);
    assert.deepEqual(
      Object.keys(delta),
      ['vhost'],
      `want only vhost in the delta, got ${Object.keys(delta)}`,
    );
    assert.deepEqual(
      delta.vhost?.upsert.map((r) => r.name),
      [`outbound/${HOSTS[0]}:9080`],
    );
    const held = applyDelta(before, delta);
    assert.deepEqual(assembleSnapshot(held, undefined).routeTables, parts({ header: 'edited' }).routeTables);
  });

  it('resources: an endpoint added moves only its cluster endpoints, each further one a short row', () => {
    const before = resourcesOf(parts());
    const withEndpoints = (n: number) =>
      resourcesOf(parts({ endpoints: Array.from({ length: n }, (_, i) => endpoint(i + 1)) }));
    const delta = diffResources(knownVersions(before), withEndpoints(3));
    assert.deepEqual(Object.keys(delta), ['endpoints']);
    assert.deepEqual(
      delta.endpoints?.upsert.map((r) => r.name),
      [ALL],
    );
    const perEndpoint = (sizeOf(withEndpoints(13), before) - sizeOf(withEndpoints(3), before)) / 10;
    assert.ok(perEndpoint < 40, `want each endpoint under 40 bytes on the wire, got ${perEndpoint}`);
  });

  it('resources: snapshots of held resources share each unchanged cluster, and only the cluster whose endpoints moved is new', () => {
    const before = resourcesOf(parts());
    const first = assembleSnapshot(before, undefined);
    const delta = diffResources(
      knownVersions(before),
      resourcesOf(parts({ endpoints: [endpoint(1), endpoint(2), endpoint(3)] })),
    );
    const second = assembleSnapshot(applyDelta(before, delta), undefined);
    const byName = (snap: typeof first) => new Map(snap.clusters.map((c) => [c.name, c]));
    const [a, b] = [byName(first), byName(second)];
    for (const [name, c] of b) {
      if (name === ALL) {
        assert.notEqual(c, a.get(name), 'want a new Cluster for the cluster whose endpoints changed');
        assert.equal(c.endpoints.length, 3, 'want the new endpoint in it');
      } else assert.equal(c, a.get(name), `want ${name} to be the same object in both snapshots`);
    }
  });

  it('resources: a route table naming a virtual host not held is refused with its name', () => {
    const set = resourcesOf(parts());
    set.vhost.delete(`outbound/${HOSTS[1]}:9080`);
    assert.throws(
      () => assembleSnapshot(set, undefined),
      /route table outbound names virtual host "outbound\/ratings.shop.svc.cluster.local:9080", which the control plane has not sent/,
    );
  });

  it('resources: malformed endpoint rows are refused naming the cluster', () => {
    const set = resourcesOf(parts());
    const r = set.endpoints.get(ALL);
    assert.ok(r !== undefined);
    set.endpoints.set(ALL, { ...r, body: { ...r.body, rows: [['10.0.0.1']] } });
    assert.throws(() => assembleSnapshot(set, undefined), /endpoints of outbound\|9080\|\|reviews.*row 0/);
  });
});

describe('endpoint rows', () => {
  const cases: { name: string; endpoints: Endpoint[]; wantFields: string[] }[] = [
    { name: 'no endpoints', endpoints: [], wantFields: [] },
    { name: 'one endpoint: every field shared', endpoints: [endpoint(1)], wantFields: [] },
    {
      name: 'a service: address and workload per row',
      endpoints: [endpoint(1), endpoint(2)],
      wantFields: ['address', 'workload'],
    },
    {
      name: 'an optional field on some only',
      endpoints: [
        endpoint(1),
        { ...endpoint(2), tunnelPort: undefined } as unknown as Endpoint,
        endpoint(3, { weight: 5 }),
      ],
      wantFields: ['address', 'workload', 'weight', 'tunnelPort'],
    },
    {
      name: 'a locality and weight other than the defaults, shared',
      endpoints: [endpoint(1, { locality: 'eu/a', weight: 3 }), endpoint(2, { locality: 'eu/a', weight: 3 })],
      wantFields: ['address', 'workload'],
    },
    {
      name: 'labels that differ',
      endpoints: [endpoint(1), endpoint(2, { labels: { app: 'reviews', version: 'v2' } })],
      wantFields: ['address', 'labels', 'workload'],
    },
  ];
  for (const c of cases) {
    it(`endpoint rows: round-trip ${c.name}`, () => {
      const rows = toEndpointRows(c.endpoints);
      assert.deepEqual(rows.fields, c.wantFields);
      const back = fromEndpointRows(JSON.parse(JSON.stringify(rows)), 'c');
      const want = c.endpoints.map((e) => JSON.parse(JSON.stringify(e)));
      assert.equal(JSON.stringify(back), JSON.stringify(want), 'want the same endpoints, same key order');
    });
  }

  it('endpoint rows: an unknown field is refused, not assigned', () => {
    const rows = { shared: {}, fields: ['__proto__'], rows: [[{ polluted: true }]] };
    assert.throws(() => fromEndpointRows(rows as never, 'c'), /endpoints of c: unknown field "__proto__"/);
  });
});
