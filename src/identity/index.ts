// Public face of workload identity: SPIFFE IDs, keys and CSRs (for proxies), the mesh CA and trust
// bundles (for the control plane), and chain verification (for both).

export { writeFileAtomic } from './atomic-file.ts';
export {
  CertificateAuthority,
  type CertificateAuthorityOptions,
  DEFAULT_SERVER_TTL_MS,
  DEFAULT_WORKLOAD_TTL_MS,
  type IssuedCertificate,
  type IssuedServerCertificate,
} from './certificate-authority.ts';
export { type CsrContents, createCsr, createKeyAndCsr, type KeyAndCsr, readCsr } from './csr.ts';
export { formatJoinToken, type ParsedJoinToken, parseJoinToken } from './join-token-format.ts';
export { generateKeyPair, type KeyPairPem } from './keys.ts';
export { parseCertificates, pemBlocks } from './pem.ts';
export {
  checkWorkloadIdentity,
  parseSpiffeId,
  type SpiffeId,
  type WorkloadIdentity,
  workloadSpiffeId,
} from './spiffe-id.ts';
export { spiffeIdOf, type VerifiedLeaf, verifyLeaf } from './verify.ts';
