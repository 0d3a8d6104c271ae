// One HTTP/2 stream from a caller as the pipeline sees it: its header block becomes the neutral
// request, its DATA and trailers feed the exchange, and the exchange's response is rendered back as
// HEADERS, DATA and trailers (a Trailers-Only block when the response has no body).

import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import type { IncomingRequest, ResponseHead } from '../http/index.ts';
import type { Http1Limits } from '../http1/index.ts';
import { type LocalReply, localReply, Reply, replyOfError, withStatus } from '../local-reply/index.ts';
import { type Downstream, Exchange, type ForwardPlan, type RouteDecision } from '../router/index.ts';
import { type ProxyContext, reportLocalReply } from '../runtime/index.ts';
import { addFields, fromH2Fields } from '../upstream/index.ts';
import { isGrpcRequest, writeH2LocalReply } from './h2-local-reply.ts';
import { h2Refusal } from './refuse-h2-request.ts';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = constants;

/**
 * The stream's header block as the pipeline's request. An extended CONNECT (RFC 8441) becomes the
 * upgrade it asks for, in HTTP/1's form: GET, `upgrade` from `:protocol`, no body (its DATA is the tunnel's).
 */
export function incomingOfStream(headers: IncomingHttpHeaders, flags: number): IncomingRequest {
  const protocol = headers[':protocol'];
  const length = headers['content-length'];
  const isEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
  const req: IncomingRequest = {
    method: headers[':method'] ?? 'GET',
    path: headers[':path'] ?? '/',
    authority: headers[':authority'] ?? headers.host ?? '',
    scheme: headers[':scheme'] ?? 'http',
    headers: fromH2Fields(headers),
    framing: isEnded ? 'none' : length === undefined ? 'chunked' : 'length',
    contentLength: length === undefined ? -1 : Number(length),
    version: '2',
  };
  if (typeof protocol === 'string' && req.method === 'CONNECT') {
    req.method = 'GET';
    req.upgrade = protocol;
    req.framing = 'none';
    req.contentLength = -1;
  }
  return req;
}

export class H2Downstream implements Downstream {
  readonly #stream: ServerHttp2Stream;
  readonly #isGrpc: boolean;
  readonly #onLocalReply: (reply: LocalReply) => void;
  #trailers: string[] | null = null;
  /** The stream became a tunnel (an accepted extended CONNECT). */
  #isSwitched = false;
  onDrain: (() => void) | undefined;

  constructor(stream: ServerHttp2Stream, isGrpc: boolean, onLocalReply: (reply: LocalReply) => void) {
    this.#stream = stream;
    this.#isGrpc = isGrpc;
    this.#onLocalReply = onLocalReply;
    stream.on('error', () => undefined); // a reset shows as 'close' with rstCode
    stream.on('drain', () => this.onDrain?.());
  }

  /**
   * Runs the plan of an extended CONNECT: the request is its head; the stream's DATA waits (paused)
   * for the switch, after which it is the tunnel's.
   */
  forwardUpgrade(plan: ForwardPlan): void {
    const stream = this.#stream;
    stream.pause();
    const exchange = new Exchange(this, plan, true);
    stream.once('close', () => exchange.abort());
    exchange.start();
  }

