// Starts an HTTP/2 server session on an accepted connection (h2c from the app, or a TLS socket the
// mTLS gate already finished), and hands each stream to the caller.

import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { closeWhenIdle, onCloseWhenIdle } from '../l4/index.ts';
import { connectionLimits } from '../runtime/index.ts';

/** ALPN an inbound HTTP/2 port offers: h2, and http/1.1 for peers on the HTTP/1 path (HTTP_PROXY). */
export const INBOUND_H2_ALPN = ['h2', 'http/1.1'];

/** An inbound connection the mTLS gate passed: an HTTP/2 session unless the peer chose http/1.1. */
export function isInboundH2(socket: Socket | TLSSocket): boolean {
  return (socket as TLSSocket).alpnProtocol !== 'http/1.1';
}

export type OnStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => void;

let server: Http2Server | undefined;

/** A session with no open stream for this long is closed (GOAWAY), as idle HTTP/1 connections are. */
const SESSION_IDLE_MS = 60_000;

/**
 * Starts an HTTP/2 server session on a connected socket. The shared server only builds sessions (it
 * never listens): its connection listener takes a plain socket (h2c) or a TLSSocket whose ALPN is h2.
 * The session ends with its connection, never outlives it: the client's preface and SETTINGS must
 * come within request_headers_timeout, a client that stops sending (FIN, reset, error) is gone, and
 * a session idle with no open stream is closed.
 */
export function serveSession(socket: Socket | TLSSocket, onStream: OnStream): void {
  // SETTINGS_ENABLE_CONNECT_PROTOCOL: callers may open WebSockets as extended CONNECT (RFC 8441).
  server ??= createServer({ settings: { enableConnectProtocol: true } });
  // A server-side TLSSocket built by hand (the mTLS gate) keeps `secureConnecting` set after its
  // handshake (node's tls.Server clears it); http2 would then wait for a 'secureConnect' that never comes.
  if ((socket as { secureConnecting?: boolean }).secureConnecting === true) {
    (socket as { secureConnecting?: boolean }).secureConnecting = false;
  }
  let session: ServerHttp2Session | undefined;
  const take = (s: ServerHttp2Session) => {
    session = s;
  };
  server.once('session', take); // emitted synchronously by the connection listener
  server.emit('connection', socket);
  server.off('session', take);
  if (session === undefined) {
    socket.destroy();
    return;
  }
  const live = session;
  // HTTP/2 has no half-closed connection: the listener keeps half-open sockets for HTTP/1, so a FIN
  // would otherwise leave this session (and its socket, in CLOSE-WAIT) behind.
  const gone = () => live.destroy();
  socket.once('end', gone);
  socket.once('close', gone);
  socket.once('error', gone);
  const settings = setTimeout(() => {
    live.destroy();
    socket.destroy();
  }, connectionLimits().requestHeadersTimeoutMs);
  live.once('remoteSettings', () => clearTimeout(settings));
  live.once('close', () => clearTimeout(settings));
  const open = new Set<ServerHttp2Stream>();
  live.setTimeout(SESSION_IDLE_MS, () => {
    if (open.size === 0) live.close();
  });
  // Asked to close once idle: GOAWAY, and each open stream's own connection (a tunnel's) likewise.
  onCloseWhenIdle(socket, () => {
    if (!live.closed) live.close();
    for (const stream of open) closeWhenIdle(stream);
  });
  live.on('error', () => live.destroy());
  live.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
    open.add(stream);
    stream.once('close', () => open.delete(stream));
    onStream(stream, headers, flags);
  });
}
