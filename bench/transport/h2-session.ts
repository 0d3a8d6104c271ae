// Transport (b): HTTP/2 over one mTLS connection (ALPN h2), each request a stream of one node:http2
// client session, as the proxy already carries HTTP/2 and gRPC (src/proxy/upstream/h2-session-pool.ts).

import { type ClientHttp2Session, connect as h2Connect } from 'node:http2';
import { AUTHORITY, BODY, BODY_BYTES, requestIdOf } from './h1-framing.ts';
import { type ConnectOptions, connectMtls } from './mtls.ts';
import type { Done, Transport } from './transport.ts';

/**
 * Connection-level receive window. The protocol default, 64 KiB, is what 64 requests of 1 KiB in
 * flight would fill; a proxy would raise it, so both ends here do.
 */
export const H2_CONNECTION_WINDOW_BYTES = 1024 * 1024;

/** Opens an h2 client session over a fresh mTLS connection; resolves once the session is up. */
export async function openH2Session(connect: Omit<ConnectOptions, 'alpn'>): Promise<ClientHttp2Session> {
  const socket = await connectMtls({ ...connect, alpn: 'h2' });
  const session = h2Connect(`https://127.0.0.1:${connect.port}`, { createConnection: () => socket });
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  session.setLocalWindowSize(H2_CONNECTION_WINDOW_BYTES);
  session.on('error', () => session.destroy());
  return session;
}

export class H2Transport implements Transport {
  readonly #session: ClientHttp2Session;

  static async open(connect: Omit<ConnectOptions, 'alpn'>): Promise<H2Transport> {
    return new H2Transport(await openH2Session(connect));
  }

  constructor(session: ClientHttp2Session) {
    this.#session = session;
  }

  send(n: number, done: Done): void {
    if (this.#session.destroyed) {
      done(false);
      return;
    }
    let status = 0;
    let isSettled = false;
    const settle = (isOk: boolean) => {
      if (isSettled) return;
      isSettled = true;
      done(isOk);
    };
    const stream = this.#session.request({
      ':method': 'POST',
      ':path': '/echo',
      ':authority': AUTHORITY,
      'user-agent': 'alder-bench',
      accept: '*/*',
      'content-type': 'application/octet-stream',
      'x-request-id': requestIdOf(n),
      'x-forwarded-proto': 'http',
      'content-length': String(BODY_BYTES),
    });
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', () => {});
    stream.on('end', () => settle(status === 200));
    stream.on('error', () => settle(false));
    stream.on('close', () => settle(false));
    stream.end(BODY);
  }

  close(): void {
    this.#session.destroy();
  }
}
