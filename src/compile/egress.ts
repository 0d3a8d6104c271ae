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

/** Whether an egress `hosts` entry covers a virtual host (named `fqdn:port`). */
function covers(entry: string, namespace: string, fqdn: string): boolean {
  const slash = entry.indexOf('/');
  const ns = entry.slice(0, slash);
  const dns = entry.slice(slash + 1);
  const serviceNamespace = fqdn.split('.')[1] ?? '';
  if (ns === '~') return false;
  if (ns !== '*' && (ns === '.' ? namespace : ns) !== serviceNamespace) return false;
  if (dns === '*') return true;
  if (dns.startsWith('*.')) return fqdn.endsWith(dns.slice(1));
  return dns === fqdn;
}

export function egressListeners(
  sidecar: Resource<SidecarSpec> | undefined,
  namespace: string,
  outbound: RouteTable,
): { listeners: OutboundPortListener[]; routeTables: RouteTable[] } {
  const listeners: OutboundPortListener[] = [];
  const routeTables: RouteTable[] = [];
  for (const egress of sidecar?.spec?.egress ?? []) {
    const number = egress.port?.number;
    if (number === undefined || (egress.bind ?? '').startsWith('unix://')) continue;
    const matched: VirtualHost[] = outbound.virtualHosts.filter((vh) => {
      const [fqdn = '', port = ''] = vh.name.split(':');
      return Number(port) === number && egress.hosts.some((h) => covers(h, namespace, fqdn));
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
      const cluster = first.routes[0]?.cluster ?? '';
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
        cluster: first.routes[0]?.cluster ?? '',
      });
    }
  }
  return { listeners, routeTables };
}
