// The ordered HTTP filters a routed request passes before it is forwarded, as Envoy's filter chain
// runs once the route is chosen: each sees the request and its route, and may answer it (a reply, after
// any delay an earlier filter set), hold it (a delay) or add to its response (headers). The list is
// compiled once per snapshot (buildRuntime) with only the filters some route of the snapshot uses, so
// a request pays for none it does not need; the router runs it per request. Request authentication,
// authorization, metrics, tracing and access logs take their places in this list as they come.

import { type LocalReply, ResponseFlag } from '../local-reply/index.ts';
import type { CompiledRoute } from './compile-virtual-host.ts';
import type { RouteRequest } from './route-request.ts';

/** What a filter may add to a request it lets through; starts empty for each request. */
export interface FilterEffects {
  /** Wait this long before the first try (a delay fault); a reply waits it too. */
  delayMs: number;
  /** Set on the response (replacing fields of the same name), e.g. CORS headers. */
  responseHeaders: readonly string[];
}

export interface RequestFilter {
  /** Envoy's name for the filter it stands for, shown by /config_dump. */
  readonly name: string;
  /** True when a route of the snapshot needs this filter; filters no route needs are left out. */
  isUsedBy(route: CompiledRoute): boolean;
  /** A reply ends the request here; undefined lets it go on (with what the filter added to `effects`). */
  onRequest(req: RouteRequest, route: CompiledRoute, effects: FilterEffects): LocalReply | undefined;
}

/** CORS (Envoy's envoy.filters.http.cors): answers preflights, adds the CORS headers to responses. */
const corsFilter: RequestFilter = {
  name: 'envoy.filters.http.cors',
  isUsedBy: (route) => route.cors !== undefined,
  onRequest(req, route, effects) {
    const cors = route.cors;
    if (cors === undefined) return undefined;
    if (!cors.isPreflight(req)) {
      effects.responseHeaders = cors.responseHeaders(req);
      return undefined;
    }
    const preflight = cors.preflight(req);
    if (preflight.kind !== 'reply') return undefined;
    return { status: preflight.status, flag: '', message: 'CORS preflight', headers: [...preflight.headers] };
  },
};

/** Fault injection (envoy.filters.http.fault): a delay, an abort, or both (the delay served first). */
const faultFilter: RequestFilter = {
  name: 'envoy.filters.http.fault',
  isUsedBy: (route) => route.fault !== undefined,
  onRequest(_req, route, effects) {
    const fault = route.fault?.decide(Math.random);
    if (fault === undefined) return undefined;
    effects.delayMs += fault.delayMs;
    const abort = fault.abort;
    if (abort === undefined) return undefined;
    return {
      status: abort.kind === 'http' ? abort.status : 200,
      flag: ResponseFlag.FaultInjected,
      message: `fault injected: abort by ${route.origin}`,
      ...(abort.kind === 'grpc' ? { grpcStatus: abort.grpcStatus } : {}),
    };
  },
};

/** Every filter Alder has, in the order a request meets them (Istio's sidecar order: CORS, then fault). */
const ALL_FILTERS: readonly RequestFilter[] = [corsFilter, faultFilter];

/** The filters `routes` need, in chain order: compiled once per snapshot. */
export function compileRequestFilters(routes: Iterable<CompiledRoute>): readonly RequestFilter[] {
  const used = new Set<RequestFilter>();
  for (const route of routes) {
    for (const filter of ALL_FILTERS) if (filter.isUsedBy(route)) used.add(filter);
    if (used.size === ALL_FILTERS.length) break;
  }
  return ALL_FILTERS.filter((f) => used.has(f));
}

/**
 * Runs `filters` in order over a routed request: the first reply ends the chain (with the delay the
 * filters before it set); otherwise `effects` holds what they added.
 */
export function runRequestFilters(
  filters: readonly RequestFilter[],
  req: RouteRequest,
  route: CompiledRoute,
  effects: FilterEffects,
): LocalReply | undefined {
  for (let i = 0; i < filters.length; i++) {
    const reply = (filters[i] as RequestFilter).onRequest(req, route, effects);
    if (reply !== undefined) return reply;
  }
  return undefined;
}
