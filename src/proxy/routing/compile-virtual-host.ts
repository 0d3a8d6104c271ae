// A virtual host's HTTP routes compiled once per snapshot for this proxy: match blocks flattened in
// route order into candidates of ready conditions (source-excluded blocks left out), selections
// prebuilt, indexed by first path segment when there are enough. select() allocates only the view.

import { AlderError, ErrorCode } from '../../config/core.ts';
import type {
  ProxyIdentity,
  RedirectAction,
  Route,
  RouteOrigin,
  VirtualHost,
  WeightedDestination,
} from '../../wire/index.ts';
import { buildCandidateIndex, lookupSegment, segmentKey } from './candidate-index.ts';
import { type CompiledCors, compileCors } from './cors.ts';
import { compileDirectResponse, type DirectResponse } from './direct-response.ts';
import { type CompiledFault, compileFault } from './fault.ts';
import { compileHeaderEdits, type HeaderEditPlans } from './header-edits.ts';
import { type CompiledRetry, compileRetry } from './retry.ts';
import { compilePathRewrite, type PathRewriter } from './rewrite.ts';
import { type CompiledMatch, type Condition, compileRouteMatch, matchesAll } from './route-match.ts';
import { RequestView, type RouteRequest } from './route-request.ts';
import { compileWeights, type WeightedPicker } from './weighted-picker.ts';

export interface CompiledDestination {
  readonly destination: WeightedDestination;
  /** Route-level and destination-level header edits, in Envoy's order for this destination. */
  readonly headers: HeaderEditPlans;
}

export type CompiledAction =
  | { kind: 'forward'; picker: WeightedPicker<CompiledDestination> }
  | { kind: 'redirect'; redirect: RedirectAction }
  | { kind: 'direct'; response: DirectResponse };

export interface CompiledRoute {
  /** The route's position in the virtual host. */
  readonly index: number;
  readonly route: Route;
  /** `VirtualService default/reviews http[1]`, or `default route`. */
  readonly origin: string;
  /** Every match block, including those this proxy's identity excludes (see sourceFailure). */
  readonly matches: readonly CompiledMatch[];
  readonly action: CompiledAction;
  readonly cors: CompiledCors | undefined;
  readonly fault: CompiledFault | undefined;
  readonly retry: CompiledRetry | undefined;
}

/** What select() returns: prebuilt per (route, match block), never allocated per request. */
export interface RouteSelection {
  readonly route: CompiledRoute;
  /** The match block that matched; -1 when the route has none (it matches every request). */
  readonly matchIndex: number;
  /** The request target after the route's uri rewrite, for this block (identity without one). */
  readonly rewritePath: PathRewriter;
  /** The authority to send upstream instead of the request's, if the route rewrites it. */
  readonly rewriteAuthority: string | undefined;
}

export interface CompiledVirtualHost {
  readonly name: string;
  readonly routes: readonly CompiledRoute[];
  /** The first route whose match blocks accept `req`, or undefined (Envoy's NR). */
  select(req: RouteRequest): RouteSelection | undefined;
  /** What select() tests, in route order: one per match block, those excluded by source conditions left out. */
  readonly candidates: readonly Candidate[];
}

export interface CompileOptions {
  /** Index candidates by path segment from this many on (default INDEX_MIN_CANDIDATES); tests force either way. */
  indexMinCandidates?: number;
}

/**
 * Below this many candidates a plain scan beats the segment index. Measured (select.bench.ts,
 * uniform lookups): 4 routes scan 84 ns vs index 110 ns; 8 routes 130 vs 113; 64 routes 1038 vs 173.
 */
export const INDEX_MIN_CANDIDATES = 8;
const SLASH = 47;

export interface Candidate {
  readonly conditions: readonly Condition[];
  readonly selection: RouteSelection;
}

/**
 * Compiles `vh`'s HTTP routes for the proxy `self`. Throws one AlderError (ALDER_SNAPSHOT_INVALID)
 * listing every route field that cannot be compiled (a regex JavaScript cannot run, a bad rewrite).
 */
