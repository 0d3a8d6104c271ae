import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderMatch, RouteMatch } from '../../wire/index.ts';
import { compileVirtualHost } from './compile-virtual-host.ts';
import { explainCompiled } from './explain.ts';
import type { RouteRequest } from './route-request.ts';
import { req, route, SELF, vhost } from './routing.test-kit.ts';

interface Case {
  name: string;
  /** Match blocks of route 0; a catch-all route 1 follows unless `alone`. */
  matches: RouteMatch[];
  req: Partial<RouteRequest>;
  /** true: route 0 is chosen; false: it is not. */
  want: boolean;
}

const h = (name: string, value?: HeaderMatch['value'], isInverted = false): HeaderMatch =>
  value === undefined ? { name, isInverted } : { name, value, isInverted };

const cases: Case[] = [
  // uri
  {
    name: 'uri prefix matches',
    matches: [{ uri: { prefix: '/api' } }],
    req: { path: '/api/v1' },
    want: true,
  },
  {
    name: 'uri prefix is not a segment match',
    matches: [{ uri: { prefix: '/api' } }],
    req: { path: '/apix' },
    want: true,
  },
  { name: 'uri prefix fails', matches: [{ uri: { prefix: '/api' } }], req: { path: '/v1/api' }, want: false },
  {
    name: 'uri prefix ignores the query',
    matches: [{ uri: { prefix: '/a?x' } }],
    req: { path: '/a?x=1' },
    want: false,
  },
  {
    name: 'uri exact ignores the query',
    matches: [{ uri: { exact: '/a' } }],
    req: { path: '/a?x=1' },
    want: true,
  },
  {
    name: 'uri exact ignores the fragment',
    matches: [{ uri: { exact: '/a' } }],
    req: { path: '/a#top' },
    want: true,
  },
  {
    name: 'uri exact fails on a longer path',
    matches: [{ uri: { exact: '/a' } }],
    req: { path: '/a/b' },
    want: false,
  },
  {
    name: 'uri exact is case-sensitive',
    matches: [{ uri: { exact: '/API' } }],
    req: { path: '/api' },
    want: false,
  },
  {
    name: 'uri exact with ignoreUriCase',
    matches: [{ uri: { exact: '/API' }, ignoreUriCase: true }],
    req: { path: '/api' },
    want: true,
  },
  {
    name: 'uri prefix with ignoreUriCase',
    matches: [{ uri: { prefix: '/Api' }, ignoreUriCase: true }],
    req: { path: '/aPI/v1' },
    want: true,
  },
  {
    name: 'uri regex matches the whole path',
    matches: [{ uri: { regex: '/api/v[0-9]+' } }],
    req: { path: '/api/v2?x=1' },
    want: true,
  },
  {
    name: 'uri regex is anchored',
    matches: [{ uri: { regex: '/api' } }],
    req: { path: '/api/v1' },
    want: false,
  },
  {
    name: 'uri regex ignores ignoreUriCase (as Envoy does)',
    matches: [{ uri: { regex: '/api' }, ignoreUriCase: true }],
    req: { path: '/API' },
    want: false,
  },
  // method, scheme, authority, port
  { name: 'method exact', matches: [{ method: { exact: 'POST' } }], req: { method: 'POST' }, want: true },
  {
    name: 'method exact fails',
    matches: [{ method: { exact: 'POST' } }],
    req: { method: 'GET' },
    want: false,
  },
  { name: 'method regex', matches: [{ method: { regex: 'GET|HEAD' } }], req: { method: 'HEAD' }, want: true },
  { name: 'scheme exact', matches: [{ scheme: { exact: 'https' } }], req: { scheme: 'http' }, want: false },
  {
    name: 'authority prefix',
    matches: [{ authority: { prefix: 'reviews' } }],
    req: { authority: 'reviews:9080' },
    want: true,
  },
  {
    name: 'authority exact includes the port',
    matches: [{ authority: { exact: 'reviews' } }],
    req: {},
    want: false,
  },
  { name: 'port matches', matches: [{ port: 9080 }], req: { port: 9080 }, want: true },
  { name: 'port fails', matches: [{ port: 9080 }], req: { port: 9081 }, want: false },
  // headers
  {
    name: 'header exact',
    matches: [{ headers: [h('end-user', { exact: 'jason' })] }],
    req: { headers: ['end-user', 'jason'] },
    want: true,
  },
  {
    name: 'header exact fails',
    matches: [{ headers: [h('end-user', { exact: 'jason' })] }],
    req: { headers: ['end-user', 'bob'] },
    want: false,
  },
  {
    name: 'header exact on a missing header',
    matches: [{ headers: [h('end-user', { exact: '' })] }],
    req: {},
    want: false,
  },
  {
    name: 'header prefix',
    matches: [{ headers: [h('x-v', { prefix: 'v2' })] }],
    req: { headers: ['x-v', 'v2.1'] },
    want: true,
  },
  {
    name: 'header regex',
    matches: [{ headers: [h('x-v', { regex: 'v[0-9]' })] }],
    req: { headers: ['x-v', 'v7'] },
    want: true,
  },
  {
    name: 'header present',
    matches: [{ headers: [h('x-debug')] }],
    req: { headers: ['x-debug', ''] },
    want: true,
  },
  {
    name: 'header present fails',
    matches: [{ headers: [h('x-debug')] }],
    req: { headers: ['x-other', '1'] },
    want: false,
  },
  {
    name: 'header regex "*" means present (Istio)',
    matches: [{ headers: [h('x-debug', { regex: '*' })] }],
    req: { headers: ['x-debug', 'a'] },
    want: true,
  },
  {
    name: 'header values join with "," for matching',
    matches: [{ headers: [h('x-v', { exact: 'a,b' })] }],
    req: { headers: ['x-v', 'a', 'accept', '*/*', 'x-v', 'b'] },
    want: true,
  },
  {
    name: 'header joined value is not the first value',
    matches: [{ headers: [h('x-v', { exact: 'a' })] }],
    req: { headers: ['x-v', 'a', 'x-v', 'b'] },
    want: false,
  },
  {
    name: 'header host reads the authority',
    matches: [{ headers: [h('host', { exact: 'reviews:9080' })] }],
    req: {},
    want: true,
  },
  {
    name: 'withoutHeaders excludes a matching value',
    matches: [{ headers: [h('end-user', { exact: 'jason' }, true)] }],
    req: { headers: ['end-user', 'jason'] },
    want: false,
  },
  {
    name: 'withoutHeaders allows another value',
    matches: [{ headers: [h('end-user', { exact: 'jason' }, true)] }],
    req: { headers: ['end-user', 'bob'] },
    want: true,
  },
  {
    name: 'withoutHeaders allows a missing header',
    matches: [{ headers: [h('end-user', { exact: 'jason' }, true)] }],
    req: {},
    want: true,
  },
  {
    name: 'withoutHeaders tests a missing header as "" (prefix "" excludes it)',
    matches: [{ headers: [h('end-user', { prefix: '' }, true)] }],
    req: {},
    want: false,
  },
  {
    name: 'withoutHeaders present: header must be absent',
    matches: [{ headers: [h('x-debug', undefined, true)] }],
    req: { headers: ['x-debug', '1'] },
    want: false,
  },
  {
    name: 'withoutHeaders present: absent passes',
    matches: [{ headers: [h('x-debug', undefined, true)] }],
    req: {},
    want: true,
  },
  // queryParams
  {
    name: 'queryParams exact',
    matches: [{ queryParams: [{ name: 'v', value: { exact: '2' } }] }],
    req: { path: '/?a=1&v=2' },
    want: true,
  },
  {
    name: 'queryParams exact fails',
    matches: [{ queryParams: [{ name: 'v', value: { exact: '2' } }] }],
    req: { path: '/?v=3' },
    want: false,
  },
  {
    name: 'queryParams regex',
    matches: [{ queryParams: [{ name: 'id', value: { regex: '\\d+' } }] }],
    req: { path: '/?id=123' },
    want: true,
  },
  {
    name: 'queryParams regex is anchored',
    matches: [{ queryParams: [{ name: 'id', value: { regex: '\\d+' } }] }],
    req: { path: '/?id=a123' },
    want: false,
  },
  {
    name: 'queryParams prefix',
    matches: [{ queryParams: [{ name: 'q', value: { prefix: 'ab' } }] }],
    req: { path: '/?q=abc' },
    want: true,
  },
  {
    name: 'queryParams present',
    matches: [{ queryParams: [{ name: 'debug' }] }],
    req: { path: '/x?debug' },
    want: true,
  },
  {
    name: 'queryParams present fails',
    matches: [{ queryParams: [{ name: 'debug' }] }],
    req: { path: '/x?nodebug=1' },
    want: false,
  },
  {
    name: 'queryParams exact "" for ?key',
    matches: [{ queryParams: [{ name: 'k', value: { exact: '' } }] }],
    req: { path: '/?k' },
    want: true,
  },
  {
    name: 'queryParams first value wins',
    matches: [{ queryParams: [{ name: 'v', value: { exact: '1' } }] }],
    req: { path: '/?v=1&v=2' },
    want: true,
  },
  {
    name: 'queryParams are not percent-decoded',
    matches: [{ queryParams: [{ name: 'q', value: { exact: 'a b' } }] }],
    req: { path: '/?q=a%20b' },
    want: false,
  },
  {
    name: 'queryParams ignore the fragment',
    matches: [{ queryParams: [{ name: 'q', value: { exact: '1' } }] }],
    req: { path: '/?q=1#x' },
    want: true,
  },
  // source conditions, decided for SELF (app=productpage, namespace default)
  {
    name: 'sourceLabels of this proxy',
    matches: [{ sourceLabels: { app: 'productpage' } }],
    req: {},
    want: true,
  },
  {
    name: 'sourceLabels of another workload',
    matches: [{ sourceLabels: { app: 'ratings' } }],
    req: {},
    want: false,
  },
  { name: 'sourceNamespace of this proxy', matches: [{ sourceNamespace: 'default' }], req: {}, want: true },
  { name: 'sourceNamespace of another', matches: [{ sourceNamespace: 'prod' }], req: {}, want: false },
  // combinations
  {
    name: 'conditions of one block AND',
    matches: [
      { uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: [h('end-user', { exact: 'jason' })] },
    ],
    req: { path: '/api', method: 'GET', headers: ['end-user', 'bob'] },
    want: false,
  },
  {
    name: 'conditions of one block all hold',
    matches: [
      { uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: [h('end-user', { exact: 'jason' })] },
    ],
    req: { path: '/api', method: 'GET', headers: ['end-user', 'jason'] },
    want: true,
  },
  {
    name: 'blocks OR',
    matches: [{ uri: { exact: '/a' } }, { uri: { exact: '/b' } }],
    req: { path: '/b' },
    want: true,
  },
  {
    name: 'a block excluded by source does not OR',
    matches: [{ uri: { exact: '/a' }, sourceLabels: { app: 'ratings' } }, { uri: { exact: '/b' } }],
    req: { path: '/a' },
    want: false,
  },
  {
    name: 'no blocks match every request',
    matches: [],
    req: { path: '/anything', method: 'DELETE' },
    want: true,
  },
];

