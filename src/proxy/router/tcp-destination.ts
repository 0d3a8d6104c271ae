// Which cluster a byte stream goes to: the virtual host's TCP/TLS routes (port, SNI, destination
// address, source), the first that matches, then its weighted destinations. An outbound TCP port
// tries each of its virtual hosts, the most specific SNI match first, as Envoy's filter chain match
// does. An HTTP service reached by CONNECT has no TCP routes: its first HTTP route's destination serves.

import type { WeightedDestination } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import { sniMatches, type TcpConnectionInfo, type TcpSelection } from '../routing/index.ts';
import type { HostRuntime, Runtime } from '../runtime/index.ts';
import type { ClusterRuntime } from '../upstream/index.ts';

export function tcpDestination(
  host: HostRuntime,
  conn: TcpConnectionInfo,
  runtime: Runtime,
): ClusterRuntime | ProxyError {
  let cluster: string | undefined;
  if (host.vh.tcpRoutes.length > 0) {
    const selection = host.tcp.select(conn);
    if (selection === undefined) {
      return new ProxyError(
        Reply.NoVirtualHost,
        `no TCP route for ${host.vh.name} matched (port ${conn.port}${conn.sni === undefined ? '' : `, SNI ${conn.sni}`})`,
      );
    }
    cluster = selection.route.picker.pick(Math.random)?.cluster;
  } else {
    const action = host.vh.routes[0]?.action;
    cluster = action?.kind === 'forward' ? action.destinations[0]?.cluster : undefined;
  }
  const cr = cluster === undefined ? undefined : runtime.clusters.get(cluster);
  if (cr === undefined) return new ProxyError(Reply.NoCluster, `no cluster for ${host.vh.name}`);
  return cr;
}

/** The virtual hosts of one outbound port's route table, built once per runtime. */
export interface TcpPortRoutes {
  /** In route-table order: on a tie, the first wins. */
  readonly hosts: readonly HostRuntime[];
  /** Some route matches on SNI: the listener must read the ClientHello before it can route. */
  readonly needsSni: boolean;
}

/** Where a routed connection goes. */
export interface TcpPortTarget {
  readonly host: HostRuntime;
  readonly selection: TcpSelection;
  readonly destination: WeightedDestination;
  readonly cluster: ClusterRuntime;
}

const portRoutes = new WeakMap<ReadonlyMap<string, HostRuntime>, TcpPortRoutes>();

/** The routes of route table `name` (undefined if the runtime has none), cached per runtime. */
export function tcpPortRoutes(runtime: Runtime, name: string): TcpPortRoutes | undefined {
  const byDomain = runtime.hosts.get(name);
  if (byDomain === undefined) return undefined;
  const cached = portRoutes.get(byDomain);
  if (cached !== undefined) return cached;
  const hosts = [...new Set(byDomain.values())];
  const needsSni = hosts.some((h) =>
    h.vh.tcpRoutes.some((r) => r.matches.some((m) => (m.sniHosts?.length ?? 0) > 0)),
  );
  const built: TcpPortRoutes = { hosts, needsSni };
  portRoutes.set(byDomain, built);
  return built;
}

/**
 * The route a new connection takes on an outbound port: each virtual host's first matching route;
 * among those, an exact SNI name beats a wildcard, a longer wildcard a shorter one, and any SNI
 * match beats a route without sniHosts (Envoy's server_names precedence); then route-table order.
 * NR when none matches, NC when the chosen destination's cluster is not in the snapshot.
 */
export function tcpPortDestination(
  routes: TcpPortRoutes,
  conn: TcpConnectionInfo,
  runtime: Runtime,
): TcpPortTarget | ProxyError {
  let best: { host: HostRuntime; selection: TcpSelection } | undefined;
  let bestRank = -1;
  for (const host of routes.hosts) {
    const selection = host.tcp.select(conn);
    if (selection === undefined) continue;
    const rank = sniRank(selection, conn.sni);
    if (rank > bestRank) {
      best = { host, selection };
      bestRank = rank;
    }
  }
  if (best === undefined) {
    const sni = conn.sni === undefined ? 'no SNI' : `SNI ${conn.sni}`;
    const names = routes.hosts.map((h) => h.displayName).join(', ');
    return new ProxyError(
      Reply.NoVirtualHost,
      `no TCP or TLS route of port ${conn.port} (${names}) matched the connection (${sni})`,
    );
  }
  const destination = best.selection.route.picker.pick(Math.random);
  const cluster = destination === undefined ? undefined : runtime.clusters.get(destination.cluster);
  if (destination === undefined || cluster === undefined) {
    const why =
      destination === undefined
        ? 'every destination of the route has weight 0'
        : `cluster ${destination.cluster} is not in the snapshot`;
    return new ProxyError(Reply.NoCluster, `no cluster for ${best.host.displayName}: ${why}`);
  }
  return { host: best.host, selection: best.selection, destination, cluster };
}

/** 0: the block has no sniHosts; else 1 + the length of its most specific name matching `sni`, exact names above all. */
function sniRank(selection: TcpSelection, sni: string | undefined): number {
  const hosts = selection.route.route.matches[selection.matchIndex]?.sniHosts;
  if (hosts === undefined || hosts.length === 0 || sni === undefined) return 0;
  let rank = 0;
  for (const h of hosts) {
    const pattern = h.toLowerCase();
    if (!sniMatches(pattern, sni)) continue;
    const r = pattern.startsWith('*') ? 1 + pattern.length : 1_000;
    if (r > rank) rank = r;
  }
  return rank;
}
