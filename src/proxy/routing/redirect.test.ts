import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RedirectAction } from '../../wire/index.ts';
import { compileDirectResponse } from './direct-response.ts';
import { redirectReply } from './redirect.ts';
import type { RouteRequest } from './route-request.ts';
import { req } from './routing.test-kit.ts';

interface Case {
  name: string;
  action: Partial<RedirectAction>;
  req: Partial<RouteRequest>;
  want: string;
}

// The request defaults to http://reviews:9080/ on port 9080.
const cases: Case[] = [
  {
    name: 'uri replaces the path and keeps the query',
    action: { uri: '/v2' },
    req: { path: '/v1?a=1' },
    want: 'http://reviews:9080/v2?a=1',
  },
  {
    name: 'a query in uri replaces the request query',
    action: { uri: '/v2?b=2' },
    req: { path: '/v1?a=1' },
    want: 'http://reviews:9080/v2?b=2',
  },
  {
    name: 'uri without a leading slash gets one',
    action: { uri: 'v2' },
    req: { path: '/v1' },
    want: 'http://reviews:9080/v2',
  },
  {
    name: 'no uri keeps the path',
    action: { authority: 'ratings' },
    req: { path: '/a?b' },
    want: 'http://ratings/a?b',
  },
  {
    name: 'authority replaces host and port',
    action: { authority: 'new.example.com' },
    req: {},
    want: 'http://new.example.com/',
  },
  { name: 'port replaces the host port', action: { port: 8443 }, req: {}, want: 'http://reviews:8443/' },
  {
    name: 'port is added to authority',
    action: { authority: 'ratings', port: 9000 },
    req: {},
    want: 'http://ratings:9000/',
  },
  {
    name: 'port 80 with http is left out',
    action: { port: 80 },
    req: { authority: 'reviews' },
    want: 'http://reviews/',
  },
  {
    name: 'port 443 with https is left out',
    action: { scheme: 'https', port: 443 },
    req: { authority: 'reviews' },
    want: 'https://reviews/',
  },
  {
    name: 'FROM_REQUEST_PORT uses the port addressed',
    action: { derivePort: 'FROM_REQUEST_PORT', authority: 'ratings' },
    req: { port: 9080 },
    want: 'http://ratings:9080/',
  },
  {
    name: 'FROM_PROTOCOL_DEFAULT with a new scheme keeps a non-default port (Envoy)',
    action: { scheme: 'https', derivePort: 'FROM_PROTOCOL_DEFAULT' },
    req: {},
    want: 'https://reviews:9080/',
  },
  {
    name: 'new scheme drops the old default port',
    action: { scheme: 'https' },
    req: { authority: 'shop:80' },
    want: 'https://shop/',
  },
  {
    name: 'same scheme keeps the default port',
    action: { uri: '/x' },
    req: { authority: 'shop:80' },
    want: 'http://shop:80/x',
  },
  {
    name: 'IPv6 host port is replaced',
    action: { port: 81 },
    req: { authority: '[::1]:9080' },
    want: 'http://[::1]:81/',
  },
  {
    name: 'https request keeps its scheme',
    action: { uri: '/y' },
    req: { scheme: 'https', authority: 'a' },
    want: 'https://a/y',
  },
];

describe('redirectReply', () => {
  for (const c of cases) {
    it(`redirect: ${c.name}`, () => {
      const got = redirectReply({ kind: 'redirect', status: 301, ...c.action }, req(c.req));
      assert.equal(got.location, c.want);
      assert.equal(got.status, 301);
    });
  }
  it('redirect: status as configured', () => {
    assert.equal(redirectReply({ kind: 'redirect', status: 308, uri: '/' }, req()).status, 308);
  });
});

describe('compileDirectResponse', () => {
  it('direct: a body gets content-type text/plain', () => {
    const d = compileDirectResponse({
      kind: 'direct',
      status: 503,
      bodyBase64: Buffer.from('down').toString('base64'),
    });
    assert.deepEqual([d.status, d.body.toString(), d.headers], [503, 'down', ['content-type', 'text/plain']]);
  });
  it('direct: no body, no headers', () => {
    const d = compileDirectResponse({ kind: 'direct', status: 204 });
    assert.deepEqual([d.status, d.body.length, d.headers], [204, 0, []]);
  });
  it('direct: bytes survive base64', () => {
    const d = compileDirectResponse({
      kind: 'direct',
      status: 200,
      bodyBase64: Buffer.from([0, 255, 10]).toString('base64'),
    });
    assert.deepEqual([...d.body], [0, 255, 10]);
  });
});
