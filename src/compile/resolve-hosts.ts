// Istio's ResolveVirtualServiceShortnames: destination hosts of a VirtualService's routes and
// mirrors made fully qualified in the VirtualService's own namespace, on a copy, so that routes
// merged from a delegate keep the namespace they were written in.

import type { Destination, HTTPRoute, RouteDestination, VirtualServiceSpec } from '../config/index.ts';
import { resolveShortname } from './hosts.ts';

export function resolveSpecHosts(spec: VirtualServiceSpec, namespace: string): VirtualServiceSpec {
  const dest = (d: Destination): Destination => ({ ...d, host: resolveShortname(d.host, namespace) });
  const weighted = <T extends RouteDestination>(r: T): T => ({ ...r, destination: dest(r.destination) });
  const http = (r: HTTPRoute): HTTPRoute => ({
    ...r,
    ...(r.route === undefined ? {} : { route: r.route.map(weighted) }),
    ...(r.mirror === undefined ? {} : { mirror: dest(r.mirror) }),
    ...(r.mirrors === undefined
      ? {}
      : { mirrors: r.mirrors.map((m) => ({ ...m, destination: dest(m.destination) })) }),
  });
  return {
    ...spec,
    ...(spec.http === undefined ? {} : { http: spec.http.map(http) }),
    ...(spec.tcp === undefined ? {} : { tcp: spec.tcp.map((t) => ({ ...t, route: t.route.map(weighted) })) }),
    ...(spec.tls === undefined ? {} : { tls: spec.tls.map((t) => ({ ...t, route: t.route.map(weighted) })) }),
  };
}
