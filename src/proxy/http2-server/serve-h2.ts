// The HTTP/2 connection manager for listeners whose port protocol is HTTP2 or GRPC: serves the
// connection (h2c from the app, or a TLS socket the mTLS gate already finished) as an HTTP/2 server
// session and forwards each stream — outbound by :authority, inbound to the app over pooled h2c.

import {
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { WireProtocol } from '../../wire/index.ts';
import type { LocalReply } from '../local-reply/index.ts';
import { connectionLimits, type ProxyContext } from '../runtime/index.ts';
import { isGrpcRequest, writeH2LocalReply } from './h2-local-reply.ts';

const _END_STREAM = constants.NGHTTP2_FLAG_END_STREAM;

/** ALPN an inbound HTTP/2 port offers: h2, and http/1.1 for peers on the HTTP/1 path (HTTP_PROXY). */
export const INBOUND_H2_ALPN = ['h2', 'http/1.1'];

export function isH2Protocol(protocol: WireProtocol): boolean {
  return protocol === 'HTTP2' || protocol === 'GRPC';
}

/** An inbound connection the mTLS gate passed: an HTTP/2 session unless the peer chose http/1.1. */
export function isInboundH2(socket: Socket | TLSSocket): boolean {
  return (socket as TLSSocket).alpnProtocol !== 'http/1.1';
}

type OnStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => void;

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
  server ??= createServer();
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
  let openStreams = 0;
  live.setTimeout(SESSION_IDLE_MS, () => {
    if (openStreams === 0) live.close();
  });
  live.on('error', () => live.destroy());
  live.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
    openStreams++;
    stream.once('close', () => openStreams--);
    onStream(stream, headers, flags);
  });
}

export function replier(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  listener: string,
  ctx: ProxyContext,
) {
  const isGrpc = isGrpcRequest(headers);
  return (reply: LocalReply) => {
    if (reply.flag === '') {
      writeH2LocalReply(stream, reply, isGrpc);
      return;
    }
    ctx.stats.add('alder_proxy_local_replies_total', { listener, flag: reply.flag });
    ctx.log.warn('local reply', {
      listener,
      status: reply.status,
      flag: reply.flag,
      reason: reply.message,
      grpc: isGrpc,
    });
    writeH2LocalReply(stream, reply, isGrpc);
  };
}

/** Request headers as routing reads them: `[name, value, …]`, pseudo-headers left out. */
export function flatHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':')) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}

/** Runs a flat-list header edit over an HTTP/2 header object (pseudo-headers kept as they are). */
export function editHeaders(
  headers: OutgoingHttpHeaders,
  edit: (flat: string[]) => readonly string[],
): OutgoingHttpHeaders {
  const flat: string[] = [];
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (name.startsWith(':')) out[name] = value;
    else if (Array.isArray(value)) for (const v of value) flat.push(name, v);
    else if (value !== undefined) flat.push(name, String(value));
  }
  const edited = edit(flat);
  if (edited === flat && flat.length === 0) return headers;
  for (let k = 0; k < edited.length; k += 2) {
    const name = edited[k] as string;
    const value = edited[k + 1] as string;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
  return out;
}
