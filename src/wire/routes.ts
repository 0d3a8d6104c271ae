// The route tables of a snapshot: virtual hosts, HTTP routes (matches, actions, policies) and TCP
// routes, as the compiler resolves VirtualServices for one proxy.

import type { TrafficKind } from './snapshot.ts';

export interface RouteTable {
  name: string;
  virtualHosts: VirtualHost[];
  /** Set when a Sidecar egress listener limits the table's hosts, so that a refusal can name it. */
  egressScope?: EgressScope;
}

/** Bounds on what an EgressScope records, so that snapshots stay small in meshes of 10,000 services. */
export const EGRESS_SCOPE_LIMITS = {
  /** Egress `hosts` recorded; `moreHosts` counts the rest. */
  hosts: 16,
  /** Names of hidden service ports recorded (all of them, or none when there are more). */
  hiddenDomains: 512,
} as const;

/** The Sidecar egress listener that limits a route table to some of the mesh's services. */
export interface EgressScope {
  /** The Sidecar's `namespace/name`. */
  sidecar: string;
  /** The listener's `hosts` as written (`./*`, `istio-system/*`), at most EGRESS_SCOPE_LIMITS.hosts. */
  hosts: string[];
  /** How many hosts of the listener `hosts` leaves out. */
  moreHosts: number;
  /**
   * Every name (`ratings.shop:9080`, as in VirtualHost.domains) of the mesh's service ports that the
   * scope hides from this table, when there are at most EGRESS_SCOPE_LIMITS.hiddenDomains; absent
   * when there are more. With it, a refusal can tell a hidden service from a host outside the mesh.
   */
  hiddenDomains?: string[];
}

/** One destination service and port, with every name a client may use for it. */
export interface VirtualHost {
  /** `reviews.default.svc.cluster.local:9080` */
  name: string;
  /** `reviews.default.svc.cluster.local:9080`, `reviews:9080`, `reviews.default:9080`, … (lower-case). */
  domains: string[];
  traffic: TrafficKind;
  /** HTTP routes in order, first match wins. Without a VirtualService: one route to the service. */
  routes: Route[];
  /** TCP and TLS routes (traffic `tcp`), first match wins. Without a VirtualService: one route. */
  tcpRoutes: TcpRoute[];
}

/**
 * The config a route came from, for explanations and `proxy-config`: `VirtualService
 * default/reviews http[1]`, through delegates `VirtualService istio-system/main http[0] →
 * VirtualService default/reviews http[1]`, or the default route of a service without one.
 */
export interface RouteOrigin {
  kind: 'VirtualService' | 'default';
  /** `namespace/name` of each VirtualService on the way, root first (empty for `default`). */
  virtualServices: string[];
  /** `http[1]`, `tcp[0]`, `tls[2]`, root first, one per VirtualService. */
  paths: string[];
}

/** An HTTP route: when a request matches, what happens to it. */
export interface Route {
  /** The VirtualService route's `name`, or `http[i]` when it has none; `default` for the default route. */
  name: string;
  origin: RouteOrigin;
  /** OR-ed; an empty list matches every request. */
  matches: RouteMatch[];
  action: RouteAction;
  /** Header operations of the route (destinations may add their own). */
  headers?: HeaderOperations;
  /** The whole request's deadline, retries included; absent: none (Istio's default). */
  timeoutMs?: number;
  /** Absent: no retries (the compiler writes Istio's default policy when the config says nothing). */
  retry?: RetryPolicy;
  fault?: FaultPolicy;
  mirrors?: MirrorPolicy[];
  cors?: CorsPolicy;
}

/** Istio's StringMatch. Regexes are RE2 syntax, anchored (the whole value must match). */
export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

/** One `match` block: every condition set must hold. */
export interface RouteMatch {
  /** The match block's `name`, for explanations. */
  name?: string;
  uri?: StringMatch;
  scheme?: StringMatch;
  method?: StringMatch;
  authority?: StringMatch;
  headers?: HeaderMatch[];
  queryParams?: QueryParamMatch[];
  /** The destination port the client addressed. */
  port?: number;
  /** The calling workload's labels and namespace (this proxy's own: decided once per snapshot). */
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
  /** uri (exact and prefix) compared case-insensitively. */
  ignoreUriCase?: boolean;
}

