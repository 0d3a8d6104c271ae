// A DestinationRule's connectionPool as the wire's ConnectionPool, over Istio's defaults: circuit
// breakers effectively off (getDefaultCircuitBreakerThresholds: 2^32-1 each), no cap on requests per
// connection, MeshConfig's connect timeout unless tcp.connectTimeout says otherwise.

import type { ConnectionPoolSettings } from '../config/index.ts';
import type { ConnectionPool } from '../wire/index.ts';
import { msOf } from './durations.ts';

/** Envoy's uint32 maximum: what Istio writes for "no limit". */
export const UNLIMITED = 4294967295;

export function connectionPoolOf(
  settings: ConnectionPoolSettings | undefined,
  meshConnectTimeoutMs: number,
): { connectionPool: ConnectionPool; connectTimeoutMs: number } {
  const http = settings?.http;
  const tcp = settings?.tcp;
  // A zero means "unset" in Istio's protobufs, so only positive values replace the defaults.
  const positive = (v: number | undefined) => (v !== undefined && v > 0 ? v : UNLIMITED);
  const idleTimeoutMs = msOf(http?.idleTimeout) ?? msOf(tcp?.idleTimeout);
  const connectionPool: ConnectionPool = {
    maxConnections: positive(tcp?.maxConnections),
    maxPendingRequests: positive(http?.http1MaxPendingRequests),
    maxRequests: positive(http?.http2MaxRequests),
    maxRequestsPerConnection: http?.maxRequestsPerConnection ?? 0,
    maxRetries: positive(http?.maxRetries),
    ...(idleTimeoutMs === undefined || idleTimeoutMs === 0 ? {} : { idleTimeoutMs }),
  };
  const connectTimeoutMs = msOf(tcp?.connectTimeout);
  return {
    connectionPool,
    connectTimeoutMs:
      connectTimeoutMs === undefined || connectTimeoutMs < 1 ? meshConnectTimeoutMs : connectTimeoutMs,
  };
}
