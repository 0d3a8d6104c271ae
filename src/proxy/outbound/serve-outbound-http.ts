// Outbound HTTP/1: requests from the local app on an egress port or through the forward proxy
// (HTTP_PROXY), routed by authority; CONNECT through the forward proxy opens a tunnel.

import type { Socket } from 'node:net';
import type { OutboundPortListener, OutboundProxyListener } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import type { RequestHead } from '../http1/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { ProxyError, replyOfError } from '../local-reply/index.ts';
import { outboundDecision, outboundHop, type RouteDecision, tcpDestination } from '../router/index.ts';
import { noRoute } from '../routing/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { connectPeer, pickEndpoint } from '../upstream/index.ts';
import { downstreamOf } from './downstream-of.ts';

export function serveOutboundHttp(
  socket: Socket,
  spec: OutboundPortListener | OutboundProxyListener,
  ctx: ProxyContext,
): void {
  const routeTable = spec.routeTable ?? '';
  const downstream = downstreamOf(socket);
  const hop = outboundHop(socket.remoteAddress, ctx.current().snapshot.proxy.address);
  const route = (head: RequestHead, req: IncomingRequest): RouteDecision => {
    if (head.isConnect && spec.kind === 'outbound-proxy')
      return connectDecision(head.authority, routeTable, ctx);
    return outboundDecision(req, routeTable, ctx.current(), downstream, hop);
  };
  new Http1ServerConnection(
    socket,
    http1Hooks(spec.name, ctx, route, () => ctx.current().http1Limits),
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
    return { kind: 'reply', reply: replyOfError(err) };
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
