// Bookinfo's ratings as a gRPC service over HTTP/2 cleartext: bookinfo.Ratings/GetRatings answers the
// two reviewers' stars for a product, read from the kv store over TCP (ALDER_UPSTREAM_KV_6379,
// default 127.0.0.1:6379). A store it cannot reach is UNAVAILABLE; an unknown method UNIMPLEMENTED.
// Run: node src/demo/apps/ratings.ts (PORT, default 9080; ALDER_APP_ADDRESS, default 127.0.0.1).

import { createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { exitOnFatalError, listen, stopOnSignal } from './app-server.ts';
import { CallError } from './call-error.ts';
import {
  decodeInt32Fields,
  deframer,
  encodeGrpcMessage,
  encodeInt32Fields,
  frameMessage,
  GRPC_STATUS,
  GrpcError,
  parseGrpcTimeout,
} from './grpc-wire.ts';
import { h2ServerPart } from './h2-sessions.ts';
import { KvClient } from './kv-client.ts';
import { errorMessage, logLine } from './log.ts';
import { parseHostPort } from './mesh-client.ts';

const NAME = 'ratings';
exitOnFatalError(NAME);
const GET_RATINGS = '/bookinfo.Ratings/GetRatings';
/** The longest a call may take when the caller sends no grpc-timeout. */
const DEFAULT_DEADLINE_MS = 5_000;
const KV_TIMEOUT_MS = 1_000;

const kvVariable = 'ALDER_UPSTREAM_KV_6379';
const kv = new KvClient(parseHostPort(process.env[kvVariable] || '127.0.0.1:6379', kvVariable));

/** GetRatings: {productId: int32 = 1} → {reviewer1: int32 = 1, reviewer2: int32 = 2}. */
async function getRatings(request: Buffer, timeoutMs: number): Promise<Buffer> {
  const productId = decodeInt32Fields(request).get(1) ?? 0;
  const keys = [`ratings:${productId}:reviewer1`, `ratings:${productId}:reviewer2`];
  const timeout = Math.min(KV_TIMEOUT_MS, timeoutMs);
  let values: unknown[];
  try {
    values = await Promise.all(keys.map((k) => kv.command(['GET', k], timeout)));
  } catch (e) {
    const code =
      e instanceof CallError && e.code === 'KV_ERROR' ? GRPC_STATUS.INTERNAL : GRPC_STATUS.UNAVAILABLE;
    throw new GrpcError(code, errorMessage(e));
  }
  if (values.every((v) => v === null)) {
    throw new GrpcError(GRPC_STATUS.NOT_FOUND, `no ratings for product ${productId}`);
  }
  const stars = values.map((v, i) => {
    const n = Buffer.isBuffer(v) ? Number(v.toString()) : 0;
    if (!Number.isInteger(n) || n < 0 || n > 5) {
      throw new GrpcError(
        GRPC_STATUS.INTERNAL,
        `${keys[i]} holds ${JSON.stringify(String(v))}, not 0 to 5 stars`,
      );
    }
    return n;
  });
  return encodeInt32Fields(
    new Map([
      [1, stars[0] as number],
      [2, stars[1] as number],
    ]),
  );
}

async function serveStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
  const path = headers[':path'] ?? '';
  if (headers[':method'] === 'GET' && path === '/health') {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('ok\n');
    return;
  }
  if (!String(headers['content-type'] ?? '').startsWith('application/grpc')) {
    stream.respond({ ':status': 415, 'content-type': 'text/plain' });
    stream.end('want content-type application/grpc\n');
    return;
  }
  if (path !== GET_RATINGS) {
    throw new GrpcError(GRPC_STATUS.UNIMPLEMENTED, `unknown method ${path}: this server has ${GET_RATINGS}`);
  }
  const deadlineMs = Math.min(
    parseGrpcTimeout(headers['grpc-timeout'] as string | undefined) ?? DEFAULT_DEADLINE_MS,
    DEFAULT_DEADLINE_MS,
  );
  const started = Date.now();
  const request = await readRequest(stream, deadlineMs);
  const reply = await getRatings(request, deadlineMs - (Date.now() - started));
  if (stream.closed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frameMessage(reply));
}

/** The call's one request message, within the deadline. */
function readRequest(stream: ServerHttp2Stream, deadlineMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let message: Buffer | undefined;
    const timer = setTimeout(
      () => reject(new GrpcError(GRPC_STATUS.DEADLINE_EXCEEDED, 'request not received before the deadline')),
      deadlineMs,
    );
    const onData = deframer((m) => {
      message ??= Buffer.from(m);
    });
    stream.on('data', (chunk: Buffer) => {
      try {
        onData(chunk);
      } catch (e) {
        clearTimeout(timer);
        reject(e);
      }
    });
    stream.once('end', () => {
      clearTimeout(timer);
      if (message === undefined) reject(new GrpcError(GRPC_STATUS.INTERNAL, 'no request message'));
      else resolve(message);
    });
    stream.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** A trailers-only answer: the status in the headers, no body. */
function answerError(stream: ServerHttp2Stream, error: unknown): void {
  const code = error instanceof GrpcError ? error.code : GRPC_STATUS.INTERNAL;
  const message = errorMessage(error);
  logLine(NAME, 'error', 'call failed', { grpcStatus: code, error: message });
  if (stream.closed || stream.headersSent) {
    stream.close();
    return;
  }
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeGrpcMessage(message),
    },
    { endStream: true },
  );
}

const server = createServer({ settings: { maxConcurrentStreams: 256 } });
server.on('stream', (stream, headers) => {
  stream.on('error', () => {}); // a reset by the caller ends the call; nothing to answer
  serveStream(stream, headers).catch((e: unknown) => answerError(stream, e));
});
server.on('sessionError', () => {});
const sessions = h2ServerPart(server);
await listen(server, NAME, 9080);
stopOnSignal(NAME, [sessions, { drain: () => kv.close(), destroy: () => kv.destroy() }]);
