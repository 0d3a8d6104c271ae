// The strict, incremental HTTP/1.1 response parser for bytes from upstream apps: same field rules as
// requests, framing per RFC 9112 §6.3 (no body for HEAD, 1xx, 204, 304 and 2xx to CONNECT; chunked;
// Content-Length; else until close). Every rejection is reported with status 502.

import { BODY_CLOSE, BODY_NONE, BodyReader } from './body-reader.ts';
import type { Http1Rejection, RejectReason } from './errors.ts';
import { rejection } from './errors.ts';
import { FieldReader } from './field-reader.ts';
import { bodyKind, checkFraming, FRAMING_NONE, S_KEEP_ALIVE, sessionBits } from './head-semantics.ts';
import { DEFAULT_HTTP1_LIMITS, type Http1Limits } from './limits.ts';
import { StatusLineReader } from './status-line.ts';

export interface ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly version: '1.0' | '1.1';
  /** `[name, value, name, value, ...]`: names lower-cased, values trimmed, in wire order. */
  readonly headers: string[];
  /** 'close': the body runs until the upstream closes (call finish() at EOF). */
  readonly framing: 'none' | 'length' | 'chunked' | 'close';
  readonly contentLength: number;
  readonly isKeepAlive: boolean;
  /** 1xx other than 101: the final response for the same request follows. */
  readonly isInformational: boolean;
  /** 101 Switching Protocols: bytes after this head belong to the new protocol. */
  readonly isUpgrade: boolean;
  /** 2xx to CONNECT: bytes after this head are tunnel bytes. */
  readonly isTunnel: boolean;
}

export interface ResponseParserCallbacks {
  onHead(head: ResponseHead): void;
  /** A view into the buffer given to execute(), not a copy. */
  onBody(chunk: Buffer): void;
  onEnd(trailers: string[] | null): void;
  /** Always status 502; the parser is dead from here on. */
  onError(rejection: Http1Rejection): void;
}

const LINE = 0;
const FIELDS = 1;
const BODY = 2;
const DEAD = 3;

export class ResponseParser {
  readonly #cb: ResponseParserCallbacks;
  readonly #line: StatusLineReader;
  readonly #fields: FieldReader;
  readonly #body: BodyReader;
  readonly #maxBodyBytes: number;
  #state = LINE;
  #isHeadRequest = false;
  #isConnectRequest = false;
  #isAfterHead = false;
  #isPaused = false;

  constructor(callbacks: ResponseParserCallbacks, limits: Http1Limits = DEFAULT_HTTP1_LIMITS) {
    this.#cb = callbacks;
    this.#maxBodyBytes = limits.maxBodyBytes;
    this.#line = new StatusLineReader(limits.maxStartLineBytes);
    this.#fields = new FieldReader(limits);
    this.#body = new BodyReader(limits, this.#fields, callbacks);
  }

  get isDead(): boolean {
    return this.#state === DEAD;
  }

  /** The method of the request the coming response answers (HEAD and CONNECT change framing). */
  expectResponseTo(method: string): void {
    this.#isHeadRequest = method === 'HEAD';
    this.#isConnectRequest = method === 'CONNECT';
  }

  pause(): void {
    this.#isPaused = true;
  }

  /** Same contract as RequestParser.execute(): stops after each message (1xx included), pause or error. */
  execute(buf: Buffer, start = 0): number {
    this.#isPaused = false;
    const end = buf.length;
    let i = start;
    while (i < end) {
      if (this.#state === BODY) {
        const j = this.#body.read(buf, i, end);
        if (j < 0) return this.#reject(this.#body.reason, i);
        i = j;
        if (this.#body.isDone) return this.#end(this.#body.trailers, i);
        if (this.#isPaused) return i;
      } else if (this.#state === LINE) {
        const j = this.#line.read(buf, i, end);
        if (j < 0) return this.#reject(this.#line.reason, i);
        i = j;
        if (!this.#line.isDone) continue;
        this.#fields.begin(false, this.#line.bytes);
        this.#state = FIELDS;
      } else if (this.#state === FIELDS) {
        const j = this.#fields.read(buf, i, end);
        if (j < 0) return this.#reject(this.#fields.reason, i);
        i = j;
        if (!this.#fields.isDone) continue;
        const head = this.#head();
        if (typeof head === 'string') return this.#reject(head, i);
        this.#isAfterHead = true;
        this.#state = BODY;
        this.#cb.onHead(head);
        if (this.#body.isDone) return this.#end(null, i);
        if (this.#isPaused) return i;
      } else return start;
    }
    return i;
  }

  /** The upstream closed: ends a close-delimited body, rejects a message cut short. */
  finish(): void {
    if (this.#state === DEAD || (this.#state === LINE && this.#line.isIdle)) return;
    if (this.#state === BODY && this.#body.finishAtEof()) this.#end(null, 0);
    else this.#reject('incomplete-message', 0);
  }

  #end(trailers: string[] | null, i: number): number {
    const status = this.#line.status;
    if (status >= 200 || status === 101) this.expectResponseTo('GET');
    this.#state = LINE;
    this.#isAfterHead = false;
    this.#line.reset();
    this.#cb.onEnd(trailers);
    return i;
  }

  #reject(reason: RejectReason, i: number): number {
    this.#state = DEAD;
    this.#cb.onError(rejection(reason, this.#isAfterHead, true));
    return i;
  }

  #head(): ResponseHead | RejectReason {
    const line = this.#line;
    const f = this.#fields;
    const status = line.status;
    const isHttp11 = line.versionMinor === 1;
    const isTunnel = this.#isConnectRequest && status >= 200 && status < 300;
    let kind = BODY_NONE;
    let length = -1;
    if (!isTunnel) {
      const framing = checkFraming(f, isHttp11, this.#maxBodyBytes);
      if (typeof framing === 'string') return framing;
      const isBodyless = status < 200 || status === 204 || status === 304 || this.#isHeadRequest;
      if ((status < 200 || status === 204) && framing !== FRAMING_NONE && framing !== 0) {
        return 'framing-forbidden'; // RFC 9112 §6.1, §6.2; `Content-Length: 0` is tolerated
      }
      if (!isBodyless) {
        kind = framing === FRAMING_NONE ? BODY_CLOSE : bodyKind(framing);
        length = framing;
      }
    }
    const bits = sessionBits(f, isHttp11, false);
    if (typeof bits === 'string') return bits;
    this.#body.begin(kind, length);
    return {
      status,
      statusText: line.statusText,
      version: isHttp11 ? '1.1' : '1.0',
      headers: f.fields,
      framing:
        kind === BODY_NONE ? 'none' : kind === BODY_CLOSE ? 'close' : length >= 0 ? 'length' : 'chunked',
      contentLength: length >= 0 && kind !== BODY_NONE ? length : -1,
      isKeepAlive: (bits & S_KEEP_ALIVE) !== 0 && kind !== BODY_CLOSE,
      isInformational: status < 200 && status !== 101,
      isUpgrade: status === 101,
      isTunnel,
    };
  }
}
