// Table tests of the HTTP/2 header edits and request rules: what reaches the app (forwarding headers,
// dropped fields, underscore names per MeshConfig), what reaches the caller (no app x-alder-*), and
// which requests are refused before routing (methods, underscore names).

import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http2';
import { describe, it } from 'node:test';
import type { HttpSettings } from '../../wire/index.ts';
import { http1Limits, methodSet } from '../http1/index.ts';
import { inboundHop, outboundHop } from '../router/index.ts';
import {
  inboundRequestHeaders,
  outboundRequestHeaders,
  responseTrailers,
  withoutMeshH2Headers,
} from './h2-headers.ts';
import { h2Refusal } from './refuse-h2-request.ts';

const app = outboundHop('127.0.0.1', '10.0.0.1');
const peer = inboundHop('10.0.0.1', 'spiffe://cluster.local/ns/shop/sa/client', '10.0.0.2');
const http = (o: Partial<HttpSettings> = {}): HttpSettings => ({
  headersWithUnderscoresAction: 'REJECT_REQUEST',
  extensionMethods: [],
  maxMethodBytes: 32,
  numTrustedProxies: 0,
  ...o,
});

describe('HTTP/2 request headers', () => {
  it('h2 headers: outbound drops Proxy-Authorization and x-alder-*, appends to XFF, sets proto, adds a request id', () => {
    const out = outboundRequestHeaders(
      {
        ':method': 'GET',
        ':path': '/',
        'proxy-authorization': 'Basic x',
        'x-alder-response-flags': 'UF',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        te: 'trailers',
        accept: '*/*',
      },
      app,
      http(),
    );
    const { 'x-request-id': id, ...rest } = out;
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    assert.deepEqual(rest, {
      ':method': 'GET',
      ':path': '/',
      te: 'trailers',
      accept: '*/*',
      'x-forwarded-for': '203.0.113.9, 10.0.0.1',
      'x-forwarded-proto': 'http',
    });
  });
  it("h2 headers: outbound keeps the caller's proto when numTrustedProxies is 1, drops _ names under DROP_HEADER", () => {
    const out = outboundRequestHeaders(
      { 'x-forwarded-proto': 'https', x_api_key: 'k', 'x-request-id': 'abc' },
      app,
      http({ numTrustedProxies: 1, headersWithUnderscoresAction: 'DROP_HEADER' }),
    );
    assert.deepEqual(out, {
      'x-request-id': 'abc',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-proto': 'https',
    });
  });
  it('h2 headers: inbound from a peer keeps its forwarding headers and replaces XFCC', () => {
    const out = inboundRequestHeaders(
      {
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-client-cert': 'forged',
        x_a: '1',
      },
      'spiffe://cluster.local/ns/shop/sa/web',
      'spiffe://cluster.local/ns/shop/sa/client',
      peer,
      http({ headersWithUnderscoresAction: 'ALLOW' }),
    );
    assert.deepEqual(out, {
      x_a: '1',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-client-cert':
        'By=spiffe://cluster.local/ns/shop/sa/web;URI=spiffe://cluster.local/ns/shop/sa/client',
    });
  });
});

describe('HTTP/2 response headers', () => {
  it("h2 headers: an app's x-alder-* are dropped from a response and from trailers", () => {
    assert.deepEqual(
      withoutMeshH2Headers({ ':status': 200, 'x-alder-response-flags': 'UF', 'x-app': 'web' }),
      {
        ':status': 200,
        'x-app': 'web',
      },
    );
    assert.deepEqual(responseTrailers({ 'grpc-status': '0', 'x-alder-foo': '1' }), { 'grpc-status': '0' });
  });
  it('h2 headers: a response without x-alder-* is returned as it is', () => {
    const headers = { ':status': 200, 'x-app': 'web' };
    assert.equal(withoutMeshH2Headers(headers), headers);
  });
});

describe('HTTP/2 request rules', () => {
  const base: IncomingHttpHeaders = { ':method': 'GET', ':path': '/', ':authority': 'a' };
  const cases: {
    name: string;
    headers: IncomingHttpHeaders;
    limits?: Parameters<typeof http1Limits>[0];
    want: string;
  }[] = [
    { name: 'GET', headers: base, want: 'ok' },
    { name: 'QUERY', headers: { ...base, ':method': 'QUERY' }, want: 'ok' },
    { name: 'GETX', headers: { ...base, ':method': 'GETX' }, want: '501 method-unknown' },
    { name: 'lower-case get', headers: { ...base, ':method': 'get' }, want: '501 method-unknown' },
    {
      name: 'a 33-byte method',
      headers: { ...base, ':method': 'A'.repeat(33) },
      want: '501 method-too-long',
    },
    {
      name: 'an extension method listed',
      headers: { ...base, ':method': 'PURGE' },
      limits: { methods: methodSet(['PURGE']) },
      want: 'ok',
    },
    {
      name: 'an underscore name by default',
      headers: { ...base, x_a: '1' },
      want: '400 header-name-underscore',
    },
    {
      name: 'an underscore name under DROP_HEADER',
      headers: { ...base, x_a: '1' },
      limits: { headersWithUnderscoresAction: 'DROP_HEADER' },
      want: 'ok',
    },
    {
      name: 'an underscore name under ALLOW',
      headers: { ...base, x_a: '1' },
      limits: { headersWithUnderscoresAction: 'ALLOW' },
      want: 'ok',
    },
    {
      name: 'a framing look-alike under ALLOW',
      headers: { ...base, content_length: '5' },
      limits: { headersWithUnderscoresAction: 'ALLOW' },
      want: '400 header-name-lookalike',
    },
  ];
  for (const c of cases) {
    it(`h2 rules: ${c.name} → ${c.want}`, () => {
      const refusal = h2Refusal(c.headers, http1Limits(c.limits));
      const got = refusal === undefined ? 'ok' : `${refusal.status} ${refusal.reason}`;
      assert.equal(got, c.want, `${c.name}: want ${c.want}, got ${got}`);
    });
  }
});
