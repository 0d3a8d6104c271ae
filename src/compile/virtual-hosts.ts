// The outbound virtual hosts: one per service port, named `host:port`, with every name a client may
// use for it, and the routes that apply on that port: the HTTP routes of the VirtualService that
// claims the host (or the default route), and the TCP or TLS routes of every VirtualService matching
// it (or the default TCP route). Ports that sniff their protocol get both.

import type { VirtualHost } from '../wire/index.ts';
import { clusterName } from './clusters.ts';
import { defaultRoute, translateHttpRoutes } from './http-routes.ts';
import type { MeshPort, MeshService } from './registry.ts';
import { defaultTcpRoute, translateTcpRoutes } from './tcp-routes.ts';
import { type MeshVirtualService, virtualServiceFor, virtualServicesMatching } from './virtual-services.ts';

export interface VirtualHostContext {
  registry: readonly MeshService[];
  virtualServices: readonly MeshVirtualService[];
  proxy: { namespace: string; labels: Readonly<Record<string, string>> };
}

export function buildVirtualHosts(ctx: VirtualHostContext): VirtualHost[] {
  const byHostname = new Map(ctx.registry.map((s) => [s.hostname, s]));
  const lookup = (hostname: string) => byHostname.get(hostname);
  const hosts: VirtualHost[] = [];
  for (const svc of ctx.registry) {
    const httpVs = virtualServiceFor(svc.hostname, ctx.virtualServices);
    const l4Vs = virtualServicesMatching(svc.hostname, ctx.virtualServices);
    for (const port of svc.ports) {
      const routeCtx = { port: port.number, proxy: ctx.proxy, lookup };
      const cluster = clusterName(port.number, '', svc.hostname);
      const wantsHttp = port.traffic !== 'tcp';
      const wantsTcp = port.traffic !== 'http';
      const routes = wantsHttp ? translateHttpRoutes(httpVs?.http ?? [], routeCtx) : [];
      const isTls = port.protocol === 'TLS' || port.protocol === 'HTTPS';
      const tcpDefault = defaultTcpRoute(cluster, svc.hostname);
      const tcpRoutes = wantsTcp
        ? translateTcpRoutes(l4Vs, { ...routeCtx, isTls, defaultRoute: tcpDefault })
        : [];
      hosts.push({
        name: `${svc.hostname}:${port.number}`,
        domains: domainsOf(svc, port, ctx.proxy.namespace),
        traffic: port.traffic,
        routes: wantsHttp && routes.length === 0 ? [defaultRoute(cluster, svc.hostname)] : routes,
        tcpRoutes,
      });
    }
  }
  return hosts;
}

/**
 * Every name a client may use, lower-case, with the port (and also bare on port 80): the FQDN,
 * `name.ns.svc`, `name.ns`, and `name` from the service's own namespace; a ServiceEntry host as written.
 */
function domainsOf(svc: MeshService, port: MeshPort, clientNamespace: string): string[] {
  const host = svc.hostname.toLowerCase();
  const names = [host];
  if (svc.shortName !== undefined) {
    names.push(`${svc.shortName}.${svc.namespace}.svc`, `${svc.shortName}.${svc.namespace}`);
    if (svc.namespace === clientNamespace) names.push(svc.shortName);
  }
  return names.flatMap((n) => (port.number === 80 ? [`${n}:80`, n] : [`${n}:${port.number}`]));
}
