// Clusters and their endpoints as the admin port shows them (/clusters, /endpoints) and explain
// reports a destination: the snapshot's policy, in data and in words, beside the live state of the
// balancer, circuit breaker and outlier detector, and each endpoint's health as the registry declares
// it apart from what this proxy observed. Read-only; times become wall-clock ISO strings.

import type { Cluster, ConnectionPool, LoadBalancer, OutlierDetection } from '../../wire/index.ts';
import type {
  BalancerDescription,
  CircuitBreakerStats,
  EjectedEndpoint,
  EjectionType,
  EndpointRecord,
} from '../balance/index.ts';
import type { ClusterRuntime } from '../upstream/index.ts';

export interface EjectionView {
  /** `address:port` */
  endpoint: string;
  type: EjectionType;
  since: string;
  /** When the endpoint returns (at the detector's first sweep from then on). */
  until: string;
  /** Times ejected while it stayed in the cluster. */
  ejections: number;
  /** Why, in words: `outlier detection: 3 consecutive 5xx responses or connect failures`. */
  reason: string;
}

/** What this proxy saw of an endpoint, whatever the registry declares. */
export interface ObservedView {
  /**
   * HEALTHY: its last try succeeded, or none was made; FAILING: its last tries failed (see
   * consecutiveFailures); EJECTED: outlier detection holds it out of rotation.
   */
  state: 'HEALTHY' | 'FAILING' | 'EJECTED';
  /** The state in words, as `alder proxy-config endpoints` and `alder explain` print it. */
  summary: string;
  /** Tries that failed since its last success. */
  consecutiveFailures: number;
  lastFailure?: { at: string; reason: string } | undefined;
  lastSuccess?: string | undefined;
}

export interface EndpointView {
  cluster: string;
  /** `address:port` */
  endpoint: string;
  workload: string;
  locality: string;
  weight: number;
  labels: Record<string, string>;
  /**
   * Its health as the registry declares it (Envoy's EDS health status, istioctl's STATUS): HEALTHY
   * for every endpoint the registry lists, until health checks come with the control plane. What
   * this proxy saw is `observed`.
   */
  status: 'HEALTHY' | 'UNHEALTHY';
  /** istioctl's OUTLIER CHECK column: FAILED while outlier detection holds it ejected. */
  outlierCheck: 'OK' | 'FAILED';
  ejection?: EjectionView | undefined;
  observed: ObservedView;
  /** A locality `distribute` rule sends none of this proxy's traffic here. */
  isExcluded: boolean;
}

export interface ClusterView {
  name: string;
  service: string;
  port: number;
  subset?: string | undefined;
  /** From the name: `outbound|9080|v1|reviews…` → outbound. */
  direction: string;
  /** Envoy's cluster type: EDS (endpoints from the snapshot), STRICT_DNS (a DNS name), ORIGINAL_DST (passthrough). */
  type: 'EDS' | 'STRICT_DNS' | 'ORIGINAL_DST';
  protocol: Cluster['protocol'];
  traffic: Cluster['traffic'];
  tlsMode: Cluster['tlsMode'];
  lb: LoadBalancer;
  connectTimeoutMs: number;
  connectionPool: ConnectionPool;
  outlierDetection?: OutlierDetection | undefined;
  policyOrigin?: Cluster['policyOrigin'];
  /** The policy in words: `DestinationRule shop/reviews (trafficPolicy, subsets[v2]): ROUND_ROBIN, …`. */
  policy: string;
  /** `healthy`: not ejected by outlier detection. */
  endpoints: { total: number; healthy: number };
  balancer: BalancerDescription;
  circuitBreaker: CircuitBreakerStats;
  outlier: {
    endpoints: number;
    ejected: EjectionView[];
    overflows: number;
    enforced: Record<string, number>;
  };
}

/** Envoy's and Istio's "no limit" for circuit breaker thresholds. */
const UNLIMITED = 4294967295;

