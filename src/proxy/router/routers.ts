// Where each HTTP request goes, the same for every protocol. Every request's path is normalized first
// (MeshConfig pathNormalization, normalizePathOf): an outbound one here, an inbound one before its
// authentication and authorization (inbound/admit-request.ts); routes, policies and the app see only
// the normalized path. Inbound: to the local app in the
// protocol its port speaks, with the peer's identity in x-forwarded-client-cert (set by the proxy,
// never taken from the caller); an app that cannot be reached is named in the reply. Outbound: by the
// request's authority through the route table and the matching route (outbound-route.ts), under that
// route's policies (route-tries.ts).

import type { Endpoint, InboundListener } from '../../wire/index.ts';
import type { IncomingRequest, OutgoingRequest } from '../http/index.ts';
import { withoutMeshHeaders } from '../http1/index.ts';
import { localReply, Reply } from '../local-reply/index.ts';
import { applyHeaderEdits, type RouteRequest } from '../routing/index.ts';
import type { Runtime } from '../runtime/index.ts';
import { openStream, type StreamTarget } from '../upstream/index.ts';
import { appConnectError } from './connect-words.ts';
import { directPlan, type RouteDecision } from './forward-plan.ts';
import { type DownstreamAddress, routeOutbound } from './outbound-route.ts';
import { type DownstreamHop, requestHeaders } from './request-headers.ts';
import { routedPlan } from './route-tries.ts';
import { type Shadow, startShadow } from './shadow.ts';
import { upgradeRefusal } from './upgrade.ts';

const XFCC = 'x-forwarded-client-cert';

export function inboundDecision(
  req: IncomingRequest,
  spec: InboundListener,
  runtime: Runtime,
  peer: string | undefined,
  hop: DownstreamHop,
): RouteDecision {
  // The path was normalized before authentication and authorization (inbound/admit-request.ts).
  const refusal = upgradeRefusal(req);
  if (refusal !== undefined) return { kind: 'reply', reply: refusal };
  const headers = requestHeaders(req.headers, hop, runtime.snapshot.mesh.http);
  if (peer !== undefined) headers.push(XFCC, `By=${runtime.snapshot.proxy.spiffeId};URI=${peer}`);
  const authority = req.authority === '' ? `${spec.app.address}:${spec.app.port}` : req.authority;
  // HTTP/1.0 may omit Host, and HTTP/2 carries it as :authority; an HTTP/1 app needs one.
  if (!hasHeader(req.headers, 'host')) headers.push('host', authority);
  const target = appTarget(spec, runtime);
  const out = outgoing(req, req.path, authority, headers);
  return {
    kind: 'forward',
    // The app's response: its x-alder-* headers are not the mesh's.
    plan: directPlan(
      out,
      (events, cancel) =>
        openStream(runtime, target, out, events, cancel).catch((err: unknown) =>
          Promise.reject(appConnectError(err, spec, runtime.snapshot.proxy)),
        ),
      withoutMeshHeaders,
    ),
  };
}

/**
 * Replaces the request's path with its normalized form, the one value it carries from here on (routes
 * match it, policies read it, the upstream receives it); a 400 (flag DPE) when it cannot be normalized.
 */
export function normalizePathOf(req: IncomingRequest, runtime: Runtime): RouteDecision | undefined {
  const path = runtime.normalizePath(req.path);
  if (typeof path === 'string') {
    req.path = path;
    return undefined;
  }
  const shown = req.path.length > 100 ? `${req.path.slice(0, 100)}…` : req.path;
  const mode = runtime.snapshot.mesh.pathNormalization;
  const why = `request refused: the path ${JSON.stringify(shown)} ${path.words} (MeshConfig pathNormalization ${mode})`;
  return { kind: 'reply', reply: localReply(Reply.BadRequest, why) };
}

/** Each inbound listener's app as an upstream target, built once per snapshot version (its spec). */
const appTargets = new WeakMap<InboundListener, StreamTarget>();

function appTarget(spec: InboundListener, runtime: Runtime): StreamTarget {
  let target = appTargets.get(spec);
  if (target === undefined) {
    const app: Endpoint = {
      address: spec.app.address,
      port: spec.app.port,
      spiffeId: '',
      labels: {},
      workload: 'app',
      locality: '',
      weight: 1,
    };
    target = {
      endpoint: app,
      protocol: spec.protocol,
      tls: undefined,
      connectTimeoutMs: runtime.snapshot.mesh.connectTimeoutMs,
      cluster: undefined,
    };
    appTargets.set(spec, target);
  }
  return target;
}

/**
 * An outbound request: routed by its authority and route table (outbound-route.ts), then forwarded
 * under its route's policies (route-tries.ts), or answered by the proxy.
 */
export function outboundDecision(
  req: IncomingRequest,
  routeTable: string,
  runtime: Runtime,
  downstream: DownstreamAddress | undefined,
  hop: DownstreamHop,
): RouteDecision {
  const badPath = normalizePathOf(req, runtime);
  if (badPath !== undefined) return badPath;
  const routeRequest: RouteRequest = {
    method: req.method,
    path: req.path,
    authority: req.authority,
    scheme: req.scheme,
    port: 0,
    headers: req.headers,
  };
  const routed = routeOutbound(routeRequest, routeTable, runtime, downstream);
  if (routed.kind === 'reply') return routed;
  const refusal = upgradeRefusal(req);
  if (refusal !== undefined) return { kind: 'reply', reply: refusal };
  let headers = requestHeaders(req.headers, hop, runtime.snapshot.mesh.http);
  if (routed.authority !== req.authority || !hasHeader(req.headers, 'host'))
    headers = withHost(headers, routed.authority);
  if (routed.requestEdits.stages.length > 0)
    headers = applyHeaderEdits(routed.requestEdits, headers) as string[];
  const out = outgoing(req, routed.target, routed.authority, headers);
  // An upgrade is never mirrored: a copy would open a second long-lived connection to a shadow.
  const shadows =
    routed.mirrors.length === 0 || out.upgrade !== undefined
      ? NO_SHADOWS
      : routed.mirrors.map((m) => startShadow(m, out, runtime));
  const plan = routedPlan(routed, out, runtime, shadows);
  if (!('open' in plan)) {
    for (const shadow of shadows) shadow.abort();
    return { kind: 'reply', reply: plan };
  }
  return { kind: 'forward', plan };
}

function outgoing(req: IncomingRequest, path: string, authority: string, headers: string[]): OutgoingRequest {
  const out: OutgoingRequest = {
    method: req.method,
    path,
    authority,
    scheme: req.scheme,
    headers,
    framing: req.framing,
    contentLength: req.contentLength,
  };
  if (req.upgrade !== undefined) {
    out.upgrade = req.upgrade;
    if (req.version === '2') out.isExtendedConnect = true;
  }
  return out;
}

/** Replaces the Host header (an authority rewrite) or adds it (HTTP/1.0 without one, HTTP/2). */
function withHost(headers: string[], authority: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'host') out.push(headers[k] as string, headers[k + 1] as string);
  }
  out.push('host', authority);
  return out;
}

const NO_SHADOWS: readonly Shadow[] = [];

function hasHeader(headers: readonly string[], name: string): boolean {
  for (let k = 0; k < headers.length; k += 2) if (headers[k] === name) return true;
  return false;
}
