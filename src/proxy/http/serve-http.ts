// Starts the HTTP/1 connection manager on a connection of an HTTP listener, with the router for its
// direction, and counts what the proxy refuses or answers itself.

import type { Socket } from 'node:net';
import type { InboundListener, OutboundPortListener, OutboundProxyListener } from '../../wire/index.ts';
import { DEFAULT_HTTP1_LIMITS, type Http1Limits, http1Limits } from '../http1/index.ts';
import type { ProxyContext } from '../listeners/context.ts';
import { ProxyError } from '../proxy-error.ts';
import { noRoute } from '../routing/index.ts';
import { connectPeer } from '../upstream/hbone.ts';
import { pickEndpoint } from '../upstream/pick-endpoint.ts';
import { tcpDestination } from '../upstream/tcp-destination.ts';
import { inboundDecision, outboundDecision } from './routers.ts';
import { type ConnectionHooks, Http1ServerConnection, type RouteDecision } from './server-connection.ts';

/**
 * Requests from peer proxies carry the headers the first proxy added (x-request-id, x-forwarded-*),
 * so a request the client's proxy took at the header limit must still pass the server's.
 */
const FROM_MESH_LIMITS = http1Limits({ maxHeaders: DEFAULT_HTTP1_LIMITS.maxHeaders + 20 });

function hooks(
  listener: string,
  ctx: ProxyContext,
  route: ConnectionHooks['route'],
  limits?: Http1Limits,
): ConnectionHooks {
  return {
    ...(limits === undefined ? {} : { limits }),
    route,
    onRejected: (r) => {
      ctx.stats.add('alder_proxy_http_rejected_total', { listener, reason: r.reason });
      ctx.log.warn('request refused', {
        listener,
        status: r.status,
        reason: r.reason,
        afterHead: r.isAfterHead,
      });
    },
    onLocalReply: (reply) => {
      if (reply.flag === '') return; // a reply the config asked for (redirect, direct response)
      ctx.stats.add('alder_proxy_local_replies_total', { listener, flag: reply.flag });
      ctx.log.warn('local reply', {
        listener,
        status: reply.status,
        flag: reply.flag,
        reason: reply.message,
      });
    },
  };
}

export function serveInboundHttp(
  socket: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  new Http1ServerConnection(
    socket,
    hooks(
      spec.name,
      ctx,
      (head) => {
        const runtime = ctx.current();
        return inboundDecision(head, spec, runtime, peer, runtime.pools);
      },
      peer === undefined ? undefined : FROM_MESH_LIMITS,
    ),
  );
}

export function serveOutboundHttp(
  socket: Socket,
  spec: OutboundPortListener | OutboundProxyListener,
  ctx: ProxyContext,
): void {
  const routeTable = spec.routeTable ?? '';
  const downstream = {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
  new Http1ServerConnection(
    socket,
    hooks(spec.name, ctx, (head): RouteDecision => {
      const runtime = ctx.current();
      if (head.isConnect && spec.kind === 'outbound-proxy')
        return connectDecision(head.authority, routeTable, ctx);
      return outboundDecision(head, routeTable, runtime, downstream);
    }),
  );
}

/** CONNECT host:port through the forward proxy: to a TCP (or any) service's endpoint, over mTLS. */
function connectDecision(authority: string, routeTable: string, ctx: ProxyContext): RouteDecision {
  const runtime = ctx.current();
  const host = runtime.hosts.get(routeTable)?.get(authority.toLowerCase());
  if (host === undefined) return { kind: 'reply', reply: noRoute(authority, runtime.snapshot, routeTable) };
  const cr = tcpDestination(host, { port: host.port, sni: undefined, destinationAddress: '' }, runtime);
  const endpoint = cr instanceof ProxyError ? cr : pickEndpoint(cr, host.vh.name);
  if (endpoint instanceof ProxyError || cr instanceof ProxyError) {
    const err = endpoint instanceof ProxyError ? endpoint : (cr as ProxyError);
    return { kind: 'reply', reply: { status: err.status, flag: err.flag, message: err.message } };
  }
  return {
    kind: 'tunnel',
    open: () =>
      connectPeer(
        runtime.tunnels,
        endpoint,
        cr.cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined,
        cr.cluster.connectTimeoutMs,
      ),
  };
}
