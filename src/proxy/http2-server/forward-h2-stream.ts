// Forwards one HTTP/2 stream to upstream sessions, try by try: each try opens a stream on a session
// the plan gives, sends what the caller has sent so far (kept for retries up to a limit) and what
// follows, both ways at once (bidirectional gRPC), with backpressure and trailers in each direction.
// Until a response head has gone to the caller, a failed try (connect failure, reset, refused
// stream, a status or grpc-status the retry policy names, a per-try timeout) may be tried again as
// the plan decides; after that, an upstream reset becomes RST_STREAM. Called by serve-h2.ts.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { LocalReply } from '../local-reply/index.ts';
import { ProxyError, ResponseFlag } from '../local-reply/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import { responseHeaders, responseTrailers } from './h2-headers.ts';

const {
  NGHTTP2_CANCEL,
  NGHTTP2_INTERNAL_ERROR,
  NGHTTP2_NO_ERROR,
  NGHTTP2_REFUSED_STREAM,
  NGHTTP2_FLAG_END_STREAM,
} = constants;

/** What the router decides for one HTTP/2 request; the forwarder runs the tries. */
export interface H2Plan {
  /** The request headers to send upstream, pseudo-headers included. */
  headers: OutgoingHttpHeaders;
  /** A session for try `attempt` (0 first); rejects with a ProxyError when it cannot be had. */
  open(attempt: number): Promise<ClientHttp2Session>;
  /** How the current try ended (outlier detection, in-flight counts). */
  report(outcome: TryOutcome): void;
  /** Milliseconds before try `attempt` after `outcome`, or -1 when the outcome is final. */
  retryDelay(outcome: TryOutcome, attempt: number): number;
  /** Request bodies up to this size are kept for retries (0: none). */
  replayLimit: number;
  /** Edits the response headers (route header operations, CORS). */
  editResponse?: (headers: OutgoingHttpHeaders) => OutgoingHttpHeaders;
  /** Fault injection: wait this long before the first try. */
  delayMs: number;
  /** The whole exchange's deadline (0: none). */
  timeoutMs: number;
  /** Each try's deadline until its response head (0: none). */
  perTryTimeoutMs: number;
  /** The stream is over, however it ended: releases what the plan holds. */
  finish(): void;
}

export interface ForwardH2Options {
  downstream: ServerHttp2Stream;
  /** The caller's HEADERS frame ended the stream (a request without a body). */
  isRequestEnded: boolean;
  plan: H2Plan;
  /** Answers the caller with a local reply (and counts it); the stream is the caller's to end. */
  reply: (reply: LocalReply) => void;
}

export function forwardH2Stream(o: ForwardH2Options): void {
  new H2Exchange(o).start();
}

class H2Exchange {
  readonly #down: ServerHttp2Stream;
  readonly #plan: H2Plan;
  readonly #reply: (reply: LocalReply) => void;
  #up: ClientHttp2Stream | undefined;
  #attempt = 0;
  /** Body chunks that came while no upstream stream was open (the caller is paused meanwhile). */
  #pending: Buffer[] = [];
  /** The request body so far, for retries; null once past the plan's replay limit. */
  #body: Buffer[] | null = [];
  #bodyBytes = 0;
  #isRequestEnded: boolean;
  #requestTrailers: IncomingHttpHeaders | undefined;
  #isCommitted = false;
  #isOver = false;
  #waitTimer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  #routeTimer: NodeJS.Timeout | undefined;

  constructor(o: ForwardH2Options) {
    this.#down = o.downstream;
    this.#plan = o.plan;
    this.#reply = o.reply;
    this.#isRequestEnded = o.isRequestEnded;
    if (o.plan.replayLimit === 0) this.#body = null;
  }

