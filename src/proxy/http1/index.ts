// The proxy's strict HTTP/1.1 codec: parsers for requests (from clients) and responses (from upstream
// apps), head and chunk writers, hop-by-hop stripping, the method table, and the table of rejection
// reasons. No I/O here; the listeners and connection manager own sockets, timeouts and replies.

export { CHUNK_END, chunkHeader, encodeChunk, LAST_CHUNK, lastChunk } from './chunk-writer.ts';
export { type Http1Rejection, REJECTIONS, type RejectReason } from './errors.ts';
export { serializeRequestHead, serializeResponseHead } from './head-writer.ts';
export { isFramingLookalike } from './header-names.ts';
export { stripHopByHop } from './hop-by-hop.ts';
export {
  DEFAULT_HTTP1_LIMITS,
  type Http1Limits,
  type Http1LimitsSource,
  http1Limits,
  type UnderscoreAction,
} from './limits.ts';
export { isMeshHeader, MESH_HEADER_PREFIX, withoutMeshHeaders } from './mesh-headers.ts';
export { DEFAULT_METHODS, methodRefusal, methodSet, REGISTERED_METHODS } from './methods.ts';
export { type RequestHead, RequestParser, type RequestParserCallbacks } from './request-parser.ts';
export { type ResponseHead, ResponseParser, type ResponseParserCallbacks } from './response-parser.ts';
export type { TargetForm } from './target.ts';
export { isWebSocket, newWebSocketKey, webSocketAccept } from './websocket-handshake.ts';
