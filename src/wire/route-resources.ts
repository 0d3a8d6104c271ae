// Route tables on the stream, split as Envoy's VHDS splits them: a `route` resource names its
// virtual hosts in order, and each virtual host is a `vhost` resource of its own. One
// VirtualService edit then moves the few virtual hosts it changed, not the whole table (54 KB for
// 20 services of 2 ports in bench:push). The proxy joins them back into the table it always had.

import type { EgressScope, RouteTable, VirtualHost } from './routes.ts';

/** The `route` resource: a route table whose virtual hosts are `vhost` resources, named in order. */
export interface RouteTableResource {
  name: string;
  /** Names of `vhost` resources, in the table's order (first match wins among equals). */
  virtualHosts: string[];
  egressScope?: EgressScope;
}

/**
 * `outbound/reviews.shop.svc.cluster.local:9080`: the table's name, then the virtual host's. The
 * same service appears in several tables (the forward proxy's and a Sidecar egress port's), maybe
 * with different routes, so each table has its own.
 */
export function virtualHostResourceName(table: string, host: string): string {
  return `${table}/${host}`;
}

/** The table as a `route` resource and its virtual hosts by resource name, in order. */
export function splitRouteTable(table: RouteTable): {
  table: RouteTableResource;
  hosts: [string, VirtualHost][];
} {
  const { virtualHosts, ...rest } = table;
  const hosts: [string, VirtualHost][] = [];
  const seen = new Set<string>();
  for (const vh of virtualHosts) {
    let name = virtualHostResourceName(table.name, vh.name);
    // Virtual host names are unique in the compiler's tables; a repeat still gets a name of its own.
    for (let n = 2; seen.has(name); n++) name = `${virtualHostResourceName(table.name, vh.name)}#${n}`;
    seen.add(name);
    hosts.push([name, vh]);
  }
  return { table: { ...rest, virtualHosts: hosts.map(([name]) => name) }, hosts };
}

/**
 * The route table a `route` resource and the `vhost` resources make. Throws when the resource is
 * malformed or names a virtual host that is not held (the proxy refuses the push with that reason).
 */
export function joinRouteTable(
  resource: RouteTableResource,
  virtualHostOf: (name: string) => VirtualHost | undefined,
): RouteTable {
  const { name: tableName, virtualHosts: names, ...rest } = resource;
  if (!Array.isArray(names)) throw new Error(`route table ${String(tableName)}: virtualHosts is not a list`);
  const virtualHosts = names.map((name) => {
    const vh = typeof name === 'string' ? virtualHostOf(name) : undefined;
    if (vh === undefined) {
      throw new Error(
        `route table ${tableName} names virtual host ${JSON.stringify(name)}, which the control plane has not sent`,
      );
    }
    return vh;
  });
  // In the compiler's key order, so /config_dump reads as before.
  return { name: tableName, virtualHosts, ...rest };
}