  start(): void {
    const down = this.#down;
    down.on('error', () => undefined); // a reset shows as 'close' with rstCode; handled there
    down.on('trailers', (t: IncomingHttpHeaders) => {
      this.#requestTrailers = t;
    });
    down.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
    down.on('end', () => this.#onRequestEnd());
    down.once('close', () => this.#over());
    if (this.#plan.timeoutMs > 0)
      this.#routeTimer = setTimeout(() => this.#onRouteTimeout(), this.#plan.timeoutMs);
    if (this.#plan.delayMs > 0) {
      down.pause();
      this.#waitTimer = setTimeout(() => this.#startTry(), this.#plan.delayMs);
    } else this.#startTry();
  }

  #onRequestData(chunk: Buffer): void {
    this.#bodyBytes += chunk.length;
    if (this.#body !== null) {
      if (this.#bodyBytes <= this.#plan.replayLimit) this.#body.push(chunk);
      else this.#body = null;
    }
    const up = this.#up;
    if (up === undefined) {
      // Before the first try is up, or between tries: hold the caller until a stream is open.
      this.#down.pause();
      if (this.#attempt === 0) this.#pending.push(chunk);
      else if (this.#body === null) this.#fail(this.#lostBody());
      return;
    }
    if (!up.write(chunk)) {
      this.#down.pause();
      up.once('drain', () => this.#down.resume());
    }
  }

  #onRequestEnd(): void {
    this.#isRequestEnded = true;
    const up = this.#up;
    if (up !== undefined && !up.closed) up.end();
    this.#startTryTimer();
  }

  #startTry(): void {
    this.#waitTimer = undefined;
    if (this.#isOver) return;
    const attempt = this.#attempt;
    this.#plan.open(attempt).then(
      (session) => {
        if (this.#isOver || attempt !== this.#attempt) return;
        this.#openStream(session);
      },
      (err: unknown) => {
        if (this.#isOver || attempt !== this.#attempt) return;
        const reply =
          err instanceof ProxyError
            ? { status: err.status, flag: err.flag, message: err.message }
            : { status: 503, flag: ResponseFlag.UpstreamConnectionFailure, message: String(err) };
        const outcome: TryOutcome | undefined =
          reply.flag === ResponseFlag.UpstreamConnectionFailure ? { kind: 'connect-failure' } : undefined;
        if (outcome === undefined || !this.#retry(outcome)) this.#fail(reply);
      },
    );
  }

  #openStream(session: ClientHttp2Session): void {
    const hasBody = this.#bodyBytes > 0 || !this.#isRequestEnded || this.#requestTrailers !== undefined;
    let up: ClientHttp2Stream;
    try {
      up = session.request(this.#plan.headers, { endStream: !hasBody, waitForTrailers: hasBody });
    } catch (err) {
      if (!this.#retry({ kind: 'refused-stream' })) {
        this.#fail({
          status: 503,
          flag: ResponseFlag.UpstreamConnectionTermination,
          message: `upstream session refused the stream: ${(err as Error).message}`,
        });
      }
      return;
    }
    this.#up = up;
    up.on('error', () => undefined); // seen as 'close' with rstCode below
    if (hasBody) {
      up.on('wantTrailers', () => up.sendTrailers(responseHeaders(this.#requestTrailers ?? {})));
      for (const chunk of this.#attempt === 0 ? this.#pending : (this.#body ?? [])) up.write(chunk);
      this.#pending = [];
      if (this.#isRequestEnded) up.end();
      else this.#down.resume();
    }
    if (this.#isRequestEnded) this.#startTryTimer();
    up.on('response', (headers: IncomingHttpHeaders, flags: number) => this.#onResponse(up, headers, flags));
    up.once('close', () => this.#onUpstreamClose(up));
  }

  #onResponse(up: ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
    if (up !== this.#up) return;
    const down = this.#down;
    if (down.closed || down.destroyed) {
      up.close(NGHTTP2_CANCEL);
      return;
    }
    const status = Number(headers[':status']);
    const grpc = headers['grpc-status'];
    const outcome: TryOutcome =
      grpc === undefined
        ? { kind: 'response', status }
        : { kind: 'response', status, grpcStatus: Number(grpc) };
    if (this.#retry(outcome)) {
      this.#up = undefined;
      up.close(NGHTTP2_CANCEL);
      return;
    }
    clearTimeout(this.#tryTimer);
    this.#isCommitted = true;
    const isEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const out = responseHeaders(headers);
    const edit = this.#plan.editResponse;
    // A Trailers-Only response (gRPC errors) stays one HEADERS frame that ends the stream.
    down.respond(edit === undefined ? out : edit(out), { endStream: isEnded, waitForTrailers: !isEnded });
    if (isEnded) return;
    let trailers: IncomingHttpHeaders | undefined;
    up.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    down.on('wantTrailers', () => down.sendTrailers(responseTrailers(trailers ?? {})));
    up.pipe(down);
  }

  #onUpstreamClose(up: ClientHttp2Stream): void {
    if (up !== this.#up || this.#isOver) return;
    const down = this.#down;
    const code = up.rstCode ?? NGHTTP2_INTERNAL_ERROR;
    if (this.#isCommitted) {
      // The response went out; a clean end is the stream's end, a reset is passed on.
      if (code !== NGHTTP2_NO_ERROR && !down.closed) down.close(code);
      return;
    }
    this.#up = undefined;
    const outcome: TryOutcome =
      code === NGHTTP2_REFUSED_STREAM ? { kind: 'refused-stream' } : { kind: 'reset', beforeResponse: true };
    if (this.#retry(outcome)) return;
    this.#fail({
      status: 503,
      flag: ResponseFlag.UpstreamConnectionTermination,
      message: `upstream reset the stream before the response headers (HTTP/2 error code ${code})`,
    });
  }

  /** Reports a failed try and, when the plan allows another (and the request can be sent again), schedules it. */
  #retry(outcome: TryOutcome): boolean {
    this.#plan.report(outcome);
    if (this.#isCommitted || this.#isOver) return false;
    if (this.#body === null && this.#bodyBytes > 0) return false;
    const delay = this.#plan.retryDelay(outcome, this.#attempt + 1);
    if (delay < 0) return false;
    this.#attempt++;
    clearTimeout(this.#tryTimer);
    this.#down.pause();
    this.#waitTimer = setTimeout(() => this.#startTry(), delay);
    return true;
  }

  #startTryTimer(): void {
    if (this.#plan.perTryTimeoutMs <= 0 || this.#up === undefined || this.#isCommitted) return;
    clearTimeout(this.#tryTimer);
    this.#tryTimer = setTimeout(() => this.#onTryTimeout(), this.#plan.perTryTimeoutMs);
  }

  #onTryTimeout(): void {
    const up = this.#up;
    if (up === undefined || this.#isCommitted) return;
    this.#up = undefined;
    up.close(NGHTTP2_CANCEL);
    if (this.#retry({ kind: 'timeout' })) return;
    this.#fail({
      status: 504,
      flag: ResponseFlag.UpstreamRequestTimeout,
      message: `upstream request timeout: no response within the per-try timeout of ${this.#plan.perTryTimeoutMs} ms`,
    });
  }

  #onRouteTimeout(): void {
    this.#routeTimer = undefined;
    if (this.#isOver) return;
    this.#plan.report({ kind: 'timeout' });
    const up = this.#up;
    this.#up = undefined;
    if (up !== undefined && !up.closed) up.close(NGHTTP2_CANCEL);
    if (this.#isCommitted) {
      if (!this.#down.closed) this.#down.close(NGHTTP2_CANCEL);
      return;
    }
    this.#fail({
      status: 504,
      flag: ResponseFlag.UpstreamRequestTimeout,
      message: `upstream request timeout: no complete response within the route timeout of ${this.#plan.timeoutMs} ms`,
    });
  }

  #lostBody(): LocalReply {
    return {
      status: 503,
      flag: ResponseFlag.UpstreamConnectionTermination,
      message: `the upstream failed while the request body was streaming, and a body over ${this.#plan.replayLimit} bytes cannot be sent again`,
    };
  }

  /** Answers with a local reply (with URX after retries); the exchange is over. */
  #fail(reply: LocalReply): void {
    const final = this.#attempt === 0 ? reply : { ...reply, flag: `${reply.flag},URX` };
    this.#clearTimers();
    this.#reply(final);
  }

  #clearTimers(): void {
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#tryTimer);
    clearTimeout(this.#routeTimer);
  }

  #over(): void {
    if (this.#isOver) return;
    this.#isOver = true;
    this.#clearTimers();
    const up = this.#up;
    if (up !== undefined && !up.closed) up.close(NGHTTP2_CANCEL);
    this.#plan.finish();
  }
}
