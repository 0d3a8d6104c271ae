// Public face of the mesh's TLS material as the proxy holds it: secure contexts and the SPIFFE ID of
// a peer certificate.

export { loadMeshTls, type MeshTls, spiffeIdOfCertificate } from './mesh-tls.ts';
