import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route, Snapshot } from '../wire/index.ts';
import { compile, RATINGS, REVIEWS, reviewsVs, routes, split } from './compile.test-kit.ts';

const V1 = `outbound|9080|v1|${REVIEWS}`;
const V2 = `outbound|9080|v2|${REVIEWS}`;
const REVIEWS_DR = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;

/** A route to v1 with the given match blocks (YAML list items, indented under `match:`). */
function matching(match: string): string {
  return reviewsVs(`  - match:
${match}
    route:
    - destination: {host: reviews, subset: v1}
`);
}

interface Case {
  name: string;
  yaml: string;
  /** What of the routes of reviews:9080 to compare. */
  pick: (rs: Route[], snap: Snapshot) => unknown;
  want: unknown;
}

const matchCases: Case[] = [
  {
    name: 'uri exact, prefix and regex',
    yaml: matching('    - uri: {exact: /a}\n    - uri: {prefix: /b}\n    - uri: {regex: "/c/[0-9]+"}'),
    pick: (rs) => rs[0]?.matches.map((m) => m.uri),
    want: [{ exact: '/a' }, { prefix: '/b' }, { regex: '/c/[0-9]+' }],
  },
  {
    name: 'scheme, method and authority',
    yaml: matching('    - {scheme: {exact: https}, method: {exact: GET}, authority: {prefix: reviews}}'),
    pick: (rs) => rs[0]?.matches[0],
    want: { scheme: { exact: 'https' }, method: { exact: 'GET' }, authority: { prefix: 'reviews' } },
  },
  {
    name: 'headers lower-cased, an empty match meaning present, withoutHeaders inverted',
    yaml: matching(
      '    - headers: {End-User: {exact: jason}, x-canary: {}}\n      withoutHeaders: {x-debug: {}}',
    ),
    pick: (rs) => rs[0]?.matches[0]?.headers,
    want: [
      { name: 'end-user', value: { exact: 'jason' }, isInverted: false },
      { name: 'x-canary', isInverted: false },
      { name: 'x-debug', isInverted: true },
    ],
  },
  {
    name: 'query parameters, present when empty',
    yaml: matching('    - queryParams: {v: {exact: "2"}, debug: {}}'),
    pick: (rs) => rs[0]?.matches[0]?.queryParams,
    want: [{ name: 'v', value: { exact: '2' } }, { name: 'debug' }],
  },
  {
    name: 'ignoreUriCase and the match name',
    yaml: matching('    - {name: api, uri: {prefix: /API}, ignoreUriCase: true}'),
    pick: (rs) => rs[0]?.matches[0],
    want: { name: 'api', uri: { prefix: '/API' }, ignoreUriCase: true },
  },
  {
    name: 'a port match kept for this port and dropped for another',
    yaml: matching('    - {port: 9080, uri: {prefix: /a}}\n    - {port: 5432, uri: {prefix: /b}}'),
    pick: (rs) => rs[0]?.matches,
    want: [{ port: 9080, uri: { prefix: '/a' } }],
  },
  {
    name: 'source labels and namespace of this proxy kept, others dropped',
    yaml: matching(
      '    - {sourceLabels: {app: client}, sourceNamespace: shop, uri: {prefix: /mine}}\n    - {sourceLabels: {app: other}, uri: {prefix: /theirs}}\n    - {sourceNamespace: books, uri: {prefix: /books}}',
    ),
    pick: (rs) => rs[0]?.matches,
    want: [{ sourceLabels: { app: 'client' }, sourceNamespace: 'shop', uri: { prefix: '/mine' } }],
  },
  {
    name: 'a match block for gateways other than mesh dropped, and the route with it when none is left',
    yaml: reviewsVs(
      `  - match: [{gateways: [shop/ingress], uri: {prefix: /gw}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{gateways: [mesh], uri: {prefix: /mesh}}]
    route: [{destination: {host: reviews, subset: v1}}]
`,
      '  gateways: [shop/ingress, mesh]\n',
    ),
    pick: (rs) => rs.map((r) => [r.name, r.matches.map((m) => m.uri)]),
    want: [['http[1]', [{ prefix: '/mesh' }]]],
  },
  {
    name: 'routes after one that matches everything left out',
    yaml: reviewsVs(`  - match: [{uri: {prefix: /}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v2}}]
`),
    pick: (rs) => rs.map((r) => r.name),
    want: ['http[0]'],
  },
];

