// VirtualService `tcp` and `tls` routes as the wire's TcpRoutes for one service port, as Istio's
// buildSidecarOutbound{TCP,TLS}FilterChainOpts do: every VirtualService matching the host
// contributes, in order; a TLS port takes `tls` routes (by SNI), any other port `tcp` routes. Match
// blocks for another port, gateway, or other source labels or namespace are dropped; a TCP route that
// matches every connection ends the list. The service's default route comes last when no route
// applies, and on a TCP port also after routes that only match some destination subnets.

import type { TCPRoute, TLSRoute } from '../config/index.ts';
import type { TcpMatch, TcpRoute } from '../wire/index.ts';
import { isLabelSubset } from './config-index.ts';
import { isBoundToMesh } from './mesh-gateway.ts';
import { type DestinationContext, weightedDestinations } from './route-destinations.ts';
import type { MatchContext } from './route-match.ts';
import type { MeshVirtualService } from './virtual-services.ts';

export type TcpRouteContext = MatchContext &
  DestinationContext & {
    isTls: boolean;
    /** The service's own route (defaultTcpRoute), for connections no VirtualService route takes. */
    defaultRoute: TcpRoute;
  };

type L4Match = NonNullable<TCPRoute['match']>[number] & { sniHosts?: string[] };

export function translateTcpRoutes(
  services: readonly MeshVirtualService[],
  ctx: TcpRouteContext,
): TcpRoute[] {
  const out: TcpRoute[] = [];
  for (const vs of services) {
    const routes: (TCPRoute | TLSRoute)[] = (ctx.isTls ? vs.spec.tls : vs.spec.tcp) ?? [];
    for (const [i, route] of routes.entries()) {
      const blocks: L4Match[] = route.match ?? [];
      const kept = blocks.filter((m) => isStaticMatch(m, ctx));
      if (blocks.length > 0 && kept.length === 0) continue;
      const path = `${ctx.isTls ? 'tls' : 'tcp'}[${i}]`;
      out.push({
        name: path,
        origin: { kind: 'VirtualService', virtualServices: [vs.ref], paths: [path] },
        matches: kept.map(tcpMatchOf),
        destinations: weightedDestinations(route.route, ctx).destinations,
      });
      const isTerminal =
        kept.length === 0 || kept.some((m) => !m.destinationSubnets?.length && !m.sniHosts?.length);
      if (isTerminal) return out;
    }
  }
  // Istio adds the service's filter chain unless a catch-all TCP route was added; on a TLS port, only
  // when no TLS route applies (a TLS port with routes closes connections whose SNI none of them takes).
  if (out.length === 0 || !ctx.isTls) out.push(ctx.defaultRoute);
  return out;
}

/** Istio's matchTCP / matchTLS: gateways, source labels, port and source namespace, known now. */
function isStaticMatch(m: L4Match, ctx: MatchContext): boolean {
  if (!isBoundToMesh(m.gateways)) return false;
  if (!isLabelSubset(m.sourceLabels, ctx.proxy.labels)) return false;
  if (m.port && m.port !== ctx.port) return false;
  return !m.sourceNamespace || m.sourceNamespace === ctx.proxy.namespace;
}

function tcpMatchOf(m: L4Match): TcpMatch {
  const out: TcpMatch = {};
  if (m.port) out.port = m.port;
  if (m.sniHosts?.length) out.sniHosts = [...m.sniHosts];
  if (m.destinationSubnets?.length) out.destinationSubnets = [...m.destinationSubnets];
  if (Object.keys(m.sourceLabels ?? {}).length > 0) out.sourceLabels = { ...m.sourceLabels };
  if (m.sourceNamespace) out.sourceNamespace = m.sourceNamespace;
  return out;
}

/** The route of a TCP port without VirtualService routes: every connection to the service's cluster. */
export function defaultTcpRoute(cluster: string, host: string): TcpRoute {
  return {
    name: 'default',
    origin: { kind: 'default', virtualServices: [], paths: [] },
    matches: [],
    destinations: [{ cluster, weight: 100, host }],
  };
}
