// The control plane's mesh port (15012, as istiod's): HTTPS with the control plane's certificate from
// the mesh CA. Proxies fetch the trust bundle, join with a token and a CSR, renew with their client
// certificate, and open their stream as an upgrade to `alder-stream/1` authenticated by that
// certificate. Other paths go to the API handler, so the API is also served over TLS here.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { STREAM_PATH, STREAM_PROTOCOL, streamProofMaterial } from '../../wire/index.ts';

export interface MeshServerOptions {
  tls: { key: string; cert: string; ca: string };
  /** The SPIFFE ID of a verified client certificate, or undefined. */
  peerIdentity(socket: TLSSocket): string | undefined;
  /**
   * Upgraded streams, authenticated; `proofMaterial` is the connection's keying material that a
   * hello's proof signs (src/wire/stream-proof.ts).
   */
  onStream(socket: Duplex, peer: { spiffeId: string; address: string; proofMaterial: Buffer }): void;
  /** Every other request (join, renew, trust bundle, the API). */
  onRequest(req: IncomingMessage, res: ServerResponse): void;
}

export function createMeshServer(o: MeshServerOptions): Server {
  const server = createServer(
    {
      key: o.tls.key,
      cert: o.tls.cert,
      ca: o.tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      headersTimeout: 15_000,
      requestTimeout: 60_000,
    },
    o.onRequest,
  );
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: string, message: string) => {
      const body = JSON.stringify({ code: 'ALDER_UNAUTHENTICATED', message });
      socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    const path = new URL(req.url ?? '/', 'https://control-plane').pathname;
    if (path !== STREAM_PATH || req.headers.upgrade?.toLowerCase() !== STREAM_PROTOCOL) {
      return refuse(
        '404 Not Found',
        `no stream at ${path}; proxies open ${STREAM_PATH} with Upgrade: ${STREAM_PROTOCOL}`,
      );
    }
    const spiffeId = o.peerIdentity(socket as TLSSocket);
    if (spiffeId === undefined) {
      return refuse(
        '401 Unauthorized',
        'the stream needs a client certificate issued by the mesh CA: join first',
      );
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: ${STREAM_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`,
    );
    if (head.length > 0) socket.unshift(head);
    const tls = socket as TLSSocket;
    tls.setKeepAlive(true, 30_000);
    o.onStream(socket, {
      spiffeId,
      address: tls.remoteAddress ?? '',
      proofMaterial: streamProofMaterial(tls),
    });
  });
  return server;
}