const actionCases: Case[] = [
  {
    name: 'a single destination without weight takes 100',
    yaml: reviewsVs('  - route: [{destination: {host: reviews, subset: v1}}]\n'),
    pick: (rs) => split(rs[0]),
    want: [`${V1}=100`],
  },
  {
    name: 'weights kept, a zero weight among several dropped',
    yaml: reviewsVs(`  - route:
    - {destination: {host: reviews, subset: v1}, weight: 75}
    - {destination: {host: reviews, subset: v2}, weight: 25}
    - {destination: {host: ratings}, weight: 0}
`),
    pick: (rs) => split(rs[0]),
    want: [`${V1}=75`, `${V2}=25`],
  },
  {
    name: "a destination without port on another service: the service's only port",
    yaml: reviewsVs('  - route: [{destination: {host: ratings}}]\n'),
    pick: (rs) => split(rs[0]),
    want: [`outbound|8080||${RATINGS}=100`],
  },
  {
    name: 'a destination port given wins',
    yaml: reviewsVs('  - route: [{destination: {host: reviews, port: {number: 5432}}}]\n'),
    pick: (rs) => split(rs[0]),
    want: [`outbound|5432||${REVIEWS}=100`],
  },
  {
    name: 'rewrite: uri, and authority from a request header set',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    rewrite: {uri: /v2/}
    headers: {request: {set: {Host: reviews.internal, X-A: b}}}
`),
    pick: (rs) => [rs[0]?.action.kind === 'forward' && rs[0].action.rewrite, rs[0]?.headers],
    want: [{ uri: '/v2/', authority: 'reviews.internal' }, { request: { set: [['x-a', 'b']] } }],
  },
  {
    name: 'rewrite: uriRegexRewrite',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    rewrite: {uriRegexRewrite: {match: "^/old/(.*)$", rewrite: "/new/\\\\1"}}
`),
    pick: (rs) => rs[0]?.action.kind === 'forward' && rs[0].action.rewrite,
    want: { uriRegex: { match: '^/old/(.*)$', rewrite: '/new/\\1' } },
  },
  {
    name: 'redirect with the default 301',
    yaml: reviewsVs('  - redirect: {uri: /new, authority: example.com}\n'),
    pick: (rs) => [rs[0]?.action, rs[0]?.retry],
    want: [{ kind: 'redirect', uri: '/new', authority: 'example.com', status: 301 }, undefined],
  },
  {
    name: 'redirect with a code, a scheme and a derived port',
    yaml: reviewsVs('  - redirect: {scheme: https, redirectCode: 308, derivePort: FROM_REQUEST_PORT}\n'),
    pick: (rs) => rs[0]?.action,
    want: { kind: 'redirect', scheme: 'https', derivePort: 'FROM_REQUEST_PORT', status: 308 },
  },
  {
    name: 'direct response with a string body, base64-encoded',
    yaml: reviewsVs('  - directResponse: {status: 503, body: {string: "down"}}\n'),
    pick: (rs) => rs[0]?.action,
    want: { kind: 'direct', status: 503, bodyBase64: 'ZG93bg==' },
  },
  {
    name: 'direct response with bytes, kept as given',
    yaml: reviewsVs('  - directResponse: {status: 200, body: {bytes: "aGk="}}\n'),
    pick: (rs) => rs[0]?.action,
    want: { kind: 'direct', status: 200, bodyBase64: 'aGk=' },
  },
  {
    name: 'headers: route-level lower-cased, per-destination on the destination',
    yaml: reviewsVs(`  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
      headers: {response: {add: {X-Version: v1}}}
    - destination: {host: reviews, subset: v2}
      weight: 50
    headers:
      request: {add: {X-Trace: "on"}, remove: [Cookie]}
      response: {set: {Cache-Control: no-store}}
`),
    pick: (rs) => [rs[0]?.headers, rs[0]?.action.kind === 'forward' && rs[0].action.destinations[0]?.headers],
    want: [
      {
        request: { add: [['x-trace', 'on']], remove: ['cookie'] },
        response: { set: [['cache-control', 'no-store']] },
      },
      { response: { add: [['x-version', 'v1']] } },
    ],
  },
];

