// Route tables as the admin port shows them (/routes) and explain reports the chosen route: per
// virtual host its domains, and per route its origin, match blocks in words, action and policies,
// each as data and in words. Pure: reads the snapshot's wire form.

import type {
  CorsPolicy,
  FaultPolicy,
  HeaderOperations,
  MirrorPolicy,
  RedirectAction,
  RetryPolicy,
  Rewrite,
  Route,
  RouteMatch,
  Snapshot,
  TcpRoute,
  TrafficKind,
  WeightedDestination,
} from '../../wire/index.ts';
import { formatOrigin } from '../routing/index.ts';
import { durationWords } from './cluster-view.ts';
import { compactMatch, matchWords, stringMatchWords } from './match-words.ts';

export interface MatchView {
  index: number;
  name?: string | undefined;
  /** `uri prefix "/api", headers end-user exact "jason"` */
  words: string;
  /** The MATCH column: `/api* end-user=jason`. */
  summary: string;
  match: RouteMatch;
}

export type ActionView =
  | {
      kind: 'forward';
      destinations: WeightedDestination[];
      totalWeight: number;
      rewrite?: Rewrite | undefined;
    }
  | { kind: 'redirect'; redirect: RedirectAction }
  | { kind: 'direct'; status: number; bodyBytes: number };

export interface RouteView {
  index: number;
  name: string;
  /** `VirtualService shop/reviews http[1]`, or `default route`. */
  origin: string;
  /** `shop/reviews` (`shop/main → shop/reviews` through delegates); absent for the default route. */
  virtualService?: string | undefined;
  /** `http[1]` (`http[0] → http[1]` through delegates), `default` for the default route. */
  path: string;
  matches: MatchView[];
  action: ActionView;
  /** What the route does, in words, one entry per line: `redirect 301: uri "/new"`, `retries …`. */
  words: { label: string; text: string }[];
  timeoutMs?: number | undefined;
  retry?: RetryPolicy | undefined;
  fault?: FaultPolicy | undefined;
  mirrors?: MirrorPolicy[] | undefined;
  cors?: CorsPolicy | undefined;
  headers?: HeaderOperations | undefined;
}

export interface VirtualHostView {
  name: string;
  domains: string[];
  traffic: TrafficKind;
  routes: RouteView[];
  tcpRoutes: TcpRoute[];
}

export interface RouteTableView {
  name: string;
  virtualHosts: VirtualHostView[];
}

export function routesView(snapshot: Snapshot): RouteTableView[] {
  return snapshot.routeTables.map((t) => ({
    name: t.name,
    virtualHosts: t.virtualHosts.map((vh) => ({
      name: vh.name,
      domains: vh.domains,
      traffic: vh.traffic,
      routes: vh.routes.map(routeView),
      tcpRoutes: vh.tcpRoutes,
    })),
  }));
}

export function routeView(route: Route, index: number): RouteView {
  const o = route.origin;
  const action = route.action;
  return {
    index,
    name: route.name,
    origin: formatOrigin(o),
    virtualService: o.kind === 'default' ? undefined : o.virtualServices.join(' → '),
    path: o.kind === 'default' ? 'default' : o.paths.join(' → '),
    matches: route.matches.map((m, k) => ({
      index: k,
      name: m.name,
      words: matchWords(m),
      summary: compactMatch(m),
      match: m,
    })),
    action:
      action.kind === 'forward'
        ? {
            kind: 'forward',
            destinations: action.destinations,
            totalWeight: action.destinations.reduce((sum, d) => sum + d.weight, 0),
            rewrite: action.rewrite,
          }
        : action.kind === 'redirect'
          ? { kind: 'redirect', redirect: action }
          : {
              kind: 'direct',
              status: action.status,
              bodyBytes: Buffer.byteLength(action.bodyBase64 ?? '', 'base64'),
            },
    words: routeWords(route),
    timeoutMs: route.timeoutMs,
    retry: route.retry,
    fault: route.fault,
    mirrors: route.mirrors,
    cors: route.cors,
    headers: route.headers,
  };
}

