import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TcpMatch, TcpRoute, VirtualHost } from '../../wire/index.ts';
import { compileTcpRoutes, type TcpConnectionInfo } from './compile-tcp-routes.ts';
import { dest, SELF } from './routing.test-kit.ts';

const tcpRoute = (name: string, matches: TcpMatch[]): TcpRoute => ({
  name,
  origin: { kind: 'VirtualService', virtualServices: ['default/db'], paths: [name] },
  matches,
  destinations: [dest(`outbound|5432||${name}`)],
});

const vh = (routes: TcpRoute[]): VirtualHost => ({
  name: 'db.default.svc.cluster.local:5432',
  domains: [],
  traffic: 'tcp',
  routes: [],
  tcpRoutes: routes,
});

const conn = (over: Partial<TcpConnectionInfo> = {}): TcpConnectionInfo => ({
  port: 5432,
  sni: undefined,
  destinationAddress: '10.1.2.3',
  ...over,
});

// [case, match block of route 0 (a catch-all follows), connection, route 0 chosen]
const cases: [string, TcpMatch, Partial<TcpConnectionInfo>, boolean][] = [
  ['port matches', { port: 5432 }, {}, true],
  ['port fails', { port: 5433 }, {}, false],
  ['sni exact', { sniHosts: ['db.example.com'] }, { sni: 'db.example.com' }, true],
  ['sni is case-insensitive', { sniHosts: ['db.example.com'] }, { sni: 'DB.Example.com' }, true],
  ['sni missing', { sniHosts: ['db.example.com'] }, {}, false],
  ['sni wildcard', { sniHosts: ['*.example.com'] }, { sni: 'a.example.com' }, true],
  ['sni wildcard covers deeper names', { sniHosts: ['*.example.com'] }, { sni: 'a.b.example.com' }, true],
  [
    'sni wildcard does not cover the bare domain',
    { sniHosts: ['*.example.com'] },
    { sni: 'example.com' },
    false,
  ],
  ['sni one of several', { sniHosts: ['x.com', 'y.com'] }, { sni: 'y.com' }, true],
  ['subnet v4', { destinationSubnets: ['10.0.0.0/8'] }, {}, true],
  ['subnet v4 outside', { destinationSubnets: ['192.168.0.0/16'] }, {}, false],
  ['plain address', { destinationSubnets: ['10.1.2.3'] }, {}, true],
  [
    'IPv4-mapped address in a v4 subnet',
    { destinationSubnets: ['10.0.0.0/8'] },
    { destinationAddress: '::ffff:10.9.9.9' },
    true,
  ],
  ['subnet v6', { destinationSubnets: ['2001:db8::/32'] }, { destinationAddress: '2001:db8:1::5' }, true],
  [
    'subnet v6 outside',
    { destinationSubnets: ['2001:db8::/32'] },
    { destinationAddress: '2001:db9::5' },
    false,
  ],
  ['port AND subnet', { port: 5432, destinationSubnets: ['10.0.0.0/8'] }, { port: 1 }, false],
  ['sourceLabels of this proxy', { sourceLabels: { app: 'productpage' } }, {}, true],
  ['sourceNamespace of another', { sourceNamespace: 'prod' }, {}, false],
];

describe('compileTcpRoutes', () => {
  for (const [name, match, c, want] of cases) {
    it(`tcp: ${want ? 'chooses' : 'skips'} the route when ${name}`, () => {
      const compiled = compileTcpRoutes(vh([tcpRoute('r0', [match]), tcpRoute('any', [])]), SELF);
      assert.equal(compiled.select(conn(c))?.route.index, want ? 0 : 1);
      const reason = compiled.explain(conn(c))[0]?.reasons[0];
      assert.equal(reason === undefined, want, `explain disagrees: ${reason}`);
    });
  }
  it('tcp: explain says why', () => {
    const compiled = compileTcpRoutes(
      vh([tcpRoute('r0', [{ sniHosts: ['*.a.com'] }, { destinationSubnets: ['10.0.0.0/8'] }])]),
      SELF,
    );
    assert.deepEqual(compiled.explain(conn({ sni: 'b.com', destinationAddress: '11.0.0.1' }))[0]?.reasons, [
      'sniHosts: "b.com" is not *.a.com',
      'destinationSubnets: 11.0.0.1 is not in 10.0.0.0/8',
    ]);
  });
  it('tcp: no route matches', () => {
    assert.equal(compileTcpRoutes(vh([tcpRoute('r0', [{ port: 1 }])]), SELF).select(conn()), undefined);
  });
  it('tcp: refuses a subnet it cannot parse', () => {
    assert.throws(
      () => compileTcpRoutes(vh([tcpRoute('r0', [{ destinationSubnets: ['10.0.0.0/33', 'nope'] }])]), SELF),
      (err: Error & { code?: string; details?: { problems: string[] } }) =>
        err.code === 'ALDER_SNAPSHOT_INVALID' &&
        err.details?.problems.length === 2 &&
        /"10\.0\.0\.0\/33" is not an IP address or CIDR/.test(err.message),
    );
  });
});
