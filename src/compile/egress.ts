// Sidecar egress listeners with a port: explicit local ports per upstream, for TCP and for apps that
// cannot use HTTP_PROXY. `hosts` are Istio's `namespace/dnsName` entries (`./reviews…`, `*/…`). Each
// port gets a route table of its services; the proxy routes every connection through it.

import type { Resource, SidecarSpec } from '../config/index.ts';
import type { OutboundPortListener, RouteTable, TcpRoute, VirtualHost } from '../wire/index.ts';
import { selects } from './config-index.ts';

/** The Sidecar that applies to a workload: one selecting it, else the namespace's default (no selector). */
export function sidecarFor(
  sidecars: readonly Resource<SidecarSpec>[],
  namespace: string,
  labels: Readonly<Record<string, string>>,
): Resource<SidecarSpec> | undefined {
  const inNamespace = sidecars.filter((s) => s.metadata.namespace === namespace);
  return (
    inNamespace.find((s) => selects(s.spec?.workloadSelector?.labels, labels)) ??
    inNamespace.find((s) => Object.keys(s.spec?.workloadSelector?.labels ?? {}).length === 0)
  );
}

/** What the compiler knows of the service behind a virtual host (`host:port`). */
export interface EgressService {
  /** ServiceEntry hosts do not spell their namespace. */
  namespace: string;
  /** The port's protocol is TLS or HTTPS: connections carry an SNI that can tell services apart. */
  isTls: boolean;
}

export interface EgressContext {
  sidecar: Resource<SidecarSpec> | undefined;
  /** The workload's namespace. */
  namespace: string;
  outbound: RouteTable;
  serviceOf: (virtualHost: string) => EgressService | undefined;
}

/** Whether an egress `hosts` entry covers a service host of `serviceNamespace`. */
function covers(entry: string, namespace: string, fqdn: string, serviceNamespace: string): boolean {
  const slash = entry.indexOf('/');
  const ns = entry.slice(0, slash);
  const dns = entry.slice(slash + 1);
  if (ns === '~') return false;
  if (ns !== '*' && (ns === '.' ? namespace : ns) !== serviceNamespace) return false;
  if (dns === '*') return true;
  if (dns.startsWith('*.')) return fqdn.endsWith(dns.slice(1));
  return dns === fqdn;
}

/**
 * The route table of the forward proxy (HTTP_PROXY), scoped as Istio scopes a sidecar's outbound
 * config: by the `hosts` of the Sidecar's egress listener without a port (its catch-all). A Sidecar
 * with only port-specific listeners, or none, leaves the table whole.
 */
export function scopeOutbound(ctx: EgressContext): RouteTable {
  const catchAll = ctx.sidecar?.spec?.egress?.find((e) => e.port?.number === undefined);
  if (catchAll === undefined) return ctx.outbound;
  const virtualHosts = ctx.outbound.virtualHosts.filter((vh) => {
    const fqdn = vh.name.slice(0, vh.name.lastIndexOf(':'));
    const serviceNamespace = ctx.serviceOf(vh.name)?.namespace ?? '';
    return catchAll.hosts.some((h) => covers(h, ctx.namespace, fqdn, serviceNamespace));
  });
  return { ...ctx.outbound, virtualHosts };
}

export function egressListeners(ctx: EgressContext): {
  listeners: OutboundPortListener[];
  routeTables: RouteTable[];
} {
  const listeners: OutboundPortListener[] = [];
  const routeTables: RouteTable[] = [];
  for (const egress of ctx.sidecar?.spec?.egress ?? []) {
    const number = egress.port?.number;
    if (number === undefined || (egress.bind ?? '').startsWith('unix://')) continue;
    const matched: VirtualHost[] = ctx.outbound.virtualHosts.filter((vh) => {
      const colon = vh.name.lastIndexOf(':');
      const fqdn = vh.name.slice(0, colon);
      const serviceNamespace = ctx.serviceOf(vh.name)?.namespace ?? '';
      return (
        Number(vh.name.slice(colon + 1)) === number &&
        egress.hosts.some((h) => covers(h, ctx.namespace, fqdn, serviceNamespace))
      );
    });
    const first = matched[0];
    if (first === undefined) continue;
    const name = `egress|${number}`;
    const virtualHosts =
      first.traffic === 'http'
        ? matched
        : first.traffic === 'detect'
          ? // Sniffing decides per connection: HTTP routes by Host, anything else by the TCP routes.
            matched.map((vh) => ({ ...vh, traffic: 'http' as const }))
          : withServiceSni(matched, ctx.serviceOf);
    routeTables.push({ name, virtualHosts });
    listeners.push({
      kind: 'outbound-port',
      name,
      address: egress.bind ?? '127.0.0.1',
      port: number,
      traffic: first.traffic,
      routeTable: name,
    });
  }
  return { listeners, routeTables };
}

/**
 * Several TLS services on one local port can only be told apart by SNI, so each one's default route
 * (no VirtualService routes) takes only the names of its service, as Istio's sidecar does for a TLS
 * service without a VIP (filter chain `server_names: [hostname]`). A port with one service keeps a
 * default route that takes every connection.
 */
function withServiceSni(virtualHosts: VirtualHost[], serviceOf: EgressContext['serviceOf']): VirtualHost[] {
  if (virtualHosts.length < 2) return virtualHosts;
  return virtualHosts.map((vh) => {
    if (serviceOf(vh.name)?.isTls !== true) return vh;
    const names = [...new Set(vh.domains.map(withoutPort))];
    const tcpRoutes = vh.tcpRoutes.map(
      (r): TcpRoute => (r.origin.kind === 'default' ? { ...r, matches: [{ sniHosts: names }] } : r),
    );
    return { ...vh, tcpRoutes };
  });
}

/** `reviews.shop:9443` → `reviews.shop` (domains are lower-case `host:port`, and bare on port 80). */
function withoutPort(domain: string): string {
  const colon = domain.lastIndexOf(':');
  return colon === -1 ? domain : domain.slice(0, colon);
}
