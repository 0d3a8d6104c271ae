// The HTTP/2 connection manager for listeners whose port protocol is HTTP2 or GRPC: serves the
// connection (h2c from the app, or a TLS socket the mTLS gate already finished) as an HTTP/2 server
// session and forwards each stream — outbound by :authority, inbound to the app over pooled h2c.

import {
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { InboundListener, OutboundPortListener, WireProtocol } from '../../wire/index.ts';
import type { LocalReply } from '../http/local-reply.ts';
import { type RoutedRequest, routeOutbound } from '../http/outbound-route.ts';
import { requestSlot, routeTries } from '../http/route-tries.ts';
import type { ProxyContext } from '../listeners/context.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import { applyHeaderEdits, type RouteRequest } from '../routing/index.ts';
import type { Runtime } from '../runtime.ts';
import { forwardH2Stream } from './forward-h2-stream.ts';
import { inboundRequestHeaders, outboundRequestHeaders } from './h2-headers.ts';
import { isGrpcRequest, writeH2LocalReply } from './h2-local-reply.ts';

const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

/** ALPN an inbound HTTP/2 port offers: h2, and http/1.1 for peers on the HTTP/1 path (HTTP_PROXY). */
export const INBOUND_H2_ALPN = ['h2', 'http/1.1'];

export function isH2Protocol(protocol: WireProtocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}

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

/** An inbound connection the mTLS gate passed: an HTTP/2 session unless the peer chose http/1.1. */
export function isInboundH2(socket: Socket | TLSSocket): boolean {
  return (socket as TLSSocket).alpnProtocol !== 'http/1.1';
}

type OnStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => void;

let server: Http2Server | undefined;

/**
 * Starts an HTTP/2 server session on a connected socket. The shared server only builds sessions (it
 * never listens): its connection listener takes a plain socket (h2c) or a TLSSocket whose ALPN is h2.
 */
export function serveSession(socket: Socket | TLSSocket, onStream: OnStream): void {
  server ??= createServer();
  // A server-side TLSSocket built by hand (the mTLS gate) keeps `secureConnecting` set after its
  // handshake (node's tls.Server clears it); http2 would then wait for a 'secureConnect' that never comes.
  if ((socket as { secureConnecting?: boolean }).secureConnecting === true) {
    (socket as { secureConnecting?: boolean }).secureConnecting = false;
  }
  let session: ServerHttp2Session | undefined;
  const take = (s: ServerHttp2Session) => {
    session = s;
  };
  server.once('session', take); // emitted synchronously by the connection listener
  server.emit('connection', socket);
  server.off('session', take);
  if (session === undefined) {
    socket.destroy();
    return;
  }
  session.on('error', () => session?.destroy());
  session.on('stream', onStream);
}

function replier(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  listener: string,
  ctx: ProxyContext,
) {
  const isGrpc = isGrpcRequest(headers);
  return (reply: LocalReply) => {
    if (reply.flag === '') {
      writeH2LocalReply(stream, reply, isGrpc);
      return;
    }
    ctx.stats.add('alder_proxy_local_replies_total', { listener, flag: reply.flag });
    ctx.log.warn('local reply', {
      listener,
      status: reply.status,
      flag: reply.flag,
      reason: reply.message,
      grpc: isGrpc,
    });
    writeH2LocalReply(stream, reply, isGrpc);
  };
}

export function serveOutboundH2(socket: Socket, spec: OutboundPortListener, ctx: ProxyContext): void {
  const routeTable = spec.routeTable ?? '';
  const downstream = {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  };
  serveSession(socket, (stream, headers, flags) => {
    const runtime = ctx.current();
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
    forwardRouted(stream, headers, flags, routed, runtime, reply);
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
): void {
  const slot = requestSlot(routed);
  if (typeof slot !== 'function') {
    reply(slot);
    return;
  }
  let out = outboundRequestHeaders(headers);
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

/** Request headers as routing reads them: `[name, value, …]`, pseudo-headers left out. */
function flatHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':')) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}

/** Runs a flat-list header edit over an HTTP/2 header object (pseudo-headers kept as they are). */
function editHeaders(
  headers: OutgoingHttpHeaders,
  edit: (flat: string[]) => readonly string[],
): OutgoingHttpHeaders {
  const flat: string[] = [];
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (name.startsWith(':')) out[name] = value;
    else if (Array.isArray(value)) for (const v of value) flat.push(name, v);
    else if (value !== undefined) flat.push(name, String(value));
  }
  const edited = edit(flat);
  if (edited === flat && flat.length === 0) return headers;
  for (let k = 0; k < edited.length; k += 2) {
    const name = edited[k] as string;
    const value = edited[k + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}

export function serveInboundH2(
  socket: Socket | TLSSocket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const app = {
    address: spec.app.address,
    port: spec.app.port,
    spiffeId: '',
    labels: {},
    workload: 'app',
    locality: '',
    weight: 1,
  };
  serveSession(socket, (stream, headers, flags) => {
    const runtime = ctx.current();
    forwardH2Stream({
      downstream: stream,
      isRequestEnded: (flags & END_STREAM) !== 0,
      reply: replier(stream, headers, spec.name, ctx),
      plan: {
        headers: inboundRequestHeaders(headers, runtime.snapshot.proxy.spiffeId, peer),
        open: () =>
          runtime.h2.session(app, undefined, runtime.snapshot.mesh.connectTimeoutMs).catch((err: unknown) => {
            throw err instanceof ProxyError
              ? new ProxyError(
                  err.flag,
                  err.status,
                  `app ${app.address}:${app.port} unreachable: ${err.message}`,
                )
              : err;
          }),
        report: () => undefined,
        retryDelay: () => -1,
        replayLimit: 0,
        delayMs: 0,
        timeoutMs: 0,
        perTryTimeoutMs: 0,
        finish: () => undefined,
      },
    });
  });
}