const policyCases: Case[] = [
  {
    name: 'timeout in milliseconds',
    yaml: reviewsVs('  - route: [{destination: {host: reviews}}]\n    timeout: 1.5s\n'),
    pick: (rs) => rs[0]?.timeoutMs,
    want: 1500,
  },
  {
    name: "no retries: Istio's default policy",
    yaml: reviewsVs('  - route: [{destination: {host: reviews}}]\n'),
    pick: (rs) => rs[0]?.retry,
    want: {
      attempts: 2,
      retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
      retriableStatusCodes: [],
      retryRemoteLocalities: false,
      backoff: { baseMs: 25, maxMs: 250 },
    },
  },
  {
    name: 'retries: conditions and status codes split, per-try timeout, back-off',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    retries: {attempts: 3, retryOn: "5xx,503,reset", perTryTimeout: 2s, retryRemoteLocalities: true, backoff: 100ms}
`),
    pick: (rs) => rs[0]?.retry,
    want: {
      attempts: 3,
      retryOn: ['5xx', 'reset', 'retriable-status-codes'],
      retriableStatusCodes: [503],
      retryRemoteLocalities: true,
      perTryTimeoutMs: 2000,
      backoff: { baseMs: 100, maxMs: 1000 },
    },
  },
  {
    name: 'retries with attempts 0: none',
    yaml: reviewsVs('  - route: [{destination: {host: reviews}}]\n    retries: {attempts: 0}\n'),
    pick: (rs) => rs[0]?.retry,
    want: undefined,
  },
  {
    name: 'fault: delay with percentage, abort with a gRPC status',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 10}}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 0.5}}
`),
    pick: (rs) => rs[0]?.fault,
    want: { delay: { fixedMs: 7000, percent: 10 }, abort: { grpcStatus: 'UNAVAILABLE', percent: 0.5 } },
  },
  {
    name: "fault: the legacy integer percent, and a missing percentage is 0% (Istio's behaviour)",
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    fault:
      delay: {fixedDelay: 1s, percent: 30}
      abort: {httpStatus: 500}
`),
    pick: (rs) => rs[0]?.fault,
    want: { delay: { fixedMs: 1000, percent: 30 }, abort: { httpStatus: 500, percent: 0 } },
  },
  {
    name: 'mirror at 100% by default, to the destination host',
    yaml: reviewsVs(
      '  - route: [{destination: {host: reviews, subset: v1}}]\n    mirror: {host: reviews, subset: v2}\n',
    ),
    pick: (rs) => rs[0]?.mirrors,
    want: [{ cluster: V2, host: REVIEWS, percent: 100 }],
  },
  {
    name: 'mirrors with percentages, 0% left out',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews, subset: v1}}]
    mirrors:
    - {destination: {host: reviews, subset: v2}, percentage: {value: 25}}
    - {destination: {host: ratings}, percentage: {value: 0}}
`),
    pick: (rs) => rs[0]?.mirrors,
    want: [{ cluster: V2, host: REVIEWS, percent: 25 }],
  },
  {
    name: 'mirrorPercentage on a single mirror',
    yaml: reviewsVs(
      '  - route: [{destination: {host: reviews, subset: v1}}]\n    mirror: {host: ratings}\n    mirrorPercentage: {value: 12.5}\n',
    ),
    pick: (rs) => rs[0]?.mirrors,
    want: [{ cluster: `outbound|8080||${RATINGS}`, host: RATINGS, percent: 12.5 }],
  },
  {
    name: 'CORS: origins as string matches, max age in seconds, FORWARD by default',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    corsPolicy:
      allowOrigins: [{exact: "https://a.example"}, {regex: "https://.*\\\\.b\\\\.example"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a]
      exposeHeaders: [x-b]
      maxAge: 24h
      allowCredentials: true
`),
    pick: (rs) => rs[0]?.cors,
    want: {
      allowOrigins: [{ exact: 'https://a.example' }, { regex: 'https://.*\\.b\\.example' }],
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['x-a'],
      exposeHeaders: ['x-b'],
      maxAgeSeconds: 86400,
      allowCredentials: true,
      unmatchedPreflights: 'FORWARD',
    },
  },
  {
    name: 'CORS: the legacy allowOrigin as exact matches, IGNORE kept',
    yaml: reviewsVs(`  - route: [{destination: {host: reviews}}]
    corsPolicy: {allowOrigin: ["https://a.example"], unmatchedPreflights: IGNORE}
`),
    pick: (rs) => rs[0]?.cors,
    want: {
      allowOrigins: [{ exact: 'https://a.example' }],
      allowMethods: [],
      allowHeaders: [],
      exposeHeaders: [],
      unmatchedPreflights: 'IGNORE',
    },
  },
];

describe('compile: VirtualService HTTP routes', () => {
  for (const [group, cases] of [
    ['match', matchCases],
    ['action', actionCases],
    ['policy', policyCases],
  ] as const) {
    for (const c of cases) {
      it(`http route ${group}: ${c.name}`, () => {
        const snap = compile(`${c.yaml}${REVIEWS_DR}`);
        assert.deepEqual(c.pick(routes(snap), snap), c.want);
      });
    }
  }

  it('http route: names a route by its name, else http[i], and records where it came from', () => {
    const snap = compile(
      reviewsVs(`  - name: canary
    match: [{headers: {x-canary: {exact: "1"}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
`) + REVIEWS_DR,
    );
    assert.deepEqual(
      routes(snap).map((r) => [r.name, r.origin]),
      [
        ['canary', { kind: 'VirtualService', virtualServices: ['shop/reviews'], paths: ['http[0]'] }],
        ['http[1]', { kind: 'VirtualService', virtualServices: ['shop/reviews'], paths: ['http[1]'] }],
      ],
    );
  });

  it('http route: applies to every HTTP port of the host, each with its own port in clusters', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata: {name: multi, namespace: shop}
spec: {selector: {app: multi}, ports: [{name: http, port: 80}, {name: http-admin, port: 8081}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: multi, namespace: shop}
spec:
  hosts: [multi]
  http:
  - route: [{destination: {host: multi}}]
`;
    const snap = compile(yaml);
    const host = 'multi.shop.svc.cluster.local';
    assert.deepEqual(split(routes(snap, `${host}:80`)[0]), [`outbound|80||${host}=100`]);
    assert.deepEqual(split(routes(snap, `${host}:8081`)[0]), [`outbound|8081||${host}=100`]);
  });

  it('http route: a service without a VirtualService gets one default route with default retries', () => {
    const snap = compile('');
    const [only, ...rest] = routes(snap, `${RATINGS}:8080`);
    assert.deepEqual(rest, []);
    assert.deepEqual(only?.origin, { kind: 'default', virtualServices: [], paths: [] });
    assert.deepEqual(split(only), [`outbound|8080||${RATINGS}=100`]);
    assert.equal(only?.retry?.attempts, 2);
  });

  it('http route: a destination subset no DestinationRule defines gets an empty cluster, not a broken snapshot', () => {
    const snap = compile(reviewsVs('  - route: [{destination: {host: reviews, subset: v9}}]\n'));
    const empty = snap.clusters.find((c) => c.name === `outbound|9080|v9|${REVIEWS}`);
    assert.deepEqual([empty?.subset, empty?.endpoints], ['v9', []]);
  });
});