  /** Runs a forward plan on this stream: the request body and its end feed the exchange. */
  forward(plan: ForwardPlan, isRequestEnded: boolean): void {
    const stream = this.#stream;
    const exchange = new Exchange(this, plan, isRequestEnded);
    let trailers: string[] | null = null;
    stream.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = fromH2Fields(t);
    });
    stream.on('data', (chunk: Buffer) => exchange.body(chunk));
    stream.on('end', () => exchange.end(trailers));
    stream.once('close', () => exchange.abort());
    exchange.start();
  }

  interim(): void {
    // 1xx responses are not relayed to HTTP/2 callers.
  }

  respond(head: ResponseHead): void {
    const stream = this.#stream;
    if (stream.closed || stream.destroyed) return;
    // The stream was answered already (a local reply won a race with the upstream's head): it cannot
    // take a second response, so it ends here rather than throw ERR_HTTP2_HEADERS_SENT.
    if (stream.headersSent) {
      stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    const out: OutgoingHttpHeaders = { ':status': head.status };
    addFields(out, head.headers);
    if (head.framing === 'length') out['content-length'] = head.contentLength;
    const isEnd = head.framing === 'none';
    stream.respond(out, { endStream: isEnd, waitForTrailers: !isEnd });
    if (!isEnd) stream.once('wantTrailers', () => this.#sendTrailers());
  }

  write(chunk: Buffer): boolean {
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) return true;
    return stream.write(chunk);
  }

  end(trailers: string[] | null): void {
    this.#trailers = trailers;
    const stream = this.#stream;
    if (!stream.closed && !stream.writableEnded && stream.headersSent) stream.end();
  }

  reset(h2Code?: number): void {
    if (!this.#stream.closed) this.#stream.close(h2Code ?? NGHTTP2_INTERNAL_ERROR);
  }

  reply(reply: LocalReply): void {
    this.#onLocalReply(reply);
    writeH2LocalReply(this.#stream, reply, this.#isGrpc);
  }

  /** A 200 to the extended CONNECT (RFC 8441 §5), then the stream is the caller's side of the relay. */
  upgrade(head: ResponseHead, _tunnel: Duplex): Duplex | undefined {
    const stream = this.#stream;
    if (stream.closed || stream.destroyed || stream.headersSent) return undefined;
    this.#isSwitched = true;
    const out: OutgoingHttpHeaders = { ':status': 200 };
    addFields(out, head.headers);
    stream.respond(out);
    // The stream's DATA waited unread, so nothing came before the switch to pass on first.
    return stream;
  }

  /**
   * A caller that asked for a tunnel keeps its half of the stream open: once an answer that is no
   * switch (a refusal, an error response) is sent, the stream is closed (RST_STREAM NO_ERROR).
   */
  closeWhenAnswered(): void {
    const stream = this.#stream;
    stream.once('finish', () => {
      if (!this.#isSwitched && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
    });
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  #sendTrailers(): void {
    const out: OutgoingHttpHeaders = {};
    if (this.#trailers !== null) addFields(out, this.#trailers);
    this.#stream.sendTrailers(out);
  }
}

export interface StreamOptions {
  listener: string;
  ctx: ProxyContext;
  /** The HTTP/1 codec's request rules (methods, header names), applied to the stream too. */
  limits: Http1Limits;
  /** The router's decision for the stream's request. */
  decide(req: IncomingRequest): RouteDecision;
}

/** Serves one stream of a session: routes its request and runs the decision on it. */
export function serveStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  o: StreamOptions,
): void {
  const down = new H2Downstream(stream, isGrpcRequest(headers), (reply) =>
    reportLocalReply(o.ctx, o.listener, reply),
  );
  if (headers[':method'] === 'CONNECT') down.closeWhenAnswered();
  const refusal = h2Refusal(headers, o.limits);
  if (refusal !== undefined) {
    o.ctx.stats.add('alder_proxy_http_rejected_total', { listener: o.listener, reason: refusal.reason });
    down.reply(
      localReply(withStatus(Reply.BadRequest, refusal.status), `request refused: ${refusal.message}`),
    );
    return;
  }
  const req = incomingOfStream(headers, flags);
  if (req.method === 'CONNECT') {
    // An extended CONNECT became GET above; a plain one asks for a TCP tunnel, not served here.
    down.reply(
      localReply(
        Reply.UpgradeRefused,
        'CONNECT refused: HTTP/2 streams carry no TCP tunnels here; use CONNECT through the forward proxy (HTTP_PROXY), or extended CONNECT with :protocol websocket for a WebSocket',
      ),
    );
    return;
  }
  if (o.limits.headersWithUnderscoresAction === 'DROP_HEADER') req.headers = withoutUnderscores(req.headers);
  runDecision(o.decide(req), req, down, stream);
}

/** Runs the router's decision on the stream (a pending one when it comes, if the stream is still open). */
function runDecision(
  decision: RouteDecision,
  req: IncomingRequest,
  down: H2Downstream,
  stream: ServerHttp2Stream,
): void {
  switch (decision.kind) {
    case 'pending':
      decision.decision.then(
        (d) => {
          if (!stream.destroyed) runDecision(d, req, down, stream);
        },
        (err: unknown) => {
          if (!stream.destroyed) down.reply(replyOfError(err));
        },
      );
      return;
    case 'forward':
      if (req.upgrade !== undefined) down.forwardUpgrade(decision.plan);
      else down.forward(decision.plan, req.framing === 'none');
      return;
    case 'reply': {
      const delayMs = decision.delayMs ?? 0;
      if (delayMs > 0) setTimeout(() => down.reply(decision.reply), delayMs);
      else down.reply(decision.reply);
      return;
    }
    case 'tunnel':
      down.reply(localReply(Reply.UpgradeRefused, 'CONNECT tunnels are not served on HTTP/2 streams here'));
      return;
  }
}

/** MeshConfig DROP_HEADER: header names with `_` are dropped, as Envoy drops them. */
function withoutUnderscores(headers: string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < headers.length; k += 2) {
    if (!(headers[k] as string).includes('_')) out.push(headers[k] as string, headers[k + 1] as string);
  }
  return out;
}
