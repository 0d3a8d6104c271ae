// Public face of the HTTP/2 connection manager: server sessions on accepted connections, and each
// stream as the pipeline's downstream (request in, response out, local replies for gRPC callers).

export { H2Downstream, incomingOfStream, type StreamOptions, serveStream } from './h2-downstream.ts';
export { isGrpcRequest, writeH2LocalReply } from './h2-local-reply.ts';
export { type H2Refusal, h2Refusal } from './refuse-h2-request.ts';
export { INBOUND_H2_ALPN, isInboundH2, type OnStream, serveSession } from './serve-session.ts';
