// Replies the proxy makes itself on an HTTP/2 stream. gRPC callers get what Envoy sends them: 200 with
// grpc-status (mapped from the HTTP status, so UH/UF/NR are 14 UNAVAILABLE) and the reason in
// grpc-message; plain HTTP/2 callers get the HTTP/1 local reply's status and body. Both carry the flag.

import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { grpcStatusOfHttp, LOCAL_REPLY_HEADER, type LocalReply, replyContent } from '../local-reply/index.ts';

export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  return headers['content-type']?.startsWith('application/grpc') === true;
}

/** Writes the reply if the response has not started; otherwise resets the stream (INTERNAL_ERROR). */
export function writeH2LocalReply(stream: ServerHttp2Stream, reply: LocalReply, isGrpc: boolean): void {
  if (stream.closed || stream.destroyed) return;
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  // An error reply, or a configured one that names its gRPC status (RBAC's PERMISSION_DENIED).
  if (isGrpc && (reply.flag !== '' || reply.grpcStatus !== undefined)) {
    // Trailers-Only: one HEADERS frame that ends the stream, as gRPC servers answer an error.
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc',
        'grpc-status': String(reply.grpcStatus ?? grpcStatusOfHttp(reply.status)),
        'grpc-message': encodeGrpcMessage(reply.message),
        ...(reply.flag === '' ? {} : { [LOCAL_REPLY_HEADER]: reply.flag }),
      },
      { endStream: true },
    );
    return;
  }
  const { body, headers } = replyContent(reply);
  const out: Record<string, string | number> = { ':status': reply.status, 'content-length': body.length };
  for (let k = 0; k < headers.length; k += 2) out[headers[k] as string] = headers[k + 1] as string;
  stream.respond(out);
  stream.end(body);
}

/** grpc-message is percent-encoded UTF-8: bytes outside printable ASCII, and '%' itself (gRPC's PROTOCOL-HTTP2.md). */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
