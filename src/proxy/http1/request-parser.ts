// The strict, incremental HTTP/1.1 request parser the proxy's listeners run on raw sockets: bytes in,
// callbacks out (head, body pieces, end, rejection), no I/O. It refuses anything malformed or ambiguous
// (errors.ts lists why); connection handling, timeouts and replies belong to the connection manager.

import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, BodyReader } from './body-reader.ts';
import type { Http1Rejection, RejectReason } from './errors.ts';
import { rejection } from './errors.ts';
import { FieldReader } from './field-reader.ts';
import {
  bodyKind,
  checkFraming,
  type Framing,
  joinedValue,
  S_CONTINUE,
  S_KEEP_ALIVE,
  S_UPGRADE,
  sessionBits,
} from './head-semantics.ts';
import { H_HOST, H_UPGRADE } from './header-names.ts';
import { DEFAULT_HTTP1_LIMITS, type Http1Limits, type Http1LimitsSource } from './limits.ts';
import { methodRefusal } from './methods.ts';
import { RequestLineReader } from './request-line.ts';
import {
  absoluteAuthority,
  isSameAuthority,
  isValidHost,
  type TargetForm,
  targetForm,
  targetReason,
} from './target.ts';

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly targetForm: TargetForm;
  readonly version: '1.0' | '1.1';
  /** `[name, value, name, value, ...]`: names lower-cased, values trimmed, in wire order. */
  readonly headers: string[];
  /** `host[:port]` the request is for: the target's (absolute form, CONNECT), else Host; '' if none. */
  readonly authority: string;
  readonly framing: Framing;
  /** Content-Length when framing is 'length', else -1. */
  readonly contentLength: number;
  /** RFC 9112 §9.3: false for `Connection: close`, and for HTTP/1.0 without `Connection: keep-alive`. */
  readonly isKeepAlive: boolean;
  /** `Expect: 100-continue` on HTTP/1.1 (HTTP/1.0 expectations are ignored, RFC 9110 §10.1.1). */
  readonly expectsContinue: boolean;
  /** HTTP/1.1 request with Upgrade and `Connection: upgrade`; `upgrade` holds the Upgrade value. */
  readonly isUpgrade: boolean;
  readonly upgrade: string;
  /** CONNECT: once the upstream answers 2xx, bytes after this message are tunnel bytes. */
  readonly isConnect: boolean;
}

/** Callbacks run synchronously inside execute() and must not throw. */
export interface RequestParserCallbacks {
  onHead(head: RequestHead): void;
  /** A view into the buffer given to execute(), not a copy: copy it to keep it past that buffer's reuse. */
  onBody(chunk: Buffer): void;
  /** The message is complete; `trailers` as `[name, value, ...]` from a chunked body, or null. */
  onEnd(trailers: string[] | null): void;
  /** The message is refused; the parser is dead from here on. */
  onError(rejection: Http1Rejection): void;
}

const LINE = 0;
const FIELDS = 1;
const BODY = 2;
const DEAD = 3;

export class RequestParser {
  readonly #cb: RequestParserCallbacks;
  readonly #source: (() => Http1Limits) | undefined;
  #limits: Http1Limits;
  #line: RequestLineReader;
  #fields: FieldReader;
  #body: BodyReader;
  #state = LINE;
  #form: TargetForm = 'origin';
  #isAfterHead = false;
  #isPaused = false;

  /**
   * `limits`, or a function giving the limits current when each message starts (the proxy's runtime,
   * so that a keep-alive connection follows snapshot changes); it is called once per message.
   */
  constructor(callbacks: RequestParserCallbacks, limits: Http1LimitsSource = DEFAULT_HTTP1_LIMITS) {
    this.#cb = callbacks;
    this.#source = typeof limits === 'function' ? limits : undefined;
    this.#limits = typeof limits === 'function' ? limits() : limits;
    this.#line = new RequestLineReader(this.#limits);
    this.#fields = new FieldReader(this.#limits);
    this.#body = new BodyReader(this.#limits, this.#fields, callbacks);
  }

  /** True after onError: the connection must be closed. */
  get isDead(): boolean {
    return this.#state === DEAD;
  }

  /** Makes execute() return right after the callback that called this; call execute() again to go on. */
  pause(): void {
    this.#isPaused = true;
  }

