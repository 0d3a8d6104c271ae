import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rewrite, RouteMatch } from '../../wire/index.ts';
import { compileVirtualHost } from './compile-virtual-host.ts';
import { req, route, SELF, vhost } from './routing.test-kit.ts';

interface Case {
  name: string;
  /** The route's one match block; undefined: a route without blocks. */
  match: RouteMatch | undefined;
  rewrite: Rewrite;
  path: string;
  want: string;
}

const cases: Case[] = [
  {
    name: 'prefix: replaces the matched prefix',
    match: { uri: { prefix: '/api/v1' } },
    rewrite: { uri: '/v2' },
    path: '/api/v1/users?x=1',
    want: '/v2/users?x=1',
  },
  {
    name: 'prefix: "/" on "/api/" keeps the rest',
    match: { uri: { prefix: '/api/' } },
    rewrite: { uri: '/' },
    path: '/api/users',
    want: '/users',
  },
  {
    name: 'prefix: "/" on "/api" leaves a double slash (as Envoy)',
    match: { uri: { prefix: '/api' } },
    rewrite: { uri: '/' },
    path: '/api/users',
    want: '//users',
  },
  {
    name: 'prefix: ignoreUriCase replaces what matched',
    match: { uri: { prefix: '/API' }, ignoreUriCase: true },
    rewrite: { uri: '/v2' },
    path: '/api/x',
    want: '/v2/x',
  },
  {
    name: 'exact: replaces the whole path, keeps the query',
    match: { uri: { exact: '/old' } },
    rewrite: { uri: '/new' },
    path: '/old?a=1',
    want: '/new?a=1',
  },
  {
    name: 'regex match: replaces the whole path',
    match: { uri: { regex: '/u/[0-9]+' } },
    rewrite: { uri: '/user' },
    path: '/u/42?v=1',
    want: '/user?v=1',
  },
  {
    name: 'no uri match: the prefix is "/"',
    match: { method: { exact: 'GET' } },
    rewrite: { uri: '/v2/' },
    path: '/items',
    want: '/v2/items',
  },
  {
    name: 'route without blocks: the prefix is "/"',
    match: undefined,
    rewrite: { uri: '/base/' },
    path: '/x?y',
    want: '/base/x?y',
  },
  {
    name: 'authority only: the path is kept',
    match: { uri: { prefix: '/' } },
    rewrite: { authority: 'ratings' },
    path: '/a',
    want: '/a',
  },
  {
    name: 'uriRegexRewrite: groups swap',
    match: { uri: { prefix: '/service' } },
    rewrite: { uriRegex: { match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } },
    path: '/service/foo/v1/api?k=v',
    want: '/v1/api/instance/foo?k=v',
  },
  {
    name: 'uriRegexRewrite: every match is replaced',
    match: undefined,
    rewrite: { uriRegex: { match: 'one', rewrite: 'two' } },
    path: '/xxx/one/yyy/one/zzz',
    want: '/xxx/two/yyy/two/zzz',
  },
  {
    name: 'uriRegexRewrite: \\0 is the whole match, $ is literal',
    match: undefined,
    rewrite: { uriRegex: { match: '/a', rewrite: '\\0$1\\\\' } },
    path: '/a',
    want: '/a$1\\',
  },
  {
    name: 'uriRegexRewrite: the query is not rewritten',
    match: undefined,
    rewrite: { uriRegex: { match: 'a', rewrite: 'b' } },
    path: '/a?a=a',
    want: '/b?a=a',
  },
  {
    name: 'uriRegexRewrite: an empty result leaves the path',
    match: undefined,
    rewrite: { uriRegex: { match: '^/.*$', rewrite: '' } },
    path: '/x',
    want: '/x',
  },
];

describe('rewrite', () => {
  for (const c of cases) {
    it(`rewrite: ${c.name}`, () => {
      const r = route(c.match === undefined ? [] : [c.match], {
        action: {
          kind: 'forward',
          destinations: [{ cluster: 'c', weight: 100, host: 'c' }],
          rewrite: c.rewrite,
        },
      });
      const sel = compileVirtualHost(vhost([r]), SELF).select(req({ path: c.path }));
      assert.ok(sel !== undefined, `route should match ${c.path}`);
      assert.equal(sel.rewritePath(c.path), c.want, `rewrite of ${c.path}`);
    });
  }
  it('rewrite: authority is offered as is', () => {
    const r = route([], {
      action: { kind: 'forward', destinations: [], rewrite: { authority: 'ratings:9080' } },
    });
    assert.equal(compileVirtualHost(vhost([r]), SELF).select(req())?.rewriteAuthority, 'ratings:9080');
  });
  it('rewrite: refuses a \\N beyond the groups of the regex', () => {
    const r = route([], {
      name: 'bad',
      action: { kind: 'forward', destinations: [], rewrite: { uriRegex: { match: '/(a)', rewrite: '\\2' } } },
    });
    assert.throws(
      () => compileVirtualHost(vhost([r]), SELF),
      /rewrite: uriRegexRewrite rewrite "\\\\2" uses \\2, but "\/\(a\)" has 1 group/,
    );
  });
});
