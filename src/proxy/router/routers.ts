// Where each HTTP request goes. Inbound: to the local app, with the peer's identity in
// x-forwarded-client-cert (set by the proxy, never taken from the caller). Outbound: by the
// request's authority through the route table and the matching route (outbound-route.ts), under
// that route's policies (routed-plan.ts).

import type { Endpoint, InboundListener } from '../../wire/index.ts';
import type { RequestHead } from '../http1/index.ts';
import { applyHeaderEdits, type RouteRequest } from '../routing/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { UpstreamPools } from '../upstream/index.ts';
import type { RouteDecision } from './forward-plan.ts';
import { directPlan } from './forward-plan.ts';
import { type Downstream, routeOutbound } from './outbound-route.ts';
import { type DownstreamHop, requestHeaders } from './request-headers.ts';
import { routedPlan } from './routed-plan.ts';
import { type Shadow, startShadow } from './shadow.ts';

const XFCC = 'x-forwarded-client-cert';

export function inboundDecision(
  head: RequestHead,
  spec: InboundListener,
  runtime: Runtime,
  peer: string | undefined,
  pools: UpstreamPools,
  hop: DownstreamHop,
): RouteDecision {
  const headers = requestHeaders(head.headers, hop, runtime.snapshot.mesh.http);
  if (peer !== undefined) headers.push(XFCC, `By=${runtime.snapshot.proxy.spiffeId};URI=${peer}`);
  // HTTP/1.0 may omit Host; the app gets HTTP/1.1, which must carry one.
  if (!hasHeader(head, 'host')) headers.push('host', `${spec.app.address}:${spec.app.port}`);
  const app: Endpoint = {
    address: spec.app.address,
    port: spec.app.port,
    spiffeId: '',
    labels: {},
    workload: 'app',
    locality: '',
    weight: 1,
  };
  const connectTimeoutMs = runtime.snapshot.mesh.connectTimeoutMs;
  return {
    kind: 'forward',
    plan: directPlan(pools, head.target, headers, () => pools.acquire(app, undefined, connectTimeoutMs)),
  };
}

/**
 * An outbound request: routed by its authority and route table (outbound-route.ts), then forwarded
 * under its route's policies (routed-plan.ts), or answered by the proxy.
 */
export function outboundDecision(
  head: RequestHead,
  routeTable: string,
  runtime: Runtime,
  downstream: Downstream | undefined,
  hop: DownstreamHop,
): RouteDecision {
  const path = head.targetForm === 'absolute' ? originOf(head.target) : head.target;
  const req: RouteRequest = {
    method: head.method,
    path,
    authority: head.authority,
    scheme: 'http',
    port: 0,
    headers: head.headers,
  };
  const routed = routeOutbound(req, routeTable, runtime, downstream);
  if (routed.kind === 'reply') return routed;
  let headers = requestHeaders(head.headers, hop, runtime.snapshot.mesh.http);
  if (routed.authority !== head.authority || !hasHeader(head, 'host'))
    headers = withHost(headers, routed.authority);
  if (routed.requestEdits.stages.length > 0)
    headers = applyHeaderEdits(routed.requestEdits, headers) as string[];
  const plan = routedPlan(routed, headers, runtime, NO_SHADOWS);
  if (!('acquire' in plan)) return { kind: 'reply', reply: plan };
  if (routed.mirrors.length === 0) return { kind: 'forward', plan };
  const shadows = routed.mirrors.map((m) => startShadow(m, head, routed.target, headers, runtime));
  return { kind: 'forward', plan: { ...plan, shadows } };
}

/** Replaces the Host header (an authority rewrite) or adds it (HTTP/1.0 without one). */
function withHost(headers: string[], authority: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'host') out.push(headers[k] as string, headers[k + 1] as string);
  }
  out.push('host', authority);
  return out;
}

const NO_SHADOWS: readonly Shadow[] = [];

function hasHeader(head: RequestHead, name: string): boolean {
  for (let k = 0; k < head.headers.length; k += 2) if (head.headers[k] === name) return true;
  return false;
}

/** `http://host:port/path?q` → `/path?q`. */
function originOf(target: string): string {
  const afterScheme = target.indexOf('//');
  const slash = target.indexOf('/', afterScheme + 2);
  return slash === -1 ? '/' : target.slice(slash);
}
