// The clusters of a snapshot: each destination service port (or subset) with its endpoints and the
// DestinationRule policy that applies: load balancing, connection pool limits, outlier detection.

import type { TrafficKind, WireProtocol } from './snapshot.ts';

/** TLS the proxy originates to a destination that is not a mesh proxy (DestinationRule ClientTLSSettings). */
export interface TlsOrigination {
  /** The SNI sent, and the name the server's certificate is checked against unless `subjectAltNames`. */
  sni: string;
  /** PEM file of the CAs the server's chain must end at; absent: the system's trusted CAs. */
  caFile?: string;
  /** MUTUAL: the client certificate and key (PEM files) presented. */
  certFile?: string;
  keyFile?: string;
  /** The server's certificate must carry one of these (DNS or URI SANs), instead of `sni`. */
  subjectAltNames?: string[];
  /** No check of the server's certificate at all (asked for, never a default). */
  insecureSkipVerify?: boolean;
  /** Set when the settings ask for what the proxy cannot do (credentialName, caCrl): requests get 503 UF saying so. */
  unsupported?: string;
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
  /**
   * ISTIO_MUTUAL: originate mTLS to the peer proxy and check its SPIFFE ID; DISABLE: plaintext.
   * SIMPLE and MUTUAL: a DestinationRule's TLS origination (named by `policyOrigin`), as `originate` says.
   */
  tlsMode: 'ISTIO_MUTUAL' | 'DISABLE' | 'SIMPLE' | 'MUTUAL';
  /** With SIMPLE or MUTUAL: how the proxy speaks TLS to the destination itself. */
  originate?: TlsOrigination;
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
