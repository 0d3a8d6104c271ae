// VirtualService routing through real proxies: every HTTP match type and how matches combine, subsets
// of a DestinationRule, weighted splits, rewrites, redirects, direct responses, header operations,
// CORS and delegation. One mesh per file: client 127.0.30.1 → reviews-v1/v2/v3 (127.0.30.2-4).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { yamlDocs } from './mesh-yaml.ts';
import {
  APP_INTERNAL_HEADER,
  assertBetween,
  countByWorkload,
  describeReply,
  destinationRule,
  httpService,
  indent,
  type Reply,
  type SendOptions,
  startTrafficMesh,
  TestHeader,
  type TrafficMesh,
  testKey,
  virtualService,
} from './traffic-fixture.ts';

const REVIEWS = { app: 'reviews' };
const SUBSETS = { v1: { version: 'v1' }, v2: { version: 'v2' }, v3: { version: 'v3' } };

/** A Service `host` over the three reviews workloads, with subsets v1/v2/v3 and a VirtualService. */
function routed(host: string, http: string, ports?: { name: string; port: number }[]): string {
  return yamlDocs(
    httpService(host, REVIEWS, ports),
    destinationRule(host, { subsets: SUBSETS }),
    virtualService(host, [host], http),
  );
}

/** A request of a match case: path, method, headers, and the host:port it is addressed to. */
interface Req {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** The authority, `m-port.shop:9081`; `<case host>.shop:9080` unless given. */
  authority?: string;
}

interface MatchCase {
  name: string;
  host: string;
  /** The YAML of the route's `match:` list. */
  match: string;
  /** Requests that must reach v2 (the matched route). */
  hits: Req[];
  /** Requests that must reach v1 (the fallback route). */
  misses: Req[];
  ports?: { name: string; port: number }[];
}

