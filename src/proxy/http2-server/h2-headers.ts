// Header edits on the HTTP/2 path: connection-specific fields dropped (RFC 9113 §8.2.2), callers'
// x-alder-*, Proxy-Authorization and (inbound) x-forwarded-client-cert dropped so none can be forged
// or leak, names with `_` dropped under DROP_HEADER, x-forwarded-for / -proto as the HTTP/1 path sets
// them (router/request-headers.ts), and the mesh's own added. Pseudo-headers pass through.

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { HttpSettings } from '../../wire/index.ts';
import { isMeshHeader } from '../http1/index.ts';
import { type DownstreamHop, forwardedFor, forwardedProto } from '../router/index.ts';

const XFCC = 'x-forwarded-client-cert';
const XFF = 'x-forwarded-for';
const XFP = 'x-forwarded-proto';
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);
/** Never forwarded upstream: the connection's own fields, and credentials meant for this proxy. */
const NOT_FORWARDED = new Set([...CONNECTION_SPECIFIC, 'proxy-authorization', XFF, XFP]);

function copy(
  headers: IncomingHttpHeaders,
  hop: DownstreamHop,
  http: HttpSettings,
  dropXfcc: boolean,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const dropsUnderscores = http.headersWithUnderscoresAction === 'DROP_HEADER';
  for (const name of Object.keys(headers)) {
    if (NOT_FORWARDED.has(name) || isMeshHeader(name)) continue;
    if ((dropXfcc && name === XFCC) || (dropsUnderscores && name.includes('_'))) continue;
    const value = headers[name];
    // TE is allowed in HTTP/2 only as "trailers" (which gRPC requires).
    if (name === 'te' && value !== 'trailers') continue;
    out[name] = value;
  }
  const xff = forwardedFor(joined(headers[XFF]), hop);
  if (xff !== undefined) out[XFF] = xff;
  out[XFP] = forwardedProto(joined(headers[XFP]), hop, http.numTrustedProxies);
  return out;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * App → mesh: the request as the app sent it, the forwarding headers, and x-request-id when missing.
 * `http` is the snapshot's MeshConfig `http` current when the stream started.
 */
export function outboundRequestHeaders(
  headers: IncomingHttpHeaders,
  hop: DownstreamHop,
  http: HttpSettings,
): OutgoingHttpHeaders {
  const out = copy(headers, hop, http, false);
  if (out['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
  return out;
}

/** Mesh → app: XFCC replaced with `By=<this workload>;URI=<mTLS peer>` (none for a plaintext peer). */
export function inboundRequestHeaders(
  headers: IncomingHttpHeaders,
  self: string,
  peer: string | undefined,
  hop: DownstreamHop,
  http: HttpSettings,
): OutgoingHttpHeaders {
  const out = copy(headers, hop, http, true);
  if (peer !== undefined) out[XFCC] = `By=${self};URI=${peer}`;
  return out;
}

/** Upstream → caller: response headers (and request trailers), connection-specific fields dropped. */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!CONNECTION_SPECIFIC.has(name)) out[name] = headers[name];
  }
  return out;
}

/** Upstream → caller trailers: as responseHeaders, and without x-alder-* (no proxy sends them there). */
export function responseTrailers(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return withoutMeshH2Headers(responseHeaders(headers));
}

/** `headers` without x-alder-* (an app's response); `headers` itself when there is none. */
export function withoutMeshH2Headers(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const names = Object.keys(headers);
  if (!names.some(isMeshHeader)) return headers;
  const out: OutgoingHttpHeaders = {};
  for (const name of names) if (!isMeshHeader(name)) out[name] = headers[name];
  return out;
}