/** The route's action (other than forwarding, which explain lists per destination) and policies. */
function routeWords(route: Route): { label: string; text: string }[] {
  const out: { label: string; text: string }[] = [];
  const a = route.action;
  if (a.kind === 'redirect') out.push({ label: 'redirect', text: redirectWords(a) });
  if (a.kind === 'direct') {
    const bytes = Buffer.byteLength(a.bodyBase64 ?? '', 'base64');
    out.push({ label: 'direct', text: `the proxy answers ${a.status} itself (${bytes}-byte body)` });
  }
  if (a.kind === 'forward' && a.rewrite !== undefined)
    out.push({ label: 'rewrite', text: rewriteWords(a.rewrite) });
  if (route.headers !== undefined) {
    const text = headerWords(route.headers);
    if (text !== '') out.push({ label: 'headers', text });
  }
  if (a.kind === 'forward') {
    const timeout = route.timeoutMs === undefined ? 'none' : durationWords(route.timeoutMs);
    out.push({ label: 'retries', text: `${retryWords(route.retry)}; timeout ${timeout}` });
  }
  if (route.fault !== undefined) out.push({ label: 'fault', text: faultWords(route.fault) });
  for (const m of route.mirrors ?? []) out.push({ label: 'mirror', text: `${m.cluster} (${m.percent}%)` });
  if (route.cors !== undefined) out.push({ label: 'cors', text: corsWords(route.cors) });
  return out;
}

function retryWords(r: RetryPolicy | undefined): string {
  if (r === undefined || r.attempts === 0) return 'none';
  const codes = r.retriableStatusCodes.length > 0 ? ` (codes ${r.retriableStatusCodes.join(',')})` : '';
  const perTry = r.perTryTimeoutMs === undefined ? '' : `, per try ${durationWords(r.perTryTimeoutMs)}`;
  return `${r.attempts} attempt${r.attempts === 1 ? '' : 's'} on ${r.retryOn.join(',')}${codes}${perTry}`;
}

function redirectWords(r: RedirectAction): string {
  const parts: string[] = [];
  if (r.scheme !== undefined) parts.push(`scheme ${r.scheme}`);
  if (r.authority !== undefined) parts.push(`authority ${JSON.stringify(r.authority)}`);
  if (r.port !== undefined) parts.push(`port ${r.port}`);
  if (r.derivePort !== undefined) parts.push(`port ${r.derivePort}`);
  if (r.uri !== undefined) parts.push(`uri ${JSON.stringify(r.uri)}`);
  return `${r.status}${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`;
}

function rewriteWords(r: Rewrite): string {
  const parts: string[] = [];
  if (r.uri !== undefined) parts.push(`uri ${JSON.stringify(r.uri)}`);
  if (r.uriRegex !== undefined)
    parts.push(`uriRegex ${JSON.stringify(r.uriRegex.match)} → ${JSON.stringify(r.uriRegex.rewrite)}`);
  if (r.authority !== undefined) parts.push(`authority ${JSON.stringify(r.authority)}`);
  return parts.join(', ');
}

function faultWords(f: FaultPolicy): string {
  const parts: string[] = [];
  if (f.delay !== undefined) parts.push(`delay ${durationWords(f.delay.fixedMs)} for ${f.delay.percent}%`);
  const abort = f.abort;
  if (abort !== undefined) {
    const what = abort.grpcStatus === undefined ? `${abort.httpStatus}` : `grpc ${abort.grpcStatus}`;
    parts.push(`abort ${what} for ${abort.percent}%`);
  }
  return parts.join('; ');
}

function corsWords(c: CorsPolicy): string {
  const origins = c.allowOrigins.map(stringMatchWords).join(', ') || 'none';
  const methods = c.allowMethods.length === 0 ? '' : `; allowMethods ${c.allowMethods.join(',')}`;
  return `allowOrigins ${origins}${methods}`;
}

function headerWords(h: HeaderOperations): string {
  const side = (name: string, e: HeaderOperations['request']) => {
    if (e === undefined) return '';
    const parts = [
      ...(e.set ?? []).map(([k, v]) => `set ${k}=${v}`),
      ...(e.add ?? []).map(([k, v]) => `add ${k}=${v}`),
      ...(e.remove ?? []).map((k) => `remove ${k}`),
    ];
    return parts.length === 0 ? '' : `${name} ${parts.join(', ')}`;
  };
  return [side('request', h.request), side('response', h.response)].filter((s) => s !== '').join('; ');
}