const MATCH_CASES: MatchCase[] = [
  {
    name: 'uri exact',
    host: 'm-uri-exact',
    match: '- uri: {exact: /exact}',
    hits: [{ path: '/exact' }, { path: '/exact?x=1' }],
    misses: [{ path: '/exact/' }, { path: '/exactly' }, { path: '/EXACT' }],
  },
  {
    name: 'uri prefix',
    host: 'm-uri-prefix',
    match: '- uri: {prefix: /pre}',
    hits: [{ path: '/pre' }, { path: '/prefix/x' }, { path: '/pre?q=1' }],
    misses: [{ path: '/pr' }, { path: '/x/pre' }],
  },
  {
    name: 'uri regex (anchored, RE2, path without the query)',
    host: 'm-uri-regex',
    match: "- uri: {regex: '/items/[0-9]+'}",
    hits: [{ path: '/items/42' }, { path: '/items/7?x=1' }],
    misses: [{ path: '/items/42/more' }, { path: '/items/abc' }, { path: '/x/items/42' }],
  },
  {
    name: 'ignoreUriCase',
    host: 'm-ignore-case',
    match: '- uri: {exact: /Case}\n  ignoreUriCase: true',
    hits: [{ path: '/case' }, { path: '/CASE' }, { path: '/Case' }],
    misses: [{ path: '/cases' }],
  },
  {
    name: 'method exact',
    host: 'm-method',
    match: '- method: {exact: POST}',
    hits: [{ method: 'POST' }],
    misses: [{ method: 'GET' }, { method: 'PUT' }],
  },
  {
    name: 'header exact (names compared without case)',
    host: 'm-header-exact',
    match: '- headers: {end-user: {exact: jason}}',
    hits: [{ headers: { 'end-user': 'jason' } }, { headers: { 'End-User': 'jason' } }],
    misses: [{ headers: { 'end-user': 'jasonx' } }, { headers: { 'end-user': 'Jason' } }, {}],
  },
  {
    name: 'header prefix',
    host: 'm-header-prefix',
    match: '- headers: {x-tenant: {prefix: gold-}}',
    hits: [{ headers: { 'x-tenant': 'gold-1' } }],
    misses: [{ headers: { 'x-tenant': 'silver-1' } }, {}],
  },
  {
    name: 'header regex (anchored)',
    host: 'm-header-regex',
    match: String.raw`- headers: {x-build: {regex: 'v[0-9]+\.[0-9]+'}}`,
    hits: [{ headers: { 'x-build': 'v1.2' } }, { headers: { 'x-build': 'v10.20' } }],
    misses: [{ headers: { 'x-build': 'v1.2-rc' } }, { headers: { 'x-build': 'xv1.2' } }, {}],
  },
  {
    name: 'header present ({})',
    host: 'm-header-present',
    match: '- headers: {x-canary: {}}',
    hits: [{ headers: { 'x-canary': 'yes' } }, { headers: { 'x-canary': 'anything' } }],
    misses: [{}],
  },
  {
    name: 'withoutHeaders (a matching header excludes the request)',
    host: 'm-without-headers',
    match: '- uri: {prefix: /}\n  withoutHeaders: {x-legacy: {exact: "1"}}',
    hits: [{ headers: { 'x-legacy': '2' } }],
    misses: [{ headers: { 'x-legacy': '1' } }],
  },
  {
    name: 'queryParams exact',
    host: 'm-query-exact',
    match: '- queryParams: {debug: {exact: "1"}}',
    hits: [{ path: '/?debug=1' }, { path: '/p?a=b&debug=1' }],
    misses: [{ path: '/?debug=2' }, { path: '/?debug=10' }, { path: '/' }],
  },
  {
    name: 'queryParams regex',
    host: 'm-query-regex',
    match: "- queryParams: {page: {regex: '[0-9]+'}}",
    hits: [{ path: '/?page=12' }],
    misses: [{ path: '/?page=x1' }, { path: '/' }],
  },
  {
    name: 'authority prefix (the Host the client sent)',
    host: 'm-authority',
    match: '- authority: {prefix: m-authority.shop.svc}',
    hits: [{ authority: 'm-authority.shop.svc.cluster.local:9080' }],
    misses: [{ authority: 'm-authority.shop:9080' }],
  },
  {
    name: 'port (the service port the client addressed)',
    host: 'm-port',
    match: '- port: 9081',
    ports: [
      { name: 'http', port: 9080 },
      { name: 'http-alt', port: 9081 },
    ],
    hits: [{ authority: 'm-port.shop:9081' }],
    misses: [{ authority: 'm-port.shop:9080' }],
  },
  {
    name: 'sourceLabels and sourceNamespace (the calling workload: app=client in shop)',
    host: 'm-source',
    match: '- sourceLabels: {app: client}\n  sourceNamespace: shop',
    hits: [{}],
    misses: [],
  },
  {
    name: 'sourceLabels of another workload never match this caller',
    host: 'm-source-other',
    match: '- sourceLabels: {app: productpage}',
    hits: [],
    misses: [{}],
  },
  {
    name: 'scheme',
    host: 'm-scheme',
    match: '- scheme: {exact: http}',
    hits: [{}],
    misses: [],
  },
  {
    name: 'AND within one match block',
    host: 'm-and',
    match: '- uri: {prefix: /and}\n  headers: {end-user: {exact: jason}}',
    hits: [{ path: '/and', headers: { 'end-user': 'jason' } }],
    misses: [{ path: '/and' }, { path: '/other', headers: { 'end-user': 'jason' } }],
  },
  {
    name: 'OR across match blocks',
    host: 'm-or',
    match: '- uri: {prefix: /or}\n- headers: {end-user: {exact: jason}}',
    hits: [{ path: '/or' }, { path: '/other', headers: { 'end-user': 'jason' } }],
    misses: [{ path: '/other' }],
  },
];

function matchCaseYaml(c: MatchCase): string {
  return routed(
    c.host,
    `
- name: matched
  match:
${indent(c.match, 2)}  route:
  - destination: {host: ${c.host}, subset: v2}
- name: fallback
  route:
  - destination: {host: ${c.host}, subset: v1}
`,
    c.ports,
  );
}

