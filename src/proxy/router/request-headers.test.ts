// Table tests of the request headers sent upstream: hop-by-hop and Connection-named fields, the
// fields meant for the proxy or owned by the mesh, and x-forwarded-for / -proto as Envoy sets them
// (use_remote_address at the edge, xff_num_trusted_hops from numTrustedProxies).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpSettings } from '../../wire/index.ts';
import { type DownstreamHop, inboundHop, outboundHop, requestHeaders } from './request-headers.ts';

const SELF = '127.0.9.1';

const outbound = (remoteAddress = '127.0.0.1'): DownstreamHop => outboundHop(remoteAddress, SELF);
const fromPeer = inboundHop('127.0.9.1', 'spiffe://cluster.local/ns/shop/sa/client', SELF);
const fromOutside = inboundHop('10.0.0.7', undefined, SELF);

/** MeshConfig `http` with `numTrustedProxies` (the only field requestHeaders reads). */
function http(numTrustedProxies: number): HttpSettings {
  return {
    headersWithUnderscoresAction: 'REJECT_REQUEST',
    extensionMethods: [],
    maxMethodBytes: 32,
    numTrustedProxies,
  };
}

/** Header lines as `name: value`, x-request-id's value replaced by `<id>` unless it is `abc`. */
function lines(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    const value = headers[k] === 'x-request-id' && headers[k + 1] !== 'abc' ? '<id>' : headers[k + 1];
    out.push(`${headers[k]}: ${value}`);
  }
  return out;
}

const H = ['host', 'web.shop:8080'];

