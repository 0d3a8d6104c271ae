// Inbound HTTP/2: each stream of a peer's mTLS session goes to the local app, in the protocol its
// port speaks, once its token (if any) verifies and the AuthorizationPolicies in force allow it.

import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { InboundListener } from '../../wire/index.ts';
import { serveSession, serveStream } from '../http2-server/index.ts';
import { inboundDecision, inboundHop } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';
import { admitRequest } from './admit-request.ts';
import { inboundPeer } from './authorize.ts';

export function serveInboundH2(
  socket: Socket | TLSSocket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const hop = inboundHop(socket.remoteAddress, peer, ctx.current().snapshot.proxy.address);
  const from = inboundPeer(socket, peer);
  serveSession(socket, (stream, headers, flags) =>
    serveStream(stream, headers, flags, {
      listener: spec.name,
      ctx,
      limits: ctx.current().http1Limits,
      decide: (req) =>
        admitRequest(req, spec, from, ctx, (r, runtime) => inboundDecision(r, spec, runtime, peer, hop)),
    }),
  );
}
