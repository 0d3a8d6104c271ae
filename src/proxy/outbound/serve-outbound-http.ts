// Outbound HTTP/1: requests from the local app on an egress port or through the forward proxy
// (HTTP_PROXY), routed by authority; CONNECT through the forward proxy opens a tunnel.

import type { Socket } from 'node:net';
import type { OutboundPortListener, OutboundProxyListener } from '../../wire/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { ProxyError, ResponseFlag } from '../local-reply/index.ts';
import { outboundDecision, outboundHop, type RouteDecision, tcpDestination } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { connectPeer, pickEndpoint } from '../upstream/index.ts';

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
  // The app's own proxy is the first the request meets: the edge (router/request-headers.ts).
  const hop = outboundHop(socket.remoteAddress, ctx.current().snapshot.proxy.address);
  new Http1ServerConnection(
    socket,
    http1Hooks(
      spec.name,
      ctx,
      (head): RouteDecision => {
        const runtime = ctx.current();
        if (head.isConnect && spec.kind === 'outbound-proxy')
          return connectDecision(head.authority, routeTable, ctx);
        return outboundDecision(head, routeTable, runtime, downstream, hop);
      },
      () => ctx.current().http1Limits,
    ),
  );
}

/** CONNECT host:port through the forward proxy: to a TCP (or any) service's endpoint, over mTLS. */
function connectDecision(authority: string, routeTable: string, ctx: ProxyContext): RouteDecision {
  const runtime = ctx.current();
  const host = runtime.hosts.get(routeTable)?.get(authority.toLowerCase());
  if (host === undefined) {
    return {
      kind: 'reply',
      reply: {
        status: 502,
        flag: ResponseFlag.NoRouteFound,
        message: `no route to ${authority}: it is not in the mesh registry; declare it with a ServiceEntry`,
      },
    };
  }
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