export interface HeaderMatch {
  /** Lower-case header name. */
  name: string;
  /** Absent: the header must be present (any value). */
  value?: StringMatch;
  /** From `withoutHeaders`: the request must NOT match this. */
  isInverted: boolean;
}

export interface QueryParamMatch {
  name: string;
  /** Absent: the parameter must be present. */
  value?: StringMatch;
}

export type RouteAction = ForwardAction | RedirectAction | DirectResponseAction;

export interface ForwardAction {
  kind: 'forward';
  /** Weights are relative (they need not sum to 100); a weight of 0 is never chosen. */
  destinations: WeightedDestination[];
  rewrite?: Rewrite;
}

export interface WeightedDestination {
  cluster: string;
  weight: number;
  /** The destination host and port as written (after short-name resolution), for explanations. */
  host: string;
  subset?: string;
  headers?: HeaderOperations;
}

export interface Rewrite {
  /** Replaces the path prefix the route matched (or the whole path on an exact/regex match). */
  uri?: string;
  /** RE2 regex over the path, and its replacement (`\1` groups). */
  uriRegex?: { match: string; rewrite: string };
  authority?: string;
}

export interface RedirectAction {
  kind: 'redirect';
  /** Replaces the path (query kept, as Envoy's path_redirect does). */
  uri?: string;
  /** Replaces the prefix the route's uri match matched (Envoy's prefix_rewrite on a redirect). */
  prefixRewrite?: string;
  authority?: string;
  port?: number;
  derivePort?: 'FROM_PROTOCOL_DEFAULT' | 'FROM_REQUEST_PORT';
  scheme?: string;
  /** 301 unless the config says otherwise. */
  status: number;
}

export interface DirectResponseAction {
  kind: 'direct';
  status: number;
  /** The body, base64-encoded (bytes or text as the config gave them). */
  bodyBase64?: string;
}

/** Header operations, applied as Envoy does: remove, then set, then add (empty values skipped). */
export interface HeaderOperations {
  request?: HeaderEdits;
  response?: HeaderEdits;
}

export interface HeaderEdits {
  /** Lower-case name, value: replaces every existing value. */
  set?: [string, string][];
  /** Lower-case name, value: appended to what is there. */
  add?: [string, string][];
  /** Lower-case names. */
  remove?: string[];
}

export interface RetryPolicy {
  /** Retries after the first try (Istio's `attempts`). */
  attempts: number;
  /** Each try's deadline; absent: the route's timeout only. */
  perTryTimeoutMs?: number;
  /** Envoy's conditions (`5xx`, `gateway-error`, `connect-failure`, `refused-stream`, `reset`, `retriable-4xx`, `retriable-status-codes`, gRPC `cancelled` …). */
  retryOn: string[];
  /** From `retryOn` entries that are status codes (Istio's default policy lists none since 1.24). */
  retriableStatusCodes: number[];
  retryRemoteLocalities: boolean;
  /** Jittered exponential back-off between tries (Envoy's defaults: 25 ms base, 10× base max). */
  backoff: { baseMs: number; maxMs: number };
}

export interface FaultPolicy {
  delay?: { fixedMs: number; percent: number };
  /** Either an HTTP status or a gRPC status name (`UNAVAILABLE`); `percent` of requests. */
  abort?: { httpStatus?: number; grpcStatus?: string; percent: number };
}

export interface MirrorPolicy {
  cluster: string;
  /** The mirrored request's Host: the original's with `-shadow` appended. */
  host: string;
  percent: number;
}

export interface CorsPolicy {
  allowOrigins: StringMatch[];
  allowMethods: string[];
  allowHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
  allowCredentials?: boolean;
  /** A preflight that matches no allowed origin: forwarded to the app, or answered with no CORS headers. */
  unmatchedPreflights: 'FORWARD' | 'IGNORE';
}

/** A TCP or TLS route (`tcp` / `tls` of a VirtualService). */
export interface TcpRoute {
  name: string;
  origin: RouteOrigin;
  /** OR-ed; an empty list matches every connection. */
  matches: TcpMatch[];
  destinations: WeightedDestination[];
}

export interface TcpMatch {
  port?: number;
  /** TLS routes: the ClientHello's server name (`*.example.com` wildcards allowed). */
  sniHosts?: string[];
  /** CIDRs or addresses the client dialled. */
  destinationSubnets?: string[];
  sourceLabels?: Record<string, string>;
  sourceNamespace?: string;
}
