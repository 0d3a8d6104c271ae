// Outbound HTTP/2 (h2c from the app on an HTTP2 or GRPC egress port): each stream routed by its
// :authority through the port's route table and forwarded under its route's policies.

import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { OutboundPortListener } from '../../wire/index.ts';
import {
  editHeaders,
  flatHeaders,
  forwardH2Stream,
  isH2Protocol,
  outboundRequestHeaders,
  refuseH2Request,
  replier,
  serveSession,
} from '../http2-server/index.ts';
import { type LocalReply, ResponseFlag } from '../local-reply/index.ts';
import {
  type DownstreamHop,
  outboundHop,
  type RoutedRequest,
  requestSlot,
  routeOutbound,
  routeTries,
} from '../router/index.ts';
import { applyHeaderEdits, type RouteRequest } from '../routing/index.ts';
import type { ProxyContext, Runtime } from '../runtime/index.ts';

const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

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

export function serveOutboundH2(socket: Socket, spec: OutboundPortListener, ctx: ProxyContext): void {
  const routeTable = spec.routeTable ?? '';
  const downstream = {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
  const hop = outboundHop(socket.remoteAddress, ctx.current().snapshot.proxy.address);
  serveSession(socket, (stream, headers, flags) => {
    const runtime = ctx.current();
    if (refuseH2Request(stream, headers, runtime.http1Limits, spec.name, ctx)) return;
    const reply = replier(stream, headers, spec.name, ctx);
    const authority = headers[':authority'] ?? headers.host;
    if (authority === undefined || authority === '') {
      reply({
        status: 400,
        flag: ResponseFlag.DownstreamProtocolError,
        message: 'request refused: no :authority',
      });
      return;
    }
    const req: RouteRequest = {
      method: headers[':method'] ?? 'GET',
      path: headers[':path'] ?? '/',
      authority,
      scheme: headers[':scheme'] ?? 'http',
      port: 0,
      headers: flatHeaders(headers),
    };
    const routed = routeOutbound(req, routeTable, runtime, downstream);
    if (routed.kind === 'reply') {
      if ((routed.delayMs ?? 0) > 0) setTimeout(() => reply(routed.reply), routed.delayMs);
      else reply(routed.reply);
      return;
    }
    forwardRouted(stream, headers, flags, routed, runtime, reply, hop);
  });
}

/** Forwards an outbound stream under its route: each try to an endpoint of the cluster, within its limits. */
function forwardRouted(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  routed: RoutedRequest,
  runtime: Runtime,
  reply: (r: LocalReply) => void,
  hop: DownstreamHop,
): void {
  const slot = requestSlot(routed);
  if (typeof slot !== 'function') {
    reply(slot);
    return;
  }
  let out = outboundRequestHeaders(headers, hop, runtime.snapshot.mesh.http);
  out[':path'] = routed.target;
  out[':authority'] = routed.authority;
  if (routed.requestEdits.stages.length > 0)
    out = editHeaders(out, (h) => applyHeaderEdits(routed.requestEdits, h));
  const cr = routed.cluster;
  const tls = cr.cluster.tlsMode === 'ISTIO_MUTUAL' ? runtime.tls : undefined;
  const tries = routeTries(routed, slot, (endpoint) =>
    runtime.h2.session(endpoint, tls, cr.cluster.connectTimeoutMs),
  );
  forwardH2Stream({
    downstream: stream,
    isRequestEnded: (flags & END_STREAM) !== 0,
    reply,
    plan: {
      headers: out,
      open: tries.open,
      report: tries.report,
      retryDelay: tries.retryDelay,
      replayLimit: tries.replayLimit,
      editResponse: (h) => editHeaders(h, routed.editResponse),
      delayMs: routed.delayMs,
      timeoutMs: routed.timeoutMs,
      perTryTimeoutMs: routed.perTryTimeoutMs,
      finish: tries.finish,
    },
  });
}
