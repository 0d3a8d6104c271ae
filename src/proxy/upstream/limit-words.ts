// Says which DestinationRule field set a cluster's connection limit, for the UO replies that cite it:
// `DestinationRule shop/reviews (trafficPolicy): connectionPool.tcp.maxConnections 1`.

import type { ConnectionPool } from '../../wire/index.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';

/** Istio's field path of each limit in a DestinationRule's trafficPolicy. */
const FIELD: Record<Exclude<keyof ConnectionPool, 'idleTimeoutMs'>, string> = {
  maxConnections: 'connectionPool.tcp.maxConnections',
  maxPendingRequests: 'connectionPool.http.http1MaxPendingRequests',
  maxRequests: 'connectionPool.http.http2MaxRequests',
  maxRequestsPerConnection: 'connectionPool.http.maxRequestsPerConnection',
  maxRetries: 'connectionPool.http.maxRetries',
};

export function limitWords(cluster: ClusterRuntime, limits: readonly (keyof typeof FIELD)[]): string {
  const pool = cluster.cluster.connectionPool;
  const fields = limits.map((l) => `${FIELD[l]} ${pool[l]}`).join(', ');
  const origin = cluster.cluster.policyOrigin;
  if (origin === undefined) return `the mesh defaults (${fields})`;
  const levels = origin.levels.length === 0 ? '' : ` (${origin.levels.join(', ')})`;
  return `DestinationRule ${origin.destinationRule}${levels}: ${fields}`;
}
