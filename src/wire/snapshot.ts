// The snapshot: everything one proxy needs, as the compiler produces it and the proxy consumes it.
// Plain data (JSON-safe), versioned, with names that follow Envoy's and Istio's (listeners,
// clusters `outbound|9080|v1|reviews.default.svc.cluster.local`, endpoints, route tables).
// Both the control plane and the proxy import this module; it imports neither.

/** Bumped when a change to these types would make an older proxy misread a snapshot. */
export const WIRE_VERSION = 3 as const;

/** Istio's protocol names for a port, as the compiler resolved them. */
export type WireProtocol =
  | 'HTTP'
  | 'HTTP2'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTPS'
  | 'TLS'
  | 'TCP'
  | 'Mongo'
  | 'Redis'
  | 'MySQL'
  | 'UDP';

/** What a proxy does with a connection: parse HTTP (L7), move bytes (L4), or detect which (sniffing on). */
export type TrafficKind = 'http' | 'tcp' | 'detect';

export interface Snapshot {
  wireVersion: typeof WIRE_VERSION;
  /** A digest of the content: equal snapshots have equal versions, so a proxy can tell a no-op push. */
  version: string;
  proxy: ProxyIdentity;
  mesh: MeshSettings;
  listeners: Listener[];
  clusters: Cluster[];
  routeTables: RouteTable[];
  /** Certificates and keys (PEM file paths) for mTLS between proxies. */
  tls: ProxyTls | undefined;
}

export interface ProxyIdentity {
  namespace: string;
  /** The WorkloadEntry this proxy serves. */
  workload: string;
  serviceAccount: string;
  /** `spiffe://cluster.local/ns/default/sa/bookinfo-reviews` */
  spiffeId: string;
  /** The workload's mesh-facing address (where inbound listeners bind). */
  address: string;
  labels: Record<string, string>;
  /** `region/zone/subzone`, for locality-aware load balancing; empty when unknown. */
  locality: string;
}

export interface MeshSettings {
  trustDomain: string;
  /** REGISTRY_ONLY refuses hosts the registry does not know (flag NR); ALLOW_ANY passes them through. */
  outboundTrafficPolicy: 'REGISTRY_ONLY' | 'ALLOW_ANY';
  protocolDetection: { enabled: boolean; timeoutMs: number };
  connectTimeoutMs: number;
  accessLog: { enabled: boolean; encoding: 'JSON' | 'TEXT' };
}

export interface ProxyTls {
  certFile: string;
  keyFile: string;
  /** The mesh's trust bundle: peers must chain to it. */
  caFile: string;
}

export type Listener = InboundListener | OutboundProxyListener | OutboundPortListener | TunnelListener;

/**
 * The workload's tunnel port (HBONE, docs/transport.md): peer proxies reach every inbound port through
 * it, each connection an HTTP/2 CONNECT stream over one mTLS session. Always mTLS.
 */
export interface TunnelListener {
  kind: 'tunnel';
  name: string;
  address: string;
  port: number;
}

/** Mesh → local app: accepts from other proxies (mTLS per `mtlsMode`) and forwards to the app. */
export interface InboundListener {
  kind: 'inbound';
  name: string;
  address: string;
  port: number;
  protocol: WireProtocol;
  traffic: TrafficKind;
  /** STRICT refuses plaintext; PERMISSIVE takes both (the first byte tells TLS from plaintext). */
  mtlsMode: 'STRICT' | 'PERMISSIVE' | 'DISABLE';
  /** Where the app listens. */
  app: { address: string; port: number };
  /** The services (FQDN) this port serves, for telemetry and explanations. */
  services: string[];
}

/** Local app → mesh through HTTP_PROXY: absolute-form requests and CONNECT, routed by host. */
export interface OutboundProxyListener {
  kind: 'outbound-proxy';
  name: string;
  address: string;
  port: number;
  /** The route table that maps `host:port` to clusters. */
  routeTable: string;
}

/**
 * Local app → the services of one port (a Sidecar egress port), for TCP and for apps that cannot use
 * a proxy. Wire version 3 replaced the TCP `cluster` with the route table: each connection is routed.
 */
