// What a snapshot becomes inside the proxy: ready-to-run objects built once per version — TLS
// contexts, compiled route matchers, balancers, host maps, the path normalizer. A connection takes
// the runtime current when it starts and keeps it to its end; a new version goes live with one
// reference assignment.
// Cluster state that must outlive a version (outlier ejections, in-flight counts, circuit breaker
// counts) and the upstream connection pools carry over from the previous runtime.

import type { Listener, Snapshot, VirtualHost } from '../../wire/index.ts';
import { type CompiledAuthz, compileAuthz } from '../authz/index.ts';
import { type PathNormalizer, pathNormalizer } from '../http/index.ts';
import { type Http1Limits, http1Limits, methodSet } from '../http1/index.ts';
import { type CompiledAuthn, compileAuthn, retireAuthn } from '../jwt/index.ts';
import {
  type CompiledTcpRoutes,
  type CompiledVirtualHost,
  compileRequestFilters,
  compileTcpRoutes,
  compileVirtualHost,
  type RequestFilter,
} from '../routing/index.ts';
import { loadMeshTls, type MeshTls } from '../tls/index.ts';
import {
  buildClusterRuntime,
  type ClusterRuntime,
  H2SessionPool,
  HboneTunnels,
  peerSourceAddress,
  stopSweep,
  UpstreamPools,
} from '../upstream/index.ts';

/** A virtual host as the proxy runs it. */
export interface HostRuntime {
  readonly vh: VirtualHost;
  /** How messages name it: `reviews.default:9080` for a service, the host itself otherwise. */
  readonly displayName: string;
  /** The service port (from `fqdn:port`), the port routes match against. */
  readonly port: number;
  readonly http: CompiledVirtualHost;
  readonly tcp: CompiledTcpRoutes;
}

export interface Runtime {
  snapshot: Snapshot;
  tls: MeshTls | undefined;
  clusters: ReadonlyMap<string, ClusterRuntime>;
  /** Listener specs by name: a bound listener reads its current spec here for each new connection. */
  listeners: ReadonlyMap<string, Listener>;
  /** Route table name → (lower-case `host:port` or `host`) → virtual host. */
  hosts: ReadonlyMap<string, ReadonlyMap<string, HostRuntime>>;
  /** Keep-alive connections to upstreams, for this snapshot's TLS identity. */
  pools: UpstreamPools;
  /** HBONE sessions to peer proxies (HTTP/1 and TCP between proxies travel in their tunnels). */
  tunnels: HboneTunnels;
  /** One multiplexed HTTP/2 session per upstream endpoint (and per app), for HTTP2/GRPC ports. */
  h2: H2SessionPool;
  /** The HTTP request rules of this snapshot (MeshConfig `http`: methods, header names) and limits. */
  http1Limits: Http1Limits;
  /** The same for peer proxies, with room for the headers the first proxy added (x-request-id, x-forwarded-*). */
  http1LimitsFromMesh: Http1Limits;
  /** The HTTP filters routed requests pass, in order: those some route of this snapshot uses. */
  requestFilters: readonly RequestFilter[];
  /** The AuthorizationPolicies in force on the inbound side. */
  authz: CompiledAuthz;
  /** MeshConfig pathNormalization as a function: what each request's path becomes before routing. */
  normalizePath: PathNormalizer;
  /** The RequestAuthentication rules in force on the inbound side, with the key sets they fetch. */
  authn: CompiledAuthn;
}

/** What the runtime reports while it runs, beyond its requests. */
export interface RuntimeEvents {
  /** One fetch of a key set a RequestAuthentication rule names ended. */
  onJwksFetch?: (
    outcome: { uri: string; ok: true; keys: number } | { uri: string; ok: false; reason: string },
  ) => void;
}

