import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutboundPortListener, Snapshot } from '../wire/index.ts';
import { compile, DETAILS, RATINGS, REVIEWS, tcpRoutes } from './compile.test-kit.ts';

/**
 * A Sidecar for the client with egress ports `{number, protocol, hosts}` bound on 127.0.0.1, then,
 * when `catchAll` is given, a last listener without a port for those hosts.
 */
function sidecar(
  ports: { number: number; protocol: string; hosts: string[] }[],
  catchAll?: string[],
): string {
  const egress = ports.map(
    (p) =>
      `  - port: {number: ${p.number}, protocol: ${p.protocol}, name: p${p.number}}\n    bind: 127.0.0.1\n    hosts: ${JSON.stringify(p.hosts)}\n`,
  );
  if (catchAll !== undefined) egress.push(`  - hosts: ${JSON.stringify(catchAll)}\n`);
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: client, namespace: shop}
spec:
  workloadSelector: {labels: {app: client}}
  egress:
${egress.join('')}`;
}

/** A TLS ServiceEntry for `host` on port 8443 with one endpoint. */
function tlsEntry(name: string, host: string): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: shop}
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{number: 8443, name: tls, protocol: TLS}]
  endpoints: [{address: 192.0.2.1}]
`;
}

function egressTable(snap: Snapshot, port: number) {
  const listener = snap.listeners.find(
    (l): l is OutboundPortListener => l.kind === 'outbound-port' && l.port === port,
  );
  assert.ok(listener, `want an outbound-port listener on ${port}`);
  const table = snap.routeTables.find((t) => t.name === listener.routeTable);
  assert.ok(table, `want route table ${listener.routeTable}`);
  return { listener, table };
}

describe('compile: Sidecar egress ports', () => {
  it('egress: a TCP port routes by its route table, which holds the service and its TCP routes', () => {
    const snap = compile(sidecar([{ number: 5432, protocol: 'TCP', hosts: [`./${REVIEWS}`] }]));
    const { listener, table } = egressTable(snap, 5432);
    assert.deepEqual([listener.traffic, listener.routeTable], ['tcp', 'egress|5432']);
    assert.deepEqual(
      table.virtualHosts.map((vh) => [vh.name, vh.tcpRoutes.map((r) => [r.name, r.matches])]),
      [[`${REVIEWS}:5432`, [['default', []]]]],
    );
  });

  it('egress: several TLS services on one port are told apart by SNI; one alone takes every connection', () => {
    const entries = `${tlsEntry('a', 'api.a.example')}---\n${tlsEntry('b', 'api.b.example')}---\n`;
    const both = compile(
      entries + sidecar([{ number: 8443, protocol: 'TLS', hosts: ['./api.a.example', './api.b.example'] }]),
    );
    assert.deepEqual(
      egressTable(both, 8443).table.virtualHosts.map((vh) => [vh.name, vh.tcpRoutes.map((r) => r.matches)]),
      [
        ['api.a.example:8443', [[{ sniHosts: ['api.a.example'] }]]],
        ['api.b.example:8443', [[{ sniHosts: ['api.b.example'] }]]],
      ],
    );
    assert.deepEqual(
      tcpRoutes(both, 'api.a.example:8443').map((r) => r.matches),
      [[]],
      'want the outbound table (CONNECT) unchanged',
    );
    const one = compile(entries + sidecar([{ number: 8443, protocol: 'TLS', hosts: ['./api.a.example'] }]));
    assert.deepEqual(
      egressTable(one, 8443).table.virtualHosts.map((vh) => vh.tcpRoutes.map((r) => r.matches)),
      [[[]]],
    );
  });

  it('egress: a Kubernetes TLS service on a shared port answers to each of its names', () => {
    const svc = `apiVersion: v1
kind: Service
metadata: {name: vault, namespace: shop}
spec: {selector: {app: vault}, ports: [{name: tls, port: 8443}]}
---
${tlsEntry('a', 'api.a.example')}---
`;
    const snap = compile(svc + sidecar([{ number: 8443, protocol: 'TLS', hosts: ['./*'] }]));
    const vault = egressTable(snap, 8443).table.virtualHosts.find((vh) => vh.name.startsWith('vault.'));
    assert.deepEqual(vault?.tcpRoutes[0]?.matches, [
      { sniHosts: ['vault.shop.svc.cluster.local', 'vault.shop.svc', 'vault.shop', 'vault'] },
    ]);
  });
});

