// One cluster inside the proxy: its balancer, outlier detector, circuit breaker and what its
// endpoints were observed to do, built once per snapshot version. A cluster that a new version keeps
// (same name) keeps its outlier state, observations, in-flight counts and slow-start clocks; its
// circuit breaker counts carry over when its limits do.

import type { Cluster, ProxyIdentity } from '../../wire/index.ts';
import {
  type Balancer,
  type CircuitBreaker,
  createBalancer,
  createCircuitBreaker,
  createObservedHealth,
  createOutlierDetector,
  type ObservedHealth,
  type OutlierDetector,
} from '../balance/index.ts';
import { loadOriginTls, type MeshTls, type OriginTls, type UpstreamTls } from '../tls/index.ts';

export interface ClusterRuntime {
  readonly cluster: Cluster;
  readonly balancer: Balancer;
  readonly outlier: OutlierDetector;
  readonly breaker: CircuitBreaker;
  /** What each endpoint was seen to do (failures in a row, the last failure and why), kept across versions. */
  readonly observed: ObservedHealth;
  /** The outlier detector's sweep timer, shared by the versions that share the detector. */
  readonly sweep: { timer: NodeJS.Timeout | undefined };
  /** SIMPLE and MUTUAL: the TLS to originate, or why it cannot be (requests then get 503 UF saying so). */
  readonly origin: OriginTls | { unusable: string } | undefined;
}

const clock = { now: () => performance.now(), random: Math.random };

export function buildClusterRuntime(
  cluster: Cluster,
  self: ProxyIdentity,
  previous: ClusterRuntime | undefined,
): ClusterRuntime {
  const keepsOutlier =
    previous !== undefined &&
    JSON.stringify(previous.cluster.outlierDetection) === JSON.stringify(cluster.outlierDetection);
  const outlier = keepsOutlier ? previous.outlier : createOutlierDetector(cluster.outlierDetection, clock);
  const balancer = createBalancer(cluster, self, {
    ...clock,
    outlier,
    ...(previous === undefined ? {} : { previous: previous.balancer }),
  });
  const keepsBreaker =
    previous !== undefined &&
    JSON.stringify(previous.cluster.connectionPool) === JSON.stringify(cluster.connectionPool);
  const breaker = keepsBreaker ? previous.breaker : createCircuitBreaker(cluster.connectionPool);
  const observed = previous?.observed ?? createObservedHealth(clock);
  observed.setEndpoints(cluster.endpoints);
  let sweep: ClusterRuntime['sweep'];
  if (keepsOutlier) sweep = previous.sweep;
  else {
    if (previous !== undefined) stopSweep(previous);
    sweep = {
      timer: outlier.isEnabled ? setInterval(() => outlier.tick(), outlier.intervalMs).unref() : undefined,
    };
  }
  const origin = cluster.originate === undefined ? undefined : loadOriginTls(cluster.originate);
  return { cluster, balancer, outlier, breaker, observed, sweep, origin };
}

/** The cluster left the snapshot: its detector stops sweeping. */
export function stopSweep(runtime: ClusterRuntime): void {
  clearInterval(runtime.sweep.timer);
  runtime.sweep.timer = undefined;
}

/** The TLS of a connection to the cluster's endpoints: the peer proxy's mTLS, the TLS it originates, or none. */
export function upstreamTlsOf(cr: ClusterRuntime, meshTls: MeshTls | undefined): UpstreamTls | undefined {
  if (cr.cluster.tlsMode === 'ISTIO_MUTUAL') return meshTls;
  return cr.origin !== undefined && !('unusable' in cr.origin) ? cr.origin : undefined;
}
