// Sidecar egress listeners with a port: explicit local ports per upstream, for TCP and for apps that
// cannot use HTTP_PROXY. `hosts` are Istio's `namespace/dnsName` entries (`./reviews…`, `*/…`).

import type { Resource, SidecarSpec } from '../config/index.ts';
import type { OutboundPortListener, RouteTable, VirtualHost } from '../wire/index.ts';
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

/** The cluster a TCP port listener forwards to: the first destination of the first TCP route. */
function tcpCluster(vh: VirtualHost): string {
  return vh.tcpRoutes[0]?.destinations[0]?.cluster ?? '';
}

/**
 * `serviceNamespaceOf` gives the namespace of the service behind a virtual host, since ServiceEntry
 * hosts do not spell it.
 */
export function egressListeners(
  sidecar: Resource<SidecarSpec> | undefined,
  namespace: string,
  outbound: RouteTable,
  serviceNamespaceOf: (virtualHost: string) => string,
): { listeners: OutboundPortListener[]; routeTables: RouteTable[] } {
  const listeners: OutboundPortListener[] = [];
  const routeTables: RouteTable[] = [];
  for (const egress of sidecar?.spec?.egress ?? []) {
    const number = egress.port?.number;
    if (number === undefined || (egress.bind ?? '').startsWith('unix://')) continue;
    const matched: VirtualHost[] = outbound.virtualHosts.filter((vh) => {
      const colon = vh.name.lastIndexOf(':');
      const fqdn = vh.name.slice(0, colon);
      const serviceNamespace = serviceNamespaceOf(vh.name);
      return (
        Number(vh.name.slice(colon + 1)) === number &&
        egress.hosts.some((h) => covers(h, namespace, fqdn, serviceNamespace))
      );
    });
    const first = matched[0];
    if (first === undefined) continue;
    const name = `egress|${number}`;
    const address = egress.bind ?? '127.0.0.1';
    if (first.traffic === 'http') {
      routeTables.push({ name, virtualHosts: matched });
      listeners.push({
        kind: 'outbound-port',
        name,
        address,
        port: number,
        traffic: 'http',
        routeTable: name,
      });
    } else if (first.traffic === 'detect') {
      // Sniffing decides per connection: HTTP routes by Host, anything else goes to the one cluster.
      routeTables.push({ name, virtualHosts: matched.map((vh) => ({ ...vh, traffic: 'http' as const })) });
      const cluster = tcpCluster(first);
      listeners.push({
        kind: 'outbound-port',
        name,
        address,
        port: number,
        traffic: 'detect',
        routeTable: name,
        cluster,
      });
    } else {
      listeners.push({
        kind: 'outbound-port',
        name,
        address,
        port: number,
        traffic: first.traffic,
        cluster: tcpCluster(first),
      });
    }
  }
  return { listeners, routeTables };
}
