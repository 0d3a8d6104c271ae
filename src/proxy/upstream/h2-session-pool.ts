// One multiplexed HTTP/2 client session per upstream endpoint (and TLS identity), shared by every
// stream to it: opened through connectEndpoint (mTLS with ALPN h2 and the SPIFFE check, or h2c),
// dropped from the pool on GOAWAY, error or close so that the next stream opens a fresh one.

import { type ClientHttp2Session, connect as h2Connect } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import type { MeshTls } from '../tls/index.ts';
import { connectEndpoint } from '../upstream/connect.ts';

/** A session with no open stream for this long is closed, before most servers' own idle timeouts. */
const IDLE_TIMEOUT_MS = 30_000;
const H2_ALPN = ['h2'];

export class H2SessionPool {
  readonly #sessions = new Map<string, Promise<ClientHttp2Session>>();
  /** Flow-control window per stream and per session; node's default (64 KiB) when absent. */
  readonly #windowBytes: number | undefined;

  constructor(options: { windowBytes?: number } = {}) {
    this.#windowBytes = options.windowBytes;
  }

  /**
   * The pooled session to `endpoint`, or a new one (mTLS when `tls` is set, h2c otherwise). Rejects
   * with a ProxyError (flag UF) when the connection, the handshake or the ALPN agreement fails.
   */
  session(
    endpoint: Endpoint,
    tls: MeshTls | undefined,
    connectTimeoutMs: number,
  ): Promise<ClientHttp2Session> {
    const key = `${tls === undefined ? 'plain' : endpoint.spiffeId}|${endpoint.address}:${endpoint.port}`;
    const pooled = this.#sessions.get(key);
    if (pooled !== undefined) return pooled;
    const opening = open(endpoint, tls, connectTimeoutMs, this.#windowBytes).then((session) => {
      const forget = () => {
        if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
      };
      session.once('goaway', forget);
      session.once('close', forget);
      session.on('error', () => {
        forget();
        session.destroy();
      });
      return session;
    });
    opening.catch(() => {
      if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
    });
    this.#sessions.set(key, opening);
    return opening;
  }
}

async function open(
  endpoint: Endpoint,
  tls: MeshTls | undefined,
  connectTimeoutMs: number,
  windowBytes: number | undefined,
): Promise<ClientHttp2Session> {
  const socket = await connectEndpoint({
    endpoint,
    tls,
    connectTimeoutMs,
    ...(tls === undefined ? {} : { alpn: H2_ALPN }),
  });
  const where = `${endpoint.address}:${endpoint.port}`;
  if (tls !== undefined && (socket as TLSSocket).alpnProtocol !== 'h2') {
    socket.destroy();
    throw new ProxyError(
      Reply.ConnectFailure,
      `upstream ${where}: the peer did not agree to HTTP/2 (ALPN h2); is its port declared http2 or grpc?`,
    );
  }
  const session = h2Connect(`${tls === undefined ? 'http' : 'https'}://${where}`, {
    createConnection: () => socket,
    ...(windowBytes === undefined ? {} : { settings: { initialWindowSize: windowBytes } }),
  });
  if (windowBytes !== undefined) session.once('connect', () => session.setLocalWindowSize(windowBytes));
  session.setTimeout(IDLE_TIMEOUT_MS, () => session.close());
  // Pooled sessions must not keep a stopping proxy alive; open streams hold their downstream anyway.
  session.unref();
  return session;
}
