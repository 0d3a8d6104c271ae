// One request on a pooled HTTP/2 session, as the pipeline's UpstreamStream: the flat request head
// becomes an HTTP/2 header block, DATA and trailers flow both ways, and a reset before the response
// is reported (REFUSED_STREAM apart, which is safe to retry).

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { OutgoingRequest, ResponseHead } from '../http/index.ts';
import { ProxyError, Reply } from '../local-reply/index.ts';
import type { UpstreamEvents, UpstreamStream } from './upstream-stream.ts';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = constants;

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); TE passes only as `trailers`. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
]);

export class H2UpstreamStream implements UpstreamStream {
  events: UpstreamEvents | undefined;
  onDrain: (() => void) | undefined;
  readonly #stream: ClientHttp2Stream;
  #trailers: string[] | null = null;
  #responseTrailers: string[] | null = null;
  #isAnswered = false;
  #isDone = false;
  /** An extended CONNECT (an upgrade): the stream stays open for the tunnel after the head. */
  readonly #isTunnel: boolean;
  readonly #onData = (chunk: Buffer) => this.events?.onBody(chunk);

  /**
   * Opens the stream and sends the head; throws a ProxyError (UC) when the session refuses it. An
   * upgrade goes as an extended CONNECT (RFC 8441): the session must have enabled it (openStream checks).
   */
  constructor(session: ClientHttp2Session, req: OutgoingRequest, events: UpstreamEvents) {
    this.events = events;
    this.#isTunnel = req.upgrade !== undefined;
    const hasBody = req.framing !== 'none' && !this.#isTunnel;
    try {
      this.#stream = session.request(h2RequestHeaders(req), {
        endStream: !hasBody && !this.#isTunnel,
        waitForTrailers: hasBody,
      });
    } catch (err) {
      throw new ProxyError(
        Reply.UpstreamReset,
        `upstream session refused the stream: ${(err as Error).message}`,
      );
    }
    const s = this.#stream;
    s.on('error', () => undefined); // seen as 'close' with rstCode below
    if (hasBody) s.on('wantTrailers', () => s.sendTrailers(toH2Fields(this.#trailers)));
    s.on('headers', (headers: IncomingHttpHeaders) => this.#onInterim(headers));
    s.on('response', (headers: IncomingHttpHeaders, flags: number) => this.#onResponse(headers, flags));
    s.on('data', this.#onData);
    s.on('trailers', (t: IncomingHttpHeaders) => {
      this.#responseTrailers = fromH2Fields(t);
    });
    s.on('end', () => this.#onEnd());
    s.on('drain', () => this.onDrain?.());
    s.once('close', () => this.#onClose());
  }

  write(chunk: Buffer): boolean {
    return this.#stream.write(chunk);
  }

  end(trailers: string[] | null): void {
    this.#trailers = trailers;
    // An upgrade's request ends with its head; the stream's end is the tunnel's.
    if (!this.#stream.closed && !this.#isTunnel) this.#stream.end();
  }

  pause(): void {
    this.#stream.pause();
  }

  resume(): void {
    this.#stream.resume();
  }

  release(isClean: boolean): void {
    this.events = undefined;
    this.onDrain = undefined;
    // An upgrade answered without a switch still holds its own half open: close it.
    if (this.#stream.closed || (isClean && !this.#isTunnel)) return;
    this.#stream.close(isClean ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
  }

  abort(): void {
    this.events = undefined;
    this.onDrain = undefined;
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_CANCEL);
  }

  #onInterim(headers: IncomingHttpHeaders): void {
    const status = Number(headers[':status']);
    if (status < 100 || status >= 200 || this.#isAnswered) return;
    this.events?.onHead({
      status,
      statusText: '',
      headers: fromH2Fields(headers),
      framing: 'none',
      contentLength: -1,
      isInterim: true,
      grpcStatus: undefined,
    });
  }

  #onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.#isAnswered = true;
    const isEnded = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const length = headers['content-length'];
    const contentLength = length === undefined ? -1 : Number(length);
    const grpc = headers['grpc-status'];
    const head: ResponseHead = {
      status: Number(headers[':status']),
      statusText: '',
      headers: fromH2Fields(headers),
      framing: isEnded ? 'none' : contentLength >= 0 ? 'length' : 'chunked',
      contentLength,
      isInterim: false,
      grpcStatus: grpc === undefined ? undefined : Number(grpc),
    };
    if (this.#isTunnel && head.status >= 200 && head.status < 300 && !isEnded) {
      this.#handOver(head);
      return;
    }
    this.events?.onHead(head);
    if (isEnded) this.#onEnd();
  }

  /** A 2xx to extended CONNECT: the stream is the tunnel from here, owned by whoever takes it. */
  #handOver(head: ResponseHead): void {
    this.#isDone = true;
    const events = this.events;
    this.events = undefined;
    this.onDrain = undefined;
    const s = this.#stream;
    s.off('data', this.#onData);
    s.pause();
    if (events === undefined) s.close(NGHTTP2_CANCEL);
    else events.onUpgrade(head, s);
  }

  #onEnd(): void {
    if (this.#isDone || !this.#isAnswered) return;
    this.#isDone = true;
    const events = this.events;
    events?.onEnd(this.#responseTrailers);
  }

  #onClose(): void {
    const events = this.events;
    this.events = undefined;
    if (this.#isDone || events === undefined) return;
    const code = this.#stream.rstCode ?? NGHTTP2_NO_ERROR;
    if (code === NGHTTP2_REFUSED_STREAM && !this.#isAnswered) {
      events.onFailure({ kind: 'refused-stream', message: 'upstream refused the stream (REFUSED_STREAM)' });
      return;
    }
    events.onFailure({
      kind: 'reset',
      h2Code: code,
      message: this.#isAnswered
        ? `upstream reset the stream mid-response (HTTP/2 error code ${code})`
        : `upstream reset the stream before the response headers (HTTP/2 error code ${code})`,
    });
  }
}

/**
 * The flat request as an HTTP/2 header block: pseudo-headers first, connection fields dropped; an
 * upgrade as extended CONNECT with `:protocol` (Envoy's H1→H2 form).
 */
function h2RequestHeaders(req: OutgoingRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': req.upgrade === undefined ? req.method : 'CONNECT',
    ':path': req.path,
    ':authority': req.authority,
    ':scheme': req.scheme,
  };
  if (req.upgrade !== undefined) out[':protocol'] = req.upgrade;
  addFields(out, req.headers);
  if (req.framing === 'length') out['content-length'] = String(req.contentLength);
  return out;
}

/** Adds flat fields to an HTTP/2 header object, repeated names as arrays. */
export function addFields(out: OutgoingHttpHeaders, headers: readonly string[]): void {
  for (let k = 0; k < headers.length; k += 2) {
    const name = headers[k] as string;
    const value = headers[k + 1] as string;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) continue;
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
}

/** Trailers for sendTrailers (an empty block when there are none). */
function toH2Fields(headers: readonly string[] | null): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (headers !== null) addFields(out, headers);
  return out;
}

/** An HTTP/2 header block as flat fields: pseudo-headers, content-length and connection fields dropped. */
export function fromH2Fields(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.charCodeAt(0) === 58 /* ':' */ || name === 'content-length') continue;
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else if (value !== undefined) out.push(name, value);
  }
  return out;
}
