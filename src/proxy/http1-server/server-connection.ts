// The HTTP/1.1 connection manager for one downstream connection: parses requests strictly, one at a
// time, turns each into the pipeline's protocol-neutral request, asks the router where it goes, and
// renders what the exchange sends back (HTTP/1 framing, keep-alive, pipelining). Refused requests
// never reach an upstream; a defect found after a request was forwarded aborts the exchange, so the
// app never sees a complete request.

import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingRequest, ResponseHead } from '../http/index.ts';
import {
  encodeChunk,
  type Http1LimitsSource,
  type Http1Rejection,
  isWebSocket,
  LAST_CHUNK,
  lastChunk,
  type RequestHead,
  RequestParser,
  serializeResponseHead,
  webSocketAccept,
} from '../http1/index.ts';
import { onCloseWhenIdle, relay } from '../l4/index.ts';
import { type LocalReply, localReply, Reply, replyOfError, withStatus } from '../local-reply/index.ts';
import { type Downstream, Exchange, type RouteDecision, type TunnelServer } from '../router/index.ts';
import { connectionLimits } from '../runtime/index.ts';
import { writeLocalReply } from './write-local-reply.ts';

export interface ConnectionHooks {
  /** Parser limits for this connection, or their source per request (defaults when absent). */
  limits?: Http1LimitsSource;
  route(head: RequestHead, req: IncomingRequest): RouteDecision;
  /** Counts a refused request by its rejection reason. */
  onRejected(rejection: Http1Rejection): void;
  onLocalReply(reply: LocalReply): void;
}

/** Idle keep-alive connections from clients close after this long. */
const DOWNSTREAM_IDLE_MS = 60_000;
/**
 * A client that half-closed while a response is due may wait this long with nothing moving before it
 * counts as gone (the upstream is then reset). Envoy ends the exchange at the FIN; HAProxy's
 * `timeout client-fin` bounds half-closed connections the same way.
 */
const HALF_CLOSED_IDLE_MS = 1_000;

export class Http1ServerConnection implements Downstream {
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
  #exchange: Exchange | undefined;
  #waitTimer: NodeJS.Timeout | undefined;
  #isRequestDone = false;
  /** The trailers of a request that ended while its decision was pending (null: none). */
  #endedTrailers: string[] | null = null;
  #isResponseDone = false;
  #isResponseStarted = false;
  #isRechunking = false;
  #isKeepAlive = true;
  onDrain: (() => void) | undefined;
  /** request_headers_timeout, re-armed whenever a head is awaited (it ignores firing mid-exchange). */
  readonly #headTimer: NodeJS.Timeout;
  /** Bytes came since the head timer started (a head is under way, not an idle connection). */
  #isHeadStarted = false;

