// Public face of the upstream layer: every pool (HTTP/1 keep-alive, HTTP/2 sessions, HBONE tunnels),
// connecting to endpoints, and the per-cluster runtime (balancer, breaker, outlier detection).

export { buildClusterRuntime, type ClusterRuntime, stopSweep } from './cluster-runtime.ts';
export { H2SessionPool } from './h2-session-pool.ts';
export { connectPeer, HboneTunnels } from './hbone.ts';
export { UpstreamConnection, UpstreamPools } from './http1-pool.ts';
export { pickEndpoint } from './pick-endpoint.ts';