describe('compile: Sidecar egress scoping of the forward proxy', () => {
  const outboundHosts = (snap: Snapshot) =>
    (snap.routeTables.find((t) => t.name === 'outbound')?.virtualHosts ?? []).map((vh) => vh.name).sort();

  it('egress: without a Sidecar, or with port-specific egress only, the forward proxy sees every service', () => {
    const all = outboundHosts(compile(''));
    assert.ok(
      all.includes(`${REVIEWS}:9080`) && all.includes(`${DETAILS}:9080`),
      `want every service, got ${all}`,
    );
    assert.deepEqual(
      outboundHosts(compile(sidecar([{ number: 5432, protocol: 'TCP', hosts: [`./${REVIEWS}`] }]))),
      all,
      'want port-specific egress to leave the forward proxy whole',
    );
  });

  for (const [hosts, want] of [
    [['./*'], [`${RATINGS}:8080`, `${REVIEWS}:5432`, `${REVIEWS}:9080`]],
    [[`./${REVIEWS}`], [`${REVIEWS}:5432`, `${REVIEWS}:9080`]],
    [['books/*'], [`${DETAILS}:9080`]],
    [['*/*.shop.svc.cluster.local'], [`${RATINGS}:8080`, `${REVIEWS}:5432`, `${REVIEWS}:9080`]],
    [['~/*'], []],
  ] as const) {
    it(`egress: a catch-all egress listener with hosts ${JSON.stringify(hosts)} scopes the forward proxy to them`, () => {
      assert.deepEqual(
        outboundHosts(compile(sidecar([], [...hosts]))),
        [...want],
        `want only ${JSON.stringify(want)} reachable through HTTP_PROXY`,
      );
    });
  }
});

describe('compile: the egress scope a refusal names', () => {
  const scopeOf = (snap: Snapshot, table: string) =>
    snap.routeTables.find((t) => t.name === table)?.egressScope;
  const catchAll = (hosts: string[]) => sidecar([{ number: 9080, protocol: 'HTTP', hosts: ['./*'] }], hosts);
  /** `count` Services in namespace `far`, each on port 9080. */
  const services = (count: number) =>
    Array.from(
      { length: count },
      (_, i) =>
        `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}, namespace: far}\nspec: {selector: {app: s${i}}, ports: [{name: http, port: 9080}]}\n---\n`,
    ).join('');

  it('egress scope: no Sidecar, no scope', () => {
    assert.equal(scopeOf(compile(''), 'outbound'), undefined);
  });

  it('egress scope: names the Sidecar, its hosts and every name of the services it hides', () => {
    const snap = compile(catchAll([`./${REVIEWS}`]));
    assert.deepEqual(scopeOf(snap, 'outbound'), {
      sidecar: 'shop/client',
      hosts: [`./${REVIEWS}`],
      moreHosts: 0,
      hiddenDomains: [
        `${RATINGS}:8080`,
        'ratings.shop.svc:8080',
        'ratings.shop:8080',
        'ratings:8080',
        `${DETAILS}:9080`,
        'details.books.svc:9080',
        'details.books:9080',
      ],
    });
    assert.deepEqual(
      scopeOf(snap, 'egress|9080'),
      {
        sidecar: 'shop/client',
        hosts: ['./*'],
        moreHosts: 0,
        hiddenDomains: [`${DETAILS}:9080`, 'details.books.svc:9080', 'details.books:9080'],
      },
      'want a port listener scoped by its own hosts, among the services on its port',
    );
  });

  it('egress scope: stays bounded: the first 16 hosts, and no hidden names past 512', () => {
    const hosts = Array.from({ length: 20 }, (_, i) => `ns${i}/*`);
    const scope = scopeOf(compile(services(200) + catchAll(hosts)), 'outbound');
    assert.deepEqual(scope?.hosts, hosts.slice(0, 16));
    assert.equal(scope?.moreHosts, 4);
    assert.equal(
      scope?.hiddenDomains,
      undefined,
      'want no names recorded for 200 hidden services (600+ names)',
    );
  });
});

describe('compile: TCP routes', () => {
  it('tcp route: routes that match only some destination subnets are followed by the service default (Istio)', () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: [reviews]
  tcp:
  - match: [{destinationSubnets: [10.0.0.0/8]}]
    route: [{destination: {host: ratings, port: {number: 8080}}}]
`;
    assert.deepEqual(
      tcpRoutes(compile(vs)).map((r) => [r.name, r.destinations.map((d) => d.cluster)]),
      [
        ['tcp[0]', ['outbound|8080||ratings.shop.svc.cluster.local']],
        ['default', [`outbound|5432||${REVIEWS}`]],
      ],
    );
  });
});
