// The request headers a proxy sends upstream, built from the caller's: hop-by-hop fields and those the
// caller's Connection names dropped (RFC 9110 §7.6.1), Proxy-Authorization (meant for this proxy)
// and the mesh's own headers dropped, x-forwarded-for / -proto set as Envoy sets them. Pure; the
// routers call it for HTTP/1, h2-headers.ts uses forwardedFor/forwardedProto for HTTP/2.

import { randomUUID } from 'node:crypto';
import type { HttpSettings } from '../../wire/index.ts';
import { isMeshHeader, stripHopByHop } from '../http1/index.ts';

/**
 * What a listener knows of one downstream connection that the forwarding headers need; built once per
 * connection by outboundHop() or inboundHop().
 */
export interface DownstreamHop {
  /** Outbound: from the local app (x-request-id added when missing). Inbound: to the local app. */
  readonly direction: 'inbound' | 'outbound';
  /**
   * Envoy's `use_remote_address`: this proxy is the first the request meets (the app's own sidecar, or
   * an inbound port reached from outside the mesh), so it appends `forwardedFor` to x-forwarded-for
   * and sets x-forwarded-proto from the connection. False inbound from a mesh peer over mTLS, whose
   * proxy did both (Istio's sidecar inbound: XFF and a caller's x-forwarded-proto pass unchanged).
   */
  readonly isEdge: boolean;
  /** The downstream's address as x-forwarded-for records it. */
  readonly forwardedFor: string;
  /** x-forwarded-proto from the connection: `https` over TLS. */
  readonly proto: 'http' | 'https';
}

/**
 * A connection from the local app (plaintext): the edge. `remoteAddress` is the socket's (undefined
 * once it closed), `selfAddress` this workload's ('' when unknown).
 */
export function outboundHop(remoteAddress: string | undefined, selfAddress: string): DownstreamHop {
  return {
    direction: 'outbound',
    isEdge: true,
    forwardedFor: recorded(remoteAddress, selfAddress),
    proto: 'http',
  };
}

/**
 * A connection to an inbound port: from a mesh peer over mTLS (`peer`, its SPIFFE ID), or from outside
 * the mesh (PERMISSIVE plaintext), which makes this proxy the edge.
 */
export function inboundHop(
  remoteAddress: string | undefined,
  peer: string | undefined,
  selfAddress: string,
): DownstreamHop {
  const isFromMesh = peer !== undefined;
  return {
    direction: 'inbound',
    isEdge: !isFromMesh,
    forwardedFor: recorded(remoteAddress, selfAddress),
    proto: isFromMesh ? 'https' : 'http',
  };
}

/**
 * The downstream's address as x-forwarded-for records it. As Envoy does, a downstream on loopback (the
 * app beside its proxy) is recorded as this workload's own address, which means something upstream.
 */
function recorded(remoteAddress: string | undefined, selfAddress: string): string {
  const remote = unmapped(remoteAddress ?? '');
  return isLoopback(remote) && selfAddress !== '' ? selfAddress : remote;
}

/** x-forwarded-for to send, from the caller's (several lines joined): appended to at an edge, else as it came. */
export function forwardedFor(callerValue: string | undefined, hop: DownstreamHop): string | undefined {
  if (!hop.isEdge || hop.forwardedFor === '') return callerValue;
  return callerValue === undefined ? hop.forwardedFor : `${callerValue}, ${hop.forwardedFor}`;
}

/**
 * x-forwarded-proto to send: the caller's when it is trusted, else the connection's. A mesh peer is
 * trusted; at an edge, the caller is only when `numTrustedProxies` (MeshConfig `http`, Istio's
 * `gatewayTopology.numTrustedProxies`, Envoy's `xff_num_trusted_hops`) is above 0.
 */
export function forwardedProto(
  callerValue: string | undefined,
  hop: DownstreamHop,
  numTrustedProxies: number,
): string {
  const isTrusted = !hop.isEdge || numTrustedProxies > 0;
  return callerValue !== undefined && isTrusted ? callerValue : hop.proto;
}

const XFF = 'x-forwarded-for';
const XFP = 'x-forwarded-proto';
const XFCC = 'x-forwarded-client-cert';
const REQUEST_ID = 'x-request-id';

/**
 * Dropped besides what stripHopByHop drops: TE (even `trailers`), Content-Length (the connection manager
 * writes the framing of what it forwards) and Proxy-Authorization (credentials for this proxy).
 */
// TE passes only as `te: trailers` (stripHopByHop reduces it so): gRPC requires it end to end.
const DROPPED = new Set(['content-length', 'proxy-authorization']);

/**
 * The headers to send upstream for a caller's `headers` (`[name, value, ...]`, lower-case names, as the
 * parser gives them): without hop-by-hop fields and those Connection names, TE, Content-Length,
 * Proxy-Authorization, `x-alder-*`, and inbound x-forwarded-client-cert (the router sets its own);
 * with x-forwarded-for and x-forwarded-proto as forwardedFor/forwardedProto say (at the end), and an
 * x-request-id when an outbound request has none. Always a new array: the router edits it. `http` is
 * the snapshot's MeshConfig `http` current when the request started.
 */
export function requestHeaders(headers: readonly string[], hop: DownstreamHop, http: HttpSettings): string[] {
  const h = stripHopByHop(headers);
  const dropsXfcc = hop.direction === 'inbound';
  const out: string[] = [];
  let xff: string | undefined;
  let xfp: string | undefined;
  let hasRequestId = false;
  for (let k = 0; k < h.length; k += 2) {
    const name = h[k] as string;
    const value = h[k + 1] as string;
    if (name === XFF) xff = xff === undefined ? value : `${xff}, ${value}`;
    else if (name === XFP) xfp ??= value;
    else if (DROPPED.has(name) || isMeshHeader(name) || (dropsXfcc && name === XFCC)) continue;
    else {
      if (name === REQUEST_ID) hasRequestId = true;
      out.push(name, value);
    }
  }
  if (!hasRequestId && hop.direction === 'outbound') out.push(REQUEST_ID, randomUUID());
  const sentXff = forwardedFor(xff, hop);
  if (sentXff !== undefined) out.push(XFF, sentXff);
  out.push(XFP, forwardedProto(xfp, hop, http.numTrustedProxies));
  return out;
}

/** True for 127.0.0.0/8 and ::1 (IPv4-mapped addresses already unmapped). */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: XFF records IPv4 peers of a dual-stack socket as IPv4. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