/** Every table runs against both implementations of select(): the plain scan and the segment index. */
const MODES = [
  ['scan', { indexMinCandidates: Number.POSITIVE_INFINITY }],
  ['index', { indexMinCandidates: 0 }],
] as const;

describe('compileVirtualHost select', () => {
  for (const c of cases) {
    for (const [mode, options] of MODES) {
      it(`select (${mode}): ${c.want ? 'chooses' : 'skips'} the route when ${c.name}`, () => {
        const routes = [route(c.matches, { name: 'r0' }), route([], { name: 'catch-all' })];
        const compiled = compileVirtualHost(vhost(routes), SELF, options);
        const request = req(c.req);
        const got = compiled.select(request);
        assert.equal(
          got?.route.index,
          c.want ? 0 : 1,
          `request ${JSON.stringify(c.req)}: want route ${c.want ? 0 : 1}`,
        );
        // The same table through explain: its verdict on route 0 and its choice agree with select().
        const e = explainCompiled(compiled, request);
        assert.equal(e.routes[0]?.matched, c.want, 'explain disagrees with select on route 0');
        assert.equal(e.chosen?.index, got?.route.index, 'explain chose another route');
      });
    }
  }
});

describe('compileVirtualHost segment index', () => {
  // Keyed and unkeyed routes interleaved: the index must keep route order.
  const routes = [
    route([{ uri: { prefix: '/reviews/v2/' } }], { name: 'keyed-v2' }),
    route([{ uri: { prefix: '/rev' } }, { uri: { exact: '/ratings' } }], { name: 'short-prefix-or-exact' }),
    route([{ uri: { regex: '/reviews/[0-9]+' } }], { name: 'keyed-regex' }),
    route([{ uri: { prefix: '/REVIEWS/' }, ignoreUriCase: true }], { name: 'nocase' }),
    route([{ method: { exact: 'DELETE' } }], { name: 'no-uri' }),
    route([{ uri: { exact: '/reviews' } }], { name: 'keyed-exact' }),
    route([{ uri: { prefix: '/' } }], { name: 'root' }),
  ];
  // [path, method, route name chosen]
  const table: [string, string, string | undefined][] = [
    ['/reviews/v2/1', 'GET', 'keyed-v2'],
    ['/reviews/7', 'GET', 'short-prefix-or-exact'],
    ['/ratings', 'GET', 'short-prefix-or-exact'],
    ['/ratings/1', 'GET', 'root'],
    ['/Reviews/x', 'GET', 'nocase'],
    ['/x', 'DELETE', 'no-uri'],
    ['/x', 'GET', 'root'],
    ['*', 'OPTIONS', undefined],
    ['', 'GET', undefined],
  ];
  for (const [path, method, want] of table) {
    for (const [mode, options] of MODES) {
      it(`select (${mode}): ${method} ${JSON.stringify(path)} takes ${want ?? 'no route'}`, () => {
        const compiled = compileVirtualHost(vhost(routes), SELF, options);
        assert.equal(compiled.select(req({ path, method }))?.route.route.name, want);
      });
    }
  }
});

