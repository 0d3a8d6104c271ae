// A VirtualService's HTTP routes as the wire's Routes for one virtual host (one service port), as
// Istio's BuildHTTPRoutesForVirtualService and TranslateRoute build them; and the default route of
// a service without a VirtualService. Routes after one that matches everything are never reached
// and are left out, as Istio does.

import type { HTTPRoute } from '../config/index.ts';
import type { DirectResponseAction, RedirectAction, Rewrite, Route, RouteAction } from '../wire/index.ts';
import { msOf } from './durations.ts';
import { translateHeaders } from './header-operations.ts';
import { defaultRetryPolicy, retryPolicyOf } from './retry-policy.ts';
import { type DestinationContext, destinationCluster, weightedDestinations } from './route-destinations.ts';
import { isCatchAll, type MatchContext, routeMatchesFor } from './route-match.ts';
import { corsOf, faultOf, mirrorsOf } from './route-policies.ts';
import type { SourcedHttpRoute } from './virtual-services.ts';

export type RouteContext = MatchContext & DestinationContext;

export function translateHttpRoutes(routes: readonly SourcedHttpRoute[], ctx: RouteContext): Route[] {
  const out: Route[] = [];
  for (const sourced of routes) {
    const matches = routeMatchesFor(sourced.route.match, ctx);
    if (matches === undefined) continue;
    out.push(translateRoute(sourced, matches, ctx));
    if (matches.length === 0 || matches.some(isCatchAll)) break;
  }
  return out;
}

function translateRoute(sourced: SourcedHttpRoute, matches: Route['matches'], ctx: RouteContext): Route {
  const r = sourced.route;
  const headers = translateHeaders(r.headers);
  const out: Route = {
    name: sourced.name,
    origin: sourced.origin,
    matches,
    action: actionOf(r, headers.authority, ctx),
  };
  if (headers.operations !== undefined) out.headers = headers.operations;
  if (out.action.kind === 'forward') {
    const timeoutMs = msOf(r.timeout);
    if (timeoutMs !== undefined && timeoutMs > 0) out.timeoutMs = timeoutMs;
    const retry = retryPolicyOf(r.retries);
    if (retry !== undefined) out.retry = retry;
    const mirrors = mirrorsOf(r, (d) => destinationCluster(d, ctx));
    if (mirrors.length > 0) out.mirrors = mirrors;
  }
  const fault = faultOf(r.fault);
  if (fault !== undefined) out.fault = fault;
  const cors = corsOf(r.corsPolicy);
  if (cors !== undefined) out.cors = cors;
  return out;
}

/** Redirect, direct response or forward, in Istio's order of precedence. */
function actionOf(r: HTTPRoute, headerAuthority: string | undefined, ctx: RouteContext): RouteAction {
  if (r.redirect !== undefined) return redirectOf(r.redirect);
  if (r.directResponse !== undefined) return directOf(r.directResponse);
  const { destinations, authority: destinationAuthority } = weightedDestinations(r.route ?? [], ctx);
  const rewrite: Rewrite = {};
  if (r.rewrite?.uri) rewrite.uri = r.rewrite.uri;
  if (r.rewrite?.uriRegexRewrite !== undefined) {
    rewrite.uriRegex = {
      match: r.rewrite.uriRegexRewrite.match ?? '',
      rewrite: r.rewrite.uriRegexRewrite.rewrite ?? '',
    };
  }
  const authority = r.rewrite?.authority || headerAuthority || destinationAuthority;
  if (authority) rewrite.authority = authority;
  return { kind: 'forward', destinations, ...(Object.keys(rewrite).length === 0 ? {} : { rewrite }) };
}

function redirectOf(redirect: NonNullable<HTTPRoute['redirect']>): RedirectAction {
  const out: RedirectAction = { kind: 'redirect', status: redirect.redirectCode || 301 };
  if (redirect.uri) out.uri = redirect.uri;
  if (redirect.prefixRewrite) out.prefixRewrite = redirect.prefixRewrite;
  if (redirect.authority) out.authority = redirect.authority;
  if (redirect.port) out.port = redirect.port;
  if (redirect.derivePort !== undefined) out.derivePort = redirect.derivePort;
  if (redirect.scheme) out.scheme = redirect.scheme;
  return out;
}

function directOf(direct: NonNullable<HTTPRoute['directResponse']>): DirectResponseAction {
  const out: DirectResponseAction = { kind: 'direct', status: direct.status };
  const body = direct.body;
  if (body?.string !== undefined) out.bodyBase64 = Buffer.from(body.string, 'utf8').toString('base64');
  else if (body?.bytes !== undefined) out.bodyBase64 = body.bytes;
  return out;
}

/** The route of a service port without a VirtualService: everything to its cluster, Istio's default retries. */
export function defaultRoute(cluster: string, host: string): Route {
  return {
    name: 'default',
    origin: { kind: 'default', virtualServices: [], paths: [] },
    matches: [],
    action: { kind: 'forward', destinations: [{ cluster, weight: 100, host }] },
    retry: defaultRetryPolicy(),
  };
}
