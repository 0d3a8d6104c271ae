// mTLS between proxies: the secure contexts built once per snapshot from the workload's certificate,
// key and the mesh's trust bundle, and the SPIFFE identity check on each peer.

import { readFileSync } from 'node:fs';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { AlderError, ErrorCode } from '../../config/core.ts';
import type { ProxyTls } from '../../wire/index.ts';

export interface MeshTls {
  /** For inbound listeners: presents our certificate, asks for and verifies the peer's. */
  server: SecureContext;
  /** For upstream connections: presents our certificate, verifies the server's chain. */
  client: SecureContext;
}

export function loadMeshTls(tls: ProxyTls): MeshTls {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new AlderError(
        ErrorCode.SnapshotInvalid,
        `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code}`,
        {
          hint: 'check --cert, --key and --ca',
        },
      );
    }
  };
  const options = {
    cert: read('certificate', tls.certFile),
    key: read('key', tls.keyFile),
    ca: read('trust bundle', tls.caFile),
    minVersion: 'TLSv1.3' as const,
  };
  try {
    return { server: createSecureContext(options), client: createSecureContext(options) };
  } catch (err) {
    throw new AlderError(
      ErrorCode.SnapshotInvalid,
      `cannot use the certificate ${tls.certFile}: ${(err as Error).message}`,
    );
  }
}

/** The peer's SPIFFE ID: the `spiffe://` URI in its certificate's subjectAltName. */
export function spiffeIdOfCertificate(cert: PeerCertificate | undefined): string | undefined {
  const san = cert?.subjectaltname;
  if (san === undefined) return undefined;
  for (const part of san.split(', ')) {
    if (part.startsWith('URI:spiffe://')) return part.slice(4);
  }
  return undefined;
}
