// Public face of the mesh's TLS material as the proxy holds it: secure contexts and the SPIFFE ID of
// a peer certificate; and the TLS it originates to destinations outside the mesh.

export { loadMeshTls, type MeshTls, spiffeIdOfCertificate } from './mesh-tls.ts';
export { isOriginTls, loadOriginTls, type OriginTls, type UpstreamTls } from './origin-tls.ts';
