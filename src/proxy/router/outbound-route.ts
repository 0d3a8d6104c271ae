// Routes one outbound HTTP request, the same for HTTP/1 and HTTP/2: authority → virtual host →
// the first route that matches → its action. A redirect, a direct response, a CORS preflight, an
// injected abort or a missing route become a local reply; a forward becomes a RoutedRequest (the
// destination's cluster, the rewritten target, header edits, deadlines, retry policy, mirrors) that
// the protocol's connection manager runs try by try.

import { hashKeyOf } from '../balance/index.ts';
import { withoutMeshHeaders } from '../http1/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import { localReply, Reply } from '../local-reply/index.ts';
import {
  applyHeaderEdits,
  type CompiledDestination,
  type CompiledRetry,
  type CompiledRoute,
  compileHeaderEdits,
  type FilterEffects,
  type HeaderEditPlan,
  headerValue,
  noRoute,
  type RouteRequest,
  type RouteSelection,
  redirectReply,
  runRequestFilters,
} from '../routing/index.ts';
import { type HostRuntime, hostFor, type Runtime } from '../runtime/index.ts';
import type { ClusterRuntime } from '../upstream/index.ts';

/** The downstream connection, for hashing on the source IP and generated cookies. */
export interface DownstreamAddress {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

export interface Mirror {
  cluster: ClusterRuntime;
  /** The mirrored request's authority: the original's host with `-shadow` appended. */
  authority: string;
}

export interface RoutedRequest {
  kind: 'forward';
  host: HostRuntime;
  selection: RouteSelection;
  destination: CompiledDestination;
  cluster: ClusterRuntime;
  /** `reviews.default.svc.cluster.local:9080`, for messages. */
  hostName: string;
  /** The request target after rewrite (origin form). */
  target: string;
  /** The authority to send (rewritten or the request's). */
  authority: string;
  requestEdits: HeaderEditPlan;
  /** Response header edits, CORS headers and a generated hash cookie, applied to the response head. */
  editResponse: (headers: string[]) => string[];
  /** The key RING_HASH and MAGLEV balance on. */
  hashKey: string | undefined;
  delayMs: number;
  timeoutMs: number;
  perTryTimeoutMs: number;
  retry: CompiledRetry | undefined;
  mirrors: Mirror[];
}

/** A reply, after `delayMs` when a delay fault comes with an abort (Envoy serves the delay first). */
export type OutboundRouting = { kind: 'reply'; reply: LocalReply; delayMs?: number } | RoutedRequest;

const random = Math.random;

export function routeOutbound(
  req: RouteRequest,
  routeTable: string,
  runtime: Runtime,
  downstream: DownstreamAddress | undefined,
): OutboundRouting {
  const authority = req.authority.toLowerCase();
  const table = runtime.hosts.get(routeTable);
  const host = hostFor(table, authority);
  if (host === undefined) return reply(noRoute(authority, runtime.snapshot, routeTable));
  const hostName = host.displayName;
  if (host.vh.traffic !== 'http') {
    return reply(
      localReply(
        Reply.TcpServiceOverHttp,
        `${hostName} is a TCP service: reach it with CONNECT, or through its own local port`,
      ),
    );
  }
  req.port = host.port;
  const selection = host.http.select(req);
  if (selection === undefined) {
    return reply(
      localReply(
        Reply.NoRoute,
        `no route for ${req.method} ${req.path} on ${hostName}: no VirtualService route matched (alder explain shows why)`,
      ),
    );
  }
  const route = selection.route;
  const effects: FilterEffects = { delayMs: 0, responseHeaders: NONE };
  if (runtime.requestFilters.length > 0) {
    const stop = runRequestFilters(runtime.requestFilters, req, route, effects);
    if (stop !== undefined) return { kind: 'reply', reply: stop, delayMs: effects.delayMs };
  }
  const corsHeaders = effects.responseHeaders;
  const action = route.action;
  if (action.kind === 'redirect') {
    const r = redirectReply(
      action.redirect,
      action.redirect.prefixRewrite === undefined ? req : { ...req, path: selection.rewritePath(req.path) },
    );
    return reply({
      status: r.status,
      flag: '',
      message: 'redirect',
      headers: withRouteEdits(route, ['location', r.location]),
    });
  }
  if (action.kind === 'direct') {
    const d = action.response;
    return reply({
      status: d.status,
      flag: '',
      message: 'direct response',
      headers: withRouteEdits(route, [...d.headers]),
      body: d.body,
    });
  }
  const destination = action.picker.pick(random);
  const cluster =
    destination === undefined ? undefined : runtime.clusters.get(destination.destination.cluster);
  if (destination === undefined || cluster === undefined) {
    return reply(
      localReply(
        Reply.NoCluster,
        `no cluster for ${hostName}: ${destination === undefined ? 'every destination of the route has weight 0' : `cluster ${destination.destination.cluster} is not in the snapshot`}`,
      ),
    );
  }
  let hashKey: string | undefined;
  let setCookie: string | undefined;
  const lb = cluster.cluster.lb;
  if ('hashOn' in lb) {
    const key = hashKeyOf(lb.hashOn, {
      header: (name) => headerValue(req, name),
      sourceIp: downstream?.remoteAddress ?? '',
      query: queryOf(req.path),
      ...(downstream === undefined
        ? {}
        : {
            connection: {
              remote: `${downstream.remoteAddress}:${downstream.remotePort}`,
              local: `${downstream.localAddress}:${downstream.localPort}`,
            },
          }),
    });
    hashKey = key.hashKey;
    setCookie = key.setCookie;
  }
  const responseEdits = destination.headers.response;
  // A peer proxy (mTLS) already dropped its app's x-alder-*: what it sends is its own. Anything else
  // answering is an app, whose x-alder-* would pass its errors off as the mesh's.
  const ownHeaders = cluster.cluster.tlsMode === 'ISTIO_MUTUAL' ? identity : withoutMeshHeaders;
  const editResponse =
    responseEdits.stages.length === 0 && corsHeaders.length === 0 && setCookie === undefined
      ? ownHeaders
      : (headers: string[]) => {
          let out = applyHeaderEdits(responseEdits, ownHeaders(headers)) as string[];
          if (corsHeaders.length > 0) out = setAll(out, corsHeaders);
          if (setCookie !== undefined) out = [...out, 'set-cookie', setCookie];
          return out;
        };
  const retry = route.retry;
  return {
    kind: 'forward',
    host,
    selection,
    destination,
    cluster,
    hostName,
    target: selection.rewritePath(req.path),
    authority: selection.rewriteAuthority ?? req.authority,
    requestEdits: destination.headers.request,
    editResponse,
    hashKey,
    delayMs: effects.delayMs,
    timeoutMs: route.route.timeoutMs ?? 0,
    perTryTimeoutMs: retry?.policy.perTryTimeoutMs ?? 0,
    retry: retry !== undefined && retry.policy.attempts > 0 ? retry : undefined,
    mirrors: mirrorsOf(route.route.mirrors, req.authority, runtime),
  };
}

const NONE: readonly string[] = [];

/** A route's own response header edits, compiled on first use (redirects and direct responses). */
const routeEdits = new WeakMap<CompiledRoute, HeaderEditPlan>();

/** Envoy applies a route's response header operations to the replies it makes for the route too. */
function withRouteEdits(route: CompiledRoute, headers: string[]): string[] {
  if (route.route.headers?.response === undefined) return headers;
  let plan = routeEdits.get(route);
  if (plan === undefined) {
    plan = compileHeaderEdits(route.route.headers, undefined, false).response;
    routeEdits.set(route, plan);
  }
  return applyHeaderEdits(plan, headers) as string[];
}
const identity = (h: string[]) => h;

function reply(r: LocalReply): OutboundRouting {
  return { kind: 'reply', reply: r };
}

function mirrorsOf(
  policies: RoutedRequest['selection']['route']['route']['mirrors'],
  authority: string,
  runtime: Runtime,
): Mirror[] {
  if (policies === undefined || policies.length === 0) return [];
  const out: Mirror[] = [];
  for (const m of policies) {
    if (m.percent < 100 && random() * 100 >= m.percent) continue;
    const cluster = runtime.clusters.get(m.cluster);
    if (cluster !== undefined) out.push({ cluster, authority: shadowAuthority(authority) });
  }
  return out;
}

/** Envoy's shadow host: `-shadow` appended to the host, before the port. */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(':');
  const isPort = colon !== -1 && !authority.endsWith(']') && /^\d+$/.test(authority.slice(colon + 1));
  return isPort ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

/** Replaces (or adds) each `[name, value]` of `edits` in `headers`. */
function setAll(headers: string[], edits: readonly string[]): string[] {
  const names = new Set<string>();
  for (let k = 0; k < edits.length; k += 2) names.add(edits[k] as string);
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (!names.has(headers[k] as string)) out.push(headers[k] as string, headers[k + 1] as string);
  }
  out.push(...edits);
  return out;
}

function queryOf(path: string): string {
  const q = path.indexOf('?');
  if (q === -1) return '';
  const hash = path.indexOf('#', q);
  return path.slice(q + 1, hash === -1 ? undefined : hash);
}
