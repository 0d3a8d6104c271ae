// The tunnel port (HBONE, docs/transport.md): peer proxies open one mTLS HTTP/2 session to it and
// carry each connection to this workload as a CONNECT stream whose `:authority` names the port.
// mTLS is required whatever the ports' modes say (a tunnel is the mesh's own transport); the stream
// is then served exactly as a connection to that inbound port would be, with the peer's identity.

import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';

import type { Socket } from 'node:net';
import type { InboundListener, TunnelListener } from '../../wire/index.ts';
import { isH2Protocol } from '../http/index.ts';
import { serveSession } from '../http2-server/index.ts';
import { detectProtocol } from '../l4/index.ts';
import { connectionLimits, type ProxyContext, throttledLog } from '../runtime/index.ts';
import { acceptMesh } from './accept-mesh.ts';
import { serveInboundHttp } from './serve-inbound-http.ts';
import { serveInboundTcp } from './serve-inbound-tcp.ts';

const TUNNEL_ALPN = ['h2'];

export function serveTunnel(socket: Socket, spec: TunnelListener, ctx: ProxyContext): void {
  const runtime = ctx.current();
  acceptMesh(
    socket,
    {
      mode: 'STRICT',
      tls: runtime.tls,
      firstByteTimeoutMs: 0, // STRICT: silence waits the handshake timeout
      handshakeTimeoutMs: connectionLimits().handshakeTimeoutMs,
      alpn: TUNNEL_ALPN,
    },
    (conn) => {
      if (typeof conn === 'string') {
        ctx.stats.add('alder_proxy_inbound_refused_total', { listener: spec.name, reason: conn });
        if (conn !== 'closed')
          throttledLog(ctx.log).warn(`refused:${spec.name}:${conn}`, 'tunnel connection refused', {
            listener: spec.name,
            reason: conn,
          });
        return;
      }
      const peer = conn.peer;
      serveSession(conn.socket, (stream, headers) => openTunnel(stream, headers, spec, peer, ctx));
    },
  );
}

function openTunnel(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  spec: TunnelListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  stream.on('error', () => undefined);
  const refuse = (status: number, reason: string) => {
    ctx.stats.add('alder_proxy_tunnels_refused_total', { listener: spec.name, status: String(status) });
    ctx.log.warn('tunnel refused', { listener: spec.name, status, reason, peer });
    if (!stream.closed) stream.respond({ ':status': status, 'x-alder-reason': reason }, { endStream: true });
  };
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== undefined) {
    refuse(405, 'the tunnel port takes CONNECT only (no extended CONNECT)');
    return;
  }
  const authority = headers[':authority'] ?? '';
  const port = Number(authority.slice(authority.lastIndexOf(':') + 1));
  const runtime = ctx.current();
  const target = inboundListenerOn(runtime.snapshot.listeners, port);
  if (target === undefined) {
    refuse(404, `this workload serves nothing on port ${port}`);
    return;
  }
  if (target.traffic === 'http' && isH2Protocol(target.protocol)) {
    refuse(501, `port ${port} speaks HTTP/2: connect to it directly, not through a tunnel`);
    return;
  }
  stream.respond({ ':status': 200 });
  // From here the stream is the connection: the inbound paths read and write it as a socket.
  const conn = stream as unknown as Socket;
  if (target.traffic === 'http') serveInboundHttp(conn, target, peer, ctx);
  else if (target.traffic === 'tcp') serveInboundTcp(conn, target, peer, ctx);
  else
    detectProtocol(conn, runtime.snapshot.mesh.protocolDetection.timeoutMs, (found) => {
      if (found === 'http1') serveInboundHttp(conn, target, peer, ctx);
      else serveInboundTcp(conn, target, peer, ctx);
    });
}

function inboundListenerOn(
  listeners: readonly { kind: string; port: number }[],
  port: number,
): InboundListener | undefined {
  return listeners.find((l) => l.kind === 'inbound' && l.port === port) as InboundListener | undefined;
}
