// h2c (HTTP/2 with prior knowledge, as gRPC clients speak) on an HTTP/1.1 egress port: rather than a
// parse error the client reports as "Protocol error", each stream gets a reply saying what the port
// speaks and what to do (gRPC callers read it as grpc-message), and a GOAWAY (HTTP_1_1_REQUIRED)
// carrying the same words ends the session.

import { constants } from 'node:http2';
import type { Socket } from 'node:net';
import type { OutboundPortListener } from '../../wire/index.ts';
import { serveSession, serveStream } from '../http2-server/index.ts';
import { localReply, Reply } from '../local-reply/index.ts';
import type { ProxyContext } from '../runtime/index.ts';

export function refuseH2c(socket: Socket, spec: OutboundPortListener, ctx: ProxyContext): void {
  const why =
    `${spec.name} (${spec.address}:${spec.port}) serves HTTP/1.1, and this client spoke HTTP/2 (h2c); ` +
    'send HTTP/1.1 here, or call HTTP/2 and gRPC services through an egress port whose services all ' +
    'name their port http2 or grpc (Service port name or appProtocol)';
  let isGoingAway = false;
  serveSession(socket, (stream, headers, flags) => {
    serveStream(stream, headers, flags, {
      listener: spec.name,
      ctx,
      limits: ctx.current().http1Limits,
      decide: () => ({ kind: 'reply', reply: localReply(Reply.BadRequest, `request refused: ${why}`) }),
    });
    const session = stream.session;
    if (isGoingAway || session === undefined) return;
    isGoingAway = true;
    session.goaway(constants.NGHTTP2_HTTP_1_1_REQUIRED, stream.id ?? 0, Buffer.from(why));
    session.close();
  });
}