/** Builds the runtime of a decoded snapshot; throws (and the proxy keeps its last one) if it cannot. */
export function buildRuntime(snapshot: Snapshot, previous?: Runtime, events: RuntimeEvents = {}): Runtime {
  const tls = snapshot.tls === undefined ? undefined : loadMeshTls(snapshot.tls);
  const hosts = new Map(
    snapshot.routeTables.map((t) => {
      const byDomain = new Map<string, HostRuntime>();
      for (const vh of t.virtualHosts) {
        const host: HostRuntime = {
          vh,
          displayName: vh.name.replace(/\.svc\.cluster\.local(?=:|$)/, ''),
          port: portOf(vh.name),
          http: compileVirtualHost(vh, snapshot.proxy),
          tcp: compileTcpRoutes(vh, snapshot.proxy),
        };
        for (const d of vh.domains) byDomain.set(d.toLowerCase(), host);
      }
      return [t.name, byDomain] as const;
    }),
  );
  // A cluster the agent handed over unchanged (the same object: resources.ts joins each once) keeps
  // its runtime whole while the proxy's labels and locality, which its balancer plans by, stay too.
  const sameSelf =
    previous !== undefined &&
    previous.snapshot.proxy.locality === snapshot.proxy.locality &&
    JSON.stringify(previous.snapshot.proxy.labels) === JSON.stringify(snapshot.proxy.labels);
  const clusters = new Map<string, ClusterRuntime>();
  for (const c of snapshot.clusters) {
    const had = previous?.clusters.get(c.name);
    clusters.set(c.name, sameSelf && had?.cluster === c ? had : buildClusterRuntime(c, snapshot.proxy, had));
  }
  const listeners = new Map(snapshot.listeners.map((l) => [l.name, l]));
  // Pooled connections carry the previous TLS identity and source address: kept only while the same.
  const source = peerSourceAddress(snapshot.proxy.address);
  const keepsPools =
    previous !== undefined &&
    previous.tunnels.sourceAddress === source &&
    JSON.stringify(previous.snapshot.tls) === JSON.stringify(snapshot.tls);
  const tunnels = keepsPools ? previous.tunnels : new HboneTunnels(source);
  const http1 = requestRules(snapshot);
  const routes = [];
  for (const table of hosts.values())
    for (const host of new Set(table.values())) routes.push(...host.http.routes);
  return {
    snapshot,
    tls,
    clusters,
    listeners,
    hosts,
    pools: keepsPools ? previous.pools : new UpstreamPools(tunnels),
    h2: keepsPools ? previous.h2 : new H2SessionPool(source === undefined ? {} : { sourceAddress: source }),
    tunnels,
    http1Limits: http1,
    http1LimitsFromMesh: http1Limits({ ...http1, maxHeaders: http1.maxHeaders + 20 }),
    requestFilters: compileRequestFilters(routes),
    authz: compileAuthz(snapshot.authorization),
    normalizePath: pathNormalizer(snapshot.mesh.pathNormalization),
    // Last: nothing after it can throw, so no key set it starts is left behind by a build that failed.
    authn: compileAuthn(snapshot.requestAuthentication, {
      previous: previous?.authn,
      onFetch: events.onJwksFetch ?? (() => undefined),
    }),
  };
}

/** MeshConfig `http` as codec limits, built once per snapshot (the method Set included). */
function requestRules(snapshot: Snapshot): Http1Limits {
  const http = snapshot.mesh.http;
  return http1Limits({
    methods: methodSet(http.extensionMethods),
    maxMethodBytes: http.maxMethodBytes,
    headersWithUnderscoresAction: http.headersWithUnderscoresAction,
  });
}

/**
 * The new runtime went live: the clusters it dropped stop their timers, and pools it did not keep (a
 * new TLS identity) close their idle connections and each busy one when its exchange ends.
 */
export function retireRuntime(old: Runtime, current: Runtime): void {
  if (old.pools !== current.pools) old.pools.close();
  retireAuthn(old.authn, current.authn);
  for (const [name, c] of old.clusters) {
    if (current.clusters.get(name)?.sweep !== c.sweep) stopSweep(c);
  }
}

/** The virtual host a (lower-case) authority names in a route table: `host:port`, or `host` as port 80. */
export function hostFor(
  table: ReadonlyMap<string, HostRuntime> | undefined,
  authority: string,
): HostRuntime | undefined {
  return table?.get(authority) ?? (authority.includes(':') ? undefined : table?.get(`${authority}:80`));
}

function portOf(vhName: string): number {
  const at = vhName.lastIndexOf(':');
  const port = Number(vhName.slice(at + 1));
  return at === -1 || !Number.isInteger(port) ? 80 : port;
}
