// Inbound HTTP/1: each request of a peer's connection (or the app's own plaintext port in
// PERMISSIVE) goes to the local app, with the peer's identity set by the proxy, once the
// AuthorizationPolicies in force allow it.

import type { Socket } from 'node:net';
import type { InboundListener } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { inboundDecision, inboundHop } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { authorizeRequest, inboundPeer } from './authorize.ts';

export function serveInboundHttp(
  socket: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const hop = inboundHop(socket.remoteAddress, peer, ctx.current().snapshot.proxy.address);
  const from = inboundPeer(socket, peer);
  const authorize = (req: IncomingRequest) => authorizeRequest(req, spec, from, ctx);
  const route = (_head: unknown, req: IncomingRequest) =>
    inboundDecision(req, spec, ctx.current(), peer, hop, authorize);
  const limits =
    peer === undefined ? () => ctx.current().http1Limits : () => ctx.current().http1LimitsFromMesh;
  new Http1ServerConnection(socket, http1Hooks(spec.name, ctx, route, limits));
}
