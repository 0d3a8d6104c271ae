// Opens a connection to one endpoint: plain TCP, or mutual TLS 1.3 that checks the peer proxy
// presents the SPIFFE ID the snapshot expects. Failures come back as ConnectErrors (flag UF).

import { connect as netConnect, type Socket } from 'node:net';
import { type PeerCertificate, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { Endpoint } from '../../wire/index.ts';
import { isOriginTls, spiffeIdOfCertificate, type UpstreamTls } from '../tls/index.ts';
import { ConnectError, type ConnectFailureKind } from './connect-error.ts';

export interface ConnectOptions {
  endpoint: Endpoint;
  /** Mutual TLS to a peer proxy, or TLS originated to an outside destination; plaintext when undefined. */
  tls: UpstreamTls | undefined;
  connectTimeoutMs: number;
  /** ALPN to offer inside TLS (`http/1.1`, `h2`); none for TCP. */
  alpn?: string[];
  /** The address to connect from (source-address.ts); the kernel's choice when absent. */
  localAddress?: string | undefined;
}

export function connectEndpoint(o: ConnectOptions): Promise<Socket | TLSSocket> {
  const where = `${o.endpoint.address}:${o.endpoint.port}`;
  return new Promise((resolve, reject) => {
    let socket: Socket | TLSSocket;
    const fail = (kind: ConnectFailureKind, reason: string, cause?: unknown) => {
      socket.destroy();
      reject(new ConnectError({ target: where, kind, reason, cause }));
    };
    if (o.tls === undefined) {
      socket = netConnect({
        host: o.endpoint.address,
        port: o.endpoint.port,
        allowHalfOpen: true,
        noDelay: true,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
      });
      socket.once('connect', () => done());
    } else if (isOriginTls(o.tls)) {
      const origin = o.tls;
      socket = tlsConnect({
        host: o.endpoint.address,
        port: o.endpoint.port,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        secureContext: origin.context,
        servername: origin.servername,
        rejectUnauthorized: origin.verify,
        ...(o.alpn === undefined ? {} : { ALPNProtocols: o.alpn }),
        checkServerIdentity: origin.checkServerIdentity,
      });
      socket.once('secureConnect', () => done());
    } else {
      const expected = o.endpoint.spiffeId;
      socket = tlsConnect({
        host: o.endpoint.address,
        port: o.endpoint.port,
        secureContext: o.tls.client,
        minVersion: 'TLSv1.3' as const,
        ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        ...(o.alpn === undefined ? {} : { ALPNProtocols: o.alpn }),
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          const actual = spiffeIdOfCertificate(cert);
          if (actual === expected) return undefined;
          return new Error(`peer is ${actual ?? 'no SPIFFE identity'}, want ${expected}`);
        },
      });
      socket.once('secureConnect', () => done());
    }
    const timer = setTimeout(
      () => fail('timeout', `connect timeout after ${o.connectTimeoutMs}ms`),
      o.connectTimeoutMs,
    );
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const [kind, reason] = describeConnectError(err);
      fail(kind, reason, err);
    };
    socket.once('error', onError);
    const done = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // Requests are written whole; Nagle's algorithm would only hold the last segment back.
      socket.setNoDelay(true);
      resolve(socket);
    };
  });
}

function describeConnectError(err: NodeJS.ErrnoException): [ConnectFailureKind, string] {
  switch (err.code) {
    case 'ECONNREFUSED':
      return ['refused', 'connection refused'];
    case 'ECONNRESET':
      return ['reset', 'connection reset during connect'];
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return ['unreachable', 'host unreachable'];
    default:
      return err.code?.startsWith('ERR_TLS') || err.message.includes('SSL')
        ? ['tls', `TLS: ${err.message}`]
        : ['other', err.message];
  }
}

/** Connections to one endpoint are shared only among requests with the same TLS: none, the peer's SPIFFE ID, or the same origination. */
export function poolKeyOf(tls: UpstreamTls | undefined, endpoint: Endpoint): string {
  if (tls === undefined) return 'plain';
  return isOriginTls(tls) ? `tls ${tls.poolKey}` : endpoint.spiffeId;
}
