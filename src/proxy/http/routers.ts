// Where each HTTP request goes. Inbound: to the local app, with the peer's identity in
// x-forwarded-client-cert (set by the proxy, never taken from the caller). Outbound: by the
// request's authority through the route table to a cluster, round robin over its endpoints.

import { randomUUID } from 'node:crypto';
import type { Cluster, Endpoint, InboundListener, VirtualHost } from '../../wire/index.ts';
import type { RequestHead } from '../http1/index.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import type { Runtime } from '../runtime.ts';
import type { LocalReply } from './local-reply.ts';
import type { RouteDecision } from './server-connection.ts';
import type { UpstreamPools } from './upstream-pool.ts';

/** Headers the mesh sets itself: a caller's copies are dropped so that none can be forged. */
const MESH_HEADER_PREFIX = 'x-alder-';
const XFCC = 'x-forwarded-client-cert';

function meshSafeHeaders(head: RequestHead, dropXfcc: boolean): string[] {
  const out: string[] = [];
  const h = head.headers;
  for (let k = 0; k < h.length; k += 2) {
    const name = h[k] as string;
    if (name.startsWith(MESH_HEADER_PREFIX) || (dropXfcc && name === XFCC)) continue;
    if (HOP_OR_FRAMING.has(name)) continue;
    out.push(name, h[k + 1] as string);
  }
  return out;
}

const HOP_OR_FRAMING = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

export function inboundDecision(
  head: RequestHead,
  spec: InboundListener,
  runtime: Runtime,
  peer: string | undefined,
  pools: UpstreamPools,
): RouteDecision {
  const headers = meshSafeHeaders(head, true);
  if (peer !== undefined) headers.push(XFCC, `By=${runtime.snapshot.proxy.spiffeId};URI=${peer}`);
  // HTTP/1.0 may omit Host; the app gets HTTP/1.1, which must carry one.
  if (!hasHeader(head, 'host')) headers.push('host', `${spec.app.address}:${spec.app.port}`);
  const app: Endpoint = {
    address: spec.app.address,
    port: spec.app.port,
    spiffeId: '',
    labels: {},
    workload: 'app',
  };
  return {
    kind: 'forward',
    pools,
    acquire: (p) => p.acquire(app, undefined, runtime.snapshot.mesh.connectTimeoutMs),
    target: head.target,
    headers,
  };
}

/** Where an outbound request for `authority` goes: an endpoint of its route's cluster, or a local reply. */
export type OutboundTarget =
  | { kind: 'reply'; reply: LocalReply }
  | { kind: 'endpoint'; host: string; cluster: Cluster; endpoint: Endpoint };

/** The route table lookup both HTTP/1 and HTTP/2 use: authority → virtual host → cluster → endpoint. */
export function resolveOutbound(authorityText: string, routeTable: string, runtime: Runtime): OutboundTarget {
  const authority = authorityText.toLowerCase();
  const vh =
    runtime.hosts.get(routeTable)?.get(authority) ??
    runtime.hosts.get(routeTable)?.get(withDefaultPort(authority));
  if (vh === undefined) return { kind: 'reply', reply: noRoute(authority, runtime) };
  if (vh.traffic !== 'http') {
    return {
      kind: 'reply',
      reply: {
        status: 400,
        flag: ResponseFlag.NoRouteFound,
        message: `${vh.name} is a TCP service: reach it with CONNECT, or through its own local port`,
      },
    };
  }
  const route = vh.routes[0];
  const picker = route === undefined ? undefined : runtime.clusters.get(route.cluster);
  if (picker === undefined) {
    return {
      kind: 'reply',
      reply: { status: 503, flag: ResponseFlag.NoClusterFound, message: `no cluster for ${vh.name}` },
    };
  }
  const endpoint = picker.next();
  if (endpoint === undefined) {
    return {
      kind: 'reply',
      reply: {
        status: 503,
        flag: ResponseFlag.NoHealthyUpstream,
        message: `no healthy endpoint for ${hostOf(vh)} (0 of ${picker.cluster.endpoints.length} ready)`,
      },
    };
  }
  return { kind: 'endpoint', host: hostOf(vh), cluster: picker.cluster, endpoint };
}

export function outboundDecision(
  head: RequestHead,
  routeTable: string,
  runtime: Runtime,
  pools: UpstreamPools,
): RouteDecision {
  const target = resolveOutbound(head.authority, routeTable, runtime);
  if (target.kind === 'reply') return target;
  const { host, cluster, endpoint } = target;
  const headers = meshSafeHeaders(head, false);
  if (!hasHeader(head, 'x-request-id')) headers.push('x-request-id', randomUUID());
  if (!hasHeader(head, 'x-forwarded-proto')) headers.push('x-forwarded-proto', 'http');
  if (!hasHeader(head, 'host')) headers.push('host', head.authority);
  const tls = cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined;
  return {
    kind: 'forward',
    pools,
    acquire: (p) =>
      p.acquire(endpoint, tls, cluster.connectTimeoutMs).catch((err: unknown) => {
        throw err instanceof ProxyError
          ? new ProxyError(err.flag, err.status, `upstream connect error for ${host}: ${err.message}`)
          : err;
      }),
    target: head.targetForm === 'absolute' ? originOf(head.target) : head.target,
    headers,
  };
}

function noRoute(authority: string, runtime: Runtime): LocalReply {
  const policy = runtime.snapshot.mesh.outboundTrafficPolicy;
  return {
    status: 502,
    flag: ResponseFlag.NoRouteFound,
    message: `no route to ${authority}: it is not in the mesh registry and outboundTrafficPolicy is ${policy}; declare it with a ServiceEntry`,
  };
}

function hasHeader(head: RequestHead, name: string): boolean {
  for (let k = 0; k < head.headers.length; k += 2) if (head.headers[k] === name) return true;
  return false;
}

function withDefaultPort(authority: string): string {
  return authority.includes(':') ? authority : `${authority}:80`;
}

function hostOf(vh: VirtualHost): string {
  return vh.domains[2] ?? vh.name;
}

/** `http://host:port/path?q` → `/path?q`. */
function originOf(target: string): string {
  const afterScheme = target.indexOf('//');
  const slash = target.indexOf('/', afterScheme + 2);
  return slash === -1 ? '/' : target.slice(slash);
}
