// Process B, the receiving proxy's side of the hop: three mTLS listeners on 127.0.0.1 (HTTP/1.1,
// HTTP/2, HBONE) that check the caller's SPIFFE ID and answer every request with a fixed 1 KiB body.
// Started by run.ts with IPC; reports its ports, then its CPU time whenever asked.

import {
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { BODY, BODY_BYTES, MessageReader, RESPONSE } from './h1-framing.ts';
import { H2_CONNECTION_WINDOW_BYTES } from './h2-session.ts';
import { spiffeIdOf, tlsOptionsOf } from './mtls.ts';
import { cpuSecondsNow, type FromServer, type Ports, type ToServer, type WorkloadTls } from './protocol.ts';

const tls = JSON.parse(process.argv[2] ?? '{}') as WorkloadTls;
const serverTls = {
  ...tlsOptionsOf(tls),
  requestCert: true,
  rejectUnauthorized: true,
  noDelay: true,
};

/** The inbound mTLS gate: the chain was verified by the handshake; the identity is checked here. */
function isPeerAllowed(socket: TLSSocket): boolean {
  if (spiffeIdOf(socket.getPeerCertificate()) === tls.peerSpiffeId) return true;
  socket.destroy();
  return false;
}

/** HTTP/1.1: one reader per connection; answers written in one batch per chunk read (pipelining). */
function serveH1(socket: TLSSocket): void {
  if (!isPeerAllowed(socket)) return;
  const reader = new MessageReader(false, () => socket.write(RESPONSE));
  socket.on('data', (chunk: Buffer) => {
    socket.cork();
    reader.feed(chunk);
    socket.uncork();
    if (reader.isBroken) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
}

const RESPONSE_HEADERS = {
  ':status': 200,
  'content-type': 'application/octet-stream',
  'content-length': String(BODY_BYTES),
};

function serveH2Stream(stream: ServerHttp2Stream): void {
  stream.on('error', () => stream.destroy());
  stream.on('end', () => {
    stream.respond(RESPONSE_HEADERS);
    stream.end(BODY);
  });
  stream.resume();
}

/** HBONE: each CONNECT stream is one inner HTTP/1.1 connection, answered as on the HTTP/1.1 port. */
function serveTunnel(stream: ServerHttp2Stream, method: string | undefined): void {
  stream.on('error', () => stream.destroy());
  if (method !== 'CONNECT') {
    stream.respond({ ':status': 405 });
    stream.end();
    return;
  }
  stream.respond({ ':status': 200 });
  const reader = new MessageReader(false, () => stream.write(RESPONSE));
  stream.on('data', (chunk: Buffer) => {
    reader.feed(chunk);
    if (reader.isBroken) stream.destroy();
  });
}

function h2Server(onStream: (stream: ServerHttp2Stream, method: string | undefined) => void) {
  const server = createSecureServer({ ...serverTls, allowHTTP1: false });
  server.on('secureConnection', (socket: TLSSocket) => isPeerAllowed(socket));
  server.on('session', (session: Http2Session) => {
    session.on('error', () => session.destroy());
    session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES);
  });
  server.on('stream', (stream, headers) => onStream(stream, headers[':method']));
  return server;
}

function listen(server: ReturnType<typeof createServer> | Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

const send = (message: FromServer) => process.send?.(message);
const h1 = createServer({ ...serverTls, ALPNProtocols: ['http/1.1'] }, serveH1);
const ports: Ports = {
  h1: await listen(h1),
  h2: await listen(h2Server(serveH2Stream)),
  hbone: await listen(h2Server(serveTunnel)),
};
process.on('message', (message: ToServer) => {
  switch (message.kind) {
    case 'cpu':
      send({ kind: 'cpu', seconds: cpuSecondsNow() });
      break;
    case 'exit':
      process.exit(0);
      break;
    default: {
      const never: never = message;
      throw new Error(`server: unknown message ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready', ports });
