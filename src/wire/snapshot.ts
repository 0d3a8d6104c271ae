// The snapshot: everything one proxy needs, as the compiler produces it and the proxy consumes it.
// Plain data (JSON-safe), versioned, with names that follow Envoy's and Istio's (listeners,
// clusters `outbound|9080|v1|reviews.default.svc.cluster.local`, endpoints, route tables).
// Both the control plane and the proxy import this module; it imports neither. Route tables are in
// routes.ts, clusters in clusters.ts.

import type { AuthzPolicy } from './authorization.ts';
import type { Cluster } from './clusters.ts';
import type { JwtRule } from './request-authentication.ts';
import type { RouteTable } from './routes.ts';

/**
 * Bumped when a change to these types, or to the resources the stream moves (resources.ts), would
 * make an older proxy misread what it gets. 4: route tables name their virtual hosts (`vhost`
 * resources) and endpoints travel as rows. 5: a proxy may have an app address of its own, and a
 * proxy leaving drains (`drain`, answered by `drained`). 6: the proxy resource carries the
 * AuthorizationPolicies and RequestAuthentication rules in force on the workload.
 */
export const WIRE_VERSION = 6 as const;

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
  /** The AuthorizationPolicies in force on this workload's inbound side (none: every request allowed). */
  authorization?: AuthzPolicy[];
  /** The RequestAuthentication rules in force on its inbound side (none: no request is authenticated). */
  requestAuthentication?: JwtRule[];
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
  /**
   * Where the app listens, when not 127.0.0.1: a workload under `alder run` on a host shared with
   * others has an address of its own for its app (its WorkloadEntry's alder.dev/app-address).
   */
  appAddress?: string;
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
  http: HttpSettings;
  /**
   * MeshConfig pathNormalization: what every request's path becomes before routing, policies and the
   * app see it (Istio's settings; docs/mesh-config.md).
   */
  pathNormalization: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
}

/** MeshConfig `http`: the rules every proxy applies to callers' HTTP requests (docs/mesh-config.md). */
export interface HttpSettings {
  /** Envoy's headers_with_underscores_action for request header names holding `_`. */
  headersWithUnderscoresAction: 'ALLOW' | 'REJECT_REQUEST' | 'DROP_HEADER';
  /** Methods forwarded besides IANA's registry, case-sensitive. */
  extensionMethods: string[];
  /** A longer method is refused (501). */
  maxMethodBytes: number;
  /** Istio's gatewayTopology.numTrustedProxies: proxies in front of the first sidecar whose x-forwarded-proto counts. */
  numTrustedProxies: number;
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