const ROUTING_YAML = [
  routed(
    'first',
    `
- match: [{uri: {prefix: /first}}]
  route: [{destination: {host: first, subset: v2}}]
- match: [{uri: {prefix: /first/second}}]
  route: [{destination: {host: first, subset: v3}}]
- route: [{destination: {host: first, subset: v1}}]
`,
  ),
  routed(
    'subsets',
    `
- match: [{headers: {x-version: {exact: v1}}}]
  route: [{destination: {host: subsets, subset: v1}}]
- match: [{headers: {x-version: {exact: v2}}}]
  route: [{destination: {host: subsets, subset: v2}}]
- route: [{destination: {host: subsets, subset: v3}}]
`,
  ),
  routed(
    'split',
    `
- route:
  - destination: {host: split, subset: v1}
    weight: 80
  - destination: {host: split, subset: v3}
    weight: 20
`,
  ),
  routed(
    'zero-weight',
    `
- route:
  - destination: {host: zero-weight, subset: v1}
    weight: 100
  - destination: {host: zero-weight, subset: v2}
    weight: 0
`,
  ),
  yamlDocs(
    httpService('subset-missing', REVIEWS),
    destinationRule('subset-missing', { subsets: { ...SUBSETS, v9: { version: 'v9' } } }),
    virtualService(
      'subset-missing',
      ['subset-missing'],
      `
- match: [{uri: {prefix: /undefined}}]
  route: [{destination: {host: subset-missing, subset: v7}}]
- route: [{destination: {host: subset-missing, subset: v9}}]
`,
    ),
  ),
  routed(
    'nomatch',
    `
- match: [{uri: {exact: /only}}]
  route: [{destination: {host: nomatch, subset: v1}}]
`,
  ),
  routed(
    'rewrite',
    String.raw`
- match: [{uri: {prefix: /old/}}]
  rewrite: {uri: /new/}
  route: [{destination: {host: rewrite, subset: v1}}]
- match: [{uri: {prefix: /api/}}]
  rewrite:
    uriRegexRewrite: {match: '^/api/v([0-9]+)/(.*)$', rewrite: '/\2/v\1'}
  route: [{destination: {host: rewrite, subset: v1}}]
- match: [{uri: {prefix: /host}}]
  rewrite: {authority: backend.internal}
  route: [{destination: {host: rewrite, subset: v1}}]
`,
  ),
  routed(
    'redirect',
    `
- match: [{uri: {exact: /old}}]
  redirect: {uri: /new}
- match: [{uri: {prefix: /away}}]
  redirect: {authority: elsewhere.example, uri: /landing, redirectCode: 308}
- match: [{uri: {prefix: /port}}]
  redirect: {port: 8443}
- match: [{uri: {prefix: /v1/}}]
  redirect: {prefixRewrite: /v2/}
- route: [{destination: {host: redirect, subset: v1}}]
`,
  ),
  routed(
    'direct',
    `
- match: [{uri: {prefix: /teapot}}]
  directResponse: {status: 418, body: {string: "short and stout"}}
- match: [{uri: {prefix: /headed}}]
  directResponse: {status: 200, body: {string: "with headers"}}
  headers: {response: {set: {x-direct: set-by-route}}}
- route: [{destination: {host: direct, subset: v1}}]
`,
  ),
  routed(
    'headers',
    `
- match: [{uri: {prefix: /route}}]
  headers:
    request:
      set: {x-route-set: from-route}
      add: {x-route-add: from-route}
      remove: [x-route-remove]
    response:
      set: {x-resp-set: from-route}
      add: {x-resp-add: from-route}
      remove: [${APP_INTERNAL_HEADER}]
  route: [{destination: {host: headers, subset: v1}}]
- route:
  - destination: {host: headers, subset: v1}
    weight: 50
    headers:
      request: {set: {x-dest: v1}}
      response: {set: {x-dest: v1}}
  - destination: {host: headers, subset: v2}
    weight: 50
    headers:
      request: {set: {x-dest: v2}}
      response: {set: {x-dest: v2}}
`,
  ),
  routed(
    'cors',
    String.raw`
- corsPolicy:
    allowOrigins:
    - exact: https://good.example
    - regex: 'https://[a-z]+\.trusted\.example'
    allowMethods: [GET, POST]
    allowHeaders: [x-custom]
    exposeHeaders: [x-app-workload]
    maxAge: 24h
    allowCredentials: true
  route: [{destination: {host: cors, subset: v1}}]
`,
  ),
  yamlDocs(
    httpService('delegated', REVIEWS),
    destinationRule('delegated', { subsets: SUBSETS }),
    virtualService(
      'delegated',
      ['delegated'],
      `
- match: [{uri: {prefix: /reviews}}]
  delegate: {name: delegated-reviews, namespace: shop}
- route: [{destination: {host: delegated, subset: v1}}]
`,
    ),
    virtualService(
      'delegated-reviews',
      [],
      `
- match: [{headers: {end-user: {exact: jason}}}]
  route: [{destination: {host: delegated, subset: v2}}]
- route: [{destination: {host: delegated, subset: v3}}]
`,
    ),
  ),
];

