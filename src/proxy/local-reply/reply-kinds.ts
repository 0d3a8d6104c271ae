// The one table of the replies the proxy makes on its own: for each kind, the HTTP status, Envoy's
// response flag and the gRPC status a gRPC caller gets. Every error reply and refused connection in
// the proxy names a kind from here; no other module writes a status number for a reply.

import { ResponseFlag } from './response-flags.ts';

export interface ReplyKind {
  readonly status: number;
  readonly flag: ResponseFlag;
  /** The grpc-status for gRPC callers (gRPC's http-grpc-status-mapping, as Envoy applies it). */
  readonly grpcStatus: number;
}

/** gRPC status codes by name (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  Unknown: 2,
  DeadlineExceeded: 4,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  Unauthenticated: 16,
} as const;

function kind(status: number, flag: ResponseFlag, grpcStatus: number): ReplyKind {
  return Object.freeze({ status, flag, grpcStatus });
}

const { Unavailable, Internal, Unimplemented } = GrpcStatus;

export const Reply = {
  /** The authority names no virtual host this proxy knows (not in the registry, or hidden). */
  NoVirtualHost: kind(502, ResponseFlag.NoRouteFound, Unavailable),
  /** The host is a TCP service, asked for over HTTP. */
  TcpServiceOverHttp: kind(400, ResponseFlag.NoRouteFound, Internal),
  /** The virtual host has no route matching the request. */
  NoRoute: kind(404, ResponseFlag.NoRouteFound, Unimplemented),
  /** The route's destination has no cluster (weight 0 everywhere, an unknown subset). */
  NoCluster: kind(503, ResponseFlag.NoClusterFound, Unavailable),
  NoHealthyUpstream: kind(503, ResponseFlag.NoHealthyUpstream, Unavailable),
  /** Connecting failed: refused, timed out, or TLS (the reason says which). */
  ConnectFailure: kind(503, ResponseFlag.UpstreamConnectionFailure, Unavailable),
  /**
   * The cluster's DestinationRule asks for TLS origination (tls.mode SIMPLE or MUTUAL), which the
   * proxy does not do yet: refused before any try, never retried, never sent in plaintext.
   */
  TlsOriginationUnsupported: kind(503, ResponseFlag.UpstreamConnectionFailure, Unavailable),
  /** A connection pool or circuit breaker limit shed the request. */
  Overflow: kind(503, ResponseFlag.UpstreamOverflow, Unavailable),
  /** The upstream closed or reset before the response was complete. */
  UpstreamReset: kind(503, ResponseFlag.UpstreamConnectionTermination, Unavailable),
  UpstreamTimeout: kind(504, ResponseFlag.UpstreamRequestTimeout, Unavailable),
  /** The upstream's response broke HTTP's rules. */
  UpstreamProtocolError: kind(502, ResponseFlag.UpstreamProtocolError, Unavailable),
  /** The request was malformed or ambiguous (the parser's rejection carries its own 4xx status). */
  BadRequest: kind(400, ResponseFlag.DownstreamProtocolError, Internal),
  /** The client took too long to send its request head. */
  RequestHeadTimeout: kind(408, ResponseFlag.DownstreamProtocolError, GrpcStatus.DeadlineExceeded),
  /** An upgrade the mesh does not carry (any but WebSocket), or CONNECT where no tunnel is served. */
  UpgradeRefused: kind(403, ResponseFlag.DownstreamProtocolError, GrpcStatus.PermissionDenied),
  /**
   * A request to the forward proxy (HTTP_PROXY) without the credentials of the workload it serves:
   * on a host shared by several workloads, the proxy's port is no way to send as another workload.
   */
  ProxyAuthenticationRequired: kind(407, ResponseFlag.DownstreamProtocolError, GrpcStatus.Unauthenticated),
  /** The destination cannot take the upgrade: an HTTP/2 upstream without extended CONNECT (RFC 8441). */
  UpstreamCannotUpgrade: kind(502, ResponseFlag.UpstreamProtocolError, Unavailable),
} as const satisfies Record<string, ReplyKind>;

/** A config-set status (a fault's abort, a rejection's 4xx) under a kind's flag. */
export function withStatus(k: ReplyKind, status: number): ReplyKind {
  return status === k.status ? k : kind(status, k.flag, grpcStatusOfHttp(status));
}

/** gRPC status by HTTP status, per grpc/doc/http-grpc-status-mapping.md (as Envoy applies it). */
export function grpcStatusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return Internal;
    case 401:
      return GrpcStatus.Unauthenticated;
    case 403:
      return GrpcStatus.PermissionDenied;
    case 404:
      return Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return Unavailable;
    default:
      return GrpcStatus.Unknown;
  }
}
