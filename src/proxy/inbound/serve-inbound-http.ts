// Inbound HTTP/1: each request of a peer's connection (or the app's own plaintext port in
// PERMISSIVE) goes to the local app, with the peer's identity set by the proxy.

import type { Socket } from 'node:net';
import type { InboundListener } from '../../wire/index.ts';
import { DEFAULT_HTTP1_LIMITS, http1Limits } from '../http1/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { inboundDecision } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';

/**
 * Requests from peer proxies carry the headers the first proxy added (x-request-id, x-forwarded-*),
 * so a request the client's proxy took at the header limit must still pass the server's.
 */
const FROM_MESH_LIMITS = http1Limits({ maxHeaders: DEFAULT_HTTP1_LIMITS.maxHeaders + 20 });

export function serveInboundHttp(
  socket: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const route = (_head: unknown, req: Parameters<typeof inboundDecision>[0]) =>
    inboundDecision(req, spec, ctx.current(), peer);
  const limits = peer === undefined ? undefined : FROM_MESH_LIMITS;
  new Http1ServerConnection(socket, http1Hooks(spec.name, ctx, route, limits));
}