export interface OutboundPortListener {
  kind: 'outbound-port';
  name: string;
  address: string;
  /** Also the destination port TCP routes match against. */
  port: number;
  traffic: TrafficKind;
  /**
   * The port's virtual hosts. HTTP picks one by Host. TCP (and what `detect` finds not to be HTTP)
   * tries each virtual host's `tcpRoutes` with the connection's port, SNI and destination address;
   * the most specific SNI match wins, then the first virtual host; no match closes it (flag NR).
   */
  routeTable: string;
}

export interface RouteTable {
  name: string;
  virtualHosts: VirtualHost[];
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

export interface Cluster {
  /** `outbound|9080||reviews.default.svc.cluster.local`, `outbound|9080|v1|reviews…` for a subset. */
  name: string;
  service: string;
  port: number;
  subset?: string;
  protocol: WireProtocol;
  traffic: TrafficKind;
  lb: LoadBalancer;
  connectTimeoutMs: number;
  /** ISTIO_MUTUAL: originate mTLS to the peer proxy and check its SPIFFE ID; DISABLE: plaintext. */
  tlsMode: 'ISTIO_MUTUAL' | 'DISABLE';
  connectionPool: ConnectionPool;
  outlierDetection?: OutlierDetection;
  /** The DestinationRule (and subset or port level) that set this cluster's policy, if any. */
  policyOrigin?: PolicyOrigin;
  /**
   * Set on a cluster a route names but nothing defines (an unknown subset, host or port), saying
   * what is missing: requests to it get 503 with flag NC and this reason. Empty of endpoints.
   */
  missing?: string;
  endpoints: Endpoint[];
}

export interface PolicyOrigin {
  /** `namespace/name` */
  destinationRule: string;
  /** Which levels applied, most specific last: `trafficPolicy`, `portLevelSettings[9080]`, `subsets[v1]`. */
  levels: string[];
}

export type LoadBalancer =
  | {
      kind: 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'PASSTHROUGH';
      warmupMs?: number;
      locality?: LocalityPolicy;
    }
  | {
      kind: 'RING_HASH' | 'MAGLEV';
      hashOn: HashKey;
      /** RING_HASH: the ring's minimum size (Envoy's default 1024). */
      minimumRingSize?: number;
      /** MAGLEV: the table size, a prime (Envoy's default 65537). */
      tableSize?: number;
      locality?: LocalityPolicy;
    };

export type HashKey =
  | { header: string }
  | { cookie: { name: string; path?: string; ttlMs?: number } }
  | { sourceIp: true }
  | { queryParameter: string };

/**
 * Locality-aware load balancing, on by default in Istio when outlier detection is set; an empty
 * object means the default failover by proximity (same zone, then region, then anywhere).
 */
export interface LocalityPolicy {
  /** Weighted distribution: from a locality (wildcards `region/*`) to weights per locality. */
  distribute?: { from: string; to: Record<string, number> }[];
  /** Explicit region failover: from region → to region. */
  failover?: { from: string; to: string }[];
  /** Endpoint labels compared in order with this proxy's labels to rank priorities. */
  failoverPriority?: string[];
}

/** Circuit breaking: limits beyond which requests get 503 with flag UO instead of queueing. */
export interface ConnectionPool {
  maxConnections: number;
  /** Requests waiting for a connection (HTTP/1). */
  maxPendingRequests: number;
  /** Requests in flight to the cluster (all endpoints). */
  maxRequests: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  /** Retries in flight to the cluster. */
  maxRetries: number;
  /** Idle upstream connections close after this long. */
  idleTimeoutMs?: number;
}

export interface OutlierDetection {
  consecutive5xxErrors: number;
  consecutiveGatewayErrors: number;
  consecutiveLocalOriginFailures: number;
  splitExternalLocalOriginErrors: boolean;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  minHealthPercent: number;
}

export interface Endpoint {
  address: string;
  port: number;
  /** The SPIFFE ID the peer proxy must present (empty for plaintext destinations outside the mesh). */
  spiffeId: string;
  labels: Record<string, string>;
  workload: string;
  /** `region/zone/subzone` (from the WorkloadEntry), empty when unknown. */
  locality: string;
  /** Relative load-balancing weight (WorkloadEntry `weight`), 1 by default. */
  weight: number;
  /** The peer proxy's tunnel port (HBONE): HTTP/1 and TCP to this endpoint go through it over mTLS. */
  tunnelPort?: number;
}
