// How this proxy would route one request, for /explain and `alder explain --config`: the virtual
// host found by authority (as outbound-route.ts finds it), the route chosen by the compiled matchers
// (routing's explainCompiled, so it never disagrees with select()), then each destination's cluster,
// its DestinationRule policy and its endpoints, each with what this proxy observed of it (failing,
// ejected, the last failure and why). One function for both, so they print alike.

import { AlderError, ErrorCode } from '../../config/core.ts';
import type { Snapshot } from '../../wire/index.ts';
import { Reply } from '../local-reply/index.ts';
import { explainCompiled, type MatchBlockExplanation, type RouteRequest } from '../routing/index.ts';
import { buildRuntime, type HostRuntime, hostFor, type Runtime } from '../runtime/index.ts';
import { stopSweep } from '../upstream/index.ts';
import { clusterView, type EndpointView, endpointViews } from './cluster-view.ts';
import { matchWords } from './match-words.ts';
import { type RouteView, routeView } from './route-view.ts';

/** A request to explain, as `alder explain` gives it. */
export interface ExplainInput {
  method: string;
  /** `reviews:9080` */
  authority: string;
  /** Origin form, query included: `/api?x=1`. */
  path: string;
  scheme: string;
  /** `[name, value]`; names in any case. */
  headers: [string, string][];
  /** The route table; default: the forward proxy's (HTTP_PROXY), `outbound`. */
  routeTable?: string | undefined;
}

export interface RouteVerdict {
  index: number;
  name: string;
  /** `http[1]`, `default` for the default route. */
  path: string;
  origin: string;
  verdict: 'matched' | 'no match' | 'not reached';
  /** Each match block, with the first failing condition of those that fail. */
  blocks: MatchBlockExplanation[];
}

export interface DestinationExplanation {
  host: string;
  /** The service port, from the cluster name (`outbound|9080|v1|…`). */
  port: number;
  subset?: string | undefined;
  weight: number;
  totalWeight: number;
  cluster: string;
  /** False when the snapshot has no such cluster: the proxy answers 503 (NC). */
  isClusterKnown: boolean;
  /** The cluster's policy in words (see policyWords); '' when the cluster is unknown. */
  policy: string;
  policyOrigin?: { destinationRule: string; levels: string[] } | undefined;
  endpoints: EndpointView[];
  /** Endpoints this proxy observed nothing wrong with (`observed.state` HEALTHY). */
  healthy: number;
}

export interface RequestExplanation {
  request: {
    method: string;
    url: string;
    authority: string;
    path: string;
    /** The path routes match, when MeshConfig pathNormalization changed it. */
    normalizedPath?: string | undefined;
    headers: [string, string][];
  };
  /** `namespace/workload` of the proxy that routes it. */
  from: string;
  routeTable: string;
  outcome: {
    kind: 'forward' | 'redirect' | 'direct' | 'bad-path' | 'no-host' | 'tcp-host' | 'no-route';
    /** The status the proxy answers itself; absent when the request is forwarded. */
    status?: number | undefined;
    /** Envoy's response flag of a local reply (NR). */
    flag?: string | undefined;
    reason?: string | undefined;
  };
  virtualHost?: { name: string; domains: string[] } | undefined;
  /** The chosen route, with the match block that matched (-1: the route has none). */
  route?: (RouteView & { matchIndex: number; matchWords: string }) | undefined;
  /** Every route of the virtual host, in order. */
  routes: RouteVerdict[];
  destinations: DestinationExplanation[];
}

const FORWARD_PROXY_TABLE = 'outbound';