  constructor(socket: Socket, hooks: ConnectionHooks) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#parser = new RequestParser(
      {
        onHead: (h) => this.#onRequestHead(h),
        onBody: (b) => this.#exchange?.body(b),
        onEnd: (t) => this.#onRequestEnd(t),
        onError: (e) => this.#onRequestError(e),
      },
      hooks.limits,
    );
    socket.setTimeout(DOWNSTREAM_IDLE_MS, () => socket.destroy());
    this.#headTimer = setTimeout(() => this.#onHeadTimeout(), connectionLimits().requestHeadersTimeoutMs);
    socket.on('data', this.#onData);
    socket.on('end', this.#onInputEnd);
    socket.on('drain', () => this.onDrain?.());
    socket.on('close', () => {
      clearTimeout(this.#headTimer);
      // Nothing more can be answered: drop pipelined requests rather than forward them.
      this.#buf = undefined;
      this.#isHeld = true;
      clearTimeout(this.#waitTimer);
      this.#exchange?.abort();
      this.#exchange = undefined;
    });
    onCloseWhenIdle(socket, () => this.#closeWhenIdle());
    // The mTLS gate may hand over a paused socket (it peeked at the first bytes).
    socket.resume();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#isHeadStarted = true;
    this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf.subarray(this.#offset), chunk]);
    if (this.#buf !== chunk) this.#offset = 0;
    this.#drive();
  };

  readonly #onInputEnd = (): void => {
    this.#isEof = true;
    this.#socket.setTimeout(HALF_CLOSED_IDLE_MS);
    this.#drive();
  };

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

  /** The listener is draining: the response in progress is the last, and an idle connection ends now. */
  #closeWhenIdle(): void {
    this.#isKeepAlive = false;
    if (this.#exchange === undefined && this.#head === undefined && !this.#isHeadStarted) this.#socket.end();
  }

  /** Re-arms request_headers_timeout: the next head must be complete within it. */
  #expectHead(): void {
    this.#isHeadStarted = this.#buf !== undefined;
    this.#headTimer.refresh();
  }

  /** No complete head in time: 408 to a head under way, a quiet close to an idle connection. */
  #onHeadTimeout(): void {
    if (this.#head !== undefined || this.#socket.writableEnded) return;
    this.#hold();
    // A client that never closes its side is cut after the delay Envoy's delayed_close_timeout gives.
    this.#socket.setTimeout(HALF_CLOSED_IDLE_MS);
    if (!this.#isHeadStarted) {
      this.#socket.end();
      return;
    }
    const ms = connectionLimits().requestHeadersTimeoutMs;
    this.reply(
      localReply(
        Reply.RequestHeadTimeout,
        `request refused: no complete request head within ${ms} ms (request_headers_timeout)`,
      ),
    );
  }

  #onRequestHead(head: RequestHead): void {
    this.#hold();
    this.#head = head;
    this.#isRequestDone = false;
    this.#isResponseDone = false;
    this.#isResponseStarted = false;
    const req = incomingOf(head);
    // What follows an upgrade request is the new protocol's, or (no switch) nothing to trust as HTTP.
    this.#isKeepAlive = head.isKeepAlive && req.upgrade === undefined;
    this.#run(this.#hooks.route(head, req));
  }

  /** Runs the router's decision for the request in progress (a pending one when it comes). */
  #run(decision: RouteDecision): void {
    if (decision.kind === 'pending') {
      const head = this.#head;
      decision.decision.then(
        (d) => {
          if (this.#head === head && !this.#socket.destroyed) this.#run(d);
        },
        (err: unknown) => {
          if (this.#head === head && !this.#socket.destroyed) this.reply(replyOfError(err));
        },
      );
      return;
    }
    if (decision.kind === 'reply') {
      const delayMs = decision.delayMs ?? 0;
      if (delayMs > 0) this.#waitTimer = setTimeout(() => this.reply(decision.reply), delayMs);
      else this.reply(decision.reply);
      return;
    }
    if (decision.kind === 'tunnel') {
      decision.open().then(
        (upstream) => this.#tunnel(upstream),
        (err: unknown) => this.reply(replyOfError(err)),
      );
      return;
    }
    const exchange = new Exchange(this, decision.plan, false);
    this.#exchange = exchange;
    exchange.start();
    // A request without a body may have ended while its decision was pending.
    if (this.#isRequestDone && this.#exchange === exchange) exchange.end(this.#endedTrailers);
  }

  /**
   * CONNECT accepted: from here on the connection carries bytes, not HTTP — relayed to `upstream`, or
   * handed to a TunnelServer when the proxy serves what the tunnel carries.
   */
  #tunnel(upstream: Duplex | TunnelServer): void {
    const socket = this.#socket;
    if (socket.destroyed) {
      if (typeof upstream !== 'function') upstream.destroy();
      return;
    }
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.setTimeout(0);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n', 'latin1');
    const rest = this.#buf?.subarray(this.#offset);
    this.#buf = undefined;
    if (typeof upstream === 'function') {
      upstream(socket, rest !== undefined && rest.length > 0 ? rest : undefined);
      return;
    }
    if (rest !== undefined && rest.length > 0) upstream.write(rest);
    relay(socket, upstream, { idleTimeoutMs: 3_600_000 });
    socket.resume();
  }

  #onRequestEnd(trailers: string[] | null): void {
    this.#hold();
    this.#isRequestDone = true;
    this.#endedTrailers = trailers;
    this.#exchange?.end(trailers);
    this.#finishIfDone();
  }

  #onRequestError(rejection: Http1Rejection): void {
    this.#hooks.onRejected(rejection);
    this.#isKeepAlive = false;
    const exchange = this.#exchange;
    this.#exchange = undefined;
    exchange?.abort();
    if (this.#isResponseStarted) {
      this.#socket.destroy();
      return;
    }
    this.reply(
      localReply(withStatus(Reply.BadRequest, rejection.status), `request refused: ${rejection.message}`),
    );
  }

  #finishIfDone(force = false): void {
    if (!this.#isResponseDone || (!this.#isRequestDone && !force)) return;
    this.#exchange = undefined;
    this.#head = undefined;
    // The next request on the connection is refused or answered on its own terms.
    this.#isResponseStarted = false;
    if (!this.#isKeepAlive || !this.#isRequestDone) {
      this.#socket.end();
      return;
    }
    this.#expectHead();
    this.#release();
  }

  // Downstream: the exchange's response, rendered as HTTP/1.

  interim(head: ResponseHead): void {
    this.#socket.write(serializeResponseHead(head.status, head.statusText, head.headers), 'latin1');
  }

  respond(head: ResponseHead): void {
    const req = this.#head;
    if (req === undefined) return;
    this.#isResponseStarted = true;
    const headers = head.headers;
    const framing = head.framing;
    this.#isRechunking = framing === 'chunked' || (framing === 'close' && req.version === '1.1');
    if (framing === 'length') headers.push('content-length', String(head.contentLength));
    else if (framing === 'none' && mayHaveBody(head.status, req.method)) headers.push('content-length', '0');
    if (this.#isRechunking) headers.push('transfer-encoding', 'chunked');
    if (framing === 'close' && !this.#isRechunking) this.#isKeepAlive = false;
    if (!this.#isKeepAlive) headers.push('connection', 'close');
    const socket = this.#socket;
    socket.cork();
    socket.write(serializeResponseHead(head.status, head.statusText, headers), 'latin1');
    process.nextTick(uncork, socket);
  }

  write(chunk: Buffer): boolean {
    return this.#socket.write(this.#isRechunking ? encodeChunk(chunk) : chunk);
  }

  end(trailers: string[] | null): void {
    if (this.#isRechunking)
      this.#socket.write(trailers === null ? LAST_CHUNK : lastChunk(trailers), 'latin1');
    this.#isResponseDone = true;
    // A response that ends before its request: the rest of the request body cannot be trusted to drain.
    if (!this.#isRequestDone) this.#isKeepAlive = false;
    this.#finishIfDone(true);
  }

  reset(): void {
    this.#socket.destroy();
  }

  /**
   * The upstream switched protocols: a 101 with the request's Upgrade (and, for a WebSocket whose
   * HTTP/2 upstream answered without one, the Sec-WebSocket-Accept its key calls for), then the
   * connection is a byte stream; the bytes the client sent after its request go to `tunnel` first.
   */
  upgrade(head: ResponseHead, tunnel: Duplex): Duplex | undefined {
    const req = this.#head;
    const socket = this.#socket;
    if (req === undefined || socket.destroyed || !socket.writable) return undefined;
    this.#head = undefined;
    this.#exchange = undefined;
    this.#isHeld = true;
    clearTimeout(this.#headTimer);
    socket.off('data', this.#onData);
    socket.off('end', this.#onInputEnd);
    socket.setTimeout(0);
    const headers = [...head.headers, 'connection', 'upgrade', 'upgrade', req.upgrade];
    const key = fieldOf(req.headers, 'sec-websocket-key');
    if (
      isWebSocket(req.upgrade) &&
      key !== undefined &&
      fieldOf(headers, 'sec-websocket-accept') === undefined
    )
      headers.push('sec-websocket-accept', webSocketAccept(key));
    socket.write(serializeResponseHead(101, 'Switching Protocols', headers), 'latin1');
    const rest = this.#buf?.subarray(this.#offset);
    this.#buf = undefined;
    if (rest !== undefined && rest.length > 0) tunnel.write(rest);
    return socket;
  }

  pause(): void {
    this.#hold();
  }

  /** More of the request body may come, never the next request while this one is unanswered. */
  resume(): void {
    if (!this.#isRequestDone && this.#head !== undefined) this.#release();
  }

  /**
   * A local reply. An error ends the connection (what follows on it cannot be trusted); a reply the
   * config asked for keeps it when the request had no body, which is then fully read.
   */
  reply(reply: LocalReply): void {
    const exchange = this.#exchange;
    this.#exchange = undefined;
    exchange?.abort();
    clearTimeout(this.#waitTimer);
    this.#hooks.onLocalReply(reply);
    const head = this.#head;
    const isKept = reply.flag === '' && head?.framing === 'none' && this.#isKeepAlive && !head.isConnect;
    this.#isResponseDone = true;
    this.#head = undefined;
    writeLocalReply(this.#socket, reply, !isKept);
    if (!isKept) return;
    this.#expectHead();
    this.#release();
  }
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** A response without framing still needs `content-length: 0` unless its status or method has no body. */
function mayHaveBody(status: number, method: string): boolean {
  return status >= 200 && status !== 204 && status !== 304 && method !== 'HEAD';
}

/**
 * The parsed head as the pipeline's request: origin-form path, `http` scheme, and the upgrade it asks
 * for. `Upgrade: h2c` is none: as Envoy does, the proxy drops it (its Upgrade, Connection and
 * HTTP2-Settings fields are hop-by-hop) and serves the request as HTTP/1.1.
 */
function incomingOf(head: RequestHead): IncomingRequest {
  const req: IncomingRequest = {
    method: head.method,
    path: head.targetForm === 'absolute' ? originOf(head.target) : head.target,
    authority: head.authority,
    scheme: 'http',
    headers: head.headers,
    framing: head.framing,
    contentLength: head.contentLength,
    version: head.version,
  };
  if (head.isUpgrade && head.upgrade.toLowerCase() !== 'h2c') req.upgrade = head.upgrade;
  return req;
}

function fieldOf(headers: readonly string[], name: string): string | undefined {
  for (let k = 0; k < headers.length; k += 2) if (headers[k] === name) return headers[k + 1];
  return undefined;
}

/** `http://host:port/path?q` → `/path?q`. */
function originOf(target: string): string {
  const afterScheme = target.indexOf('//');
  const slash = target.indexOf('/', afterScheme + 2);
  return slash === -1 ? '/' : target.slice(slash);
}
