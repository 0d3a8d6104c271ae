// Public face of the inbound side: the mTLS gate, the HBONE tunnel listener, and the paths from a
// peer proxy to the local app (HTTP/1, HTTP/2, TCP).

export { acceptMesh } from './accept-mesh.ts';
export { serveInboundH2 } from './serve-inbound-h2.ts';
export { serveInboundHttp } from './serve-inbound-http.ts';
export { serveInboundTcp } from './serve-inbound-tcp.ts';
export { serveTunnel } from './tunnel.ts';
