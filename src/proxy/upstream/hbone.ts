// HBONE, the transport between proxies (docs/transport.md): each connection to a peer workload is an
// HTTP/2 CONNECT stream, over one mTLS session per peer to its tunnel port, with `:authority` naming
// the workload's port. The stream is a byte duplex, so HTTP/1.1 (Alder's own codec) and TCP run
// inside it unchanged, and many connections share one TLS session and its writes.

import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import { isOriginTls, type MeshTls, type UpstreamTls } from '../tls/index.ts';
import { connectEndpoint } from './connect.ts';
import { ConnectError } from './connect-error.ts';
import { H2SessionPool } from './h2-session-pool.ts';
import { localAddressTowards } from './source-address.ts';

/** Tunnels carry whole request bodies at once: a window well above HTTP/2's default 64 KiB. */
const TUNNEL_WINDOW_BYTES = 1024 * 1024;

export class HboneTunnels {
  /** Where connections to peers on this machine leave from (source-address.ts); undefined: the kernel's choice. */
  readonly sourceAddress: string | undefined;
  readonly #sessions: H2SessionPool;

  constructor(sourceAddress?: string) {
    this.sourceAddress = sourceAddress;
    this.#sessions = new H2SessionPool({
      windowBytes: TUNNEL_WINDOW_BYTES,
      ...(sourceAddress === undefined ? {} : { sourceAddress }),
    });
  }

  /** A tunnel to `endpoint` through its proxy's tunnel port; rejects with a ConnectError (flag UF). */
  open(
    endpoint: Endpoint,
    tunnelPort: number,
    tls: MeshTls,
    connectTimeoutMs: number,
  ): Promise<ClientHttp2Stream> {
    const peer = { ...endpoint, port: tunnelPort };
    const target = `${endpoint.address}:${endpoint.port}`;
    const via = `tunnel port ${tunnelPort}`;
    const session = this.#sessions.session(peer, tls, connectTimeoutMs).catch((err: unknown) => {
      // Say which endpoint the request was for, and that its tunnel port was what failed.
      if (!(err instanceof ConnectError)) throw err;
      throw new ConnectError({ target, via, kind: err.failure, reason: err.reason, cause: err.cause });
    });
    return session.then(
      (session) =>
        new Promise<ClientHttp2Stream>((resolve, reject) => {
          let stream: ClientHttp2Stream;
          try {
            stream = session.request({ ':method': 'CONNECT', ':authority': target }, { endStream: false });
          } catch (err) {
            reject(fail(target, 'other', `the tunnel session refused a stream: ${(err as Error).message}`));
            return;
          }
          const timer = setTimeout(() => {
            stream.close();
            reject(fail(target, 'timeout', `no tunnel answer within ${connectTimeoutMs}ms`));
          }, connectTimeoutMs);
          const onClose = () => {
            clearTimeout(timer);
            reject(
              fail(
                target,
                'reset',
                `the peer proxy closed the tunnel (HTTP/2 error code ${stream.rstCode ?? 0})`,
              ),
            );
          };
          stream.once('close', onClose);
          stream.on('error', () => undefined);
          stream.once('response', (headers: IncomingHttpHeaders) => {
            clearTimeout(timer);
            stream.off('close', onClose);
            const status = Number(headers[':status']);
            if (status === 200) {
              resolve(stream);
              return;
            }
            stream.close();
            reject(
              fail(target, 'other', `the peer proxy refused the tunnel with ${status}${describe(headers)}`),
            );
          });
        }),
    );
  }
}

function describe(headers: IncomingHttpHeaders): string {
  const reason = headers['x-alder-reason'];
  return typeof reason === 'string' ? `: ${reason}` : '';
}

/** `target`: the endpoint as `address:port`. */
function fail(target: string, kind: ConnectError['failure'], reason: string): ConnectError {
  return new ConnectError({ target, kind, reason });
}

/**
 * A byte stream to `endpoint`: through its proxy's tunnel port (HBONE) when it has one and the
 * cluster uses mTLS, else a direct TCP or mTLS connection (`alpn` offered inside TLS). mTLS
 * connections leave from the tunnels' source address when the peer is on this machine.
 */
export function connectPeer(
  tunnels: HboneTunnels,
  endpoint: Endpoint,
  tls: UpstreamTls | undefined,
  connectTimeoutMs: number,
  alpn?: string[],
): Promise<Socket | TLSSocket | ClientHttp2Stream> {
  if (tls !== undefined && !isOriginTls(tls) && endpoint.tunnelPort !== undefined) {
    return tunnels.open(endpoint, endpoint.tunnelPort, tls, connectTimeoutMs);
  }
  return connectEndpoint({
    endpoint,
    tls,
    connectTimeoutMs,
    ...(alpn === undefined ? {} : { alpn }),
    localAddress:
      tls === undefined || isOriginTls(tls)
        ? undefined
        : localAddressTowards(tunnels.sourceAddress, endpoint.address),
  });
}
