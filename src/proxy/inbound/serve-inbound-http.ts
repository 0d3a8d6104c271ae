// Inbound HTTP/1: each request of a peer's connection (or the app's own plaintext port in
// PERMISSIVE) goes to the local app, with the peer's identity set by the proxy.

import type { Socket } from 'node:net';
import type { InboundListener } from '../../wire/index.ts';
import { Http1ServerConnection, http1Hooks } from '../http1-server/index.ts';
import { inboundDecision, inboundHop } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';

/**
 * A mesh peer (over mTLS) already set x-forwarded-for and -proto, and its requests carry the headers
 * it added, so they get the runtime's limits with room for those; a caller from outside the mesh
 * (PERMISSIVE plaintext) meets this proxy first: it is the edge (router/request-headers.ts).
 */
export function serveInboundHttp(
  socket: Socket,
  spec: InboundListener,
  peer: string | undefined,
  ctx: ProxyContext,
): void {
  const hop = inboundHop(socket.remoteAddress, peer, ctx.current().snapshot.proxy.address);
  new Http1ServerConnection(
    socket,
    http1Hooks(
      spec.name,
      ctx,
      (head) => {
        const runtime = ctx.current();
        return inboundDecision(head, spec, runtime, peer, runtime.pools, hop);
      },
      peer === undefined ? () => ctx.current().http1Limits : () => ctx.current().http1LimitsFromMesh,
    ),
  );
}
