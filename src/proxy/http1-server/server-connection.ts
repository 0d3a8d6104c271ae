// The HTTP/1.1 connection manager for one downstream connection: parses requests strictly, one at a
// time, asks the router where each goes, streams it to a pooled upstream connection and streams the
// response back, with backpressure both ways. Refused requests never reach an upstream; a defect
// found after a request was forwarded aborts that upstream connection, so the app never sees a
// complete request.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  encodeChunk,
  type Http1LimitsSource,
  type Http1Rejection,
  LAST_CHUNK,
  lastChunk,
  type RequestHead,
  RequestParser,
  type ResponseHead,
  serializeRequestHead,
  serializeResponseHead,
  stripHopByHop,
  withoutMeshHeaders,
} from '../http1/index.ts';
import { relay } from '../l4/index.ts';
import { type LocalReply, ProxyError, ResponseFlag } from '../local-reply/index.ts';
import type { ForwardPlan, RouteDecision } from '../router/index.ts';
import type { TryOutcome } from '../routing/index.ts';
import type { UpstreamConnection } from '../upstream/index.ts';
import { writeLocalReply } from './write-local-reply.ts';

export interface ConnectionHooks {
  /** Parser limits for this connection, or their source per request (defaults when absent). */
  limits?: Http1LimitsSource;
  route(head: RequestHead): RouteDecision;
  /** Counts a refused request by its rejection reason. */
  onRejected(rejection: Http1Rejection): void;
  onLocalReply(reply: LocalReply): void;
}

/** Idle keep-alive connections from clients close after this long. */
const DOWNSTREAM_IDLE_MS = 60_000;

export class Http1ServerConnection {
  readonly #socket: Socket;
  readonly #hooks: ConnectionHooks;
  readonly #parser: RequestParser;
  #buf: Buffer | undefined;
  #offset = 0;
  #isHeld = false;
  #isDriving = false;
  /** The client finished sending; acted on once what it sent before is parsed. */
  #isEof = false;
  // The exchange in progress.
  #head: RequestHead | undefined;
  #upstream: UpstreamConnection | undefined;
  #plan: ForwardPlan | undefined;
  /** 0 for the first try, then one more per retry. */
  #attempt = 0;
  /** The request body sent so far, kept for retries; null once it outgrew the plan's replay limit. */
  #sentBody: Buffer[] | null = [];
  #sentBytes = 0;
  #trailers: string[] | null = null;
  /** The pending fault delay or retry back-off, the try's deadline, the request's deadline. */
  #waitTimer: NodeJS.Timeout | undefined;
  #tryTimer: NodeJS.Timeout | undefined;
  #routeTimer: NodeJS.Timeout | undefined;
  #isRequestDone = false;
  #isResponseDone = false;
  #isResponseStarted = false;
  #isRechunking = false;
  /** The upstream's last head was a 1xx: its end is not the response's end. */
  #isInterim = false;
  #isKeepAlive = true;
  #isUpstreamReusable = false;

