// Public face of the HTTP/2 connection manager: server sessions on accepted connections, the stream
// forwarder, and the conversions between HTTP/2 header objects and the proxy's flat header lists.

export { forwardH2Stream } from './forward-h2-stream.ts';
export {
  inboundRequestHeaders,
  outboundRequestHeaders,
  responseHeaders,
  responseTrailers,
  withoutMeshH2Headers,
} from './h2-headers.ts';
export { isGrpcRequest, writeH2LocalReply } from './h2-local-reply.ts';
export { h2Refusal, refuseH2Request } from './refuse-h2-request.ts';
export {
  editHeaders,
  flatHeaders,
  INBOUND_H2_ALPN,
  isH2Protocol,
  isInboundH2,
  replier,
  serveSession,
} from './serve-h2.ts';
