// Public face of the outbound side: the paths from the local app into the mesh on egress ports and
// through the forward proxy (HTTP/1, HTTP/2, TCP).

export { egressServesH2, serveOutboundH2 } from './serve-outbound-h2.ts';
export { serveOutboundHttp } from './serve-outbound-http.ts';
export { serveOutboundTcp } from './serve-outbound-tcp.ts';