describe('compileVirtualHost order and results', () => {
  it('select: the first matching route wins', () => {
    const compiled = compileVirtualHost(
      vhost([route([{ uri: { prefix: '/a/b' } }]), route([{ uri: { prefix: '/a' } }]), route([])]),
      SELF,
    );
    assert.equal(compiled.select(req({ path: '/a/b/c' }))?.route.index, 0);
    assert.equal(compiled.select(req({ path: '/a/c' }))?.route.index, 1);
    assert.equal(compiled.select(req({ path: '/z' }))?.route.index, 2);
  });
  it('select: undefined when no route matches', () => {
    const compiled = compileVirtualHost(vhost([route([{ uri: { exact: '/a' } }])]), SELF);
    assert.equal(compiled.select(req({ path: '/b' })), undefined);
  });
  it('select: names the block that matched and returns the same object each time', () => {
    const compiled = compileVirtualHost(
      vhost([route([{ uri: { exact: '/a' } }, { uri: { exact: '/b' } }])]),
      SELF,
    );
    const a = compiled.select(req({ path: '/b' }));
    assert.equal(a?.matchIndex, 1);
    assert.equal(
      compiled.select(req({ path: '/b' })),
      a,
      'selections are prebuilt, not allocated per request',
    );
  });
  it('select: routes after a catch-all are never candidates', () => {
    const compiled = compileVirtualHost(vhost([route([]), route([{ uri: { exact: '/a' } }])]), SELF);
    assert.equal(compiled.candidates.length, 1);
  });
  it('compile: refuses every regex JavaScript cannot run, in one error', () => {
    const bad = vhost([
      route([{ uri: { regex: '(?=x)' } }], { name: 'one' }),
      route([{ headers: [h('x', { regex: '(a)\\1' })] }], { name: 'two' }),
    ]);
    assert.throws(
      () => compileVirtualHost(bad, SELF),
      (err: Error & { code?: string; details?: { problems: string[] } }) =>
        err.code === 'ALDER_SNAPSHOT_INVALID' &&
        err.details?.problems.length === 2 &&
        /routes\[0\] "one" \(VirtualService default\/reviews one\) matches\[0\]\.uri: RE2 regex/.test(
          err.message,
        ) &&
        /routes\[1\] "two" .*matches\[0\]\.headers\[0\]: .*back reference/.test(err.message),
    );
  });
  it('compile: weights, header plans and direct responses are ready', () => {
    const r = route([], {
      action: { kind: 'direct', status: 418, bodyBase64: Buffer.from('teapot').toString('base64') },
    });
    const compiled = compileVirtualHost(vhost([r]), SELF);
    const action = compiled.routes[0]?.action;
    assert.equal(action?.kind, 'direct');
    if (action?.kind === 'direct') assert.equal(action.response.body.toString(), 'teapot');
  });
});