  /**
   * Parses `buf` from `start` and returns the index of the first byte not consumed. It stops after each
   * complete message (onEnd), after pause(), and on a rejection; pipelined bytes after a message are
   * left for the next call: `while (i < buf.length && !parser.isDead) i = parser.execute(buf, i)`.
   * After a CONNECT or an upgrade the caller decides whether the rest is a tunnel or the next request;
   * after a head with `isKeepAlive: false` it reads no further. Once dead (onError), the returned index
   * means nothing and execute() consumes nothing.
   */
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
        if (this.#source !== undefined && this.#line.isIdle) this.#refresh(this.#source);
        const j = this.#line.read(buf, i, end);
        if (j < 0) return this.#reject(this.#line.reason, i);
        i = j;
        if (!this.#line.isDone) continue;
        const bad = this.#checkLine();
        if (bad !== null) return this.#reject(bad, i);
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

  /** The peer closed: a message cut short is rejected with 'incomplete-message'. */
  finish(): void {
    if (this.#state === DEAD || (this.#state === LINE && this.#line.isIdle)) return;
    this.#reject('incomplete-message', 0);
  }

  #end(trailers: string[] | null, i: number): number {
    this.#state = LINE;
    this.#isAfterHead = false;
    this.#line.reset();
    this.#cb.onEnd(trailers);
    return i;
  }

  /** A message starts: new limits from the source (a new snapshot) rebuild the readers, once per change. */
  #refresh(source: () => Http1Limits): void {
    const limits = source();
    if (limits === this.#limits) return;
    this.#limits = limits;
    this.#line = new RequestLineReader(limits);
    this.#fields = new FieldReader(limits);
    this.#body = new BodyReader(limits, this.#fields, this.#cb);
  }

  #reject(reason: RejectReason, i: number): number {
    this.#state = DEAD;
    const isMethod = reason === 'method-unknown' || reason === 'method-too-long';
    const detail = isMethod
      ? methodRefusal(this.#line.method, reason === 'method-too-long', this.#limits.maxMethodBytes)
      : undefined;
    this.#cb.onError(rejection(reason, this.#isAfterHead, false, detail));
    return i;
  }

  #checkLine(): RejectReason | null {
    const line = this.#line;
    const form = targetForm(line.method, line.target);
    if (form !== 'origin' && form !== 'absolute' && form !== 'authority' && form !== 'asterisk') return form;
    this.#form = form;
    return targetReason(line.target, form, line.needsPathCheck);
  }

  /** Applies the framing and connection rules to the finished head; returns it or why it is refused. */
  #head(): RequestHead | RejectReason {
    const line = this.#line;
    const f = this.#fields;
    const isHttp11 = line.versionMinor === 1;
    const isConnect = line.method === 'CONNECT';
    const framing = checkFraming(f, isHttp11, this.#limits.maxBodyBytes);
    if (typeof framing === 'string') return framing;
    const hostBad = this.#hostReason(isHttp11);
    if (hostBad !== null) return hostBad;
    const bits = sessionBits(f, isHttp11, true);
    if (typeof bits === 'string') return bits;
    const kind = bodyKind(framing);
    if (isConnect && (kind === BODY_CHUNKED || framing > 0)) return 'connect-body';
    this.#body.begin(kind, framing);
    const isUpgrade = (bits & S_UPGRADE) !== 0 && !isConnect;
    return {
      method: line.method,
      target: line.target,
      targetForm: this.#form,
      version: isHttp11 ? '1.1' : '1.0',
      headers: f.fields,
      authority: this.#authority(),
      framing: kind === BODY_NONE ? 'none' : kind === BODY_LENGTH ? 'length' : 'chunked',
      contentLength: kind === BODY_LENGTH ? framing : -1,
      isKeepAlive: (bits & S_KEEP_ALIVE) !== 0,
      expectsContinue: (bits & S_CONTINUE) !== 0,
      isUpgrade,
      upgrade: isUpgrade ? joinedValue(f, H_UPGRADE) : '',
      isConnect,
    };
  }

  /** RFC 9112 §3.2 / RFC 9110 §7.2: exactly one valid Host on HTTP/1.1, agreeing with the target. */
  #hostReason(isHttp11: boolean): RejectReason | null {
    const f = this.#fields;
    const count = f.counts[H_HOST] as number;
    if (count > 1) return 'host-repeated';
    if (count === 0) return isHttp11 ? 'host-missing' : null;
    const host = f.fields[f.firstValue[H_HOST] as number] as string;
    if (host === '') return 'host-empty';
    if (!isValidHost(host, false)) return 'host-invalid';
    const form = this.#form;
    if ((form === 'absolute' || form === 'authority') && !isSameAuthority(host, this.#line.target, form)) {
      return 'host-mismatch';
    }
    return null;
  }

  /** The target's authority (absolute form, CONNECT), else the (checked) Host, else ''. */
  #authority(): string {
    const target = this.#line.target;
    if (this.#form === 'absolute') return absoluteAuthority(target);
    if (this.#form === 'authority') return target;
    const f = this.#fields;
    return (f.counts[H_HOST] as number) === 1 ? (f.fields[f.firstValue[H_HOST] as number] as string) : '';
  }
}
