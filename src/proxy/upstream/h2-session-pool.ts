// One multiplexed HTTP/2 client session per upstream endpoint (and TLS identity), shared by every
// stream to it: opened through connectEndpoint (mTLS with ALPN h2 and the SPIFFE check, or h2c),
// dropped from the pool when it can carry no new stream (GOAWAY, error, close, or its connection
// ending), so that the next stream opens a fresh one. Keepalive PINGs find peers gone silently.

import { type ClientHttp2Session, connect as h2Connect, type Settings } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import { isOriginTls, type UpstreamTls } from '../tls/index.ts';
import { connectEndpoint } from '../upstream/connect.ts';
import { poolKeyOf } from './connect.ts';
import { ConnectError } from './connect-error.ts';
import { type KeepaliveSettings, keepAlive } from './h2-keepalive.ts';
import { localAddressTowards } from './source-address.ts';

/** A session with no open stream for this long is closed, before most servers' own idle timeouts. */
const IDLE_TIMEOUT_MS = 30_000;
const H2_ALPN = ['h2'];

/**
 * PINGs to a peer proxy (mTLS): Alder's own server answers them, so often; a peer gone silently is
 * found within 15 s. gRPC's minimum client keepalive time is 10 s (grpc/proposal A8).
 */
const PEER_KEEPALIVE: KeepaliveSettings = { intervalMs: 10_000, timeoutMs: 5_000 };
/**
 * PINGs to an app (h2c, on loopback where a dead process always closes its sockets): gRPC servers
 * answer PINGs more often than every 5 minutes, their default permitted keepalive time, with GOAWAY
 * ENHANCE_YOUR_CALM ("too_many_pings", grpc-go's keepalive enforcement), so no more often than that.
 */
const APP_KEEPALIVE: KeepaliveSettings = { intervalMs: 300_000, timeoutMs: 20_000 };

/** Sessions whose peer's first SETTINGS frame came (before it, remoteSettings are only defaults). */
const settled = new WeakSet<ClientHttp2Session>();

/**
 * The peer's SETTINGS, once its first SETTINGS frame came (at once for a session in use); rejects
 * with a ProxyError (UF) when none comes within `timeoutMs` or the session ends first.
 */
export function peerSettings(
  session: ClientHttp2Session,
  where: string,
  timeoutMs: number,
): Promise<Settings> {
  if (settled.has(session)) return Promise.resolve(session.remoteSettings);
  return new Promise((resolve, reject) => {
    const done = (err: ProxyError | undefined) => {
      clearTimeout(timer);
      session.off('remoteSettings', onSettings);
      session.off('close', onClose);
      if (err === undefined) resolve(session.remoteSettings);
      else reject(err);
    };
    const onSettings = () => done(undefined);
    const onClose = () =>
      done(new ProxyError(Reply.ConnectFailure, `upstream ${where}: the session closed before its SETTINGS`));
    const timer = setTimeout(
      () =>
        done(new ProxyError(Reply.ConnectFailure, `upstream ${where}: no SETTINGS within ${timeoutMs}ms`)),
      timeoutMs,
    );
    session.once('remoteSettings', onSettings);
    session.once('close', onClose);
  });
}

export class H2SessionPool {
  readonly #sessions = new Map<string, Promise<ClientHttp2Session>>();
  /** Flow-control window per stream and per session; node's default (64 KiB) when absent. */
  readonly #windowBytes: number | undefined;
  /** Where mTLS sessions to peers on this machine leave from (source-address.ts). */
  readonly #sourceAddress: string | undefined;

  constructor(options: { windowBytes?: number; sourceAddress?: string } = {}) {
    this.#windowBytes = options.windowBytes;
    this.#sourceAddress = options.sourceAddress;
  }

  /**
   * The pooled session to `endpoint`, or a new one (mTLS when `tls` is set, h2c otherwise). Rejects
   * with a ConnectError (flag UF) when the connection, the handshake or the ALPN agreement fails.
   */
  session(
    endpoint: Endpoint,
    tls: UpstreamTls | undefined,
    connectTimeoutMs: number,
  ): Promise<ClientHttp2Session> {
    const key = `${poolKeyOf(tls, endpoint)}|${endpoint.address}:${endpoint.port}`;
    const pooled = this.#sessions.get(key);
    if (pooled !== undefined) return pooled;
    const localAddress =
      tls === undefined || isOriginTls(tls)
        ? undefined
        : localAddressTowards(this.#sourceAddress, endpoint.address);
    const opening = open(endpoint, tls, connectTimeoutMs, this.#windowBytes, localAddress).then((session) => {
      const forget = () => {
        if (this.#sessions.get(key) === opening) this.#sessions.delete(key);
      };
      // Already gone (the peer closed between the handshake and here): the next stream opens anew.
      if (session.destroyed || session.closed) forget();
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
  tls: UpstreamTls | undefined,
  connectTimeoutMs: number,
  windowBytes: number | undefined,
  localAddress: string | undefined,
): Promise<ClientHttp2Session> {
  const socket = await connectEndpoint({
    endpoint,
    tls,
    connectTimeoutMs,
    localAddress,
    ...(tls === undefined ? {} : { alpn: H2_ALPN }),
  });
  const where = `${endpoint.address}:${endpoint.port}`;
  if (tls !== undefined && (socket as TLSSocket).alpnProtocol !== 'h2') {
    socket.destroy();
    throw new ConnectError({
      target: where,
      kind: 'other',
      reason: 'the peer did not agree to HTTP/2 (ALPN h2); is its port declared http2 or grpc?',
    });
  }
  const session = h2Connect(`${tls === undefined ? 'http' : 'https'}://${where}`, {
    createConnection: () => socket,
    ...(windowBytes === undefined ? {} : { settings: { initialWindowSize: windowBytes } }),
  });
  session.once('remoteSettings', () => settled.add(session));
  if (windowBytes !== undefined) session.once('connect', () => session.setLocalWindowSize(windowBytes));
  // The connection is opened half-open capable (TCP relays need it), which HTTP/2 never is: when the
  // peer finishes (its process died, it restarted), the session is over, or it would keep taking
  // streams that no one will ever answer.
  const over = () => session.destroy();
  socket.once('end', over);
  socket.once('close', over);
  socket.once('error', over);
  session.setTimeout(IDLE_TIMEOUT_MS, () => session.close());
  keepAlive(session, tls === undefined ? APP_KEEPALIVE : PEER_KEEPALIVE);
  // Pooled sessions must not keep a stopping proxy alive; open streams hold their downstream anyway.
  session.unref();
  return session;
}
