// gRPC on the wire, by hand, for black-box tests: 5-byte length-prefixed messages, calls that
// collect the reply's headers, messages and trailers, plain HTTP/2 requests, and a deadline so a
// broken proxy fails a test instead of hanging it. No gRPC library is involved.

import type {
  ClientHttp2Session,
  ClientHttp2Stream,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
} from 'node:http2';

/** Fails with `what` unless `p` settles within `ms`: a broken proxy fails the test, never hangs it. */
export function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function frame(message: string): Buffer {
  const body = Buffer.from(message);
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

/** Splits length-prefixed gRPC messages out of a byte stream, calling `onMessage` for each whole one. */
export function deframer(onMessage: (m: string) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      onMessage(pending.subarray(5, 5 + length).toString());
      pending = pending.subarray(5 + length);
    }
  };
}

export interface GrpcResult {
  headers: IncomingHttpHeaders;
  messages: string[];
  trailers: IncomingHttpHeaders;
}

/** Opens a gRPC call's stream (POST, application/grpc, te: trailers, then `metadata`); the caller writes the messages. */
export function grpcStream(
  session: ClientHttp2Session,
  authority: string,
  path: string,
  metadata: OutgoingHttpHeaders = {},
): ClientHttp2Stream {
  return session.request({
    ':method': 'POST',
    ':path': path,
    ':authority': authority,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...metadata,
  });
}

/** A unary (or client-streaming) call: sends `messages`, collects the reply's messages and trailers. */
export function grpcCall(session: ClientHttp2Session, authority: string, path: string, messages: string[]) {
  const stream = grpcStream(session, authority, path);
  for (const m of messages) stream.write(frame(m));
  stream.end();
  return grpcResult(stream);
}

export function grpcResult(stream: ClientHttp2Stream, onMessage?: (m: string) => void): Promise<GrpcResult> {
  const result: GrpcResult = { headers: {}, messages: [], trailers: {} };
  stream.on('response', (h) => {
    result.headers = h;
  });
  stream.on('trailers', (t) => {
    result.trailers = t;
  });
  stream.on(
    'data',
    deframer((m) => {
      result.messages.push(m);
      onMessage?.(m);
    }),
  );
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('close', () => resolve(result));
  });
}

/** A plain HTTP/2 request: status, headers and the body as text. */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer) {
  const stream = session.request(headers, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  let text = '';
  let response: IncomingHttpHeaders = {};
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    text += d;
  });
  stream.on('response', (h) => {
    response = h;
  });
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('close', () => resolve({ status: Number(response[':status']), headers: response, body: text }));
  });
}