  constructor(socket: Socket, hooks: ConnectionHooks) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#parser = new RequestParser(
      {
        onHead: (h) => this.#onRequestHead(h),
        onBody: (b) => this.#onRequestBody(b),
        onEnd: (t) => this.#onRequestEnd(t),
        onError: (e) => this.#onRequestError(e),
      },
      hooks.limits,
    );
    socket.setTimeout(DOWNSTREAM_IDLE_MS, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf.subarray(this.#offset), chunk]);
      if (this.#buf !== chunk) this.#offset = 0;
      this.#drive();
    });
    socket.on('end', () => {
      this.#isEof = true;
      this.#drive();
    });
    socket.on('close', () => {
      // Nothing more can be answered: drop pipelined requests rather than forward them.
      this.#buf = undefined;
      this.#isHeld = true;
      this.#abortUpstream();
      this.#endPlan();
    });
    // The mTLS gate may hand over a paused socket (it peeked at the first bytes).
    socket.resume();
  }

  /**
   * Parses what is buffered until a callback holds the parser (a head, the end of a message). Called
   * again from inside a parser callback, it leaves the work to the loop already running.
   */
  #drive(): void {
    if (this.#isDriving) return;
    this.#isDriving = true;
    try {
      while (this.#buf !== undefined && !this.#isHeld && !this.#parser.isDead) {
        this.#offset = this.#parser.execute(this.#buf, this.#offset);
        if (this.#offset >= this.#buf.length) {
          this.#buf = undefined;
          this.#offset = 0;
        }
      }
    } finally {
      this.#isDriving = false;
    }
    if (this.#isEof && this.#buf === undefined) {
      this.#onEof();
      return;
    }
    if (this.#buf !== undefined && this.#isHeld) this.#socket.pause();
    else this.#socket.resume();
  }

  /** The client sent all it will: a message cut short is refused; an idle connection just ends. */
  #onEof(): void {
    if (this.#head === undefined || !this.#isRequestDone) this.#parser.finish();
    if (this.#head === undefined && !this.#socket.destroyed) this.#socket.end();
  }

  #hold(): void {
    this.#isHeld = true;
    this.#parser.pause();
  }

  #release(): void {
    this.#isHeld = false;
    this.#drive();
  }

  #onRequestHead(head: RequestHead): void {
    this.#hold();
    this.#head = head;
    this.#isRequestDone = false;
    this.#isResponseDone = false;
    this.#isResponseStarted = false;
    this.#isKeepAlive = head.isKeepAlive;
    const decision = this.#hooks.route(head);
    if (decision.kind === 'reply') {
      const delayMs = decision.delayMs ?? 0;
      if (delayMs > 0) this.#waitTimer = setTimeout(() => this.#reply(decision.reply), delayMs);
      else this.#reply(decision.reply);
      return;
    }
    if (decision.kind === 'tunnel') {
      decision.open().then(
        (upstream) => this.#tunnel(upstream),
        (err: unknown) => this.#reply(toReply(err)),
      );
      return;
    }
    const plan = decision.plan;
    this.#plan = plan;
    this.#attempt = 0;
    this.#sentBody = plan.replayLimit > 0 ? [] : null;
    this.#sentBytes = 0;
    this.#trailers = null;
    if (plan.delayMs > 0) this.#waitTimer = setTimeout(() => this.#startTry(), plan.delayMs);
    else this.#startTry();
  }

  /** Opens (or reuses) a connection for the current try and sends the request on it. */
  #startTry(): void {
    this.#waitTimer = undefined;
    const plan = this.#plan;
    if (plan === undefined) return;
    plan.acquire(this.#attempt).then(
      (conn) => {
        if (this.#plan !== plan) plan.pools.release(conn, true);
        else this.#forward(conn);
      },
      (err: unknown) => {
        if (this.#plan !== plan) return;
        const reply = toReply(err);
        const outcome: TryOutcome | undefined =
          reply.flag === ResponseFlag.UpstreamConnectionFailure ? { kind: 'connect-failure' } : undefined;
        if (outcome === undefined || !this.#retry(outcome)) this.#reply(this.#final(reply));
      },
    );
  }

  /**
   * After a failed try: reports it, and when the plan allows another try (and the request can be sent
   * again) schedules it and returns true.
   */
  #retry(outcome: TryOutcome): boolean {
    const plan = this.#plan;
    if (plan === undefined) return false;
    plan.report(outcome);
    const canReplay = this.#sentBody !== null || this.#sentBytes === 0;
    if (!canReplay || this.#isResponseStarted || this.#socket.destroyed) return false;
    const delay = plan.retryDelay(outcome, this.#attempt + 1);
    if (delay < 0) return false;
    this.#attempt++;
    clearTimeout(this.#tryTimer);
    if (!this.#isRequestDone) this.#hold();
    this.#waitTimer = setTimeout(() => this.#startTry(), delay);
    return true;
  }

  /** A reply after retries says so (Envoy's URX). */
  #final(reply: LocalReply): LocalReply {
    return this.#attempt === 0 ? reply : { ...reply, flag: `${reply.flag},URX` };
  }

  #forward(conn: UpstreamConnection): void {
    const head = this.#head;
    const plan = this.#plan;
    if (this.#socket.destroyed || head === undefined || plan === undefined) {
      plan?.pools.release(conn, true);
      return;
    }
    const { target, headers } = plan;
    this.#upstream = conn;
    conn.handler = {
      onHead: (h) => this.#onResponseHead(h),
      onBody: (b) => this.#onResponseBody(b),
      onEnd: (t) => this.#onResponseEnd(t),
      onError: () => this.#failUpstream(502, 'UPE', 'upstream sent a malformed response'),
    };
    conn.onClose = () => {
      if (this.#isResponseDone) return;
      if (!this.#isResponseStarted) {
        this.#upstream = undefined;
        if (this.#retry({ kind: 'reset', beforeResponse: true })) return;
      }
      this.#failUpstream(
        503,
        ResponseFlag.UpstreamConnectionTermination,
        'upstream closed the connection before the response was complete',
      );
    };
    conn.parser.expectResponseTo(head.method);
    const framing =
      head.framing === 'length'
        ? ['content-length', String(head.contentLength)]
        : head.framing === 'chunked'
          ? ['transfer-encoding', 'chunked']
          : [];
    // Head and the body bytes already here go out as one write (one TLS record, one syscall).
    conn.socket.cork();
    conn.socket.write(serializeRequestHead(head.method, target, [...headers, ...framing]), 'latin1');
    if (this.#attempt > 0) this.#replayBody(conn);
    process.nextTick(() => conn.socket.uncork());
    conn.onDrain = () => this.#socket.resume();
    if (this.#isRequestDone) this.#startTryTimer();
    else this.#release();
  }

  /** A retry sends again what the client has sent so far (the rest follows as it arrives). */
  #replayBody(conn: UpstreamConnection): void {
    const isChunked = this.#head?.framing === 'chunked';
    for (const chunk of this.#sentBody ?? []) conn.socket.write(isChunked ? encodeChunk(chunk) : chunk);
    if (this.#isRequestDone && isChunked) conn.socket.write(lastChunk(this.#trailers), 'latin1');
  }

  /** Starts the try's deadline (once the request is sent) and the request's (on the first try). */
  #startTryTimer(): void {
    const plan = this.#plan;
    if (plan === undefined) return;
    if (plan.perTryTimeoutMs > 0) {
      clearTimeout(this.#tryTimer);
      this.#tryTimer = setTimeout(() => this.#onTryTimeout(), plan.perTryTimeoutMs);
    }
    if (plan.timeoutMs > 0 && this.#routeTimer === undefined)
      this.#routeTimer = setTimeout(() => this.#onRouteTimeout(), plan.timeoutMs);
  }

  #onTryTimeout(): void {
    this.#tryTimer = undefined;
    if (this.#isResponseStarted || this.#plan === undefined) return;
    this.#abortUpstream();
    if (this.#retry({ kind: 'timeout' })) return;
    this.#reply(
      this.#final({
        status: 504,
        flag: ResponseFlag.UpstreamRequestTimeout,
        message: `upstream request timeout: no response within the per-try timeout of ${this.#plan.perTryTimeoutMs} ms`,
      }),
    );
  }

  #onRouteTimeout(): void {
    this.#routeTimer = undefined;
    const plan = this.#plan;
    if (plan === undefined) return;
    plan.report({ kind: 'timeout' });
    this.#failUpstream(
      504,
      ResponseFlag.UpstreamRequestTimeout,
      `upstream request timeout: no complete response within the route timeout of ${plan.timeoutMs} ms`,
    );
  }

  /** CONNECT accepted: from here on the connection carries bytes, not HTTP. */
  #tunnel(upstream: Duplex): void {
    const socket = this.#socket;
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.setTimeout(0);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');
    const rest = this.#buf?.subarray(this.#offset);
    this.#buf = undefined;
    if (rest !== undefined && rest.length > 0) upstream.write(rest);
    relay(socket, upstream, { idleTimeoutMs: 3_600_000 });
    socket.resume();
  }

  #onRequestBody(chunk: Buffer): void {
    this.#sentBytes += chunk.length;
    const shadows = this.#plan?.shadows;
    if (shadows !== undefined) for (const shadow of shadows) shadow.body(chunk);
    if (this.#sentBody !== null) {
      if (this.#sentBytes <= (this.#plan?.replayLimit ?? 0)) this.#sentBody.push(chunk);
      else this.#sentBody = null;
    }
    const up = this.#upstream;
    if (up === undefined) return;
    const isFlowing =
      this.#head?.framing === 'chunked' ? up.socket.write(encodeChunk(chunk)) : up.socket.write(chunk);
    if (!isFlowing) this.#socket.pause();
  }

  #onRequestEnd(trailers: string[] | null): void {
    this.#hold();
    this.#isRequestDone = true;
    this.#trailers = trailers;
    const shadows = this.#plan?.shadows;
    if (shadows !== undefined) for (const shadow of shadows) shadow.end(trailers);
    if (this.#upstream !== undefined) {
      if (this.#head?.framing === 'chunked') this.#upstream.socket.write(lastChunk(trailers), 'latin1');
      this.#startTryTimer();
    }
    this.#finishIfDone();
  }

  #onRequestError(rejection: Http1Rejection): void {
    this.#hooks.onRejected(rejection);
    this.#isKeepAlive = false;
    if (rejection.isAfterHead) {
      this.#abortUpstream();
      for (const shadow of this.#plan?.shadows ?? []) shadow.abort();
    }
    if (this.#isResponseStarted) {
      this.#socket.destroy();
      return;
    }
    this.#reply({
      status: rejection.status,
      flag: ResponseFlag.DownstreamProtocolError,
      message: `request refused: ${rejection.message}`,
    });
  }

  #onResponseHead(h: ResponseHead): void {
    const head = this.#head;
    if (head === undefined) return;
    const headers = withoutFraming(stripHopByHop(h.headers, h.isUpgrade));
    if (h.isInformational) {
      this.#isInterim = true;
      this.#socket.write(
        serializeResponseHead(h.status, h.statusText, withoutMeshHeaders(headers)),
        'latin1',
      );
      return;
    }
    const plan = this.#plan;
    if (plan !== undefined) {
      const outcome: TryOutcome = { kind: 'response', status: h.status };
      // A response the retry policy rejects is dropped with its connection, and the request tried again.
      if (this.#retry(outcome)) {
        this.#abortUpstream();
        return;
      }
      clearTimeout(this.#tryTimer);
    }
    this.#isResponseStarted = true;
    this.#isUpstreamReusable = h.isKeepAlive && h.framing !== 'close';
    this.#isRechunking = h.framing === 'chunked' || (h.framing === 'close' && head.version === '1.1');
    if (h.framing === 'length') headers.push('content-length', String(h.contentLength));
    if (this.#isRechunking) headers.push('transfer-encoding', 'chunked');
    if (h.framing === 'close' && !this.#isRechunking) this.#isKeepAlive = false;
    if (!this.#isKeepAlive) headers.push('connection', 'close');
    const edited = plan === undefined ? headers : plan.responseHeaders(headers);
    const socket = this.#socket;
    socket.cork();
    socket.write(serializeResponseHead(h.status, h.statusText, edited), 'latin1');
    process.nextTick(() => socket.uncork());
  }

  #onResponseBody(chunk: Buffer): void {
    const isFlowing = this.#isRechunking ? this.#socket.write(encodeChunk(chunk)) : this.#socket.write(chunk);
    if (!isFlowing && this.#upstream !== undefined) {
      const up = this.#upstream.socket;
      up.pause();
      this.#socket.once('drain', () => up.resume());
    }
  }

  #onResponseEnd(trailers: string[] | null): void {
    if (this.#isInterim) {
      this.#isInterim = false;
      return;
    }
    if (this.#isRechunking)
      this.#socket.write(trailers === null ? LAST_CHUNK : lastChunk(withoutMeshHeaders(trailers)), 'latin1');
    this.#isResponseDone = true;
    // A response that ends before its request: the rest of the request body cannot be trusted to drain.
    if (!this.#isRequestDone) {
      this.#isKeepAlive = false;
      this.#isUpstreamReusable = false;
    }
    this.#finishIfDone(true);
  }

  #finishIfDone(force = false): void {
    if (!this.#isResponseDone || (!this.#isRequestDone && !force)) return;
    const up = this.#upstream;
    this.#upstream = undefined;
    if (up !== undefined) this.#plan?.pools.release(up, this.#isUpstreamReusable && this.#isRequestDone);
    this.#endPlan();
    this.#head = undefined;
    // The next request on the connection is refused or answered on its own terms.
    this.#isResponseStarted = false;
    if (!this.#isKeepAlive || !this.#isRequestDone) {
      this.#socket.end();
      return;
    }
    this.#release();
  }

  #failUpstream(status: number, flag: string, message: string): void {
    this.#abortUpstream();
    if (this.#isResponseStarted) {
      this.#socket.destroy();
      return;
    }
    this.#reply({ status, flag, message });
  }

  #abortUpstream(): void {
    const up = this.#upstream;
    this.#upstream = undefined;
    if (up !== undefined) {
      up.handler = undefined;
      up.onClose = undefined;
      up.socket.destroy();
    }
  }

  /** Stops the timers and releases what the plan holds; the next request starts afresh. */
  #endPlan(): void {
    clearTimeout(this.#waitTimer);
    clearTimeout(this.#tryTimer);
    clearTimeout(this.#routeTimer);
    this.#waitTimer = undefined;
    this.#tryTimer = undefined;
    this.#routeTimer = undefined;
    const plan = this.#plan;
    this.#plan = undefined;
    this.#sentBody = null;
    plan?.finish();
  }

  /**
   * A local reply. An error ends the connection (what follows on it cannot be trusted); a reply the
   * config asked for keeps it when the request had no body, which is then fully read.
   */
  #reply(reply: LocalReply): void {
    this.#abortUpstream();
    this.#endPlan();
    this.#hooks.onLocalReply(reply);
    const head = this.#head;
    const isKept = reply.flag === '' && head?.framing === 'none' && this.#isKeepAlive && !head.isConnect;
    this.#isResponseDone = true;
    this.#head = undefined;
    writeLocalReply(this.#socket, reply, !isKept);
    if (isKept) this.#release();
  }
}

/** Headers without Content-Length: the proxy writes the framing of what it forwards itself. */
function withoutFraming(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (headers[k] !== 'content-length') out.push(headers[k] as string, headers[k + 1] as string);
  }
  return out;
}

function toReply(err: unknown): LocalReply {
  if (err instanceof ProxyError) return { status: err.status, flag: err.flag, message: err.message };
  return {
    status: 503,
    flag: ResponseFlag.UpstreamConnectionFailure,
    message: `upstream connect error: ${(err as Error).message}`,
  };
}
