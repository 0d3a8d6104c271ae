// The mTLS of the hop, as src/proxy/tls/mesh-tls.ts and src/proxy/upstream/connect.ts set it up: TLS 1.3,
// client certificates, each side checking the other's SPIFFE ID. No session resumption anywhere, so
// every new connection is a full handshake.

import { readFileSync } from 'node:fs';
import {
  connect,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import type { WorkloadTls } from './protocol.ts';

/** Certificate, key and trust bundle as TLS options (a tls.Server takes these, not a SecureContext). */
export function tlsOptionsOf(tls: WorkloadTls) {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ca: readFileSync(tls.caFile),
    minVersion: 'TLSv1.3' as const,
  };
}

export function secureContextOf(tls: WorkloadTls): SecureContext {
  return createSecureContext(tlsOptionsOf(tls));
}

/** The `spiffe://` URI SAN of a peer certificate. */
export function spiffeIdOf(cert: PeerCertificate | undefined): string | undefined {
  for (const part of cert?.subjectaltname?.split(', ') ?? []) {
    if (part.startsWith('URI:spiffe://')) return part.slice(4);
  }
  return undefined;
}

export interface ConnectOptions {
  port: number;
  context: SecureContext;
  peerSpiffeId: string;
  alpn: 'http/1.1' | 'h2';
}

/** A TLS 1.3 connection to 127.0.0.1:port that presents our certificate and checks the server's ID. */
export function connectMtls(o: ConnectOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: o.port,
      secureContext: o.context,
      minVersion: 'TLSv1.3',
      ALPNProtocols: [o.alpn],
      checkServerIdentity: (_host, cert) => {
        const actual = spiffeIdOf(cert);
        return actual === o.peerSpiffeId ? undefined : new Error(`peer is ${actual}, want ${o.peerSpiffeId}`);
      },
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      if (socket.alpnProtocol !== o.alpn) {
        socket.destroy();
        reject(new Error(`127.0.0.1:${o.port}: ALPN ${String(socket.alpnProtocol)}, want ${o.alpn}`));
        return;
      }
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}
