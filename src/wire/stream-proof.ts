// The proof a workload gives on a stream opened with another workload's certificate (a node proxy's
// one stream): its key signs the TLS connection's exported keying material (RFC 8446 §7.5), which
// both ends compute alike and no other connection shares, so a proof cannot be replayed elsewhere.
// The node proxy signs; the control plane checks the signature here and the chain against its CA.

import { createPrivateKey, type KeyObject, sign, verify } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** The exporter label: keying material for this use only. */
export const STREAM_PROOF_LABEL = 'EXPORTER-alder-stream-proof';
const MATERIAL_BYTES = 32;

/** What a proof on this connection signs: the same at both ends of one TLS 1.3 connection. */
export function streamProofMaterial(socket: TLSSocket): Buffer {
  return socket.exportKeyingMaterial(MATERIAL_BYTES, STREAM_PROOF_LABEL, Buffer.alloc(0));
}

/** The base64 signature of `material` by the workload's private key (PEM: EC, RSA or Ed25519). */
export function signStreamProof(keyPem: string, material: Buffer): string {
  const key = createPrivateKey(keyPem);
  return sign(digestFor(key), material, key).toString('base64');
}

/** True when `signature` (base64) is `publicKey`'s over `material`. */
export function isStreamProofSigned(publicKey: KeyObject, material: Buffer, signature: string): boolean {
  try {
    return verify(digestFor(publicKey), material, publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** SHA-256 for EC and RSA (PKCS#1 v1.5, node:crypto's default); none for Ed25519 and Ed448. */
function digestFor(key: KeyObject): string | null {
  const type = key.asymmetricKeyType;
  return type === 'ed25519' || type === 'ed448' ? null : 'sha256';
}
