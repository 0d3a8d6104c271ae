import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteMatch } from '../../wire/index.ts';
import { explain, formatExplanation } from './explain.ts';
import type { RouteRequest } from './route-request.ts';
import { req, route, SELF, vhost } from './routing.test-kit.ts';

// [case, one match block, request, the reason explain gives]
const reasons: [string, RouteMatch, Partial<RouteRequest>, string][] = [
  [
    'uri prefix',
    { uri: { prefix: '/api/v2' } },
    { path: '/v1/x' },
    'uri: "/api/v2" is not a prefix of "/v1/x"',
  ],
  ['uri exact', { uri: { exact: '/a' } }, { path: '/b?q=1' }, 'uri: "/b" is not "/a"'],
  [
    'uri exact ignoring case',
    { uri: { exact: '/a' }, ignoreUriCase: true },
    { path: '/b' },
    'uri: "/b" is not "/a" (ignoring case)',
  ],
  ['uri regex', { uri: { regex: '/v[0-9]' } }, { path: '/vx' }, 'uri: "/vx" does not match regex "/v[0-9]"'],
  ['method', { method: { exact: 'POST' } }, {}, 'method: "GET" is not "POST"'],
  ['port', { port: 8080 }, {}, 'port: request port 9080 is not 8080'],
  ['header missing', { headers: [{ name: 'end-user', isInverted: false }] }, {}, 'header end-user: missing'],
  [
    'header value missing',
    { headers: [{ name: 'end-user', value: { exact: 'jason' }, isInverted: false }] },
    {},
    'header end-user: missing (want exact "jason")',
  ],
  [
    'header value',
    { headers: [{ name: 'end-user', value: { exact: 'jason' }, isInverted: false }] },
    { headers: ['end-user', 'bob'] },
    'header end-user: "bob" is not "jason"',
  ],
  [
    'withoutHeaders',
    { headers: [{ name: 'end-user', value: { exact: 'jason' }, isInverted: true }] },
    { headers: ['end-user', 'jason'] },
    'withoutHeaders end-user: "jason" matches exact "jason"',
  ],
  [
    'withoutHeaders present',
    { headers: [{ name: 'x-debug', isInverted: true }] },
    { headers: ['x-debug', '1'] },
    'withoutHeaders x-debug: must be absent, got "1"',
  ],
  ['queryParams missing', { queryParams: [{ name: 'v' }] }, {}, 'queryParams v: missing'],
  [
    'queryParams value',
    { queryParams: [{ name: 'v', value: { exact: '1' } }] },
    { path: '/?v=2' },
    'queryParams v: "2" is not "1"',
  ],
  [
    'sourceLabels',
    { sourceLabels: { app: 'foo' } },
    {},
    'sourceLabels app=foo: this proxy has app=productpage',
  ],
  [
    'sourceLabels absent',
    { sourceLabels: { tier: 'web' } },
    {},
    'sourceLabels tier=web: this proxy has no label tier',
  ],
  [
    'sourceNamespace',
    { sourceNamespace: 'prod' },
    {},
    'sourceNamespace prod: this proxy is in namespace default',
  ],
  [
    'first failing condition (port before uri)',
    { port: 1, uri: { exact: '/x' } },
    { path: '/y' },
    'port: request port 9080 is not 1',
  ],
];

describe('explain', () => {
  for (const [name, match, request, want] of reasons) {
    it(`explain: says why a block fails on ${name}`, () => {
      const e = explain(vhost([route([match])]), req(request), SELF);
      assert.equal(e.routes[0]?.blocks[0]?.reason, want);
      assert.equal(e.chosen, undefined);
    });
  }

  it('explain: lists every route, the one chosen and the ones shadowed', () => {
    const vh = vhost([
      route(
        [{ name: 'jason', headers: [{ name: 'end-user', value: { exact: 'jason' }, isInverted: false }] }],
        {
          name: 'reviews-v2',
        },
      ),
      route([{ uri: { prefix: '/reviews' } }], {
        name: 'reviews-v1',
        origin: {
          kind: 'VirtualService',
          virtualServices: ['istio-system/main', 'default/reviews'],
          paths: ['http[0]', 'http[1]'],
        },
      }),
      route([], { name: 'default', origin: { kind: 'default', virtualServices: [], paths: [] } }),
    ]);
    const e = explain(vh, req({ path: '/reviews/1' }), SELF);
    assert.deepEqual(
      e.routes.map((r) => r.matched),
      [false, true, true],
    );
    assert.deepEqual(e.chosen, {
      index: 1,
      name: 'reviews-v1',
      origin: 'VirtualService istio-system/main http[0] → VirtualService default/reviews http[1]',
      matchIndex: 0,
    });
    assert.equal(
      formatExplanation(e),
      [
        'virtual host reviews.default.svc.cluster.local:9080:',
        '  route 0 "reviews-v2" (VirtualService default/reviews reviews-v2): no match',
        '    match 0 "jason": header end-user: missing (want exact "jason")',
        '  route 1 "reviews-v1" (VirtualService istio-system/main http[0] → VirtualService default/reviews http[1]): MATCHED by match 0',
        '  route 2 "default" (default route): would match, but an earlier route was chosen',
        'chosen: route 1 "reviews-v1" from VirtualService istio-system/main http[0] → VirtualService default/reviews http[1]',
      ].join('\n'),
    );
  });

  it('explain: says no route when none matches', () => {
    const e = explain(vhost([route([{ uri: { exact: '/a' } }], { name: 'a' })]), req({ path: '/b' }), SELF);
    assert.match(formatExplanation(e), /chosen: none — no route matches, the proxy answers 404 \(flag NR\)$/);
  });
});
