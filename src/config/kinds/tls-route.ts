// Istio's TLSRoute (a VirtualService's `tls[]`): routes TLS connections by SNI without terminating
// them, checked as validateTLSRoute and validateTLSMatch do. Whether each SNI host falls under the
// VirtualService's hosts is checked by virtual-service.ts, which knows them.

import { isIpAddress } from '../names.ts';
import { arr, type Infer, obj, str } from '../schema.ts';
import { gatewayNames, matchPort } from './http-match.ts';
import { gatewayDomainProblem } from './istio-hosts.ts';
import { sourceLabels } from './istio-labels.ts';
import { ipSubnet, routeDestinations } from './tcp-route.ts';

/** An SNI host: a DNS name, possibly wildcarded, or Istio's generated `outbound_.<port>_._.<host>`. */
const sniHost = str({
  refine: (v, c) => {
    const problem = gatewayDomainProblem(v, true);
    if (problem === undefined) return;
    if (isIpAddress(v)) {
      c.warn(
        `is an IP address (${JSON.stringify(v)}): SNI carries host names, and most clients never send an IP`,
      );
      return;
    }
    c.error(problem);
  },
});

export const tlsMatchAttributes = obj(
  {
    sniHosts: arr(sniHost, { minItems: 1 }),
    destinationSubnets: arr(ipSubnet),
    port: matchPort,
    sourceLabels,
    gateways: gatewayNames,
    sourceNamespace: str(),
  },
  { name: 'a TLS match', required: ['sniHosts'] },
);

export const tlsRoute = obj(
  { match: arr(tlsMatchAttributes, { minItems: 1 }), route: routeDestinations },
  { name: 'a TLS route', required: ['match', 'route'] },
);

export type TLSRoute = Infer<typeof tlsRoute>;
