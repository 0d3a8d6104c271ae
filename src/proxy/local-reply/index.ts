// Public face of local replies: Envoy's response flags, the one table of reply kinds (status, flag,
// gRPC status), the error that carries a kind, and the reply content every codec writes.

export {
  afterRetries,
  type LocalReply,
  localReply,
  replyContent,
  replyOfError,
} from './local-reply.ts';
export { ProxyError } from './proxy-error.ts';
export { GrpcStatus, grpcStatusOfHttp, Reply, type ReplyKind, withStatus } from './reply-kinds.ts';
export { LOCAL_REPLY_HEADER, ResponseFlag } from './response-flags.ts';