/** Explains `input` against the runtime a proxy is running. Throws ALDER_REQUEST_INVALID for an unknown route table. */
export function explainRequest(runtime: Runtime, input: ExplainInput): RequestExplanation {
  const snapshot = runtime.snapshot;
  const tableName = input.routeTable ?? defaultRouteTable(snapshot);
  const table = runtime.hosts.get(tableName);
  if (table === undefined) {
    throw new AlderError(ErrorCode.RequestInvalid, `no route table ${JSON.stringify(tableName)}`, {
      hint: `this proxy has: ${[...runtime.hosts.keys()].join(', ')}`,
    });
  }
  const headers: [string, string][] = input.headers.map(([n, v]) => [n.toLowerCase(), v]);
  const base: RequestExplanation = {
    request: {
      method: input.method,
      url: `${input.scheme}://${input.authority}${input.path}`,
      authority: input.authority,
      path: input.path,
      normalizedPath: undefined,
      headers,
    },
    from: `${snapshot.proxy.namespace}/${snapshot.proxy.workload}`,
    routeTable: tableName,
    outcome: { kind: 'forward' },
    // Named here, even when undefined, so that every explanation lists its fields in this order.
    virtualHost: undefined,
    route: undefined,
    destinations: [],
    routes: [],
  };
  // The router normalizes the path before anything else reads it, or refuses the request.
  const path = runtime.normalizePath(input.path);
  if (typeof path !== 'string') {
    const reason = `the path ${path.words} (MeshConfig pathNormalization ${snapshot.mesh.pathNormalization})`;
    return {
      ...base,
      outcome: { kind: 'bad-path', status: Reply.BadRequest.status, flag: Reply.BadRequest.flag, reason },
    };
  }
  if (path !== input.path) base.request.normalizedPath = path;
  // The lookup routeOutbound makes: the authority as sent, then with the default port.
  const authority = input.authority.toLowerCase();
  const host = hostFor(table, authority);
  if (host === undefined) {
    const policy = snapshot.mesh.outboundTrafficPolicy;
    const reason = `${authority} is not in the mesh registry (outboundTrafficPolicy ${policy})`;
    return {
      ...base,
      outcome: {
        kind: 'no-host',
        status: Reply.NoVirtualHost.status,
        flag: Reply.NoVirtualHost.flag,
        reason,
      },
    };
  }
  const virtualHost = { name: host.vh.name, domains: host.vh.domains };
  if (host.vh.traffic !== 'http') {
    const reason = `${host.displayName} is a TCP service: reach it with CONNECT, or through its own local port`;
    return {
      ...base,
      virtualHost,
      outcome: {
        kind: 'tcp-host',
        status: Reply.TcpServiceOverHttp.status,
        flag: Reply.TcpServiceOverHttp.flag,
        reason,
      },
    };
  }
  const req: RouteRequest = {
    method: input.method,
    path,
    authority: input.authority,
    scheme: input.scheme,
    port: host.port,
    headers: headers.flat(),
  };
  return explainRoutes(runtime, host, req, { ...base, virtualHost });
}

/** Explains `input` against a snapshot compiled here (`alder explain --config`): the same runtime a proxy builds, with no live state. */
export function explainSnapshot(snapshot: Snapshot, input: ExplainInput): RequestExplanation {
  const runtime = buildRuntime(snapshot);
  try {
    return explainRequest(runtime, input);
  } finally {
    for (const c of runtime.clusters.values()) stopSweep(c);
  }
}

function explainRoutes(
  runtime: Runtime,
  host: HostRuntime,
  req: RouteRequest,
  base: RequestExplanation,
): RequestExplanation {
  const e = explainCompiled(host.http, req);
  const chosen = e.chosen;
  const routes = e.routes.map((r): RouteVerdict => {
    const view = host.http.routes[r.index];
    const verdict =
      chosen !== undefined && r.index > chosen.index ? 'not reached' : r.matched ? 'matched' : 'no match';
    return {
      index: r.index,
      name: r.name,
      path: pathOf(view?.route),
      origin: r.origin,
      verdict,
      blocks: r.blocks,
    };
  });
  const compiled = chosen === undefined ? undefined : host.http.routes[chosen.index];
  if (chosen === undefined || compiled === undefined) {
    const reason = 'no route matched';
    return {
      ...base,
      routes,
      outcome: { kind: 'no-route', status: Reply.NoRoute.status, flag: Reply.NoRoute.flag, reason },
    };
  }
  const wire = compiled.route;
  const block = wire.matches[chosen.matchIndex];
  const route = {
    ...routeView(wire, chosen.index),
    matchIndex: chosen.matchIndex,
    matchWords: block === undefined ? 'every request' : matchWords(block),
  };
  const action = wire.action;
  if (action.kind === 'redirect')
    return { ...base, routes, route, outcome: { kind: 'redirect', status: action.status } };
  if (action.kind === 'direct')
    return { ...base, routes, route, outcome: { kind: 'direct', status: action.status } };
  const totalWeight = action.destinations.reduce((sum, d) => sum + d.weight, 0);
  const destinations = action.destinations.map((d): DestinationExplanation => {
    const rt = runtime.clusters.get(d.cluster);
    const endpoints = rt === undefined ? [] : endpointViews(rt);
    const view = rt === undefined ? undefined : clusterView(rt);
    return {
      host: d.host,
      port: Number(d.cluster.split('|')[1]) || 0,
      subset: d.subset,
      weight: d.weight,
      totalWeight,
      cluster: d.cluster,
      isClusterKnown: rt !== undefined,
      policy: view?.policy ?? '',
      policyOrigin: view?.policyOrigin,
      endpoints,
      healthy: endpoints.filter((p) => p.observed.state === 'HEALTHY').length,
    };
  });
  return { ...base, routes, route, destinations, outcome: { kind: 'forward' } };
}

function defaultRouteTable(snapshot: Snapshot): string {
  for (const l of snapshot.listeners) if (l.kind === 'outbound-proxy') return l.routeTable;
  return FORWARD_PROXY_TABLE;
}

function pathOf(route: { origin: { kind: string; paths: string[] } } | undefined): string {
  if (route === undefined || route.origin.kind === 'default') return 'default';
  return route.origin.paths.join(' → ');
}
