// Istio's TCPRoute (a VirtualService's `tcp[]`) and the weighted destinations TCP and TLS routes
// share, checked as validateTCPRoute, validateTCPMatch and validateRouteDestinations do.

import { isCidrOrIp } from '../names.ts';
import { arr, type Infer, notImplemented, obj, str } from '../schema.ts';
import { destination } from './destination.ts';
import { gatewayNames, matchPort } from './http-match.ts';
import { checkTotalWeight, weight } from './http-route.ts';
import { sourceLabels } from './istio-labels.ts';

export const routeDestination = obj(
  { destination, weight },
  { name: 'a route destination', required: ['destination'] },
);

export type RouteDestination = Infer<typeof routeDestination>;

/** Destinations of a TCP or TLS route: at least one. */
export const routeDestinations = arr(routeDestination, { minItems: 1, refine: checkTotalWeight });

/** Istio's ValidateIPSubnet: `a.b.c.d/nn`, `2001:db8::/32` or a bare address. */
export const ipSubnet = str({
  refine: (v, c) => {
    if (!isCidrOrIp(v))
      c.error(`must be an IP address or a CIDR block such as "10.0.0.0/8", got ${JSON.stringify(v)}`);
  },
});

export const l4MatchAttributes = obj(
  {
    destinationSubnets: arr(ipSubnet),
    port: matchPort,
    sourceSubnet: notImplemented(str(), 'sourceSubnet (undocumented, and Istio ignores it too)'),
    sourceLabels,
    gateways: gatewayNames,
    sourceNamespace: str(),
  },
  { name: 'a TCP match' },
);

export const tcpRoute = obj(
  { match: arr(l4MatchAttributes), route: routeDestinations },
  { name: 'a TCP route', required: ['route'] },
);

export type TCPRoute = Infer<typeof tcpRoute>;