describe('traffic routing: VirtualService and DestinationRule subsets through real proxies', () => {
  let t: TrafficMesh;

  before(async () => {
    t = await startTrafficMesh({
      prefix: 'traffic-routing',
      clientAddress: '127.0.30.1',
      servers: [
        { name: 'reviews-v1', address: '127.0.30.2', labels: { ...REVIEWS, version: 'v1' } },
        { name: 'reviews-v2', address: '127.0.30.3', labels: { ...REVIEWS, version: 'v2' } },
        { name: 'reviews-v3', address: '127.0.30.4', labels: { ...REVIEWS, version: 'v3' } },
      ],
      ports: [9080, 9081],
      yaml: yamlDocs(...MATCH_CASES.map(matchCaseYaml), ...ROUTING_YAML),
    });
  });

  after(async () => {
    await t?.stop();
  });

  /** GET (unless given) `http://<host>.shop:9080<path>` through the client's forward proxy. */
  function send(host: string, path = '/', options: SendOptions = {}): Promise<Reply> {
    return t.client.send(`http://${host}.shop:9080${path}`, options);
  }

  describe('each match type routes the requests it matches (v2) and only those (else v1)', () => {
    for (const c of MATCH_CASES) {
      it(`routing: ${c.name}`, async () => {
        for (const [want, reqs] of [
          ['reviews-v2', c.hits],
          ['reviews-v1', c.misses],
        ] as const) {
          for (const req of reqs) {
            const authority = req.authority ?? `${c.host}.shop:9080`;
            const path = req.path ?? '/';
            const r = await t.client.send(`http://${authority}${path}`, {
              method: req.method ?? 'GET',
              headers: req.headers ?? {},
            });
            const sent = `${req.method ?? 'GET'} http://${authority}${path} headers=${JSON.stringify(req.headers ?? {})}`;
            assert.equal(r.status, 200, `${sent}: want 200 from ${want}, got ${describeReply(r)}`);
            assert.equal(
              r.workload,
              want,
              `${sent}: want ${want} (${want === 'reviews-v2' ? 'matched' : 'fallback'} route), got ${describeReply(r)}`,
            );
          }
        }
      });
    }
  });

  it('routing: the first matching route wins, even when a later one is more specific', async () => {
    const r = await send('first', '/first/second/x');
    assert.equal(r.workload, 'reviews-v2', `want v2 (http[0], prefix /first), got ${describeReply(r)}`);
    const other = await send('first', '/elsewhere');
    assert.equal(other.workload, 'reviews-v1', `want v1 (the catch-all), got ${describeReply(other)}`);
  });

  it('routing: a subset sends every request to the workloads with its labels', async () => {
    for (const [version, want] of [
      ['v1', 'reviews-v1'],
      ['v2', 'reviews-v2'],
      ['other', 'reviews-v3'],
    ] as const) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, () => send('subsets', '/', { headers: { 'x-version': version } })),
      );
      assert.deepEqual(
        countByWorkload(replies),
        { [want]: 10 },
        `x-version: ${version}: want all 10 requests at ${want}`,
      );
    }
  });

  it('routing: a weighted split 80/20 over 400 requests lands within ±40 of 320/80', async () => {
    const replies = await t.client.sendMany(400, 20, () => ['http://split.shop:9080/']);
    const counts = countByWorkload(replies);
    assert.deepEqual(
      Object.keys(counts).sort(),
      ['reviews-v1', 'reviews-v3'],
      `want only v1 and v3 to answer, got ${JSON.stringify(counts)}`,
    );
    // Binomial(400, 0.8): sd 8, so ±40 is five standard deviations.
    assertBetween(counts['reviews-v1'] ?? 0, 280, 360, 'requests at v1 (weight 80 of 400)');
  });

  it('routing: a destination of weight 0 is never chosen', async () => {
    const replies = await t.client.sendMany(50, 10, () => ['http://zero-weight.shop:9080/']);
    assert.deepEqual(
      countByWorkload(replies),
      { 'reviews-v1': 50 },
      'want all 50 requests at v1 (v2 has weight 0)',
    );
  });

  it('routing: a subset no DestinationRule defines answers 503 with flag NC', async () => {
    const key = testKey('subset-undefined');
    const r = await send('subset-missing', '/undefined', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 503, `want 503 (no cluster for subset v7), got ${describeReply(r)}`);
    assert.deepEqual(r.flags, ['NC'], `want flag NC, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 0, 'want no app to see the request');
  });

  it('routing: a subset whose labels select no workload answers 503 with flag UH', async () => {
    const key = testKey('subset-empty');
    const r = await send('subset-missing', '/', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 503, `want 503 (subset v9 has no endpoints), got ${describeReply(r)}`);
    assert.deepEqual(r.flags, ['UH'], `want flag UH, got ${describeReply(r)}`);
    assert.equal(t.fleet.hits(key), 0, 'want no app to see the request');
  });

  it('routing: a request no route matches gets 404 with flag NR and reaches no app', async () => {
    const key = testKey('nomatch');
    const r = await send('nomatch', '/other', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 404, `want 404 (no route), got ${describeReply(r)}`);
    assert.deepEqual(r.flags, ['NR'], `want flag NR, got ${describeReply(r)}`);
    assert.notEqual(r.body.trim(), '', 'want a reason in words in the body');
    assert.equal(t.fleet.hits(key), 0, 'want no app to see the request');
    const ok = await send('nomatch', '/only');
    assert.equal(ok.workload, 'reviews-v1', `want /only routed to v1, got ${describeReply(ok)}`);
  });

  it('routing: rewrite.uri replaces the matched prefix and keeps the query', async () => {
    const r = await send('rewrite', '/old/page?x=1');
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(r.seen?.path, '/new/page?x=1', `want the app to see /new/page?x=1, got ${r.seen?.path}`);
  });

  it('routing: rewrite.uriRegexRewrite substitutes capture groups in the path', async () => {
    const r = await send('rewrite', '/api/v2/items?x=1');
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(r.seen?.path, '/items/v2?x=1', `want the app to see /items/v2?x=1, got ${r.seen?.path}`);
  });

  it('routing: rewrite.authority is the Host the app sees', async () => {
    const r = await send('rewrite', '/host');
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(r.seen?.headers.host, 'backend.internal', 'want Host backend.internal at the app');
    assert.equal(r.seen?.path, '/host', 'want the path unchanged');
  });

  it('routing: redirect.uri answers 301 with Location on the same host, query kept, without the app', async () => {
    const key = testKey('redirect');
    const r = await send('redirect', '/old?x=1', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 301, `want 301 (Istio's default redirectCode), got ${describeReply(r)}`);
    assert.equal(r.headers.location, 'http://redirect.shop:9080/new?x=1', 'want Location with the new path');
    assert.equal(r.workload, undefined, 'want the proxy, not the app, to answer');
    assert.equal(t.fleet.hits(key), 0, 'want no app to see a redirected request');
  });

  it('routing: redirect.authority and redirectCode set the Location host and the status', async () => {
    const key = testKey('redirect-away');
    const r = await send('redirect', '/away/x', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 308, `want 308 (redirectCode), got ${describeReply(r)}`);
    assert.match(
      String(r.headers.location),
      /^http:\/\/elsewhere\.example(:9080)?\/landing$/,
      `want Location http://elsewhere.example/landing, got ${r.headers.location}`,
    );
    assert.equal(t.fleet.hits(key), 0, 'want no app to see a redirected request');
  });

  it('routing: redirect.port replaces the port; redirect.prefixRewrite replaces the matched prefix', async () => {
    const port = await send('redirect', '/port/x?q=1');
    assert.equal(port.status, 301, describeReply(port));
    assert.equal(
      port.headers.location,
      'http://redirect.shop:8443/port/x?q=1',
      'want the port 8443 in Location',
    );
    const prefix = await send('redirect', '/v1/items?q=1');
    assert.equal(prefix.status, 301, describeReply(prefix));
    assert.equal(
      prefix.headers.location,
      'http://redirect.shop:9080/v2/items?q=1',
      'want /v1/ replaced by /v2/',
    );
  });

  it("routing: a directResponse route's response headers are applied to the direct response", async () => {
    const r = await send('direct', '/headed');
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(r.body, 'with headers', 'want the configured body');
    assert.equal(r.headers['x-direct'], 'set-by-route', 'want headers.response.set on the direct response');
  });

  it('routing: directResponse answers its status and body, with no flag, and no app sees it', async () => {
    const key = testKey('direct');
    const r = await send('direct', '/teapot', { headers: { [TestHeader.key]: key } });
    assert.equal(r.status, 418, `want 418, got ${describeReply(r)}`);
    assert.equal(r.body, 'short and stout', 'want the configured body exactly');
    assert.deepEqual(r.flags, [], 'want no response flag on a reply the config asked for');
    assert.equal(t.fleet.hits(key), 0, 'want no app to see the request');
    const other = await send('direct', '/cup');
    assert.equal(other.workload, 'reviews-v1', `want other paths routed, got ${describeReply(other)}`);
  });

  it('routing: request headers set/add/remove are what the app sees', async () => {
    const r = await send('headers', '/route', {
      headers: { 'x-route-set': 'from-client', 'x-route-add': 'from-client', 'x-route-remove': 'gone' },
    });
    assert.equal(r.status, 200, describeReply(r));
    const h = r.seen?.headers ?? {};
    assert.equal(h['x-route-set'], 'from-route', 'want set to replace the caller value');
    assert.deepEqual(
      String(h['x-route-add']).split(/,\s*/),
      ['from-client', 'from-route'],
      `want add to keep the caller value and append, got ${h['x-route-add']}`,
    );
    assert.equal(h['x-route-remove'], undefined, 'want remove to drop the header');
  });

  it('routing: response headers set/add/remove are what the client sees', async () => {
    const r = await send('headers', '/route', {
      headers: {
        [TestHeader.responseHeaders]: JSON.stringify({ 'x-resp-set': 'from-app', 'x-resp-add': 'from-app' }),
      },
    });
    assert.equal(r.status, 200, describeReply(r));
    assert.equal(r.headers['x-resp-set'], 'from-route', 'want set to replace the app value');
    assert.deepEqual(
      String(r.headers['x-resp-add']).split(/,\s*/),
      ['from-app', 'from-route'],
      `want add to keep the app value and append, got ${r.headers['x-resp-add']}`,
    );
    assert.equal(r.headers[APP_INTERNAL_HEADER], undefined, `want ${APP_INTERNAL_HEADER} removed`);
  });

  it('routing: per-destination headers apply only to requests sent to that destination', async () => {
    const replies = await t.client.sendMany(20, 5, () => ['http://headers.shop:9080/dest']);
    for (const r of replies) {
      const version = r.workload?.slice('reviews-'.length);
      assert.ok(version === 'v1' || version === 'v2', `want v1 or v2 to answer, got ${describeReply(r)}`);
      assert.equal(
        r.seen?.headers['x-dest'],
        version,
        `want the app of ${version} to see x-dest: ${version}`,
      );
      assert.equal(
        r.headers['x-dest'],
        version,
        `want the response from ${version} to carry x-dest: ${version}`,
      );
    }
    assert.equal(Object.keys(countByWorkload(replies)).length, 2, 'want both destinations used (50/50)');
  });

  it('routing: a CORS preflight from an allowed origin is answered by the proxy with the allow headers', async () => {
    for (const origin of ['https://good.example', 'https://shop.trusted.example']) {
      const key = testKey('cors-preflight');
      const r = await send('cors', '/items', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'x-custom',
          [TestHeader.key]: key,
        },
      });
      assert.equal(r.status, 200, `origin ${origin}: want 200 to a preflight, got ${describeReply(r)}`);
      assert.equal(r.headers['access-control-allow-origin'], origin, `want the origin ${origin} allowed`);
      assert.deepEqual(
        String(r.headers['access-control-allow-methods']).split(/,\s*/),
        ['GET', 'POST'],
        'want the allowed methods',
      );
      assert.equal(r.headers['access-control-allow-headers'], 'x-custom', 'want the allowed headers');
      assert.equal(r.headers['access-control-max-age'], '86400', 'want maxAge 24h in seconds');
      assert.equal(r.headers['access-control-allow-credentials'], 'true', 'want credentials allowed');
      assert.equal(t.fleet.hits(key), 0, 'want the proxy to answer the preflight, not the app');
    }
  });

  it('routing: a CORS preflight from another origin gets no allow headers (forwarded to the app)', async () => {
    const key = testKey('cors-evil');
    const r = await send('cors', '/items', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        [TestHeader.key]: key,
      },
    });
    assert.equal(
      r.headers['access-control-allow-origin'],
      undefined,
      `want no allow-origin, got ${describeReply(r)}`,
    );
    assert.equal(r.headers['access-control-allow-methods'], undefined, 'want no allow-methods');
    assert.equal(
      t.fleet.hits(key),
      1,
      "want the preflight forwarded to the app (Istio's unmatchedPreflights FORWARD)",
    );
  });

  it('routing: a CORS request from an allowed origin gets allow-origin and expose headers on the app response', async () => {
    const good = await send('cors', '/items', { headers: { origin: 'https://good.example' } });
    assert.equal(good.workload, 'reviews-v1', describeReply(good));
    assert.equal(
      good.headers['access-control-allow-origin'],
      'https://good.example',
      'want the origin allowed',
    );
    assert.equal(good.headers['access-control-expose-headers'], 'x-app-workload', 'want the exposed headers');
    const evil = await send('cors', '/items', { headers: { origin: 'https://evil.example' } });
    assert.equal(evil.workload, 'reviews-v1', describeReply(evil));
    assert.equal(
      evil.headers['access-control-allow-origin'],
      undefined,
      'want no allow-origin for evil.example',
    );
  });

  it("routing: a delegate VirtualService routes within its parent's match", async () => {
    const jason = await send('delegated', '/reviews/1', { headers: { 'end-user': 'jason' } });
    assert.equal(jason.workload, 'reviews-v2', `want v2 (delegate http[0]), got ${describeReply(jason)}`);
    const anyone = await send('delegated', '/reviews/1');
    assert.equal(anyone.workload, 'reviews-v3', `want v3 (delegate http[1]), got ${describeReply(anyone)}`);
    const outside = await send('delegated', '/ratings', { headers: { 'end-user': 'jason' } });
    assert.equal(outside.workload, 'reviews-v1', `want v1 (parent http[1]), got ${describeReply(outside)}`);
  });
});
