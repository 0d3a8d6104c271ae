// The reply to a request for a host that its route table lacks (502, flag NR), for the HTTP router
// and the forward proxy's CONNECT. When a Sidecar egress listener scopes the table, the reason names
// that Sidecar; the wording stays true whether or not the host is a mesh service the scope hides.

import type { EgressScope, Snapshot } from '../../wire/index.ts';
import { type LocalReply, localReply, Reply } from '../local-reply/index.ts';

/** Why `authority` has no route in `routeTable` of `snapshot`, and what to do about it. */
export function noRoute(authority: string, snapshot: Snapshot, routeTable: string): LocalReply {
  const scope = snapshot.routeTables.find((t) => t.name === routeTable)?.egressScope;
  const policy = snapshot.mesh.outboundTrafficPolicy;
  const outside = `it is not in the mesh registry and outboundTrafficPolicy is ${policy}`;
  let why: string;
  if (scope === undefined) why = `${outside}; declare it with a ServiceEntry`;
  else if (scope.hiddenDomains === undefined) {
    why = `Sidecar ${scope.sidecar} limits this workload's egress to ${hostList(scope)}; add the host to its egress hosts, or declare it with a ServiceEntry if it is outside the mesh`;
  } else if (scope.hiddenDomains.includes(authority.toLowerCase())) {
    const host = authority.replace(/:\d+$/, '');
    why = `${host} is a mesh service hidden by Sidecar ${scope.sidecar}, which limits this workload's egress to ${hostList(scope)}; add the host to its egress hosts`;
  } else {
    why = `${outside}; declare it with a ServiceEntry, and include it in the egress hosts of Sidecar ${scope.sidecar} (${hostList(scope)})`;
  }
  return localReply(Reply.NoVirtualHost, `no route to ${authority}: ${why}`);
}

/** `["./*", "istio-system/*"]`, or `["a/*", …, and 3 more]` past EGRESS_SCOPE_LIMITS.hosts. */
function hostList(scope: EgressScope): string {
  const more = scope.moreHosts > 0 ? `, and ${scope.moreHosts} more` : '';
  return `[${scope.hosts.map((h) => JSON.stringify(h)).join(', ')}${more}]`;
}
