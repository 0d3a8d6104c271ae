// Public face of the upstream layer: every pool (HTTP/1 keep-alive, HTTP/2 sessions, HBONE tunnels),
// one request's stream to an endpoint whatever its protocol, the per-cluster runtime (balancer,
// breaker, outlier detection), and the address connections to peers leave from.

export { buildClusterRuntime, type ClusterRuntime, stopSweep, upstreamTlsOf } from './cluster-runtime.ts';
export { ConnectError, type ConnectFailure, type ConnectFailureKind } from './connect-error.ts';
export { H2SessionPool } from './h2-session-pool.ts';
export { addFields, fromH2Fields } from './h2-upstream-stream.ts';
export { connectPeer, HboneTunnels } from './hbone.ts';
export { type AcquireCancel, UpstreamConnection, UpstreamPools } from './http1-pool.ts';
export { limitWords } from './limit-words.ts';
export { openStream, type StreamTarget, type Upstreams } from './open-stream.ts';
export { pickEndpoint, refuseTlsOrigination } from './pick-endpoint.ts';
export { peerSourceAddress } from './source-address.ts';
export type { UpstreamEvents, UpstreamFailure, UpstreamStream } from './upstream-stream.ts';
