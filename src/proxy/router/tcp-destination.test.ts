import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Snapshot, TcpMatch, TcpRoute, VirtualHost } from '../../wire/index.ts';
import { WIRE_VERSION } from '../../wire/index.ts';
import { cluster } from '../balance/test-support.ts';
import { ProxyError } from '../local-reply/index.ts';
import { dest, SELF } from '../routing/routing.test-kit.ts';
import { buildRuntime } from '../runtime/index.ts';
import { tcpPortDestination, tcpPortRoutes } from './tcp-destination.ts';

/** A virtual host on port 443 whose one route sends the given match blocks to cluster `to`. */
function host(name: string, to: string, matches: TcpMatch[]): VirtualHost {
  const route: TcpRoute = {
    name: 'tls[0]',
    origin: { kind: 'VirtualService', virtualServices: [`shop/${name}`], paths: ['tls[0]'] },
    matches,
    destinations: [dest(to)],
  };
  return { name: `${name}:443`, domains: [`${name}:443`], traffic: 'tcp', routes: [], tcpRoutes: [route] };
}

function runtimeOf(virtualHosts: VirtualHost[]) {
  const names = [...new Set(virtualHosts.flatMap((vh) => vh.tcpRoutes.flatMap((r) => r.destinations)))];
  const snapshot: Snapshot = {
    wireVersion: WIRE_VERSION,
    version: 'test',
    proxy: SELF,
    mesh: {
      trustDomain: 'cluster.local',
      outboundTrafficPolicy: 'REGISTRY_ONLY',
      protocolDetection: { enabled: false, timeoutMs: 100 },
      connectTimeoutMs: 1000,
      accessLog: { enabled: false, encoding: 'JSON' },
      http: {
        headersWithUnderscoresAction: 'REJECT_REQUEST',
        extensionMethods: [],
        maxMethodBytes: 32,
        numTrustedProxies: 0,
      },
    },
    listeners: [],
    clusters: names.map((d) => ({ ...cluster({ kind: 'ROUND_ROBIN' }, []), name: d.cluster })),
    routeTables: [{ name: 'egress|443', virtualHosts }],
    tls: undefined,
  };
  return buildRuntime(snapshot);
}

const PORT_HOSTS = [
  host('catch-all', 'any', []),
  host('wild', 'wild', [{ sniHosts: ['*.example.com'] }]),
  host('deeper-wild', 'deeper', [{ sniHosts: ['*.api.example.com'] }]),
  host('exact', 'exact', [{ sniHosts: ['a.api.example.com'] }]),
  host('also-exact', 'second', [{ sniHosts: ['a.api.example.com'] }]),
];

describe('tcp destination: one outbound port, several virtual hosts', () => {
  const runtime = runtimeOf(PORT_HOSTS);
  const routes = tcpPortRoutes(runtime, 'egress|443');
  const cases: { name: string; sni: string | undefined; want: string }[] = [
    {
      name: 'an exact name beats wildcards and the first host, first exact wins',
      sni: 'a.api.example.com',
      want: 'exact',
    },
    { name: 'a longer wildcard beats a shorter one', sni: 'b.api.example.com', want: 'deeper' },
    { name: 'a wildcard beats a route without sniHosts', sni: 'x.example.com', want: 'wild' },
    { name: 'no SNI takes the route without sniHosts', sni: undefined, want: 'any' },
    { name: 'an unknown name takes the route without sniHosts', sni: 'other.org', want: 'any' },
  ];
  for (const c of cases) {
    it(`tcp destination: ${c.name}`, () => {
      assert.ok(routes?.needsSni, 'want the port to need SNI');
      const got = tcpPortDestination(
        routes,
        { port: 443, sni: c.sni, destinationAddress: '127.0.0.1' },
        runtime,
      );
      assert.ok(
        !(got instanceof ProxyError),
        `want a route, got ${got instanceof ProxyError ? got.message : ''}`,
      );
      assert.equal(got.destination.cluster, c.want, `SNI ${c.sni}`);
    });
  }

  it('tcp destination: NR names the port, its services and the SNI when nothing matches', () => {
    const rt = runtimeOf(PORT_HOSTS.slice(1));
    const only = tcpPortRoutes(rt, 'egress|443');
    assert.ok(only !== undefined);
    const got = tcpPortDestination(
      only,
      { port: 443, sni: 'other.org', destinationAddress: '127.0.0.1' },
      rt,
    );
    assert.ok(got instanceof ProxyError, 'want a refusal');
    assert.equal(got.flag, 'NR');
    assert.match(
      got.message,
      /no TCP or TLS route of port 443 \(wild:443, .*\) matched the connection \(SNI other\.org\)/,
    );
  });

  it('tcp destination: a port without sniHosts does not wait for a ClientHello', () => {
    const rt = runtimeOf([host('db', 'db', [{ port: 443 }])]);
    assert.equal(tcpPortRoutes(rt, 'egress|443')?.needsSni, false);
    assert.equal(tcpPortRoutes(rt, 'nope'), undefined);
  });
});
