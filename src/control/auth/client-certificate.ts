// Who a verified client certificate on the mesh port stands for: the SPIFFE ID
// `spiffe://<td>/ns/alder-system/sa/admin` is an admin of the API; any other (a proxy's) is a workload.

import type { TLSSocket } from 'node:tls';
import type { Principal } from './api-tokens.ts';

export const ADMIN_SPIFFE_PATH = '/ns/alder-system/sa/admin';

/**
 * The principal of the socket's client certificate, if the TLS handshake verified it against the mesh
 * CA's trust bundle; undefined for plain HTTP, no certificate, or one that did not verify.
 */
export function principalOfCertificate(socket: TLSSocket, trustDomain: string): Principal | undefined {
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const san = socket.getPeerCertificate()?.subjectaltname ?? '';
  const ids = san
    .split(', ')
    .filter((part) => part.startsWith('URI:spiffe://'))
    .map((part) => part.slice(4));
  const [id] = ids;
  if (id === undefined || ids.length !== 1) return undefined;
  return id === `spiffe://${trustDomain}${ADMIN_SPIFFE_PATH}`
    ? { name: id, kind: 'admin' }
    : { name: id, kind: 'workload' };
}
