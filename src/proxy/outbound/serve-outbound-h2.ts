// Outbound HTTP/2 (h2c from the app on an HTTP2 or GRPC egress port, or inside a CONNECT tunnel of
// the forward proxy): each stream routed by its :authority through the listener's route table and
// forwarded under its route's policies.

import type { Socket } from 'node:net';
import type { OutboundPortListener } from '../../wire/index.ts';
import { isH2Protocol } from '../http/index.ts';
import { serveSession, serveStream } from '../http2-server/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { type OutboundListener, outboundRouter } from './outbound-router.ts';

/**
 * Whether an HTTP egress listener serves HTTP/2 (h2c with prior knowledge): when every virtual host
 * in its route table routes to an HTTP2 or GRPC cluster. A handful of hosts per port: read per connection.
 */
export function egressServesH2(spec: OutboundPortListener, ctx: ProxyContext): boolean {
  const runtime = ctx.current();
  const hosts = runtime.hosts.get(spec.routeTable ?? '');
  if (hosts === undefined || hosts.size === 0) return false;
  for (const host of hosts.values()) {
    const action = host.vh.routes[0]?.action;
    const name = action?.kind === 'forward' ? action.destinations[0]?.cluster : undefined;
    const cluster = runtime.clusters.get(name ?? '')?.cluster;
    if (cluster === undefined || !isH2Protocol(cluster.protocol)) return false;
  }
  return true;
}

/**
 * Serves h2c from the local app: on an HTTP2/GRPC egress port, or inside a CONNECT tunnel of the
 * forward proxy (`tunnelTarget`, the CONNECT's `host:port`, routes streams whose :authority names no
 * host the proxy knows).
 */
export function serveOutboundH2(
  socket: Socket,
  spec: OutboundListener,
  ctx: ProxyContext,
  tunnelTarget?: string,
): void {
  const decide = outboundRouter(socket, spec, ctx, tunnelTarget);
  serveSession(socket, (stream, headers, flags) =>
    serveStream(stream, headers, flags, {
      listener: spec.name,
      ctx,
      limits: ctx.current().http1Limits,
      decide,
    }),
  );
}
