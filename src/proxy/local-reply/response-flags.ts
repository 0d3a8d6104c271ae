// Envoy's response flags, which Alder records on every request and connection it ends or cannot
// serve. reply-kinds.ts pairs each kind of local reply with its flag and status. A TLS failure
// towards an upstream is UF, as in Envoy, with the TLS reason in the reply's words.

export const ResponseFlag = {
  /** No healthy upstream endpoint. */
  NoHealthyUpstream: 'UH',
  /** Connecting to the upstream failed. */
  UpstreamConnectionFailure: 'UF',
  /** The upstream reset or closed the connection mid-response. */
  UpstreamConnectionTermination: 'UC',
  /** Upstream overflow: a connection pool or circuit breaker shed the request. */
  UpstreamOverflow: 'UO',
  /** The upstream took longer than the route timeout. */
  UpstreamRequestTimeout: 'UT',
  /** No route for the request's host or path. */
  NoRouteFound: 'NR',
  /** The downstream closed the connection before the response was complete. */
  DownstreamConnectionTermination: 'DC',
  /** The proxy answered by itself (a refusal, a rejection). */
  LocalReset: 'LR',
  /** A delay fault was injected. */
  DelayInjected: 'DI',
  /** An abort fault was injected. */
  FaultInjected: 'FI',
  /** Rate limited. */
  RateLimited: 'RL',
  /** No cluster for the route's destination. */
  NoClusterFound: 'NC',
  /** The downstream request was malformed and refused (Envoy's DPE). */
  DownstreamProtocolError: 'DPE',
  /** Authorization denied the request (Envoy's UAEX / RBAC). */
  UnauthorizedExternal: 'UAEX',
  /** The upstream's response broke HTTP's rules (Envoy's UPE). */
  UpstreamProtocolError: 'UPE',
} as const;
export type ResponseFlag = (typeof ResponseFlag)[keyof typeof ResponseFlag];

/** The header on every reply the proxy makes itself, so a user can tell it from the app's. */
export const LOCAL_REPLY_HEADER = 'x-alder-response-flags';
