// The HTTP/1.1 connection manager for one downstream connection: parses requests strictly, one at a
// time, asks the router where each goes, streams it to a pooled upstream connection and streams the
// response back, with backpressure both ways. Refused requests never reach an upstream; a defect
// found after a request was forwarded aborts that upstream connection, so the app never sees a
// complete request.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  encodeChunk,
  type Http1Limits,
  type Http1Rejection,
  LAST_CHUNK,
  lastChunk,
  type RequestHead,
  RequestParser,
  type ResponseHead,
  serializeRequestHead,
  serializeResponseHead,
  stripHopByHop,
} from '../http1/index.ts';
import { relay } from '../l4/relay.ts';
import { ProxyError } from '../proxy-error.ts';
import { ResponseFlag } from '../response-flags.ts';
import { type LocalReply, writeLocalReply } from './local-reply.ts';
import type { UpstreamConnection, UpstreamPools } from './upstream-pool.ts';

/** Where the router sends a request: an endpoint to forward to (with the head to send), or a reply. */
export type RouteDecision =
  | { kind: 'reply'; reply: LocalReply }
  /** CONNECT: open a byte tunnel to what `open` connects to, after a 200. */
  | { kind: 'tunnel'; open: () => Promise<Duplex> }
  | {
      kind: 'forward';
      acquire: (pools: UpstreamPools) => Promise<UpstreamConnection>;
      pools: UpstreamPools;
      target: string;
      /** Request headers to send, without hop-by-hop or framing fields. */
      headers: string[];
    };

export interface ConnectionHooks {
  /** Parser limits for this connection (defaults when absent). */
  limits?: Http1Limits;
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
  #pools: UpstreamPools | undefined;
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
      this.#reply(decision.reply);
      return;
    }
    if (decision.kind === 'tunnel') {
      decision.open().then(
        (upstream) => this.#tunnel(upstream),
        (err: unknown) => this.#reply(toReply(err)),
      );
      return;
    }
    this.#pools = decision.pools;
    decision.acquire(decision.pools).then(
      (conn) => this.#forward(conn, head, decision.target, decision.headers),
      (err: unknown) => this.#reply(toReply(err)),
    );
  }

  #forward(conn: UpstreamConnection, head: RequestHead, target: string, headers: string[]): void {
    if (this.#socket.destroyed) {
      this.#pools?.release(conn, true);
      return;
    }
    this.#upstream = conn;
    conn.handler = {
      onHead: (h) => this.#onResponseHead(h),
      onBody: (b) => this.#onResponseBody(b),
      onEnd: (t) => this.#onResponseEnd(t),
      onError: () => this.#failUpstream(502, 'UPE', 'upstream sent a malformed response'),
    };
    conn.onClose = () => {
      if (!this.#isResponseDone)
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
    process.nextTick(() => conn.socket.uncork());
    conn.onDrain = () => this.#socket.resume();
    this.#release();
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
    const up = this.#upstream;
    if (up === undefined) return;
    const isFlowing =
      this.#head?.framing === 'chunked' ? up.socket.write(encodeChunk(chunk)) : up.socket.write(chunk);
    if (!isFlowing) this.#socket.pause();
  }

  #onRequestEnd(trailers: string[] | null): void {
    this.#hold();
    this.#isRequestDone = true;
    if (this.#head?.framing === 'chunked') this.#upstream?.socket.write(lastChunk(trailers), 'latin1');
    this.#finishIfDone();
  }

  #onRequestError(rejection: Http1Rejection): void {
    this.#hooks.onRejected(rejection);
    this.#isKeepAlive = false;
    if (rejection.isAfterHead) this.#abortUpstream();
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
      this.#socket.write(serializeResponseHead(h.status, h.statusText, headers), 'latin1');
      return;
    }
    this.#isResponseStarted = true;
    this.#isUpstreamReusable = h.isKeepAlive && h.framing !== 'close';
    this.#isRechunking = h.framing === 'chunked' || (h.framing === 'close' && head.version === '1.1');
    if (h.framing === 'length') headers.push('content-length', String(h.contentLength));
    if (this.#isRechunking) headers.push('transfer-encoding', 'chunked');
    if (h.framing === 'close' && !this.#isRechunking) this.#isKeepAlive = false;
    if (!this.#isKeepAlive) headers.push('connection', 'close');
    const socket = this.#socket;
    socket.cork();
    socket.write(serializeResponseHead(h.status, h.statusText, headers), 'latin1');
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
      this.#socket.write(trailers === null ? LAST_CHUNK : lastChunk(trailers), 'latin1');
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
    if (up !== undefined) this.#pools?.release(up, this.#isUpstreamReusable && this.#isRequestDone);
    this.#head = undefined;
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

  /** A local reply ends the exchange and the connection: what follows on it cannot be trusted. */
  #reply(reply: LocalReply): void {
    this.#hooks.onLocalReply(reply);
    this.#isResponseDone = true;
    this.#head = undefined;
    writeLocalReply(this.#socket, reply, true);
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
