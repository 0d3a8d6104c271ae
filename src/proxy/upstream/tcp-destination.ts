// Which cluster a byte stream goes to: the virtual host's TCP/TLS routes (port, SNI, destination
// address, source), the first that matches, then its weighted destinations. An HTTP service reached
// by CONNECT has no TCP routes: its first HTTP route's destination serves.

import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import type { TcpConnectionInfo } from '../routing/index.ts';
import type { HostRuntime, Runtime } from '../runtime.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';

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
        ResponseFlag.NoRouteFound,
        502,
        `no TCP route for ${host.vh.name} matched (port ${conn.port}${conn.sni === undefined ? '' : `, SNI ${conn.sni}`})`,
      );
    }
    cluster = selection.route.picker.pick(Math.random)?.cluster;
  } else {
    const action = host.vh.routes[0]?.action;
    cluster = action?.kind === 'forward' ? action.destinations[0]?.cluster : undefined;
  }
  const cr = cluster === undefined ? undefined : runtime.clusters.get(cluster);
  if (cr === undefined)
    return new ProxyError(ResponseFlag.NoClusterFound, 503, `no cluster for ${host.vh.name}`);
  return cr;
}
