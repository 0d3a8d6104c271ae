// Inbound HTTP/2: each stream of a peer's mTLS session goes to the local app over pooled h2c.

import { constants } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { InboundListener } from '../../wire/index.ts';
import {
  forwardH2Stream,
  inboundRequestHeaders,
  refuseH2Request,
  replier,
  serveSession,
  withoutMeshH2Headers,
} from '../http2-server/index.ts';
import { ProxyError } from '../local-reply/index.ts';
import { inboundHop } from '../router/index.ts';
import type { ProxyContext } from '../runtime/index.ts';

const END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

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
  const hop = inboundHop(socket.remoteAddress, peer, ctx.current().snapshot.proxy.address);
  serveSession(socket, (stream, headers, flags) => {
    const runtime = ctx.current();
    if (refuseH2Request(stream, headers, runtime.http1Limits, spec.name, ctx)) return;
    forwardH2Stream({
      downstream: stream,
      isRequestEnded: (flags & END_STREAM) !== 0,
      reply: replier(stream, headers, spec.name, ctx),
      plan: {
        headers: inboundRequestHeaders(
          headers,
          runtime.snapshot.proxy.spiffeId,
          peer,
          hop,
          runtime.snapshot.mesh.http,
        ),
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
        // The app's response: its x-alder-* are not the mesh's.
        editResponse: withoutMeshH2Headers,
        delayMs: 0,
        timeoutMs: 0,
        perTryTimeoutMs: 0,
        finish: () => undefined,
      },
    });
  });
}
