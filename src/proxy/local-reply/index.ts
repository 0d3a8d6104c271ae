// Public face of local replies: Envoy's response flags, the error that carries one, and the one
// table every reply the proxy makes itself goes through.

export { type LocalReply, replyContent } from './local-reply.ts';
export { ProxyError } from './proxy-error.ts';
export { LOCAL_REPLY_HEADER, ResponseFlag } from './response-flags.ts';
