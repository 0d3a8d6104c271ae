// Outbound HTTP/1: requests from the local app on an egress port or through the forward proxy
// (HTTP_PROXY), routed by authority. CONNECT through the forward proxy opens a tunnel: to a TCP
// service, bytes relayed to an endpoint; to an HTTP service, what the tunnel carries (h2c or HTTP/1.1)
// is served here, routed and policed as any request from the app.

import { timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { OutboundPortListener, OutboundProxyListener } from '../../wire/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { sniffH2Preface } from '../l4/index.ts';
import { type LocalReply, localReply, ProxyError, Reply, replyOfError } from '../local-reply/index.ts';
import { type RouteDecision, type TunnelServer, tcpDestination } from '../router/index.ts';
import { noRoute } from '../routing/index.ts';
import { connectionLimits, type ProxyContext } from '../runtime/index.ts';
import { connectPeer, pickEndpoint, upstreamTlsOf } from '../upstream/index.ts';
import { type OutboundListener, outboundRouter } from './outbound-router.ts';
import { refuseH2c } from './refuse-h2c.ts';
import { serveOutboundH2 } from './serve-outbound-h2.ts';

export function serveOutboundHttp(
  socket: Socket,
  spec: OutboundPortListener | OutboundProxyListener,
  ctx: ProxyContext,
): void {
  if (spec.kind === 'outbound-proxy' || spec.traffic !== 'http') {
    serveHttp1(socket, spec, ctx);
    return;
  }
  // An HTTP/1.1 egress port: h2c (a gRPC client, most often) gets a reply that says what is wrong.
  sniffH2Preface(socket, connectionLimits().requestHeadersTimeoutMs, (verdict) => {
    if (verdict === 'h2') refuseH2c(socket, spec, ctx);
    else if (verdict === 'other') serveHttp1(socket, spec, ctx);
    else socket.destroySoon(); // nothing came: closed as an idle HTTP/1 connection is
  });
}

/** The HTTP/1 connection manager on `socket`; `tunnelTarget` when it serves a CONNECT tunnel. */
function serveHttp1(socket: Socket, spec: OutboundListener, ctx: ProxyContext, tunnelTarget?: string): void {
  const route = outboundRouter(socket, spec, ctx, tunnelTarget);
  const isForwardProxy = spec.kind === 'outbound-proxy' && tunnelTarget === undefined;
  const credential = isForwardProxy ? ctx.outboundCredential : undefined;
  new Http1ServerConnection(
    socket,
    http1Hooks(
      spec.name,
      ctx,
      (head, req) =>
        credential !== undefined && !carries(head.headers, credential)
          ? { kind: 'reply', reply: PROXY_AUTH_REQUIRED }
          : head.isConnect && isForwardProxy
            ? connectDecision(head.authority, spec, ctx)
            : route(req),
      () => ctx.current().http1Limits,
    ),
  );
}

const PROXY_AUTH_REQUIRED: LocalReply = {
  ...localReply(
    Reply.ProxyAuthenticationRequired,
    "proxy authentication required: send the credentials in this workload's HTTP_PROXY (http://USER:PASSWORD@HOST:PORT), which alder run gives its app",
  ),
  headers: ['proxy-authenticate', 'Basic realm="alder"'],
};

/** True when the request's Proxy-Authorization is `expected` (compared in constant time). */
function carries(headers: readonly string[], expected: string): boolean {
  const want = Buffer.from(expected);
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'proxy-authorization') continue;
    const got = Buffer.from(headers[i + 1] ?? '');
    if (got.length === want.length && timingSafeEqual(got, want)) return true;
  }
  return false;
}

/**
 * CONNECT host:port through the forward proxy. To an HTTP service (http, http2, grpc): the proxy
 * serves what the tunnel carries, so the mesh's routing and policies apply. To a TCP (or undetected)
 * service: a byte tunnel to an endpoint, over mTLS.
 */
function connectDecision(authority: string, spec: OutboundListener, ctx: ProxyContext): RouteDecision {
  const runtime = ctx.current();
  const routeTable = spec.routeTable ?? '';
  const host = runtime.hosts.get(routeTable)?.get(authority.toLowerCase());
  if (host === undefined) return { kind: 'reply', reply: noRoute(authority, runtime.snapshot, routeTable) };
  if (host.vh.traffic === 'http') {
    const serve: TunnelServer = (socket, head) => serveTunnelledHttp(socket, head, spec, ctx, authority);
    return { kind: 'tunnel', open: () => Promise.resolve(serve) };
  }
  const cr = tcpDestination(host, { port: host.port, sni: undefined, destinationAddress: '' }, runtime);
  const endpoint = cr instanceof ProxyError ? cr : pickEndpoint(cr, host.vh.name);
  if (endpoint instanceof ProxyError || cr instanceof ProxyError) {
    const err = endpoint instanceof ProxyError ? endpoint : (cr as ProxyError);
    return { kind: 'reply', reply: replyOfError(err) };
  }
  return {
    kind: 'tunnel',
    open: () =>
      connectPeer(runtime.tunnels, endpoint, upstreamTlsOf(cr, runtime.tls), cr.cluster.connectTimeoutMs),
  };
}

/**
 * The bytes of a CONNECT tunnel to an HTTP service, after the 200: h2c (known by the HTTP/2 preface)
 * through the outbound HTTP/2 path, anything else through the HTTP/1 one; `target` (the CONNECT's
 * `host:port`) routes requests whose authority names no host the proxy knows.
 */
function serveTunnelledHttp(
  socket: Socket,
  head: Buffer | undefined,
  spec: OutboundListener,
  ctx: ProxyContext,
  target: string,
): void {
  if (head !== undefined) socket.unshift(head);
  sniffH2Preface(socket, connectionLimits().requestHeadersTimeoutMs, (verdict) => {
    if (verdict === 'h2') serveOutboundH2(socket, spec, ctx, target);
    else if (verdict === 'other') serveHttp1(socket, spec, ctx, target);
    else socket.destroySoon();
  });
}
