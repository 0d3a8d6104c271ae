// Sidecar egress listeners with a port: explicit local ports per upstream, for TCP and for apps that
// cannot use HTTP_PROXY. `hosts` are Istio's `namespace/dnsName` entries (`./reviews…`, `*/…`). Each
// port gets a route table of its services; the proxy routes every connection through it. A scoped
// table records its Sidecar (EgressScope), so that the proxy's refusals can name it.

import type { Resource, SidecarSpec } from '../config/index.ts';
import {
  EGRESS_SCOPE_LIMITS,
  type EgressScope,
  type OutboundPortListener,
  type RouteTable,
  type TcpRoute,
  type VirtualHost,
} from '../wire/index.ts';
import { refName, selects } from './config-index.ts';

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
  if (ctx.sidecar === undefined || catchAll === undefined) return ctx.outbound;
  const { covered, hidden } = splitByHosts(ctx, catchAll.hosts);
  return {
    ...ctx.outbound,
    virtualHosts: covered,
    egressScope: egressScope(ctx.sidecar, catchAll.hosts, hidden),
  };
}

/** The outbound virtual hosts (on `port`, when given) that egress `hosts` cover, and those they hide. */
function splitByHosts(
  ctx: EgressContext,
  hosts: readonly string[],
  port?: number,
): { covered: VirtualHost[]; hidden: VirtualHost[] } {
  const covered: VirtualHost[] = [];
  const hidden: VirtualHost[] = [];
  for (const vh of ctx.outbound.virtualHosts) {
    const colon = vh.name.lastIndexOf(':');
    if (port !== undefined && Number(vh.name.slice(colon + 1)) !== port) continue;
    const fqdn = vh.name.slice(0, colon);
    const serviceNamespace = ctx.serviceOf(vh.name)?.namespace ?? '';
    const isCovered = hosts.some((h) => covers(h, ctx.namespace, fqdn, serviceNamespace));
    (isCovered ? covered : hidden).push(vh);
  }
  return { covered, hidden };
}

/** What a refusal needs to name the Sidecar: its hosts and the names it hides, within EGRESS_SCOPE_LIMITS. */
function egressScope(
  sidecar: Resource<SidecarSpec>,
  hosts: readonly string[],
  hidden: readonly VirtualHost[],
): EgressScope {
  const shown = hosts.slice(0, EGRESS_SCOPE_LIMITS.hosts);
  const scope: EgressScope = {
    sidecar: refName(sidecar),
    hosts: shown,
    moreHosts: hosts.length - shown.length,
  };
  let names = 0;
  for (const vh of hidden) {
    names += vh.domains.length;
    if (names > EGRESS_SCOPE_LIMITS.hiddenDomains) return scope;
  }
  return { ...scope, hiddenDomains: hidden.flatMap((vh) => vh.domains) };
}

export function egressListeners(ctx: EgressContext): {
  listeners: OutboundPortListener[];
  routeTables: RouteTable[];
} {
  const listeners: OutboundPortListener[] = [];
  const routeTables: RouteTable[] = [];
  const sidecar = ctx.sidecar;
  for (const egress of sidecar?.spec?.egress ?? []) {
    const number = egress.port?.number;
    if (sidecar === undefined || number === undefined || (egress.bind ?? '').startsWith('unix://')) continue;
    const { covered: matched, hidden } = splitByHosts(ctx, egress.hosts, number);
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
    routeTables.push({ name, virtualHosts, egressScope: egressScope(sidecar, egress.hosts, hidden) });
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
