// Istio's HTTPRoute (a VirtualService's `http[]`) and its weighted destinations, checked as
// validateHTTPRoute, validateHTTPRouteConflict and validateHTTPRouteDestinations do. The pieces
// (match, retries, fault, CORS, redirect, rewrite, direct response) live in files of their own.

import {
  arr,
  type Checker,
  formatPath,
  type Infer,
  int,
  notImplemented,
  type ObjectOf,
  obj,
  str,
} from '../schema.ts';
import { percent } from './common.ts';
import { corsPolicy } from './cors-policy.ts';
import { destination } from './destination.ts';
import { headers, isAuthorityHeader } from './headers.ts';
import { httpDirectResponse } from './http-direct-response.ts';
import { httpFaultInjection } from './http-fault.ts';
import { httpMatchRequest } from './http-match.ts';
import { httpRedirect } from './http-redirect.ts';
import { httpRetry } from './http-retry.ts';
import { httpRewrite } from './http-rewrite.ts';
import { istioDuration } from './istio-duration.ts';

/**
 * A destination's share of traffic, as a percentage. A total other than 100 is normalised, as Istio
 * does. One place where Alder is stricter than Istio (which takes any non-negative int32): a single
 * weight above 100 is refused, since every weight users write is a percentage and 120 is a typo.
 */
export const weight = int({ min: 0, max: 100 });

export const httpRouteDestination = obj(
  { destination, weight, headers },
  { name: 'a route destination', required: ['destination'] },
);

export type HTTPRouteDestination = Infer<typeof httpRouteDestination>;

/** Istio's rule for weighted destinations: when there are several, not all weights may be 0. */
export function checkTotalWeight(routes: readonly { weight?: number }[], c: Checker): void {
  if (routes.length > 1 && routes.every((r) => (r.weight ?? 0) === 0)) {
    c.error('weights must not all be 0: give at least one destination a positive weight');
  }
}

const mirrorPolicy = obj(
  { destination, percentage: percent },
  { name: 'a mirror policy', required: ['destination'] },
);

/** The deprecated integer mirror percentage, under either of its JSON names. */
const mirrorPercent = notImplemented(
  int({ min: 0, max: 100 }),
  'deprecated mirrorPercent: use mirrorPercentage, which Alder reads',
);

const fields = {
  name: str(),
  match: arr(httpMatchRequest),
  route: arr(httpRouteDestination, { refine: checkTotalWeight }),
  redirect: httpRedirect,
  directResponse: httpDirectResponse,
  delegate: obj({ name: str(), namespace: str() }, { name: 'a delegate (name, namespace)' }),
  rewrite: httpRewrite,
  timeout: istioDuration(),
  retries: httpRetry,
  fault: httpFaultInjection,
  mirror: destination,
  mirrors: arr(mirrorPolicy),
  mirrorPercent,
  mirror_percent: mirrorPercent,
  mirrorPercentage: percent,
  corsPolicy,
  headers,
};

type Route = ObjectOf<typeof fields, never>;

export interface HttpRouteOptions {
  /** The route belongs to a delegate VirtualService (one without hosts), which may not delegate again. */
  inDelegate: boolean;
}

export function httpRoute(options: HttpRouteOptions) {
  return obj(fields, {
    name: 'an HTTP route',
    oneOf: [
      ['mirror', 'mirrors'],
      ['mirrorPercent', 'mirror_percent'],
    ],
    refine: (v, c) => {
      checkConflicts(v, options, c);
      checkPrefixRewrite(v, c);
      checkAuthorityRewrite(v, c);
    },
  });
}

/** Istio's validateHTTPRouteConflict: which of route, redirect, directResponse and delegate go together. */
function checkConflicts(v: Route, options: HttpRouteOptions, c: Checker): void {
  const hasRoute = (v.route?.length ?? 0) > 0;
  if (v.delegate !== undefined && !options.inDelegate) {
    if (v.redirect !== undefined) c.error('a route with delegate must not set redirect', 'redirect');
    if (hasRoute)
      c.error('a route with delegate must not set route: the delegate VirtualService routes', 'route');
    return;
  }
  if (v.delegate !== undefined) {
    c.error('a delegate VirtualService (one without hosts) cannot delegate again', 'delegate');
  }
  if (v.redirect !== undefined) {
    for (const other of ['route', 'fault', 'rewrite', 'directResponse'] as const) {
      if (other === 'route' ? hasRoute : v[other] !== undefined) {
        c.error(`cannot be set together with redirect: a redirect answers the request itself`, other);
      }
    }
  } else if (v.directResponse !== undefined) {
    for (const other of ['route', 'fault', 'rewrite'] as const) {
      if (other === 'route' ? hasRoute : v[other] !== undefined) {
        c.error(
          `cannot be set together with directResponse: a direct response answers the request itself`,
          other,
        );
      }
    }
  } else if (!hasRoute) {
    c.error('must set one of route, redirect, directResponse' + (options.inDelegate ? '' : ', delegate'));
  }
}

/** A redirect's prefixRewrite replaces the matched prefix, so every URI match must be a prefix match. */
function checkPrefixRewrite(v: Route, c: Checker): void {
  if (!v.redirect?.prefixRewrite) return;
  v.match?.forEach((m, i) => {
    if (m.uri !== undefined && m.uri.prefix === undefined) {
      c.error(
        'must be a prefix match, since redirect.prefixRewrite replaces the matched prefix',
        'match',
        i,
        'uri',
      );
    }
  });
}

/** Istio's validateAuthorityRewrite: the authority may be rewritten in one place only. */
function checkAuthorityRewrite(v: Route, c: Checker): void {
  const places: (string | number)[][] = [];
  if (v.rewrite?.authority) places.push(['rewrite', 'authority']);
  for (const op of ['set', 'add'] as const) {
    for (const name of Object.keys(v.headers?.request?.[op] ?? {})) {
      if (isAuthorityHeader(name)) places.push(['headers', 'request', op, name]);
    }
  }
  if (places.length < 2) return;
  const first = places[0] as (string | number)[];
  for (const place of places.slice(1)) {
    c.error(`rewrites the authority a second time (also at ${formatPath(first)}): keep one`, ...place);
  }
}

export type HTTPRoute = Route;
