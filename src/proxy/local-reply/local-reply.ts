// Replies the proxy makes itself. An error reply carries its response flag in a header and a reason
// in plain words, so a user tells at a glance that the mesh answered, not the app, and why. A reply
// the config asked for (directResponse, redirect, a CORS preflight) has no flag and says what the
// config says.

import { ProxyError } from './proxy-error.ts';
import { Reply, type ReplyKind } from './reply-kinds.ts';
import { LOCAL_REPLY_HEADER } from './response-flags.ts';

export interface LocalReply {
  status: number;
  /** Envoy's response flag; '' for a reply the config asked for. */
  flag: string;
  /** Why, in words: the body of an error reply, and the log line's reason. */
  message: string;
  /**
   * A configured reply's own headers (lower-case names, flat pairs) and body, instead of the message;
   * on an error reply, headers it must carry besides (a 407's proxy-authenticate).
   */
  headers?: string[];
  body?: Buffer;
  /** A gRPC status to answer gRPC callers with (an abort fault's grpcStatus), instead of one mapped from `status`. */
  grpcStatus?: number;
}

/** The body and headers a reply goes out with (framing aside). */
export function replyContent(reply: LocalReply): { body: Buffer; headers: string[] } {
  if (reply.flag === '') {
    const body = reply.body ?? Buffer.alloc(0);
    const headers = [...(reply.headers ?? [])];
    if (body.length > 0 && !headers.includes('content-type')) headers.push('content-type', 'text/plain');
    return { body, headers };
  }
  return {
    body: Buffer.from(`${reply.message}\n`),
    headers: [
      'content-type',
      'text/plain; charset=utf-8',
      LOCAL_REPLY_HEADER,
      reply.flag,
      ...(reply.headers ?? []),
    ],
  };
}

/** The error reply of a kind from the table, with its reason in words. */
export function localReply(kind: ReplyKind, message: string): LocalReply {
  return { status: kind.status, flag: kind.flag, message, grpcStatus: kind.grpcStatus };
}

/** The reply for a failure: a ProxyError's own kind, or a connect failure for anything else. */
export function replyOfError(err: unknown): LocalReply {
  if (err instanceof ProxyError) return localReply(err.kind, err.message);
  return localReply(Reply.ConnectFailure, `upstream connect error: ${(err as Error).message}`);
}

/** A reply after retries says so: Envoy's URX beside the final try's flag. */
export function afterRetries(reply: LocalReply): LocalReply {
  return { ...reply, flag: `${reply.flag},URX` };
}
