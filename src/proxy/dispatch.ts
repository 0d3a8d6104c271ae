// Which path serves a new connection, by its listener's kind and traffic: inbound connections pass
// the mTLS gate first; outbound ones go straight to routing.

import type { Socket } from 'node:net';
import type { Listener } from '../wire/index.ts';
import { isH2Protocol } from './http/index.ts';
import { INBOUND_H2_ALPN, isInboundH2 } from './http2-server/index.ts';
import {
  acceptMesh,
  serveInboundH2,
  serveInboundHttp,
  serveInboundTcp,
  serveTunnel,
} from './inbound/index.ts';
import { detectProtocol } from './l4/index.ts';
import { egressServesH2, serveOutboundH2, serveOutboundHttp, serveOutboundTcp } from './outbound/index.ts';
import { connectionLimits, type ProxyContext, throttledLog } from './runtime/index.ts';

/**
 * PERMISSIVE must also serve plaintext server-first protocols (MySQL greets first): an inbound
 * connection silent this long is plaintext. STRICT only ever takes TLS and waits the handshake timeout.
 */
const SILENCE_IS_PLAINTEXT_MS = 1_000;

export function dispatch(socket: Socket, spec: Listener, ctx: ProxyContext): void {
  switch (spec.kind) {
    case 'inbound': {
      const runtime = ctx.current();
      const isH2 = spec.traffic === 'http' && isH2Protocol(spec.protocol);
      acceptMesh(
        socket,
        {
          mode: spec.mtlsMode,
          tls: runtime.tls,
          firstByteTimeoutMs: SILENCE_IS_PLAINTEXT_MS,
          handshakeTimeoutMs: connectionLimits().handshakeTimeoutMs,
          ...(isH2 ? { alpn: INBOUND_H2_ALPN } : {}),
        },
        (conn) => {
          if (typeof conn === 'string') {
            ctx.stats.add('alder_proxy_inbound_refused_total', { listener: spec.name, reason: conn });
            if (conn !== 'closed')
              throttledLog(ctx.log).warn(`refused:${spec.name}:${conn}`, 'inbound connection refused', {
                listener: spec.name,
                reason: conn,
              });
            return;
          }
          if (isH2 && isInboundH2(conn.socket)) return serveInboundH2(conn.socket, spec, conn.peer, ctx);
          const serve = (traffic: 'http' | 'tcp') =>
            traffic === 'http'
              ? serveInboundHttp(conn.socket as Socket, spec, conn.peer, ctx)
              : serveInboundTcp(conn.socket as Socket, spec, conn.peer, ctx);
          if (spec.traffic !== 'detect') return serve(spec.traffic);
          detectProtocol(conn.socket, runtime.snapshot.mesh.protocolDetection.timeoutMs, (found) => {
            ctx.stats.add('alder_proxy_protocol_detected_total', { listener: spec.name, protocol: found });
            serve(found === 'http1' ? 'http' : 'tcp');
          });
        },
      );
      return;
    }
    case 'outbound-port': {
      if (spec.traffic !== 'detect') {
        if (spec.traffic === 'http' && egressServesH2(spec, ctx)) serveOutboundH2(socket, spec, ctx);
        else if (spec.traffic === 'http') serveOutboundHttp(socket, spec, ctx);
        else serveOutboundTcp(socket, spec, ctx);
        return;
      }
      const timeoutMs = ctx.current().snapshot.mesh.protocolDetection.timeoutMs;
      detectProtocol(socket, timeoutMs, (found) => {
        ctx.stats.add('alder_proxy_protocol_detected_total', { listener: spec.name, protocol: found });
        if (found === 'http1') serveOutboundHttp(socket, spec, ctx);
        else serveOutboundTcp(socket, spec, ctx);
      });
      return;
    }
    case 'outbound-proxy':
      serveOutboundHttp(socket, spec, ctx);
      return;
    case 'tunnel':
      serveTunnel(socket, spec, ctx);
      return;
  }
}
