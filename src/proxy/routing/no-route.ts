// The reply to a request for a host that its route table lacks (502, flag NR), for the HTTP router
// and the forward proxy's CONNECT. On an egress port the reason names the port and the hosts it
// serves (its client picked the port, so the Host is what to fix). Elsewhere, when a Sidecar egress
// listener scopes the table, the reason names that Sidecar; the wording stays true whether or not the
// host is a mesh service the scope hides.

import type { EgressScope, OutboundPortListener, RouteTable, Snapshot } from '../../wire/index.ts';
import { type LocalReply, localReply, Reply } from '../local-reply/index.ts';

/** An egress port's refusal lists at most this many of its hosts. */
const PORT_HOSTS_SHOWN = 8;

/** Why `authority` has no route in `routeTable` of `snapshot`, and what to do about it. */
export function noRoute(authority: string, snapshot: Snapshot, routeTable: string): LocalReply {
  const table = snapshot.routeTables.find((t) => t.name === routeTable);
  const scope = table?.egressScope;
  const policy = snapshot.mesh.outboundTrafficPolicy;
  const outside = `it is not in the mesh registry and outboundTrafficPolicy is ${policy}`;
  const isHidden = scope?.hiddenDomains?.includes(authority.toLowerCase()) === true;
  const port = isHidden || table === undefined ? undefined : egressPortOf(snapshot, routeTable);
  if (port !== undefined && table !== undefined)
    return localReply(Reply.NoVirtualHost, portReason(authority, port, table));
  let why: string;
  if (scope === undefined) why = `${outside}; declare it with a ServiceEntry`;
  else if (scope.hiddenDomains === undefined) {
    why = `Sidecar ${scope.sidecar} limits this workload's egress to ${hostList(scope)}; add the host to its egress hosts, or declare it with a ServiceEntry if it is outside the mesh`;
  } else if (isHidden) {
    const host = authority.replace(/:\d+$/, '');
    why = `${host} is a mesh service hidden by Sidecar ${scope.sidecar}, which limits this workload's egress to ${hostList(scope)}; add the host to its egress hosts`;
  } else {
    why = `${outside}; declare it with a ServiceEntry, and include it in the egress hosts of Sidecar ${scope.sidecar} (${hostList(scope)})`;
  }
  return localReply(Reply.NoVirtualHost, `no route to ${authority}: ${why}`);
}

function egressPortOf(snapshot: Snapshot, routeTable: string): OutboundPortListener | undefined {
  for (const l of snapshot.listeners) if (l.kind === 'outbound-port' && l.routeTable === routeTable) return l;
  return undefined;
}

/**
 * `no route to 127.0.0.1:9091 on egress|9091 (127.0.0.1:9091): it serves ["a.shop:9091", …]; …`: a port
 * with one service takes every request, so this one has several (or none).
 */
function portReason(authority: string, port: OutboundPortListener, table: RouteTable): string {
  const names = table.virtualHosts.map((vh) => vh.name.replace(/\.svc\.cluster\.local(?=:|$)/, ''));
  const shown = names.slice(0, PORT_HOSTS_SHOWN).map((n) => JSON.stringify(n));
  if (names.length > shown.length) shown.push(`and ${names.length - shown.length} more`);
  const where = `${port.name} (${port.address}:${port.port})`;
  const sidecar = table.egressScope === undefined ? '' : ` in Sidecar ${table.egressScope.sidecar}`;
  return `no route to ${authority} on ${where}: it serves [${shown.join(', ')}] and routes by the Host header (the :authority of HTTP/2 and gRPC); send one of these hosts, or give the port a single service${sidecar} (a port with one service takes every request)`;
}

/** `["./*", "istio-system/*"]`, or `["a/*", …, and 3 more]` past EGRESS_SCOPE_LIMITS.hosts. */
function hostList(scope: EgressScope): string {
  const more = scope.moreHosts > 0 ? `, and ${scope.moreHosts} more` : '';
  return `[${scope.hosts.map((h) => JSON.stringify(h)).join(', ')}${more}]`;
}