const cases: { name: string; hop: DownstreamHop; trusted?: number; headers: string[]; want: string[] }[] = [
  {
    name: 'outbound, nothing forwarded yet: request id, the app as XFF (its workload address), proto http',
    hop: outbound(),
    headers: [...H, 'accept', '*/*'],
    want: [
      'host: web.shop:8080',
      'accept: */*',
      'x-request-id: <id>',
      `x-forwarded-for: ${SELF}`,
      'x-forwarded-proto: http',
    ],
  },
  {
    name: "outbound, the app's XFF appended to and its x-forwarded-proto replaced (numTrustedProxies 0)",
    hop: outbound(),
    headers: [...H, 'x-forwarded-for', '203.0.113.9', 'x-forwarded-proto', 'https', 'x-request-id', 'abc'],
    want: [
      'host: web.shop:8080',
      'x-request-id: abc',
      `x-forwarded-for: 203.0.113.9, ${SELF}`,
      'x-forwarded-proto: http',
    ],
  },
  {
    name: "outbound with numTrustedProxies 1: the app's x-forwarded-proto kept, XFF still appended to",
    hop: outbound(),
    trusted: 1,
    headers: [...H, 'x-forwarded-proto', 'https', 'x-request-id', 'abc'],
    want: [
      'host: web.shop:8080',
      'x-request-id: abc',
      `x-forwarded-for: ${SELF}`,
      'x-forwarded-proto: https',
    ],
  },
  {
    name: 'outbound from a non-loopback address: that address in XFF; several XFF lines joined in order',
    hop: outbound('::ffff:192.0.2.4'),
    headers: [...H, 'x-forwarded-for', '1.1.1.1', 'x-request-id', 'abc', 'x-forwarded-for', '2.2.2.2'],
    want: [
      'host: web.shop:8080',
      'x-request-id: abc',
      'x-forwarded-for: 1.1.1.1, 2.2.2.2, 192.0.2.4',
      'x-forwarded-proto: http',
    ],
  },
  {
    name: 'a header the Connection header names is hop-by-hop: dropped with Connection itself',
    hop: outbound(),
    headers: [
      ...H,
      'x-secret',
      '1',
      'connection',
      'keep-alive, X-Secret',
      'x-request-id',
      'abc',
      'keep-alive',
      '5',
    ],
    want: ['host: web.shop:8080', 'x-request-id: abc', `x-forwarded-for: ${SELF}`, 'x-forwarded-proto: http'],
  },
  {
    name: 'Connection naming x-request-id: the caller loses it, the proxy adds its own',
    hop: outbound(),
    headers: [...H, 'connection', 'x-request-id', 'x-request-id', 'abc'],
    want: [
      'host: web.shop:8080',
      'x-request-id: <id>',
      `x-forwarded-for: ${SELF}`,
      'x-forwarded-proto: http',
    ],
  },
  {
    name: 'Connection naming x-forwarded-for: the caller loses it, the proxy still records the hop',
    hop: outbound(),
    headers: [...H, 'connection', 'x-forwarded-for', 'x-forwarded-for', '6.6.6.6', 'x-request-id', 'abc'],
    want: ['host: web.shop:8080', 'x-request-id: abc', `x-forwarded-for: ${SELF}`, 'x-forwarded-proto: http'],
  },
  {
    name: 'credentials for the proxy, hop-by-hop, framing and mesh-owned fields are dropped; TE: trailers and others pass',
    hop: outbound(),
    headers: [
      ...H,
      'proxy-authorization',
      'Basic YTpi',
      'proxy-connection',
      'keep-alive',
      'authorization',
      'Bearer t',
      'te',
      'trailers',
      'content-length',
      '3',
      'transfer-encoding',
      'chunked',
      'upgrade',
      'h2c',
      'trailer',
      'x-sum',
      'x-alder-response-flags',
      'UF',
      'x-forwarded-client-cert',
      'By=app',
      'x-request-id',
      'abc',
    ],
    want: [
      'host: web.shop:8080',
      'authorization: Bearer t',
      'te: trailers',
      'x-forwarded-client-cert: By=app',
      'x-request-id: abc',
      `x-forwarded-for: ${SELF}`,
      'x-forwarded-proto: http',
    ],
  },
  {
    name: 'inbound from a mesh peer (mTLS): XFF and x-forwarded-proto as the peer set them, XFCC dropped',
    hop: fromPeer,
    headers: [
      ...H,
      'x-forwarded-for',
      '127.0.9.1',
      'x-forwarded-proto',
      'http',
      'x-forwarded-client-cert',
      'x',
    ],
    want: ['host: web.shop:8080', 'x-forwarded-for: 127.0.9.1', 'x-forwarded-proto: http'],
  },
  {
    name: 'inbound from a mesh peer without x-forwarded-proto: https, from the connection; no request id added',
    hop: fromPeer,
    headers: [...H],
    want: ['host: web.shop:8080', 'x-forwarded-proto: https'],
  },
  {
    name: 'inbound from outside the mesh (plaintext): the caller appended to XFF, its proto replaced',
    hop: fromOutside,
    headers: [...H, 'x-forwarded-for', '198.51.100.1', 'x-forwarded-proto', 'https'],
    want: ['host: web.shop:8080', 'x-forwarded-for: 198.51.100.1, 10.0.0.7', 'x-forwarded-proto: http'],
  },
];

describe('requestHeaders', () => {
  for (const c of cases) {
    it(`request headers: ${c.name}`, () => {
      const sent = requestHeaders(c.headers, c.hop, http(c.trusted ?? 0));
      assert.deepEqual(lines(sent), c.want, `for ${JSON.stringify(c.headers)}`);
    });
  }

  it('request headers: the caller array is never changed, even when nothing is dropped', () => {
    const headers = [...H, 'accept', '*/*'];
    const sent = requestHeaders(headers, fromPeer, http(0));
    assert.notEqual(sent, headers);
    assert.deepEqual(headers, [...H, 'accept', '*/*']);
  });

  it('hops: from a peer https, from outside http; a loopback caller of a proxy with no known address stays', () => {
    assert.deepEqual(fromPeer, { direction: 'inbound', isEdge: false, forwardedFor: SELF, proto: 'https' });
    assert.deepEqual(fromOutside, {
      direction: 'inbound',
      isEdge: true,
      forwardedFor: '10.0.0.7',
      proto: 'http',
    });
    assert.deepEqual(outboundHop('::1', ''), {
      direction: 'outbound',
      isEdge: true,
      forwardedFor: '::1',
      proto: 'http',
    });
  });
});
