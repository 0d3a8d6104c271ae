// Builders the routing tests share: a proxy identity, requests, routes and virtual hosts with
// defaults, so each table row shows only what it is about. Its name does not end in .test.ts, so
// the test runner does not run it alone.

import {
  type Cluster,
  type ProxyIdentity,
  type Route,
  type RouteMatch,
  type RouteTable,
  type Snapshot,
  type VirtualHost,
  type WeightedDestination,
  WIRE_VERSION,
} from '../../wire/index.ts';
import type { RouteRequest } from './route-request.ts';

export const SELF: ProxyIdentity = {
  namespace: 'default',
  workload: 'productpage-v1',
  serviceAccount: 'bookinfo-productpage',
  spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage',
  address: '10.0.0.9',
  labels: { app: 'productpage', version: 'v1' },
  locality: '',
};

/** A snapshot for SELF with these route tables and clusters, no listeners, mesh defaults. */
export function snapshotOf(routeTables: RouteTable[], clusters: Cluster[] = []): Snapshot {
  return {
    wireVersion: WIRE_VERSION,
    version: 'test',
    proxy: SELF,
    mesh: {
      trustDomain: 'cluster.local',
      outboundTrafficPolicy: 'REGISTRY_ONLY',
      protocolDetection: { enabled: false, timeoutMs: 100 },
      connectTimeoutMs: 1000,
      accessLog: { enabled: false, encoding: 'JSON' },
      http: {
        headersWithUnderscoresAction: 'REJECT_REQUEST',
        extensionMethods: [],
        maxMethodBytes: 32,
        numTrustedProxies: 0,
      },
      pathNormalization: 'BASE',
    },
    listeners: [],
    clusters,
    routeTables,
    tls: undefined,
  };
}

export function req(over: Partial<RouteRequest> = {}): RouteRequest {
  return {
    method: 'GET',
    path: '/',
    authority: 'reviews:9080',
    scheme: 'http',
    port: 9080,
    headers: [],
    ...over,
  };
}

export function dest(
  cluster: string,
  weight = 100,
  over: Partial<WeightedDestination> = {},
): WeightedDestination {
  return { cluster, weight, host: cluster, ...over };
}

let n = 0;

/** A forward route to `cluster` (default: a fresh name) with these match blocks. */
export function route(matches: RouteMatch[], over: Partial<Route> = {}): Route {
  const name = over.name ?? `http[${n++}]`;
  return {
    name,
    origin: { kind: 'VirtualService', virtualServices: ['default/reviews'], paths: [name] },
    matches,
    action: { kind: 'forward', destinations: [dest(`outbound|9080|${name}|reviews`)] },
    ...over,
  };
}

export function vhost(routes: Route[]): VirtualHost {
  return {
    name: 'reviews.default.svc.cluster.local:9080',
    domains: ['reviews:9080'],
    traffic: 'http',
    routes,
    tcpRoutes: [],
  };
}

/** A random source that returns these values in turn, then repeats the last. */
export function randoms(...values: number[]): () => number {
  let k = 0;
  return () => values[Math.min(k++, values.length - 1)] as number;
}
