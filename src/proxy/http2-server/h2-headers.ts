// Header edits on the HTTP/2 path: connection-specific fields dropped (RFC 9113 §8.2.2), callers'
// x-alder-* and (inbound) x-forwarded-client-cert dropped so none can be forged, and the mesh's own
// added. Pseudo-headers pass through; the proxy forwards them as the caller sent them.

import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

const MESH_HEADER_PREFIX = 'x-alder-';
const XFCC = 'x-forwarded-client-cert';
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

function copy(headers: IncomingHttpHeaders, dropXfcc: boolean): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (CONNECTION_SPECIFIC.has(name) || name.startsWith(MESH_HEADER_PREFIX)) continue;
    if (dropXfcc && name === XFCC) continue;
    const value = headers[name];
    // TE is allowed in HTTP/2 only as "trailers" (which gRPC requires).
    if (name === 'te' && value !== 'trailers') continue;
    out[name] = value;
  }
  return out;
}

/** App → mesh: the request as the app sent it, plus x-request-id and x-forwarded-proto when missing. */
export function outboundRequestHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out = copy(headers, false);
  if (out['x-request-id'] === undefined) out['x-request-id'] = randomUUID();
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  return out;
}

/** Mesh → app: XFCC replaced with `By=<this workload>;URI=<mTLS peer>` (none for a plaintext peer). */
export function inboundRequestHeaders(
  headers: IncomingHttpHeaders,
  self: string,
  peer: string | undefined,
): OutgoingHttpHeaders {
  const out = copy(headers, true);
  if (peer !== undefined) out[XFCC] = `By=${self};URI=${peer}`;
  return out;
}

/** Upstream → caller: response headers and trailers, connection-specific fields dropped. */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    if (!CONNECTION_SPECIFIC.has(name)) out[name] = headers[name];
  }
  return out;
}
