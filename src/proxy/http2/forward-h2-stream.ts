// Forwards one HTTP/2 stream to an upstream session as streams, both ways at once (bidirectional
// gRPC): bodies piped with backpressure, trailers passed on in each direction, resets mapped to
// RST_STREAM, or to a local reply while no response header has gone out. Called by serve-h2.ts.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { LocalReply } from '../http/local-reply.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import { responseHeaders } from './h2-headers.ts';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

export interface ForwardH2Options {
  downstream: ServerHttp2Stream;
  /** The request headers to send upstream, pseudo-headers included. */
  headers: OutgoingHttpHeaders;
  /** The caller's HEADERS frame ended the stream (a request without a body). */
  isRequestEnded: boolean;
  /** The upstream session; rejects with a ProxyError when it cannot be had. */
  session: Promise<ClientHttp2Session>;
  /** Answers the caller with a local reply (and counts it); the stream is the caller's to end. */
  reply: (reply: LocalReply) => void;
  /** Edits the response headers (route header operations, CORS). */
  editResponse?: (headers: OutgoingHttpHeaders) => OutgoingHttpHeaders;
  /** How the upstream answered: its status, or undefined when it failed (outlier detection). */
  onOutcome?: (status: number | undefined) => void;
  /** The stream is over, however it ended (releases circuit-breaker slots, in-flight counts). */
  onDone?: () => void;
  /** The route's deadline for the whole exchange (0 or absent: none). */
  timeoutMs?: number;
}

export function forwardH2Stream(o: ForwardH2Options): void {
  const down = o.downstream;
  let up: ClientHttp2Stream | undefined;
  let requestTrailers: IncomingHttpHeaders | undefined;
  down.on('error', () => undefined); // a reset shows as 'close' with rstCode; handled there
  down.on('trailers', (t: IncomingHttpHeaders) => {
    requestTrailers = t;
  });
  let timer: NodeJS.Timeout | undefined;
  if (o.timeoutMs !== undefined && o.timeoutMs > 0) {
    const ms = o.timeoutMs;
    timer = setTimeout(() => {
      o.onOutcome?.(undefined);
      if (up !== undefined && !up.closed) up.close(NGHTTP2_CANCEL);
      if (!down.headersSent) {
        o.reply({
          status: 504,
          flag: ResponseFlag.UpstreamRequestTimeout,
          message: `upstream request timeout: no complete response within the route timeout of ${ms} ms`,
        });
      } else if (!down.closed) down.close(NGHTTP2_CANCEL);
    }, ms);
  }
  down.once('close', () => {
    clearTimeout(timer);
    o.onDone?.();
    if (up !== undefined && !up.closed) up.close(NGHTTP2_CANCEL);
  });
  o.session.then(
    (session) => {
      if (down.closed || down.destroyed) return;
      try {
        up = session.request(o.headers, { endStream: o.isRequestEnded, waitForTrailers: !o.isRequestEnded });
      } catch (err) {
        o.reply({
          status: 503,
          flag: ResponseFlag.UpstreamConnectionTermination,
          message: `upstream session refused the stream: ${(err as Error).message}`,
        });
        return;
      }
      relay(down, up, o, () => requestTrailers);
    },
    (err: unknown) => {
      o.onOutcome?.(undefined);
      if (err instanceof ProxyError) o.reply({ status: err.status, flag: err.flag, message: err.message });
      else o.reply({ status: 503, flag: ResponseFlag.UpstreamConnectionFailure, message: String(err) });
    },
  );
}

function relay(
  down: ServerHttp2Stream,
  up: ClientHttp2Stream,
  o: ForwardH2Options,
  requestTrailers: () => IncomingHttpHeaders | undefined,
): void {
  let responseTrailers: IncomingHttpHeaders | undefined;
  let isResponseEnded = false;
  up.on('error', () => undefined); // seen as 'close' with rstCode below
  if (!o.isRequestEnded) {
    up.on('wantTrailers', () => up.sendTrailers(responseHeaders(requestTrailers() ?? {})));
    down.pipe(up);
  }
  up.on('response', (headers: IncomingHttpHeaders, flags: number) => {
    if (down.closed || down.destroyed) {
      up.close(NGHTTP2_CANCEL);
      return;
    }
    const isEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    o.onOutcome?.(Number(headers[':status']));
    const out = responseHeaders(headers);
    // A Trailers-Only response (gRPC errors) stays one HEADERS frame that ends the stream.
    down.respond(o.editResponse === undefined ? out : o.editResponse(out), {
      endStream: isEnded,
      waitForTrailers: !isEnded,
    });
    if (isEnded) {
      isResponseEnded = true;
      return;
    }
    up.on('trailers', (t: IncomingHttpHeaders) => {
      responseTrailers = t;
    });
    down.on('wantTrailers', () => down.sendTrailers(responseHeaders(responseTrailers ?? {})));
    up.once('end', () => {
      isResponseEnded = true;
    });
    up.pipe(down);
  });
  up.once('close', () => {
    if (isResponseEnded && up.rstCode === NGHTTP2_NO_ERROR) return;
    if (down.closed || down.destroyed) return;
    const code = up.rstCode ?? NGHTTP2_INTERNAL_ERROR;
    if (!down.headersSent) {
      o.onOutcome?.(undefined);
      o.reply({
        status: 503,
        flag: ResponseFlag.UpstreamConnectionTermination,
        message: `upstream reset the stream before the response headers (HTTP/2 error code ${code})`,
      });
      return;
    }
    if (!isResponseEnded) down.close(code === NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : code);
  });
}