export function compileVirtualHost(
  vh: VirtualHost,
  self: ProxyIdentity,
  options: CompileOptions = {},
): CompiledVirtualHost {
  const problems: string[] = [];
  const routes = vh.routes.map((route, index) => {
    const where = `routes[${index}] ${JSON.stringify(route.name)} (${formatOrigin(route.origin)})`;
    const problem = (field: string, err: unknown) =>
      problems.push(`${where} ${field}: ${(err as Error).message}`);
    return compileRoute(route, index, self, problem);
  });
  if (problems.length > 0) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `virtual host ${vh.name}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.join('\n  ')}`}`,
      {
        details: { virtualHost: vh.name, problems },
        hint: 'fix the VirtualService; the proxy keeps its last good snapshot',
      },
    );
  }
  const candidates: Candidate[] = [];
  const keys: (string | undefined)[] = [];
  for (const r of routes) {
    const blocks =
      r.route.matches.length === 0 ? [undefined] : r.matches.filter((m) => m.sourceFailure === undefined);
    for (const m of blocks) {
      candidates.push({ conditions: m?.conditions ?? [], selection: selectionOf(r, m) });
      keys.push(segmentKey(m?.uri, m?.ignoreUriCase === true));
    }
  }
  // Candidates after one with no conditions can never be chosen.
  const catchAll = candidates.findIndex((c) => c.conditions.length === 0);
  const live = catchAll === -1 ? candidates : candidates.slice(0, catchAll + 1);
  const minIndexed = options.indexMinCandidates ?? INDEX_MIN_CANDIDATES;
  const index = live.length >= minIndexed ? buildCandidateIndex(keys.slice(0, live.length)) : undefined;
  return {
    name: vh.name,
    routes,
    candidates: live,
    select(req) {
      const view = new RequestView(req);
      const path = view.pathOnly;
      if (index === undefined || path.charCodeAt(0) !== SLASH) return scan(live, view);
      return scanMerged(live, lookupSegment(index, path), index.always, view);
    },
  };
}

/** Tests every candidate in order; the hot loop of small virtual hosts. */
function scan(live: readonly Candidate[], view: RequestView): RouteSelection | undefined {
  for (let k = 0; k < live.length; k++) {
    const c = live[k] as Candidate;
    if (matchesAll(c.conditions, view)) return c.selection;
  }
  return undefined;
}

/** Tests the union of two ascending position lists in ascending order (route order is first-match). */
function scanMerged(
  live: readonly Candidate[],
  a: Int32Array,
  b: Int32Array,
  view: RequestView,
): RouteSelection | undefined {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number)) ? a[i++] : b[j++];
    const c = live[next as number] as Candidate;
    if (matchesAll(c.conditions, view)) return c.selection;
  }
  return undefined;
}

export function formatOrigin(origin: RouteOrigin): string {
  if (origin.kind === 'default') return 'default route';
  return origin.virtualServices
    .map((vs, k) => `VirtualService ${vs} ${origin.paths[k] ?? ''}`.trim())
    .join(' → ');
}

function selectionOf(route: CompiledRoute, m: CompiledMatch | undefined): RouteSelection {
  const action = route.route.action;
  const rewrite =
    action.kind === 'forward'
      ? action.rewrite
      : action.kind === 'redirect' && action.prefixRewrite !== undefined
        ? { uri: action.prefixRewrite }
        : undefined;
  return {
    route,
    matchIndex: m?.index ?? -1,
    rewritePath: compilePathRewrite(rewrite, m),
    rewriteAuthority: rewrite?.authority,
  };
}

function compileRoute(
  route: Route,
  index: number,
  self: ProxyIdentity,
  problem: (field: string, err: unknown) => void,
): CompiledRoute {
  const matches = route.matches.map((m, k) =>
    compileRouteMatch(m, k, self, (field, err) => problem(`matches[${k}].${field}`, err)),
  );
  const attempt = <T>(field: string, build: () => T): T | undefined => {
    try {
      return build();
    } catch (err) {
      problem(field, err);
      return undefined;
    }
  };
  const action = route.action;
  if (action.kind === 'forward') {
    const rewrite = action.rewrite;
    // Compiled per match block in selectionOf; compiled here once to report a bad rewrite.
    if (rewrite !== undefined) attempt('rewrite', () => compilePathRewrite(rewrite, undefined));
  }
  return {
    index,
    route,
    origin: formatOrigin(route.origin),
    matches,
    action: compileAction(route),
    cors:
      route.cors === undefined
        ? undefined
        : attempt('cors', () => compileCors(route.cors as NonNullable<Route['cors']>)),
    fault:
      route.fault === undefined
        ? undefined
        : attempt('fault', () => compileFault(route.fault as NonNullable<Route['fault']>)),
    retry: route.retry === undefined ? undefined : compileRetry(route.retry),
  };
}

function compileAction(route: Route): CompiledAction {
  const action = route.action;
  switch (action.kind) {
    case 'forward': {
      const isWeighted = action.destinations.length > 1;
      const destinations = action.destinations.map((destination) => ({
        destination,
        headers: compileHeaderEdits(route.headers, destination.headers, isWeighted),
        weight: destination.weight,
      }));
      return { kind: 'forward', picker: compileWeights(destinations) };
    }
    case 'redirect':
      return { kind: 'redirect', redirect: action };
    case 'direct':
      return { kind: 'direct', response: compileDirectResponse(action) };
    default:
      return action satisfies never;
  }
}
