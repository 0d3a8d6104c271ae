// Opens one request's UpstreamStream to an endpoint in the protocol its port speaks: HTTP/2 and gRPC
// on a pooled session, everything else on a pooled HTTP/1 connection (in an HBONE tunnel between
// proxies). The request head goes out at once; the body follows through the stream.

import type { ClientHttp2Session } from 'node:http2';
import type { Endpoint, WireProtocol } from '../../wire/index.ts';
import { isH2Protocol, type OutgoingRequest } from '../http/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import type { UpstreamTls } from '../tls/index.ts';
import type { ClusterRuntime } from './cluster-runtime.ts';
import { type H2SessionPool, peerSettings } from './h2-session-pool.ts';
import { H2UpstreamStream } from './h2-upstream-stream.ts';
import type { AcquireCancel, UpstreamPools } from './http1-pool.ts';
import type { UpstreamEvents, UpstreamStream } from './upstream-stream.ts';

export interface StreamTarget {
  endpoint: Endpoint;
  protocol: WireProtocol;
  /** Mutual TLS to a peer proxy, TLS originated to an outside destination, or plaintext when undefined. */
  tls: UpstreamTls | undefined;
  connectTimeoutMs: number;
  /** The cluster whose connection limits apply (none for the local app). */
  cluster: ClusterRuntime | undefined;
}

export interface Upstreams {
  readonly pools: UpstreamPools;
  readonly h2: H2SessionPool;
}

/**
 * Rejects with a ProxyError: UF when connecting fails, UO at a connection limit, UC when a session
 * refuses the stream, UPE when an upgrade meets an HTTP/2 upstream that did not enable extended CONNECT.
 */
export function openStream(
  upstreams: Upstreams,
  target: StreamTarget,
  req: OutgoingRequest,
  events: UpstreamEvents,
  cancel?: AcquireCancel,
): Promise<UpstreamStream> {
  const { endpoint, tls, connectTimeoutMs } = target;
  if (isH2Protocol(target.protocol)) {
    const session = upstreams.h2.session(endpoint, tls, connectTimeoutMs);
    const ready =
      req.upgrade === undefined
        ? session
        : session.then((s) => ableToUpgrade(s, target, req.upgrade as string));
    return ready.then((s) => new H2UpstreamStream(s, req, events));
  }
  return upstreams.pools.acquire(endpoint, tls, connectTimeoutMs, target.cluster, cancel).then((conn) => {
    conn.begin(req, events);
    return conn;
  });
}

/** The session, once its peer said it takes extended CONNECT (RFC 8441); a ProxyError (UPE) if it did not. */
async function ableToUpgrade(
  session: ClientHttp2Session,
  target: StreamTarget,
  upgrade: string,
): Promise<ClientHttp2Session> {
  const where = `${target.endpoint.address}:${target.endpoint.port}`;
  const settings = await peerSettings(session, where, target.connectTimeoutMs);
  if (settings.enableConnectProtocol === true) return session;
  throw new ProxyError(
    Reply.UpstreamCannotUpgrade,
    `upstream ${where} speaks HTTP/2 and did not enable extended CONNECT (RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL), so it cannot take the ${upgrade} upgrade; serve the port as HTTP/1.1 (name it http) or enable WebSockets over HTTP/2 in the app`,
  );
}
