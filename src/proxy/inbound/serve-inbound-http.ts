// Inbound HTTP/1: each request of a peer's connection (or the app's own plaintext port in
// PERMISSIVE) goes to the local app, with the peer's identity set by the proxy, once its token (if
// any) verifies and the AuthorizationPolicies in force allow it.

import type { Socket } from 'node:net';
import type { InboundListener } from '../../wire/index.ts';
import type { IncomingRequest } from '../http/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { inboundDecision, inboundHop, type RouteDecision } from '../router/index.ts';
import type { ProxyContext, Runtime } from '../runtime/index.ts';
import { admitRequest } from './admit-request.ts';
import { inboundPeer } from './authorize.ts';

export function serveInboundHttp(
  socket: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const hop = inboundHop(socket.remoteAddress, peer, ctx.current().snapshot.proxy.address);
  const from = inboundPeer(socket, peer);
  const toApp = (req: Parameters<typeof inboundDecision>[0], runtime: Runtime) =>
    inboundDecision(req, spec, runtime, peer, hop);
  const route = (_head: unknown, req: Parameters<typeof inboundDecision>[0]): RouteDecision =>
    admitRequest(req, spec, from, ctx, toApp);
  const limits =
    peer === undefined ? () => ctx.current().http1Limits : () => ctx.current().http1LimitsFromMesh;
  new Http1ServerConnection(socket, http1Hooks(spec.name, ctx, route, limits));
}
