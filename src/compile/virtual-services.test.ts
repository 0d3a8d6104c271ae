import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compile, DETAILS, RATINGS, REVIEWS, routes, split, tcpRoutes } from './compile.test-kit.ts';

const REVIEWS_V1 = `outbound|9080|v1|${REVIEWS}=100`;
const REVIEWS_ALL = `outbound|9080||${REVIEWS}=100`;

/** A VirtualService routing everything to reviews v1, with the given metadata and spec lines. */
function vs(meta: string, spec: string): string {
  return `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: ${meta}
spec:
${spec}
  http:
  - route: [{destination: {host: ${REVIEWS}, subset: v1}}]
`;
}

interface SelectionCase {
  name: string;
  yaml: string;
  /** The client workload (namespace/name); shop/client by default. */
  workload?: { namespace: string; name: string };
  want: string[];
}

const selectionCases: SelectionCase[] = [
  {
    name: 'a short host resolved in the VirtualService namespace',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]'),
    want: [REVIEWS_V1],
  },
  {
    name: 'a short host in another namespace names another service',
    yaml: vs('{name: a, namespace: books}', '  hosts: [reviews]'),
    want: [REVIEWS_ALL],
  },
  {
    name: 'a fully qualified host',
    yaml: vs('{name: a, namespace: books}', `  hosts: [${REVIEWS}]`),
    want: [REVIEWS_V1],
  },
  {
    name: 'a wildcard host',
    yaml: vs('{name: a, namespace: shop}', '  hosts: ["*.shop.svc.cluster.local"]'),
    want: [REVIEWS_V1],
  },
  {
    name: 'gateways without mesh: not for sidecars',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]\n  gateways: [shop/ingress]'),
    want: [REVIEWS_ALL],
  },
  {
    name: 'gateways with mesh: for sidecars too',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]\n  gateways: [shop/ingress, mesh]'),
    want: [REVIEWS_V1],
  },
  {
    name: 'exportTo "." seen from its own namespace',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]\n  exportTo: ["."]'),
    want: [REVIEWS_V1],
  },
  {
    name: 'exportTo "." not seen from another namespace',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]\n  exportTo: ["."]'),
    workload: { namespace: 'books', name: 'details-v1' },
    want: [REVIEWS_ALL],
  },
  {
    name: 'exportTo naming the client namespace',
    yaml: vs('{name: a, namespace: shop}', '  hosts: [reviews]\n  exportTo: [books]'),
    workload: { namespace: 'books', name: 'details-v1' },
    want: [REVIEWS_V1],
  },
];

describe('compile: which VirtualService applies', () => {
  for (const c of selectionCases) {
    it(`virtual service selection: ${c.name}`, () => {
      const snap = compile(c.yaml, c.workload);
      assert.deepEqual(split(routes(snap)[0]), c.want);
    });
  }

  it('virtual service selection: of two for one host, the oldest wins (Istio does not merge them for sidecars)', () => {
    const newer = vs(
      "{name: a-newer, namespace: shop, creationTimestamp: '2026-02-01T00:00:00Z'}",
      '  hosts: [reviews]',
    );
    const older = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: z-older, namespace: shop, creationTimestamp: '2026-01-01T00:00:00Z'}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: ratings}}]
`;
    const snap = compile(newer + older);
    assert.deepEqual(
      routes(snap).map((r) => r.origin.virtualServices),
      [['shop/z-older']],
    );
  });

  it('virtual service selection: an exact host wins over a wildcard, whatever their age', () => {
    const wildcard = vs(
      "{name: wild, namespace: shop, creationTimestamp: '2026-01-01T00:00:00Z'}",
      '  hosts: ["*.shop.svc.cluster.local"]',
    );
    const exact = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: exact, namespace: shop, creationTimestamp: '2026-03-01T00:00:00Z'}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: ratings}}]
`;
    const snap = compile(wildcard + exact);
    assert.deepEqual(routes(snap)[0]?.origin.virtualServices, ['shop/exact']);
    assert.deepEqual(routes(snap, `${RATINGS}:8080`)[0]?.origin.virtualServices, ['shop/wild']);
  });

  it('virtual service selection: a VirtualService for a ServiceEntry host', () => {
    const yaml = `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ext, namespace: shop}
spec:
  hosts: [api.example.com]
  http:
  - route: [{destination: {host: api.example.com}}]
    timeout: 3s
`;
    const [route] = routes(compile(yaml), 'api.example.com:80');
    assert.deepEqual([split(route), route?.timeoutMs], [['outbound|80||api.example.com=100'], 3000]);
  });
});