export function clusterView(rt: ClusterRuntime): ClusterView {
  const c = rt.cluster;
  const outlier = rt.outlier.snapshot();
  const ejected = outlier.ejected.map((e) => ejectionView(e, c.outlierDetection));
  const ejectedKeys = new Set(ejected.map((e) => e.endpoint));
  const healthy = c.endpoints.filter((e) => !ejectedKeys.has(`${e.address}:${e.port}`)).length;
  return {
    name: c.name,
    service: c.service,
    port: c.port,
    subset: c.subset,
    direction: c.name.split('|')[0] ?? '',
    type: clusterType(c),
    protocol: c.protocol,
    traffic: c.traffic,
    tlsMode: c.tlsMode,
    lb: c.lb,
    connectTimeoutMs: c.connectTimeoutMs,
    connectionPool: c.connectionPool,
    outlierDetection: c.outlierDetection,
    policyOrigin: c.policyOrigin,
    policy: policyWords(c),
    endpoints: { total: c.endpoints.length, healthy },
    balancer: rt.balancer.describe(),
    circuitBreaker: rt.breaker.stats(),
    outlier: { ...outlier, ejected },
  };
}

export function endpointViews(rt: ClusterRuntime): EndpointView[] {
  const c = rt.cluster;
  const ejected = new Map(
    rt.outlier.snapshot().ejected.map((e) => [e.endpoint, ejectionView(e, c.outlierDetection)]),
  );
  const excluded = new Set(rt.balancer.describe().excluded);
  return c.endpoints.map((e) => {
    const key = `${e.address}:${e.port}`;
    const ejection = ejected.get(key);
    return {
      cluster: c.name,
      endpoint: key,
      workload: e.workload,
      locality: e.locality,
      weight: e.weight,
      labels: e.labels,
      status: 'HEALTHY',
      outlierCheck: ejection === undefined ? 'OK' : 'FAILED',
      ejection,
      observed: observedView(rt.observed.recordOf(key), ejection),
      isExcluded: excluded.has(key),
    };
  });
}

/** `DestinationRule shop/reviews (trafficPolicy, subsets[v2]): ROUND_ROBIN, outlier 5×5xx / 10s (eject 30s, max 10%), mTLS ISTIO_MUTUAL` */
export function policyWords(c: Cluster): string {
  const origin =
    c.policyOrigin === undefined
      ? 'no DestinationRule'
      : `DestinationRule ${c.policyOrigin.destinationRule} (${c.policyOrigin.levels.join(', ')})`;
  const parts = [lbWords(c.lb), ...poolWords(c.connectionPool)];
  if (c.outlierDetection !== undefined) parts.push(outlierWords(c.outlierDetection));
  parts.push(tlsWords(c));
  return `${origin}: ${parts.join(', ')}`;
}

function tlsWords(c: Cluster): string {
  switch (c.tlsMode) {
    case 'ISTIO_MUTUAL':
      return 'mTLS ISTIO_MUTUAL';
    case 'DISABLE':
      return 'plaintext (tls DISABLE)';
    case 'SIMPLE':
    case 'MUTUAL': {
      const o = c.originate;
      if (o === undefined || o.unsupported !== undefined)
        return `TLS origination ${c.tlsMode} (impossible: ${o?.unsupported ?? 'no settings'}; every request is refused, 503 UF)`;
      const check =
        o.insecureSkipVerify === true
          ? 'server NOT verified (insecureSkipVerify)'
          : `server checked against ${o.caFile ?? 'the system CAs'} for ${o.subjectAltNames?.join(' or ') ?? o.sni}`;
      return `TLS origination ${c.tlsMode} (SNI ${o.sni}, ${check}${o.certFile === undefined ? '' : `, client certificate ${o.certFile}`})`;
    }
  }
}

