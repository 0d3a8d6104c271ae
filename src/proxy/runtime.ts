// What a snapshot becomes inside the proxy: ready-to-run objects built once per version — TLS
// contexts, round-robin pickers, host maps. A connection takes the runtime current when it starts
// and keeps it to its end; a new version goes live with one reference assignment.

import type { Listener, Snapshot, VirtualHost } from '../wire/index.ts';
import { UpstreamPools } from './http/upstream-pool.ts';
import { H2SessionPool } from './http2/h2-session-pool.ts';
import { loadMeshTls, type MeshTls } from './mesh-tls.ts';
import { RoundRobin } from './upstream/round-robin.ts';

export interface Runtime {
  snapshot: Snapshot;
  tls: MeshTls | undefined;
  clusters: ReadonlyMap<string, RoundRobin>;
  /** Listener specs by name: a bound listener reads its current spec here for each new connection. */
  listeners: ReadonlyMap<string, Listener>;
  /** Route table name → (lower-case `host:port` or `host`) → virtual host. */
  hosts: ReadonlyMap<string, ReadonlyMap<string, VirtualHost>>;
  /** Keep-alive connections to upstreams, for this snapshot's TLS identity. */
  pools: UpstreamPools;
  /** One multiplexed HTTP/2 session per upstream endpoint (and per app), for HTTP2/GRPC ports. */
  h2: H2SessionPool;
}

/** Builds the runtime of a decoded snapshot; throws (and the proxy keeps its last one) if it cannot. */
export function buildRuntime(snapshot: Snapshot): Runtime {
  const tls = snapshot.tls === undefined ? undefined : loadMeshTls(snapshot.tls);
  const clusters = new Map(snapshot.clusters.map((c) => [c.name, new RoundRobin(c)]));
  const hosts = new Map(
    snapshot.routeTables.map((t) => {
      const byDomain = new Map<string, VirtualHost>();
      for (const vh of t.virtualHosts) for (const d of vh.domains) byDomain.set(d.toLowerCase(), vh);
      return [t.name, byDomain] as const;
    }),
  );
  const listeners = new Map(snapshot.listeners.map((l) => [l.name, l]));
  return { snapshot, tls, clusters, listeners, hosts, pools: new UpstreamPools(), h2: new H2SessionPool() };
}
