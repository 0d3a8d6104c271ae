// Checks that a certificate chain leads to a trusted root and reads the leaf's SPIFFE ID, with
// node:crypto's X509Certificate. The control plane authenticates client certificates with it.

import type { X509Certificate } from 'node:crypto';
import { AlderError, ErrorCode } from '../config/core.ts';
import { parseCertificates } from './pem.ts';

/** Intermediates followed at most, as Envoy's default verify depth is generous but finite. */
const MAX_CHAIN_DEPTH = 8;

export interface VerifiedLeaf {
  /** The leaf's one `spiffe://` URI SAN. */
  spiffeId: string;
  notAfter: Date;
  /** The leaf certificate, for callers that need more of it. */
  leaf: X509Certificate;
}

/**
 * Verifies `chainPem` (leaf first, then intermediates) against the roots of `bundlePem` at `now`.
 * Throws ALDER_CERTIFICATE_INVALID saying which certificate failed and why.
 */
export function verifyLeaf(chainPem: string, bundlePem: string, now: Date = new Date()): VerifiedLeaf {
  const chain = parseCertificates(chainPem, 'chain', ErrorCode.CertificateInvalid);
  const roots = parseCertificates(bundlePem, 'trust bundle', ErrorCode.CertificateInvalid);
  const leaf = chain[0] as X509Certificate;
  if (leaf.ca) throw invalid('the leaf is a CA certificate, not a workload certificate');
  let current = leaf;
  for (let depth = 0; ; depth++) {
    checkTime(current, depth === 0 ? 'the leaf' : `intermediate ${describe(current)}`, now);
    const root = roots.find((r) => issued(r, current));
    if (root !== undefined) {
      checkTime(root, `root ${describe(root)}`, now);
      break;
    }
    if (depth >= MAX_CHAIN_DEPTH) throw invalid(`the chain is longer than ${MAX_CHAIN_DEPTH} intermediates`);
    const parent = chain.find((c) => c !== current && c.ca && issued(c, current));
    if (parent === undefined) {
      throw invalid(`${depth === 0 ? 'the leaf' : describe(current)} was not issued by any trusted root`, {
        hint: 'the certificate comes from another CA, or the trust bundle misses its root',
      });
    }
    current = parent;
  }
  return { spiffeId: spiffeIdOf(leaf), notAfter: leaf.validToDate, leaf };
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function checkTime(cert: X509Certificate, what: string, now: Date): void {
  if (now < cert.validFromDate)
    throw invalid(`${what} is not valid before ${cert.validFromDate.toISOString()}`);
  if (now > cert.validToDate) throw invalid(`${what} expired at ${cert.validToDate.toISOString()}`);
}

function describe(cert: X509Certificate): string {
  return JSON.stringify(cert.subject.replace(/\n/g, ', '));
}

/** The one `spiffe://` URI SAN of a certificate. */
export function spiffeIdOf(cert: X509Certificate): string {
  const uris = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('URI:spiffe://'))
    .map((n) => n.slice('URI:'.length));
  if (uris.length !== 1) {
    throw invalid(`the leaf must carry exactly one spiffe:// URI SAN, got ${uris.length}`);
  }
  return uris[0] as string;
}

function invalid(message: string, options: { hint?: string } = {}): AlderError {
  return new AlderError(ErrorCode.CertificateInvalid, `certificate refused: ${message}`, options);
}