/** `30s`, `250ms`, `2m`. */
export function durationWords(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function lbWords(lb: LoadBalancer): string {
  let words: string = lb.kind;
  if ('hashOn' in lb) {
    const on = lb.hashOn;
    if ('header' in on) words += ` on header ${on.header}`;
    else if ('cookie' in on) words += ` on cookie ${on.cookie.name}`;
    else if ('sourceIp' in on) words += ' on source IP';
    else words += ` on query parameter ${on.queryParameter}`;
  } else if (lb.warmupMs !== undefined && lb.warmupMs > 0) words += ` (warmup ${durationWords(lb.warmupMs)})`;
  const locality = lb.locality;
  if (locality?.distribute !== undefined) words += ', locality distribute';
  if (locality?.failover !== undefined || locality?.failoverPriority !== undefined)
    words += ', locality failover';
  return words;
}

function poolWords(p: ConnectionPool): string[] {
  const out: string[] = [];
  const limits = [
    ['maxConnections', p.maxConnections],
    ['maxPendingRequests', p.maxPendingRequests],
    ['maxRequests', p.maxRequests],
    ['maxRetries', p.maxRetries],
  ] as const;
  for (const [name, value] of limits) if (value !== UNLIMITED) out.push(`${name} ${value}`);
  if (p.maxRequestsPerConnection > 0) out.push(`maxRequestsPerConnection ${p.maxRequestsPerConnection}`);
  if (p.idleTimeoutMs !== undefined) out.push(`idleTimeout ${durationWords(p.idleTimeoutMs)}`);
  return out;
}

function outlierWords(o: OutlierDetection): string {
  const on: string[] = [];
  if (o.consecutive5xxErrors > 0) on.push(`${o.consecutive5xxErrors}×5xx`);
  if (o.consecutiveGatewayErrors > 0) on.push(`${o.consecutiveGatewayErrors}×gateway-error`);
  if (o.splitExternalLocalOriginErrors && o.consecutiveLocalOriginFailures > 0)
    on.push(`${o.consecutiveLocalOriginFailures}×local-origin`);
  const what = on.length === 0 ? 'no consecutive-error limit' : on.join(' or ');
  return `outlier ${what} / ${durationWords(o.intervalMs)} (eject ${durationWords(o.baseEjectionTimeMs)}, max ${o.maxEjectionPercent}%)`;
}

function clusterType(c: Cluster): ClusterView['type'] {
  if (c.lb.kind === 'PASSTHROUGH') return 'ORIGINAL_DST';
  const isDnsName = c.endpoints.some((e) => !/^[\d.]+$|:/.test(e.address));
  return isDnsName ? 'STRICT_DNS' : 'EDS';
}

function ejectionView(e: EjectedEndpoint, config: OutlierDetection | undefined): EjectionView {
  return {
    endpoint: e.endpoint,
    type: e.type,
    since: wallClock(e.ejectedAtMs),
    until: wallClock(e.untilMs),
    ejections: e.ejections,
    reason: `outlier detection: ${ejectionWords(e.type, config)}`,
  };
}

/** What ejected it, by the detector's setting: `3 consecutive 5xx responses or connect failures`. */
function ejectionWords(type: EjectionType, config: OutlierDetection | undefined): string {
  const isSplit = config?.splitExternalLocalOriginErrors === true;
  switch (type) {
    case 'CONSECUTIVE_5XX':
      return `${config?.consecutive5xxErrors ?? '?'} consecutive 5xx responses${isSplit ? '' : ' or connect failures'}`;
    case 'CONSECUTIVE_GATEWAY_FAILURE':
      return `${config?.consecutiveGatewayErrors ?? '?'} consecutive gateway errors (502, 503, 504${isSplit ? '' : ', connect failures'})`;
    case 'CONSECUTIVE_LOCAL_ORIGIN_FAILURE':
      return `${config?.consecutiveLocalOriginFailures ?? '?'} consecutive connect failures, resets or timeouts`;
  }
}

function observedView(
  r: Readonly<EndpointRecord> | undefined,
  ejection: EjectionView | undefined,
): ObservedView {
  const failures = r?.consecutiveFailures ?? 0;
  const lastFailure =
    r?.lastFailureAtMs === undefined
      ? undefined
      : { at: wallClock(r.lastFailureAtMs), reason: r.lastFailureReason };
  const lastSuccess = r?.lastSuccessAtMs === undefined ? undefined : wallClock(r.lastSuccessAtMs);
  const last = lastFailure === undefined ? '' : `last failure at ${lastFailure.at}: ${lastFailure.reason}`;
  let state: ObservedView['state'] = 'HEALTHY';
  let summary = 'HEALTHY';
  if (ejection !== undefined) {
    state = 'EJECTED';
    summary = `EJECTED until ${ejection.until} (${ejection.reason})${last === '' ? '' : `; ${last}`}`;
  } else if (failures > 0) {
    state = 'FAILING';
    summary = `FAILING: ${failures === 1 ? 'the last try failed' : `the last ${failures} tries failed`}; ${last}`;
  }
  return { state, summary, consecutiveFailures: failures, lastFailure, lastSuccess };
}

/** The detector counts on performance.now(); people read wall-clock time. */
function wallClock(monotonicMs: number): string {
  return new Date(Date.now() + monotonicMs - performance.now()).toISOString();
}