describe('compile: VirtualService delegation', () => {
  const root = (delegate: string, match = '  - match: [{uri: {prefix: /api}}]\n') => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: shop}
spec:
  hosts: [reviews]
  http:
${match}    delegate: ${delegate}
    timeout: 5s
  - route: [{destination: {host: reviews}}]
`;
  const leaf = (http: string, meta = '{name: leaf, namespace: books}', exportTo = '') => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: ${meta}
spec:
${exportTo}  http:
${http}`;

  it('delegate: the delegate routes replace the root route, matches AND-ed, root fields inherited, both recorded', () => {
    const snap = compile(
      root('{name: leaf, namespace: books}') +
        leaf(`  - name: v1
    match: [{uri: {prefix: /api/v1}, headers: {x-user: {exact: a}}}]
    route: [{destination: {host: details}}]
  - route: [{destination: {host: details}}]
    timeout: 1s
`),
    );
    const rs = routes(snap);
    assert.deepEqual(
      rs.map((r) => [r.name, r.matches, split(r), r.timeoutMs, r.origin.virtualServices, r.origin.paths]),
      [
        [
          'v1',
          [
            {
              uri: { prefix: '/api/v1' },
              headers: [{ name: 'x-user', value: { exact: 'a' }, isInverted: false }],
            },
          ],
          [`outbound|9080||${DETAILS}=100`],
          5000,
          ['shop/root', 'books/leaf'],
          ['http[0]', 'http[0]'],
        ],
        [
          'http[1]',
          [{ uri: { prefix: '/api' } }],
          [`outbound|9080||${DETAILS}=100`],
          1000,
          ['shop/root', 'books/leaf'],
          ['http[0]', 'http[1]'],
        ],
        ['http[1]', [], [REVIEWS_ALL], undefined, ['shop/root'], ['http[1]']],
      ],
    );
  });

  it('delegate: a delegate route whose match falls outside the root match is dropped, as Istio does', () => {
    const snap = compile(
      root('{name: leaf, namespace: books}') +
        leaf(`  - match: [{uri: {prefix: /other}}]
    route: [{destination: {host: details}}]
  - match: [{uri: {prefix: /api/ok}}]
    route: [{destination: {host: details}}]
`),
    );
    assert.deepEqual(
      routes(snap).map((r) => r.matches.map((m) => m.uri)),
      [[{ prefix: '/api/ok' }], []],
    );
  });

  it('delegate: a delegate not exported to the root namespace is ignored', () => {
    const snap = compile(
      root('{name: leaf, namespace: books}') +
        leaf(
          '  - route: [{destination: {host: details}}]\n',
          '{name: leaf, namespace: books}',
          '  exportTo: ["."]\n',
        ),
    );
    assert.deepEqual(
      routes(snap).map((r) => r.origin.virtualServices),
      [['shop/root']],
    );
  });

  it('delegate: the namespace defaults to the root namespace, short hosts resolve in the delegate namespace', () => {
    const snap = compile(
      root('{name: leaf}') +
        leaf('  - route: [{destination: {host: ratings}}]\n', '{name: leaf, namespace: shop}'),
    );
    assert.deepEqual(split(routes(snap)[0]), [`outbound|8080||${RATINGS}=100`]);
  });
});

describe('compile: VirtualService TCP and TLS routes', () => {
  it('tcp route: weighted destinations, port and source matches decided for this proxy', () => {
    const yaml = `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: [reviews]
  tcp:
  - match: [{port: 5432, sourceLabels: {app: other}}]
    route: [{destination: {host: ratings, port: {number: 8080}}}]
  - match: [{port: 5432, destinationSubnets: [10.0.0.0/8]}]
    route: [{destination: {host: reviews, port: {number: 5432}}}]
  - match: [{port: 5432}]
    route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 20}
  - route: [{destination: {host: ratings}}]
`;
    const rs = tcpRoutes(compile(yaml));
    assert.deepEqual(
      rs.map((r) => [r.name, r.matches, r.destinations.map((d) => `${d.cluster}=${d.weight}`)]),
      [
        ['tcp[1]', [{ port: 5432, destinationSubnets: ['10.0.0.0/8'] }], [`outbound|5432||${REVIEWS}=100`]],
        ['tcp[2]', [{ port: 5432 }], [`outbound|5432|v1|${REVIEWS}=80`, `outbound|5432|v2|${REVIEWS}=20`]],
      ],
    );
  });

  it('tcp route: a TCP port without a VirtualService gets one default route to its cluster', () => {
    const rs = tcpRoutes(compile(''));
    assert.deepEqual(
      rs.map((r) => [r.name, r.origin.kind, r.destinations.map((d) => d.cluster)]),
      [['default', 'default', [`outbound|5432||${REVIEWS}`]]],
    );
  });

  it('tls route: SNI hosts on a TLS port of a ServiceEntry', () => {
    const yaml = `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec:
  hosts: ["*.example.com"]
  location: MESH_EXTERNAL
  resolution: NONE
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ext, namespace: shop}
spec:
  hosts: ["*.example.com"]
  tls:
  - match: [{port: 443, sniHosts: [a.example.com]}]
    route: [{destination: {host: "*.example.com", port: {number: 443}}}]
`;
    const rs = tcpRoutes(compile(yaml), '*.example.com:443');
    assert.deepEqual(
      rs.map((r) => [r.name, r.matches, r.destinations.map((d) => d.cluster)]),
      [['tls[0]', [{ port: 443, sniHosts: ['a.example.com'] }], ['outbound|443||*.example.com']]],
    );
  });
});
